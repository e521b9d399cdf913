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
        cve_scanner: verify::cves::ScannerChoice::Auto,
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
    let images = verify::verify(&reports, &bollard, &engine, &Options { keep_images: true, ..options() });
    assert_eq!(images.len(), 4);
    for image in &images {
        let name = &image.dockerfile;
        assert_proven(image);
        assert_contents_agree(&engine, image);
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
        build_args: Vec::new(),
        pin_digests: false,
        unpinned: Vec::new(),
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

    let images = verify::verify(&reports, &engine, &engine, &Options { keep_images: true, ..options() });
    assert_eq!(images.len(), 4);
    for image in &images {
        let name = &image.dockerfile;
        assert_proven(image);
        assert_contents_agree(&engine, image);
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

/// The build arguments the repository's Compose file gives an image reach both builds: an
/// original whose base images come from them builds here as it does in the repository, so the
/// proof runs instead of being skipped.
#[test]
fn build_arguments_from_compose_reach_the_proof() {
    let Some(engine) = engine() else { return };
    let dir = tempfile::tempdir().unwrap();
    for file in ["go.mod", "main.go"] {
        std::fs::copy(service("naive").join(file), dir.path().join(file)).unwrap();
    }
    let dockerfile = "ARG GO_IMAGE\nFROM ${GO_IMAGE} AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o /server .\n\nFROM debian:bookworm-slim\nCOPY --from=build /server /server\nCMD [\"/server\"]\n";
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap();
    let compose = "services:\n  server:\n    build:\n      context: .\n      args:\n        GO_IMAGE: golang:1.22\n";
    std::fs::write(dir.path().join("compose.yaml"), compose).unwrap();
    let reports = run::run(&[dir.path().to_path_buf()], false);
    let report = reports.iter().find(|r| r.status == Status::Changed).unwrap_or_else(|| panic!("{reports:?}"));
    assert_eq!(report.build_args, [("GO_IMAGE".to_string(), "golang:1.22".to_string())]);
    let images = verify::verify(&reports, &engine, &engine, &options());
    assert_proven(&images[0]);
    assert_eq!(images[0].after.user, "65532:65532", "{:?}", images[0]);
}

/// Runs `docker ARGS` and returns its standard output, failing the test when it fails.
fn docker(args: &[&str]) -> String {
    let out = std::process::Command::new(verify::docker_bin().unwrap()).args(args).output().unwrap();
    assert!(out.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The paths of an image's files, and their modes, as `docker export` of a container made
/// from it lists them: the engine's own view of the merged layers.
fn exported(image: &str) -> Vec<(String, u32)> {
    let id = docker(&["create", image, "/none"]).trim().to_string();
    let out = std::process::Command::new(verify::docker_bin().unwrap()).args(["export", &id]).output().unwrap();
    docker(&["rm", &id]);
    let mut archive = tar::Archive::new(&out.stdout[..]);
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (format!("/{}", e.path().unwrap().display()), e.header().mode().unwrap())
        })
        .collect()
}

/// What the proof read from both images' layers agrees with what the images themselves report:
/// dpkg's own count and `find -perm` run in an image with a shell, the engine's `docker export`
/// of one without; a shell-less runtime has no shell and no package manager left. Removes both.
fn assert_contents_agree(engine: &DockerCli, image: &verify::ImageReport) {
    let name = &image.dockerfile;
    for side in [&image.before, &image.after] {
        let contents = side.contents.as_ref().unwrap_or_else(|| panic!("{name}: {:?}", side.contents_error));
        if contents.shell.is_empty() {
            let files = exported(&side.image);
            let status_d = files.iter().filter(|(p, _)| {
                p.starts_with("/var/lib/dpkg/status.d/")
                    && p.len() > "/var/lib/dpkg/status.d/".len()
                    && !p.ends_with(".md5sums")
            });
            assert_eq!(contents.packages.count, status_d.count(), "{name}: {}'s status.d", side.image);
            let setuid = files.iter().filter(|(_, mode)| mode & 0o6000 != 0).count();
            assert_eq!(contents.setuid.len(), setuid, "{name}: {}", side.image);
            assert!(contents.package_manager.is_empty(), "{name}: {contents:?}");
            continue;
        }
        let sh = |script: &str| {
            let args = ["run", "--rm", "--network", "none", "--user", "0:0", "--entrypoint", "/bin/sh"];
            docker(&[&args[..], &[side.image.as_str(), "-c", script]].concat())
        };
        let installed = sh("dpkg-query -W -f '${db:Status-Status}\\n' | grep -c '^installed$'");
        assert_eq!(contents.packages.count, installed.trim().parse::<usize>().unwrap(), "{name}: dpkg-query's count");
        let mut setuid: Vec<String> = sh("find / -xdev -type f -perm /6000").lines().map(str::to_string).collect();
        setuid.sort();
        assert_eq!(contents.setuid, setuid, "{name}: find -perm /6000 in {}", side.image);
        assert!(
            contents.package_manager.iter().any(|p| p.ends_with("/dpkg")),
            "{name}: {:?}",
            contents.package_manager
        );
        assert_eq!(contents.os.as_ref().and_then(|o| o.id.as_deref()), Some("debian"), "{name}");
    }
    let (before, after) = (image.before.contents.as_ref().unwrap(), image.after.contents.as_ref().unwrap());
    assert!(!before.shell.is_empty(), "{name}: the original has a shell");
    assert_eq!(after.shell.is_empty(), image.after.base.contains("distroless"), "{name}: {:?}", after.shell);
    if after.shell.is_empty() {
        assert!(after.packages.count < before.packages.count, "{name}");
        let table = report::markdown(std::slice::from_ref(image));
        assert!(table.contains("| packages | shell |") && table.contains("packages removed"), "{table}");
    }
    match (verify::cves::find(verify::cves::ScannerChoice::Auto), &image.cves_note) {
        (Err(why), note) => assert_eq!(note.as_ref(), Some(&why), "{name}: no scanner is said plainly"),
        (Ok(_), note) => assert!(note.is_some() || image.after.cves.is_some(), "{name}"),
    }
    engine_remove(engine, image);
}

fn engine_remove(engine: &DockerCli, image: &verify::ImageReport) {
    use harden::verify::engine::Engine;
    engine.remove(&[image.before.image.clone(), image.after.image.clone()]);
}

/// A hostile image (a layer of 100,000 files, a later layer that whites out their whole
/// directory) loaded into the engine and read back through `docker save`: a bounded, clear result.
#[test]
fn a_hostile_image_is_read_within_bounds() {
    use harden::verify::engine::Engine;
    use sha2::Digest;
    let Some(engine) = engine() else { return };
    let layer = |build: &dyn Fn(&mut tar::Builder<Vec<u8>>)| {
        let mut tar = tar::Builder::new(Vec::new());
        build(&mut tar);
        tar.into_inner().unwrap()
    };
    let add = |tar: &mut tar::Builder<Vec<u8>>, path: &str, mode: u32, data: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(mode);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, path, data).unwrap();
    };
    let flood = layer(&|tar| {
        add(tar, "var/lib/dpkg/status", 0o644, b"Package: base-files\nStatus: install ok installed\n\n");
        add(tar, "flood/su", 0o4755, b"");
        for i in 0..100_000 {
            add(tar, &format!("flood/f{i}"), 0o644, b"");
        }
    });
    let whiteout = layer(&|tar| add(tar, ".wh.flood", 0o644, b""));
    let diff_id = |bytes: &[u8]| format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)));
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux", "config": {"User": "65532:65532"},
        "rootfs": {"type": "layers", "diff_ids": [diff_id(&flood), diff_id(&whiteout)]}
    });
    let tag = format!("harden-test/hostile:{}", std::process::id());
    let manifest =
        serde_json::json!([{"Config": "config.json", "RepoTags": [tag], "Layers": ["l1/layer.tar", "l2/layer.tar"]}]);
    let archive = layer(&|tar| {
        add(tar, "l1/layer.tar", 0o644, &flood);
        add(tar, "l2/layer.tar", 0o644, &whiteout);
        add(tar, "config.json", 0o644, config.to_string().as_bytes());
        add(tar, "manifest.json", 0o644, manifest.to_string().as_bytes());
    });
    let mut load = std::process::Command::new(verify::docker_bin().unwrap())
        .args(["load", "-q"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut load.stdin.take().unwrap(), &archive).unwrap();
    assert!(load.wait().unwrap().success(), "docker load of the crafted image");
    let started = std::time::Instant::now();
    let contents = verify::contents::read(engine.save(&tag).unwrap()).unwrap();
    engine.remove(std::slice::from_ref(&tag));
    assert!(started.elapsed() < Duration::from_secs(60), "read in {:?}", started.elapsed());
    assert_eq!(contents.packages.count, 1);
    assert!(contents.setuid.is_empty(), "the whiteout removed the whole directory: {:?}", contents.setuid);
    assert!(contents.limits_hit.is_empty(), "{:?}", contents.limits_hit);
    assert!(!contents.runs_as_root);
}
