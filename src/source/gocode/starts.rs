//! The program a call starts: its first argument, a string literal or a name the file gave one
//! (`shell := "/bin/sh"` before `exec.Command(shell, "-c", cmd)`).

use std::collections::HashMap;

use super::{all_strings, first_string};

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

/// `name := "text"`, `name = "text"` or `var name = "text"`: the name and the literal (unquoted).
pub(super) fn assignment(code: &str) -> Option<(String, String)> {
    let code = code.strip_prefix("var ").or_else(|| code.strip_prefix("const ")).unwrap_or(code);
    let (name, value) = code.split_once(":=").or_else(|| code.split_once('='))?;
    let (name, value) = (name.trim(), value.trim());
    let is_name = !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    // The value is one literal, nothing joined to it.
    let one_literal = value.ends_with(['"', '`']) && all_strings(value).len() == 1;
    first_string(value).filter(|_| is_name && one_literal).map(|text| (name.to_string(), text))
}
