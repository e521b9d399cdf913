//! The pull request body, from `templates/pr-body.md.j2`: a summary, the build proof's table,
//! per file what changed and which rules it resolves, what was not changed and why, each diff
//! in a collapsible block, what a reviewer must check, the commands, and hidden metadata.
//! It stays under GitHub's limit by shortening diffs, never the table.

use minijinja::{Environment, context};
use serde::Serialize;

use crate::finding::Finding;
use crate::run::FileReport;
use crate::verify::{ImageReport, Verdict, report};

use super::fingerprint::Meta;

/// GitHub refuses pull request bodies longer than this many characters.
pub const GITHUB_BODY_LIMIT: usize = 65_536;

const TEMPLATE: &str = include_str!("../../templates/pr-body.md.j2");

/// What the body is made from.
pub struct BodyInput<'a> {
    /// The files the pull request changes.
    pub files: &'a [FileReport],
    /// The build proof, or why it was skipped.
    pub proof: Result<&'a [ImageReport], String>,
    /// The hidden metadata.
    pub meta: &'a Meta,
}

#[derive(Serialize)]
struct FileView<'a> {
    path: &'a str,
    fixed: Vec<&'a Finding>,
    unfixed: Vec<&'a Finding>,
    reason: Option<&'a str>,
    diff: String,
}

/// Renders the body, shortening diffs until it fits `limit` characters.
pub fn render(input: &BodyInput<'_>, limit: usize) -> String {
    let full: Vec<String> = input.files.iter().map(diff_of).collect();
    let mut budget = full.iter().map(|d| d.lines().count()).max().unwrap_or(0);
    loop {
        let diffs: Vec<String> = full.iter().map(|d| shorten(d, budget)).collect();
        let body = render_with(input, &diffs);
        if body.chars().count() <= limit || budget == 0 {
            return body;
        }
        budget /= 2;
    }
}

fn render_with(input: &BodyInput<'_>, diffs: &[String]) -> String {
    let files: Vec<FileView<'_>> = input
        .files
        .iter()
        .zip(diffs)
        .map(|(f, diff)| FileView {
            path: &f.path,
            fixed: f.findings.iter().filter(|x| x.fixed).collect(),
            unfixed: f.findings.iter().filter(|x| !x.fixed).collect(),
            reason: f.reason.as_deref(),
            diff: diff.clone(),
        })
        .collect();
    let (table, all_proven, proof_skipped) = match &input.proof {
        Ok(images) => (Some(report::markdown(images)), images.iter().all(|i| i.verdict == Verdict::Proven), None),
        Err(why) => (None, false, Some(why.clone())),
    };
    // Why each image that is not proven is not: the first line of the reason (its log stays out).
    let proof_notes: Vec<String> = input
        .proof
        .as_ref()
        .map(|images| {
            images
                .iter()
                .filter(|i| i.verdict != Verdict::Proven)
                .map(|i| {
                    let why = i.reason.as_deref().and_then(|r| r.lines().next()).unwrap_or("no reason given");
                    format!("`{}` {}: {why}", i.dockerfile, report::verdict(i.verdict))
                })
                .collect()
        })
        .unwrap_or_default();
    let env = Environment::new();
    env.render_str(
        TEMPLATE,
        context! {
            summary => summary(input),
            table,
            all_proven,
            proof_notes,
            proof_skipped,
            files => minijinja::value::Serde(&files),
            hazards => hazards(input.files),
            meta => serde_json::to_string(input.meta).unwrap_or_default(),
        },
    )
    .expect("the built-in pull request template renders")
}

fn summary(input: &BodyInput<'_>) -> String {
    let files = crate::report::plural(input.files.len(), "file");
    match &input.proof {
        Ok(images) if images.iter().any(|i| i.verdict == Verdict::Proven) => {
            let proven = || images.iter().filter(|i| i.verdict == Verdict::Proven);
            let before: u64 = proven().filter_map(|i| i.before.bytes).sum();
            let after: u64 = proven().filter_map(|i| i.after.bytes).sum();
            let ratio = if after > 0 { before as f64 / after as f64 } else { 0.0 };
            format!(
                "harden hardens {files}: the images go from {} to {} ({} saved, {ratio:.0}× smaller), run as a non-root user, and build a static, stripped Go binary.",
                report::human(before),
                report::human(after),
                report::human(before.saturating_sub(after))
            )
        }
        _ => format!(
            "harden hardens {files}: smaller images that run as a non-root user, and pods under the restricted Pod Security profile."
        ),
    }
}

/// What a reviewer must check, from the findings.
fn hazards(files: &[FileReport]) -> Vec<String> {
    let mut out = Vec::new();
    for file in files {
        out.extend(buildkit_only(file));
        for f in &file.findings {
            let note = match (f.rule, f.fixed) {
                ("HD117", _) => Some(format!(
                    "`{}` line {}: {}. Move the program to a port at or above 1024, or check that your runtime lets non-root processes bind it.",
                    file.path, f.line, f.message
                )),
                ("HD116", true) => Some(format!(
                    "`{}` line {}: the HEALTHCHECK was removed (the new runtime has no shell or curl); use Kubernetes liveness and readiness probes.",
                    file.path, f.line
                )),
                ("HD108" | "HD109", _) => Some(format!(
                    "`{}` line {}: {}. harden does not move secrets; take them out of the image.",
                    file.path, f.line, f.message
                )),
                ("HD139" | "HD151", _) => Some(format!("`{}` line {}: {}.", file.path, f.line, f.message)),
                ("HK216", _) => Some(format!(
                    "`{}` line {}: {}; run an image built to start unprivileged to harden it.",
                    file.path, f.line, f.message
                )),
                ("HK214", _) => Some(format!(
                    "`{}` line {}: {}; the pod will not pass the restricted profile.",
                    file.path, f.line, f.message
                )),
                ("HK223", _) => Some(format!("`{}`: {}.", file.path, f.message)),
                ("HK207", true) => Some(format!(
                    "`{}` line {}: the root filesystem becomes read-only; the program can write only to /tmp and its volumes.",
                    file.path, f.line
                )),
                _ => None,
            };
            out.extend(note.filter(|note| !out.contains(note)));
        }
    }
    out
}

/// The note for a Dockerfile the rewrite gives its first BuildKit-only flags (`RUN --mount`,
/// `COPY --chmod`): a build with the legacy builder fails on them.
fn buildkit_only(file: &FileReport) -> Option<String> {
    const FLAGS: [(&str, &str); 2] =
        [("--mount=", "the cache mounts (`RUN --mount=type=cache`)"), ("--chmod=", "`--chmod` on COPY and ADD")];
    let (Some(old), Some(new)) = (&file.original, &file.rewritten) else { return None };
    if FLAGS.iter().any(|(flag, _)| old.contains(flag)) {
        return None;
    }
    let added: Vec<&str> = FLAGS.iter().filter(|(flag, _)| new.contains(flag)).map(|(_, what)| *what).collect();
    (!added.is_empty()).then(|| {
        format!(
            "`{}`: {} need BuildKit, Docker's default builder since 23.0 and `docker buildx build`'s; a build with `DOCKER_BUILDKIT=0` (the legacy builder) fails on them.",
            file.path,
            added.join(" and ")
        )
    })
}

fn diff_of(file: &FileReport) -> String {
    let (Some(old), Some(new)) = (&file.original, &file.rewritten) else { return String::new() };
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{}", file.path), &format!("b/{}", file.path))
        .to_string()
        .trim_end()
        .to_string()
}

/// The first `lines` lines of a diff, with a note when lines were left out.
fn shorten(diff: &str, lines: usize) -> String {
    let total = diff.lines().count();
    if total <= lines {
        return diff.to_string();
    }
    let mut out: Vec<&str> = diff.lines().take(lines).collect();
    let note = format!("… {} more lines: see the commit", total - lines);
    out.push(&note);
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::Kind;
    use crate::run::Status;

    fn file(path: &str, lines: usize) -> FileReport {
        let original: String = (0..lines).map(|i| format!("RUN echo {i}\n")).collect();
        let rewritten: String = (0..lines).map(|i| format!("RUN printf {i}\n")).collect();
        let mut finding = Finding::new(&crate::rules::RUNS_AS_ROOT, 1, "no USER instruction: the program runs as root");
        finding.fixed = true;
        FileReport {
            findings: vec![finding, Finding::new(&crate::rules::PRIVILEGED_PORT, 3, "EXPOSE 80: below 1024")],
            original: Some(original),
            rewritten: Some(rewritten),
            security: true,
            ..FileReport::new(path.into(), Kind::Dockerfile, Status::Changed, None)
        }
    }

    fn meta() -> Meta {
        Meta { fingerprint: "f00d".into(), rules: "r1".into(), files: vec!["Dockerfile".into()] }
    }

    #[test]
    fn the_first_buildkit_flags_of_a_file_are_said_to_need_buildkit() {
        let mut plain = file("Dockerfile", 2);
        plain.findings.clear();
        plain.rewritten = Some(
            "RUN --mount=type=cache,target=/root/.cache/go-build go build\nRUN --mount=type=cache,target=/go/pkg/mod go vet\n"
                .into(),
        );
        let notes = hazards(std::slice::from_ref(&plain));
        assert_eq!(notes.len(), 1, "once per file: {notes:?}");
        assert!(notes[0].starts_with("`Dockerfile`: the cache mounts") && notes[0].contains("DOCKER_BUILDKIT=0"));
        // A mode moved into an ADD needs BuildKit too.
        plain.rewritten = Some("ADD --chmod=755 https://example.com/probe /bin/probe\n".into());
        assert!(hazards(std::slice::from_ref(&plain))[0].starts_with("`Dockerfile`: `--chmod` on COPY and ADD need"));
        // A file that mounts already builds with BuildKit only: nothing new to say.
        plain.original = Some("RUN --mount=type=secret,id=netrc go mod download\n".into());
        assert!(hazards(&[plain]).is_empty());
    }

    #[test]
    fn carries_the_findings_diffs_hazards_commands_and_meta() {
        let files = [file("Dockerfile", 3)];
        let meta = meta();
        let body = render(
            &BodyInput { files: &files, proof: Err("no Docker engine answered".into()), meta: &meta },
            GITHUB_BODY_LIMIT,
        );
        assert!(body.contains("#### `Dockerfile`"), "{body}");
        assert!(body.contains("**HD106** no USER instruction"));
        assert!(body.contains("Not changed, and why:\n- **HD117**"));
        assert!(body.contains("<details><summary>Diff</summary>") && body.contains("+RUN printf 2"));
        assert!(body.contains("### Check before merging") && body.contains("EXPOSE 80"));
        assert!(body.contains("The build proof was skipped: no Docker engine answered"));
        assert!(body.contains("`/harden rebase`") && body.contains("`/harden ignore <path>`"));
        assert_eq!(Meta::from_body(&body), Some(meta));
    }

    #[test]
    fn the_proof_table_is_a_section_of_its_own() {
        let files = [file("Dockerfile", 3)];
        let meta = meta();
        let side = |bytes| crate::verify::Side { bytes: Some(bytes), built: true, ..Default::default() };
        let image = |verdict| ImageReport {
            dockerfile: "Dockerfile".into(),
            before: side(900_000_000),
            after: side(9_000_000),
            binary_bytes: None,
            verdict,
            reason: Some("the rewritten Dockerfile does not build where the original does\nlog line".into()),
            cves_note: None,
        };
        let failed = "\nNot every rewrite is proven:\n- `Dockerfile` failed: the rewritten Dockerfile does not build where the original does\n";
        for (verdict, note) in [(Verdict::Proven, ""), (Verdict::Failed, failed)] {
            let images = [image(verdict)];
            let body = render(&BodyInput { files: &files, proof: Ok(&images), meta: &meta }, GITHUB_BODY_LIMIT);
            // Sizes count only where the rewrite is proven.
            assert_eq!(body.contains("(891.0 MB saved, 100× smaller)"), verdict == Verdict::Proven, "{body}");
            let table = &body[body.find("### Build proof\n\n| Dockerfile |").expect("the table")..];
            let after = &table[table.rfind("× smaller) |\n").unwrap() + "× smaller) |\n".len()..];
            assert!(after.starts_with(note), "{after:?}");
            let gap = &after[..after.find("### What changes").unwrap()];
            assert_eq!(gap.matches('\n').count(), if note.is_empty() { 1 } else { 4 }, "one blank line: {gap:?}");
        }
    }

    #[test]
    fn a_container_left_alone_for_its_image_is_named_for_the_reviewer() {
        let mut manifest = file("deploy.yaml", 2);
        manifest.kind = Kind::Kubernetes;
        let message = "Deployment/web container proxy runs nginx:1.27: nginx's entrypoint starts as root";
        manifest.findings = vec![Finding::new(&crate::rules::IMAGE_STARTS_AS_ROOT, 12, message)];
        let notes = hazards(&[manifest]);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].starts_with("`deploy.yaml` line 12: Deployment/web container proxy"), "{notes:?}");
        assert!(notes[0].ends_with("run an image built to start unprivileged to harden it."), "{notes:?}");
        // A rendered file the change leaves stale is the reviewer's to render again.
        let mut source = file("config/manager/manager.yaml", 2);
        source.kind = Kind::Kubernetes;
        let stale = "this file is read by `operator-sdk generate bundle` in Makefile:7, which writes bundle/, kept in the repository: run `make bundle`";
        source.findings = vec![Finding::new(&crate::rules::RENDER_INPUT, 1, stale)];
        assert_eq!(hazards(&[source]), [format!("`config/manager/manager.yaml`: {stale}.")]);
    }

    #[test]
    fn long_diffs_are_shortened_to_fit_and_the_rest_stays() {
        let files = [file("a/Dockerfile", 4000), file("b/Dockerfile", 4000)];
        let meta = meta();
        let input = BodyInput { files: &files, proof: Err("skipped".into()), meta: &meta };
        let body = render(&input, GITHUB_BODY_LIMIT);
        assert!(body.chars().count() <= GITHUB_BODY_LIMIT, "{}", body.len());
        assert!(body.contains("more lines: see the commit"));
        assert!(body.contains("#### `b/Dockerfile`") && body.contains("harden:meta"));
    }
}
