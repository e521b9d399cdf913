//! What the runtime stage asks of its image: which `RUN`s a distroless image makes
//! unnecessary, which commands need a shell, which health checks need curl.

use crate::shell;

use super::model::{Body, CommandForm, Instruction};

/// Packages distroless already ships (static has CA certificates and time zones).
pub const PROVIDED_PACKAGES: &[&str] = &["ca-certificates", "tzdata"];
/// Packages of data files a program reads, not programs it runs (`/etc/mime.types`, the
/// MIME database, `/etc/services`).
pub const DATA_PACKAGES: &[&str] = &["media-types", "mailcap", "shared-mime-info", "netbase", "iana-etc"];
/// Programs that only exist to make a request.
const HTTP_TOOLS: &[&str] = &["curl", "wget", "nc", "/usr/bin/curl", "/usr/bin/wget", "/bin/wget"];

/// True when every command of a `RUN` only sets up what distroless already provides
/// (CA certificates, time zones, a user) or cleans package caches, so it can go.
/// `copied` lists the paths the stage copied in (a `chmod +x` of one of them can go too).
pub fn provided_by_distroless(inst: &Instruction, copied: &[String]) -> bool {
    unprovided_command(inst, copied).is_none()
}

/// The first command of a `RUN` that a distroless image can neither run nor stand in for, as
/// written (shortened); `None` when [`provided_by_distroless`] holds.
pub fn unprovided_command(inst: &Instruction, copied: &[String]) -> Option<String> {
    let Body::Run { commands, exec, mounts, .. } = &inst.body else {
        return None;
    };
    let shown = |words: &[&str], outputs: &[String]| {
        // What it writes is part of what it does (`echo … > /etc/nsswitch.conf`).
        let written = outputs.iter().filter(|o| *o != "/dev/null").map(|o| format!("> {o}"));
        let text = words.iter().copied().map(str::to_string).chain(written);
        let text = text.collect::<Vec<_>>().join(" ");
        match text.char_indices().nth(60) {
            Some((cut, _)) => format!("{}…", &text[..cut]),
            None => text,
        }
    };
    let commands = match (commands, exec) {
        _ if runs_copied_program(inst, copied) => return None,
        (_, Some(argv)) => return Some(shown(&argv.iter().map(String::as_str).collect::<Vec<_>>(), &[])),
        (Some(commands), None) if !commands.is_empty() => commands,
        _ => return Some(format!("RUN on line {}", inst.line)),
    };
    fn argv(cmd: &crate::shell::SimpleCommand) -> Vec<&str> {
        cmd.argv().iter().map(|t| t.value.as_str()).collect()
    }
    let unprovided: Vec<&crate::shell::SimpleCommand> =
        commands.iter().filter(|cmd| !is_provided(&argv(cmd), copied)).collect();
    // What a step installs says the most of it (after the `echo deb …` that adds a source).
    let installs = unprovided.iter().find(|cmd| {
        let argv = argv(cmd);
        matches!(argv.first(), Some(&("apk" | "apt-get" | "apt" | "dnf" | "yum" | "microdnf")))
            && argv.iter().any(|w| matches!(*w, "add" | "install"))
    });
    // A condition (`if command -v apt-get > /dev/null`) only chooses the step that follows.
    let acts = unprovided.iter().find(|cmd| !matches!(argv(cmd).first(), Some(&("command" | "test" | "[" | "[["))));
    match installs.or(acts).or(unprovided.first()) {
        Some(cmd) => Some(shown(&argv(cmd), &cmd.outputs)),
        // A mount other than a cache (a secret, a bind) is what the step needs, not what it runs.
        None if !mounts.iter().all(|m| m.contains("type=cache")) => Some(format!("RUN --mount on line {}", inst.line)),
        None => None,
    }
}

/// True for an exec-form `RUN` of a program the stage copies in (`RUN ["/app", "--version"]`, a
/// smoke test): it needs no shell, and a shell-less runtime keeps it.
pub fn runs_copied_program(inst: &Instruction, copied: &[String]) -> bool {
    matches!(&inst.body, Body::Run { exec: Some(argv), mounts, .. }
        if mounts.is_empty() && argv.first().is_some_and(|p| copied.contains(p)))
}

fn is_provided(argv: &[&str], copied: &[String]) -> bool {
    let words: Vec<&str> = argv.iter().copied().filter(|w| !w.starts_with('-')).collect();
    match words.as_slice() {
        ["apk", "add", pkgs @ ..] | ["apt-get" | "apt", "install", pkgs @ ..] => {
            !pkgs.is_empty() && pkgs.iter().all(|p| PROVIDED_PACKAGES.contains(&p.split('=').next().unwrap_or(p)))
        }
        ["apk", "update" | "upgrade"] | ["apt-get" | "apt", "update" | "clean" | "autoclean"] => true,
        // `set -ex` sets the step's shell options: nothing the image carries.
        ["update-ca-certificates"] | ["set", ..] | [] => true,
        ["adduser" | "addgroup" | "useradd" | "groupadd", ..] => true,
        ["rm", paths @ ..] => {
            // The package managers' caches and lists (`/var/cache/apt`, `/var/lib/apt/lists/*`).
            let caches = ["/var/cache/apk", "/var/cache/apt", "/var/lib/apt/lists", "/var/cache/debconf"];
            paths.iter().all(|p| caches.iter().any(|c| p.starts_with(c)))
        }
        ["chmod", mode, paths @ ..] => {
            words.len() == argv.len()
                && chmod_mode(mode).is_some()
                && !paths.is_empty()
                && paths.iter().all(|p| copied.iter().any(|c| c == p))
        }
        _ => false,
    }
}

/// The octal mode a `chmod` gives a copied file (a file from the build context arrives 0644, a
/// download 0600), as `COPY --chmod` writes it: `+x` and `a+x` are 755, an octal mode itself.
/// `None` for a mode that depends on the file's own (`g-w`).
pub fn chmod_mode(mode: &str) -> Option<&str> {
    match mode {
        "+x" | "a+x" | "ugo+x" | "+rx" | "a+rx" => Some("755"),
        "u+x" => Some("744"),
        _ if (3..=4).contains(&mode.len()) && mode.bytes().all(|b| (b'0'..=b'7').contains(&b)) => Some(mode),
        _ => None,
    }
}

/// The `chmod`s of a `RUN` whose paths the stage copies in: each mode and path.
pub fn chmods<'a>(inst: &'a Instruction, copied: &[String]) -> Vec<(&'a str, &'a str)> {
    let mut out = Vec::new();
    for cmd in inst.body.run_commands() {
        let argv = cmd.argv();
        if let [program, mode, paths @ ..] = argv
            && program.value == "chmod"
            && let Some(mode) = chmod_mode(&mode.value)
        {
            let copied_paths = paths.iter().filter(|p| copied.contains(&p.value));
            out.extend(copied_paths.map(|p| (mode, p.value.as_str())));
        }
    }
    out
}

/// Programs that run a Go program from source or under a debugger: development images.
const DEVELOPMENT_TOOLS: &[&str] = &["air", "CompileDaemon", "reflex", "gow", "dlv", "realize", "fresh", "modd", "gin"];

/// Why the image is for development rather than production, when it is: its command compiles
/// the program at start (`go run`), reloads it on change (air, CompileDaemon, reflex…) or runs it
/// under delve. Such images are passed over: they need the toolchain and the source.
pub fn development_command(form: &CommandForm) -> Option<String> {
    let words = form.words();
    let program = words.first()?.rsplit('/').next()?.to_string();
    if program == "go" && words.get(1).is_some_and(|w| w == "run") {
        return Some("it runs `go run`, which compiles the program when the container starts".into());
    }
    DEVELOPMENT_TOOLS
        .contains(&program.as_str())
        .then(|| format!("it starts {program}, a development tool (live reload or a debugger)"))
}

/// Why a runtime stage that copies in delve (`COPY --from=build /go/bin/dlv /dlv`) is an image
/// for attaching a debugger, whatever script starts it.
pub fn carries_delve(stage: &super::model::Stage) -> Option<String> {
    let copies_dlv = stage.instructions.iter().any(|i| match &i.body {
        Body::Copy(c) => {
            c.sources.iter().chain([&c.dest]).any(|p| p.trim_end_matches('/').rsplit('/').next() == Some("dlv"))
        }
        _ => false,
    });
    copies_dlv.then(|| "it carries delve (dlv), the Go debugger, for a debugger to attach to the program".to_string())
}

/// Why a runtime stage that installs delve itself is a development image: it builds the
/// repository's code and runs it under the debugger (a script or Compose starts it).
pub fn installs_delve(stage: &super::model::Stage) -> Option<String> {
    // `go install github.com/go-delve/delve/cmd/dlv@v1.23.1` in the image that runs.
    let installs_dlv = stage.instructions.iter().flat_map(|i| i.body.run_commands()).find_map(|c| {
        let argv: Vec<String> = c.argv().iter().map(|t| t.value.clone()).collect();
        let install = argv.len() > 2 && argv[0] == "go" && argv[1] == "install";
        argv.into_iter().find(|w| install && w.contains("go-delve/delve"))
    });
    installs_dlv.map(|package| {
        format!(
            "it installs delve (go install {package}), the Go debugger, to build the program and run it under the debugger while developing it"
        )
    })
}

/// True when a command names its program or an argument by a path relative to the working
/// directory (`./app`, `bin/server`, `--config ./conf.yaml`).
pub fn command_is_relative(form: &CommandForm) -> bool {
    let words = form.words();
    let program = words.first().is_some_and(|p| !p.starts_with(['/', '$']) && p.contains('/'));
    program || words.iter().any(|w| w.starts_with("./") || w.starts_with("../") || w.contains("=./"))
}

/// The program a command form starts, if it can be told.
pub fn program(form: &CommandForm) -> Option<String> {
    form.words().into_iter().next()
}

/// Init programs that start the command after them and reap its children.
const INITS: &[&str] = &["tini", "tini-static", "dumb-init", "catatonit"];

/// True for an init program that reaps zombies (`/usr/bin/tini`), a static binary, no script.
pub fn is_init(program: &str) -> bool {
    INITS.contains(&program.rsplit('/').next().unwrap_or(program))
}

/// The program a command starts: its first word, or, behind an init that reaps zombies
/// (`tini -- /bin/app`, `dumb-init /bin/app`), the command the init starts.
pub fn started_program(form: &CommandForm) -> Option<String> {
    let words = form.words();
    let first = words.first()?;
    if !is_init(first) {
        return Some(first.clone());
    }
    let rest = &words[1..];
    match rest.iter().position(|w| w == "--") {
        Some(at) => rest.get(at + 1).cloned(),
        None => rest.iter().find(|w| !w.starts_with('-')).cloned(),
    }
}

/// True when the command starts a shell or a shell script (also behind an init:
/// `tini -- /entrypoint.sh`).
pub fn runs_script(form: &CommandForm) -> bool {
    [program(form), started_program(form)].into_iter().flatten().any(|p| is_shell(&p) || p.ends_with(".sh"))
}

/// True for a program that is a shell (`sh`, `/bin/bash`), or `/usr/bin/env`, which scripts'
/// `#!` lines start them through.
pub fn is_shell(program: &str) -> bool {
    shell::is_shell_program(program) || program == "/usr/bin/env"
}

/// True when a shell-form command uses shell syntax (so it cannot become exec form).
pub fn needs_shell(form: &CommandForm) -> bool {
    matches!(form, CommandForm::Shell(text, _) if shell::needs_shell(text))
}

/// True when a health check needs a shell or an HTTP tool that distroless does not have.
pub fn healthcheck_needs_tools(form: &CommandForm) -> bool {
    needs_shell(form) || runs_script(form) || program(form).is_some_and(|p| HTTP_TOOLS.contains(&p.as_str()))
}

/// The exec form (`["a", "b"]`) of a shell-form command without shell syntax.
pub fn exec_form(words: &[String]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| serde_json::to_string(w).unwrap_or_default()).collect();
    format!("[{}]", quoted.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerfile::model::Dockerfile;

    fn run(line: &str) -> Instruction {
        Dockerfile::parse(&format!("FROM alpine\n{line}\n")).unwrap().stages[0].instructions[0].clone()
    }

    #[test]
    fn certificate_and_user_setup_is_provided() {
        let copied = vec!["/app".to_string()];
        assert!(provided_by_distroless(&run("RUN apk add --no-cache ca-certificates tzdata"), &copied));
        assert!(provided_by_distroless(&run("RUN addgroup -S app && adduser -S -G app app"), &copied));
        assert!(provided_by_distroless(
            &run(
                "RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*"
            ),
            &copied
        ));
        let apt = "RUN apt update && apt install -y ca-certificates && rm -fr /var/cache/apt";
        assert!(provided_by_distroless(&run(apt), &copied), "apt's cache cleaned up after it");
        assert!(!provided_by_distroless(&run("RUN rm -rf /var/cache/app"), &copied));
        let options = "RUN set -ex && apk upgrade --no-cache --available && apk --no-cache add ca-certificates";
        assert!(provided_by_distroless(&run(options), &copied), "the step's shell options are not what it does");
        assert!(provided_by_distroless(&run("RUN chmod +x /app"), &copied));
        assert!(!provided_by_distroless(&run("RUN chmod +x /entrypoint.sh"), &copied));
        assert!(!provided_by_distroless(&run("RUN chmod -R g-w /app"), &copied));
        assert!(!provided_by_distroless(&run("RUN chmod -R 755 /app"), &copied));
        assert!(provided_by_distroless(&run("RUN chmod 0555 /app"), &copied));
        assert!(!provided_by_distroless(&run("RUN apk add --no-cache curl"), &copied));
        assert!(!provided_by_distroless(&run("RUN mkdir -p /data"), &copied));
    }

    #[test]
    fn health_checks_with_curl_need_tools() {
        assert!(healthcheck_needs_tools(&CommandForm::Shell("curl -f http://localhost/".into(), 0..0)));
        assert!(!healthcheck_needs_tools(&CommandForm::Exec(vec!["/app".into(), "health".into()])));
    }

    #[test]
    fn writes_exec_form() {
        assert_eq!(exec_form(&["/app".into(), "--port=8080".into()]), r#"["/app", "--port=8080"]"#);
    }
}
