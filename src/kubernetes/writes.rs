//! Where a container writes: the volumes it mounts writable, and the paths its image's program
//! or its own shell command writes outside them (which a read-only root, or a user other than
//! the image's, would refuse).

use yaml_serde::Value;

use crate::dockerfile::writes::{Written, is_under, parent};

mod script;

/// Directories that stay writable under a read-only root: /tmp gets a volume of its own when
/// harden makes the root read-only, and the kernel's file systems are mounted by the runtime.
const WRITABLE_ANYWAY: &[&str] = &["/tmp", "/dev", "/proc", "/sys"];

/// The first path the container's `sh -c` command writes where nothing writable is mounted,
/// with the directory it writes.
pub fn script_write(container: &Value) -> Option<(String, Written)> {
    let workdir = container.get("workingDir").and_then(Value::as_str).filter(|wd| wd.starts_with('/'));
    let writes = script::script_writes(script::shell_script(&words(container))?, workdir);
    unmounted_write(container, &writes).map(|(dir, write)| (dir, write.clone()))
}

/// The command of a container's shell script that changes a file's mode or owner, which a user
/// other than the file's owner cannot (see [`script::owner_change`]).
pub fn script_owner_change(container: &Value) -> Option<String> {
    script::owner_change(script::shell_script(&words(container))?)
}

/// True when something is already mounted at /tmp.
pub fn mounts_tmp(container: &Value) -> bool {
    mounts(container).any(|(path, _)| path.trim_end_matches('/') == "/tmp")
}

/// The first of `writes` (what the container's image writes, as the repository's source says)
/// that nothing mounted writable in `container` covers, with the directory it writes: a flag
/// the container's command sets moves the write where the flag says.
pub fn unmounted_write<'w>(container: &Value, writes: &'w [Written]) -> Option<(String, &'w Written)> {
    let words = words(container);
    let writable: Vec<&str> = mounts(container).filter(|(_, read_only)| !read_only).map(|(path, _)| path).collect();
    writes.iter().find_map(|write| {
        let dir = match write.flag.as_deref().and_then(|flag| flag_value(&words, flag)) {
            Some(value) if write.path == write.dir => value.to_string(),
            Some(value) => parent(value),
            None => write.dir.clone(),
        };
        let covered = WRITABLE_ANYWAY.iter().chain(&writable).any(|base| is_under(&dir, base));
        (!covered).then_some((dir, write))
    })
}

/// A container's `command` then `args`.
pub(super) fn words(container: &Value) -> Vec<&str> {
    ["command", "args"]
        .iter()
        .filter_map(|key| container.get(*key).and_then(Value::as_sequence))
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// The mount paths of a container, each with whether it is mounted read-only.
fn mounts(container: &Value) -> impl Iterator<Item = (&str, bool)> {
    let list = container.get("volumeMounts").and_then(Value::as_sequence).into_iter().flatten();
    list.filter_map(|m| {
        let path = m.get("mountPath").and_then(Value::as_str)?;
        Some((path, m.get("readOnly").and_then(Value::as_bool) == Some(true)))
    })
}

/// The value `words` give flag `flag` (`-data-dir`), written with one dash or two, as
/// `-flag=value` or `-flag value`.
pub(super) fn flag_value<'a>(words: &[&'a str], flag: &str) -> Option<&'a str> {
    let name = flag.trim_start_matches('-');
    let names = [format!("-{name}"), format!("--{name}")];
    words.iter().enumerate().find_map(|(i, word)| {
        let word = word.trim();
        names.iter().find_map(|n| match word.strip_prefix(n.as_str()) {
            Some(rest) if rest.starts_with('=') => Some(&rest[1..]),
            Some("") => words.get(i + 1).copied(),
            _ => None,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(path: &str, dir: &str, flag: Option<&str>) -> Written {
        Written {
            path: path.into(),
            dir: dir.into(),
            flag: flag.map(str::to_string),
            why: format!("main.go:1 writes {path}"),
        }
    }

    fn container(yaml: &str) -> Value {
        yaml_serde::from_str(yaml).expect("test YAML")
    }

    #[test]
    fn a_write_is_covered_by_a_writable_mount_above_it_or_tmp() {
        let writes = [written("/tmp/x", "/tmp", None), written("/data/db/app.db", "/data/db", None)];
        let none = container("name: app\n");
        assert_eq!(unmounted_write(&none, &writes).map(|(d, _)| d), Some("/data/db".into()));
        let mounted = container("volumeMounts:\n- {name: d, mountPath: /data/}\n");
        assert!(unmounted_write(&mounted, &writes).is_none());
        let read_only = container("volumeMounts:\n- {name: d, mountPath: /data, readOnly: true}\n");
        assert!(unmounted_write(&read_only, &writes).is_some());
        let beside = container("volumeMounts:\n- {name: d, mountPath: /database}\n");
        assert!(unmounted_write(&beside, &writes).is_some());
        assert!(!mounts_tmp(&mounted));
        assert!(mounts_tmp(&container("volumeMounts:\n- {name: t, mountPath: /tmp/}\n")));
    }

    #[test]
    fn a_flag_the_command_sets_moves_the_write() {
        let dir = [written("/var/lib/app", "/var/lib/app", Some("-data-dir"))];
        let file = [written("/var/lib/app/app.db", "/var/lib/app", Some("-db"))];
        let moved = container(
            "args: [\"--data-dir=/data\", \"-db\", \"/data/x.db\"]\nvolumeMounts:\n- {name: d, mountPath: /data}\n",
        );
        assert!(unmounted_write(&moved, &dir).is_none());
        assert!(unmounted_write(&moved, &file).is_none());
        let elsewhere = container("command: [/app, -data-dir, /srv/app]\n");
        assert_eq!(unmounted_write(&elsewhere, &dir).map(|(d, _)| d), Some("/srv/app".into()));
        assert_eq!(flag_value(&["--data-dirx=/y"], "-data-dir"), None);
    }
}
