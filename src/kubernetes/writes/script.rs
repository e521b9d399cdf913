//! What a container's shell command writes: the files and directories a `sh -c` script in the
//! manifest creates or changes (a redirect, `mkdir`, `cp`, a package install…), which a read-only
//! root file system would refuse, whatever image runs it.

use crate::dockerfile::writes::{Written, parent};
use crate::shell;

/// Programs that start the next word as the command (`tini -- sh -c …`).
const WRAPPERS: &[&str] = &["tini", "dumb-init", "--", "busybox", "env", "exec"];

/// The script `words` (a container's `command` then `args`) run through a shell's `-c`.
pub fn shell_script<'a>(words: &[&'a str]) -> Option<&'a str> {
    let shell = words.iter().position(|w| !WRAPPERS.contains(&program(w)))?;
    if !shell::is_shell_program(words[shell]) {
        return None;
    }
    let options: Vec<&str> =
        words[shell + 1..].iter().copied().take_while(|w| w.starts_with('-') && !w.starts_with("--")).collect();
    options.iter().any(|o| o.contains('c')).then(|| words.get(shell + 1 + options.len()).copied()).flatten()
}

/// What `script` writes, each path resolved against `workdir` (the container's `workingDir`)
/// when relative; a relative path is "the image's working directory" when no `workingDir` says
/// where that is. Paths from variables are not told.
pub fn script_writes(script: &str, workdir: Option<&str>) -> Vec<Written> {
    let Some(commands) = shell::commands(script, 0) else { return Vec::new() };
    let mut writes = Vec::new();
    for command in &commands {
        let argv: Vec<&str> = command.argv().iter().map(|t| t.value.as_str()).collect();
        let mut found: Vec<(&str, bool, String)> =
            command.outputs.iter().map(|o| (o.as_str(), false, "a `>` redirect".to_string())).collect();
        if let Some((name, args)) = argv.split_first() {
            let name = program(name);
            found.extend(written_by(name, args).into_iter().map(|(path, dir)| (path, dir, name.to_string())));
        }
        for (path, is_dir, how) in found {
            if path.contains('$') || path.is_empty() || path == "-" {
                continue;
            }
            let path = match (path.starts_with('/'), workdir) {
                (true, _) => path.to_string(),
                (false, Some(wd)) => crate::dockerfile::facts::join_path(wd, path),
                (false, None) => {
                    writes.push(Written {
                        path: path.to_string(),
                        dir: "the image's working directory".into(),
                        flag: None,
                        why: format!("its shell script writes {path} ({how})"),
                    });
                    continue;
                }
            };
            let dir = if is_dir { path.clone() } else { parent(&path) };
            writes.push(Written { dir, why: format!("its shell script writes {path} ({how})"), path, flag: None });
        }
    }
    writes
}

/// The first command of `script` that changes a file's mode or owner (`chmod 700 /var/lib/etcd`,
/// `chown`), which only the file's owner (or root) may do, on a path the script did not create
/// itself (`mkdir`) and outside /tmp; as written.
pub fn owner_change(script: &str) -> Option<String> {
    let commands = shell::commands(script, 0)?;
    let mut made: Vec<&str> = Vec::new();
    for command in &commands {
        let argv: Vec<&str> = command.argv().iter().map(|t| t.value.as_str()).collect();
        let Some((name, args)) = argv.split_first() else { continue };
        let operands: Vec<&str> = args.iter().copied().filter(|a| !a.starts_with('-')).collect();
        match program(name) {
            "mkdir" => made.extend(operands),
            "chmod" | "chown" | "chgrp" => {
                let foreign = |p: &&str| !made.contains(p) && !p.starts_with("/tmp") && !p.contains('$');
                if operands.iter().skip(1).any(foreign) {
                    return Some(argv.join(" "));
                }
            }
            _ => {}
        }
    }
    None
}

/// The paths a command writes, each with whether it is a directory written into.
fn written_by<'a>(name: &str, args: &[&'a str]) -> Vec<(&'a str, bool)> {
    let operands: Vec<&str> = args.iter().copied().filter(|a| !a.starts_with('-')).collect();
    let option_value = |names: &[&str]| {
        args.iter().enumerate().find_map(|(i, a)| {
            names.iter().find_map(|n| match a.strip_prefix(n) {
                Some("") => args.get(i + 1).copied(),
                Some(rest) if n.starts_with("--") => rest.strip_prefix('='),
                Some(rest) => Some(rest),
                None => None,
            })
        })
    };
    match name {
        "mkdir" => operands.into_iter().map(|p| (p, true)).collect(),
        "touch" | "tee" => operands.into_iter().map(|p| (p, false)).collect(),
        "cp" | "mv" | "ln" | "install" | "rsync" if operands.len() > 1 => {
            operands.last().map(|p| (*p, p.ends_with('/'))).into_iter().collect()
        }
        "sed" if args.iter().any(|a| a.starts_with("-i") || a.starts_with("--in-place")) => {
            operands.last().map(|p| (*p, false)).into_iter().collect()
        }
        "chmod" => operands.iter().skip(1).map(|p| (*p, true)).collect(),
        "wget" => option_value(&["-O", "--output-document"]).map(|p| (p, false)).into_iter().collect(),
        "curl" => option_value(&["-o", "--output"]).map(|p| (p, false)).into_iter().collect(),
        "tar"
            if args.first().is_some_and(|a| a.trim_start_matches('-').contains('x')) || args.contains(&"--extract") =>
        {
            vec![(option_value(&["-C", "--directory"]).unwrap_or("."), true)]
        }
        "unzip" => vec![(option_value(&["-d"]).unwrap_or("."), true)],
        "git" if args.first() == Some(&"clone") => vec![(operands.get(2).copied().unwrap_or("."), true)],
        _ => Vec::new(),
    }
}

/// A word's program name: the last part of its path.
fn program(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writes(script: &str, workdir: Option<&str>) -> Vec<(String, String)> {
        script_writes(script, workdir).into_iter().map(|w| (w.path, w.dir)).collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(p, d)| (p.to_string(), d.to_string())).collect()
    }

    #[test]
    fn a_mode_or_owner_change_needs_the_files_owner() {
        assert_eq!(owner_change("chmod 700 /var/lib/etcd\nexec etcd").as_deref(), Some("chmod 700 /var/lib/etcd"));
        assert_eq!(owner_change("mkdir -p /data/x && chmod 700 /data/x && exec app"), None, "made by the script");
        assert_eq!(owner_change("chmod +x /tmp/run.sh && /tmp/run.sh"), None);
        assert_eq!(owner_change("exec etcd --data-dir /var/lib/etcd"), None);
    }

    #[test]
    fn the_script_is_the_word_after_the_shells_c_option() {
        assert_eq!(shell_script(&["/bin/sh", "-c", "echo hi"]), Some("echo hi"));
        assert_eq!(shell_script(&["tini", "--", "bash", "-ec", "x"]), Some("x"));
        assert_eq!(shell_script(&["sh", "-e", "-c", "y"]), Some("y"));
        assert_eq!(shell_script(&["/app", "-c", "config.yaml"]), None);
        assert_eq!(shell_script(&["sh", "/entrypoint.sh"]), None);
    }

    #[test]
    fn redirects_and_file_commands_are_writes_resolved_from_the_working_directory() {
        let script =
            "mkdir -p /data/cache && echo ok > status.txt 2>&1; cp /etc/app.conf /config/; exec /app > /dev/stdout";
        assert_eq!(
            writes(script, Some("/srv")),
            pairs(&[
                ("/data/cache", "/data/cache"),
                ("/srv/status.txt", "/srv"),
                ("/config/", "/config/"),
                ("/dev/stdout", "/dev")
            ])
        );
        assert_eq!(writes("echo ok > status.txt", None), pairs(&[("status.txt", "the image's working directory")]));
        assert_eq!(
            writes("curl -fsSL -o /bin/tool https://x; echo $X > $HOME/y", None),
            pairs(&[("/bin/tool", "/bin")])
        );
        assert_eq!(writes("sed -i s/a/b/ /etc/hosts.conf", None), pairs(&[("/etc/hosts.conf", "/etc")]));
        assert_eq!(
            writes("tar xzf a.tgz -C /opt && cat /etc/x && ls > /dev/null", None),
            pairs(&[("/opt", "/opt"), ("/dev/null", "/dev")])
        );
        assert!(writes("exec /app --config /etc/app.yaml", Some("/")).is_empty());
    }
}
