//! The programs a Dockerfile ships: the package directories its Go builds name.

use crate::config::Config;
use crate::source::SourceFacts;

use super::{facts, model, variables};

/// The package directories of the build context (`cmd/server`, `""` for the root) that the
/// Dockerfile's `go build`s name (`./cmd/server`, from the directory the stage copied the
/// context to, after any `cd`): the programs it ships (a manager and its daemon built side by
/// side). A package named by its import path (`github.com/acme/app/cmd/app`, a GOPATH build)
/// is placed by the path of the `module` the context holds. A package named by a variable
/// (`cmd/${PKGNAME}`) takes its value from the build arguments `args`, else from the stage's
/// `ARG` or `ENV`. `None` when it builds only remote modules (`go install x@v`) or a package
/// it cannot place in the context.
pub fn program_dirs(text: &str, module: Option<&str>, args: &[(String, String)]) -> Option<Vec<String>> {
    let df = model::Dockerfile::parse(text).ok()?;
    let source = SourceFacts::default();
    let config = Config::default();
    let facts = facts::Facts::new(text, &df, &source, &config);
    let mut dirs = std::collections::BTreeSet::new();
    // Another module's tool at a version (delve in a debug stage) holds none of this module's
    // code: it places nothing, where the file builds a package of its own too.
    let builds: Vec<_> = facts.builds().collect();
    let builds_own = builds.iter().any(|(_, c)| !c.installs_remote_only());
    // A program only an image of its own ships (an `init` target's host helper) is not the final
    // image's, where another build is.
    let reaching = builds.iter().any(|(r, c)| facts.reaches_final(r, c));
    let builds = builds.into_iter().filter(|(r, c)| !reaching || facts.reaches_final(r, c));
    for (run, command) in builds.filter(|(_, c)| !builds_own || !c.installs_remote_only()) {
        let stage = &df.stages[run.stage];
        // Where the step mounts the whole context (`RUN --mount=type=bind,target=.`), else where
        // the stage copied it (`COPY . .` in /src), or its parts each to the same place (`COPY
        // main.go main.go`, `COPY cmd/ cmd/` in /workspace).
        let bound = match &stage.instructions[run.instr].body {
            model::Body::Run { mounts, .. } => mounts.iter().find_map(|m| context_bind(m)),
            _ => None,
        };
        let bound = bound.map(|target| facts::join_path(&facts.workdir_at(stage, run.instr), &target));
        let context_root = bound.or_else(|| {
            stage.instructions[..run.instr].iter().enumerate().rev().find_map(|(i, inst)| match &inst.body {
                model::Body::Copy(c) if c.from.is_none() => {
                    let workdir = facts.workdir_at(stage, i);
                    let dest = facts::join_path(&workdir, &c.dest);
                    let mirrored = |s: &String| {
                        !s.starts_with('/')
                            && dest.trim_end_matches('/') == facts::join_path(&workdir, s).trim_end_matches('/')
                    };
                    match c.sources.iter().all(|s| matches!(s.as_str(), "." | "./")) {
                        true => Some(dest),
                        false => c.sources.iter().all(mirrored).then_some(workdir),
                    }
                }
                _ => None,
            })
        });
        let workdir = facts::join_path(&facts.workdir_at(stage, run.instr), command.cd.as_deref().unwrap_or("."));
        // A variable of options (`${GO_BUILD_ARGS}`, `$GOFLAGS`) names no package.
        let options = |p: &&String| {
            variables::only_variable(p).is_some_and(|n| ["ARGS", "FLAGS", "OPTS"].iter().any(|o| n.ends_with(o)))
        };
        let named: Vec<String> = command.packages.iter().filter(|p| !options(p)).cloned().collect();
        let packages = if named.is_empty() { vec![".".to_string()] } else { named };
        for package in packages {
            // A variable's value first (`${path}` after `ARG path=cmd/main.go`).
            let package = expanded(&facts, stage, run.instr, package, args);
            // A file names its package's directory (`go build -o manager main.go`), a path from
            // the working directory even without `./` (`cmd/agent/main.go`).
            let package = match package.strip_suffix(".go") {
                Some(_) => match package.rsplit_once('/') {
                    Some((dir, _)) if dir.starts_with(['.', '/']) => dir.to_string(),
                    Some((dir, _)) => format!("./{dir}"),
                    None => ".".to_string(),
                },
                None => package,
            };
            if package.contains(['@', '$', '*']) || package.contains("...") {
                return None;
            }
            if let Some(inside) = module.and_then(|m| package.strip_prefix(m)).filter(|_| !package.starts_with('.'))
                && (inside.is_empty() || inside.starts_with('/'))
            {
                dirs.insert(inside.trim_start_matches('/').to_string());
                continue;
            }
            if !package.starts_with(['.', '/']) {
                return None;
            }
            let absolute = facts::join_path(&workdir, &package);
            let root = context_root.as_deref()?.trim_end_matches('/');
            let inside = if absolute == root { "" } else { absolute.strip_prefix(&format!("{root}/"))? };
            dirs.insert(inside.to_string());
        }
    }
    (!dirs.is_empty()).then(|| dirs.into_iter().collect())
}

/// `word` with the variables it uses given their values at instruction `instr` of `stage`: the
/// build arguments `args` first, then the stage's `ARG` defaults and `ENV`.
fn expanded(
    facts: &facts::Facts<'_>,
    stage: &model::Stage,
    instr: usize,
    word: String,
    args: &[(String, String)],
) -> String {
    let given = |name: &str| {
        let arg = args.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        arg.or_else(|| facts.env_at(stage, instr, name)).or_else(|| facts.arg_default(stage, name))
    };
    // A variable with no value here keeps the word as written (a `${NAME:-x}` default still counts).
    let vars: Vec<(String, Option<String>)> =
        variables::names(&word).iter().map(|n| (n.to_string(), given(n))).collect();
    let word = variables::substitute(&word, &vars).unwrap_or(word);
    facts.expand(stage, instr, &word).unwrap_or(word)
}

/// Where a `RUN --mount` value mounts the whole build context: a bind mount (the default type)
/// from no other stage or image, of the context's root.
fn context_bind(mount: &str) -> Option<String> {
    let parsed = super::modules::Mount::parse(mount);
    let mut keys = mount.split(',').filter_map(|part| part.split_once('='));
    let elsewhere = keys.any(|(key, value)| match key.trim() {
        "from" => true,
        "source" | "src" => !matches!(value.trim_matches(['"', '\'']), "" | "." | "./"),
        _ => false,
    });
    (parsed.kind == "bind" && !elsewhere && !parsed.target.is_empty()).then_some(parsed.target)
}

/// The Go files the Dockerfile's `go build`s name (`go build -o /app main.go`), as written:
/// relative to where the stage copied the context, which must hold them.
pub fn program_files(text: &str) -> Vec<String> {
    let Ok(df) = model::Dockerfile::parse(text) else { return Vec::new() };
    let (source, config) = (SourceFacts::default(), Config::default());
    let facts = facts::Facts::new(text, &df, &source, &config);
    let files = facts.builds().flat_map(|(_, command)| command.packages.iter());
    let relative = |p: &&String| p.ends_with(".go") && !p.starts_with('/') && !p.contains(['$', '*']);
    files.filter(relative).map(|p| p.trim_start_matches("./").to_string()).collect()
}

/// The make targets the file's `RUN`s name from the context's Makefile (`make build`, `make -j 4
/// build-agent`, not a variable's setting `GOOS=linux`, an option's value, nor a target of
/// another directory's Makefile, `make -C ui assets`), in order; a target named by a variable
/// (`make build-${TARGET_BUILD}`) takes its value from the build arguments `args`, else from the
/// stage's `ARG` or `ENV`.
pub fn make_targets(text: &str, args: &[(String, String)]) -> Vec<String> {
    let Ok(df) = model::Dockerfile::parse(text) else { return Vec::new() };
    let (source, config) = (SourceFacts::default(), Config::default());
    let facts = facts::Facts::new(text, &df, &source, &config);
    let steps = df.stages.iter().flat_map(|s| s.instructions.iter().enumerate().map(move |(i, inst)| (s, i, inst)));
    let runs = steps.flat_map(|(s, i, inst)| inst.body.run_commands().iter().map(move |c| (s, i, c)));
    let mut out = Vec::new();
    for (stage, instr, command) in runs {
        let argv: Vec<&str> = command.argv().iter().map(|t| t.value.as_str()).collect();
        // Another directory's or file's Makefile (`make -C ui assets`) is not the context's.
        let elsewhere = |w: &&str| ["-C", "-f", "--directory", "--file"].iter().any(|o| w.starts_with(o));
        if argv.first() != Some(&"make") || argv.iter().any(elsewhere) {
            continue;
        }
        let mut words = argv[1..].iter();
        while let Some(word) = words.next() {
            match *word {
                "-j" | "--jobs" | "-l" | "-o" | "-W" => {
                    words.next();
                }
                w if w.starts_with('-') || w.contains('=') => {}
                w => {
                    let target = expanded(&facts, stage, instr, w.to_string(), args);
                    if !target.contains('$') {
                        out.push(target);
                    }
                }
            }
        }
    }
    out
}

/// True when every `git clone` of the file fetches the module `module` itself (see
/// [`facts::commands::clones_only_module`]): the repository builds its own code, upstream.
pub fn clones_only_module(text: &str, module: &str) -> bool {
    let Ok(df) = model::Dockerfile::parse(text) else { return false };
    facts::commands::clones_only_module(df.stages.iter(), module)
}

/// True when the file builds only a repository it clones (`git clone … /src && cd /src && go
/// build`) and copies nothing from its build context: the context's code is not the program's.
pub fn builds_a_clone(text: &str) -> bool {
    let Ok(df) = model::Dockerfile::parse(text) else { return false };
    let instructions = || df.stages.iter().flat_map(|s| &s.instructions);
    let from_context = instructions().any(|i| matches!(&i.body, model::Body::Copy(c) if c.from.is_none()));
    df.stages.iter().any(facts::commands::stage_clones) && !from_context
}

/// The name of the binary a Dockerfile with no Go build copies in and starts (`ntfy` for
/// `ENTRYPOINT ["/usr/bin/ntfy"]`): the program of the package named after it.
pub fn prebuilt_name(text: &str) -> Option<String> {
    let df = model::Dockerfile::parse(text).ok()?;
    let (source, config) = (SourceFacts { available: true, ..SourceFacts::default() }, Config::default());
    let binary = facts::Facts::new(text, &df, &source, &config).prebuilt_binary()?;
    binary.rsplit('/').next().map(str::to_string)
}

/// The names of the files the image copies in and names in its command, as they are in the
/// image and as they were built (`fleet-agent` and `agent` for `COPY --from=build /src/bin/agent
/// /usr/bin/fleet-agent` and `ENTRYPOINT ["/usr/bin/fleet-agent"]`; `stdiscosrv`, the argument of
/// `ENTRYPOINT ["/bin/entrypoint.sh", "/bin/stdiscosrv"]`), but for scripts: the programs a
/// build this file does not show (make, a build script) made.
pub fn started_names(text: &str) -> Vec<String> {
    let Ok(df) = model::Dockerfile::parse(text) else { return Vec::new() };
    let (source, config) = (SourceFacts::default(), Config::default());
    let facts = facts::Facts::new(text, &df, &source, &config);
    let stage = facts.runtime_stage();
    let copied = facts.copied(stage);
    let (entrypoint, cmd) = facts.entrypoint_and_cmd(stage);
    let words: Vec<String> = entrypoint.into_iter().chain(cmd).flat_map(model::CommandForm::words).collect();
    let mut names: Vec<String> = Vec::new();
    // The name it has in the image, then the name it was built under (`/src/bin/agent`); with no
    // command of its own, each file it copies in from the build context may be what runs.
    let unstarted = words.is_empty();
    let started = copied.iter().filter(|c| {
        (words.contains(&c.target) || (unstarted && c.copy.from.is_none())) && !facts::is_script_name(&c.target)
    });
    for path in started.flat_map(|c| [c.target.as_str(), c.source]) {
        let name = path.rsplit('/').next().unwrap_or(path).to_string();
        if !name.contains('$') && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_make_targets_a_file_runs() {
        let text = "FROM golang:1.24\nRUN make -j 4 GOOS=linux build-agent && make -C ui assets\nRUN go test ./...\n";
        assert_eq!(make_targets(text, &[]), ["build-agent"]);
        let argued = "ARG TARGET_BUILD=standard\nFROM golang:1.26\nARG TARGET_BUILD\nRUN make build-${TARGET_BUILD}\n";
        assert_eq!(make_targets(argued, &[]), ["build-standard"], "the ARG's default");
        let given = [("TARGET_BUILD".to_string(), "iptracker".to_string())];
        assert_eq!(make_targets(argued, &given), ["build-iptracker"]);
    }

    fn program_dirs_of(text: &str) -> Option<Vec<String>> {
        program_dirs(text, Some("example.com/acme"), &[])
    }

    #[test]
    fn a_file_a_variable_names_is_its_package() {
        let text =
            "FROM golang:1.26\nARG path=cmd/main.go\nWORKDIR /workspace\nCOPY . .\nRUN go build -o manager ${path}\n";
        assert_eq!(program_dirs_of(text), Some(vec!["cmd".to_string()]));
    }

    #[test]
    fn a_build_of_a_clone_runs_none_of_the_context() {
        let clone = "FROM golang:1.26 AS b\nRUN git clone --depth 1 $REPO /src && cd /src && go build -o /app .\nFROM scratch\nCOPY --from=b /app /app\n";
        assert!(builds_a_clone(clone));
        assert!(!builds_a_clone(&clone.replace("FROM scratch\n", "FROM scratch\nCOPY config.json /\n")));
        assert!(!builds_a_clone("FROM golang:1.26\nCOPY . .\nRUN go build -o /app .\n"));
        // A clone of the module itself is the repository's own code, upstream.
        let own = "FROM golang:1.26 AS b\nRUN git clone https://github.com/acme/kms.git && cd kms && go build -o /app ./cmd/kms\n";
        assert!(clones_only_module(own, "github.com/acme/kms"));
        assert!(clones_only_module(
            &own.replace("https://github.com/acme/kms.git", "git@github.com:acme/kms"),
            "github.com/acme/kms"
        ));
        assert!(!clones_only_module(own, "github.com/acme/other"));
        assert!(!clones_only_module("FROM golang:1.26\nCOPY . .\n", "github.com/acme/kms"));
    }

    #[test]
    fn the_started_files_name_the_programs_make_built() {
        let text = "FROM golang:1.23 AS build\nRUN make bin/agent\nFROM alpine\nCOPY --from=build /src/bin/agent /usr/bin/fleet-agent\nCOPY entrypoint.sh /entrypoint.sh\nENTRYPOINT [\"/entrypoint.sh\", \"/usr/bin/fleet-agent\"]\n";
        assert_eq!(started_names(text), ["fleet-agent", "agent"]);
        assert!(started_names("FROM alpine\nCOPY run.sh /run.sh\nCMD [\"/run.sh\"]\n").is_empty());
        let unstarted = "FROM alpine\nCOPY bin/manager /usr/local/bin/manager\nCOPY run.sh /run.sh\n";
        assert_eq!(started_names(unstarted), ["manager"]);
    }

    #[test]
    fn the_programs_are_the_packages_the_builds_name() {
        let build = |run: &str| {
            program_dirs_of(&format!(
                "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN {run}\nFROM scratch\nCOPY --from=build /app /app\n"
            ))
        };
        assert_eq!(build("go build -o /app ./cmd/server"), Some(vec!["cmd/server".to_string()]));
        assert_eq!(build("CGO_ENABLED=0 go build -o /app ."), Some(vec![String::new()]));
        assert_eq!(build("cd cmd/agent && go build -o /app ."), Some(vec!["cmd/agent".to_string()]));
        let both = build("go build -o /app ./cmd/server && go build -o /cli ./cmd/cli");
        assert_eq!(both, Some(vec!["cmd/cli".to_string(), "cmd/server".to_string()]));
        let file = build("go build -o /app cmd/agent/main.go");
        assert_eq!(file, Some(vec!["cmd/agent".to_string()]), "a file's path needs no ./");
        assert_eq!(build("go install github.com/example/tool@v1.2.0"), None);
        assert_eq!(build("go build -o /app ./..."), None);
        let in_subdir = "FROM golang:1.22\nCOPY . /go/src/app\nWORKDIR /go/src/app/cmd/agent\nRUN go build -o /app\n";
        assert_eq!(program_dirs_of(in_subdir), Some(vec!["cmd/agent".to_string()]));
        assert_eq!(
            program_dirs_of("FROM golang:1.22\nCOPY main.go .\nRUN go build -o /app .\n"),
            None,
            "no whole context"
        );
        let parts = "FROM golang:1.22\nWORKDIR /workspace\nCOPY go.mod go.mod\nCOPY main.go main.go\nCOPY cmd/ cmd/\nRUN go build -o manager main.go && go build -o daemon ./cmd/daemon/main.go\n";
        assert_eq!(
            program_dirs_of(parts),
            Some(vec![String::new(), "cmd/daemon".to_string()]),
            "parts copied in place"
        );
        // A GOPATH build names its package by import path, placed by the module's path.
        let gopath = "FROM golang:1.22\nCOPY . /go/src/example.com/acme\nRUN GO111MODULE=off go build -o /app example.com/acme/cloud/cmd/admission\n";
        assert_eq!(program_dirs_of(gopath), Some(vec!["cloud/cmd/admission".to_string()]));
        assert_eq!(program_dirs(gopath, None, &[]), None, "no module to place it by");
        assert_eq!(build("go build -o /app example.com/acmetools/cmd/x"), None, "another module");
        // A package named by a build argument is the program each build gives it, by any path.
        let argued = "FROM golang:1.26\nARG PROGRAM\nWORKDIR /go/src/example.com/acme\nCOPY . .\nRUN go build -o /out /go/src/example.com/acme/cmd/${PROGRAM}/main.go\n";
        assert_eq!(program_dirs_of(argued), None, "no value");
        let given = [("PROGRAM".to_string(), "adapter".to_string())];
        assert_eq!(program_dirs(argued, None, &given), Some(vec!["cmd/adapter".to_string()]));
        let defaulted = argued.replace("ARG PROGRAM\n", "ARG PROGRAM=controller\n");
        assert_eq!(program_dirs_of(&defaulted), Some(vec!["cmd/controller".to_string()]), "the ARG's default");
    }
}
