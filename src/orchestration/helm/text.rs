//! A template's text as Helm reads it: its logical lines (an action written over several lines is
//! one), its comment actions, and where an action closes.

/// Where the action that `text` opens (the text after its `{{`) closes: the first `}}` outside
/// a quoted string (`tpl "{{ .Values.affinity }}" .` quotes a template of its own).
pub(super) fn closing(text: &str) -> Option<usize> {
    let mut quoted = false;
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            // An escaped character inside quotes (`\"`) is text.
            '\\' if quoted => {
                chars.next();
            }
            '"' => quoted = !quoted,
            '}' if !quoted && text[i..].starts_with("}}") => return Some(i),
            _ => {}
        }
    }
    None
}

/// The template's lines, an action written over several lines joined into one.
pub(super) fn logical_lines(template: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut open = false;
    for line in template.lines() {
        match (open, out.last_mut()) {
            (true, Some(last)) => {
                last.push(' ');
                last.push_str(line.trim());
            }
            _ => out.push(line.to_string()),
        }
        let last = out.last().map(String::as_str).unwrap_or_default();
        open = last.matches("{{").count() > last.matches("}}").count();
    }
    out
}

/// The line without its comment actions (`{{- /* … */ -}}`); `None` for a line that held
/// nothing else.
pub(super) fn without_comments(line: &str) -> Option<String> {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = rest.find("{{") {
        let inner = rest[start + 2..].trim_start_matches('-').trim_start();
        let closed = inner.strip_prefix("/*").and_then(|c| c.find("*/").map(|at| &c[at + 2..]));
        let Some(after) = closed.and_then(|c| c.find("}}").map(|at| &c[at + 2..])) else {
            out.push_str(&rest[..start + 2]);
            rest = &rest[start + 2..];
            continue;
        };
        out.push_str(&rest[..start]);
        rest = after;
    }
    out.push_str(rest);
    (out.trim().len() == line.trim().len() || !out.trim().is_empty()).then_some(out)
}
