//! Edits to the stages that build Go: flags, module download layer, cache mounts, tags.

use minijinja::context;

use crate::edit::Edit;
use crate::rules;

use super::super::analyse::{add_is_plain_copy, debugger_build, trimpath_unavailable, variant_build};
use super::super::facts::{Facts, GoRun, join_path};
use super::super::flags::ldflags_words;
use super::super::gobuild::GoCommand;
use super::super::goversion::GoVersion;
use super::super::image::{Family, ImageRef};
use super::super::model::{Body, Stage};
use super::super::modules::{
    download_blocked, download_mount, missing_cache_mounts, module_cache_missing, mounts_fit, package_runs,
};
use super::super::plan::{Plan, RuntimePlan};
use super::{Style, render};

/// The name of the module-download template.
pub const TEMPLATE: &str = "module-download.Dockerfile.j2";
/// The module-download template (`templates/dockerfile/`).
pub const MODULE_DOWNLOAD: &str = include_str!("../../../templates/dockerfile/module-download.Dockerfile.j2");

/// Edits to every builder: build flags, the module download layer, the Go tag, cache mounts.
pub fn edits(facts: &Facts<'_>, plan: &Plan, style: &Style, out: &mut Vec<Edit>) {
    for run in facts.go_runs.iter().filter(|r| !r.exec_form) {
        // A step that fills the build cache for a later build compiles as that build does, or the
        // build would not reuse what it compiled (-trimpath and cgo change every package's
        // action id).
        for cmd in run.commands.iter().filter(|c| {
            let warms = facts.warms_build_cache(run, c).is_some() && !facts.warm_up_unread(run, c);
            c.builds() && (facts.ships(run, c) || warms)
        }) {
            build_flags(facts, run, cmd, out);
        }
    }
    for &s in &facts.builder_stages() {
        let stage = &facts.df.stages[s];
        module_download(facts, style, stage, mounts_fit(facts, plan, stage.index), out);
        builder_tag(facts, stage, out);
    }
    cache_mounts(facts, plan, out);
}

fn build_flags(facts: &Facts<'_>, run: &GoRun, cmd: &GoCommand, out: &mut Vec<Edit>) {
    let text = facts.text;
    // Delve itself is a debug image's tool, left as its maintainer builds it; so are variants
    // whose flags differ on purpose.
    if cmd.builds_delve() || variant_build(run, cmd).is_some() {
        return;
    }
    // CGO_ENABLED from a build argument is the maintainer's switch.
    if !facts.cgo.needed
        && facts.cgo_setting(run, cmd).as_deref() != Some("0")
        && facts.cgo_switch(run, cmd).is_none()
        && !facts.is_off(rules::CGO_NOT_DISABLED.id)
    {
        out.push(Edit::insert(cmd.go_span.start, "CGO_ENABLED=0 "));
    }
    // A debugger needs the symbols and source paths these flags take away; a plugin and the
    // program that loads it must be built alike.
    if debugger_build(facts, run, cmd).is_some() || cmd.builds_plugin() || !facts.source.plugin_hosts.is_empty() {
        return;
    }
    let stage = &facts.df.stages[run.stage];
    let goflags = cmd.env_value("GOFLAGS").map(str::to_string).or_else(|| facts.env_at(stage, run.instr, "GOFLAGS"));
    if cmd.flag("trimpath").is_none()
        && !goflags.unwrap_or_default().contains("-trimpath")
        && trimpath_unavailable(facts, run).is_none()
        && !facts.is_off(rules::NO_TRIMPATH.id)
    {
        out.push(Edit::insert(cmd.verb_span.end, " -trimpath"));
    }
    // -ldflags that are only a build argument are the maintainer's to set (a debug build unsets them).
    let (ld, from_variable) = ldflags_words(facts, run, cmd);
    let missing: Vec<&str> = ["-s", "-w"].into_iter().filter(|f| !ld.iter().any(|w| w == f)).collect();
    // `-w` alone keeps the symbol table on purpose, here or in the file's other builds.
    let symbols_kept = missing == ["-s"] || super::super::flags::symbols_kept_in_file(facts);
    if missing.is_empty()
        || facts.strips(run, &ld)
        || symbols_kept
        || from_variable.is_some()
        || cmd.links_nothing()
        || facts.warms_build_cache(run, cmd).is_some()
        || facts.is_off(rules::NOT_STRIPPED.id)
    {
        return;
    }
    let prefix = missing.join(" ");
    match cmd.flag("ldflags").and_then(|f| f.value_span.clone()) {
        None => out.push(Edit::insert(cmd.verb_span.end, format!(" -ldflags=\"{prefix}\""))),
        Some(span) => {
            let raw = &text[span.clone()];
            if raw.starts_with(['"', '\'']) {
                out.push(Edit::insert(span.start + 1, format!("{prefix} ")));
            } else if raw.is_empty() {
                out.push(Edit::replace(span, format!("\"{prefix}\"")));
            } else if !raw.contains(['"', '\'', ' ']) {
                out.push(Edit::replace(span, format!("\"{prefix} {raw}\"")));
            }
        }
    }
}

fn module_download(facts: &Facts<'_>, style: &Style, stage: &Stage, mounts: bool, out: &mut Vec<Edit>) {
    if module_cache_missing(facts, stage).is_none()
        || download_blocked(facts, stage).is_some()
        || facts.is_off(rules::MODULE_CACHE.id)
    {
        return;
    }
    let Some((i, inst)) = stage.instructions.iter().enumerate().find(|(_, inst)| {
        matches!(&inst.body, Body::Copy(c) if c.from.is_none() && c.sources.iter().any(|s| s == "." || s == "./"))
    }) else {
        return;
    };
    let Body::Copy(copy) = &inst.body else { return };
    let workdir = facts.workdir_at(stage, i);
    // Where the source goes, made the working directory first when the stage moves there only
    // after the copy.
    let moved = crate::dockerfile::modules::workdir_after_copy(facts, stage, i);
    if !(matches!(copy.dest.as_str(), "." | "./") || join_path(&workdir, &copy.dest) == workdir || moved.is_some()) {
        return;
    }
    let dest = "./".to_string();
    let files = match (facts.source.available, facts.source.has_go_sum) {
        (false, _) => "go.mod go.sum*",
        (true, true) => "go.mod go.sum",
        (true, false) => "go.mod",
    };
    let mount = download_mount(facts, stage, i).filter(|_| mounts).map(|m| format!("--mount={m} ")).unwrap_or_default();
    let block = render(TEMPLATE, context! { files, dest, mount, workdir => moved.as_ref().map(|(dir, _)| dir) });
    out.push(Edit::insert(inst.comments_start, style.lines(&block)));
    // The WORKDIR that followed the copies moved up with the download: it is not written twice.
    if let Some((_, at)) = moved {
        out.push(Edit::delete(stage.instructions[at].span.clone()));
    }
}

fn cache_mounts(facts: &Facts<'_>, plan: &Plan, out: &mut Vec<Edit>) {
    for run in package_runs(facts).into_iter().filter(|r| mounts_fit(facts, plan, r.stage)) {
        let Body::Run { flags_insert_at, .. } = &facts.df.stages[run.stage].instructions[run.instr].body else {
            continue;
        };
        let flags: String =
            missing_cache_mounts(facts, &run).iter().map(|t| format!(" --mount=type=cache,target={t}")).collect();
        if !flags.is_empty() {
            out.push(Edit::insert(*flags_insert_at, flags));
        }
    }
}

fn builder_tag(facts: &Facts<'_>, stage: &Stage, out: &mut Vec<Edit>) {
    let Some(version) = builder_pin(facts) else {
        return;
    };
    if other_modules_built(facts, stage).is_some() || facts.is_off(rules::LATEST_TAG.id) {
        return;
    }
    let image = ImageRef::parse(&stage.from.image);
    if stage.from.image.contains('$') || image.family() != Family::Golang || image.digest.is_some() {
        return;
    }
    // A floating tag stays floating where nothing updates the images: a pinned Go would fall
    // behind go.mod (golang images set GOTOOLCHAIN=local) and break the build.
    let floating =
        image.tag.as_deref().is_none_or(|t| t == "latest" || t.starts_with(|c: char| c.is_ascii_alphabetic()));
    if floating && facts.source.orchestration.image_updater.is_none() {
        return;
    }
    let tag = match image.tag.as_deref() {
        None | Some("latest") => version,
        Some(variant) if variant.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) => {
            format!("{version}-{variant}")
        }
        Some(_) => return,
    };
    let new = ImageRef { tag: Some(tag), ..image };
    out.push(Edit::replace(stage.from.image_span.clone(), new.to_reference()));
}

/// The Go a floating golang tag is pinned to, where `go.mod` says the least Go that builds the
/// module (its `toolchain` line, else its `go` line from Go 1.21 on; before, that line was often
/// years old): the newest Go harden knows of, or go.mod's where that is newer. A floating tag
/// gives the newest Go, so a pin to go.mod's older one would move the build back, maybe past
/// support.
pub fn builder_pin(facts: &Facts<'_>) -> Option<String> {
    let module = facts.source.go_mod.as_ref()?;
    let wanted = module.toolchain.as_deref().or(module.go_version.as_deref()).and_then(GoVersion::parse)?;
    (wanted >= GoVersion::REAL_MINIMUM).then(|| wanted.max(GoVersion::NEWEST).to_string())
}

/// What a stage builds besides the repository's module (`go install example.com/tool@latest`,
/// a `git clone`, a build in a directory copied from one the context has no Go package in, as
/// when a workflow checks out other repositories beside it): their `go` lines, not the
/// repository's, say which Go they need, so the builder is not pinned to the repository's.
pub fn other_modules_built(facts: &Facts<'_>, stage: &Stage) -> Option<String> {
    let builds = || facts.builds().filter(|(r, _)| r.stage == stage.index);
    let remote =
        builds().find_map(|(_, c)| c.packages.iter().find(|p| p.contains('@')).map(|p| format!("go install {p}")));
    let elsewhere = || {
        builds().find_map(|(_, c)| {
            let dir = c.cd.as_deref()?.trim_end_matches('/');
            let source = copied_into(stage, dir)?;
            let known = facts.source.packages.keys().any(|p| p == source || p.starts_with(&format!("{source}/")));
            (facts.source.available && !known).then(|| {
                format!("the code in {dir} (copied from {source}/, which holds no Go package harden could read)")
            })
        })
    };
    // A clone of this module's own repository builds the code go.mod here describes.
    let own = facts
        .source
        .go_mod
        .as_ref()
        .is_some_and(|m| super::super::facts::commands::clones_only_module(std::iter::once(stage), &m.module));
    let clone = || (super::super::facts::commands::stage_clones(stage) && !own).then(|| "a git clone".to_string());
    remote.or_else(elsewhere).or_else(clone)
}

/// The context directory a stage copies into `dir` (`COPY ./natscli/ /src/natscli/`), as a path
/// relative to the context (`natscli`); `None` for the context's root or a copy from a stage.
fn copied_into<'a>(stage: &'a Stage, dir: &str) -> Option<&'a str> {
    stage.instructions.iter().rev().find_map(|inst| match &inst.body {
        Body::Copy(copy)
            if copy.from.is_none() && copy.sources.len() == 1 && copy.dest.trim_end_matches('/') == dir =>
        {
            let source = copy.sources[0].trim_start_matches("./").trim_end_matches('/');
            (!source.is_empty() && source != "." && !source.contains(['*', '$'])).then_some(source)
        }
        _ => None,
    })
}

/// `ADD` of local files becomes `COPY`.
pub fn add_to_copy(facts: &Facts<'_>, out: &mut Vec<Edit>) {
    if facts.is_off(rules::ADD_FOR_COPY.id) {
        return;
    }
    for stage in &facts.df.stages {
        for inst in &stage.instructions {
            if let Body::Copy(copy) = &inst.body
                && copy.is_add
                && copy.sources.iter().all(|s| add_is_plain_copy(s))
            {
                out.push(Edit::replace(inst.keyword_span.clone(), copy_keyword(&inst.keyword)));
            }
        }
    }
}

/// Moves distroless bases past end of life (`*-debian12`, `*-debian11`; other than a runtime
/// being replaced) to debian13, also where a stage's base is a global `ARG`'s default (`ARG
/// BASE=…debian12:nonroot`, `FROM ${BASE}`): the default moves, once, and a build that passes its
/// own value keeps it.
pub fn distroless_eol(facts: &Facts<'_>, plan: &Plan, out: &mut Vec<Edit>) {
    let mut moved_args = Vec::new();
    for stage in &facts.df.stages {
        let is_converted_runtime =
            stage.index == facts.runtime && matches!(plan.runtime, RuntimePlan::Convert { image: Some(_) });
        if is_converted_runtime {
            continue;
        }
        if leaves_eol_base(facts, stage) {
            out.push(Edit::replace(stage.from.image_span.clone(), debian13(&stage.from.image)));
            continue;
        }
        let written = stage.from.image.trim_start_matches('$');
        let name = written.strip_prefix('{').and_then(|n| n.strip_suffix('}')).unwrap_or(written);
        let Some(arg) = facts.df.global_args.iter().find(|a| a.name == name && !moved_args.contains(&a.name)) else {
            continue;
        };
        let Some(default) = arg.default.as_deref().filter(|d| moves_to_debian13(facts, d)) else { continue };
        if facts.text[arg.span.clone()] == format!("{name}={default}") {
            out.push(Edit::replace(arg.span.clone(), format!("{name}={}", debian13(default))));
            moved_args.push(arg.name.clone());
        }
    }
}

/// `image` on debian13, unpinned (`fix --pin` pins it again).
fn debian13(image: &str) -> String {
    ImageRef::parse(image).on_debian13().to_reference()
}

/// True when the stage's distroless base past end of life (`*-debian12`) moves to debian13 (as
/// written in the file; a pinned one only under `fix --pin`, which pins the new one; never one
/// whose tag a build argument's default pins, `static-debian12:${TAG}` with `ARG
/// TAG=debug@sha256:…`, a digest of the debian12 image that the new name would not have).
pub fn leaves_eol_base(facts: &Facts<'_>, stage: &Stage) -> bool {
    let resolved = facts.df.resolve_image(&stage.from.image).map(|image| ImageRef::parse(&image));
    moves_to_debian13(facts, &stage.from.image) && resolved.is_none_or(|image| image.digest.is_none())
}

/// True when `image` is a distroless image past end of life harden moves on: not pinned (or pinned,
/// under `fix --pin`), in a file that copies no Debian-built programs onto it.
fn moves_to_debian13(facts: &Facts<'_>, image: &str) -> bool {
    let image = ImageRef::parse(image);
    let pinned = image.digest.is_some() && !facts.config.pinning;
    !pinned
        && !facts.is_off(rules::DISTROLESS_EOL.id)
        && debian_programs(facts).is_none()
        && image.distroless_past_eol()
}

/// `COPY` in the case style of the `ADD` it replaces (`ADD`, `add`, `Add`).
fn copy_keyword(add: &str) -> &'static str {
    if add.chars().all(|c| c.is_ascii_lowercase()) {
        "copy"
    } else if add.starts_with('A') && add[1..].chars().all(|c| c.is_ascii_lowercase()) {
        "Copy"
    } else {
        "COPY"
    }
}

/// Where a Debian system keeps programs and the libraries they link.
const PROGRAM_DIRS: &[&str] =
    &["/bin", "/sbin", "/lib", "/lib64", "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/local/bin"];

/// Why the file's distroless bases past end of life stay: a stage on one copies files from a stage on
/// Debian or Ubuntu that builds no Go (`COPY --from=tools /out/rootfs/ /`, smartctl and the
/// libraries `ldd` found), programs linked against that release's libraries, which debian13's
/// would not match.
pub fn debian_programs(facts: &Facts<'_>) -> Option<String> {
    let builders = facts.builder_stages();
    // Stages on it, also through a stage that names it (`FROM distroless-base AS distroless-arm64`)
    // or one a variable chooses (`FROM distroless-${TARGETARCH}`, whose base is not resolved).
    let past_eol = facts.df.stages.iter().filter(|s| facts.base_image(s).is_none_or(ImageRef::distroless_past_eol));
    past_eol.flat_map(|s| &s.instructions).find_map(|inst| {
        let Body::Copy(copy) = &inst.body else { return None };
        let from = facts.df.stage_named(copy.from.as_deref()?)?;
        let base = facts.base_image(from)?;
        // Debian and Ubuntu, and a project's build of Debian (`gke.gcr.io/debian-base:bookworm-v1.0.4`).
        let debian = matches!(base.family(), Family::Debian | Family::Ubuntu)
            || (base.family() == Family::Other && base.short_name().starts_with("debian"));
        // Programs and libraries, or a whole tree over `/`; certificates and data do not count.
        let system = |path: &String| {
            path == "/" || PROGRAM_DIRS.iter().any(|dir| path == dir || path.starts_with(&format!("{dir}/")))
        };
        let programs = system(&copy.dest) || copy.sources.iter().any(system);
        (debian && programs && !builders.contains(&from.index)).then(|| {
            format!(
                "line {} copies files from stage {} on {}, programs linked against its libraries, which debian13's would not match",
                inst.line,
                from.reference(),
                base.to_reference()
            )
        })
    })
}
