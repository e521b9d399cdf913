//! Here-documents a `RUN` opens after its command (`RUN cat > /etc/app.repo <<EOL`): BuildKit
//! reads the lines up to the delimiter as the command's input, and the parser reads only those
//! that follow `RUN <<EOF`. Their lines are blanked (same length, so every span still points at
//! the original text) before the parser sees the file.

use std::sync::LazyLock;

use regex::Regex;

/// The start of a RUN instruction.
static RUN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)^\s*RUN\s").expect("a valid pattern"));
/// A here-document opener: `<<EOF`, `<<-EOF`, `<<'EOF'`, `<<"EOF"`.
static OPENER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"<<(-?)["']?([A-Za-z_][A-Za-z0-9_]*)["']?"#).expect("a valid pattern"));

/// The delimiter of the first here-document a line opens (`RUN <<-SHELL`, `COPY <<'EOF' /x`).
pub fn delimiter(line: &str) -> Option<String> {
    OPENER.captures(line).map(|opener| opener[2].to_string())
}

/// `text` with the lines of here-documents that a `RUN` opens after its command replaced by
/// spaces, their delimiter lines too.
pub fn blank_late_bodies(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // The delimiters still to come, in order, each with whether tabs before it are allowed.
    let mut pending: std::collections::VecDeque<(String, bool)> = Default::default();
    // The RUN being read, its continued lines joined, until its line ends.
    let mut run: Option<String> = None;
    for line in text.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        if let Some((delimiter, tabs)) = pending.front() {
            let candidate = if *tabs { content.trim_start_matches('\t') } else { content };
            if candidate == delimiter {
                pending.pop_front();
            }
            out.push_str(&blank(line));
            continue;
        }
        out.push_str(line);
        if run.is_none() && RUN.is_match(content) {
            run = Some(String::new());
        }
        let Some(logical) = run.as_mut() else { continue };
        let code = content.split(" #").next().unwrap_or(content);
        logical.push_str(code.trim_end_matches('\\'));
        logical.push(' ');
        if content.ends_with('\\') {
            continue;
        }
        // `RUN [--flags] <<EOF` is a here-document the parser reads itself.
        let mut words = logical.split_whitespace().skip(1).skip_while(|w| w.starts_with("--"));
        if !words.next().is_some_and(|w| w.starts_with("<<")) {
            for opener in OPENER.captures_iter(logical) {
                pending.push_back((opener[2].to_string(), &opener[1] == "-"));
            }
        }
        run = None;
    }
    out
}

/// A line of spaces as long as `line`, keeping its line ending.
fn blank(line: &str) -> String {
    let body = line.trim_end_matches(['\n', '\r']);
    format!("{}{}", " ".repeat(body.len()), &line[body.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_after_the_command_is_blanked_and_keeps_its_length() {
        let text =
            "FROM ubi\nRUN cat >/etc/yum.repos.d/db.repo <<EOL\n[db-6.0]\nname=db\nEOL\nRUN microdnf install db\n";
        let blanked = blank_late_bodies(text);
        assert_eq!(blanked.len(), text.len());
        assert_eq!(blanked.lines().collect::<Vec<_>>()[2..5], ["        ", "       ", "   "]);
        assert!(blanked.ends_with("RUN microdnf install db\n"));
    }

    #[test]
    fn a_body_the_parser_reads_itself_and_other_text_are_kept() {
        for text in [
            "FROM alpine\nRUN <<EOF\necho hi\nEOF\n",
            "FROM alpine\nRUN echo \"a << b\" && echo done\nCMD [\"/app\"]\n",
            "FROM alpine\nCOPY <<EOF /etc/x\nhi\nEOF\n",
            "FROM golang\nRUN --mount=target=. \\\n    --mount=type=cache,target=/go/pkg/mod <<EOT\n    go build\nEOT\n",
        ] {
            assert_eq!(blank_late_bodies(text), text);
        }
    }

    #[test]
    fn openers_on_a_continued_line_and_tab_stripped_delimiters_count() {
        let text = "FROM alpine\nRUN set -e && \\\n    cat > /x <<-END\n\tline\n\tEND\nUSER 1000\n";
        let blanked = blank_late_bodies(text);
        assert!(blanked.contains("cat > /x <<-END\n"), "{blanked}");
        assert!(!blanked.contains("line") && blanked.ends_with("USER 1000\n"), "{blanked}");
    }
}
