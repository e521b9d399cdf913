//! Dockerfiles that are not built as written: a template whose placeholders a script or a
//! program fills in first (`${LABELS}`, `{{ .UnsignedImage }}`, `FROM BASEIMAGE`).

use super::model;

/// Why the file is not the Dockerfile that is built, when it is a template.
pub(super) fn not_built_as_written(text: &str) -> Option<String> {
    // A line that is only a placeholder (`${LABELS}`, `{{ .Labels }}`) is filled in by a script
    // (envsubst, a template engine) before the file is built.
    // A here-document's lines (`RUN <<-SHELL` … `SHELL`) are a script's input, not instructions.
    let (mut continued, mut heredoc) = (false, None::<String>);
    let placeholder = text.lines().map(str::trim).find(|l| {
        if let Some(end) = &heredoc {
            if l == end {
                heredoc = None;
            }
            return false;
        }
        heredoc = model::heredoc::delimiter(l);
        let instruction = !continued && (l.starts_with("${") || l.starts_with("{{"));
        continued = l.ends_with('\\');
        instruction
    });
    if let Some(line) = placeholder.filter(|l| !l.starts_with("{{")) {
        return Some(format!(
            "a template: the line {line} is filled in by a script before the file is built, so the file is not the Dockerfile that is built"
        ));
    }
    // A Go template is filled in by text/template, in a program or a script; a comment
    // (`{{- /*gotype: …*/ -}}`) is no line that is filled in.
    if placeholder.is_some() {
        let comment = |l: &&str| l.trim_start_matches("{{").trim_start_matches('-').trim_start().starts_with("/*");
        let filled = text.lines().map(str::trim).filter(|l| l.contains("{{")).find(|l| !comment(l));
        return Some(match filled {
            Some(line) => format!(
                "a Go template: text/template, run by a program or a script, fills in its `{{{{ }}}}` (`{line}`) before the file is built, so the file is not the Dockerfile that is built"
            ),
            None => "a Go template: text/template, run by a program or a script, fills it in before the file is built, so the file is not the Dockerfile that is built".into(),
        });
    }
    if let Some(image) = text.lines().find_map(placeholder_image) {
        // The name of an argument the file declares is that argument without its `$`.
        let declared = text.lines().position(|l| {
            let mut words = l.split_whitespace();
            words.next().is_some_and(|w| w.eq_ignore_ascii_case("ARG"))
                && words.next().is_some_and(|arg| arg.split('=').next() == Some(image))
        });
        if let Some(at) = declared {
            return Some(format!(
                "FROM {image} names no image (a repository name is lowercase), and the file declares ARG {image} (line {}): `FROM ${image}` was meant, and as written no build resolves it",
                at + 1
            ));
        }
        return Some(format!(
            "a template: FROM {image} names no image a registry could hold (a repository name is lowercase, and braces are no part of one): a script fills it in before the file is built, or the build gives it as a named context (`--build-context {image}=…`), so what the image runs on is not in the file"
        ));
    }
    None
}

/// The image of a `FROM` line that no registry could hold, when it is a placeholder a script
/// replaces (sed's `FROM BASEIMAGE`, `FROM {ARG_FROM}`): a repository name with capitals, or
/// braces that no `$` makes a variable.
fn placeholder_image(line: &str) -> Option<&str> {
    let mut words = line.split_whitespace();
    if !words.next()?.eq_ignore_ascii_case("FROM") {
        return None;
    }
    let image = words.find(|w| !w.starts_with("--"))?;
    (crate::orchestration::holds_no_repository(image) && !image.contains('$')).then_some(image)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_from_that_names_no_image_is_a_placeholder() {
        assert_eq!(placeholder_image("FROM BASEIMAGE"), Some("BASEIMAGE"));
        assert_eq!(placeholder_image("from --platform=$BUILDPLATFORM {ARG_FROM}"), Some("{ARG_FROM}"));
        assert_eq!(placeholder_image("FROM golang:1.23 AS Builder"), None, "an alias may have capitals");
        assert_eq!(placeholder_image("FROM example.com/app:Release-1"), None, "so may a tag");
        assert_eq!(placeholder_image("FROM ${BASE_IMAGE}"), None);
    }
}
