//! Why a chart template's rough rendering does not parse: the template's own fault where it
//! writes a key twice in one mapping (Helm keeps the last; strict parsers refuse it), else a
//! limit of harden's rendering.

/// The reason a template at `path` with `text`, whose rendering does not parse (`why`), goes
/// unchecked.
pub(super) fn unparsed_template(path: &str, text: &str, why: &str) -> String {
    if let Some(lines) = duplicate_key(text, why) {
        let (first, second) = lines;
        let key = duplicated(why).unwrap_or_default();
        return format!(
            "{path}: the template writes `{key}` twice in one mapping (lines {first} and {second}): Helm keeps the last, but a strict YAML parser (and harden) refuses the file; its workloads are not checked"
        );
    }
    format!(
        "{path}: harden renders templates roughly, without Helm, and its rendering of this one does not parse ({why}, in that rendering): a limit of harden's, not a fault of the chart; its workloads are not checked"
    )
}

/// The key a parser's duplicate-key error names (`duplicate entry with key "updateStrategy"`).
fn duplicated(why: &str) -> Option<&str> {
    why.split_once("duplicate entry with key \"")?.1.split('"').next()
}

/// The 1-based lines of the template where the key of a duplicate-key error is written twice at
/// the same indentation with no line between them less indented (the same mapping).
fn duplicate_key(text: &str, why: &str) -> Option<(usize, usize)> {
    let key = format!("{}:", duplicated(why)?);
    let lines: Vec<&str> = text.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    for (i, line) in lines.iter().enumerate().filter(|(_, l)| l.trim_start().starts_with(&key)) {
        let depth = indent(line);
        for (j, next) in lines.iter().enumerate().skip(i + 1) {
            let trimmed = next.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("{{") {
                continue;
            }
            if indent(next) < depth {
                break;
            }
            if indent(next) == depth && trimmed.starts_with(&key) {
                return Some((i + 1, j + 1));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_written_twice_is_the_templates_fault() {
        let text = "spec:\n  updateStrategy:\n    type: OnDelete\n  selector: {}\n  updateStrategy:\n    type: RollingUpdate\n";
        let why = "line 5: spec: duplicate entry with key \"updateStrategy\"";
        let said = unparsed_template("templates/ds.yaml", text, why);
        assert!(said.contains("writes `updateStrategy` twice in one mapping (lines 2 and 5)"), "{said}");
        // The same key in two mappings is no fault of the template's.
        let apart = "a:\n  updateStrategy: 1\nb:\n  updateStrategy: 2\n";
        assert!(unparsed_template("t.yaml", apart, why).contains("a limit of harden's"));
    }
}
