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
        if let (Some(b), Some(a)) = (&image.before.contents, &image.after.contents) {
            let _ = writeln!(out, "  packages: {}", packages_change(b, a));
            let _ = writeln!(out, "  shell: {} → {}", tools(&b.shell), tools(&a.shell));
            let _ = writeln!(out, "  package manager: {} → {}", tools(&b.package_manager), tools(&a.package_manager));
            let _ = writeln!(out, "  setuid/setgid files: {} → {}", b.setuid.len(), a.setuid.len());
        }
        if let Some(cves) = cves_change(image) {
            let _ = writeln!(out, "  CVEs: {cves}");
        }
        if let Some(note) = image.cves_note.as_deref().filter(|_| image.verdict == Verdict::Proven) {
            let _ = writeln!(out, "  {note}");
        }
        for side in [&image.before, &image.after] {
            if let Some(why) = &side.contents_error {
                let _ = writeln!(out, "  what {} carries could not be read: {why}", side.image);
            }
            for note in side.contents.iter().flat_map(|c| &c.limits_hit) {
                let _ = writeln!(out, "  {}: {note}", side.image);
            }
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

/// The before/after tables for the pull request body and the job summary: sizes, then what the
/// images carry.
pub fn markdown(images: &[ImageReport]) -> String {
    let carried = carried_markdown(images);
    let sizes = sizes_markdown(images);
    if carried.is_empty() { sizes } else { format!("{sizes}\n{carried}") }
}

/// The sizes table: two rows per Dockerfile.
fn sizes_markdown(images: &[ImageReport]) -> String {
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

/// What the images carry, before → after: one row per Dockerfile whose two images were read,
/// and the packages the rewrite removed in a `<details>` block. Empty when none were read.
fn carried_markdown(images: &[ImageReport]) -> String {
    let read: Vec<_> =
        images.iter().filter_map(|i| Some((i, i.before.contents.as_ref()?, i.after.contents.as_ref()?))).collect();
    if read.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "| Dockerfile | packages | shell | package manager | setuid/setgid files | CVEs |\n|---|---|---|---|---|---|\n",
    );
    for (image, b, a) in &read {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} → {} | {} → {} | {} → {} | {} |",
            image.dockerfile,
            packages_change(b, a),
            tools(&b.shell),
            tools(&a.shell),
            tools(&b.package_manager),
            tools(&a.package_manager),
            b.setuid.len(),
            a.setuid.len(),
            cves_change(image).unwrap_or_else(|| "–".into())
        );
    }
    for (image, b, a) in &read {
        let change = super::contents::diff(b, a);
        if !change.packages_removed.is_empty() {
            let _ = write!(
                out,
                "\n<details><summary>{} removed from <code>{}</code>'s image</summary>\n\n{}\n</details>\n",
                crate::report::plural(change.packages_removed.len(), "package"),
                image.dockerfile,
                change.packages_removed.join(", ")
            );
        }
    }
    out
}

/// Package counts, `412 → 3`.
fn packages_change(b: &super::contents::ImageContents, a: &super::contents::ImageContents) -> String {
    format!("{} → {}", b.packages.count, a.packages.count)
}

/// The commands found, by name (`sh, bash`), or `none`.
fn tools(paths: &[String]) -> String {
    let mut names: Vec<&str> = paths.iter().map(|p| p.rsplit('/').next().unwrap_or(p)).collect();
    names.sort_unstable();
    names.dedup();
    if names.is_empty() { "none".into() } else { names.join(", ") }
}

/// `13 → 0 (trivy 0.50.0, database 2026-11-30)`, when both images were scanned.
fn cves_change(image: &ImageReport) -> Option<String> {
    let (b, a) = (image.before.cves.as_ref()?, image.after.cves.as_ref()?);
    let severe = |c: &super::cves::Cves| {
        ["critical", "high"].iter().map(|s| c.counts.get(*s).copied().unwrap_or(0)).sum::<u64>()
    };
    let database =
        a.database.as_deref().map(|d| format!(", database {}", d.get(..10).unwrap_or(d))).unwrap_or_default();
    Some(format!(
        "{} → {} ({} → {} critical or high; {} {}{database})",
        b.total,
        a.total,
        severe(b),
        severe(a),
        a.scanner,
        a.version
    ))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::contents::{ImageContents, Packages};
    use crate::verify::cves::Cves;

    fn carrying(packages: &[&str], shell: &[&str], setuid: usize, cves: u64) -> Side {
        let names: Vec<String> = packages.iter().map(|p| p.to_string()).collect();
        Side {
            built: true,
            contents: Some(ImageContents {
                packages: Packages { count: names.len(), names, databases: Vec::new() },
                shell: shell.iter().map(|s| s.to_string()).collect(),
                package_manager: shell.iter().map(|_| "/usr/bin/apt".to_string()).collect(),
                setuid: (0..setuid).map(|i| format!("/usr/bin/su{i}")).collect(),
                ..ImageContents::default()
            }),
            cves: Some(Cves {
                scanner: "trivy".into(),
                version: "0.58.0".into(),
                database: Some("2026-11-30T06:00:00Z".into()),
                counts: [("high".to_string(), cves)].into(),
                total: cves,
            }),
            ..Side::default()
        }
    }

    #[test]
    fn shows_what_the_images_carry_and_the_packages_removed() {
        let image = ImageReport {
            dockerfile: "Dockerfile".into(),
            before: carrying(&["bash", "coreutils", "tzdata"], &["/bin/sh", "/bin/bash"], 2, 7),
            after: carrying(&["tzdata"], &[], 0, 0),
            binary_bytes: None,
            verdict: Verdict::Proven,
            reason: None,
            cves_note: None,
        };
        let table = markdown(std::slice::from_ref(&image));
        assert!(
            table.contains("| Dockerfile | packages | shell | package manager | setuid/setgid files | CVEs |"),
            "{table}"
        );
        assert!(
            table.contains("| `Dockerfile` | 3 → 1 | bash, sh → none | apt → none | 2 → 0 | 7 → 0 (7 → 0 critical or high; trivy 0.58.0, database 2026-11-30) |"),
            "{table}"
        );
        assert!(
            table.contains(
                "<summary>2 packages removed from <code>Dockerfile</code>'s image</summary>\n\nbash, coreutils\n"
            ),
            "{table}"
        );
        let text = text(&[image]);
        assert!(text.contains("  packages: 3 → 1\n  shell: bash, sh → none\n"), "{text}");
    }

    #[test]
    fn leaves_the_table_out_when_nothing_was_read() {
        let image = ImageReport {
            dockerfile: "Dockerfile".into(),
            before: Side { built: true, ..Side::default() },
            after: Side { built: true, ..Side::default() },
            binary_bytes: None,
            verdict: Verdict::Proven,
            reason: None,
            cves_note: Some(
                "no CVE scanner: trivy or grype not found on PATH, so no CVE counts (install one to see them)".into(),
            ),
        };
        assert!(!markdown(std::slice::from_ref(&image)).contains("| packages |"));
        assert!(text(&[image]).contains("  no CVE scanner: trivy or grype not found on PATH"));
    }
}
