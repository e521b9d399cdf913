//! Build variables: `$VAR`, `${VAR}` and `${VAR:-default}` in the text of an instruction.

/// The variable's name when `word` is only a variable: `$NAME` or `${NAME}`.
pub fn only_variable(word: &str) -> Option<&str> {
    let name = word.strip_prefix('$')?.trim_start_matches('{').trim_end_matches('}');
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then_some(name)
}

/// The names of the variables `text` uses (`$NAME`, `${NAME}`, `${NAME:-default}`), each once,
/// in order.
pub fn names(text: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for (at, _) in text.match_indices('$') {
        let after = &text[at + 1..];
        let after = after.strip_prefix('{').unwrap_or(after);
        let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
        if end > 0 && !out.contains(&&after[..end]) {
            out.push(&after[..end]);
        }
    }
    out
}

/// True when `text` uses the variable `name` (`$NAME`, `${NAME}`, `${NAME:-default}`), not one
/// whose name only starts with it (`$NAMES`).
pub fn uses(text: &str, name: &str) -> bool {
    text.match_indices('$').any(|(at, _)| {
        let after = text[at + 1..].trim_start_matches('{');
        after.strip_prefix(name).is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
    })
}

/// Replaces `$VAR`, `${VAR}` and `${VAR:-default}` with the given values.
pub fn substitute(text: &str, vars: &[(String, Option<String>)]) -> Option<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let (name, default, consumed) = if let Some(inner) = after.strip_prefix('{') {
            let end = inner.find('}')?;
            let expr = &inner[..end];
            let (name, default) = match expr.split_once(":-").or_else(|| expr.split_once('-')) {
                Some((n, d)) => (n, Some(d)),
                None => (expr, None),
            };
            (name, default, end + 2)
        } else {
            let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
            (&after[..end], None, end)
        };
        let value = vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.clone())
            .or_else(|| default.map(str::to_string))?;
        out.push_str(&value);
        rest = &after[consumed..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_variables_a_text_uses() {
        assert_eq!(names("alpine:${ALPINE_VERSION}-$ARCH${ARCH:-amd64}"), ["ALPINE_VERSION", "ARCH"]);
        assert!(names("alpine:3.22 costs $ 5").is_empty());
    }

    #[test]
    fn a_word_that_is_only_a_variable_names_it() {
        assert_eq!(only_variable("${GOCACHE}"), Some("GOCACHE"));
        assert_eq!(only_variable("$LDFLAGS"), Some("LDFLAGS"));
        assert_eq!(only_variable("/build/${TARGETPLATFORM}/cache"), None);
        assert_eq!(only_variable("${GOCACHE:-/tmp}"), None);
        assert_eq!(only_variable("$"), None);
    }

    #[test]
    fn a_text_uses_a_variable_by_its_whole_name() {
        assert!(uses("${REGISTRY}/app:${TAG:-latest}", "TAG") && uses("$BASE", "BASE"));
        assert!(!uses("$BASES", "BASE") && !uses("BASE", "BASE"));
    }
}
