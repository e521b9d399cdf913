//! Digest pinning, the Dockerfile side: `FROM image:tag` becomes `FROM image:tag@sha256:…`.
//! Pure: the digests come in as a lookup; a stage reference, `scratch`, a variable or an image
//! that is already pinned is left as it is.

use crate::edit::{self, Edit};

use super::image::{Family, ImageRef};
use super::model::{Dockerfile, ParseError};

/// The base images of `text` that can be pinned, as written.
pub fn references(text: &str) -> Result<Vec<String>, ParseError> {
    let df = Dockerfile::parse(text.strip_prefix('\u{feff}').unwrap_or(text))?;
    let mut out: Vec<String> =
        df.stages.iter().filter(|s| pinnable(&df, s.index, &s.from.image)).map(|s| s.from.image.clone()).collect();
    out.dedup();
    Ok(out)
}

/// The base images `text` already pins by digest, as written.
pub fn pinned_references(text: &str) -> Vec<String> {
    let Ok(df) = Dockerfile::parse(text.strip_prefix('\u{feff}').unwrap_or(text)) else { return Vec::new() };
    df.stages.iter().map(|s| s.from.image.clone()).filter(|i| ImageRef::parse(i).digest.is_some()).collect()
}

/// `text` with every pinnable base image that `digest` knows pinned.
pub fn pin(text: &str, digest: &dyn Fn(&str) -> Option<String>) -> Result<String, ParseError> {
    let (bom, body) = match text.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", text),
    };
    let df = Dockerfile::parse(body)?;
    let edits: Vec<Edit> = df
        .stages
        .iter()
        .filter(|s| pinnable(&df, s.index, &s.from.image))
        .filter_map(|s| {
            Some(Edit::replace(s.from.image_span.clone(), format!("{}@{}", s.from.image, digest(&s.from.image)?)))
        })
        .collect();
    let pinned = edit::apply(body, &edits).map_err(|e| ParseError { line: 1, column: 1, message: e.to_string() })?;
    Ok(format!("{bom}{pinned}"))
}

/// True when every base image of `text` that is not a stage or `scratch` is pinned by digest
/// (one from a variable counts as unpinned unless the digest is written).
pub fn all_pinned(text: &str) -> bool {
    let Ok(df) = Dockerfile::parse(text.strip_prefix('\u{feff}').unwrap_or(text)) else { return false };
    df.stages.iter().all(|s| {
        let is_stage = df.stage_named(&s.from.image).is_some_and(|p| p.index < s.index);
        let parsed = ImageRef::parse(&s.from.image);
        is_stage || parsed.family() == Family::Scratch || parsed.digest.is_some()
    })
}

fn pinnable(df: &Dockerfile, index: usize, image: &str) -> bool {
    let is_stage = df.stage_named(image).is_some_and(|s| s.index < index);
    let parsed = ImageRef::parse(image);
    !image.contains('$') && !is_stage && parsed.digest.is_none() && parsed.family() != Family::Scratch
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_external_images_only() {
        let text = "FROM golang:1.22 AS build\nFROM build AS test\nFROM scratch\nFROM ${BASE}\nFROM alpine@sha256:aa\nFROM gcr.io/distroless/static:nonroot\n";
        assert_eq!(references(text).unwrap(), ["golang:1.22", "gcr.io/distroless/static:nonroot"]);
        let pinned = pin(text, &|r| (r != "golang:1.22").then(|| "sha256:bb".to_string())).unwrap();
        assert!(pinned.contains("FROM golang:1.22 AS build\n"), "unknown digests stay unpinned");
        assert!(pinned.ends_with("FROM gcr.io/distroless/static:nonroot@sha256:bb\n"));
        assert!(pinned.contains("FROM build AS test\nFROM scratch\nFROM ${BASE}\nFROM alpine@sha256:aa\n"));
        assert_eq!(pinned_references(text), ["alpine@sha256:aa"]);
        assert!(!all_pinned(&pinned), "golang and the image from a variable stay unpinned");
        assert!(all_pinned("FROM golang:1.22@sha256:cc AS build\nFROM build AS test\nFROM scratch\n"));
    }
}
