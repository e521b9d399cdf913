//! A template that writes a securityContext of its own where a value is empty (podinfo's
//! `{{- if .Values.securityContext }} … {{- else if .Values.service.hostPort }}` giving
//! `NET_BIND_SERVICE`): a value harden fills in would take that branch from every user of the
//! chart, whatever else they set.

/// Why the values entry `entry` (`["securityContext"]`) takes no change: the template tests it
/// with an `if` whose `else` writes a `securityContext` of its own; `None` when it does not.
pub(super) fn replaced_fallback(template: &str, entry: &[String]) -> Option<String> {
    let tested = format!("if .Values.{}", entry.join("."));
    let lines: Vec<&str> = template.lines().collect();
    // Each open block: whether it is the `if` that tests the entry, its line, and where its
    // first `else` starts.
    let mut open: Vec<(bool, usize, Option<usize>)> = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        for action in line.split("{{").skip(1).filter_map(|a| a.split("}}").next()) {
            let action = action.trim_matches(|c: char| c == '-' || c.is_whitespace());
            match action.split_whitespace().next().unwrap_or_default() {
                "if" | "with" | "range" | "define" | "block" => open.push((action == tested, at, None)),
                "else" => {
                    if let Some((_, _, first_else @ None)) = open.last_mut() {
                        *first_else = Some(at);
                    }
                }
                "end" => {
                    let Some((true, if_at, Some(else_at))) = open.pop() else { continue };
                    if lines[else_at..at].iter().any(|l| l.trim().starts_with("securityContext:")) {
                        return Some(format!(
                            "the template writes a securityContext of its own where {} is empty (the else of the if on its line {}): a value here would take that from every user of the chart",
                            entry.join("."),
                            if_at + 1
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::replaced_fallback;

    const TEMPLATE: &str = "spec:\n  containers:\n    - name: app\n      {{- if .Values.securityContext }}\n      securityContext:\n        {{- toYaml .Values.securityContext | nindent 8 }}\n      {{- else if .Values.hostPort }}\n      securityContext:\n        capabilities:\n          add: [NET_BIND_SERVICE]\n      {{- end }}\n";

    #[test]
    fn an_else_that_writes_its_own_security_context_keeps_the_value_empty() {
        let entry = ["securityContext".to_string()];
        let why = replaced_fallback(TEMPLATE, &entry).unwrap();
        assert!(why.contains("where securityContext is empty (the else of the if on its line 4)"), "{why}");
        let without_else = TEMPLATE.replace("      {{- else if .Values.hostPort }}\n      securityContext:\n        capabilities:\n          add: [NET_BIND_SERVICE]\n", "");
        assert_eq!(replaced_fallback(&without_else, &entry), None);
        assert_eq!(replaced_fallback(TEMPLATE, &["podSecurityContext".to_string()]), None);
    }
}
