//! A build that only fills the compiler cache for a later build of the same stage (which writes
//! its binary again, or links what it compiled): harden gives it that build's `CGO_ENABLED=0`
//! and `-trimpath`, which change every package's action id, so the later build reuses its work.

use crate::finding::Finding;
use crate::rules;
use crate::rules::Severity;

use super::super::facts::{Facts, GoRun};
use super::super::flags::goflags;
use super::super::goversion::GoVersion;

/// The builder's Go, when it predates `-trimpath`.
pub fn trimpath_unavailable(facts: &Facts<'_>, run: &GoRun) -> Option<GoVersion> {
    facts.go_version(&facts.df.stages[run.stage], run.instr).filter(|v| *v < GoVersion::TRIMPATH)
}

/// Says, for each build that only warms the cache, which flags it is given and why.
pub fn findings(facts: &Facts<'_>, out: &mut Vec<Finding>) {
    for (run, cmd) in facts.builds().filter(|(r, c)| !facts.ships(r, c)) {
        let Some(served) = facts.warms_build_cache(run, cmd) else { continue };
        let stage = &facts.df.stages[run.stage];
        if facts.warm_up_unread(run, cmd) {
            let message = format!(
                "this build only fills the compiler cache for the build at line {}, whose -a rebuilds every package, so the cache it fills is never read: harden leaves the step as it is; drop -a there (or this step)",
                stage.instructions[served].line
            );
            let line = stage.instructions[run.instr].line;
            out.push(Finding { severity: Severity::Info, ..Finding::new(&rules::NO_TRIMPATH, line, message) });
            continue;
        }
        let cgo = !facts.cgo.needed
            && facts.cgo_setting(run, cmd).as_deref() != Some("0")
            && facts.cgo_switch(run, cmd).is_none()
            && !facts.is_off(rules::CGO_NOT_DISABLED.id);
        let trimpath = cmd.flag("trimpath").is_none()
            && !goflags(facts, run, cmd).contains("-trimpath")
            && trimpath_unavailable(facts, run).is_none()
            && !facts.is_off(rules::NO_TRIMPATH.id);
        let (rule, flags) = match (cgo, trimpath) {
            (true, true) => (&rules::NO_TRIMPATH, "CGO_ENABLED=0 and -trimpath"),
            (false, true) => (&rules::NO_TRIMPATH, "-trimpath"),
            (true, false) => (&rules::CGO_NOT_DISABLED, "CGO_ENABLED=0"),
            (false, false) => continue,
        };
        let which = match served == run.instr {
            true => "the build after it in this step".to_string(),
            false => format!("the build at line {}", stage.instructions[served].line),
        };
        let message = format!(
            "this build only fills the compiler cache for {which}: harden gives it the {flags} that build builds with (its own or harden's), or the cache it fills is not the one that build reads"
        );
        out.push(Finding {
            severity: Severity::Info,
            ..Finding::new(rule, stage.instructions[run.instr].line, message)
        });
    }
}
