//! verify's outputs: text, JSON and the Markdown table that goes into the pull request.

use std::fmt::Write;

use serde::Serialize;

use super::{ImageReport, Side, Verdict};

/// The JSON document: `{"images":[…]}`.
pub fn json(images: &[ImageReport]) -> String {
    #[derive(Serialize)]
    struct Document<'a> {
        images: &'a [ImageReport],
    }
    serde_json::to_string_pretty(&Document { images }).unwrap_or_default() + "\n"
}

/// One paragraph per Dockerfile.
pub fn text(images: &[ImageReport]) -> String {
    let mut out = String::new();
    for image in images {
        let verdict = verdict(image.verdict);
        let _ = writeln!(out, "{}: {verdict}", image.dockerfile);
        let _ = writeln!(out, "  before {}: {}", image.before.base, sizes(&image.before));
        let _ = writeln!(out, "  after  {}: {}", image.after.base, sizes(&image.after));
        if let Some(bin) = image.binary_bytes {
            let _ = writeln!(out, "  Go binary: {}", human(bin));
        }
        if let Some(reason) = &image.reason {
            for line in reason.lines() {
                let _ = writeln!(out, "  {line}");
            }
        }
        for side in [&image.before, &image.after] {
            if let (false, Some(log)) = (side.built, &side.log) {
                let _ = writeln!(out, "  {} build log:", side.image);
                for line in log.lines() {
                    let _ = writeln!(out, "    {line}");
                }
            }
        }
    }
    let proven = images.iter().filter(|i| i.verdict == Verdict::Proven).count();
    let _ = writeln!(out, "{} Dockerfiles: {proven} proven", images.len());
    out
}

/// The before/after table for the pull request body.
pub fn markdown(images: &[ImageReport]) -> String {
    let mut out = String::from(
        "| Dockerfile | | image size | compressed | layers | base image | user | saved |\n|---|---|---|---|---|---|---|---|\n",
    );
    for image in images {
        let (b, a) = (&image.before, &image.after);
        let saved = match (b.bytes, a.bytes) {
            (Some(b), Some(a)) if a > 0 && b >= a => format!("{} ({:.0}× smaller)", human(b - a), b as f64 / a as f64),
            _ => "–".into(),
        };
        let _ = writeln!(
            out,
            "| `{}` | before | {} | {} | {} | `{}` | {} | |",
            image.dockerfile,
            opt(b.bytes),
            opt(b.compressed_bytes),
            b.layers.len(),
            b.base,
            user(b)
        );
        let _ = writeln!(
            out,
            "| {} | after | {} | {} | {} | `{}` | {} | {saved} |",
            verdict(image.verdict),
            opt(a.bytes),
            opt(a.compressed_bytes),
            a.layers.len(),
            a.base,
            user(a)
        );
    }
    out
}

/// The verdict as the reports write it.
pub fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Proven => "proven",
        Verdict::Failed => "failed",
        Verdict::Skipped => "skipped",
    }
}

fn sizes(side: &Side) -> String {
    if !side.built {
        return "did not build".into();
    }
    format!(
        "{} ({} compressed, {} layers), user {}",
        opt(side.bytes),
        opt(side.compressed_bytes),
        side.layers.len(),
        user(side)
    )
}

/// The user an image runs as: `root` when it sets none, `–` when it was not built.
fn user(side: &Side) -> &str {
    match side.user.as_str() {
        _ if !side.built => "–",
        "" => "root",
        u => u,
    }
}

fn opt(bytes: Option<u64>) -> String {
    bytes.map_or_else(|| "–".into(), human)
}

/// Bytes in the units `docker images` uses (kB = 1000 bytes).
pub fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.1} kB", b / 1e3)
    } else {
        format!("{bytes} B")
    }
}
