//! What an action inside a template's line renders (`{{ .Values.image.tag | default "1.4" }}`),
//! read as a pipeline: its first term (a `.Values` path, a literal, or a function harden passes
//! through), then each `default`, `quote` or other step. Pure.

use yaml_serde::Value;

use super::super::scalar;
use super::UNKNOWN;

/// The functions whose result is their argument's value as far as a rendering goes.
const PASS_THROUGH: &[&str] = &["toString", "int", "int64", "float64", "trim", "lower", "upper", "toYaml", "nospace"];

/// The value an action inside a line stands for: the `values.yaml` scalar or literal its pipeline
/// starts from, an empty or unknown one giving way to a `default`'s literal, quoted where the
/// pipeline quotes it; [`UNKNOWN`] for anything else (an `include`, `.Release.Name`, a value taken
/// apart with `split`).
pub(super) fn action_value(action: &str, values: &Value) -> String {
    let action = action.trim_matches(|c: char| c == '-' || c.is_whitespace());
    let (value, quoted) = pipeline(action, values);
    let value = value.unwrap_or_else(|| UNKNOWN.to_string());
    // `quote` writes the value as a YAML string (a cron schedule `*/2 * * * *` would be an alias).
    match quoted {
        true => format!("{value:?}"),
        false => value,
    }
}

/// A pipeline's value (`None` where unknown), and whether it is quoted.
fn pipeline(text: &str, values: &Value) -> (Option<String>, bool) {
    let steps = split_top(text, |c| c == '|');
    let (mut value, mut quoted) = head(steps.first().copied().unwrap_or_default(), values);
    for step in steps.iter().skip(1) {
        let (name, argument) = step.split_once(char::is_whitespace).unwrap_or((step, ""));
        match name {
            "default" if value.as_deref().is_none_or(str::is_empty) => value = term(argument, values),
            "default" => {}
            "quote" | "squote" => quoted = true,
            name if PASS_THROUGH.contains(&name) => {}
            _ => value = None,
        }
    }
    (value, quoted)
}

/// The value of a pipeline's first command, and whether it quotes it: a term, or a function of
/// terms (`quote .Values.x`, `default "8080" .Values.port`, `printf "%s:%s" .Values.a .Values.b`).
fn head(command: &str, values: &Value) -> (Option<String>, bool) {
    let words = split_top(command, char::is_whitespace);
    let terms = |from: usize| words.iter().skip(from).map(|w| term(w, values)).collect::<Option<Vec<_>>>();
    match words.as_slice() {
        ["quote" | "squote", one] => (term(one, values), true),
        // The given value is the last word, the default the one before it.
        ["default", fallback, given] => {
            (term(given, values).filter(|v| !v.is_empty()).or_else(|| term(fallback, values)), false)
        }
        [name, one] if PASS_THROUGH.contains(name) => (term(one, values), false),
        // The first of its terms that is set (a missing value is empty: Helm's nil).
        ["coalesce", terms @ ..] => (terms.iter().find(|w| !missing(w, values)).and_then(|w| term(w, values)), false),
        ["printf", format, ..] => (term(format, values).zip(terms(2)).and_then(|(f, args)| printf(&f, &args)), false),
        _ => (term(command, values), false),
    }
}

/// True for a `.Values` path `values.yaml` leaves empty or does not hold: what `coalesce` passes.
fn missing(term: &str, values: &Value) -> bool {
    let Some(path) = term.trim().strip_prefix(".Values.") else { return false };
    value_at(path, values).is_none_or(|v| v.is_null() || v.as_str() == Some(""))
}

/// The value at a dotted `.Values` path (`image.tag`), when `values` holds one.
fn value_at<'v>(path: &str, values: &'v Value) -> Option<&'v Value> {
    path.split('.').try_fold(values, |v, key| v.get(key))
}

/// `format` with each `%s`, `%v` or `%d` replaced by the next of `args`; `None` for another verb
/// or a count that does not match.
fn printf(format: &str, args: &[String]) -> Option<String> {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' => match chars.next()? {
                's' | 'v' | 'd' => out.push_str(args.next()?),
                '%' => out.push('%'),
                _ => return None,
            },
            c => out.push(c),
        }
    }
    args.next().is_none().then_some(out)
}

/// The value of one term: a `.Values` path with a scalar in `values`, a quoted string, a number
/// or boolean, a pipeline in parentheses; `None` for anything else (`(split ":" .Values.x)._1`,
/// `.Chart.AppVersion`, `$var`).
fn term(term: &str, values: &Value) -> Option<String> {
    let term = term.trim();
    if let Some(path) = term.strip_prefix('$').unwrap_or(term).strip_prefix(".Values.") {
        let simple = path.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.');
        return simple.then(|| value_at(path, values).and_then(scalar)).flatten();
    }
    if let Some(text) = term.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        return (!text.contains('"')).then(|| text.to_string());
    }
    if let Some(inner) = term.strip_prefix('(').and_then(|t| t.strip_suffix(')'))
        && split_top(inner, |c| c == ')').len() == 1
    {
        return pipeline(inner, values).0;
    }
    let literal = term.parse::<f64>().is_ok() || term == "true" || term == "false";
    literal.then(|| term.to_string())
}

/// `text` split where `at` matches outside quotes and parentheses, each part trimmed, empty
/// parts left out.
pub(super) fn split_top(text: &str, at: fn(char) -> bool) -> Vec<&str> {
    let (mut parts, mut start, mut depth, mut quoted) = (Vec::new(), 0, 0usize, false);
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => depth -= 1,
            c if at(c) && !quoted && depth == 0 => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts.into_iter().map(str::trim).filter(|p| !p.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Value {
        yaml_serde::from_str("image:\n  repository: ghcr.io/acme/relay\n  tag: 1.4.0\nport: 8080\nbind: \"\"\n")
            .unwrap()
    }

    #[test]
    fn a_value_takes_its_default_where_it_is_empty_or_unknown() {
        assert_eq!(action_value(" .Values.image.tag | default .Chart.AppVersion ", &values()), "1.4.0");
        assert_eq!(action_value(" .Values.missing | default \"9090\" ", &values()), "9090");
        assert_eq!(action_value(" .Values.bind | default \":8080\" ", &values()), ":8080");
        assert_eq!(action_value(" default \"9090\" .Values.port ", &values()), "8080");
        assert_eq!(action_value(" default \"9090\" .Values.bind ", &values()), "9090");
        assert_eq!(action_value(" .Values.missing | default (printf \"v%s\" .Chart.AppVersion) ", &values()), UNKNOWN);
    }

    #[test]
    fn a_value_taken_apart_is_not_that_value() {
        // `split ":"` on the bind address: neither the address nor the quoted separator.
        assert_eq!(action_value(" (split \":\" .Values.bind)._1 | default 8080 ", &values()), "8080");
        assert_eq!(action_value(" (split \":\" .Values.bind)._1 ", &values()), UNKNOWN);
        assert_eq!(action_value(" .Values.image.tag | replace \".\" \"-\" ", &values()), UNKNOWN);
    }

    #[test]
    fn quoting_and_names_harden_cannot_read() {
        let schedule = yaml_serde::from_str("schedule: '*/2 * * * *'").unwrap();
        assert_eq!(action_value(" .Values.schedule | quote ", &schedule), "\"*/2 * * * *\"");
        assert_eq!(action_value(" quote .Values.port ", &values()), "\"8080\"");
        assert_eq!(action_value(" .Values.port | int ", &values()), "8080");
        assert_eq!(action_value(" $.Values.port ", &values()), "8080");
        assert_eq!(action_value(" include \"relay.fullname\" . ", &values()), UNKNOWN);
        assert_eq!(action_value(" .Release.Name ", &values()), UNKNOWN);
    }

    #[test]
    fn printf_joins_the_values_it_names() {
        let image = " printf \"%s:%s\" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) ";
        assert_eq!(action_value(image, &values()), "ghcr.io/acme/relay:1.4.0");
        assert_eq!(action_value(" printf \"%s:%s\" .Values.image.repository .Chart.AppVersion ", &values()), UNKNOWN);
        assert_eq!(action_value(" printf \"%s-%q\" .Values.port .Values.port ", &values()), UNKNOWN);
    }

    #[test]
    fn coalesce_takes_the_first_value_set() {
        let image = " coalesce .Values.image.repo .Values.image.repository ";
        assert_eq!(action_value(image, &values()), "ghcr.io/acme/relay");
        assert_eq!(action_value(" coalesce .Values.image.tag .Values.image.repository ", &values()), "1.4.0");
        assert_eq!(action_value(" coalesce .Values.nothing .Chart.Name ", &values()), UNKNOWN);
    }
}
