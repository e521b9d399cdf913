//! The Dockerfile rules: findings read off the facts and the plan.

use crate::finding::Finding;
use crate::rules;

use super::facts::{Facts, GoRun};
use super::image::{Family, ImageRef};
use super::model::{Body, CommandForm, Copy, Stage};
use super::plan::{Plan, RuntimePlan};
use super::runtime;

/// Substrings of ENV/ARG names that hold secrets (after hadolint DL3064).
const SECRET_NAME_PARTS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "ACCESS_KEY",
    "CLIENT_KEY",
    "CREDENTIAL",
    "AUTH_KEY",
];
/// File names that are credentials.
const SECRET_FILES: &[&str] = &[
    ".env",
    ".netrc",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    "id_rsa",
    "id_ed25519",
    "id_ecdsa",
    "kubeconfig",
    "credentials",
];
const SECRET_EXTENSIONS: &[&str] = &[".key", ".p12", ".pfx", ".jks"];

/// Every finding for a Go Dockerfile, hazards included, in line order.
pub fn findings(facts: &Facts<'_>, plan: &Plan) -> Vec<Finding> {
    let mut out = plan.hazards.clone();
    build_findings(facts, &mut out);
    runtime_findings(facts, plan, &mut out);
    image_findings(facts, &mut out);
    secret_findings(facts, &mut out);
    stage_findings(facts, &mut out);
    out.retain(|f| !facts.config.is_disabled(f.rule));
    out.sort_by(|a, b| (a.line, a.rule).cmp(&(b.line, b.rule)));
    out
}

fn build_findings(facts: &Facts<'_>, out: &mut Vec<Finding>) {
    let df = facts.df;
    for (run, cmd) in facts.builds() {
        let stage = &df.stages[run.stage];
        let line = stage.instructions[run.instr].line;
        if !facts.cgo.needed && facts.cgo_setting(run, cmd).as_deref() != Some("0") {
            out.push(Finding::new(
                &rules::CGO_NOT_DISABLED,
                line,
                "the Go build does not set CGO_ENABLED=0; with gcc in the builder the binary links against libc",
            ));
        }
        let goflags = cmd
            .env_value("GOFLAGS")
            .map(str::to_string)
            .or_else(|| facts.env_at(stage, run.instr, "GOFLAGS"))
            .unwrap_or_default();
        if cmd.flag("trimpath").is_none() && !goflags.contains("-trimpath") {
            out.push(Finding::new(&rules::NO_TRIMPATH, line, "the Go build has no -trimpath"));
        }
        let ld = cmd.ldflags();
        if !(ld.contains(&"-s") && ld.contains(&"-w")) {
            out.push(Finding::new(
                &rules::NOT_STRIPPED,
                line,
                "the Go build does not strip symbols (-ldflags=\"-s -w\")",
            ));
        }
    }
    for &s in &facts.builder_stages() {
        let stage = &df.stages[s];
        if let Some(copy_line) = module_cache_missing(facts, stage) {
            out.push(Finding::new(
                &rules::MODULE_CACHE,
                copy_line,
                "the source is copied before go.mod/go.sum are downloaded, so any change downloads every module again",
            ));
        }
    }
    for run in &facts.go_runs {
        let missing = missing_cache_mounts(facts, run);
        if !missing.is_empty() {
            out.push(Finding::new(
                &rules::NO_CACHE_MOUNT,
                df.stages[run.stage].instructions[run.instr].line,
                format!("this Go command runs without a BuildKit cache mount for {}", missing.join(" and ")),
            ));
        }
    }
}

/// The line of the source COPY that comes before `go.mod` is copied and downloaded, if any.
pub fn module_cache_missing(facts: &Facts<'_>, stage: &Stage) -> Option<usize> {
    if facts.source.vendored
        || facts.builds().any(|(_, c)| c.flag("mod").and_then(|f| f.value.as_deref()) == Some("vendor"))
    {
        return None;
    }
    let first_go = facts.go_runs.iter().filter(|r| r.stage == stage.index).map(|r| r.instr).min()?;
    // A stage built on one that copied the module files has them already (that stage's own
    // order is its own finding).
    let mut parent = facts.parent_stage(stage);
    while let Some(p) = parent {
        if p.instructions.iter().any(|i| copies_module_files(&i.body)) {
            return None;
        }
        parent = facts.parent_stage(p);
    }
    for inst in &stage.instructions[..first_go] {
        if let Body::Copy(copy) = &inst.body
            && copy.from.is_none()
        {
            if copies_module_files(&inst.body) {
                return None;
            }
            if copy.sources.iter().any(|s| matches!(s.as_str(), "." | "./")) {
                return Some(inst.line);
            }
        }
    }
    None
}

/// True for a `COPY` from the build context of `go.mod` / `go.sum`.
fn copies_module_files(body: &Body) -> bool {
    matches!(body, Body::Copy(copy) if copy.from.is_none()
        && copy.sources.iter().any(|s| s.trim_start_matches("./").starts_with("go.")))
}

/// The cache mount targets a Go `RUN` lacks: the module cache for every Go command, and the
/// build cache for commands that compile (everything but `go mod`). Empty when mounts are
/// turned off or not safe in the stage.
pub fn missing_cache_mounts(facts: &Facts<'_>, run: &GoRun) -> Vec<String> {
    let stage = &facts.df.stages[run.stage];
    let Body::Run { mounts, .. } = &stage.instructions[run.instr].body else { return Vec::new() };
    if !facts.config.cache_mounts || run.exec_form || !cache_mounts_apply(facts, stage) {
        return Vec::new();
    }
    let mut wanted = vec![mod_cache(facts, stage, run.instr)];
    if run.commands.iter().any(|c| c.subcommand != "mod") {
        wanted.push(facts.env_at(stage, run.instr, "GOCACHE").unwrap_or_else(|| "/root/.cache/go-build".into()));
    }
    wanted
        .into_iter()
        .filter(|t| !mounts.iter().any(|m| m.contains("type=cache") && m.contains(t.trim_end_matches('/'))))
        .collect()
}

/// The module cache directory of a stage (`GOMODCACHE`, `GOPATH/pkg/mod`, or the golang image's).
pub fn mod_cache(facts: &Facts<'_>, stage: &Stage, upto: usize) -> String {
    facts
        .env_at(stage, upto, "GOMODCACHE")
        .or_else(|| facts.env_at(stage, upto, "GOPATH").map(|p| format!("{p}/pkg/mod")))
        .unwrap_or_else(|| "/go/pkg/mod".into())
}

/// True when BuildKit cache mounts are safe in this stage: a golang image, no go commands inherited
/// from a parent stage (a mount would hide the modules that stage downloaded), no stage built on
/// this one (a mount would keep the modules out of the image that stage starts from), and no
/// non-root USER before its Go commands (the build cache lives in root's home).
pub fn cache_mounts_apply(facts: &Facts<'_>, stage: &Stage) -> bool {
    let golang = facts.base_image(stage).is_some_and(|i| i.family() == Family::Golang);
    if facts.df.stages.iter().any(|s| facts.parent_stage(s).is_some_and(|p| p.index == stage.index)) {
        return false;
    }
    let mut parent = facts.parent_stage(stage);
    while let Some(p) = parent {
        if facts.go_runs.iter().any(|r| r.stage == p.index) {
            return false;
        }
        parent = facts.parent_stage(p);
    }
    let last_go = facts.go_runs.iter().filter(|r| r.stage == stage.index).map(|r| r.instr).max().unwrap_or(0);
    golang && !stage.instructions[..last_go].iter().any(|i| matches!(&i.body, Body::User(u, _) if !is_root(u)))
}

fn runtime_findings(facts: &Facts<'_>, plan: &Plan, out: &mut Vec<Finding>) {
    let stage = facts.runtime_stage();
    let base = facts.base_image(stage);
    if facts.is_single_stage() {
        let mut message = format!(
            "the single stage {} builds and runs the program: the Go toolchain and the source ship in the image",
            stage.from.image
        );
        if let RuntimePlan::Split { blind: true, .. } = plan.runtime {
            message.push_str(
                "; the source was not available, so only the binary is carried: check that it needs no other files",
            );
        }
        out.push(Finding::new(&rules::SINGLE_STAGE, stage.from.line, message));
    } else if let Some(base) = base.as_ref().filter(|b| b.family().is_fat()) {
        out.push(Finding::new(
            &rules::FAT_RUNTIME,
            stage.from.line,
            format!(
                "the runtime stage runs on {}, a full OS image with a shell and package manager",
                base.to_reference()
            ),
        ));
    }
    let nonroot_base = base.is_some_and(ImageRef::default_user_is_nonroot);
    match facts.last_user(stage) {
        None if nonroot_base => out.push(Finding::new(
            &rules::RUNS_AS_ROOT,
            stage.from.line,
            "no USER instruction: the user comes from the base image's tag; make it explicit",
        )),
        None => out.push(Finding::new(
            &rules::RUNS_AS_ROOT,
            stage.from.line,
            "no USER instruction: the program runs as root",
        )),
        Some((inst, user)) if is_root(user) => {
            out.push(Finding::new(&rules::RUNS_AS_ROOT, inst.line, format!("the last USER is {user}")));
        }
        Some((inst, user)) if !is_numeric_user(user) => out.push(Finding::new(
            &rules::NON_NUMERIC_USER,
            inst.line,
            format!("USER {user} is a name; the kubelet cannot verify it is non-root under runAsNonRoot"),
        )),
        Some(_) => {}
    }
    for inst in &stage.instructions {
        match &inst.body {
            Body::Entrypoint(CommandForm::Shell(..)) | Body::Cmd(CommandForm::Shell(..)) => {
                out.push(Finding::new(
                    &rules::SHELL_FORM,
                    inst.line,
                    format!(
                        "{} is in shell form: it runs under /bin/sh and the program does not get signals",
                        inst.keyword
                    ),
                ));
            }
            Body::Healthcheck(Some(form))
                if plan.runtime_is_shell_less(facts) && runtime::healthcheck_needs_tools(form) =>
            {
                out.push(Finding::new(
                    &rules::HEALTHCHECK_TOOL,
                    inst.line,
                    "HEALTHCHECK needs a shell or an HTTP tool that a distroless runtime does not have",
                ));
            }
            Body::Expose(ports) => {
                for port in ports {
                    let number = port.split('/').next().and_then(|p| p.parse::<u32>().ok());
                    if number.is_some_and(|n| n < 1024) {
                        out.push(Finding::new(
                            &rules::PRIVILEGED_PORT,
                            inst.line,
                            format!("EXPOSE {port}: a non-root process may not bind a port below 1024"),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    let libc_missing = base.as_ref().is_some_and(|b| !b.has_libc());
    if !facts.is_single_stage() && facts.cgo.needed && !facts.cgo.static_link && libc_missing {
        out.push(Finding::new(
            &rules::CGO_STATIC_RUNTIME,
            stage.from.line,
            format!("cgo is needed ({}) but the runtime has no libc", facts.cgo.reason.as_deref().unwrap_or("cgo")),
        ));
    }
}

fn image_findings(facts: &Facts<'_>, out: &mut Vec<Finding>) {
    for stage in &facts.df.stages {
        let line = stage.from.line;
        if facts.parent_stage(stage).is_some() {
            continue;
        }
        let Some(image) = facts.base_image(stage) else {
            continue;
        };
        if image.family() == Family::Scratch {
            continue;
        }
        let reference = image.to_reference();
        if image.digest.is_none() {
            out.push(Finding::new(&rules::NOT_PINNED, line, format!("{reference} is not pinned by digest")));
            if image.tag.is_none() || image.tag.as_deref() == Some("latest") {
                out.push(Finding::new(&rules::LATEST_TAG, line, format!("{reference} has no version tag")));
            }
        }
        if image.family() == Family::Distroless && image.short_name().ends_with("-debian12") {
            out.push(Finding::new(&rules::DISTROLESS_EOL, line, format!("{reference} is past end of life")));
        }
        for inst in &stage.instructions {
            if let Body::Copy(copy) = &inst.body
                && copy.is_add
                && copy.sources.iter().all(|s| add_is_plain_copy(s))
            {
                out.push(Finding::new(&rules::ADD_FOR_COPY, inst.line, "ADD copies local files; COPY says so"));
            }
        }
    }
}

/// Copies from outside the file, and runtime-looking stages other than the last.
fn stage_findings(facts: &Facts<'_>, out: &mut Vec<Finding>) {
    let df = facts.df;
    let mut referenced = vec![false; df.stages.len()];
    for stage in &df.stages {
        if let Some(parent) = facts.parent_stage(stage) {
            referenced[parent.index] = true;
        }
        for inst in &stage.instructions {
            let Body::Copy(Copy { from: Some(from), .. }) = &inst.body else { continue };
            match df.stage_named(from) {
                Some(source) => referenced[source.index] = true,
                None => out.push(Finding::new(
                    &rules::FOREIGN_FROM,
                    inst.line,
                    format!("COPY --from={from} names no stage: an image or a named build context, kept as it is"),
                )),
            }
        }
    }
    let builders = facts.builder_stages();
    for stage in &df.stages[..df.stages.len().saturating_sub(1)] {
        let copies_from_stage =
            stage.instructions.iter().any(|i| matches!(&i.body, Body::Copy(Copy { from: Some(_), .. })));
        let fat = facts.base_image(stage).is_some_and(|b| b.family().is_fat());
        if !referenced[stage.index] && !builders.contains(&stage.index) && copies_from_stage && fat {
            out.push(Finding::new(
                &rules::SECOND_RUNTIME,
                stage.from.line,
                format!(
                    "stage {} looks like a second runtime image (docker build --target {}); harden hardens only the final stage",
                    stage.reference(),
                    stage.reference()
                ),
            ));
        }
    }
}

fn secret_findings(facts: &Facts<'_>, out: &mut Vec<Finding>) {
    for name in facts.df.global_args.iter().map(|a| &a.name) {
        if is_secret_name(name) {
            let line = facts.text.lines().position(|l| l.contains(name.as_str())).map_or(1, |i| i + 1);
            out.push(Finding::new(&rules::SECRET_IN_ENV, line, format!("ARG {name} looks like a secret")));
        }
    }
    for stage in &facts.df.stages {
        for inst in &stage.instructions {
            match &inst.body {
                Body::Env(pairs) => {
                    for (name, _) in pairs.iter().filter(|(n, v)| is_secret_name(n) && !v.is_empty()) {
                        out.push(Finding::new(
                            &rules::SECRET_IN_ENV,
                            inst.line,
                            format!("ENV {name} looks like a secret"),
                        ));
                    }
                }
                Body::Arg(args) => {
                    for (name, _) in args.iter().filter(|(n, _)| is_secret_name(n)) {
                        out.push(Finding::new(
                            &rules::SECRET_IN_ENV,
                            inst.line,
                            format!("ARG {name} looks like a secret"),
                        ));
                    }
                }
                Body::Copy(copy) => {
                    for src in copy.sources.iter().filter(|s| is_secret_file(s)) {
                        out.push(Finding::new(
                            &rules::SECRET_FILE_COPIED,
                            inst.line,
                            format!("{src} is a credential file"),
                        ));
                    }
                }
                _ => {}
            }
        }
    }
}

/// True for a USER value that means root.
pub fn is_root(user: &str) -> bool {
    let uid = user.split(':').next().unwrap_or(user);
    uid == "root" || uid == "0"
}

/// True when the user part of a USER value is a number (or an ARG, which hadolint accepts).
pub fn is_numeric_user(user: &str) -> bool {
    let uid = user.split(':').next().unwrap_or(user);
    uid.starts_with('$') || (!uid.is_empty() && uid.chars().all(|c| c.is_ascii_digit()))
}

/// True for an ENV/ARG name that holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let pointer = ["_FILE", "_PATH", "_DIR", "_URL", "_ENDPOINT"].iter().any(|s| upper.ends_with(s));
    !pointer && SECRET_NAME_PARTS.iter().any(|p| upper.contains(p))
}

/// True for a copied path that is a credential file.
pub fn is_secret_file(path: &str) -> bool {
    if path.contains("://") {
        return false;
    }
    let name = path.trim_end_matches('/').rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    let env_file =
        name == ".env" || (name.starts_with(".env.") && !name.ends_with(".example") && !name.ends_with(".sample"));
    env_file
        || SECRET_FILES.iter().any(|f| name == *f || (name.starts_with(f) && *f != ".env" && !name.ends_with(".pub")))
        || SECRET_EXTENSIONS.iter().any(|e| name.ends_with(e))
}

/// True when an ADD source is a local file or directory (not a URL, git repo or tar archive).
pub fn add_is_plain_copy(src: &str) -> bool {
    let lower = src.to_ascii_lowercase();
    let remote = lower.contains("://") || lower.starts_with("git@");
    let archive = [".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst"]
        .iter()
        .any(|e| lower.ends_with(e));
    !remote && !archive
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_users() {
        assert!(is_root("root:root") && is_root("0") && !is_root("65532:65532"));
        assert!(is_numeric_user("65532:65532") && is_numeric_user("${UID}") && !is_numeric_user("nonroot"));
    }

    #[test]
    fn knows_secrets() {
        assert!(is_secret_name("GITHUB_TOKEN") && is_secret_name("db_password"));
        assert!(!is_secret_name("PASSWORD_FILE") && !is_secret_name("PORT"));
        assert!(is_secret_file(".env") && is_secret_file("certs/server.key") && is_secret_file("id_rsa"));
        assert!(!is_secret_file(".env.example") && !is_secret_file("id_rsa.pub") && !is_secret_file("main.go"));
    }

    #[test]
    fn add_of_archives_and_urls_is_not_a_copy() {
        assert!(add_is_plain_copy("."));
        assert!(!add_is_plain_copy("https://example.com/x"));
        assert!(!add_is_plain_copy("rootfs.tar.gz"));
    }
}
