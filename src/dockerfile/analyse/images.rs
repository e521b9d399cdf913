//! What the images a Dockerfile's stages start from are: pinned or not, tagged or floating (and
//! whether harden pins a golang builder to go.mod's Go), past end of life.

use crate::finding::Finding;
use crate::rules;

use super::super::facts::Facts;
use super::super::image::{Family, ImageRef};
use super::super::model::{Body, Stage};
use super::super::plan::{Plan, RuntimePlan};
use super::super::rewrite::{builder_pin, other_modules_built};
use super::add_is_plain_copy;

/// The findings on the images the stages start from: unpinned, untagged or floating (a golang
/// tag that names only a variant), past end of life, and `ADD` of local files. An untagged
/// distroless image has nothing to move to but a digest: told at info.
pub(super) fn findings(facts: &Facts<'_>, plan: &Plan, out: &mut Vec<Finding>) {
    // The runtime stage whose base the rewrite replaces.
    let replaced = match plan.runtime {
        RuntimePlan::Keep => None,
        RuntimePlan::Split { .. } | RuntimePlan::Convert { image: Some(_) } => Some(facts.runtime),
        RuntimePlan::Convert { image: None } => None,
    };
    for stage in &facts.df.stages {
        let line = stage.from.line;
        if facts.parent_stage(stage).is_some() {
            continue;
        }
        let Some(image) = facts.base_image(stage) else {
            continue;
        };
        if image.family() == Family::Scratch {
            continue;
        }
        let reference = as_written(facts, stage, image);
        if image.digest.is_none() {
            out.push(Finding::new(&rules::NOT_PINNED, line, format!("{reference} is not pinned by digest")));
            // A golang tag that names only its variant (`golang:alpine`) floats like `latest`.
            let variant_only = image.family() == Family::Golang
                && image
                    .tag
                    .as_deref()
                    .is_some_and(|t| t != "latest" && t.starts_with(|c: char| c.is_ascii_alphabetic()));
            // A distribution's development branch (`alpine:edge`, `debian:sid`) moves daily.
            let rolling = matches!(image.tag.as_deref(), Some("edge" | "sid" | "unstable" | "rolling"));
            if image.tag.is_none() || image.tag.as_deref() == Some("latest") || variant_only || rolling {
                let mut message = if rolling {
                    format!(
                        "{reference} is the distribution's development branch, which changes its packages from one build to the next; name a release"
                    )
                } else if variant_only {
                    format!("{reference} names no Go version, only a variant")
                } else if image.family() == Family::Distroless {
                    // Distroless tags name a variant (`nonroot`, `debug`), never a version.
                    let floats =
                        if image.tag.is_none() { "has no tag, so it follows `latest`" } else { "follows `latest`" };
                    format!(
                        "{reference} {floats}: distroless publishes no version tags; pin a digest (harden fix --pin)"
                    )
                } else if image.publishes_no_versions() {
                    let floats =
                        if image.tag.is_none() { "has no tag, so it follows `latest`" } else { "follows `latest`" };
                    // One image per architecture (`busybox-${OS}-${ARCH}`): no one digest pins them all.
                    let written = stage.from.image.split(':').next().unwrap_or_default();
                    let pin = match written.contains('$') {
                        true => {
                            "its name takes build arguments (an image per architecture), so each build's own digest would have to be pinned where the build names it"
                        }
                        false => "pin a digest (harden fix --pin)",
                    };
                    format!("{reference} {floats}: {} publishes no version tags; {pin}", image.name)
                } else if image.family().is_fat() && image.family() != Family::Golang && replaced != Some(stage.index) {
                    format!(
                        "{reference} has no version tag, so each build may start from another release; name the one you build and test on (harden does not pick it: a new release changes the packages the image installs)"
                    )
                } else {
                    format!("{reference} has no version tag")
                };
                let stale = facts.source.go_mod.as_ref().and_then(|m| m.go_version.as_deref());
                // A tag harden leaves floating on purpose (pinning would break the build) is told
                // at info, with what would let it be pinned.
                let mut floating_on_purpose = false;
                let others = (image.family() == Family::Golang).then(|| other_modules_built(facts, stage)).flatten();
                let pinnable = image.family() == Family::Golang && builder_pin(facts).is_some();
                // A golang image used for its tools (a generator run with make's binary): no Go
                // command runs on it or on a stage built on it, so go.mod does not name its tag.
                let runs_go = || {
                    facts.df.stages.iter().any(|s| {
                        (s.index == stage.index || facts.ancestors(s).any(|a| a.index == stage.index))
                            && (facts.go_runs.iter().any(|r| r.stage == s.index)
                                || crate::dockerfile::facts::commands::stage_runs_builds(s))
                    })
                };
                if image.family() == Family::Golang && !runs_go() {
                    message.push_str(
                        "; no Go command runs on it here (the image is used for its tools), so each build may start from another release: name the one you test on",
                    );
                } else if let Some(other) = others {
                    message.push_str(&format!(
                        "; harden does not pin it to go.mod's Go: the stage also builds {other}, whose own go line may ask for a newer one"
                    ));
                } else if pinnable && facts.source.orchestration.image_updater.is_none() {
                    // The stage may let Go fetch the toolchain go.mod asks for itself.
                    let toolchain = facts.env_at(stage, stage.instructions.len(), "GOTOOLCHAIN");
                    let then = match toolchain.as_deref() {
                        Some(t) if t != "local" => {
                            format!("and GOTOOLCHAIN={t} here would then download go.mod's Go in every build")
                        }
                        _ => "and break the build (golang images set GOTOOLCHAIN=local)".to_string(),
                    };
                    let version = builder_pin(facts).unwrap_or_default();
                    message.push_str(&format!(
                        "; harden leaves it floating: nothing here updates the Dockerfiles' images (no Renovate configuration, no Dependabot docker entry), so a pinned Go would fall behind go.mod's go line {then}; to pin it, add such an updater first, then name Go {version} in the tag"
                    ));
                    floating_on_purpose = true;
                } else if let Some(go) =
                    stale.filter(|_| image.family() == Family::Golang && builder_pin(facts).is_none())
                {
                    message.push_str(&format!(
                        "; go.mod's `go {go}` line predates Go 1.21, so it does not say which Go builds the module: pin a current golang tag"
                    ));
                }
                // Nothing to move to but a digest (HD110's pin): said at info.
                let finding = Finding::new(&rules::LATEST_TAG, line, message);
                out.push(
                    match image.publishes_no_versions() || image.family() == Family::Distroless || floating_on_purpose {
                        true => Finding { severity: crate::rules::Severity::Info, ..finding },
                        false => finding,
                    },
                );
            }
        }
        if image.distroless_past_eol() {
            let mut message = format!("{reference} is past end of life");
            if let Some(why) = crate::dockerfile::rewrite::debian_programs(facts) {
                message.push_str(&format!("; harden keeps it: {why} (move them to debian13 together)"));
            } else if let Some((name, origin)) = facts.base_given_by_build(stage) {
                message.push_str(&format!(
                    "; harden keeps it: the build argument {name} names it, given by {origin}: move it to debian13 there"
                ));
            } else if image.digest.is_some() && tag_pinned_by_argument(&stage.from.image) {
                message.push_str("; harden keeps it: a build argument's default pins a digest of it, so move the name and that digest to debian13 together");
            } else if image.digest.is_some() && !facts.config.pinning {
                message.push_str("; it is pinned by digest, so only harden fix --pin moves it to debian13");
            }
            out.push(Finding::new(&rules::DISTROLESS_EOL, line, message));
        }
        for inst in &stage.instructions {
            if let Body::Copy(copy) = &inst.body
                && copy.is_add
                && copy.sources.iter().all(|s| add_is_plain_copy(s))
            {
                out.push(Finding::new(&rules::ADD_FOR_COPY, inst.line, "ADD copies local files; COPY says so"));
            }
            if let Body::Copy(copy) = &inst.body
                && copy.is_add
                && copy.checksum.is_none()
                && let Some(url) = copy.sources.iter().find(|s| is_http_download(s))
            {
                out.push(Finding::new(
                    &rules::REMOTE_ADD_UNCHECKED,
                    inst.line,
                    format!("ADD {url} is not checked against a digest: add --checksum=sha256:<digest> from the file's publisher"),
                ));
            }
        }
    }
    system_base(facts, plan, out);
}

/// A runtime on an operating system's base harden keeps (Red Hat's UBI, CentOS, Amazon Linux):
/// said at info, with what carries less where nothing asks for that base, or the findings that
/// say what else keeps it.
fn system_base(facts: &Facts<'_>, plan: &Plan, out: &mut Vec<Finding>) {
    if facts.carries_data_only() || facts.is_single_stage() {
        return;
    }
    let stage = facts.runtime_stage();
    let Some(base) = facts.base_image(stage).filter(|b| b.is_system_base() && !b.short_name().contains("micro")) else {
        return;
    };
    let smallest = match base.short_name().starts_with("ubi") {
        true => " (Red Hat's own smallest is ubi-micro)",
        false => "",
    };
    let besides = match super::kept_user::image_reasons(plan) {
        reasons if reasons.is_empty() => format!(": where nothing does, a distroless runtime carries less{smallest}"),
        reasons => format!(", and the program may need it besides ({reasons})"),
    };
    let message = format!(
        "the runtime stage runs on {}, a full OS image with a shell and package manager; harden moves only Debian, Ubuntu, Alpine, busybox and golang runtimes to distroless and keeps another system's base, which a platform or a certification often asks for{besides}",
        as_written(facts, stage, base)
    );
    out.push(Finding {
        severity: rules::Severity::Info,
        ..Finding::new(&rules::FAT_RUNTIME, stage.from.line, message)
    });
}

/// True for a source `ADD` downloads over HTTP(S) as a file; a git repository (`….git`,
/// `…#ref`) is fetched by commit instead.
fn is_http_download(source: &str) -> bool {
    let lower = source.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && !lower.contains(".git#")
        && !lower.trim_end_matches('/').ends_with(".git")
}

/// The build argument value that puts the runtime on a shell-less stage of the file instead
/// (`FROM $BASE_IMAGE` with `ARG BASE_IMAGE=alpine`, beside `FROM gcr.io/distroless/static AS
/// distroless`): `BASE_IMAGE=distroless`.
pub(super) fn shell_less_choice(facts: &Facts<'_>) -> Option<String> {
    let name = super::super::variables::only_variable(&facts.runtime_stage().from.image)?;
    let arg = facts.df.global_args.iter().find(|a| a.name == name)?;
    let chosen = arg.default.as_deref().filter(|d| facts.df.stage_named(d).is_some())?;
    let choice = facts.df.stages.iter().find(|s| {
        s.instructions.is_empty()
            && s.from.alias.as_deref().is_some_and(|a| a != chosen)
            && facts.base_image(s).is_some_and(|b| b.family().is_shell_less())
    })?;
    Some(format!("{name}={}", choice.from.alias.as_deref()?))
}

/// True for an image written with a literal name and a tag from a build argument
/// (`static-debian12:${TAG}`), which can only have its digest from that argument's default.
fn tag_pinned_by_argument(written: &str) -> bool {
    let (name, tag) = written.split_once(':').unwrap_or((written, ""));
    !name.contains('$') && tag.contains('$') && !tag.contains('@')
}

/// `image`, the base of `stage`, named as the file writes it: where build arguments name it, as
/// their defaults make it and as written (`alpine:3.19 (alpine:${ALPINE_VERSION} with its build
/// arguments' defaults)`), or as the builds give them (`… with the build arguments Makefile gives`).
pub(super) fn as_written(facts: &Facts<'_>, stage: &Stage, image: &ImageRef) -> String {
    let (written, reference) = (&stage.from.image, image.to_reference());
    match facts.base_given_by_build(stage) {
        _ if !written.contains('$') => reference,
        Some((_, origin)) => format!("{reference} ({written} with the build arguments {origin} gives)"),
        None => format!("{reference} ({written} with its build arguments' defaults)"),
    }
}
