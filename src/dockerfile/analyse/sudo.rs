//! A user who may become root without a password (HD156): `NOPASSWD` in the sudoers file an
//! image writes makes its non-root USER root in all but name.

use crate::finding::Finding;
use crate::rules;

use super::super::facts::Facts;
use super::super::model::Body;

/// HD156 on each `RUN` that writes a `NOPASSWD` sudoers rule into a stage that runs a program (the
/// final stage, a stage with a command of its own) or one it is built on.
pub(super) fn findings(facts: &Facts<'_>, out: &mut Vec<Finding>) {
    for inst in
        facts.program_stages().iter().flat_map(|s| &s.instructions).filter(|i| matches!(i.body, Body::Run { .. }))
    {
        let text = &facts.text[inst.span.clone()];
        let Some(rule) = text.lines().find(|l| l.contains("NOPASSWD")).filter(|_| text.contains("sudoers")) else {
            continue;
        };
        // The command that writes it, as written, without what joins it to the others.
        let rule = rule.trim().trim_end_matches('\\').trim_end().trim_end_matches(['&', ';']).trim();
        let rule = rule.trim_start_matches("RUN ").trim_start_matches(['&', ';', ' ']);
        let message = format!(
            "`{rule}` lets the image's user run anything as root with sudo, no password asked: its non-root USER is root in all but name; drop the rule (and sudo) from the image that runs the program, or keep it to a development image"
        );
        out.push(Finding::new(&rules::PASSWORDLESS_SUDO, inst.line, message));
    }
}
