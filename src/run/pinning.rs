//! Pinning the base images of the reports' Dockerfiles by digest (`fix --pin`): the digests a
//! registry gives, and the files whose pinned image a rewrite would leave unpinned kept as they are.

use std::collections::HashMap;

use crate::discover::Kind;
use crate::pin::DigestResolver;

use super::{FileReport, Status};

/// The base images of the Dockerfiles whose repository pins digests, as written.
pub fn pinnable_references(reports: &[FileReport]) -> Vec<String> {
    let mut refs: Vec<String> = reports
        .iter()
        .filter(|r| r.kind == Kind::Dockerfile && r.pin_digests)
        .filter_map(|r| r.rewritten.as_ref().or(r.original.as_ref()))
        .filter_map(|text| crate::dockerfile::pin::references(text).ok())
        .flatten()
        .collect();
    refs.sort();
    refs.dedup();
    refs
}

/// Pins the base images of the Dockerfiles (in repositories with `pin_digests`) by digest;
/// the images that cannot be resolved are named in the file's reason and stay as they are.
pub fn pin(reports: &mut [FileReport], resolver: &dyn DigestResolver) {
    let mut digests: HashMap<String, Result<String, String>> = HashMap::new();
    for report in reports.iter_mut().filter(|r| r.kind == Kind::Dockerfile && r.pin_digests) {
        let Some(text) = report.rewritten.as_ref().or(report.original.as_ref()) else { continue };
        let Ok(references) = crate::dockerfile::pin::references(text) else { continue };
        for reference in &references {
            digests.entry(reference.clone()).or_insert_with(|| resolver.digest(reference));
        }
        let lookup = |image: &str| digests.get(image).and_then(|d| d.as_ref().ok()).cloned();
        let Ok(pinned) = crate::dockerfile::pin::pin(text, &lookup) else { continue };
        let failed: Vec<String> = references
            .iter()
            .filter_map(|r| digests.get(r).and_then(|d| d.as_ref().err()).map(|e| format!("{r} ({})", first_line(e))))
            .collect();
        if !failed.is_empty() {
            let note = format!("not pinned by digest: {}", failed.join(", "));
            report.unpinned = failed;
            report.reason = Some(report.reason.take().map_or(note.clone(), |r| format!("{r}; {note}")));
            // A pinned image the rewrite replaced must not become an unpinned one.
            let original = report.original.as_deref().unwrap_or_default();
            let lost = crate::dockerfile::pin::pinned_references(original).into_iter().find(|r| !pinned.contains(r));
            if let Some(lost) = lost {
                report.rewritten = None;
                report.status = Status::Unchanged;
                report.security = false;
                for f in &mut report.findings {
                    f.fixed = false;
                }
                report.reason = Some(format!(
                    "not rewritten: the rewrite replaces {lost}, which is pinned by digest, and its replacement could not be pinned ({note}); without --pin, harden keeps that image and fixes the rest"
                ));
                continue;
            }
        }
        if pinned != *text {
            // A finding is fixed when its image got a digest, or when the rewrite replaced it and
            // every image the file now names is pinned (an image from a variable never is).
            let got = |image: &str| references.iter().any(|r| r == image && lookup(r).is_some());
            let all_pinned = crate::dockerfile::pin::all_pinned(&pinned);
            for f in report.findings.iter_mut().filter(|f| f.rule == crate::rules::NOT_PINNED.id) {
                let image = f.message.split(' ').next().unwrap_or_default();
                f.fixed |= got(image) || (all_pinned && !text.contains(image));
            }
            report.rewritten = Some(pinned);
            report.status = Status::Changed;
            // A base image pinned by digest changes what the program runs on.
            report.security = true;
        }
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}
