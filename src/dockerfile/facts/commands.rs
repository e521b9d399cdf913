//! What the image's commands say: the program a stage starts (behind an init), a shell-form
//! command on a base with no shell, what builds the program when no `go build` does, and the file
//! capabilities `setcap` gives.

use super::Facts;
use crate::dockerfile::model::{Body, CommandForm, Stage};

impl<'a> Facts<'a> {
    /// The shell-form command the runtime starts with although its base has no `/bin/sh`
    /// (distroless but its `:debug` tags, scratch): the image cannot start as written. The
    /// command is the last ENTRYPOINT, or the CMD when there is none.
    pub fn unstartable_command(&self) -> Option<&'a CommandForm> {
        let stage = self.runtime_stage();
        let base = self.base_image(stage)?;
        let shell_less = base.has_no_shell();
        let command = match self.entrypoint_and_cmd(stage) {
            (Some(entrypoint), _) => entrypoint,
            (None, Some(cmd)) => cmd,
            (None, None) => return None,
        };
        (shell_less && matches!(command, CommandForm::Shell(..))).then_some(command)
    }

    /// The program `stage` starts: the first word of its ENTRYPOINT (else CMD), or, behind an
    /// init that reaps zombies (`tini -- /bin/app`, `dumb-init /bin/app`), the command it starts.
    pub fn started_program(&self, stage: &'a Stage) -> Option<String> {
        let (entrypoint, cmd) = self.entrypoint_and_cmd(stage);
        crate::dockerfile::runtime::started_program(entrypoint.or(cmd)?)
    }

    /// True when `stage` runs an s6-overlay init (a base built on it, its `/init` as the
    /// entrypoint, or its service directories copied in): the init runs as root by design and
    /// starts the services, each as the user its `run` script chooses.
    pub fn runs_s6_overlay(&self, stage: &'a Stage) -> bool {
        let base = self.base_image(stage).map(|b| b.name.as_str()).unwrap_or(&stage.from.image);
        let end = stage.instructions.last().map_or(stage.from.span.end, |i| i.span.end);
        let text = &self.text[stage.from.span.start..end];
        base.contains("s6")
            || base.contains("linuxserver/baseimage")
            || ["s6-overlay", "/etc/services.d"].iter().any(|s| text.contains(s))
            || self.started_program(stage).is_some_and(|p| p == "/init")
    }

    /// The `make` or script a `RUN` runs that builds the program when no `go build` does
    /// (`make falcosidekick`, `./build.sh linux`), as written, up to its first five words. Only
    /// the stages the runtime copies from count (and those they are built on), where it copies
    /// from any; of their commands that name no other part (`make docs-build`, `make web-deps`),
    /// the first that names a build or release (`make build` after `make install-go-deps`, or
    /// after a script that downloads modules), else the last (`make cli-linux-server` after the
    /// documentation's and web front end's steps); with the line of its `RUN`.
    pub fn build_command(&self) -> Option<(usize, String)> {
        let runtime = self.runtime_stage();
        let copied: Vec<&Stage> = runtime
            .instructions
            .iter()
            .filter_map(|i| match &i.body {
                Body::Copy(c) => c.from.as_deref().and_then(|f| self.df.stage_named(f)),
                _ => None,
            })
            .flat_map(|s| std::iter::once(s).chain(self.ancestors(s)))
            .collect();
        let stages = self.df.stages.iter().filter(|s| copied.is_empty() || copied.iter().any(|c| c.index == s.index));
        // Each command's words, and as the file writes them, quotes and all
        // (`BLDFLAGS='-ldflags="-s -w"'`), to be shown.
        let commands: Vec<(usize, Vec<&str>, Vec<&str>)> = stages
            .flat_map(|s| &s.instructions)
            .flat_map(|i| i.body.run_commands().iter().map(|command| (i.line, command.argv())))
            .filter(|(_, argv)| argv.first().is_some_and(|p| runs_builds(&p.value)) || runs_go_build_program(argv))
            .map(|(line, argv)| {
                let written = argv.iter().map(|t| self.text.get(t.span.clone()).filter(|w| !w.contains('\n')));
                let written = written.zip(argv).map(|(w, t)| w.unwrap_or(&t.value)).collect();
                (line, argv.iter().map(|t| t.value.as_str()).collect(), written)
            })
            .collect();
        // Steps that build something else (the documentation, a web front end) or only prepare
        // (`make docs-deps`, `make lint`) are passed over while another step remains.
        let program_steps: Vec<&(usize, Vec<&str>, Vec<&str>)> =
            commands.iter().filter(|(_, argv, _)| argv[1..].iter().any(|w| names_program_target(w))).collect();
        let builds = |w: &&str| (w.contains("build") || w.contains("release")) && !w.contains("clean");
        // The step named for the program the runtime starts (`make kube-router`), before a
        // `make build` of a tool cloned beside it.
        let (entrypoint, cmd) = self.entrypoint_and_cmd(runtime);
        let started = entrypoint.or(cmd).and_then(crate::dockerfile::runtime::program);
        let name = started.as_deref().map(|p| p.rsplit('/').next().unwrap_or(p));
        let named = |argv: &[&str]| name.is_some_and(|n| argv[1..].iter().any(|w| w.rsplit('/').next() == Some(n)));
        let (line, _, chosen) = program_steps
            .iter()
            .find(|(_, argv, _)| named(argv))
            .or(program_steps.iter().find(|(_, argv, _)| argv[1..].iter().any(builds)))
            .or(program_steps.last())
            .copied()
            .or(commands.iter().find(|(_, argv, _)| argv[1..].iter().any(builds)))
            .or(commands.first())?;
        let shown = chosen.iter().take(5).copied().collect::<Vec<_>>().join(" ");
        Some((*line, if chosen.len() > 5 { format!("{shown} …") } else { shown }))
    }

    /// The capabilities `setcap` gives a file in any stage (`setcap cap_net_bind_service=+ep
    /// /coredns` → `NET_BIND_SERVICE`), with the first such step's line: a binary that carries
    /// them gains them at exec, whatever its user, where the container's capabilities hold them.
    pub fn file_capabilities(&self) -> Option<(usize, Vec<String>)> {
        let mut found: Option<(usize, Vec<String>)> = None;
        for inst in self.df.stages.iter().flat_map(|s| &s.instructions) {
            for command in inst.body.run_commands() {
                let argv = command.argv();
                // `setcap -v` only verifies.
                if argv.first().is_none_or(|p| p.value.rsplit('/').next() != Some("setcap"))
                    || argv.iter().any(|w| w.value == "-v")
                {
                    continue;
                }
                let granted = argv[1..].iter().filter(|w| w.value.to_ascii_lowercase().starts_with("cap_"));
                let names = granted.flat_map(|w| {
                    let list = w.value.split(['=', '+', '-']).next().unwrap_or_default().to_ascii_uppercase();
                    list.split(',').map(|c| c.trim_start_matches("CAP_").to_string()).collect::<Vec<_>>()
                });
                let (_, caps) = found.get_or_insert((inst.line, Vec::new()));
                for name in names {
                    if !caps.contains(&name) {
                        caps.push(name);
                    }
                }
            }
        }
        found.filter(|(_, caps)| !caps.is_empty())
    }
}

/// True for a program that runs a project's build steps: make and its kin (mage, task, just) or
/// a shell script.
/// True when a target word may build the program: not a flag or a variable, and none of its
/// parts (`docs-build`, `web_deps`) names documentation, a front end or a preparatory step.
fn names_program_target(word: &str) -> bool {
    const ELSEWHERE: &[&str] = &[
        "docs", "doc", "web", "ui", "frontend", "deps", "test", "tests", "lint", "clean", "fmt", "vet", "check",
        "generate", "tools",
    ];
    !word.starts_with('-')
        && !word.contains('=')
        && !word.split(['-', '_', '/', '.']).any(|part| ELSEWHERE.contains(&part))
}

/// True when a stage runs make or a build script (see [`runs_builds`]), which may run the go
/// command of its image.
pub fn stage_runs_builds(stage: &Stage) -> bool {
    let mut commands = stage.instructions.iter().flat_map(|i| i.body.run_commands());
    commands.any(|c| c.argv().first().is_some_and(|p| runs_builds(&p.value)))
}

/// True when a stage clones a repository (`git clone …`) to build it.
pub fn stage_clones(stage: &Stage) -> bool {
    let mut commands = stage.instructions.iter().flat_map(|i| i.body.run_commands());
    commands.any(|c| matches!(c.argv(), [git, clone, ..] if git.value == "git" && clone.value == "clone"))
}

/// True when every `git clone` of the stages fetches the module `module` itself (its import path
/// is the URL's: `https://github.com/minio/kes`, `git@github.com:minio/kes.git`): the
/// repository's own code, upstream, whose go.mod is the one here; false when a stage clones
/// nothing.
pub fn clones_only_module<'a>(stages: impl Iterator<Item = &'a Stage>, module: &str) -> bool {
    let commands: Vec<_> = stages.flat_map(|s| &s.instructions).flat_map(|i| i.body.run_commands()).collect();
    let urls: Vec<String> = commands
        .iter()
        .filter_map(|c| match c.argv() {
            [git, clone, rest @ ..] if git.value == "git" && clone.value == "clone" => repository_url(rest),
            _ => None,
        })
        .map(module_path)
        .collect();
    !urls.is_empty() && urls.iter().all(|u| u == module)
}

/// The repository URL among a git command's words (`https://github.com/minio/kes.git`,
/// `git@github.com:minio/kes.git`).
pub fn repository_url(words: &[crate::shell::Token]) -> Option<&str> {
    words.iter().map(|t| t.value.as_str()).find(|v| v.contains("://") || v.starts_with("git@"))
}

/// The module path a repository URL names: `github.com/minio/kes` for either spelling above.
pub fn module_path(url: &str) -> String {
    let path = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = path.strip_prefix("git@").map_or(path.to_string(), |p| p.replacen(':', "/", 1));
    path.trim_end_matches('/').trim_end_matches(".git").to_string()
}

/// True for a program that runs a project's build: make, mage, task, just, or a shell script.
pub fn runs_builds(program: &str) -> bool {
    let name = program.rsplit('/').next().unwrap_or(program);
    // A script by path named for building (rancher's `./scripts/build`, `hack/release`).
    let build_script = program.contains('/') && ["build", "compile", "release"].iter().any(|w| name.starts_with(w));
    matches!(name, "make" | "gmake" | "mage" | "task" | "just") || name.ends_with(".sh") || build_script
}

/// True for `go run build.go …`: a build program written in Go (restic's, syncthing's).
fn runs_go_build_program(argv: &[crate::shell::Token]) -> bool {
    let words: Vec<&str> = argv.iter().take(3).map(|t| t.value.as_str()).collect();
    matches!(words.as_slice(), ["go", "run", file] if file.ends_with(".go"))
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::dockerfile::facts::Facts;
    use crate::dockerfile::model::Dockerfile;
    use crate::source::SourceFacts;

    fn build_command(text: &str) -> Option<(usize, String)> {
        let df = Dockerfile::parse(text).unwrap();
        let (source, config) = (SourceFacts::default(), Config::default());
        Facts::new(text, &df, &source, &config).build_command()
    }

    #[test]
    fn the_program_step_is_chosen_over_the_documentation_and_front_end() {
        let text = "FROM golang:1.24 AS builder\nRUN make docs-deps\nRUN make docs-build\nRUN make web-build\nRUN make VERSION=1 cli-linux-server\nFROM alpine:3.22\nCOPY --from=builder /app/dist/server /usr/bin/server\nENTRYPOINT [\"server\"]\n";
        assert_eq!(build_command(text), Some((5, "make VERSION=1 cli-linux-server".into())));
    }

    #[test]
    fn a_build_program_in_go_is_a_build_step() {
        let text = "FROM golang:1.24 AS builder\nRUN go mod download\nRUN go run build.go\nFROM alpine:3.22\nCOPY --from=builder /go/src/restic /usr/bin\nCOPY docker/entrypoint.sh /entrypoint.sh\nENTRYPOINT [\"/entrypoint.sh\"]\n";
        assert_eq!(build_command(text), Some((3, "go run build.go".into())));
    }

    #[test]
    fn a_build_step_is_chosen_over_preparation_and_only_steps_stand_alone() {
        let text = "FROM golang:1.24 AS builder\nRUN make install-go-deps\nRUN make build\nRUN make test\nFROM alpine:3.22\nCOPY --from=builder /bin/app /app\n";
        assert_eq!(build_command(text), Some((3, "make build".into())));
        let docs_only =
            "FROM golang:1.24 AS builder\nRUN make docs-build\nFROM alpine:3.22\nCOPY --from=builder /bin/app /app\n";
        assert_eq!(build_command(docs_only), Some((2, "make docs-build".into())));
    }
}
