//! `harden verify` on a real Docker engine, with real builds of small Go services written for
//! these tests (`tests/verify/`). `tests/rig/up.sh` brings up the engine and builds the base
//! images offline; `.ci/run` runs it first. Without an engine these tests fail, loudly: set
//! HARDEN_SKIP_DOCKER=1 to skip them on purpose on a machine without one.

use std::path::{Path, PathBuf};
use std::time::Duration;

use harden::discover::Kind;
use harden::run::{self, FileReport, Status};
use harden::verify::engine::{BuildOptions, DockerCli};
use harden::verify::{self, Options, Smoke, Verdict, report};

fn engine() -> Option<DockerCli> {
    if std::env::var_os("HARDEN_SKIP_DOCKER").is_some() {
        eprintln!("HARDEN_SKIP_DOCKER is set: the Docker tests are SKIPPED");
        return None;
    }
    let Some(docker) = verify::docker_bin() else {
        panic!("HARDEN_DOCKER is not set: run tests/rig/up.sh and source its env file (or set HARDEN_SKIP_DOCKER=1)");
    };
    match DockerCli::connect(Some(docker)) {
        Ok(engine) => Some(engine),
        Err(e) => panic!("no Docker engine for the verify tests ({e}); run tests/rig/up.sh and source its env file"),
    }
}

fn options() -> Options {
    Options {
        build: BuildOptions {
            network: "none".into(),
            build_args: Vec::new(),
            secrets: Vec::new(),
            target: None,
            platform: None,
            timeout: Duration::from_secs(600),
        },
        smoke: Duration::from_secs(3),
        keep_images: false,
        registry: None,
    }
}

/// Asserts the proof proved the rewrite, printing the proof's report when not.
fn assert_proven(image: &verify::ImageReport) {
    let text = report::text(std::slice::from_ref(image));
    assert_eq!(image.verdict, Verdict::Proven, "{}: {:?}\n{text}", image.dockerfile, image.reason);
}

fn service(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/verify").join(name)
}

#[test]
fn four_services_are_proven_and_shrink_to_their_binary() {
    let Some(engine) = engine() else { return };
    let paths: Vec<PathBuf> = ["naive", "debian-runtime", "cgo", "runtime-files"].iter().map(|s| service(s)).collect();
    let reports = run::run(&paths, false);
    assert_eq!(reports.iter().filter(|r| r.status == Status::Changed).count(), 4, "fix changes all four");
    // The Engine API builder (bollard) builds these; the CLI builds the broken one below.
    let bollard = harden::verify::bollard::BollardBuilder::connect().expect("the engine's socket");
    let images = verify::verify(&reports, &bollard, &engine, &options());
    assert_eq!(images.len(), 4);
    for image in &images {
        let name = &image.dockerfile;
        assert_proven(image);
        assert_eq!(image.after.smoke, Some(Smoke::Passed), "{name}");
        assert!(image.before.built && image.after.built, "{name}");
        assert_eq!(image.after.user, "65532:65532", "{name} runs as nonroot");
        let (before, after) = (image.before.bytes.unwrap(), image.after.bytes.unwrap());
        // distroless base (glibc, for cgo) is about 14 MB; static is about 1.5 MB.
        let factor = if name.contains("cgo") { 5 } else { 10 };
        assert!(after * factor < before, "{name}: {after} is not 1/{factor} of {before}");
        assert!(image.after.compressed_bytes.unwrap() < after, "{name}: compressed is smaller");
        assert!(!image.after.layers.is_empty() && image.after.layers.iter().any(|l| l.created_by.contains("COPY")));
        let binary = image.binary_bytes.unwrap_or_else(|| panic!("{name}: binary size"));
        if name.contains("cgo") {
            assert!(image.after.base.contains("distroless/base-debian13"), "{name}: cgo runs on base");
        } else {
            assert!(image.after.base.contains("distroless/static-debian13"), "{name}");
            assert!(after <= binary + 2_500_000, "{name}: {after} bytes is more than the binary ({binary}) + 2.5 MB");
        }
    }
    // The documented JSON shape.
    let doc: serde_json::Value = serde_json::from_str(&report::json(&images)).unwrap();
    let first = &doc["images"][0];
    for key in ["dockerfile", "before", "after", "binary_bytes", "verdict", "reason"] {
        assert!(first.get(key).is_some(), "{key} in {first}");
    }
    for key in ["image", "bytes", "compressed_bytes", "layers", "built"] {
        assert!(first["before"].get(key).is_some() && first["after"].get(key).is_some(), "{key}");
    }
    assert_eq!(first["after"]["smoke"], "passed");
    assert!(report::markdown(&images).contains("| after |"));
}

#[test]
fn a_rewrite_that_does_not_start_is_not_proven() {
    let Some(engine) = engine() else { return };
    let context = service("naive");
    let original = "FROM golang:1.22 AS build\nWORKDIR /app\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /server .\n\n\
                    FROM debian:bookworm-slim\nCOPY --from=build /server /server\nCMD [\"/server\"]\n";
    // A shell-less runtime whose entrypoint needs a shell: it builds, and cannot start.
    let broken = original
        .replace("FROM debian:bookworm-slim", "FROM gcr.io/distroless/static-debian13:nonroot")
        .replace("CMD [\"/server\"]", "ENTRYPOINT [\"/bin/sh\", \"-c\", \"exec /server\"]");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Dockerfile");
    std::fs::write(&path, original).unwrap();
    let report = FileReport {
        path: "broken/Dockerfile".into(),
        kind: Kind::Dockerfile,
        status: Status::Changed,
        reason: None,
        findings: Vec::new(),
        original: Some(original.into()),
        rewritten: Some(broken),
        source_path: Some(path),
        context: Some(context),
        pin_digests: false,
        security: true,
    };
    let images = verify::verify(std::slice::from_ref(&report), &engine, &engine, &options());
    let image = &images[0];
    assert!(image.before.built && image.after.built);
    assert_eq!(image.verdict, Verdict::Failed, "{:?}", image.reason);
    assert_eq!(image.after.smoke, Some(Smoke::Failed));
    let reason = image.reason.as_deref().unwrap();
    assert!(reason.contains("where the original stays up"), "{reason}");
}

#[test]
fn pins_base_images_by_the_digest_their_registry_serves() {
    let Some(_engine) = engine() else { return };
    let registry = std::env::var("HARDEN_REGISTRY").expect("HARDEN_REGISTRY (from the rig's env file)");
    let mirror = format!("{registry}/distroless/static-debian13:nonroot");
    let dir = tempfile::tempdir().unwrap();
    for file in ["Dockerfile", "go.mod", "main.go"] {
        std::fs::copy(service("naive").join(file), dir.path().join(file)).unwrap();
    }
    std::fs::write(dir.path().join(".harden.yml"), format!("runtime:\n  static: {mirror}\n")).unwrap();
    let mut reports = run::analyse(&[dir.path().to_path_buf()]);
    let references = run::pinnable_references(&reports);
    assert!(references.contains(&mirror), "{references:?}");
    let resolver = harden::pin::Registry::for_references(&references).unwrap();
    run::pin(&mut reports, &resolver);
    let dockerfile = reports.iter().find(|r| r.kind == Kind::Dockerfile).unwrap();
    let text = dockerfile.rewritten.as_deref().unwrap();
    // The digest the engine recorded when the rig pushed the image: an independent witness.
    let out = std::process::Command::new(verify::docker_bin().unwrap_or_else(|| "docker".into()))
        .args(["image", "inspect", "--format", "{{range .RepoDigests}}{{println .}}{{end}}", &mirror])
        .output()
        .unwrap();
    let digests = String::from_utf8(out.stdout).unwrap();
    let digest = digests.lines().find_map(|l| l.split_once('@')).map(|(_, d)| d).expect("the rig pushed the image");
    assert!(text.contains(&format!("FROM {mirror}@{digest}\n")), "{text}");
    // The builder's registry cannot be reached here: it stays unpinned, and the reason says so.
    assert!(text.contains("FROM golang:1.22 AS build\n"), "{text}");
    assert!(dockerfile.reason.as_deref().unwrap_or_default().contains("not pinned by digest: golang:1.22"));
}

#[test]
fn build_secrets_reach_the_build_and_only_through_the_option() {
    let Some(engine) = engine() else { return };
    use harden::verify::engine::{Builder, Engine};
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("token.txt");
    std::fs::write(&secret, "s3cret").unwrap();
    let context = dir.path().join("context");
    std::fs::create_dir(&context).unwrap();
    let dockerfile = dir.path().join("Dockerfile");
    // A nonce keeps the RUN step out of BuildKit's cache, which does not key on secrets.
    let nonce = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    std::fs::write(
        &dockerfile,
        format!("FROM debian:bookworm-slim\nRUN --mount=type=secret,id=token test \"$(cat /run/secrets/token)\" = s3cret # {nonce}\n"),
    )
    .unwrap();
    let tag = format!("harden-verify/secret-{}:test", std::process::id());
    let mut options = options().build;
    assert!(engine.build(&context, &dockerfile, &tag, &options).is_err(), "no secret, no build");
    options.secrets = vec![format!("id=token,src={}", secret.display())];
    let built = engine.build(&context, &dockerfile, &tag, &options);
    engine.remove(std::slice::from_ref(&tag));
    built.unwrap();
    // The Engine API builder cannot pass secrets, and says so rather than build without them.
    let bollard = harden::verify::bollard::BollardBuilder::connect().unwrap();
    let refused = bollard.build(&context, &dockerfile, &tag, &options).unwrap_err();
    assert!(refused.contains("--builder cli"), "{refused}");
}

#[test]
fn compressed_sizes_from_the_registry_agree_with_local_gzip() {
    let Some(engine) = engine() else { return };
    let registry = std::env::var("HARDEN_REGISTRY").expect("HARDEN_REGISTRY (from the rig's env file)");
    let reports = run::run(&[service("naive")], false);
    let local = verify::verify(&reports, &engine, &engine, &options());
    let pushed = verify::verify(&reports, &engine, &engine, &Options { registry: Some(registry), ..options() });
    for (l, p) in [(&local[0].after, &pushed[0].after), (&local[0].before, &pushed[0].before)] {
        let (l, p) = (l.compressed_bytes.unwrap() as f64, p.compressed_bytes.unwrap() as f64);
        assert!((l - p).abs() / p < 0.05, "local gzip {l} and the registry's {p} differ by more than 5%");
    }
}

/// The services of issue 10's hard cases, built and run old and new side by side: each comes out
/// proven, or left alone with the reason, never broken.
#[test]
fn services_that_need_care_off_root_are_proven_or_left_alone() {
    let Some(engine) = engine() else { return };
    let paths: Vec<PathBuf> = ["gopath", "relative-workdir", "port80", "data-dir"].iter().map(|s| service(s)).collect();
    let reports = run::run(&paths, false);
    let report = |name: &str| {
        reports.iter().find(|r| r.path.contains(&format!("/{name}/"))).unwrap_or_else(|| panic!("{name}: {reports:?}"))
    };
    let rewritten = |name: &str| report(name).rewritten.clone().unwrap_or_else(|| panic!("{name} is rewritten"));
    // GOPATH mode: no module steps.
    assert!(!rewritten("gopath").contains("go mod download") && !rewritten("gopath").contains("/go/pkg/mod"));
    // The working directory the runtime relied on is kept.
    assert!(rewritten("relative-workdir").contains("\nWORKDIR /\n"), "{}", rewritten("relative-workdir"));
    // Port 80: the runtime and its user stay, and the reason is said.
    assert!(rewritten("port80").contains("FROM debian:bookworm-slim\n") && !rewritten("port80").contains("USER"));
    let port = report("port80").findings.iter().find(|f| f.rule == "HD117").expect("HD117 says why");
    assert!(!port.fixed && port.message.contains("user is left as it is"), "{port:?}");
    // The data directory is the non-root user's.
    assert!(rewritten("data-dir").contains("--chown=65532:65532 /harden/data /data"), "{}", rewritten("data-dir"));

    let images = verify::verify(&reports, &engine, &engine, &options());
    assert_eq!(images.len(), 4);
    for image in &images {
        let name = &image.dockerfile;
        assert_proven(image);
        let expected_user = if name.contains("port80") { "" } else { "65532:65532" };
        assert_eq!(image.after.user, expected_user, "{name}");
    }
}

/// When the original does not build here either (an image no registry here serves), the proof
/// cannot run: it is skipped with the cause, the rewrite is not built, and nothing is failed.
#[test]
fn a_proof_that_cannot_run_here_is_skipped_not_failed() {
    let Some(engine) = engine() else { return };
    let dir = tempfile::tempdir().unwrap();
    for file in ["go.mod", "main.go"] {
        std::fs::copy(service("naive").join(file), dir.path().join(file)).unwrap();
    }
    let dockerfile = "FROM registry.invalid/acme/golang:1.22\nWORKDIR /app\nCOPY . .\nRUN go build -o /server .\nCMD [\"/server\"]\n";
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap();
    let reports = run::run(&[dir.path().to_path_buf()], false);
    assert!(reports.iter().any(|r| r.status == Status::Changed), "{reports:?}");
    let images = verify::verify(&reports, &engine, &engine, &options());
    let image = &images[0];
    assert_eq!(image.verdict, Verdict::Skipped, "{:?}", image.reason);
    assert!(!image.before.built && !image.after.built, "the rewrite is not built when the original cannot be");
    let reason = image.reason.as_deref().unwrap();
    assert!(
        reason.starts_with("the original Dockerfile does not build here either: a base image cannot be pulled here"),
        "{reason}"
    );
}
