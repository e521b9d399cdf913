//! `harden verify`: the build-and-size proof. For each Go Dockerfile that `fix` changes, build
//! the original and the rewrite from the same context, measure both, and run the new image the
//! way the Kubernetes fix will run it. A rewrite that does not build, or does not start where
//! the original did, is `failed`; only a `proven` one should be proposed.

pub mod bollard;
pub mod compress;
/// What a built image carries (packages, shell, setuid files, user), read from its `docker save` archive.
pub mod contents;
pub mod cves;
pub mod engine;
pub mod report;
pub mod tools;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::config::Config;
use crate::dockerfile::{contract, facts::Facts, image::ImageRef, model::Dockerfile};
use crate::run::{FileReport, Status};
use crate::source::SourceFacts;

use engine::{BuildOptions, Builder, Engine, Layer, Run, RunState};

/// What `verify` found for one Dockerfile.
#[derive(Debug, Clone, Serialize)]
pub struct ImageReport {
    /// The Dockerfile, as shown to the user.
    pub dockerfile: String,
    /// The image the original builds.
    pub before: Side,
    /// The image the rewrite builds.
    pub after: Side,
    /// Bytes of the Go binaries in the new image: the floor of its size.
    pub binary_bytes: Option<u64>,
    /// `proven`, `failed` or `skipped`.
    pub verdict: Verdict,
    /// Why, when not proven.
    pub reason: Option<String>,
    /// Why the images have no CVE counts (no scanner, or it failed), when they have none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cves_note: Option<String>,
}

/// One of the two images.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Side {
    /// The tag harden built it as.
    pub image: String,
    /// The runtime base image (the final stage's `FROM`).
    pub base: String,
    /// The user it runs as (`Config.User`; empty means root).
    pub user: String,
    /// Uncompressed bytes (`docker image inspect`).
    pub bytes: Option<u64>,
    /// Bytes of its layers gzip-compressed, as a registry would store them.
    pub compressed_bytes: Option<u64>,
    /// Its layers, oldest first, with the instruction that made each.
    pub layers: Vec<Layer>,
    /// What it carries (`os`, `packages`, `shell`, `package_manager`, `setuid`,
    /// `world_writable`), read from its layers; absent when it did not build.
    #[serde(flatten)]
    pub contents: Option<contents::ImageContents>,
    /// Why what it carries could not be read, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contents_error: Option<String>,
    /// Its known vulnerabilities by severity, when a CVE scanner ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cves: Option<cves::Cves>,
    /// Whether it built.
    pub built: bool,
    /// The smoke run: `passed`, `failed` or `skipped` (the new image only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smoke: Option<Smoke>,
    /// The build log's tail when the build failed, or the run's log tail when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
}

/// The outcome of the smoke run of the new image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Smoke {
    /// It stayed up (or exited 0, for a job).
    Passed,
    /// It did not, where the original did.
    Failed,
    /// Not judged: the image did not build, or the original does not start here either.
    Skipped,
}

/// The verdict on one rewrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Both built; the new image starts as the original does.
    Proven,
    /// The rewrite does not build, or does not start where the original does.
    Failed,
    /// Could not be judged (the original does not build or start here), with the reason.
    Skipped,
}

/// How verify builds and runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Build options shared by both builds.
    pub build: BuildOptions,
    /// How long the smoke run waits.
    pub smoke: Duration,
    /// Keep the images afterwards.
    pub keep_images: bool,
    /// A registry (`host:port`) to push both images to, so compressed sizes are the registry's
    /// own; without one, layers are gzip-compressed locally.
    pub registry: Option<String>,
    /// The CVE scanner to count vulnerabilities with.
    pub cve_scanner: cves::ScannerChoice,
}

/// Verifies every changed Dockerfile among `reports`.
pub fn verify(
    reports: &[FileReport],
    builder: &dyn Builder,
    engine: &dyn Engine,
    options: &Options,
) -> Vec<ImageReport> {
    let cache_file = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/harden/compressed-layers.tsv"));
    let mut cache = cache_file.map(compress::LayerCache::load).unwrap_or_default();
    // Looked for once, and only when an image is proven (the scanner's start-up is not free).
    let scanner = std::cell::OnceCell::new();
    let images = reports
        .iter()
        .filter(|r| r.status == Status::Changed && r.kind == crate::discover::Kind::Dockerfile)
        .filter_map(|report| {
            Some(Job {
                report,
                path: report.source_path.as_ref()?,
                before: report.original.as_ref()?,
                after: report.rewritten.as_ref()?,
            })
        })
        .enumerate()
        .map(|(i, job)| one(i, &job, (builder, engine), options, &scanner, &mut cache))
        .collect();
    cache.save();
    images
}

/// One Dockerfile to verify: its report, where it is, and its two texts.
struct Job<'a> {
    report: &'a FileReport,
    path: &'a Path,
    before: &'a str,
    after: &'a str,
}

fn one(
    index: usize,
    job: &Job<'_>,
    (builder, engine): (&dyn Builder, &dyn Engine),
    options: &Options,
    scanner: &std::cell::OnceCell<Result<cves::Scanner, String>>,
    cache: &mut compress::LayerCache,
) -> ImageReport {
    let Job { report, path, before: before_text, after: after_text } = *job;
    let context = report.context.clone().unwrap_or_else(|| path.parent().unwrap_or(Path::new(".")).to_path_buf());
    let options = &with_repository_args(options, &report.build_args);
    // Unique per process and per call, so concurrent verifications never share a tag.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let id = format!("{}-{call}-{index}", std::process::id());
    let mut before = side(before_text, format!("harden-verify/{id}:before"), &report.build_args);
    let mut after = side(after_text, format!("harden-verify/{id}:after"), &report.build_args);
    let rewritten = write_rewrite(after_text);
    let mut out = ImageReport {
        dockerfile: report.path.clone(),
        before: Side::default(),
        after: Side::default(),
        binary_bytes: None,
        verdict: Verdict::Skipped,
        reason: None,
        cves_note: None,
    };
    let Ok(rewritten) = rewritten else {
        out.reason = Some("cannot write the rewritten Dockerfile to a temporary file".into());
        return out;
    };
    let tools = (builder, engine);
    // The original first: when it does not build here either, the proof cannot run, and that is
    // no failure of the rewrite (so the rewrite is not built at all).
    build(tools, &context, path, &mut before, options, cache);
    if before.built {
        build(tools, &context, rewritten.path(), &mut after, options, cache);
    }
    (out.verdict, out.reason) = match (before.built, after.built) {
        (false, _) => (Verdict::Skipped, Some(cannot_build_here(before.log.as_deref().unwrap_or_default()))),
        (true, false) => {
            (Verdict::Failed, Some("the rewritten Dockerfile does not build where the original does".into()))
        }
        (true, true) => {
            out.binary_bytes = binaries(after_text).iter().map(|b| engine.file_size(&after.image, b).ok()).sum();
            let scanner = scanner.get_or_init(|| cves::find(options.cve_scanner));
            out.cves_note = count_cves(scanner, &mut before, &mut after);
            smoke(engine, &mut before, &mut after, options.smoke)
        }
    };
    if !options.keep_images {
        engine.remove(&[before.image.clone(), after.image.clone()]);
    }
    out.before = before;
    out.after = after;
    out
}

/// Why the proof cannot run when the original does not build here, told from its build log:
/// a base image that cannot be pulled, a build secret this machine lacks, a step that needs the
/// network, or else the log's end.
pub fn cannot_build_here(log: &str) -> String {
    let lower = log.to_ascii_lowercase();
    let cause = if lower.contains("secret") && (lower.contains("not found") || lower.contains("no such file")) {
        "it needs a build secret this machine does not have (give it with --secret or verify.secrets)"
    } else if ["pull access denied", "failed to resolve source metadata", "manifest unknown", "not found: manifest"]
        .iter()
        .any(|s| lower.contains(s))
        || (lower.contains("load metadata for") && lower.contains("error"))
        || lower.contains("failed to create llb definition")
        || lower.contains("/manifests/")
    {
        "a base image cannot be pulled here (private, unreachable, or not on this engine)"
    } else if [
        "could not resolve host",
        "temporary failure in name resolution",
        "no such host",
        "network is unreachable",
        "dial tcp",
        "i/o timeout",
    ]
    .iter()
    .any(|s| lower.contains(s))
    {
        "a build step needs the network, which the proof does not give it (set verify.network)"
    } else {
        "it fails here before the rewrite matters"
    };
    format!(
        "the original Dockerfile does not build here either: {cause}, so the rewrite cannot be proven on this machine.\nIts build log ends:\n{}",
        engine::tail(log, 10)
    )
}

fn side(text: &str, image: String, build_args: &[(String, String)]) -> Side {
    let base = Dockerfile::parse(text)
        .ok()
        .and_then(|df| {
            let last = df.stages.last()?;
            df.resolve_image_given(&last.from.image, build_args)
        })
        .map(|i| ImageRef::parse(&i).to_reference())
        .unwrap_or_default();
    Side { image, base, ..Side::default() }
}

/// `options` with the build arguments the repository gives the image (Compose, bake, skaffold)
/// before those given to verify, which win: `docker build` takes the last value of a name.
fn with_repository_args(options: &Options, repository: &[(String, String)]) -> Options {
    let mut options = options.clone();
    let given: Vec<String> = std::mem::take(&mut options.build.build_args);
    options.build.build_args = repository.iter().map(|(name, value)| format!("{name}={value}")).chain(given).collect();
    options
}

fn build(
    (builder, engine): (&dyn Builder, &dyn Engine),
    context: &Path,
    dockerfile: &Path,
    side: &mut Side,
    options: &Options,
    cache: &mut compress::LayerCache,
) {
    match builder.build(context, dockerfile, &side.image, &options.build) {
        Ok(()) => {
            side.built = true;
            if let Ok(facts) = engine.inspect(&side.image) {
                side.bytes = Some(facts.bytes);
                side.user = facts.user;
            }
            side.layers = engine.history(&side.image).unwrap_or_default();
            let pushed = options.registry.as_deref().and_then(|registry| registry_size(engine, &side.image, registry));
            match engine.save(&side.image).map_err(|e| format!("docker save: {e}")).and_then(|tar| {
                let measure_here = pushed.is_none();
                read_archive(tar, measure_here.then_some(cache))
            }) {
                Ok((compressed, contents)) => {
                    side.compressed_bytes = pushed.or(compressed);
                    match contents {
                        Ok(contents) => side.contents = Some(contents),
                        Err(why) => side.contents_error = Some(why),
                    }
                }
                Err(why) => {
                    side.compressed_bytes = pushed;
                    side.contents_error = Some(why);
                }
            }
        }
        Err(log) => side.log = Some(log),
    }
}

/// Reads an image's `docker save` archive once: its compressed size (when `cache` is given, so
/// it is measured here) and what it carries. The stream is copied to a temporary file as the
/// size is measured, and read for its contents from there.
fn read_archive(
    tar: Box<dyn std::io::Read>,
    cache: Option<&mut compress::LayerCache>,
) -> Result<(Option<u64>, Result<contents::ImageContents, String>), String> {
    use std::io::{Read, Seek, Write};
    /// A reader that keeps a copy of what passes through it.
    struct Tee<R, W>(R, W);
    impl<R: Read, W: Write> Read for Tee<R, W> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.read(buf)?;
            self.1.write_all(&buf[..n])?;
            Ok(n)
        }
    }
    let mut copy = tempfile::tempfile().map_err(|e| format!("a temporary file for the image archive: {e}"))?;
    let mut tee = Tee(tar, &mut copy);
    let compressed = cache.and_then(|cache| compress::compressed_layers(&mut tee, cache).ok());
    std::io::copy(&mut tee, &mut std::io::sink()).map_err(|e| format!("reading the image archive: {e}"))?;
    copy.rewind().map_err(|e| format!("reading the image archive back: {e}"))?;
    Ok((compressed, contents::read(copy).map_err(|e| e.to_string())))
}

/// Counts the vulnerabilities of both images with the scanner, when there is one; otherwise, or
/// when it fails, the note that says why there are no counts.
fn count_cves(scanner: &Result<cves::Scanner, String>, before: &mut Side, after: &mut Side) -> Option<String> {
    let scanner = match scanner {
        Ok(scanner) => scanner,
        Err(why) => return Some(why.clone()),
    };
    for side in [before, after] {
        match scanner.scan(&side.image) {
            Ok(found) => side.cves = Some(found),
            Err(why) => return Some(format!("{} could not count the CVEs: {why}", scanner.name)),
        }
    }
    None
}

/// The compressed size the registry reports after a push, or `None` (then it is measured locally).
fn registry_size(engine: &dyn Engine, image: &str, registry: &str) -> Option<u64> {
    let reference = format!("{registry}/{image}");
    engine.push(image, &reference).ok()?;
    crate::pin::Registry::for_references(std::slice::from_ref(&reference)).ok()?.compressed_size(&reference).ok()
}

/// Runs the original as it is and the new image hardened, and compares.
fn smoke(engine: &dyn Engine, before: &mut Side, after: &mut Side, wait: Duration) -> (Verdict, Option<String>) {
    let new = engine.smoke_run(&after.image, true, wait);
    if starts(&new) {
        after.smoke = Some(Smoke::Passed);
        return (Verdict::Proven, None);
    }
    let old = engine.smoke_run(&before.image, false, wait);
    after.log = Some(new.logs.clone());
    if starts(&old) {
        after.smoke = Some(Smoke::Failed);
        let why = format!(
            "the new image {} where the original {}; its log ends:\n{}",
            describe(&new.state),
            describe(&old.state),
            engine::tail(&new.logs, 10)
        );
        return (Verdict::Failed, Some(why));
    }
    before.log = Some(old.logs.clone());
    after.smoke = Some(Smoke::Skipped);
    let why = format!(
        "both images built, but the original {} here too (no network, no configuration), so the smoke run cannot judge",
        describe(&old.state)
    );
    (Verdict::Skipped, Some(why))
}

fn starts(run: &Run) -> bool {
    matches!(run.state, RunState::Running | RunState::Exited(0))
}

fn describe(state: &RunState) -> String {
    match state {
        RunState::Running => "stays up".into(),
        RunState::Exited(code) => format!("exits with code {code}"),
        RunState::NotStarted(why) => format!("does not start ({})", engine::tail(why, 1)),
    }
}

/// The built Go binaries in the image a Dockerfile makes.
fn binaries(text: &str) -> Vec<String> {
    let Ok(df) = Dockerfile::parse(text) else { return Vec::new() };
    let (source, config) = (SourceFacts::default(), Config::default());
    contract::of(&Facts::new(text, &df, &source, &config)).binaries.into_iter().collect()
}

/// Writes the rewritten Dockerfile outside the build context, so it cannot change what is copied.
fn write_rewrite(text: &str) -> std::io::Result<tempfile::NamedTempFile> {
    let mut file = tempfile::Builder::new().prefix("harden-").suffix(".Dockerfile").tempfile()?;
    std::io::Write::write_all(&mut file, text.as_bytes())?;
    Ok(file)
}

/// The default docker binary: `HARDEN_DOCKER` when set.
pub fn docker_bin() -> Option<PathBuf> {
    std::env::var_os("HARDEN_DOCKER").map(PathBuf::from)
}
