//! The Dockerfile rules: findings read off the facts and the plan.

use crate::finding::Finding;
use crate::orchestration::linuxserver_image;
use crate::rules;

use super::facts::Facts;
use super::flags::{goflags, ldflags_words};
use super::goversion::GoVersion;
use super::image::{Family, ImageRef};
use super::model::Stage;
use super::modules;
use super::plan::{Plan, RuntimePlan};
use super::secrets;

mod certificates;
mod commands;
mod debugger;
mod end_of_life;
mod go_support;
mod images;
mod kept_user;
mod platform;
mod stages;
mod strip;
mod sudo;
mod warm;
mod world_writable;

pub use debugger::{debugger_build, variant_build};
pub use platform::runtime_on_build_platform;
pub use warm::trimpath_unavailable;

/// Every finding for a Go Dockerfile, hazards included, in line order.
pub fn findings(facts: &Facts<'_>, plan: &Plan) -> Vec<Finding> {
    let mut out = plan.hazards.clone();
    build_findings(facts, plan, &mut out);
    runtime_findings(facts, plan, &mut out);
    images::findings(facts, plan, &mut out);
    end_of_life::findings(facts, plan, &mut out);
    go_support::findings(facts, &mut out);
    secrets::findings(facts, &mut out);
    stages::findings(facts, &mut out);
    sudo::findings(facts, &mut out);
    platform::findings(facts, plan, &mut out);
    world_writable::findings(facts, &mut out);
    certificates::findings(facts, plan, &mut out);
    warm::findings(facts, &mut out);
    out.retain(|f| !facts.is_off(f.rule));
    out.sort_by(|a, b| (a.line, a.rule).cmp(&(b.line, b.rule)));
    // Two builds in one `RUN` (the branches of an `if`) say the same thing once.
    out.dedup();
    out
}

/// The secrets a Dockerfile carries (HD108, HD109), in line order.
pub fn secret_findings(facts: &Facts<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    secrets::findings(facts, &mut out);
    out.retain(|f| !facts.is_off(f.rule));
    out.sort_by_key(|f| f.line);
    out
}

fn build_findings(facts: &Facts<'_>, plan: &Plan, out: &mut Vec<Finding>) {
    let df = facts.df;
    // Tools built for the build itself (a code generator, a linter) never ship: their flags
    // change nothing in the image.
    for (run, cmd) in facts.builds().filter(|(r, c)| facts.ships(r, c)) {
        let stage = &df.stages[run.stage];
        // At the line of its `go`, which a continued RUN or a here-document puts lines below the RUN.
        let line = stage.instructions[run.instr].line.max(facts.text[..cmd.go_span.start].matches('\n').count() + 1);
        if let Some(why) = variant_build(run, cmd) {
            let message =
                format!("{why}: harden adds neither CGO_ENABLED=0, -s -w nor -trimpath, which would make them alike");
            out.push(Finding::new(&rules::DEBUGGER_BUILD, line, message));
            continue;
        }
        let debugger = debugger_build(facts, run, cmd);
        // A build argument that defaults to 0 (`ARG CGO=0`), or that every build gives 0, turns cgo off.
        let switch_off = facts.cgo_switched_off(run, cmd);
        if !facts.cgo.needed
            && facts.cgo_setting(run, cmd).as_deref() != Some("0")
            && !cmd.builds_delve()
            && !switch_off
        {
            let message = match facts.cgo_switch(run, cmd) {
                Some((name, default)) => format!(
                    "CGO_ENABLED comes from the build argument {name} (default {}), the build's own switch: harden leaves it, so set it to 0 unless the program needs cgo",
                    default.as_deref().unwrap_or("none")
                ),
                None => format!("the Go build does not set CGO_ENABLED=0: {}", libc_risk(facts, stage)),
            };
            out.push(Finding::new(&rules::CGO_NOT_DISABLED, line, message));
        }
        let has_trimpath = cmd.flag("trimpath").is_some() || goflags(facts, run, cmd).contains("-trimpath");
        let (ld, from_variable) = ldflags_words(facts, run, cmd);
        let stripped = facts.strips(run, &ld);
        if cmd.builds_plugin() {
            if !(has_trimpath && stripped) {
                out.push(Finding::new(
                    &rules::LIBRARY_BUILD,
                    line,
                    "-buildmode=plugin: a Go plugin loads only into a program built with the same flags and package paths, so harden adds neither -trimpath nor -s -w here (build the program and its plugins alike)".to_string(),
                ));
            }
            continue;
        }
        if let Some(file) = facts.source.plugin_hosts.first() {
            if !(has_trimpath && stripped) {
                out.push(Finding::new(
                    &rules::LIBRARY_BUILD,
                    line,
                    format!("{file} loads Go plugins, which load only into a program built with the same flags and package paths as they were, so harden adds neither -trimpath nor -s -w here (build the program and its plugins alike)"),
                ));
            }
            continue;
        }
        if let Some(why) = debugger {
            if !(has_trimpath && stripped) {
                out.push(Finding::new(
                    &rules::DEBUGGER_BUILD,
                    line,
                    format!(
                        "{why}: harden adds neither -s -w nor -trimpath, which would take away what a debugger needs"
                    ),
                ));
            }
            continue;
        }
        if !has_trimpath {
            let message = match trimpath_unavailable(facts, run) {
                Some(go) => {
                    format!("the Go build has no -trimpath, and the builder's Go {go} has none (Go 1.13 added it)")
                }
                None => "the Go build has no -trimpath".to_string(),
            };
            out.push(Finding::new(&rules::NO_TRIMPATH, line, message));
        }
        // `-w` alone drops only the DWARF data and keeps the symbol table on purpose (profiles and
        // stack traces name functions by it): the maintainer's choice.
        let symbols_kept = ld.iter().any(|w| w == "-w") && !ld.iter().any(|w| w == "-s");
        if symbols_kept {
            let message = "the Go build strips the debug information (-w) but keeps the symbol table (no -s), which looks deliberate (profiles and debuggers read it): harden leaves it";
            out.push(Finding {
                severity: crate::rules::Severity::Info,
                ..Finding::new(&rules::NOT_STRIPPED, line, message)
            });
        } else if !stripped && !cmd.links_nothing() && super::flags::symbols_kept_in_file(facts) {
            let message = "the Go build does not strip symbols, and the file's other builds keep the symbol table on purpose (-w without -s): harden leaves this one alike";
            out.push(Finding {
                severity: crate::rules::Severity::Info,
                ..Finding::new(&rules::NOT_STRIPPED, line, message)
            });
        } else if !stripped && !cmd.links_nothing() && !strip::stripped_where_built(facts, from_variable.as_deref()) {
            let message = strip::not_stripped(facts, stage, from_variable.as_deref());
            out.push(Finding::new(&rules::NOT_STRIPPED, line, message));
        }
    }
    for &s in &facts.builder_stages() {
        let stage = &df.stages[s];
        if let Some(copy_line) = modules::module_cache_missing(facts, stage) {
            let mut message =
                "the whole source is copied before the modules go.mod lists are downloaded, so any change downloads every module again"
                    .to_string();
            if let Some(why) = modules::download_blocked(facts, stage) {
                // The module cache mount the build gets keeps the modules between builds instead.
                let cache = modules::mod_cache(facts, stage, stage.instructions.len());
                let mounted = modules::package_runs(facts).into_iter().any(|r| {
                    r.stage == s
                        && modules::mounts_fit(facts, plan, s)
                        && modules::missing_cache_mounts(facts, &r).contains(&cache)
                });
                if mounted {
                    message.push_str(&format!(
                        "; the build's Go commands get a cache mount for {cache}, which keeps the modules between builds"
                    ));
                }
                message.push_str(&format!("; harden adds no download layer: {why}"));
            }
            out.push(Finding::new(&rules::MODULE_CACHE, copy_line, message));
        }
    }
    for run in modules::package_runs(facts).into_iter().filter(|r| modules::mounts_fit(facts, plan, r.stage)) {
        let missing = modules::missing_cache_mounts(facts, &run);
        if !missing.is_empty() {
            out.push(Finding::new(
                &rules::NO_CACHE_MOUNT,
                df.stages[run.stage].instructions[run.instr].line,
                format!("this Go command runs without a BuildKit cache mount for {}", missing.join(" and ")),
            ));
        }
    }
}

/// What a cgo-enabled build risks in this builder, in a reader's words.
fn libc_risk(facts: &Facts<'_>, stage: &Stage) -> String {
    let image = facts.base_image(stage);
    match image {
        Some(i) if i.family() == Family::Golang && !i.is_musl() => {
            format!(
                "{} ships gcc, so cgo is on, and a binary that uses net or os/user (most do, if only through a module) links against libc",
                i.to_reference()
            )
        }
        Some(i) if i.family() == Family::Golang => match facts.go_version(stage, stage.instructions.len()) {
            Some(v) if v < GoVersion::NO_PREBUILT_STD => format!(
                "{} has no gcc, but its Go {v} ships net and os/user built with cgo, so the binary may link musl dynamically",
                i.to_reference()
            ),
            _ => format!("{} has no gcc, so the binary is static only until a C compiler is added", i.to_reference()),
        },
        // An image harden does not know may set CGO_ENABLED in its own environment.
        Some(i) if i.family() == Family::Other => format!(
            "unless {}'s own environment sets it, which harden does not read, the binary links against libc where that image has a C compiler",
            i.to_reference()
        ),
        _ => "the binary links against libc wherever the builder has a C compiler".to_string(),
    }
}

fn runtime_findings(facts: &Facts<'_>, plan: &Plan, out: &mut Vec<Finding>) {
    if facts.carries_data_only() {
        return;
    }
    let stage = facts.runtime_stage();
    let base = facts.base_image(stage);
    if facts.is_single_stage() {
        let mut message = format!(
            "the single stage {} builds and runs the program: the Go toolchain and the source ship in the image",
            stage.from.image
        );
        if let RuntimePlan::Split { blind: true, .. } = plan.runtime {
            message.push_str(
                "; the source was not available, so only the binary is carried: check that it needs no other files",
            );
        }
        out.push(Finding::new(&rules::SINGLE_STAGE, stage.from.line, message));
    } else if let Some(base) = base.as_ref().filter(|b| b.family().is_fat()) {
        // A runtime the plan keeps points at the finding that says why.
        let kept = match (&plan.runtime, plan.hazards.first()) {
            (RuntimePlan::Keep, Some(why)) if facts.is_off(why.rule) => {
                format!("; harden keeps it, as {} is turned off for this file", why.rule)
            }
            (RuntimePlan::Keep, Some(_)) => kept_user::runtime_kept(plan),
            _ => String::new(),
        };
        // A shell-less variant the repository publishes beside this image makes its shell a
        // choice: said at info.
        let variant = images::shell_less_choice(facts)
            .or_else(|| facts.source.orchestration.shell_less_variant.clone())
            .filter(|_| matches!(plan.runtime, RuntimePlan::Keep));
        let also = match &variant {
            Some(variant) => format!(", and the repository also builds it shell-less ({variant})"),
            None => String::new(),
        };
        // Built on another stage of the file, the base is that stage's (`FROM release`).
        let through = match facts.parent_stage(stage) {
            Some(parent) => {
                let name = parent.from.alias.as_deref().unwrap_or(&stage.from.image);
                format!(" (through stage {name}, line {})", parent.from.line)
            }
            None => String::new(),
        };
        let finding = Finding::new(
            &rules::FAT_RUNTIME,
            stage.from.line,
            format!(
                "the runtime stage runs on {}{through}, {}{kept}{also}",
                base.to_reference(),
                match base.family() {
                    Family::Busybox => "an image with a shell and its tools",
                    _ => "a full OS image with a shell and package manager",
                }
            ),
        );
        // The file's own shell-less stage beside it (HD139) makes the shell a choice too.
        let flavour = plan.hazards.first().is_some_and(|h| h.rule == rules::SECOND_RUNTIME.id);
        let severity = if variant.is_some() || flavour { crate::rules::Severity::Info } else { finding.severity };
        out.push(Finding { severity, ..finding });
        // What needs the shell of a variant kept beside its shell-less twin is told at info too.
        if variant.is_some() {
            for needs_shell in out.iter_mut().filter(|f| f.rule == rules::RUNTIME_NEEDS_SHELL.id) {
                needs_shell.severity = crate::rules::Severity::Info;
            }
        }
    }
    // A tag only partly from a variable still names its variant (`static:nonroot-${ARCH}`).
    let nonroot_base = facts.base_or_written(stage).is_some_and(|b| b.default_user_is_nonroot());
    // A root start the plan keeps (su-exec, gosu) is told by the plan's own finding.
    let drop_kept = plan.hazards.iter().any(|h| h.rule == rules::RUNS_AS_ROOT.id);
    let drops_later = super::userswitch::privilege_drop(facts);
    let why_kept = kept_user::why_kept(facts, plan, base);
    // A drop the entrypoint script shows is why the user stays; the program never runs as root.
    let script_drop = super::userswitch::script_drops_root(facts);
    let why_kept = if script_drop { String::new() } else { why_kept };
    let drops_later = drops_later.map(|d| d + &why_kept).or(Some(why_kept).filter(|w| !w.is_empty()));
    // Root the program or its containers need (harden keeps it for them) is no error to fix.
    let root_start = |line: usize, message: String| match script_drop || kept_user::root_needed(facts, plan) {
        true => {
            Finding { severity: crate::rules::Severity::Warning, ..Finding::new(&rules::RUNS_AS_ROOT, line, message) }
        }
        false => Finding::new(&rules::RUNS_AS_ROOT, line, message),
    };
    let built_user = facts.last_user(stage).and_then(|(_, u)| super::users::user_as_built(facts, stage, u));
    match facts.last_user(stage) {
        _ if drop_kept => {}
        // The base image's tag (`:nonroot`) already runs the program as a non-root user, with
        // ids the kubelet can check: nothing runs as root, so nothing is said (a code-scanning
        // alert titled "runs as root" would be false).
        None if nonroot_base => {}
        // A kept final stage that is an export (`docker build --output`): nothing runs in it by
        // itself.
        None if !plan.rewrites_runtime() && facts.is_export() => {
            out.push(Finding {
                severity: crate::rules::Severity::Info,
                ..Finding::new(
                    &rules::RUNS_AS_ROOT,
                    stage.from.line,
                    "no USER instruction, but the final stage is an export (on scratch, no command, directories copied out of the build): no program runs in it by itself, so the user is what runs its files chooses",
                )
            })
        }
        // A base from a build argument with no default may set its own user (a `-nonroot` image
        // the Makefile passes): no error for what cannot be seen.
        None if base.is_none() => out.push(Finding {
            severity: crate::rules::Severity::Warning,
            ..Finding::new(
                &rules::RUNS_AS_ROOT,
                stage.from.line,
                format!(
                    "no USER instruction: the program runs as the user of its base image, which the build chooses ({}): root unless that image sets another",
                    stage.from.image
                ),
            )
        }),
        // A LinuxServer.io base starts s6-overlay's init as root, which runs the services as the
        // user PUID and PGID name: root is the init's, not said to be the program's.
        None if let Some(reference) = base.as_ref().map(|b| b.to_reference()).filter(|r| linuxserver_image(r)) => {
            out.push(Finding {
                severity: crate::rules::Severity::Warning,
                ..Finding::new(
                    &rules::RUNS_AS_ROOT,
                    stage.from.line,
                    match plan.hazards.iter().any(|h| h.rule == rules::BASE_ENTRYPOINT.id) {
                        true => format!("no USER instruction: the image starts as root, as its base {reference} does (HD149 says why harden keeps that)"),
                        false => format!(
                            "no USER instruction: the image starts as root, as its base {reference}, a LinuxServer.io image, does: s6-overlay's init prepares the container as root and runs its services as abc, with the ids PUID and PGID give (a service script may run its program otherwise); harden leaves that to the init"
                        ),
                    },
                )
            })
        }
        // Another project's image (`curlimages/curl`) may set a user of its own, which harden
        // does not read: said, not claimed.
        None if base.as_ref().is_some_and(|b| b.is_application_image())
            && super::userswitch::base_entrypoint(facts).is_none() =>
        {
            out.push(Finding {
                severity: crate::rules::Severity::Warning,
                ..Finding::new(
                    &rules::RUNS_AS_ROOT,
                    stage.from.line,
                    format!(
                        "no USER instruction: the program runs as the user of its base image, {}, which harden does not read (root unless that image sets another){}",
                        base.as_ref().map(|b| b.to_reference()).unwrap_or_default(),
                        drops_later.clone().unwrap_or_default()
                    ),
                )
            })
        }
        // The base image's own ENTRYPOINT (an init script that drops to its user with su-exec)
        // decides who runs the program: root is not known, so not an error.
        None if super::userswitch::base_entrypoint(facts).is_some() => out.push(Finding {
            severity: crate::rules::Severity::Warning,
            ..Finding::new(
                &rules::RUNS_AS_ROOT,
                stage.from.line,
                "no USER instruction: the image starts as root, and its base image's ENTRYPOINT decides who runs the program (an init script often drops to its own user)".to_string(),
            )
        }),
        None => out.push(root_start(
            stage.from.line,
            format!(
                "no USER instruction: the program runs as root{}{}",
                drops_later.unwrap_or_default(),
                unused_account(facts, stage).filter(|_| !script_drop).unwrap_or_default()
            ),
        )),
        Some((inst, user)) if is_root(user) => {
            out.push(root_start(inst.line, format!("the last USER is {user}{}", drops_later.unwrap_or_default())));
        }
        // A user the build chooses, root unless it passes another: a choice harden leaves.
        Some((inst, user)) if built_user.as_deref().is_some_and(is_root) => {
            let built = built_user.unwrap_or_default();
            let message = format!(
                "the last USER is {user}, which the build arguments' defaults make {built}: the program runs as root unless the build passes another user; harden leaves that choice to the build (make the default a non-root uid:gid)"
            );
            out.push(Finding { severity: crate::rules::Severity::Warning, ..Finding::new(&rules::RUNS_AS_ROOT, inst.line, message) });
        }
        Some((inst, user)) if let Some(f) = kept_user::unset_user(facts, stage, inst.line, user) => out.push(f),
        // A user written with build arguments is as their defaults make it (`${BIN_NAME}`).
        Some((inst, user)) if !is_numeric_user(built_user.as_deref().unwrap_or(user)) => {
            let named = match &built_user {
                Some(built) => format!("USER {user} ({built} as the build arguments' defaults make it) is a name"),
                None => format!("USER {user} is a name"),
            };
            let mut message = format!("{named}; the kubelet cannot verify it is non-root under runAsNonRoot");
            if super::users::ids_under(plan, facts, user).is_none() {
                message.push_str(&super::users::numbering_hint(facts, facts.runtime_stage(), user, base));
            }
            out.push(Finding::new(&rules::NON_NUMERIC_USER, inst.line, message));
        }
        // A numeric user without a group runs with its account's group when the image has one
        // (distroless's 65532, an account the file creates), else with group 0, root's.
        Some((inst, user)) if !user.contains([':', '$']) && !has_account(facts, base, user) => {
            let message = format!(
                "USER {user} names no group, so the program runs with group 0 (root's); write USER {user}:{user} (or the group it needs) unless it relies on root's group, as OpenShift-style images that chgrp 0 do"
            );
            out.push(Finding::new(&rules::USER_WITHOUT_GROUP, inst.line, message));
        }
        Some(_) => {}
    }
    commands::findings(facts, plan, stage, out);
    let libc_missing = base.as_ref().is_some_and(|b| !b.has_libc());
    if !facts.is_single_stage() && facts.cgo.needed && !facts.cgo.static_link && libc_missing {
        out.push(Finding::new(
            &rules::CGO_STATIC_RUNTIME,
            stage.from.line,
            format!("cgo is needed ({}) but the runtime has no libc", facts.cgo.reason.as_deref().unwrap_or("cgo")),
        ));
    }
}

/// `; the stage creates the account rclone (1009:1009) and never switches to it`: an account
/// made for the program that no USER takes, when the stage creates one.
fn unused_account(facts: &Facts<'_>, stage: &Stage) -> Option<String> {
    let stages = [stage];
    let name = super::users::created_accounts(&stages).into_iter().next()?;
    let ids = super::users::created_ids(&stages, facts.text, &name).map(|ids| format!(" ({ids})")).unwrap_or_default();
    Some(format!("; the stage creates the account {name}{ids} and never switches to it"))
}

/// True when the uid `user` may have an account in the image, whose group it then runs with: a
/// standard one (nobody, distroless's nonroot, the system's below 1000), one the file creates
/// (`adduser -u 1001`, a passwd line), or any on a base whose accounts harden does not know.
fn has_account(facts: &Facts<'_>, base: Option<&ImageRef>, user: &str) -> bool {
    let uid: u32 = user.parse().unwrap_or(0);
    let created = facts.text.lines().any(|l| {
        let words: Vec<&str> = l.split_whitespace().collect();
        words.windows(2).any(|w| matches!(w[0], "-u" | "--uid") && w[1] == user)
            || words.iter().any(|w| *w == format!("-u{user}") || *w == format!("--uid={user}"))
            || l.contains(&format!(":x:{user}:"))
    });
    let shell_less = base.is_some_and(|b| b.family().is_shell_less());
    super::image::standard_account(uid.into())
        || (uid < 1000 && !shell_less)
        || created
        || base.is_none_or(|b| !b.accounts_are_known())
}

/// True for a USER value that means root.
pub fn is_root(user: &str) -> bool {
    let uid = user.split(':').next().unwrap_or(user);
    uid == "root" || uid == "0"
}

/// True when the user part of a USER value is a number (or an ARG, which hadolint accepts).
pub fn is_numeric_user(user: &str) -> bool {
    let uid = user.split(':').next().unwrap_or(user);
    uid.starts_with('$') || (!uid.is_empty() && uid.chars().all(|c| c.is_ascii_digit()))
}

/// True when an ADD source is a local file or directory (not a URL, git repo or tar archive).
pub fn add_is_plain_copy(src: &str) -> bool {
    let lower = src.to_ascii_lowercase();
    let remote = lower.contains("://") || lower.starts_with("git@");
    let archive = [".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst"]
        .iter()
        .any(|e| lower.ends_with(e));
    !remote && !archive
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_users() {
        assert!(is_root("root:root") && is_root("0") && !is_root("65532:65532"));
        assert!(is_numeric_user("65532:65532") && is_numeric_user("${UID}") && !is_numeric_user("nonroot"));
    }

    #[test]
    fn add_of_archives_and_urls_is_not_a_copy() {
        assert!(add_is_plain_copy("."));
        assert!(!add_is_plain_copy("https://example.com/x"));
        assert!(!add_is_plain_copy("rootfs.tar.gz"));
    }
}
