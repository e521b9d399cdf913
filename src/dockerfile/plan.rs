//! The plan: what harden will do to one Go Dockerfile, and what it refuses to do and why.
//!
//! This is the one place that decides between splitting a single stage, converting a
//! runtime stage to distroless, keeping the runtime as it is (with a reason), or leaving
//! the file alone. The rules report from the plan and the rewriter carries it out.

use crate::finding::Finding;
use crate::rules::{self, Rule};

use super::facts::Facts;
use super::image::{Family, ImageRef};
use super::refusals;

mod off_root;
mod pins;
mod split;
mod unknown_output;

use off_root::off_root;
use split::split;
pub use split::starts;

/// The user harden runs programs as: distroless `nonroot`.
pub const NONROOT: &str = "65532:65532";

/// What harden will do to a file.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Edit the `go build` / `go install` commands and builder stages.
    pub edit_builds: bool,
    /// What happens to the runtime stage.
    pub runtime: RuntimePlan,
    /// Why something was left alone (hazard findings).
    pub hazards: Vec<Finding>,
    /// Directories the program writes at run time, to be created owned by 65532 (staged empty in
    /// `from`, the stage that builds the program).
    pub writable: Writable,
    /// Why the program, which runs as root, must keep root: set when moving it to 65532 was
    /// refused (a low port, a root-owned directory it may write, an entrypoint that drops
    /// privileges). A pod running the image must not force another user either.
    pub root_kept: Option<String>,
    /// True when moving a non-root named user to 65532 was refused (its directories cannot be
    /// prepared, another uid owns its files): the USER stays as written, its name too.
    pub user_kept: bool,
}

/// Directories the runtime must give the non-root user.
#[derive(Debug, Clone, Default)]
pub struct Writable {
    /// Absolute paths.
    pub dirs: Vec<String>,
    /// The `uid:gid` they are given: 65532's, or the ids the runtime's own account keeps.
    pub owner: String,
    /// The stage they are staged in (it has a shell: it builds the program).
    pub from: Option<usize>,
}

/// What happens to the runtime stage.
#[derive(Debug, Clone)]
pub enum RuntimePlan {
    /// Split a single stage: append a runtime stage on `image` that copies `copies` from the builder.
    Split {
        /// The runtime image.
        image: String,
        /// Absolute paths to copy from the builder (binaries first, then assets).
        copies: Vec<String>,
        /// True when the source was not available, so assets could not be found.
        blind: bool,
    },
    /// Edit the existing runtime stage in place; `image` replaces its base when set.
    Convert {
        /// The new base image, when it changes.
        image: Option<String>,
    },
    /// Keep the runtime stage as it is.
    Keep,
}

impl Plan {
    /// True when the runtime ends up shell-less (distroless or scratch).
    pub fn runtime_is_shell_less(&self, facts: &Facts<'_>) -> bool {
        match &self.runtime {
            RuntimePlan::Split { .. } => true,
            RuntimePlan::Convert { image: Some(_) } => true,
            _ => facts.base_image(facts.runtime_stage()).is_some_and(|i| i.family().is_shell_less()),
        }
    }

    /// True when the runtime stage is rewritten (split or converted).
    pub fn rewrites_runtime(&self) -> bool {
        !matches!(self.runtime, RuntimePlan::Keep)
    }

    /// The runtime kept as it is, for the reasons in `hazards` (builds still tuned when
    /// `edit_builds`).
    fn kept(edit_builds: bool, hazards: Vec<Finding>) -> Plan {
        let writable = Writable::default();
        Plan { edit_builds, runtime: RuntimePlan::Keep, hazards, writable, root_kept: None, user_kept: false }
    }
}

/// Decides the plan for a Go Dockerfile.
pub fn decide(facts: &Facts<'_>) -> Plan {
    let mut hazards = Vec::new();
    let mut hazard = |rule: &Rule, line: usize, message: String| hazards.push(Finding::new(rule, line, message));
    let df = facts.df;

    if let Some((line, what)) = refusals::onbuild(facts) {
        hazard(&rules::ONBUILD, line, format!("{what}: the file is left alone"));
        return Plan::kept(false, hazards);
    }
    if facts.carries_data_only() {
        // A CLI's binaries for every system, copied out of the image: its builds are still the
        // release's.
        hazard(&rules::DATA_ONLY, facts.runtime_stage().from.line, facts.data_only_reason());
        return Plan::kept(!facts.other_systems_shipped().is_empty(), hazards);
    }
    // A stage built on another stage (`FROM base`) is told by that stage's own finding.
    for stage in df.stages.iter().filter(|s| facts.base_image(s).is_none() && facts.parent_stage(s).is_none()) {
        let image = &stage.from.image;
        let message = match platform_variable(image) {
            Some(var) => format!(
                "FROM {image} depends on the platform the image is built for ({var}, set by BuildKit), so the base image is not known before the build"
            ),
            None => match df.stand_in_arg(image) {
                Some((name, default)) => format!(
                    "FROM {image}: the build argument {name}'s default ({default}) only stands in for what each build passes, so the base image is unknown"
                ),
                // `static-debian13:latest-${GOARCH}`: the image is named, only its tag is not.
                None if variable_tag_only(image) => {
                    format!(
                        "FROM {image} takes its tag from a build argument without a default, which the build passes, so the exact base image is unknown"
                    )
                }
                None => format!("FROM {image} uses a variable without a default, so the base image is unknown"),
            },
        };
        hazard(&rules::UNRESOLVED_BASE, stage.from.line, message);
    }
    for run in facts.go_runs.iter().filter(|r| r.exec_form) {
        let line = df.stages[run.stage].instructions[run.instr].line;
        // Named as written: `RUN ["go", "mod", "download"]` builds nothing.
        let argv = match &df.stages[run.stage].instructions[run.instr].body {
            super::model::Body::Run { exec: Some(argv), .. } => {
                argv.iter().take(2).cloned().collect::<Vec<_>>().join(" ")
            }
            _ => "go build".into(),
        };
        hazard(&rules::EXEC_FORM_BUILD, line, format!("{argv} in an exec-form RUN is not edited"));
    }
    if let Some(binary) = facts.prebuilt_binary() {
        // A Go binary built before `docker build` on busybox keeps the shell its maintainers
        // ship on purpose (the Prometheus exporters' images): only a named user is made numeric.
        let runtime = facts.runtime_stage();
        let busybox = facts.base_image(runtime).filter(|b| b.family() == Family::Busybox);
        // One the image starts itself, as root for want of a USER, is moved off root as on a
        // shell-less base: the shell stays, and nothing the image says asks for root (one an init
        // starts, `tini -g`, may start hooks through that shell). So is one on alpine that adds
        // only certificates and data files, which no user needs root to read.
        let (entrypoint, cmd) = facts.entrypoint_and_cmd(runtime);
        let started = entrypoint.or(cmd).and_then(|c| c.words().first().cloned());
        let own = started.is_some_and(|w| w.rsplit('/').next() == binary.rsplit('/').next());
        if (busybox.is_some() || data_only_alpine(facts)) && own && facts.last_user(runtime).is_none() {
            return off_root(facts, RuntimePlan::Convert { image: None }, false, hazards);
        }
        if let Some(busybox) = busybox {
            let user = match facts.last_user(runtime) {
                None => "it runs as root, with no USER".to_string(),
                Some((_, u)) if super::analyse::is_root(u) => format!("it runs as root (USER {u})"),
                Some((_, u)) => match kept_user_ids(facts) {
                    Some(ids) => format!("its USER {u} is written as {ids}"),
                    None => format!("so is its USER {u}"),
                },
            };
            let why = format!(
                "{binary} is a Go binary built outside the Dockerfile, run on {}, whose shell the image ships on purpose: the runtime is kept, and {user}",
                busybox.to_reference()
            );
            hazard(&rules::RUNTIME_NEEDS_SHELL, runtime.from.line, why);
            return Plan::kept(false, hazards);
        }
        // On a shell-less image: only its user changes.
        if facts.base_image(runtime).is_some_and(|b| b.family().is_shell_less()) {
            return off_root(facts, RuntimePlan::Convert { image: None }, false, hazards);
        }
    }
    // Built by make or a script in a stage of the file and run on a shell-less base as root for
    // want of a USER: the base stays, and only the user changes, as for a binary built before
    // the image (the checks of what the program asks of root are on the module's code).
    if facts.program_built_elsewhere() && made_onto_shell_less(facts) {
        hazards.extend(unknown_output::unchecked_flags(facts));
        return off_root(facts, RuntimePlan::Convert { image: None }, false, hazards);
    }
    // Built by make or a script, or before the image on a distribution's base: harden cannot
    // build that binary to prove it runs on distroless, so the runtime stays, and its user.
    if facts.builds().next().is_none() || facts.program_built_elsewhere() {
        // The maintainer's word on the base comes before harden's own reasons.
        if let Some((rule, line, message)) = super::notes::base_chosen(facts).filter(|_| runtime_base_is_fat(facts)) {
            hazard(rule, line, message);
        }
        hazards.extend(unknown_output::unknown_output(facts));
        let as_root = super::userswitch::runs_as_root(facts);
        // A low port the program binds, or a resource only root may use, is reason enough for
        // its root, whatever builds it.
        let blocker = super::notes::root_needed(facts)
            .or_else(|| super::userswitch::root_check(facts))
            .or_else(|| super::userswitch::privileged_port(facts))
            .or_else(|| super::userswitch::root_resource(facts));
        // (A base the build chooses may set its own user: nothing to keep.)
        let known_base = facts.base_image(facts.runtime_stage()).is_some();
        let why = match blocker.filter(|_| as_root && known_base) {
            Some((rule, line, message)) => {
                hazards.push(Finding::new(rule, line, message.clone()));
                Some(message)
            }
            None => hazards.iter().find(|h| h.rule == rules::UNKNOWN_BUILD_OUTPUT.id).map(|h| h.message.clone()),
        };
        let root_kept = why.filter(|_| as_root);
        return Plan { root_kept, ..Plan::kept(false, hazards) };
    }
    if df.open_at_end {
        let line = facts.text.lines().count();
        hazard(
            &rules::OPEN_AT_END,
            line,
            "the last instruction ends with a backslash; the runtime stage is kept".into(),
        );
        return Plan::kept(true, hazards);
    }
    if let Err((rule, line, message)) = refusals::library_build(facts) {
        hazard(rule, line, message);
        return Plan::kept(true, hazards);
    }
    // A base the file says it chose over distroless stays (a choice harden cannot see the
    // reason for), but only where the rewrite would replace it; the maintainer's word comes
    // before harden's own reasons.
    let chosen = || super::notes::base_chosen(facts).filter(|_| runtime_base_is_fat(facts));
    let runtime = match chosen().map_or_else(|| runtime_image(facts), Err) {
        // A musl build on a musl runtime is a reason to keep it, said at info.
        Err((rule, line, message))
            if rule.id == rules::CGO_MUSL.id
                && facts.base_image(facts.runtime_stage()).is_some_and(|b| b.is_musl()) =>
        {
            hazards.push(Finding { severity: rules::Severity::Info, ..Finding::new(rule, line, message) });
            RuntimePlan::Keep
        }
        Err((rule, line, message)) => {
            hazard(rule, line, message);
            RuntimePlan::Keep
        }
        Ok(image) if facts.is_single_stage() => match split(facts, image) {
            Ok(plan) => plan,
            Err((rule, line, message)) => {
                hazard(rule, line, message);
                RuntimePlan::Keep
            }
        },
        Ok(image) => match convert(facts, image) {
            Ok(plan) => plan,
            // The shell flavour beside the file's own shell-less stage is a choice, said at info.
            Err((rule, line, message)) if rule.id == rules::SECOND_RUNTIME.id => {
                hazards.push(Finding { severity: rules::Severity::Info, ..Finding::new(rule, line, message) });
                RuntimePlan::Keep
            }
            Err((rule, line, message)) => {
                hazard(rule, line, message);
                RuntimePlan::Keep
            }
        },
    };
    // A rule turned off keeps what its fix would change: the single stage (HD102), the base of
    // the runtime stage (HD101), and with it the runtime's user.
    let runtime = match runtime {
        RuntimePlan::Split { .. } if facts.is_off(rules::SINGLE_STAGE.id) => RuntimePlan::Keep,
        RuntimePlan::Convert { image: Some(_) } if facts.is_off(rules::FAT_RUNTIME.id) => RuntimePlan::Keep,
        runtime => runtime,
    };
    // A tool from another module is not the repository's program: its build is left as it is.
    let edit_builds = !hazards.iter().any(|h| h.rule == rules::TOOL_IMAGE.id);
    off_root(facts, runtime, edit_builds, hazards)
}

/// A rule, the line, and why harden leaves that part alone.
pub(super) type Refusal = (&'static Rule, usize, String);

/// The runtime image the program needs, or why none can be chosen.
fn runtime_image(facts: &Facts<'_>) -> Result<String, Refusal> {
    let images = &facts.config.runtime;
    if !facts.cgo.needed || facts.cgo.static_link {
        return Ok(images.static_.clone());
    }
    for &s in &facts.builder_stages() {
        let stage = &facts.df.stages[s];
        // A stage that builds another module (a tool from a clone) does not build the program.
        let others = super::rewrite::other_modules_built(facts, stage).is_some();
        if facts.base_image(stage).is_some_and(|i| i.is_musl()) && !others {
            let why = facts.cgo.reason.as_deref().unwrap_or("cgo");
            // A musl runtime already runs it: the reason to keep it, no fault.
            let runtime = facts.base_image(facts.runtime_stage()).filter(|b| b.is_musl());
            let message = match runtime {
                Some(musl) => format!(
                    "cgo is needed ({why}) and the builder is musl-based ({}), so the binary needs a musl runtime such as its own ({}): distroless has glibc only, so the runtime is kept",
                    stage.from.image,
                    musl.to_reference()
                ),
                None => format!(
                    "cgo is needed ({why}) and the builder is musl-based ({}); a musl binary cannot run on glibc distroless",
                    stage.from.image
                ),
            };
            return Err((&rules::CGO_MUSL, stage.from.line, message));
        }
    }
    Ok(if facts.cgo.cxx { images.cc.clone() } else { images.base.clone() })
}

/// True when the runtime stage runs on a distribution's image (or Go's), which the rewrite
/// would replace.
fn runtime_base_is_fat(facts: &Facts<'_>) -> bool {
    facts.base_image(facts.runtime_stage()).is_some_and(|b| b.family().is_fat())
}

/// True when only the tag of an image reference holds a variable (`static:latest-${GOARCH}`).
fn variable_tag_only(image: &str) -> bool {
    match image.rfind(':').filter(|&i| !image[i..].contains('/')) {
        Some(i) => !image[..i].contains('$') && image[i..].contains('$'),
        None => false,
    }
}

/// The platform variable BuildKit sets that an image reference depends on (`bin-${TARGETOS}`).
fn platform_variable(image: &str) -> Option<&'static str> {
    const PLATFORM_ARGS: [&str; 8] = [
        "TARGETPLATFORM",
        "TARGETOS",
        "TARGETARCH",
        "TARGETVARIANT",
        "BUILDPLATFORM",
        "BUILDOS",
        "BUILDARCH",
        "BUILDVARIANT",
    ];
    PLATFORM_ARGS.into_iter().find(|var| image.contains(&format!("${var}")) || image.contains(&format!("${{{var}}}")))
}

/// The ids a kept runtime's `USER name` is written as (`nobody` → 65534:65534, a name the file
/// creates with fixed ids), when it is a name whose ids are known.
pub(super) fn kept_user_ids(facts: &Facts<'_>) -> Option<String> {
    let stage = facts.runtime_stage();
    let (_, user) = facts.last_user(stage)?;
    // A name from build arguments (`USER ${BIN_NAME}`) is the name their defaults make it, and
    // one created with ids from others (`${UID}:${GID}`) is written as those.
    let built = super::users::user_as_built(facts, stage, user).unwrap_or_else(|| user.to_string());
    if super::analyse::is_numeric_user(&built) || super::analyse::is_root(&built) {
        return None;
    }
    super::users::ids_under(&Plan::kept(false, Vec::new()), facts, user)
        .or_else(|| super::users::runtime_argument_ids(facts, user))
}

/// Plans the conversion of an existing runtime stage.
fn convert(facts: &Facts<'_>, image: String) -> Result<RuntimePlan, Refusal> {
    let stage = facts.runtime_stage();
    let Some(base) = facts.base_image(stage) else {
        return Ok(RuntimePlan::Keep);
    };
    // A parent that only names an image (`FROM ${IMAGE_BASE} AS image-base`) adds no files.
    let shares_base = facts.parent_stage(stage).is_some() && facts.alias_parent(stage).is_none();
    let shared = || {
        Err((
            &rules::RUNTIME_NEEDS_SHELL,
            stage.from.line,
            format!(
                "the runtime stage is built on stage {}, whose files and base it shares (one image built on another, such as a debug, test or fuller flavour): changing that base would change both, so it is kept",
                stage.from.image
            ),
        ))
    };
    if shares_base && base.family().is_fat() {
        return shared();
    }
    refusals::check_runtime_commands(facts)?;
    if base.family().is_fat() {
        refusals::shell_flavour(facts)?;
        refusals::outside_image_argument(facts)?;
        refusals::registry_from_argument(facts)?;
        refusals::orchestrated_command(facts)?;
        refusals::orchestrated_needs(facts)?;
        refusals::orchestrated_checks(facts)?;
        refusals::source_starts(facts, base)?;
    }
    refusals::runtime_steps(facts, base)?;
    let new_image = match base.family() {
        family if family.is_fat() => Some(image),
        Family::Distroless => {
            let wanted = ImageRef::parse(&image);
            // A base past end of life pinned by digest stays where it is (HD118 says how to move
            // it): its user still changes.
            let eol = base.distroless_past_eol()
                && super::rewrite::debian_programs(facts).is_none()
                && facts.base_given_by_build(stage).is_none()
                && (base.digest.is_none() || facts.config.pinning);
            let needs_libc = facts.cgo.needed && !facts.cgo.static_link && !base.has_libc();
            (eol || needs_libc).then(|| pins::distroless_successor(base, &wanted, needs_libc))
        }
        Family::Scratch if facts.cgo.needed && !facts.cgo.static_link => Some(image),
        _ => None,
    };
    // A shell-less base shared with another stage keeps it; only this stage's user may change.
    if shares_base && new_image.is_some() {
        return shared();
    }
    let new_image = new_image.map(|image| pins::keeping_pins(facts, base, image, stage)).transpose()?;
    Ok(RuntimePlan::Convert { image: new_image })
}

/// True when a step of a Go stage (`make build`) builds the program that a runtime built straight
/// on a shell-less base (scratch, distroless but `:debug`) copies in and runs as root for want of
/// a USER.
fn made_onto_shell_less(facts: &Facts<'_>) -> bool {
    let runtime = facts.runtime_stage();
    let shell_less = facts.base_image(runtime).is_some_and(|b| b.has_no_shell());
    let (entrypoint, cmd) = facts.entrypoint_and_cmd(runtime);
    shell_less
        && facts.parent_stage(runtime).is_none()
        && facts.last_user(runtime).is_none()
        && super::userswitch::runs_as_root(facts)
        && entrypoint.or(cmd).is_some()
        && facts.toolchain_stage().is_some()
        && facts.build_command().is_some()
}

/// True when the runtime is built straight on alpine and its `RUN`s only add certificates and
/// data files with apk (`apk add --no-cache ca-certificates tzdata`): nothing a program would
/// run as root.
fn data_only_alpine(facts: &Facts<'_>) -> bool {
    let runtime = facts.runtime_stage();
    let alpine = facts.parent_stage(runtime).is_none()
        && facts.base_image(runtime).is_some_and(|b| b.family() == Family::Alpine);
    let data = |p: &String| {
        super::runtime::PROVIDED_PACKAGES.contains(&p.as_str()) || super::runtime::DATA_PACKAGES.contains(&p.as_str())
    };
    let only_data = runtime.instructions.iter().filter(|i| matches!(i.body, super::model::Body::Run { .. })).all(|i| {
        i.body.run_commands().iter().all(|c| c.argv().first().is_some_and(|w| w.value == "apk"))
            && super::facts::installed_packages(i).iter().all(data)
    });
    alpine && only_data
}
