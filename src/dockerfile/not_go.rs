//! Why a Dockerfile is not taken for a Go build harden can harden, as precisely as the file
//! says: a GoReleaser binary on a base harden does not change, an OLM bundle, a runtime from a
//! build argument, a builder harden does not know, a binary built outside on another base.

use super::facts::commands::{module_path, repository_url};
use super::{facts, image, model};

/// What a distribution base carries that a binary built elsewhere may need, and distroless lacks.
const BASE_CARRIES: &str = "(a shell, an account, the C library of a cgo build)";

/// Images of other languages' toolchains and runtimes (`ruby:3`, `python:3.12-slim`).
const OTHER_LANGUAGES: &[&str] = &[
    "node",
    "python",
    "ruby",
    "php",
    "openjdk",
    "eclipse-temurin",
    "maven",
    "gradle",
    "rust",
    "dotnet",
    "perl",
    "elixir",
];

/// Why a file is not taken for a Go build, as precisely as it says.
pub(super) fn not_a_go_build(facts: &facts::Facts<'_>) -> String {
    let stage = facts.runtime_stage();
    // A release's binary reaches the image only through a copy from the build context (a file
    // that copies nothing, `RUN curl … kubectl` on another image, ships none of it).
    let copies_context = stage.instructions.iter().any(
        |i| matches!(&i.body, model::Body::Copy(c) if c.from.is_none() && c.sources.iter().any(|s| !s.contains("://"))),
    );
    if let Some(released) = facts.source.orchestration.released.as_ref().filter(|_| copies_context) {
        let cgo = released.cgo_phrase();
        // The image it publishes runs as root: said, since nothing else reports it.
        let root = match super::userswitch::runs_as_root(facts) {
            true => "; the published image runs as root (no USER instruction)",
            false => "",
        };
        let base = facts.base_image(stage).map(|b| match &b.tag {
            Some(tag) => format!("{}:{tag}", b.name),
            None => b.name.clone(),
        });
        let base = base.unwrap_or_else(|| stage.from.image.clone());
        if facts.runs_s6_overlay(stage) {
            return format!(
                "a Go binary GoReleaser builds ({}){cgo} run as a service of the s6-overlay init on {base}: the init runs as root by design and starts the program as the user its service script chooses, and distroless has no s6 to run, so harden leaves the image as it is",
                released.origin,
            );
        }
        // Whatever the base, an entrypoint script is what runs first.
        let starts_script = facts.started_program(stage).is_some_and(|p| p.ends_with(".sh"));
        if starts_script
            || facts
                .base_image(stage)
                .is_some_and(|b| b.family().is_shell_less() || b.family() == image::Family::Busybox)
        {
            let started = facts.started_program(stage).unwrap_or_else(|| "no command".into());
            return format!(
                "a Go binary GoReleaser builds ({}){cgo} copied onto {base}, whose command starts {started}, not the binary itself: what that needs of the image (a shell, tools, an account) is not known, so harden leaves the image as it is{root}",
                released.origin,
            );
        }
        let carries = match released.may_link_c() {
            true => BASE_CARRIES,
            false => "(a shell, an account)",
        };
        return format!(
            "a Go binary GoReleaser builds ({}){cgo} copied onto {base}: the program may need what the release's base carries {carries}, and harden cannot build that binary to prove it runs on distroless, so it leaves the image as it is{root}",
            released.origin,
        );
    }
    // The last stage on scratch with no command, only copies: an export (`--output`) or data.
    let (entrypoint, cmd) = facts.entrypoint_and_cmd(stage);
    let copies_only = stage.instructions.iter().all(|i| !matches!(i.body, model::Body::Run { .. }));
    if facts.base_image(stage).is_some_and(|b| b.family() == image::Family::Scratch)
        && entrypoint.is_none()
        && cmd.is_none()
        && copies_only
    {
        return "no program runs in it: its last stage is built on scratch, has no command and only copies files in (an export for `docker build --output`, or files another image takes)".into();
    }
    // OLM's bundle labels: the image carries an operator's manifests and metadata.
    if facts.text.contains("operators.operatorframework.io.bundle.") {
        return "an OLM bundle image: it carries the operator's manifests and metadata for OLM to read, and runs no program".into();
    }
    if facts.base_image(stage).is_none() && facts.df.stage_named(&stage.from.image).is_none() {
        // A USER of its own says as whom; only the image is decided elsewhere.
        let decided = if facts.last_user(stage).is_some() { "what it runs on" } else { "what it runs on and as whom" };
        // `authelia/base:${TAG}@sha256:${SHA}`: the name is written, its version is not.
        let image = &stage.from.image;
        let name = image.split(['@', ':']).next().unwrap_or(image);
        let from_arguments = match (name.contains('$'), facts.df.stand_in_arg(image)) {
            (_, Some((arg, default))) => {
                format!(
                    "an image the build argument {arg} completes, whose default ({default}) only stands in for what each build passes"
                )
            }
            (true, None) => "a build argument with no default".to_string(),
            (false, None) => "an image whose tag or digest comes from a build argument with no default".to_string(),
        };
        // A non-root user of its own (`USER ${USER_UID}`, `ARG USER_UID=10001`) is said: only the
        // base is left to the build.
        let stage_user = facts.last_user(stage).and_then(|(inst, user)| {
            let at = stage.instructions.iter().position(|i| std::ptr::eq(i, inst)).unwrap_or(0);
            let ids = facts.expand(stage, at, user).filter(|ids| ids != user);
            let uid = ids.as_deref().unwrap_or(user).split(':').next()?.parse::<u32>().ok()?;
            (uid > 0).then(|| ids.map_or_else(|| format!("USER {user}"), |ids| format!("USER {user} ({ids})")))
        });
        if let Some(user) = stage_user {
            return format!(
                "its runtime image is {image}, {from_arguments}, so what it runs on is decided outside the file, and what the program needs of it is not known; it already runs as {user}, not root"
            );
        }
        return format!(
            "not known to be a Go build: its runtime image is {image}, {from_arguments}, so {decided} is decided outside the file"
        );
    }
    // A stage the runtime copies from that builds with make (or a script) on an image harden does
    // not know as a Go toolchain.
    let copied_from = stage.instructions.iter().filter_map(|i| match &i.body {
        model::Body::Copy(c) => c.from.as_deref().and_then(|f| facts.df.stage_named(f)),
        _ => None,
    });
    let made = copied_from.into_iter().find_map(|builder| {
        let runs = builder.instructions.iter().flat_map(|i| i.body.run_commands());
        // make or a script, or `go run` of a build helper (which runs go build itself).
        let program = runs.into_iter().find_map(|c| {
            let argv: Vec<&str> = c.argv().iter().map(|t| t.value.as_str()).collect();
            match argv.as_slice() {
                ["go", "run", ..] => Some("go run".to_string()),
                [program, ..] if facts::commands::runs_builds(program) => Some(program.to_string()),
                _ => None,
            }
        })?;
        Some((builder, program))
    });
    if let Some((builder, program)) = made {
        // A `go test` or `go vet` beside it says the image has Go, not what make builds.
        let go = facts
            .go_runs
            .iter()
            .filter(|r| r.stage == builder.index)
            .flat_map(|r| &r.commands)
            .find(|c| c.subcommand != "run");
        let image = match go {
            Some(command) => format!("a Go toolchain (the stage also runs go {})", command.subcommand),
            None if program == "go run" => "a Go toolchain".into(),
            None => "an image harden does not know as a Go toolchain".into(),
        };
        // Built on another stage of the file: named as one.
        let on = match facts.df.stage_named(&builder.from.image) {
            Some(parent) => {
                let base = facts.base_image(builder).map(|b| b.to_reference());
                format!(
                    "stage {} (on {})",
                    parent.reference(),
                    base.unwrap_or_else(|| "an image from a build argument".into())
                )
            }
            None => builder.from.image.clone(),
        };
        return format!(
            "not known to be a Go build: the runtime copies from stage {}, which runs {program} on {on}, {image}, so harden cannot tell what program {program} builds or how",
            builder.reference(),
        );
    }
    // Only arguments for the base image's own entrypoint (`CMD ["--assets.location=/web"]`): the
    // program that runs is that image's, and the files copied beside it are its data.
    let (entrypoint, cmd) = facts.entrypoint_and_cmd(stage);
    if entrypoint.is_none() && cmd.and_then(|c| c.words().first().cloned()).is_some_and(|w| w.starts_with('-')) {
        return format!(
            "not a Go build: it extends {}, whose own entrypoint runs (the CMD only gives it flags), adding files to it; harden hardens the image it extends where that is built",
            stage.from.image
        );
    }
    // A file from the build context that could be a program: a name without an extension
    // (`dist/$TARGETPLATFORM/traefik`), not a script, a list of requirements, a directory, a
    // project's text named in capitals (`LICENSE`, `NOTICE`) or a pattern alone (`*`).
    let binary_like = |source: &String| {
        let name = source.trim_end_matches('/').rsplit('/').next().unwrap_or(source);
        let text = name.len() > 1 && name.chars().all(|c| c.is_ascii_uppercase() || c == '_' || c == '-');
        // A pattern alone (`COPY * /crds/`) names whatever lies there, no program.
        let pattern = name.chars().all(|c| matches!(c, '*' | '?'));
        !source.ends_with('/')
            && !matches!(name, "." | "..")
            && !text
            && !pattern
            && (!name.contains('.') || name.contains('$'))
    };
    let copies_context = stage
        .instructions
        .iter()
        .any(|i| matches!(&i.body, model::Body::Copy(c) if c.from.is_none() && c.sources.iter().any(binary_like)));
    let base = facts.base_image(stage);
    // An image of another language's toolchain or runtime copies that language's files.
    let other_language = base.is_some_and(|b| {
        let name = b.name.rsplit('/').next().unwrap_or(&b.name);
        OTHER_LANGUAGES.iter().any(|l| name == *l || name.starts_with(&format!("{l}-")))
    }) || starts_interpreter(facts, stage);
    // A program the stage installs from its distribution's packages (`zypper in nginx`, then
    // `CMD ["nginx", …]`) is that package's; what the file copies is its data.
    let started = facts.started_program(stage);
    let name = started.as_deref().map(|p| p.rsplit('/').next().unwrap_or(p));
    if let Some(name) = name.filter(|n| stage.instructions.iter().flat_map(facts::installed_packages).any(|p| p == *n))
    {
        return format!(
            "not a Go build: it runs {name}, which the file installs as a package onto {}, and the files it copies are {name}'s to read",
            stage.from.image
        );
    }
    if let Some(why) = name.and_then(|n| downloaded(facts, stage, n)) {
        return why;
    }
    if copies_context && facts.source.available && !other_language {
        if let Some(why) = no_go_program(facts, stage) {
            return why;
        }
        let shell_less = base.is_some_and(|b| b.family().is_shell_less() || b.family() == image::Family::Busybox);
        return match shell_less {
            true => format!(
                "not known to be a Go build: it copies files built outside the Dockerfile onto {}, and nothing says they are a Go program it starts",
                stage.from.image
            ),
            false => {
                // Name the image as its build arguments' defaults make it, and say what harden
                // knows of it: a distribution with a shell and packages, or nothing.
                let written = &stage.from.image;
                let shown = match base.map(|b| b.to_reference()) {
                    Some(resolved) if resolved != *written => {
                        format!("{written} ({resolved} by its build argument's default)")
                    }
                    _ => written.clone(),
                };
                let what = match base.map(|b| b.family()) {
                    Some(image::Family::Other) | None => "an image harden does not know",
                    Some(_) => "an image with a shell and packages",
                };
                // What the stage installs is what the program most likely uses (git, gnupg, certificates).
                // Distroless carries certificates and time zones too: they keep no program here.
                let installed: Vec<String> = stage
                    .instructions
                    .iter()
                    .flat_map(facts::installed_packages)
                    .filter(|p| !super::runtime::PROVIDED_PACKAGES.contains(&p.as_str()))
                    .collect();
                // A command that is a shell's (`/bin/sh -c "cp /plugins/* /target/."`) runs this base's tools.
                let (entrypoint, cmd) = facts.entrypoint_and_cmd(stage);
                let shell_command = entrypoint.or(cmd).map(|c| c.words()).filter(|w| {
                    w.first().is_some_and(|p| crate::shell::is_shell_program(p)) && w.get(1).is_some_and(|f| f == "-c")
                });
                let needs = match (shell_command, installed.as_slice()) {
                    (Some(words), _) => format!(
                        "its command is a shell's (`{}`), which runs this base's shell and tools",
                        words.join(" ")
                    ),
                    (None, []) => format!("the program may need what this base carries {BASE_CARRIES}"),
                    (None, packages) => {
                        format!("the program may use what the stage installs ({})", packages.join(", "))
                    }
                };
                format!(
                    "a binary built outside the Dockerfile, copied onto {shown}, {what}: {needs}, and harden cannot build that binary to prove it runs on distroless, so it leaves the image as it is"
                )
            }
        };
    }
    // A binary from the build context with no Go module beside it to read.
    let copied = stage.instructions.iter().find_map(|i| match &i.body {
        // A path from a build argument may be anything (another language's files).
        model::Body::Copy(c) if c.from.is_none() => c.sources.iter().find(|s| binary_like(s) && !s.contains('$')),
        _ => None,
    });
    match copied {
        Some(source) if !other_language => format!(
            "not known to be a Go build: no go build or go install in the file, and it adds {source}, built outside it, with no Go module beside it that says what that is"
        ),
        _ => "not a Go build: no golang base image and no go build or go install".into(),
    }
}

/// Why the program `name` the stage starts is no Go build of the repository, when a stage it
/// copies the program from downloads it (`curl -LO https://dl.k8s.io/…/kubectl`, or an archive
/// named for it): a released binary of another project, fetched as its maintainers publish it.
fn downloaded(facts: &facts::Facts<'_>, stage: &model::Stage, name: &str) -> Option<String> {
    let from = stage.instructions.iter().find_map(|i| match &i.body {
        model::Body::Copy(c) if c.sources.iter().any(|s| s.rsplit('/').next() == Some(name)) => c.from.as_deref(),
        _ => None,
    })?;
    let source = facts.df.stage_named(from)?;
    let fetches = |i: &model::Instruction| {
        let text = &facts.text[i.span.clone()];
        let words: Vec<&str> = text.split_whitespace().collect();
        let fetch = words.iter().any(|w| matches!(*w, "curl" | "wget"));
        // The binary itself, or an archive named for it (`helm-v3.19.0-linux-amd64.tar.gz`).
        fetch
            && words.iter().any(|w| w.starts_with("http") && w.rsplit('/').next().is_some_and(|f| f.starts_with(name)))
    };
    let run = source.instructions.iter().find(|i| matches!(i.body, model::Body::Run { .. }) && fetches(i))?;
    Some(format!(
        "not a Go build of this repository: it runs {name}, which stage {} downloads (line {}), another project's released binary",
        source.reference(),
        run.line
    ))
}

/// Interpreters whose program a stage that starts one runs (`python3 mnist.py`): another
/// language's files, whatever the base.
const INTERPRETERS: &[&str] = &[
    "python", "node", "java", "ruby", "perl", "php", "dotnet", "Rscript", "deno", "bun", "yarn", "npm", "npx", "pnpm",
];

/// True when the stage's command starts an interpreter (`ENTRYPOINT ["python3", "train.py"]`).
fn starts_interpreter(facts: &facts::Facts<'_>, stage: &model::Stage) -> bool {
    let Some(program) = facts.started_program(stage) else { return false };
    let name = program.rsplit('/').next().unwrap_or(&program);
    let bare = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    INTERPRETERS.contains(&bare)
}

/// Why files copied from the build context onto a base are no Go program harden could move,
/// when the file says: a Rust build's output (Cargo's `target/release/`), no command of its own
/// (the base's program runs), or a shell script that starts.
fn no_go_program(facts: &facts::Facts<'_>, stage: &model::Stage) -> Option<String> {
    let copied = stage.instructions.iter().filter_map(|i| match &i.body {
        model::Body::Copy(c) if c.from.is_none() => Some(&c.sources),
        _ => None,
    });
    let cargo = copied.flatten().find(|s| facts::is_cargo_output(s));
    if let Some(source) = cargo {
        return Some(format!(
            "not a Go build: it copies {source}, the output of a Rust build (Cargo's target/ directory)"
        ));
    }
    let (entrypoint, cmd) = facts.entrypoint_and_cmd(stage);
    if entrypoint.is_none() && cmd.is_none() && facts.parent_stage(stage).is_none() {
        let base = facts.base_image(stage);
        let image = base.map_or_else(|| stage.from.image.clone(), |b| b.to_reference());
        // An image with no program of its own (distroless, scratch) runs what its runner names.
        if base.is_some_and(|b| {
            matches!(b.family(), image::Family::Distroless | image::Family::ChainguardStatic | image::Family::Scratch)
        }) {
            return Some(format!(
                "not known to be a Go build: it adds files built outside the Dockerfile to {image}, which has no program of its own, and sets no ENTRYPOINT or CMD: what runs is named where the image runs (a manifest's command)"
            ));
        }
        return Some(format!(
            "not a Go build: it adds files to {image}, and sets no ENTRYPOINT or CMD, so that image's own program runs"
        ));
    }
    let words: Vec<String> = entrypoint.into_iter().chain(cmd).flat_map(model::CommandForm::words).collect();
    // A shell and nothing for it to run (`ENTRYPOINT ["/bin/bash"]`): an image to work in.
    if let [shell] = words.as_slice()
        && super::runtime::is_shell(shell)
    {
        return Some(format!(
            "not a Go build: the image starts {shell} and nothing for it to run, an image to work in, not a program's"
        ));
    }
    let program = match words.first() {
        Some(first) if super::runtime::is_shell(first) => words[1..].iter().find(|w| !w.starts_with('-'))?,
        first => first?,
    };
    let script = program.split_whitespace().next().unwrap_or(program);
    if script.ends_with(".sh") {
        return Some(format!(
            "not known to be a Go build: the image starts {script}, a shell script, and nothing says it runs a Go program"
        ));
    }
    base_program(stage, script)
}

/// The directories whose names say they hold data (manifests, a catalog, web assets), not
/// binaries.
const DATA_DIRECTORIES: &[&str] =
    &["catalog", "manifests", "bundle", "olm", "config", "deploy", "charts", "templates", "assets", "static", "docs"];

/// Why a stage that starts a program by its bare name (`registry-server`) is no Go build of the
/// repository, when all it copies from the build context is data (YAML, scripts, a manifests
/// directory) that names no such program: the program is the base image's, or what the stage
/// runs fetches it.
fn base_program(stage: &model::Stage, program: &str) -> Option<String> {
    let copies: Vec<&model::Copy> = (stage.instructions.iter())
        .filter_map(|i| match &i.body {
            model::Body::Copy(c) => Some(c),
            _ => None,
        })
        .collect();
    let data = |source: &String| {
        let path = source.trim_end_matches('/');
        let name = path.rsplit('/').next().unwrap_or(path);
        let file = [".yaml", ".yml", ".json", ".sh", ".db", ".txt", ".md"].iter().any(|e| name.ends_with(e));
        let dir = path.split('/').any(|part| DATA_DIRECTORIES.iter().any(|d| part.contains(d)));
        (file || dir) && !name.contains(program)
    };
    let sources: Vec<&String> = copies.iter().flat_map(|c| &c.sources).collect();
    let all_data = copies.iter().all(|c| c.from.is_none()) && sources.iter().all(|s| data(s));
    if program.contains(['/', '$']) || sources.is_empty() || !all_data {
        return None;
    }
    Some(format!(
        "not a Go build: it starts {program}, which none of its copies adds (they add {}): the program comes with {} or with what the stage runs, and the file adds data to it",
        sources.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
        stage.from.image
    ))
}

/// What the image builds, said for a finding, when its final stage copies files only from stages
/// that fetch another repository than `module`'s (`git clone`, or `git remote add origin …`
/// then `git fetch`) and copy nothing of this one: operator-sdk's helm-operator, built from its
/// own source. Where that program writes is that project's, which harden does not read.
pub fn fetched_program(text: &str, module: Option<&str>) -> Option<String> {
    let df = model::Dockerfile::parse(text).ok()?;
    let last = df.stages.last()?;
    let from: Vec<&str> = (last.instructions.iter())
        .filter_map(|i| match &i.body {
            model::Body::Copy(c) => c.from.as_deref(),
            _ => None,
        })
        .collect();
    let stages: Vec<&model::Stage> = from.iter().filter_map(|name| df.stage_named(name)).collect();
    let own_files =
        |s: &model::Stage| s.instructions.iter().any(|i| matches!(&i.body, model::Body::Copy(c) if c.from.is_none()));
    let fetched = |s: &model::Stage| {
        let mut commands = s.instructions.iter().flat_map(|i| i.body.run_commands());
        commands
            .find_map(|c| match c.argv() {
                [git, clone, rest @ ..] if git.value == "git" && clone.value == "clone" => repository_url(rest),
                [git, remote, add, rest @ ..]
                    if git.value == "git" && remote.value == "remote" && add.value == "add" =>
                {
                    repository_url(rest)
                }
                _ => None,
            })
            .map(str::to_string)
    };
    let url_of =
        |s: &&model::Stage| fetched(s).filter(|url| !own_files(s) && module != Some(module_path(url).as_str()));
    let url = (!stages.is_empty() && stages.iter().all(|s| url_of(s).is_some())).then(|| url_of(&stages[0]))??;
    Some(format!("builds another project's program from its source ({})", url.trim_end_matches(".git")))
}
