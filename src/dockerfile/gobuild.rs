//! Finds `go build` / `go install` (and other `go` commands) inside `RUN` scripts
//! and reads their flags, keeping the byte spans needed to splice new flags in.

use std::ops::Range;

use crate::shell::{self, SimpleCommand, Token};

/// What a `go` command does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoVerb {
    /// `go build`.
    Build,
    /// `go install`.
    Install,
    /// Any other `go` subcommand (`mod download`, `test`, `generate`…).
    Other,
}

/// One `go …` invocation found in a shell script.
#[derive(Debug, Clone)]
pub struct GoCommand {
    /// The subcommand.
    pub verb: GoVerb,
    /// The subcommand as written (`build`, `mod`, `vet`…).
    pub subcommand: String,
    /// Span of the `go` word (insert `CGO_ENABLED=0 ` before it).
    pub go_span: Range<usize>,
    /// Span of the subcommand word (insert ` -trimpath` after it).
    pub verb_span: Range<usize>,
    /// Assignments that apply to this command (`CGO_ENABLED=0 go build`).
    pub env: Vec<(String, String)>,
    /// The flags, in order.
    pub flags: Vec<GoFlag>,
    /// Package arguments.
    pub packages: Vec<String>,
    /// The directory a preceding `cd` moved to, if any.
    pub cd: Option<String>,
}

/// One flag of a `go` command.
#[derive(Debug, Clone)]
pub struct GoFlag {
    /// Name without dashes (`ldflags`).
    pub name: String,
    /// The value, unquoted.
    pub value: Option<String>,
    /// Span of the value's raw text (for `-ldflags=X` the part after `=`, for `-o X` the next word).
    pub value_span: Option<Range<usize>>,
}

/// `go build` flags that take a value in the next word when written without `=`.
const VALUE_FLAGS: &[&str] = &[
    "o",
    "ldflags",
    "gcflags",
    "asmflags",
    "gccgoflags",
    "tags",
    "mod",
    "modfile",
    "p",
    "installsuffix",
    "pkgdir",
    "buildmode",
    "compiler",
    "overlay",
    "pgo",
    "toolexec",
    "C",
    "coverpkg",
    "covermode",
    "exec",
];

impl GoCommand {
    /// The flag named `name`, if given.
    pub fn flag(&self, name: &str) -> Option<&GoFlag> {
        self.flags.iter().find(|f| f.name == name)
    }

    /// True for `go mod <sub>` (`go mod download`, `go mod init`).
    pub fn runs_mod(&self, sub: &str) -> bool {
        self.subcommand == "mod" && self.packages.first().is_some_and(|p| p == sub)
    }

    /// True when the command reads no module cache: it builds from `vendor/` (`-mod=vendor`) or
    /// in GOPATH mode (`GO111MODULE=off`).
    pub fn downloads_no_modules(&self) -> bool {
        self.flag("mod").and_then(|f| f.value.as_deref()) == Some("vendor")
            || self.env_value("GO111MODULE").is_some_and(|v| v.eq_ignore_ascii_case("off"))
    }

    /// The value of an assignment to `name` on this command.
    pub fn env_value(&self, name: &str) -> Option<&str> {
        self.env.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// True for `go build` and `go install`.
    pub fn builds(&self) -> bool {
        matches!(self.verb, GoVerb::Build | GoVerb::Install)
    }

    /// True when the command compiles packages and links nothing: `go build` without `-o` over
    /// several packages or a `...` pattern writes no binary (a step that warms the build cache).
    pub fn links_nothing(&self) -> bool {
        self.verb == GoVerb::Build
            && self.flag("o").is_none()
            && (self.packages.len() > 1 || self.packages.iter().any(|p| p.contains("...")))
    }

    /// True when the command builds delve, the Go debugger: a debug image's tool, left as its
    /// maintainer builds it (its cgo setting too).
    pub fn builds_delve(&self) -> bool {
        self.builds() && self.packages.iter().any(|p| p.contains("go-delve/delve") || p.contains("derekparker/delve"))
    }

    /// True when the command installs only packages of other modules at a version (`go install
    /// github.com/acme/tool@v1.2.0`), which the repository's own module says nothing about.
    pub fn installs_remote_only(&self) -> bool {
        !self.packages.is_empty() && self.packages.iter().all(|p| p.contains('@') && !p.starts_with('.'))
    }

    /// True when the command builds a Go plugin (`-buildmode=plugin`), which loads only into a
    /// host program built with the same flags and package paths.
    pub fn builds_plugin(&self) -> bool {
        self.flag("buildmode").and_then(|f| f.value.as_deref()) == Some("plugin")
    }

    /// The words of `-ldflags`.
    pub fn ldflags(&self) -> Vec<&str> {
        self.flag("ldflags")
            .and_then(|f| f.value.as_deref())
            .map(|v| v.split_whitespace().collect())
            .unwrap_or_default()
    }
}

/// The go subcommands that mark a word `go` as the go command when another program runs it.
const GO_VERBS: &[&str] =
    &["build", "install", "mod", "vet", "test", "generate", "run", "get", "list", "env", "work", "tool", "clean"];

/// Finds every `go` command in `script`, which sits at `offset` in the file.
pub fn find(commands: &[SimpleCommand]) -> Vec<GoCommand> {
    let mut out = Vec::new();
    let mut cd = None;
    // Variables set for the rest of the script: `export A=b` and bare `A=b` commands.
    let mut script_env: Vec<(String, String)> = Vec::new();
    for command in commands {
        let argv = command.argv();
        match argv.first().map(|t| t.value.as_str()) {
            None => script_env.extend(command.environment()),
            Some("export") => script_env.extend(
                argv[1..].iter().filter_map(|w| shell::split_assignment(&w.value)).map(|(k, v)| (k.into(), v.into())),
            ),
            Some("cd") => cd = argv.get(1).map(|t| t.value.clone()),
            // tonistiigi/xx's `xx-go` is `go` set up for the target platform.
            Some("go" | "xx-go" | "/usr/local/go/bin/go") if argv.len() >= 2 => {
                let env = script_env.iter().cloned().chain(command.environment()).collect();
                out.push(parse(argv, env, cd.clone()));
            }
            Some("echo" | "printf") => {}
            // A command run by a wrapper (`retry.sh --attempts 7 -- go mod download`, `timeout
            // 600 go build`) is still that command.
            Some(_) => {
                let verb = |t: &Token| GO_VERBS.contains(&t.value.as_str());
                if let Some(at) =
                    (1..argv.len().saturating_sub(1)).find(|&i| argv[i].value == "go" && verb(&argv[i + 1]))
                {
                    let env = script_env.iter().cloned().chain(command.environment()).collect();
                    out.push(parse(&argv[at..], env, cd.clone()));
                }
            }
        }
    }
    out
}

fn parse(argv: &[Token], env: Vec<(String, String)>, cd: Option<String>) -> GoCommand {
    let go_span = argv[0].span.clone();
    // `go -C dir build`: Go 1.20's -C runs the command in `dir`, as a `cd` before it would.
    let within = |dir: &str| match &cd {
        Some(before) if !dir.starts_with('/') => format!("{before}/{dir}"),
        _ => dir.to_string(),
    };
    let (argv, cd) = match argv[1].value.as_str() {
        "-C" if argv.len() >= 4 => (&argv[2..], Some(within(&argv[2].value))),
        flag if flag.starts_with("-C=") && argv.len() >= 3 => (&argv[1..], Some(within(&flag[3..]))),
        _ => (argv, cd.clone()),
    };
    let verb = match argv[1].value.as_str() {
        "build" => GoVerb::Build,
        "install" => GoVerb::Install,
        _ => GoVerb::Other,
    };
    let mut flags = Vec::new();
    let mut packages = Vec::new();
    let mut i = 2;
    while i < argv.len() {
        let word = &argv[i];
        let raw = word.value.as_str();
        if let Some(stripped) = raw.strip_prefix("--").or_else(|| raw.strip_prefix('-')).filter(|_| raw.len() > 1) {
            match stripped.split_once('=') {
                Some((name, value)) => {
                    let eq = raw_eq_offset(word);
                    flags.push(GoFlag {
                        name: name.to_string(),
                        value: Some(value.to_string()),
                        value_span: eq.map(|e| e + 1..word.span.end),
                    });
                }
                None if VALUE_FLAGS.contains(&stripped) && i + 1 < argv.len() => {
                    let next = &argv[i + 1];
                    flags.push(GoFlag {
                        name: stripped.to_string(),
                        value: Some(next.value.clone()),
                        value_span: Some(next.span.clone()),
                    });
                    i += 1;
                }
                None => flags.push(GoFlag { name: stripped.to_string(), value: None, value_span: None }),
            }
        } else {
            packages.push(raw.to_string());
        }
        i += 1;
    }
    GoCommand {
        verb,
        subcommand: argv[1].value.clone(),
        go_span,
        verb_span: argv[1].span.clone(),
        env,
        flags,
        packages,
        cd,
    }
}

/// Byte offset (absolute) of the first `=` in a token's raw text; the raw text is
/// not stored on the token, so it is found from the unquoted value's flag name length.
fn raw_eq_offset(word: &Token) -> Option<usize> {
    let name_len = word.value.find('=')?;
    // Flag names never contain quotes, so the raw `=` sits at the same distance.
    Some(word.span.start + name_len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_flags_env_and_packages() {
        let script = r#"cd cmd && CGO_ENABLED=0 go build -trimpath -ldflags "-X main.v=1" -o /out/app ./server"#;
        let cmds = find(&shell::commands(script, 0).unwrap());
        assert_eq!(cmds.len(), 1);
        let c = &cmds[0];
        assert_eq!(c.verb, GoVerb::Build);
        assert_eq!(c.env_value("CGO_ENABLED"), Some("0"));
        assert_eq!(c.flag("o").and_then(|f| f.value.as_deref()), Some("/out/app"));
        assert_eq!(c.ldflags(), ["-X", "main.v=1"]);
        assert_eq!(c.packages, ["./server"]);
        assert_eq!(c.cd.as_deref(), Some("cmd"));
        assert_eq!(&script[c.flag("ldflags").unwrap().value_span.clone().unwrap()], "\"-X main.v=1\"");
    }

    #[test]
    fn a_directory_given_with_dash_c_is_where_the_command_runs() {
        let script = "cd /workspace && go -C controllers build -o /out/controller ./cmd/servicecontroller";
        let c = &find(&shell::commands(script, 0).unwrap())[0];
        assert_eq!((c.verb, c.cd.as_deref()), (GoVerb::Build, Some("/workspace/controllers")));
        assert_eq!(c.packages, ["./cmd/servicecontroller"]);
        assert_eq!(&script[c.go_span.clone()], "go");
        assert_eq!(&script[c.verb_span.clone()], "build");
        let equals = &find(&shell::commands("go -C=/src/app install .", 0).unwrap())[0];
        assert_eq!((equals.verb, equals.cd.as_deref()), (GoVerb::Install, Some("/src/app")));
    }

    #[test]
    fn equals_form_value_span_is_after_the_equals() {
        let script = "go build -ldflags='-s' .";
        let f = find(&shell::commands(script, 0).unwrap())[0].flag("ldflags").cloned().unwrap();
        assert_eq!(&script[f.value_span.unwrap()], "'-s'");
    }

    #[test]
    fn exported_variables_apply_to_later_commands() {
        let cmds = find(&shell::commands("export CGO_ENABLED=0 && GOOS=linux && go build .", 0).unwrap());
        assert_eq!(cmds[0].env_value("CGO_ENABLED"), Some("0"));
        assert_eq!(cmds[0].env_value("GOOS"), Some("linux"));
    }

    #[test]
    fn xx_go_builds_like_go() {
        let cmds = find(&shell::commands("xx-go --wrap && xx-go build -o /out/app ./cmd/app", 0).unwrap());
        assert_eq!(cmds.len(), 2);
        assert_eq!((cmds[0].verb, cmds[0].subcommand.as_str()), (GoVerb::Other, "--wrap"));
        assert_eq!(cmds[1].verb, GoVerb::Build);
        assert_eq!(cmds[1].flag("o").and_then(|f| f.value.as_deref()), Some("/out/app"));
    }

    #[test]
    fn a_build_over_many_packages_links_nothing() {
        let links = |script: &str| find(&shell::commands(script, 0).unwrap())[0].links_nothing();
        assert!(links("go build ./pkg/...") && links("go build ./a ./b"));
        assert!(!links("go build -o /out/ ./cmd/...") && !links("go build ./cmd/app") && !links("go install ./..."));
    }

    #[test]
    fn other_go_commands_are_found_too() {
        let cmds = find(&shell::commands("go mod download && go install ./cmd/...", 5).unwrap());
        assert_eq!(cmds[0].verb, GoVerb::Other);
        assert_eq!(cmds[1].verb, GoVerb::Install);
        assert_eq!(cmds[1].go_span, 24..26);
    }
}
