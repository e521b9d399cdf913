//! The make rule that wraps a render's rule: one that runs it through make for each variant
//! (`bundle-all`), which renders all that rule writes.

/// The rule of a Makefile whose recipe runs `rule` through make and nothing else (`bundle-all:
/// $(MAKE) bundle VARIANT=…`); not one that does more (`release:` tags and commits a version
/// too; `container-build:` makes the images as well, and fails on uncommitted changes).
pub(super) fn wrapping_rule(makefile: &str, rule: &str) -> Option<String> {
    let make = |w: &str| matches!(w, "$(MAKE)" | "${MAKE}" | "make");
    // Each rule with whether its recipe runs `rule` and whether it runs only make.
    let mut rules: Vec<(&str, bool, bool)> = Vec::new();
    let mut current: Option<&str> = None;
    for line in makefile.lines() {
        if !line.starts_with([' ', '\t', '#']) && !line.trim().is_empty() {
            current = line.split_once(':').map(|(t, _)| t.trim()).filter(|t| !t.contains(['=', '$', ' ']));
            rules.extend(current.map(|c| (c, false, true)));
            continue;
        }
        // A variable given to the command first (`BUNDLE_VARIANT=openshift $(MAKE) bundle`) is
        // part of it.
        let words: Vec<&str> = (line.split_whitespace().map(|w| w.trim_start_matches(['@', '-'])))
            .skip_while(|w| w.split_once('=').is_some_and(|(name, _)| !name.is_empty() && !name.contains(['$', '('])))
            .collect();
        let Some(last) = rules.last_mut().filter(|_| current.is_some() && line.starts_with('\t')) else { continue };
        last.1 |= words.windows(2).any(|w| make(w[0]) && w[1] == rule);
        last.2 &= words.first().is_none_or(|w| make(w) && words.get(1) == Some(&rule));
    }
    rules
        .into_iter()
        .find(|(name, runs, only_make)| *runs && *only_make && *name != rule)
        .map(|(name, ..)| name.to_string())
}
