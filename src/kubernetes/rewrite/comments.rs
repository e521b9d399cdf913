//! The comments around where harden writes: commented-out YAML that belongs to the value before
//! it (so new keys go after it), and commented-out examples of what harden writes (so the keys
//! take their place rather than stand beside them). Pure.

use yaml_serde::Value;

/// `end` moved past the comment lines right after it that belong to what ends there: those
/// indented deeper than `column`, and those at `column` up to the last that is commented-out
/// YAML (`# - name: X`, `#   value: y`; also YAML commented out at the line's start whose text
/// starts at `column` or deeper), with the prose and blank lines between them. So
/// commented-out entries ("uncomment these lines") stay with the value they extend, not under
/// what is inserted after it; a closing remark at `column` stays last.
pub(super) fn past_deeper_comments(text: &str, end: usize, column: usize) -> usize {
    let (mut at, mut kept) = (end, end);
    for line in text[end..].split_inclusive('\n') {
        let body = line.trim_start_matches([' ', '\t']);
        at += line.len();
        if body.trim().is_empty() {
            continue;
        }
        let indent = line.len() - body.len();
        let Some(comment) = body.strip_prefix('#') else { break };
        // Commented out at the line's start (`#        - name: secrets`), YAML keeps its place
        // by where its text starts.
        let text_column = indent + 1 + comment.len() - comment.trim_start().len();
        match indent >= column {
            true if indent > column || is_commented_yaml(comment) => kept = at,
            true => {}
            false if text_column >= column && is_commented_yaml(comment) => kept = at,
            false => break,
        }
    }
    kept
}

/// True for the text of a comment that is a line of YAML commented out: a sequence item
/// (`- name: X`) or a key (`value: y`), not prose.
fn is_commented_yaml(comment: &str) -> bool {
    let line = comment.trim_start();
    let line = line.strip_prefix("- ").unwrap_or(line);
    line.split_once(':').is_some_and(|(key, rest)| {
        !key.is_empty()
            && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
            && (rest.is_empty() || rest.starts_with([' ', '\n', '\r']))
    })
}

/// Where `region` holds `lines` commented out at `column` (`# seccompProfile:`,
/// `#   type: RuntimeDefault`), as a scaffold leaves them for the user to uncomment: the range
/// of those comment lines, which the lines then replace rather than stand beside.
pub(super) fn commented_copy(region: &str, lines: &str, column: usize) -> Option<std::ops::Range<usize>> {
    let commented: String =
        lines.split_inclusive('\n').map(|line| format!("{}# {}", &line[..column], &line[column..])).collect();
    region
        .match_indices(&commented)
        .map(|(at, _)| at)
        .find(|&at| at == 0 || region.as_bytes()[at - 1] == b'\n')
        .map(|at| at..at + commented.len())
}

/// Where the comment lines at the start of `after` hold `entry` (one key and its value)
/// commented out at `column` (`# capabilities:`, `#   drop:`, `#   - ALL`), written in any
/// indent: the range of those lines.
pub(super) fn commented_example(after: &str, entry: &Value, column: usize) -> Option<std::ops::Range<usize>> {
    let key = entry.as_mapping()?.keys().next()?.as_str()?;
    // `# key:` with the `#` at the column, or the `#` in the indent before it (kubebuilder's
    // `        # capabilities:` over keys at column 10): the line as it would be uncommented.
    let uncommented = |line: &str| {
        let hash = line.find('#').filter(|&h| line[..h].trim().is_empty())?;
        match hash == column {
            true => Some(format!(
                "{}{}",
                &line[..column],
                line[column + 1..].strip_prefix(' ').unwrap_or(&line[column + 1..])
            )),
            false => (hash < column).then(|| format!("{} {}", &line[..hash], &line[hash + 1..])),
        }
    };
    let (mut at, mut start) = (0, None);
    let mut example = String::new();
    for line in after.split_inclusive('\n') {
        if !line.trim_start().starts_with('#') {
            break;
        }
        let yaml = uncommented(line);
        match (start, yaml) {
            (None, Some(y)) if y[column..].starts_with(&format!("{key}:")) => {
                start = Some(at);
                example = y;
            }
            // Deeper lines of the example (its value), up to the next key at its column.
            (Some(_), Some(y)) if y.len() > column && y[column..].starts_with(' ') => example.push_str(&y),
            (Some(_), _) => break,
            (None, _) => {}
        }
        at += line.len();
    }
    let start = start?;
    let end = start + after[start..].split_inclusive('\n').take(example.lines().count()).map(str::len).sum::<usize>();
    let parsed: Value = yaml_serde::from_str(&example).ok()?;
    (parsed == *entry).then_some(start..end)
}
