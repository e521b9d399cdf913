//! A builder on a Go release past support (HD159): the binary carries that release's standard
//! library (crypto/tls, net/http), which gets no more security fixes.

use std::collections::BTreeSet;

use crate::finding::Finding;
use crate::rules;

use super::super::goversion::GoVersion;
use super::Facts;

/// HD159 on each stage that builds a shipped program with a Go past support, at its `FROM`.
pub(super) fn findings(facts: &Facts<'_>, out: &mut Vec<Finding>) {
    let mut told = BTreeSet::new();
    for (run, _) in facts.builds().filter(|(r, c)| facts.ships(r, c)) {
        let stage = &facts.df.stages[run.stage];
        let Some(version) = facts.go_version(stage, run.instr) else { continue };
        let Some(since) = version.past_support() else { continue };
        if !told.insert(stage.index) {
            continue;
        }
        let oldest = GoVersion { minor: GoVersion::NEWEST.minor - 1, ..GoVersion::NEWEST };
        let message = format!(
            "the program is built with Go {version}, past support since {since}: the standard library it carries (crypto/tls, net/http) gets no more security fixes; {}, Go {oldest} or later (harden does not: a newer Go can ask for code changes)",
            super::end_of_life::move_to_supported(stage, "the build", |tag| tag.split('-').next().unwrap_or(tag))
        );
        out.push(Finding::new(&rules::GO_PAST_SUPPORT, stage.from.line, message));
    }
}
