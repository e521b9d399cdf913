//! A Go file's lines as the scan reads them: a call whose arguments go on over the next lines
//! (`flag.Int(`, then `"port",`, `443,`, `"usage",`, `)`) is one line, numbered as the call's.

/// A call spanning more lines than this is left as it is (a long literal, a table).
const MOST_LINES: usize = 8;

/// The file's lines, numbered from 1, with short calls over several lines joined, and the text
/// of a raw string literal that spans lines (a configuration template: `data_dir =
/// "/var/lib/vector"`) left out: it is data the program hands on, not code.
pub fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let code = outside_raw_strings(text);
    let lines: Vec<&str> = code.iter().map(String::as_str).collect();
    let mut out = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        match opens_call(lines[i].trim()).then(|| call_end(&lines, i)).flatten() {
            Some(end) => {
                out.push((i + 1, lines[i..=end].iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ")));
                i = end + 1;
            }
            None => {
                out.push((i + 1, lines[i].to_string()));
                i += 1;
            }
        }
    }
    out
}

/// The file's lines with what a raw string literal (`` `…` ``) holds on the lines after the one
/// it opens on blanked out, up to its closing backtick; one that closes on its own line stays.
fn outside_raw_strings(text: &str) -> Vec<String> {
    let mut in_raw = false;
    let mut out = Vec::new();
    for line in text.lines() {
        let mut start = 0;
        if in_raw {
            match line.find('`') {
                Some(at) => start = at + 1,
                None => {
                    out.push(String::new());
                    continue;
                }
            }
        }
        let open = unclosed_raw_string(&line[start..]).map(|at| start + at);
        in_raw = open.is_some();
        let end = open.map_or(line.len(), |at| at + 1);
        out.push(format!("{}{}", " ".repeat(start), &line[start..end]));
    }
    out
}

/// Where a raw string literal that the line does not close opens on it (outside quotes and
/// comments), if one does.
fn unclosed_raw_string(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let (mut quote, mut i) = (None, 0);
    while i < bytes.len() {
        match (quote, bytes[i]) {
            (Some(_), b'\\') => i += 1,
            (Some(q), c) if c == q => quote = None,
            (None, b'"' | b'\'') => quote = Some(bytes[i]),
            (None, b'/') if bytes.get(i + 1) == Some(&b'/') => return None,
            (None, b'`') => match line[i + 1..].find('`') {
                Some(len) => i += len + 1,
                None => return Some(i),
            },
            _ => {}
        }
        i += 1;
    }
    None
}

/// True when the line ends by opening a call's arguments (not a declaration group or a
/// function's parameters).
fn opens_call(code: &str) -> bool {
    let Some(before) = code.strip_suffix('(') else { return false };
    let declaration = ["import", "var", "const", "type", "func"].iter().any(|k| before.starts_with(k));
    !declaration && before.ends_with(|c: char| c.is_alphanumeric() || c == '_')
}

/// The line that closes the call opened at the end of `lines[start]`, when it closes within
/// [`MOST_LINES`] and nothing between opens a block or holds a comment line.
fn call_end(lines: &[&str], start: usize) -> Option<usize> {
    let mut depth = 0;
    for (i, line) in lines.iter().enumerate().skip(start).take(MOST_LINES) {
        if i > start && (line.contains('{') || line.trim_start().starts_with("//")) {
            return None;
        }
        depth += balance(line);
        if depth <= 0 {
            return Some(i);
        }
    }
    None
}

/// Opening minus closing parentheses on a line, outside string literals and comments.
fn balance(line: &str) -> i32 {
    let (mut depth, mut quote, mut escaped) = (0, None, false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(_), '\\') if !escaped => {
                escaped = true;
                continue;
            }
            (Some(q), c) if c == q && !escaped => quote = None,
            (Some(_), _) => {}
            (None, '"' | '`' | '\'') => quote = Some(c),
            (None, '/') if chars.peek() == Some(&'/') => break,
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            _ => {}
        }
        escaped = false;
    }
    depth
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_over_several_lines_is_one_line_at_the_call() {
        let text = "var (\n\tport = flag.Int(\n\t\t\"port\",\n\t\t443,\n\t\t\"Secure port (https)\",\n\t)\n)\n";
        let lines = logical_lines(text);
        assert_eq!(lines[1], (2, "port = flag.Int( \"port\", 443, \"Secure port (https)\", )".to_string()));
        assert_eq!(lines[2], (7, ")".to_string()));
    }

    #[test]
    fn a_raw_string_over_several_lines_is_data() {
        let text = "type c struct {\n\tDir string `json:\"dir\"` // tag\n}\n\ttemplate := `\ndata_dir = \"/var/lib/vector\"\n` + suffix\nos.MkdirAll(\"/var/run/app\", 0o755)\n";
        let lines: Vec<String> = logical_lines(text).into_iter().map(|(_, line)| line).collect();
        assert_eq!(lines[1], "\tDir string `json:\"dir\"` // tag", "a struct tag closes on its line");
        assert_eq!(lines[3], "\ttemplate := `");
        assert_eq!(lines[4], "", "the template's text");
        assert_eq!(lines[5], "  + suffix");
        assert_eq!(lines[6], "os.MkdirAll(\"/var/run/app\", 0o755)", "code after it");
    }

    #[test]
    fn blocks_declarations_and_long_calls_stay_as_they_are() {
        let closure = "go run(\n\tfunc() {\n\t\tos.Create(\"/x\")\n\t}\n)\n";
        assert_eq!(logical_lines(closure).len(), 5);
        assert_eq!(logical_lines("import (\n\t\"fmt\"\n)\n").len(), 3);
        let long = format!("f(\n{}\n)\n", "\t1,\n".repeat(10));
        assert_eq!(logical_lines(&long).len(), long.lines().count());
    }
}
