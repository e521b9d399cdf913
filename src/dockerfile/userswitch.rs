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
use super::model::{Body, Copy, Stage};
use super::users::{created_ids, stages_but};
use super::writes::{is_under, program_writes};
use crate::source::Located;
use crate::source::scripts::{Drop, PRIVILEGE_DROPPERS};

mod ports;
mod resources;

pub use ports::{listen_env, low_port_setting, privileged_port};
pub use resources::{root_check, root_resource};

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
        None => !facts.base_or_written(stage).is_some_and(|b| b.default_user_is_nonroot()),
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

/// The first write the program makes at a path a flag with no default gives when it runs (a
/// helper that creates and removes host directories where `-p` points): whose directory that is,
/// and whether 65532 may write it, is not known.
pub fn given_writes(facts: &Facts<'_>) -> Option<Blocker> {
    let write = facts.source.given_writes.first()?;
    let what = match write.found.how.as_str() {
        "os.RemoveAll" => "removes files",
        "os.MkdirAll" | "os.Mkdir" => "creates directories",
        _ => "writes a file",
    };
    let flag = &write.found.flag;
    Some((
        &rules::RUNTIME_WRITES,
        facts.runtime_stage().from.line,
        format!(
            "{}:{}{} {what} where -{flag} points ({}), a path given when it runs: whether 65532 may write there (a host directory, a volume) is not known, so the user is left as it is",
            write.file,
            write.found.line,
            module_wide(facts),
            write.found.how,
        ),
    ))
}

/// The program writes under its home directory (a config directory it creates there) and the
/// runtime it ends on, `image` (its base where kept), has no passwd to give 65532 a home:
/// scratch sets HOME to `/`, which only root may write. Distroless's nonroot account has
/// `/home/nonroot`; a file that sets HOME itself chose where.
pub fn home_writes(facts: &Facts<'_>, image: Option<&str>) -> Option<Blocker> {
    let write = facts.source.home_writes.first()?;
    let stage = facts.runtime_stage();
    let family = match image {
        Some(image) => super::image::ImageRef::parse(image).family(),
        None => facts.base_image(stage)?.family(),
    };
    if family != Family::Scratch || facts.env_at(stage, stage.instructions.len(), "HOME").is_some() {
        return None;
    }
    Some((
        &rules::RUNTIME_WRITES,
        stage.from.line,
        format!(
            "{}:{}{} writes under the program's home directory ({}), and scratch has no passwd to give 65532 one (HOME is /, which only root may write), so the user is left as it is; set HOME to a directory 65532 owns (ENV HOME, with that directory copied in --chown=65532:65532), or run on distroless static:nonroot, whose account has /home/nonroot",
            write.file,
            write.found.line,
            module_wide(facts),
            write.found.how,
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
    // Every image but scratch has a /tmp any user may write (distroless's too).
    let has_tmp = facts.base_image(stage).is_some_and(|b| b.family() != super::image::Family::Scratch);
    let made = |dir: &str| {
        let dir = dir.trim_end_matches('/');
        let shared_tmp = has_tmp && matches!(dir, "/tmp" | "/var/tmp");
        !dir.is_empty() && !shared_tmp
    };
    stage.instructions.iter().find_map(|inst| {
        let what = match &inst.body {
            Body::Workdir(dir) if made(dir) => format!("WORKDIR {dir}"),
            Body::Volume(paths) => format!("VOLUME {}", paths.join(" ")),
            _ => return None,
        };
        Some((
            &rules::RUNTIME_WRITES,
            inst.line,
            format!(
                "{what} makes a root-owned directory, and the program, copied in prebuilt (what it writes cannot be read here), may write there; the user is left as it is"
            ),
        ))
    })
}

/// Why the user cannot move where the runtime stays on a LinuxServer.io image: its s6-overlay
/// init starts as root, prepares the container (`/run`, the owner of `/config`) and runs the
/// services as abc with the ids `PUID` and `PGID` give; as another user it would not start.
pub fn linuxserver_base(facts: &Facts<'_>) -> Option<Blocker> {
    let stage = facts.runtime_stage();
    let base = facts.base_image(stage)?.to_reference();
    crate::orchestration::linuxserver_image(&base).then(|| {
        (
            &rules::BASE_ENTRYPOINT,
            stage.from.line,
            format!(
                "the runtime stays on {base}, a LinuxServer.io image, whose s6-overlay init starts as root, prepares the container and runs its services as abc with the ids PUID and PGID give; as another user the init would not start, so the user is left as it is"
            ),
        )
    })
}

/// Why the user cannot move where the runtime stays on an image harden does not know and the
/// file gives CMD without ENTRYPOINT: the image's own ENTRYPOINT (an init script that drops to
/// its user with su-exec or gosu) starts the program, and may need root. An operating system's
/// base (UBI, CentOS) has none: the CMD runs as it is.
pub fn base_entrypoint(facts: &Facts<'_>) -> Option<Blocker> {
    let stage = facts.runtime_stage();
    let base = facts.base_image(stage)?;
    if base.family() != Family::Other || base.is_system_base() || facts.parent_stage(stage).is_some() {
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
    let root_start = script_root_start(facts);
    let (why, script) = match drop {
        // A service kept root for good (a supervisor's sshd) is root whatever the program does.
        _ if let Some(root) = root_start => (
            format!(
                "{}:{} (which the image copies in) starts a service as root with `{} root`: the image keeps root for good, whatever user its program drops to",
                root.file, root.found.line, root.found.tool
            ),
            "the scripts",
        ),
        // Root throughout unless the one who runs it sets the variable.
        Some(drop) if let Some((name, zero)) = root_unless_set(facts, drop) => (
            format!(
                "{}:{} (which the image copies in) drops to {} with {} only when {name} is set: {zero}, so the program stays root",
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
    // The root work before the drop (chown, usermod) fails for a script started as the user.
    let pod = match drop.map(|d| d.found.root_work.as_slice()).unwrap_or_default() {
        _ if root_start.is_some() => "a pod cannot start it as another user: that service needs root".to_string(),
        [] => format!("a pod can set runAsUser to that user where {script} allows it"),
        work => {
            format!("a pod cannot start it as that user instead: the script runs {} as root first", work.join(", "))
        }
    };
    let when = if root_start.is_some() { "" } else { " at start" };
    Some(format!(
        "{when}: {why}; the restricted profile's runAsNonRoot refuses that root start ({pod}), and harden leaves the user and the runtime to {script}"
    ))
}

/// The variable a script's drop takes its uid from, where that uid is root unless the one who
/// runs the image sets it, with what makes it 0: the script's default (`PUID=${PUID:-0}`) or the
/// image's own `ENV PUID=0`.
fn root_unless_set(facts: &Facts<'_>, drop: &Located<Drop>) -> Option<(String, &'static str)> {
    if let Some(name) = &drop.found.unless_set {
        return Some((name.clone(), "the script's default for it is 0"));
    }
    let uid = drop.found.user.split(':').next().unwrap_or_default();
    let name = super::variables::only_variable(uid)?;
    let runtime = facts.runtime_stage();
    let zero = facts.env_at(runtime, runtime.instructions.len(), name).as_deref() == Some("0");
    zero.then(|| (name.to_string(), "the image sets it to 0 (ENV)"))
}

/// True when the entrypoint script the image copies in drops to another user before the program
/// runs (not only when the run sets a variable that is 0 otherwise).
pub fn script_drops_root(facts: &Facts<'_>) -> bool {
    script_root_start(facts).is_none() && script_drop(facts).is_some_and(|drop| root_unless_set(facts, drop).is_none())
}

/// Where a script of the build context the final image copies drops from root to another user
/// (`COPY scripts/entrypoint.sh /` that runs `exec su-exec app "$@"`; or the copy of it a
/// builder stage took with the whole context, `COPY --from=build /src/scripts/entrypoint.sh /`).
pub fn script_drop<'s>(facts: &Facts<'s>) -> Option<&'s Located<Drop>> {
    copied(facts, &facts.source.privilege_drops)
}

/// Where a script the final image copies starts a program as root for good through a privilege
/// tool (a supervisor's service: `exec gosu root /usr/sbin/sshd`).
pub fn script_root_start<'s>(facts: &Facts<'s>) -> Option<&'s Located<Drop>> {
    copied(facts, &facts.source.root_starts)
}

/// The first of `found` (in the build context's scripts) whose script the final image copies.
fn copied<'s>(facts: &Facts<'s>, found: &'s [Located<Drop>]) -> Option<&'s Located<Drop>> {
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
    found.iter().find(|d| is_copied(&d.file))
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
