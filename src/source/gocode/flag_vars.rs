//! Flags bound to a variable the program declares with a default (`var listen = ":80"`, then
//! `flag.StringVar(&listen, "listen", listen, "…")`): the flag sets what the variable holds.

/// The name of the flag that sets `variable` (`listen` for `StringVar(&listen, "listen", …)`,
/// pflag's `StringVarP` too), when the file binds one to it.
pub(super) fn flag_setting(text: &str, variable: &str) -> Option<String> {
    let bound = format!("(&{variable}, \"");
    let at = text
        .match_indices(&bound)
        .map(|(at, _)| at)
        .find(|&at| text[..at].ends_with("Var") || text[..at].ends_with("VarP"))?;
    let rest = &text[at + bound.len()..];
    let name = &rest[..rest.find('"')?];
    (!name.is_empty()).then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_flag_bound_to_a_variable() {
        let text = "var listen = \":80\"\n\nfunc main() {\n\tflag.StringVar(&listen, \"listen\", listen, \"Listen address\")\n\tpflag.StringVarP(&dir, \"data\", \"d\", dir, \"\")\n}\n";
        assert_eq!(flag_setting(text, "listen").as_deref(), Some("listen"));
        assert_eq!(flag_setting(text, "dir").as_deref(), Some("data"));
        assert_eq!(flag_setting(text, "port"), None);
        assert_eq!(flag_setting("use(&listen, \"x\")", "listen"), None, "no flag call");
    }
}
