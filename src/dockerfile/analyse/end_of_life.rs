//! Distribution releases past end of life that a kept runtime still runs on (HD153): their
//! packages get no more security fixes. The table is what was past end of life when this
//! release of harden was made (December 2026); distroless's own is HD118.

use crate::finding::Finding;
use crate::rules;

use super::super::facts::Facts;
use super::super::image::{Family, ImageRef};
use super::super::model::{Body, Stage};
use super::super::plan::{Plan, RuntimePlan};

/// Releases past end of life: the family, the tag's release (its first word, up to `-`), and
/// since when, as said to the reader.
const PAST_END_OF_LIFE: &[(Family, &[&str], &str)] = &[
    (Family::Alpine, &["3.21"], "November 2026"),
    (Family::Alpine, &["3.20"], "April 2026"),
    (Family::Alpine, &["3.19"], "November 2025"),
    (Family::Alpine, &["3.18"], "May 2025"),
    (Family::Alpine, &["3.17"], "November 2024"),
    (Family::Alpine, &["3.16"], "May 2024"),
    (Family::Alpine, &["3.15"], "November 2023"),
    (Family::Alpine, &["3.14"], "May 2023"),
    (Family::Alpine, &["3.13"], "November 2022"),
    (Family::Alpine, &["3.12"], "May 2022"),
    (Family::Alpine, &["3.11"], "November 2021"),
    (Family::Alpine, &["3.10"], "May 2021"),
    (Family::Debian, &["11", "bullseye"], "August 2026, with its long-term support"),
    (Family::Debian, &["10", "buster"], "June 2024, with its long-term support"),
    (Family::Debian, &["9", "stretch"], "June 2022, with its long-term support"),
    (Family::Ubuntu, &["20.04", "focal"], "May 2025"),
    (Family::Ubuntu, &["18.04", "bionic"], "May 2023"),
];

/// The release of an image's tag harden compares (`3.20` of `3.20.3`, `bullseye` of
/// `bullseye-slim`, `11` of `11.9-slim`).
fn release(image: &ImageRef) -> Option<String> {
    let tag = image.tag.as_deref()?.split('-').next()?;
    Some(match image.family() {
        Family::Alpine => tag.split('.').take(2).collect::<Vec<_>>().join("."),
        Family::Debian => tag.split('.').next()?.to_string(),
        _ => tag.to_string(),
    })
}

/// HD153 on the runtime stage's base when harden keeps that base and its release is past end of
/// life (older alpine branches, whose last one ages out a few years after its release, are
/// taken as past too), and on a stage the runtime copies CA certificates or time zones from,
/// whose data gets no more updates either.
pub(super) fn findings(facts: &Facts<'_>, plan: &Plan, out: &mut Vec<Finding>) {
    let runtime = facts.runtime_stage();
    if matches!(plan.runtime, RuntimePlan::Keep)
        && let Some((image, since)) = facts.base_image(runtime).and_then(|i| past_end_of_life(i).map(|s| (i, s)))
    {
        let fix = move_to_supported(facts, runtime, "the runtime", |tag| tag);
        // A package pinned to this release's build of it (`ipmitool=1.8.19-r1`) moves with it.
        let pinned: Vec<String> = runtime.instructions.iter().flat_map(super::super::facts::pinned_packages).collect();
        let pins = match pinned.as_slice() {
            [] => String::new(),
            _ => format!(", and with it the versions the stage pins ({}), which are this release's", pinned.join(", ")),
        };
        let message = format!(
            "{} is past end of life (since {since}): its packages get no more security fixes; {fix}{pins}",
            super::images::as_written(facts, runtime, image)
        );
        out.push(Finding::new(&rules::BASE_END_OF_LIFE, runtime.from.line, message));
    }
    for (stage, data) in copied_data(facts) {
        let Some((image, since)) = facts.base_image(stage).and_then(|i| past_end_of_life(i).map(|s| (i, s))) else {
            continue;
        };
        let fix = move_to_supported(facts, stage, "the stage", |tag| tag);
        let message = format!(
            "{} is past end of life (since {since}): the {data} the runtime copies from stage {} get no more updates; {fix}",
            super::images::as_written(facts, stage, image),
            stage.reference()
        );
        out.push(Finding::new(&rules::BASE_END_OF_LIFE, stage.from.line, message));
    }
}

/// Since when `image`'s release is past end of life, as said to the reader.
fn past_end_of_life(image: &ImageRef) -> Option<String> {
    let release = release(image)?;
    let family = image.family();
    match PAST_END_OF_LIFE.iter().find(|(f, names, _)| *f == family && names.contains(&release.as_str())) {
        Some((_, _, since)) => Some(since.to_string()),
        None if family == Family::Alpine && older_alpine(&release) => Some("2021 or before".into()),
        None => None,
    }
}

/// The advice for a stage on a release past end of life or support: where a build argument's
/// default names the release, that default is what to raise (a build passing a newer one is not
/// affected), and where the build passes it (a Makefile's `--build-arg`), there. `release` takes
/// the release's part of the tag (`1.22` of `1.22-alpine${ALPINE}`).
pub(super) fn move_to_supported(facts: &Facts<'_>, stage: &Stage, what: &str, release: fn(&str) -> &str) -> String {
    // The variables that give the release: those of the tag (`alpine:${ALPINE_VERSION}`), or
    // one that is the whole image (`${RUNTIME}`), not a registry prefix (`${MIRROR}alpine:3.19`).
    let image = &stage.from.image;
    let last = image.rsplit('/').next().unwrap_or(image);
    let release_part = match last.split_once(':') {
        Some((_, tag)) => release(tag),
        None if crate::dockerfile::variables::only_variable(image).is_some() => image,
        None => "",
    };
    // Arguments the build passes (`--build-arg GO_VERSION=$(GO_VERSION)` in a Makefile) are
    // raised where it passes them.
    let passed = &facts.source.orchestration.build_args;
    let given = |name: &&str| {
        passed.iter().find(|a| a.name == *name).map(|a| format!("{name} ({}, given by {})", a.value, a.origin))
    };
    let names = crate::dockerfile::variables::names(release_part);
    let given: Vec<String> = names.iter().filter_map(given).collect();
    match names.as_slice() {
        [] => format!("move {what} to a supported release"),
        _ if given.len() == names.len() => format!("raise {} to a supported release", given.join(" and ")),
        names => format!(
            "raise the default of {} to a supported release (a build that passes a supported one is not affected)",
            names.join(" and ")
        ),
    }
}

/// The stages other than the runtime that the runtime copies CA certificates or time zones
/// from, each once, with what it copies.
fn copied_data<'a>(facts: &Facts<'a>) -> Vec<(&'a Stage, &'static str)> {
    let runtime = facts.runtime_stage();
    let mut out: Vec<(&Stage, &str)> = Vec::new();
    for inst in &runtime.instructions {
        let Body::Copy(copy) = &inst.body else { continue };
        let Some(stage) = copy.from.as_deref().and_then(|f| facts.df.stage_named(f)) else { continue };
        let certificates = copy.sources.iter().any(|s| super::certificates::names_certificates(s));
        let zones = copy.sources.iter().any(|s| s.contains("zoneinfo"));
        let data = match (certificates, zones) {
            (true, true) => "CA certificates and time zones",
            (true, false) => "CA certificates",
            (false, true) => "time zones",
            (false, false) => continue,
        };
        match out.iter_mut().find(|(s, _)| s.index == stage.index) {
            Some(seen) if seen.1 != data => seen.1 = "CA certificates and time zones",
            Some(_) => {}
            None => out.push((stage, data)),
        }
    }
    out
}

/// True for an alpine branch older than the table's (`3.9`).
fn older_alpine(release: &str) -> bool {
    let mut parts = release.split('.').map(|p| p.parse::<u32>().ok());
    matches!((parts.next(), parts.next()), (Some(Some(3)), Some(Some(minor))) if minor < 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_are_read_from_the_tag() {
        let release_of = |r: &str| release(&ImageRef::parse(r));
        assert_eq!(release_of("alpine:3.20.3").as_deref(), Some("3.20"));
        assert_eq!(release_of("debian:bullseye-slim").as_deref(), Some("bullseye"));
        assert_eq!(release_of("debian:11.9-slim").as_deref(), Some("11"));
        assert_eq!(release_of("ubuntu:20.04").as_deref(), Some("20.04"));
        assert!(older_alpine("3.9") && !older_alpine("3.12") && !older_alpine("3.22"));
    }
}
