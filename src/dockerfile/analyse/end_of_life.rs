//! Distribution releases past end of life that a kept runtime still runs on (HD153): their
//! packages get no more security fixes. The table is what was past end of life when this
//! release of harden was made (December 2026); distroless's own is HD118.

use crate::finding::Finding;
use crate::rules;

use super::super::facts::Facts;
use super::super::image::{Family, ImageRef};
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
/// taken as past too).
pub(super) fn findings(facts: &Facts<'_>, plan: &Plan, out: &mut Vec<Finding>) {
    let stage = facts.runtime_stage();
    let Some(image) = facts.base_image(stage).filter(|_| matches!(plan.runtime, RuntimePlan::Keep)) else { return };
    let Some(release) = release(image) else { return };
    let family = image.family();
    let known = PAST_END_OF_LIFE.iter().find(|(f, names, _)| *f == family && names.contains(&release.as_str()));
    let since = match known {
        Some((_, _, since)) => since.to_string(),
        None if family == Family::Alpine && older_alpine(&release) => "2021 or before".to_string(),
        None => return,
    };
    out.push(Finding::new(
        &rules::BASE_END_OF_LIFE,
        stage.from.line,
        format!(
            "{} is past end of life (since {since}): its packages get no more security fixes; move the runtime to a supported release",
            image.to_reference()
        ),
    ));
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
