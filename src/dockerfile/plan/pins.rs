//! The new runtime image keeps what the old one was pinned to: its architecture (`arm64v8/…`,
//! `FROM --platform`, the platforms the repository builds for) and its digest, or the runtime is
//! kept with the reason.

use crate::rules;

use super::super::facts::Facts;
use super::super::image::ImageRef;
use super::super::model::Stage;
use super::Refusal;

/// The runtime image for a stage that now runs on `base`: the same architecture when `base`
/// is pinned to one (`arm64v8/alpine` → distroless's `nonroot-arm64` tag); refused when distroless
/// has no image for it, for the stage's `FROM --platform` or for a platform the repository builds
/// the image for (`linux/386`), or when `base` is pinned by digest and the rewrite will not be
/// pinned.
pub(super) fn keeping_pins(
    facts: &Facts<'_>,
    base: &ImageRef,
    image: String,
    stage: &Stage,
) -> Result<String, Refusal> {
    let line = stage.from.line;
    if base.digest.is_some() && !facts.config.pinning {
        return Err((
            &rules::PINNED_IMAGE_KEPT,
            line,
            format!(
                "{} is pinned by digest and {image} would not be; the runtime is kept (harden fix --pin replaces it with a pinned image)",
                base.to_reference()
            ),
        ));
    }
    let from_platform = stage.from.platform.as_deref().and_then(|p| facts.df.resolve_image(p));
    if let Some(platform) = from_platform.filter(|p| !p.contains('$') && !ImageRef::distroless_publishes(p)) {
        return Err((
            &rules::RUNTIME_NEEDS_SHELL,
            line,
            format!(
                "the runtime stage is built for {platform} (FROM --platform), for which distroless publishes no image; the runtime is kept"
            ),
        ));
    }
    let platforms = &facts.source.orchestration.platforms;
    if let Some((platform, origin)) = platforms.iter().find(|(p, _)| !ImageRef::distroless_publishes(p)) {
        return Err((
            &rules::RUNTIME_NEEDS_SHELL,
            line,
            format!(
                "{origin} builds the image for {platform}, for which distroless publishes no image; the runtime is kept"
            ),
        ));
    }
    match base.pinned_arch() {
        Ok(None) => Ok(image),
        Ok(Some(arch)) => Ok(ImageRef::parse(&image).for_arch(arch).to_reference()),
        Err(namespace) => Err((
            &rules::RUNTIME_NEEDS_SHELL,
            line,
            format!(
                "{} is built for {namespace}, for which distroless publishes no image; the runtime is kept",
                base.to_reference()
            ),
        )),
    }
}

/// The distroless image to move to: debian13, and the libc variant when cgo needs it.
pub(super) fn distroless_successor(base: &ImageRef, wanted: &ImageRef, needs_libc: bool) -> String {
    if needs_libc {
        return wanted.to_reference();
    }
    base.on_debian13().to_reference()
}
