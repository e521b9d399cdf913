//! What the shell scripts of a build context say about the image that runs them: where an
//! entrypoint drops from root to another user once it has prepared its files (`exec su-exec
//! app:app "$@"`, `exec gosu "$UID" "$@"`); which download the module's dependencies.

/// Tools a script uses to run the rest of its work as another user (s6's and runit's for a
/// supervised service: `s6-setuidgid app`, `chpst -u app`).
pub const PRIVILEGE_DROPPERS: &[&str] = &["su-exec", "gosu", "s6-setuidgid", "chpst"];

/// Commands only root may run that a script runs before it drops (giving files to the user,
/// changing accounts): started as another user, the script fails there.
const ROOT_WORK: &[&str] =
    &["chown", "chgrp", "usermod", "groupmod", "useradd", "groupadd", "adduser", "addgroup", "setcap", "mount"];

/// Where a script runs a program as another user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drop {
    /// The 1-based line.
    pub line: usize,
    /// The tool (`su-exec`).
    pub tool: String,
    /// The user it drops to, as written (`10001:10001`, `$APP_UID:$APP_GID`).
    pub user: String,
    /// The variable the uid comes from when the script's default for it is root
    /// (`PUID=${PUID:-0}`): the drop happens only when it is set.
    pub unless_set: Option<String>,
    /// The commands only root may run that the script runs before the drop (`chown`,
    /// `usermod`), each once, in order.
    pub root_work: Vec<String>,
}

/// True when a shell script downloads the module's dependencies (`go mod download`, also
/// inside a retry: `retry "go mod download"`), comments aside.
pub fn downloads_modules(text: &str) -> bool {
    text.lines().filter(|line| !line.trim_start().starts_with('#')).any(|line| line.contains("go mod download"))
}

/// The drops to another user a shell script makes (comments aside).
pub fn privilege_drops(text: &str) -> Vec<Drop> {
    switches(text, false)
}

/// The programs a shell script starts as root through a privilege tool (`exec gosu root
/// /usr/sbin/sshd`, a supervisor's service that keeps root), as [`Drop`]s to root.
pub fn root_starts(text: &str) -> Vec<Drop> {
    switches(text, true)
}

/// The user switches a shell script makes (comments aside): to root where `to_root`, else to
/// another user.
fn switches(text: &str, to_root: bool) -> Vec<Drop> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim_start().starts_with('#'))
        .filter_map(|(i, line)| {
            let words: Vec<String> = crate::shell::lex(line, 0).into_iter().map(|t| t.value).collect();
            let (at, user) = match words.iter().position(|w| PRIVILEGE_DROPPERS.contains(&w.as_str())) {
                Some(at) => (at, words[at + 1..].iter().find(|w| !w.starts_with('-'))?),
                None => switched_user(&words)?,
            };
            // `gosu root crond` keeps root: no drop.
            if matches!(user.split(':').next(), Some("root" | "0")) != to_root {
                return None;
            }
            let unless_set = root_default(text, user);
            let root_work = root_work(text, i);
            Some(Drop { line: i + 1, tool: words[at].clone(), user: user.clone(), unless_set, root_work })
        })
        .collect()
}

/// The commands of [`ROOT_WORK`] the script's lines before `line` (0-based) run, each once;
/// none where the script asks who runs it (`if [ "$(id -u)" = 0 ]`), which guards them.
fn root_work(text: &str, line: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if ["id -u", "$EUID", "${EUID}"].iter().any(|guard| text.contains(guard)) {
        return out;
    }
    for before in text.lines().take(line).filter(|l| !l.trim_start().starts_with('#')) {
        for word in crate::shell::lex(before, 0).into_iter().map(|t| t.value) {
            if ROOT_WORK.contains(&word.as_str()) && !out.contains(&word) {
                out.push(word);
            }
        }
    }
    out
}

/// The variable the uid of `user` is (`${PUID}:${PGID}`), when the script's default for it is
/// 0: `PUID=${PUID:-0}`, `: "${PUID:=0}"` or `PUID=0`.
fn root_default(text: &str, user: &str) -> Option<String> {
    let uid = user.split(':').next().unwrap_or_default();
    let name = crate::dockerfile::variables::only_variable(uid)?;
    let defaulted = [format!("{{{name}:-0}}"), format!("{{{name}:=0}}"), format!("{{{name}-0}}")];
    let set_to_root = defaulted.iter().any(|d| text.contains(d.as_str()))
        || text.lines().any(|l| l.trim_start().trim_start_matches("export ").trim() == format!("{name}=0"));
    set_to_root.then(|| name.to_string())
}

/// `exec su app -c "…"` or `exec runuser -u app -- …`: the program the script ends in runs as
/// `app` (a `su` that is no `exec`, such as `su postgres -c initdb`, only prepares). The index of
/// the tool and the user.
fn switched_user(words: &[String]) -> Option<(usize, &String)> {
    let at = words.iter().position(|w| w == "su" || w == "runuser")?;
    if at == 0 || words[at - 1] != "exec" {
        return None;
    }
    let mut rest = words[at + 1..].iter();
    while let Some(word) = rest.next() {
        match word.as_str() {
            "-u" | "--user" if words[at] == "runuser" => return Some((at, rest.next()?)),
            // Options that take a value: the command, the shell, a group.
            "-c" | "--command" | "-s" | "--shell" | "-g" | "--group" | "-G" | "--supp-group" => {
                rest.next();
            }
            "--" => return None,
            w if w.starts_with('-') => {}
            _ => return Some((at, word)),
        }
    }
    None
}

/// True for a file name that is a shell script an image may run (`entrypoint.sh`,
/// `docker-entrypoint`).
pub fn is_script_name(name: &str) -> bool {
    // `run` is an s6 or runit service's script, which starts the program it supervises.
    name.ends_with(".sh") || name.contains("entrypoint") || name == "run"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drop_to_a_user_whose_default_is_root_happens_only_when_set() {
        let script = |default: &str| {
            format!("#!/bin/sh\nexport PUID=${{PUID:-{default}}}\nexec su-exec ${{PUID}}:${{PGID}} \"$@\"\n")
        };
        assert_eq!(privilege_drops(&script("0"))[0].unless_set.as_deref(), Some("PUID"));
        let drop = &privilege_drops(&script("1000"))[0];
        assert_eq!((drop.user.as_str(), drop.unless_set.as_deref()), ("${PUID}:${PGID}", None));
    }

    #[test]
    fn finds_the_user_an_entrypoint_drops_to() {
        let text = "#!/bin/sh\n# exec su-exec nobody \"$@\"\nchown -R app /data\nexec su-exec \"$APP_UID:$APP_GID\" \"$0\" \"$@\"\nexec gosu --help\n";
        let drops = privilege_drops(text);
        assert_eq!(
            drops,
            [Drop {
                line: 4,
                tool: "su-exec".into(),
                user: "$APP_UID:$APP_GID".into(),
                unless_set: None,
                root_work: vec!["chown".into()]
            }]
        );
        assert!(privilege_drops("exec /app \"$@\"\n").is_empty());
        assert!(is_script_name("docker-entrypoint") && is_script_name("run.sh") && !is_script_name("main.go"));
        let service = "#!/bin/sh\nexec s6-setuidgid git /app/gogs web\n";
        assert_eq!(
            privilege_drops(service),
            [Drop {
                line: 2,
                tool: "s6-setuidgid".into(),
                user: "git".into(),
                unless_set: None,
                root_work: Vec::new()
            }]
        );
        assert!(is_script_name("run"), "an s6 or runit service's script");
        assert!(privilege_drops("exec gosu root /usr/sbin/crond -f\n").is_empty(), "root is no drop");
        let su = "chown -R \"$USER:$USER\" /data\nexec su $USER -c \"/app/server --config /config.yml\"\n";
        assert_eq!(privilege_drops(su)[0].root_work, ["chown"], "the root work before the drop");
        let guarded = "if [ \"$(id -u)\" = '0' ]; then\n  chown -R app /data\n  exec su-exec app \"$0\" \"$@\"\nfi\nexec \"$@\"\n";
        assert!(privilege_drops(guarded)[0].root_work.is_empty(), "started as the user, it skips the root work");
        let runuser = "exec runuser -u app -- /app/server\n";
        assert_eq!(
            privilege_drops(runuser),
            [Drop { line: 1, tool: "runuser".into(), user: "app".into(), unless_set: None, root_work: Vec::new() }]
        );
        assert!(privilege_drops("su postgres -c initdb\n").is_empty(), "a su that is no exec only prepares");
        assert!(privilege_drops("exec su -c \"/app/server\" root\n").is_empty(), "root is no drop");
    }
}
