//! The program a call starts: its first argument, a string literal or a name the file gave one
//! (`shell := "/bin/sh"` before `exec.Command(shell, "-c", cmd)`).

use std::collections::HashMap;

use super::first_string;

/// The program a call starts (`args`: the text after its opening parenthesis; `context`: a
/// context comes first): its first argument, a string literal or a name given one earlier in
/// the file.
pub(super) fn started_program(args: &str, context: bool, assigned: &HashMap<String, String>) -> Option<String> {
    let mut rest = args.trim_start();
    if context {
        rest = rest.split_once(',')?.1.trim_start();
    }
    if let Some(literal) = first_string(rest) {
        return Some(literal);
    }
    let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    assigned.get(&name).cloned()
}

/// `name := "text"`, `name = "text"` or `var name = "text"`: the name and the literal.
pub(super) fn assignment(code: &str) -> Option<(String, String)> {
    let code = code.strip_prefix("var ").or_else(|| code.strip_prefix("const ")).unwrap_or(code);
    let (name, value) = code.split_once(":=").or_else(|| code.split_once('='))?;
    let name = name.trim();
    let value = value.trim();
    let literal = name.chars().all(|c| c.is_alphanumeric() || c == '_') && !name.is_empty();
    let whole =
        value.starts_with('"') && value.ends_with('"') && value.len() >= 2 && !value[1..value.len() - 1].contains('"');
    (literal && whole).then(|| (name.to_string(), value[1..value.len() - 1].to_string()))
}
