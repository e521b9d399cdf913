//! Go Dockerfiles: detect, analyse, rewrite, check.
//!
//! [`harden`] is the whole pipeline for one file's text and is pure: parse → facts →
//! plan → findings → edits → re-parse and check the contract. The caller does the I/O.

pub mod analyse;
mod build_environment;
pub mod contract;
pub mod facts;
pub mod flags;
pub mod gobuild;
pub mod goversion;
pub mod image;
mod image_user;
pub mod model;
pub mod modules;
mod not_go;
pub use not_go::fetched_program;
mod notes;
pub mod output;
pub mod pin;
pub mod plan;
mod programs;
mod refusals;
pub mod rewrite;
pub mod runtime;
pub mod secrets;
mod template;
pub mod users;
pub mod userswitch;
pub mod variables;
pub mod writes;

pub use image_user::{final_numeric_user, stage_account, stage_numeric_user, stage_runs_as_root, stage_user_name};
pub use programs::{
    builds_a_clone, clones_only_module, make_targets, prebuilt_name, program_dirs, program_files, started_names,
};

use crate::config::Config;
use crate::edit;
use crate::finding::Finding;
pub use crate::outcome::Outcome;
use crate::rules;
use crate::source::SourceFacts;

pub use model::ParseError;

/// Analyses and rewrites one Dockerfile.
pub fn harden(text: &str, source: &SourceFacts, config: &Config) -> Result<Outcome, ParseError> {
    // The parser's spans do not count a byte-order mark; work without it and put it back.
    if let Some(body) = text.strip_prefix('\u{feff}') {
        let mut outcome = harden(body, source, config)?;
        if let Outcome::Hardened { rewritten: Some(new), .. } = &mut outcome {
            new.insert(0, '\u{feff}');
        }
        return Ok(outcome);
    }
    // An empty file (a placeholder committed before its content) builds nothing.
    if text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
        return Ok(Outcome::Skipped("empty: no instructions, so nothing is built from it".into()));
    }
    if let Some(why) = template::not_built_as_written(text) {
        return Ok(Outcome::Skipped(why));
    }
    if let Some(how) = &source.orchestration.no_image {
        return Ok(Outcome::Skipped(format!("no image comes of it: {how}, so nothing runs from it")));
    }
    if let Some(how) = &source.orchestration.development {
        return Ok(Outcome::Skipped(format!("a development image: {how}")));
    }
    let df = model::Dockerfile::parse(text)?;
    if let Err((line, message)) = crate::rules_off::in_dockerfile(text) {
        return Err(ParseError { line, column: 1, message });
    }
    let facts = facts::Facts::new(text, &df, source, config);
    if let Some(windows) = windows_base(&facts) {
        // Stages with a command of their own on a Linux base are images too (`--target linux`).
        let linux: Vec<String> = (df.stages.iter().rev().skip(1))
            .filter(|s| {
                s.instructions.iter().any(|i| matches!(i.body, model::Body::Cmd(_) | model::Body::Entrypoint(_)))
            })
            .filter(|s| facts.base_image(s).is_none_or(|b| !b.is_windows()))
            .map(|s| s.reference())
            .collect();
        let unchecked = match linux.as_slice() {
            [] => String::new(),
            stages => format!(
                "; its Linux stages with a command of their own ({}), images a build reaches with --target, are not checked here",
                stages.join(", ")
            ),
        };
        // A base a build argument gives is told by the Windows account the stage runs as.
        let on = match windows.is_windows() {
            true => windows.to_reference(),
            false => format!("{} (a build argument's; it runs as a Windows account)", windows.to_reference()),
        };
        return Ok(Outcome::Skipped(format!(
            "a Windows image: it runs on {on}, where users are account names (ContainerUser) and no Linux hardening applies{unchecked}"
        )));
    }
    // `FROM image` and nothing else (arguments, labels aside): a pin a dependency bot keeps
    // current, which something else builds on.
    let names_only =
        |s: &model::Stage| s.instructions.iter().all(|i| matches!(i.body, model::Body::Arg(_) | model::Body::Other));
    if df.stages.len() == 1 && names_only(&df.stages[0]) {
        return Ok(Outcome::Skipped(format!(
            "an image pin: the file only names {} (FROM), and builds and runs nothing of its own",
            df.stages[0].from.image
        )));
    }
    if !facts.is_go_build() && facts.prebuilt_binary().is_none() {
        return Ok(Outcome::Skipped(not_go::not_a_go_build(&facts)));
    }
    let (entrypoint, cmd) = facts.entrypoint_and_cmd(facts.runtime_stage());
    let development = entrypoint
        .or(cmd)
        .and_then(runtime::development_command)
        // One built on another stage (`FROM base AS debug`) is a debug build of that one, which ships.
        .or_else(|| {
            let why = runtime::carries_delve(facts.runtime_stage())?;
            Some(match facts.parent_stage(facts.runtime_stage()) {
                Some(shipped) => format!(
                    "{why}; it is a debug build of stage {}, the image that ships (`--target {}`), which harden does not change: it hardens the final stage only",
                    shipped.reference(),
                    shipped.reference()
                ),
                None => why,
            })
        })
        // A debug stage built on the shipped one (`FROM deploy AS debug`) leaves that one to harden.
        .or_else(|| {
            runtime::installs_delve(facts.runtime_stage())
                .filter(|_| facts.parent_stage(facts.runtime_stage()).is_none())
        });
    if let Some(why) = development {
        return Ok(left_alone(&facts, format!("a development image: {why}")));
    }
    if let Some(job) = &source.orchestration.job_container {
        let why = format!(
            "a build environment: CI jobs run in its image as their container ({job}): it holds the tools they need, and runs no service"
        );
        return Ok(left_alone(&facts, why));
    }
    if let Some(why) = build_environment::build_environment(&facts, entrypoint.or(cmd)) {
        return Ok(left_alone(&facts, format!("a build environment: {why}")));
    }
    let plan = plan::decide(&facts);
    let mut findings = analyse::findings(&facts, &plan);
    let edits = rewrite::edits(&facts, &plan);
    // A build that stops as it stands (HD160) proves no change: that comes first.
    if !edits.is_empty() && findings.iter().any(|f| f.rule == crate::rules::GO_OLDER_THAN_MODULE.id) {
        let why = "the rewrite is not proposed: the file does not build as it stands (HD160 says why), so no change to it could be proven";
        return Ok(Outcome::Hardened { findings, rewritten: None, reason: Some(why.into()), security: false });
    }
    // A file a generator writes (`## This is a generated file, do not edit directly`) is written
    // again from its template: the findings say what to change there.
    if let Some(marker) = crate::generated::generated_marker(text).filter(|_| !edits.is_empty()) {
        let why = format!(
            "the rewrite is not proposed: the file is generated ({marker}): an edit would be undone when it is generated again, or fail the check that it is current; the findings say what to change in the source it comes from"
        );
        return Ok(Outcome::Hardened { findings, rewritten: None, reason: Some(why), security: false });
    }
    let (rewritten, reason, security) = match edit::apply(text, &edits) {
        Ok(new) if new == text => (None, None, false),
        Ok(new) => match check(&facts, &new, source, config) {
            Ok(after) => {
                mark_fixed(&mut findings, &df, &after.findings);
                (Some(new), None, after.security)
            }
            Err(why) => (None, Some(format!("the rewrite is not proposed: {why}")), false),
        },
        Err(overlap) => (None, Some(format!("the rewrite is not proposed: internal error: {overlap}")), false),
    };
    Ok(Outcome::Hardened { findings, rewritten, reason, security })
}

/// A Go image harden does not harden (a development image, a build environment), for `why`:
/// skipped, unless it carries a secret (HD108, HD109), which is reported all the same.
fn left_alone(facts: &facts::Facts<'_>, why: String) -> Outcome {
    let findings = analyse::secret_findings(facts);
    if findings.is_empty() {
        return Outcome::Skipped(why);
    }
    let reason = Some(format!("{why}; harden changes nothing in it, and reports the secret it carries"));
    Outcome::Hardened { findings, rewritten: None, reason, security: false }
}

/// The capabilities `setcap` gives a file of the Dockerfile's image, with the step's line (see
/// [`facts::Facts::file_capabilities`]).
pub fn file_capabilities(text: &str) -> Option<(usize, Vec<String>)> {
    let df = model::Dockerfile::parse(text).ok()?;
    let (source, config) = (SourceFacts::default(), Config::default());
    facts::Facts::new(text, &df, &source, &config).file_capabilities()
}

/// True when the image a Dockerfile builds runs on a shell-less base (distroless, scratch), as
/// its final stage or the stages it is built on say.
pub fn runs_shell_less(text: &str) -> bool {
    let Ok(df) = model::Dockerfile::parse(text) else { return false };
    let (source, config) = (SourceFacts::default(), Config::default());
    let facts = facts::Facts::new(text, &df, &source, &config);
    facts.base_image(facts.runtime_stage()).is_some_and(|b| b.family().is_shell_less())
}

/// The Windows image a Dockerfile's runtime runs on, as its arguments' defaults make it or as
/// written (`nanoserver:ltsc2022-${TARGETARCH}`).
fn windows_base(facts: &facts::Facts<'_>) -> Option<image::ImageRef> {
    let runtime = facts.runtime_stage();
    let base = facts.base_image(runtime).cloned().unwrap_or_else(|| image::ImageRef::parse(&runtime.from.image));
    // A base a build argument gives (`FROM ${BASE_IMAGE}`) is Windows's where the stage runs as
    // one of Windows's container accounts.
    let windows_user =
        facts.last_user(runtime).is_some_and(|(_, user)| matches!(user, "ContainerAdministrator" | "ContainerUser"));
    (base.is_windows() || (facts.base_image(runtime).is_none() && windows_user)).then_some(base)
}

/// True when a Dockerfile's final stage is an export (see [`facts::Facts::is_export`]): no
/// program of its own runs in it.
pub fn runs_no_program(text: &str) -> bool {
    let Ok(df) = model::Dockerfile::parse(text) else { return false };
    let (source, config) = (SourceFacts::default(), Config::default());
    facts::Facts::new(text, &df, &source, &config).is_export()
}

/// True when the image a Dockerfile builds runs its program as root: its last `USER` is root's,
/// or it sets none on a base that runs as root.
pub fn runs_as_root(text: &str) -> bool {
    let Ok(df) = model::Dockerfile::parse(text) else { return false };
    let (source, config) = (SourceFacts::default(), Config::default());
    userswitch::runs_as_root(&facts::Facts::new(text, &df, &source, &config))
}

/// The script the image a Dockerfile builds starts through (`/start.sh`), whose writes harden does
/// not read, when it starts through one.
pub fn started_script(text: &str, source: &SourceFacts) -> Option<String> {
    let df = model::Dockerfile::parse(text).ok()?;
    refusals::started_script(&facts::Facts::new(text, &df, source, &Config::default()))
}

/// The line of a step of the final stage (or a stage it is built on) that gives files to group
/// 0, root's (`chgrp -R 0 /data`, `chown -R 101:0`): OpenShift's pattern for an arbitrary user,
/// which runs in group 0 to use them (`chmod g=u` alone gives the files' own group no more).
pub fn root_group_files(text: &str) -> Option<usize> {
    let df = model::Dockerfile::parse(text).ok()?;
    let chain = std::iter::successors(df.stages.last(), |s| df.stage_named(&s.from.image));
    let to_group_zero = |argv: &[&str]| match argv {
        ["chgrp", rest @ ..] => rest.iter().any(|w| matches!(*w, "0" | "root")),
        ["chown", rest @ ..] => rest.iter().any(|w| w.ends_with(":0") || w.ends_with(":root")),
        _ => false,
    };
    chain.flat_map(|s| &s.instructions).find_map(|i| {
        let commands = i.body.run_commands();
        let found = commands.iter().any(|c| {
            let argv: Vec<&str> = c.argv().iter().map(|t| t.value.as_str()).collect();
            to_group_zero(&argv)
        });
        found.then_some(i.line)
    })
}

/// True when a Dockerfile builds a Windows image, which no Linux pod runs.
pub fn builds_windows_image(text: &str) -> bool {
    let Ok(df) = model::Dockerfile::parse(text) else { return false };
    let (source, config) = (SourceFacts::default(), Config::default());
    windows_base(&facts::Facts::new(text, &df, &source, &config)).is_some()
}

/// Why the program of a Dockerfile that runs as root must keep root, when harden refuses to move
/// it to 65532 (see [`plan::Plan::root_kept`]) or leaves the whole file alone (a binary built
/// outside it on a base harden does not change): a pod that runs the image must not force
/// another user either. `None` for a file that does not parse, does not run as root, or is not
/// refused.
pub fn root_kept(text: &str, source: &SourceFacts, config: &Config) -> Option<String> {
    let df = model::Dockerfile::parse(text).ok()?;
    let facts = facts::Facts::new(text, &df, source, config);
    let hardened = facts.is_go_build() || facts.prebuilt_binary().is_some();
    if hardened {
        return plan::decide(&facts).root_kept;
    }
    // A file harden leaves alone whose image runs as root: nothing here proves another user works.
    if !userswitch::runs_as_root(&facts) {
        return None;
    }
    match harden(text, source, config) {
        Ok(Outcome::Skipped(reason)) => Some(format!("harden leaves that file alone: {reason}")),
        _ => None,
    }
}

/// The flag or variable (`-port`, `PORT`) that moves the program of a Dockerfile off the port
/// below 1024 that keeps it on root ([`root_kept`]), when that port is the reason and one sets
/// it: a container that sets it to 1024 or more needs no root for it.
pub fn low_port_setting(text: &str, source: &SourceFacts, config: &Config) -> Option<String> {
    let df = model::Dockerfile::parse(text).ok()?;
    let facts = facts::Facts::new(text, &df, source, config);
    let kept = plan::decide(&facts).root_kept?;
    let (_, _, why) = userswitch::privileged_port(&facts)?;
    (kept == why).then(|| userswitch::low_port_setting(&facts)).flatten()
}

/// The names of a Dockerfile's stages (`FROM … AS workflow-controller`): a build that stops at
/// one (`--target $*` in a Makefile's pattern rule) names its image after it.
pub fn stage_names(text: &str) -> Vec<String> {
    let Ok(df) = model::Dockerfile::parse(text) else { return Vec::new() };
    df.stages.into_iter().filter_map(|s| s.from.alias).collect()
}

/// What the re-parsed rewrite says: its findings with where they are, and whether it is a
/// security change.
struct Checked {
    findings: Vec<(&'static str, Scope)>,
    security: bool,
}

/// Re-parses the rewritten text, checks the image contract, and returns its findings with
/// where they are.
fn check(before: &facts::Facts<'_>, new: &str, source: &SourceFacts, config: &Config) -> Result<Checked, String> {
    let df = model::Dockerfile::parse(new).map_err(|e| format!("the rewritten file does not parse ({e})"))?;
    let after = facts::Facts::new(new, &df, source, config);
    contract::check(&contract::of(before), &contract::of(&after))?;
    let plan = plan::decide(&after);
    Ok(Checked {
        findings: analyse::findings(&after, &plan).iter().map(|f| (f.rule, Scope::of(f, &df))).collect(),
        // An image that could not start (a shell-form command on a base with no /bin/sh) and
        // now can is a fix a pull request carries alone.
        security: runtime_identity(before) != runtime_identity(&after)
            || side_users(before) != side_users(&after)
            || (before.unstartable_command().is_some() && after.unstartable_command().is_none()),
    })
}

/// Who the program runs as and on what: the final stage's base image, its platform and user, and
/// whether the image that runs is the one that built it. A rewrite that changes any of these is a
/// security change; one that changes only build flags, cache mounts or command forms is not.
fn runtime_identity(facts: &facts::Facts<'_>) -> (Option<String>, Option<String>, bool, Option<String>) {
    let stage = facts.runtime_stage();
    let base = facts.base_image(stage);
    // The user that runs, by its uid: `USER 65532:65532` written on a `:nonroot` image, whose
    // user it is already, changes nothing.
    let user = match facts.last_user(stage) {
        Some((_, user)) => Some(user.split(':').next().unwrap_or(user).to_string()),
        None => base
            .filter(|b| b.default_user_is_nonroot())
            .and_then(|_| plan::NONROOT.split(':').next())
            .map(str::to_string),
    };
    let platform = stage.from.platform.clone();
    (base.map(image::ImageRef::to_reference), user, facts.is_single_stage(), platform)
}

/// The users the other stages run on their own (with an ENTRYPOINT or CMD of their own) are
/// written as: a name made ids there (`USER nonroot:nonroot` → `65532:65532`) is the user a
/// pod's `runAsNonRoot` can check.
fn side_users<'a>(facts: &'a facts::Facts<'a>) -> Vec<Option<&'a str>> {
    facts.side_images().into_iter().map(|s| facts.last_user(s).map(|(_, user)| user)).collect()
}

/// Where a finding is, for matching findings before and after a rewrite: the runtime (whatever
/// its stage index becomes), or a stage by index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Runtime,
    Stage(Option<usize>),
}

impl Scope {
    fn of(finding: &Finding, df: &model::Dockerfile) -> Self {
        let stage = df.stages.iter().rposition(|s| s.from.line <= finding.line);
        // A runtime finding is the runtime's where it lies in the stage the build ships (or the
        // last, or before any stage); one of another stage, an image of its own, stays that stage's.
        let shipped = df.shipped_stage();
        let in_runtime = stage.is_none_or(|s| s == shipped || s + 1 == df.stages.len());
        if rules::RUNTIME_SCOPED.iter().any(|r| r.id == finding.rule) && in_runtime {
            return Scope::Runtime;
        }
        Scope::Stage(stage)
    }
}

/// Marks each finding that has no counterpart (same rule, same place) after the rewrite as fixed,
/// but for a rule harden only reports (HD151, a note on the rewrite's own user switch, is gone
/// once the user has switched, and is not fixed by it).
fn mark_fixed(findings: &mut [Finding], df: &model::Dockerfile, after: &[(&str, Scope)]) {
    let mut remaining = after.to_vec();
    let fixable = |id: &str| rules::by_id(id).is_some_and(|r| r.fixable);
    for finding in findings.iter_mut().filter(|f| fixable(f.rule)) {
        let key = (finding.rule, Scope::of(finding, df));
        match remaining.iter().position(|k| *k == key) {
            Some(i) => {
                remaining.remove(i);
            }
            None => finding.fixed = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writing_the_user_a_nonroot_image_has_already_is_no_security_change() {
        let security = |text: &str| match harden(text, &SourceFacts::default(), &Config::default()) {
            Ok(Outcome::Hardened { rewritten: Some(_), security, .. }) => security,
            other => panic!("expected a rewrite: {other:?}"),
        };
        let nonroot = "FROM golang:1.23 AS build\nRUN CGO_ENABLED=0 go build -trimpath -ldflags=\"-s -w\" -o /app .\nFROM gcr.io/distroless/static-debian13:nonroot\nCOPY --from=build /app /app\nENTRYPOINT [\"/app\"]\n";
        assert!(!security(nonroot));
        assert!(security(&nonroot.replace(":nonroot", "")), "a root image given a user is one");
        let unstartable = nonroot.replace("ENTRYPOINT [\"/app\"]", "ENTRYPOINT /app");
        assert!(security(&unstartable), "a shell-less image that could not start and now can is one");
        assert!(!security(&unstartable.replace(":nonroot", ":debug-nonroot")), "a :debug image has busybox's shell");
    }

    #[test]
    fn a_from_that_names_no_image_is_a_template() {
        let skipped =
            harden("FROM BASEIMAGE\n\nCMD1\n\nADD BINARY /app\n", &SourceFacts::default(), &Config::default());
        assert!(matches!(skipped, Ok(Outcome::Skipped(why)) if why.starts_with("a template: FROM BASEIMAGE")));
    }

    #[test]
    fn a_byte_order_mark_is_kept_and_does_not_shift_edits() {
        let text = "\u{feff}FROM golang:1.22 AS build\nRUN CGO_ENABLED=0 go build -o /app .";
        let Ok(Outcome::Hardened { rewritten: Some(new), .. }) =
            harden(text, &SourceFacts::default(), &Config::default())
        else {
            panic!("expected a rewrite");
        };
        assert!(new.starts_with("\u{feff}FROM golang:1.22 AS build\n"), "{new}");
        assert!(new.contains("go build -trimpath -ldflags=\"-s -w\" -o /app ."), "{new}");
    }

    #[test]
    fn files_given_to_group_zero_are_found_in_the_final_image_only() {
        let build = "FROM golang:1.26 AS build\nRUN chgrp -R 0 /src\n";
        assert_eq!(root_group_files(&format!("{build}FROM debian:13\nRUN chmod -R g=u /app\n")), None);
        assert_eq!(
            root_group_files(&format!("{build}FROM debian:13 AS base\nRUN chown -R app:0 /app\nFROM base\n")),
            Some(4)
        );
        assert_eq!(
            root_group_files(&format!("{build}FROM debian:13\nRUN chgrp -R 0 /app && chmod -R g=u /app\n")),
            Some(4)
        );
    }
}
