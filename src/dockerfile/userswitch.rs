//! What the move from root to the non-root user 65532 must respect: a port below 1024 that the
//! program binds (a non-root process may not, on CRI-O, containerd before 2.0 or Docker before 20.10), and the
//! directories it writes at run time, which 65532 must own.
//!
//! Evidence comes from the Dockerfile (`EXPOSE`, also through a variable's default; a
//! `HEALTHCHECK` URL; the command's flags; `VOLUME`) and from the Go source, where it says a
//! port or path literally or as a default.

use crate::finding::Finding;
use crate::rules::{self, Rule};

use super::analyse::{is_numeric_user, is_root};
use super::facts::{Facts, join_path};
use super::image::Family;
use super::model::{Body, CommandForm, Copy, Stage};
use super::users::{created_ids, stages_but};
use super::writes::{is_under, program_writes};
use crate::source::Located;
use crate::source::scripts::{Drop, PRIVILEGE_DROPPERS};

/// Where a directory the program writes is staged in the builder, empty, to be copied into
/// the runtime owned by 65532.
pub const STAGING: &str = "/harden";

/// Directories that belong to the image's system: never handed to the program's user.
const SYSTEM_DIRS: &[&str] = &["/", "/etc", "/usr", "/bin", "/sbin", "/lib", "/lib64", "/usr/bin", "/usr/local/bin"];
/// Places the program may already write as 65532: temporary directories (distroless has a
/// world-writable `/tmp`; Kubernetes mounts one), the nonroot home, and kernel file systems.
const WRITABLE_ALREADY: &[&str] = &["/tmp", "/var/tmp", "/dev", "/proc", "/sys", "/home/nonroot"];

/// Why the user cannot move to 65532, as a refusal: the rule, the line and the reason.
pub type Blocker = (&'static Rule, usize, String);

/// True when the runtime runs as root today, so the rewrite would change its user.
pub fn runs_as_root(facts: &Facts<'_>) -> bool {
    let stage = facts.runtime_stage();
    match facts.last_user(stage) {
        Some((_, user)) => is_root(user),
        None => !facts.base_image(stage).is_some_and(|b| b.default_user_is_nonroot()),
    }
}

/// The first piece of evidence that the program binds a port below 1024, as a refusal that
/// says what to set instead when a flag or variable sets the port.
pub fn privileged_port(facts: &Facts<'_>) -> Option<Blocker> {
    // `setcap cap_net_bind_service` lets the binary bind them as any user.
    if facts.file_capabilities().is_some_and(|(_, caps)| caps.iter().any(|c| c == "NET_BIND_SERVICE")) {
        return None;
    }
    let stage = facts.runtime_stage();
    // Only a program harden builds, or a binary on a shell-less base, moves once the port does.
    let shell_less = facts.base_image(stage).is_some_and(|b| b.family().is_shell_less());
    let movable = facts.builds().next().is_some() || (shell_less && facts.prebuilt_binary().is_some());
    let then = if movable { " and harden will run it as 65532" } else { "" };
    let blocked = |line: usize, what: String, setting: Option<String>| {
        let fix = match setting {
            Some(setting) => format!("set {setting} to a port of 1024 or more"),
            None => "move the program to a port of 1024 or more".into(),
        };
        Some((
            &rules::PRIVILEGED_PORT,
            line,
            format!(
                "{what}: some runtimes (CRI-O, containerd before 2.0, Docker before 20.10) let no non-root user bind a port below 1024, so the user is left as it is; {fix} (a Service's targetPort or `docker run -p` keeps the port clients use){then}"
            ),
        ))
    };
    for (i, inst) in stage.instructions.iter().enumerate() {
        match &inst.body {
            Body::Expose(ports) => {
                let low: Vec<(&String, u16, Option<String>)> = ports
                    .iter()
                    .filter_map(|written| {
                        let (value, variable) = expand(facts, stage, i, written);
                        low_port(value.split('/').next().unwrap_or_default()).map(|port| (written, port, variable))
                    })
                    .collect();
                match low.as_slice() {
                    [] => {}
                    [(written, port, Some(name))] => {
                        let what = format!("EXPOSE {written} is {port} by {name}'s default");
                        return blocked(inst.line, what, Some(name.clone()));
                    }
                    // One line exposing several (a mail server's 25, 143 and 587): named together.
                    _ => {
                        let written: Vec<&str> = low.iter().map(|(w, _, _)| w.as_str()).collect();
                        return blocked(inst.line, format!("EXPOSE {}", written.join(" ")), None);
                    }
                }
            }
            Body::Healthcheck(Some(form)) => {
                let words = form.words();
                let Some(written) = words.iter().find_map(|w| url_port(w)) else { continue };
                let (value, variable) = expand(facts, stage, i, written);
                if let Some(port) = low_port(&value) {
                    let by =
                        variable.as_ref().map(|name| format!(", the value the image gives {name}")).unwrap_or_default();
                    return blocked(inst.line, format!("the HEALTHCHECK asks port {port}{by}"), variable);
                }
            }
            Body::Entrypoint(form) | Body::Cmd(form) => {
                if let Some((flag, port)) = flag_port(form) {
                    return blocked(inst.line, format!("the program is started with {flag} (port {port})"), None);
                }
            }
            _ => {}
        }
    }
    // A default the image's command (`--port=8443`) or environment (`ENV PORT=8080`) sets is not
    // the port it listens on (a low one there is caught above).
    let (entrypoint, cmd) = facts.entrypoint_and_cmd(stage);
    let words: Vec<String> = entrypoint.into_iter().chain(cmd).flat_map(CommandForm::words).collect();
    let set = |via: &str| match via.strip_prefix('-') {
        Some(flag) => {
            let flag = flag.trim_start_matches('-');
            let named = |w: &str| w == flag || w.starts_with(&format!("{flag}="));
            words.iter().any(|w| w.starts_with('-') && named(w.trim_start_matches('-')))
        }
        None => facts.env_at(stage, stage.instructions.len(), via).is_some(),
    };
    let listen = facts.source.listens.iter().find(|l| !l.found.via.as_deref().is_some_and(set))?;
    let what =
        format!("{}:{}{} listens on port {}", listen.file, listen.found.line, module_wide(facts), listen.found.port);
    let line = stage.from.line;
    match &listen.found.via {
        Some(via) => blocked(line, format!("{what} by default ({via})"), Some(via.clone())),
        None => blocked(line, what, None),
    }
}

/// What a citation of the source adds where the image's program is not known: the cited code
/// is the module's, which the program may or may not run.
fn module_wide(facts: &Facts<'_>) -> &'static str {
    match facts.source.whole_module {
        true => " (code of this module; which of its programs the image runs is not known)",
        false => "",
    }
}

/// The first root-only resource the program's source uses (the Docker socket…), as a refusal.
pub fn root_resource(facts: &Facts<'_>) -> Option<Blocker> {
    let used = facts.source.root_resources.first()?;
    Some((
        &rules::ROOT_RESOURCE,
        facts.runtime_stage().from.line,
        format!(
            "{}:{}{} uses {}, which only root{} may use, so the user is left as it is",
            used.file,
            used.found.line,
            module_wide(facts),
            used.found.what,
            if used.found.what.contains("socket") { " (or the socket's group)" } else { "" }
        ),
    ))
}

/// A Kubernetes container running the image that asks what only root keeps (added
/// capabilities, privileged mode, a port below 1024 its environment sets) while choosing no
/// user: the program needs root there.
pub fn orchestrated_root(facts: &Facts<'_>) -> Option<Blocker> {
    let need = facts.source.orchestration.root_needs.first()?;
    Some((&rules::ROOT_RESOURCE, facts.runtime_stage().from.line, format!("{need}, so the user is left as it is")))
}

/// Data an earlier image kept on a volume, which stays `previous`'s (`root`, `uid 1000 (mailhog)`)
/// after the move to 65532: a `VOLUME` the runtime declares, or an embedded database the program
/// keeps at a path set when it runs (no path the source names). A warning for the reviewer, not a
/// refusal: a new volume is the new user's, only the data of a rollout is not.
pub fn stored_data(facts: &Facts<'_>, previous: &str) -> Option<Finding> {
    let stage = facts.runtime_stage();
    let volume = stage.instructions.iter().find_map(|inst| match &inst.body {
        Body::Volume(paths) => Some((inst.line, format!("VOLUME {}", paths.join(" ")))),
        _ => None,
    });
    let store = facts.source.writes.iter().find(|w| w.found.path.is_empty());
    let (line, what) = match (volume, store) {
        (Some(volume), _) => volume,
        (None, Some(store)) if program_writes(facts).is_empty() => (
            stage.from.line,
            format!(
                "{}:{} imports {}, an embedded database kept at a path set when the program runs",
                store.file, store.found.line, store.found.how
            ),
        ),
        _ => return None,
    };
    Some(Finding::new(
        &rules::DATA_STORE,
        line,
        format!(
            "{what}: data an earlier image wrote to a volume as {previous} keeps that owner, and 65532 cannot write it; give the volume to 65532:65532 (chown -R, or fsGroup: 65532 in Kubernetes) when rolling this out"
        ),
    ))
}

/// A user name the file gives no fixed ids, in a runtime that hands files to another numeric
/// owner (`COPY --chown=1000:1000`): 65532 would not own them, so the name is not replaced.
pub fn other_owner(facts: &Facts<'_>) -> Option<Blocker> {
    let stage = facts.runtime_stage();
    let (_, user) = facts.last_user(stage).filter(|(_, u)| !is_root(u) && !is_numeric_user(u))?;
    if created_ids(&stages_but(facts.df, Some(stage.index)), facts.text, user).is_some() {
        return None;
    }
    stage.instructions.iter().find_map(|inst| {
        let Body::Copy(copy) = &inst.body else { return None };
        let (owner, _) = copy.chown.as_ref()?;
        let uid = owner.split(':').next().unwrap_or_default();
        (is_numeric_user(owner) && !uid.starts_with('$') && !matches!(uid, "0" | "65532")).then(|| {
            (
                &rules::RUNTIME_WRITES,
                inst.line,
                format!(
                    "COPY --chown={owner} gives the program's files to uid {uid}, and the file does not say which uid {user} is: 65532 would not own them, so the user is left as it is (write USER with {user}'s numeric ids)"
                ),
            )
        })
    })
}

/// For a binary built outside the Dockerfile, whose writes harden cannot read: a working
/// directory or volume the image makes root-owned, where it may write (etcd's default data
/// directory is relative).
pub fn unknown_writes(facts: &Facts<'_>) -> Option<Blocker> {
    let stage = facts.runtime_stage();
    stage.instructions.iter().find_map(|inst| {
        let what = match &inst.body {
            Body::Workdir(dir) if !dir.trim_end_matches('/').is_empty() => format!("WORKDIR {dir}"),
            Body::Volume(paths) => format!("VOLUME {}", paths.join(" ")),
            _ => return None,
        };
        Some((
            &rules::RUNTIME_WRITES,
            inst.line,
            format!(
                "{what} makes a root-owned directory, and the program, built outside this Dockerfile, may write there; the user is left as it is"
            ),
        ))
    })
}

/// An `EXPOSE` word with a variable replaced by the value the stage gives it, and the variable.
fn expand(facts: &Facts<'_>, stage: &Stage, upto: usize, word: &str) -> (String, Option<String>) {
    let Some(name) = word.strip_prefix('$') else { return (word.to_string(), None) };
    let name = name.trim_start_matches('{').split(['}', ':', '/']).next().unwrap_or_default();
    // ENV PORT=${PORT} over ARG PORT=80: a value naming a variable is that variable's default.
    let mut value = facts.env_at(stage, upto, name).unwrap_or_default();
    for _ in 0..3 {
        let Some(next) = value.strip_prefix('$') else { break };
        let next = next.trim_start_matches('{').split(['}', ':']).next().unwrap_or_default();
        value = facts.arg_default(stage, next).unwrap_or_default();
    }
    let rest = word.split_once('/').map(|(_, proto)| format!("/{proto}")).unwrap_or_default();
    (format!("{value}{rest}"), Some(name.to_string()))
}

fn low_port(text: &str) -> Option<u16> {
    // A range (`80-90`) counts by its first port.
    text.split('-').next()?.parse().ok().filter(|p| *p > 0 && *p < 1024)
}

/// The port of an `http://` or `https://` URL as written (`80` or `443` when it names none,
/// `$PORT` when a variable gives it).
fn url_port(word: &str) -> Option<&str> {
    let (scheme, rest) = word.split_once("://")?;
    let authority = rest.split('/').next()?;
    // An IPv6 host (`[::1]:8080`) has colons of its own.
    let port = authority.rsplit_once(':').map(|(_, p)| p).filter(|_| !authority.ends_with(']'));
    match port {
        Some(port) => Some(port),
        None if scheme == "https" => Some("443"),
        None if scheme == "http" => Some("80"),
        None => None,
    }
}

/// A `--port=80`, `-addr :80` or `--listen=0.0.0.0:443` among a command's arguments.
fn flag_port(form: &CommandForm) -> Option<(String, u16)> {
    let words = form.words();
    for (i, word) in words.iter().enumerate() {
        let Some(flag) = word.strip_prefix("--").or_else(|| word.strip_prefix('-')) else { continue };
        let (name, value) = match flag.split_once('=') {
            Some((name, value)) => (name, value.to_string()),
            None => (flag, words.get(i + 1).cloned().unwrap_or_default()),
        };
        let lower = name.to_ascii_lowercase();
        if ["port", "addr", "listen", "bind"].iter().any(|w| lower.contains(w))
            && let Some(port) = low_port(value.rsplit(':').next().unwrap_or_default())
        {
            return Some((word.clone(), port));
        }
    }
    None
}

/// Why the user cannot move where the runtime stays on an image harden does not know and the
/// file gives CMD without ENTRYPOINT: the image's own ENTRYPOINT (an init script that drops to
/// its user with su-exec or gosu) starts the program, and may need root.
pub fn base_entrypoint(facts: &Facts<'_>) -> Option<Blocker> {
    let stage = facts.runtime_stage();
    let base = facts.base_image(stage)?;
    if base.family() != Family::Other || facts.parent_stage(stage).is_some() {
        return None;
    }
    let (entrypoint, cmd) = facts.entrypoint_and_cmd(stage);
    (entrypoint.is_none() && cmd.is_some()).then(|| {
        (
            &rules::BASE_ENTRYPOINT,
            stage.from.line,
            format!(
                "the runtime stays on {}, an image harden does not read, and the file gives CMD without ENTRYPOINT: an ENTRYPOINT of that image, if it has one, starts the CMD and may need root (an init script that drops to its own user), so the user is left as it is",
                base.to_reference()
            ),
        )
    })
}

/// Why the user cannot move where the runtime stays on an image harden does not know and the
/// program starts other programs: what it starts may be that image's own program (fluent-bit's
/// image under a Go watcher), whose needs (root, to read the host's logs) harden cannot see.
pub fn base_program(facts: &Facts<'_>) -> Option<Blocker> {
    let stage = facts.runtime_stage();
    let base = facts.base_image(stage)?;
    if base.family() != Family::Other || facts.parent_stage(stage).is_some() {
        return None;
    }
    let start = facts.source.starts_programs.first()?;
    Some((
        &rules::BASE_PROGRAM,
        stage.from.line,
        format!(
            "{}:{} starts another program, and the runtime stays on {}, an image harden does not read: what the program starts may be that image's own, and need root, so the user is left as it is",
            start.file,
            start.found.line,
            base.to_reference()
        ),
    ))
}

/// What a root image that carries su-exec or gosu (installed, or copied in) does, as words to
/// follow "runs as root": its entrypoint starts as root to prepare files, then drops to its own
/// user (the script that does, where the image copies it from the build context). Such an image
/// keeps its user and its runtime (the tool, and the user it drops to, are the runtime's);
/// `runAsNonRoot` still refuses its root start.
pub fn privilege_drop(facts: &Facts<'_>) -> Option<String> {
    let stages = || std::iter::successors(Some(facts.runtime_stage()), |s| facts.parent_stage(s));
    let installed = stages().flat_map(|s| &s.instructions).find_map(|inst| {
        let copied = match &inst.body {
            Body::Copy(copy) => (copy.sources.iter().chain([&copy.dest]))
                .map(|s| s.rsplit('/').next().unwrap_or(s).to_string())
                .collect(),
            _ => Vec::new(),
        };
        let names = super::facts::installed_packages(inst).into_iter().chain(copied);
        names.into_iter().find_map(|name| PRIVILEGE_DROPPERS.iter().find(|d| **d == name).copied())
    });
    // A script the image runs that drops with the tool says the image carries it, however it
    // got there (a script of its own that downloads gosu).
    let drop = script_drop(facts);
    let tool = installed.or_else(|| drop.map(|d| d.found.tool.as_str()))?;
    let (why, script) = match drop {
        // `PUID=${PUID:-0}`: root throughout unless the one who runs it sets the variable.
        Some(drop) if let Some(name) = &drop.found.unless_set => (
            format!(
                "{}:{} (which the image copies in) drops to {} with {} only when {name} is set: the script's default for it is 0, so the program stays root",
                drop.file, drop.found.line, drop.found.user, drop.found.tool
            ),
            "the script",
        ),
        Some(drop) => (
            format!(
                "{}:{} (which the image copies in) drops to {} with {} once it has prepared files as root",
                drop.file, drop.found.line, drop.found.user, drop.found.tool
            ),
            "the script",
        ),
        None => (
            format!(
                "the image carries {tool}, so its entrypoint most likely prepares files as root, then drops to its own user"
            ),
            "that entrypoint",
        ),
    };
    Some(format!(
        " at start: {why}; the restricted profile's runAsNonRoot refuses that root start (a pod can set runAsUser to that user where {script} allows it), and harden leaves the user and the runtime to {script}"
    ))
}

/// Where a script of the build context the final image copies drops from root to another user
/// (`COPY scripts/entrypoint.sh /` that runs `exec su-exec app "$@"`; or the copy of it a
/// builder stage took with the whole context, `COPY --from=build /src/scripts/entrypoint.sh /`).
pub fn script_drop<'s>(facts: &Facts<'s>) -> Option<&'s Located<Drop>> {
    let stages = std::iter::successors(Some(facts.runtime_stage()), |s| facts.parent_stage(s));
    // A file copied from a stage that took the whole context (`COPY . .` in /src) is the
    // context's file of that path (`/src/docker` is `docker`).
    let from_context = |copy: &Copy, source: &'s str| -> &'s str {
        let root = copy.from.as_deref().and_then(|f| facts.df.stage_named(f)).and_then(|s| context_root(facts, s));
        match root.and_then(|r| source.strip_prefix(&format!("{}/", r.trim_end_matches('/')))) {
            Some(inside) => inside,
            None => source.trim_start_matches("./"),
        }
    };
    let copied: Vec<&str> = stages
        .flat_map(|s| &s.instructions)
        .filter_map(|inst| match &inst.body {
            Body::Copy(copy) => Some(copy.sources.iter().map(|s| from_context(copy, s))),
            _ => None,
        })
        .flatten()
        .collect();
    // The file itself, or a directory holding it (`COPY docker ./docker`, `COPY . .`).
    let is_copied = |file: &str| {
        copied.iter().any(|c| {
            let dir = c.trim_end_matches('/');
            *c == file || c.ends_with(&format!("/{file}")) || dir == "." || file.starts_with(&format!("{dir}/"))
        })
    };
    facts.source.privilege_drops.iter().find(|d| is_copied(&d.file))
}

/// Where `stage` (or a stage it is built on) copied the whole build context (`COPY . .` in
/// `/src`).
fn context_root(facts: &Facts<'_>, stage: &Stage) -> Option<String> {
    std::iter::once(stage).chain(facts.ancestors(stage)).find_map(|s| {
        s.instructions.iter().enumerate().find_map(|(i, inst)| match &inst.body {
            Body::Copy(c) if c.from.is_none() && c.sources.iter().all(|src| matches!(src.as_str(), "." | "./")) => {
                Some(join_path(&facts.workdir_at(s, i), &c.dest))
            }
            _ => None,
        })
    })
}

/// The directories 65532 must own for the program to write where it writes today, or why the
/// user cannot move: a directory that holds the image's own files (its ownership would have to
/// change) or a system directory.
pub fn writable_dirs(facts: &Facts<'_>) -> Result<Vec<String>, Blocker> {
    let stage = facts.runtime_stage();
    let cwd = facts.workdir_at(stage, stage.instructions.len());
    let mut wanted: Vec<(String, usize, String)> = Vec::new();
    for (i, inst) in stage.instructions.iter().enumerate() {
        if let Body::Volume(paths) = &inst.body {
            let dir = facts.workdir_at(stage, i);
            wanted.extend(paths.iter().map(|p| (join_path(&dir, p), inst.line, format!("VOLUME {p}"))));
        }
    }
    // The working directory the stage makes (root-owned unless the base's user is 65532): where
    // a program that writes relative paths writes. Given to 65532 when it holds nothing else.
    let made_workdir = stage.instructions.iter().rev().find_map(|i| match &i.body {
        Body::Workdir(_) => Some(i.line),
        _ => None,
    });
    let copied: Vec<String> = facts.copied(stage).into_iter().map(|c| c.target).collect();
    let holds = |dir: &str| copied.iter().any(|c| is_under(c, dir));
    if let Some(line) = made_workdir.filter(|_| cwd != "/" && !holds(&cwd)) {
        wanted.push((cwd.clone(), line, format!("WORKDIR {cwd}")));
    }
    wanted.extend(program_writes(facts).into_iter().map(|w| (w.dir, stage.from.line, w.why)));
    let mut dirs = Vec::new();
    let host_dirs = &facts.source.orchestration.host_dirs;
    for (dir, line, why) in wanted {
        if dir.contains(['$', '~', '*']) || WRITABLE_ALREADY.iter().any(|base| is_under(&dir, base)) {
            continue;
        }
        // A host directory mounted there is the host user's, whatever the image makes.
        if let Some((_, how)) = host_dirs.iter().find(|(target, _)| is_under(&dir, target)) {
            return Err((
                &rules::RUNTIME_WRITES,
                line,
                format!(
                    "{why} into {dir}, and {how}: the host's user owns it, so 65532 could not write there and the user is left as it is; document `--user $(id -u):$(id -g)` for that run and harden will run the image as 65532"
                ),
            ));
        }
        let holds_files = holds(&dir);
        if SYSTEM_DIRS.contains(&dir.as_str()) || holds_files {
            let whose = if holds_files { "which holds the image's own files" } else { "a system directory" };
            return Err((
                &rules::RUNTIME_WRITES,
                line,
                format!(
                    "{why} into {dir}, {whose}, so 65532 could not write there and the user is left as it is; point the program at a directory of its own (such as /data) and harden will create it for 65532"
                ),
            ));
        }
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    Ok(dirs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ports_from_urls_and_flags() {
        assert_eq!(url_port("http://localhost/healthz"), Some("80"));
        assert_eq!(url_port("https://127.0.0.1/"), Some("443"));
        assert_eq!(url_port("http://localhost:8080/healthz"), Some("8080"));
        assert_eq!(url_port("http://localhost:$PORT/health"), Some("$PORT"));
        assert_eq!(url_port("http://[::1]/health"), Some("80"));
        assert_eq!(url_port("/healthz"), None);
        let form = |s: &str| CommandForm::Exec(s.split(' ').map(str::to_string).collect());
        assert_eq!(flag_port(&form("/app --addr=:80")), Some(("--addr=:80".into(), 80)));
        assert_eq!(flag_port(&form("/app -port 443")), Some(("-port".into(), 443)));
        assert_eq!(flag_port(&form("/app --port=8080")), None);
        assert_eq!(flag_port(&form("/app --timeout=80")), None);
    }
}
