//! The Go that builds the program: a release past support (HD159), whose standard library in the
//! binary (crypto/tls, net/http) gets no more security fixes; one older than `go.mod`'s `go` line
//! (HD160), which stops the build where the image keeps the go command to its own toolchain.

use std::collections::BTreeSet;

use crate::finding::Finding;
use crate::rules;

use super::super::goversion::GoVersion;
use super::super::model::Stage;
use super::super::rewrite::other_modules_built;
use super::Facts;

/// HD159 and HD160 on each stage that builds a shipped program, with `go` or with make on a Go
/// toolchain, at its `FROM`.
pub(super) fn findings(facts: &Facts<'_>, out: &mut Vec<Finding>) {
    let mut told = BTreeSet::new();
    let go_builds = facts.builds().filter(|(r, c)| facts.ships(r, c)).map(|(r, _)| (r.stage, r.instr));
    let make = facts.build_command().and(facts.toolchain_stage()).map(|s| (s.index, s.instructions.len()));
    for (index, upto) in go_builds.chain(make) {
        let stage = &facts.df.stages[index];
        // Stages built on one that names the golang image (`FROM golang-builder`) are told of at
        // that one, once.
        let named = facts.ancestors(stage).last().unwrap_or(stage);
        let Some(version) = facts.go_version(stage, upto).filter(|_| told.insert(named.index)) else { continue };
        // Where the go command may fetch go.mod's newer Go (not GOTOOLCHAIN=local), that Go builds.
        let local = keeps_its_toolchain(facts, stage, upto);
        let wanted = module_go(facts).filter(|_| !local && version >= GoVersion::REAL_MINIMUM);
        let version = wanted.map_or(version, |w| w.max(version));
        let oldest = GoVersion::OLDEST_SUPPORTED;
        if let Some(since) = version.past_support() {
            let message = format!(
                "the program is built with Go {version}, past support since {since}: the standard library it carries (crypto/tls, net/http) gets no more security fixes; {}, Go {oldest} or later (harden does not: a newer Go can ask for code changes)",
                raise(facts, named)
            );
            out.push(Finding::new(&rules::GO_PAST_SUPPORT, named.from.line, message));
        }
        if let Some(line) = older_than_module(facts, stage, version).filter(|_| local) {
            let message = format!(
                "Go {version} builds a module whose go.mod says `go {line}`: the go command refuses it (\"go.mod requires go >= {line}\"), as golang images keep it to their own toolchain (GOTOOLCHAIN=local); {}, Go {} or later",
                raise(facts, stage),
                GoVersion::parse(&line).unwrap_or(version).max(oldest)
            );
            out.push(Finding::new(&rules::GO_OLDER_THAN_MODULE, stage.from.line, message));
        } else if let Some((written, error)) = unreadable_module(facts, stage, upto, version) {
            let message = format!(
                "Go {version} cannot read this module's go.mod: {written} came with Go 1.21, and older go commands stop at it (\"{error}\"); {}, Go {} or later",
                raise(facts, stage),
                module_go(facts).unwrap_or(oldest).max(oldest)
            );
            out.push(Finding::new(&rules::GO_OLDER_THAN_MODULE, stage.from.line, message));
        }
    }
}

/// What in `go.mod` a Go before 1.21 cannot read (a `toolchain` line, a `go` line of three
/// numbers), with the go command's error, where a stage building this module in module mode runs
/// one.
fn unreadable_module(facts: &Facts<'_>, stage: &Stage, upto: usize, version: GoVersion) -> Option<(String, String)> {
    let module = facts.source.go_mod.as_ref().filter(|_| version < GoVersion::REAL_MINIMUM)?;
    (other_modules_built(facts, stage).is_none() && facts.gopath_mode(stage, upto).is_none()).then_some(())?;
    match (&module.toolchain, &module.go_version) {
        (Some(toolchain), _) => {
            Some((format!("its `toolchain {toolchain}` line"), "go.mod: unknown directive: toolchain".into()))
        }
        (None, Some(go)) if go.split('.').count() == 3 => Some((
            format!("its `go {go}` line, of three numbers,"),
            format!("go.mod: invalid go version '{go}': must match format 1.23"),
        )),
        _ => None,
    }
}

/// `go.mod`'s `go` line where it asks for a newer Go than `version`, which a stage building this
/// module (not others fetched by the build) runs without fetching a toolchain; from Go 1.21 on,
/// where that line is a requirement the go command enforces.
fn older_than_module(facts: &Facts<'_>, stage: &Stage, version: GoVersion) -> Option<String> {
    let line = facts.source.go_mod.as_ref()?.go_version.clone()?;
    let wanted = GoVersion::parse(&line)?;
    let enforced = version >= GoVersion::REAL_MINIMUM;
    (wanted > version && enforced && other_modules_built(facts, stage).is_none()).then_some(line)
}

/// True when the stage's go command keeps to its own Go: Docker's official golang image sets
/// `GOTOOLCHAIN=local`, unless the stage sets another; another image leaves the go command's
/// default (fetch the Go go.mod asks for) unless the stage sets `local`.
fn keeps_its_toolchain(facts: &Facts<'_>, stage: &Stage, upto: usize) -> bool {
    match facts.env_at(stage, upto, "GOTOOLCHAIN") {
        Some(toolchain) => toolchain == "local",
        None => facts.base_image(stage).is_none_or(|b| b.is_official_golang()),
    }
}

/// The Go go.mod asks for: its `toolchain` line, else its `go` line.
fn module_go(facts: &Facts<'_>) -> Option<GoVersion> {
    let module = facts.source.go_mod.as_ref()?;
    let toolchain = module.toolchain.as_deref().and_then(|t| GoVersion::parse(t.trim_start_matches("go")));
    toolchain.or_else(|| GoVersion::parse(module.go_version.as_deref()?))
}

/// What to raise: the build arguments the Go release comes from, else the build itself.
fn raise(facts: &Facts<'_>, stage: &Stage) -> String {
    super::end_of_life::move_to_supported(facts, stage, "the build", |tag| tag.split('-').next().unwrap_or(tag))
}
