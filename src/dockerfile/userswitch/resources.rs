//! What only root may use, in the program's source: a root-only resource (a socket, the host's
//! network, another process), or a test of its own uid that stops it as any other user.

use crate::rules;

use super::super::facts::Facts;
use super::{Blocker, module_wide};

/// The program refuses to run as any user but root (it tests its uid and stops), as a refusal:
/// said before any other reason, as nothing else (a port, a resource) lets it run without root.
pub fn root_check(facts: &Facts<'_>) -> Option<Blocker> {
    let check = facts.source.root_resources.iter().find(|r| r.found.what == crate::source::gocode::ROOT_CHECK)?;
    Some((
        &rules::ROOT_RESOURCE,
        facts.runtime_stage().from.line,
        format!(
            "{}:{}{} stops the program unless it runs as root (it tests its uid), so the user is left as it is",
            check.file,
            check.found.line,
            module_wide(facts),
        ),
    ))
}

/// The first root-only resource the program's source uses (the Docker socket…), as a refusal.
pub fn root_resource(facts: &Facts<'_>) -> Option<Blocker> {
    let used = facts.source.root_resources.iter().find(|r| r.found.what != crate::source::gocode::ROOT_CHECK)?;
    Some((
        &rules::ROOT_RESOURCE,
        facts.runtime_stage().from.line,
        format!(
            "{}:{}{} uses {}, which only root{} may use, so the user is left as it is{}",
            used.file,
            used.found.line,
            module_wide(facts),
            used.found.what,
            // A raw socket takes a capability; a socket file, its group.
            match (used.found.what.contains("(CAP_"), used.found.what.contains("socket")) {
                (true, _) => " (or a program given that capability)",
                (false, true) => " (or the socket's group)",
                (false, false) => "",
            },
            // What lets such a program run without root, which the image alone cannot give.
            match used.found.what.contains("Docker") {
                true =>
                    "; to run it without root, set a numeric USER and give it the socket's group where it runs (`docker run --group-add`, a pod's supplementalGroups), or reach Docker through a socket proxy (DOCKER_HOST=tcp://…)",
                false => "",
            }
        ),
    ))
}
