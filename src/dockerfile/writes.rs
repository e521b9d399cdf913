//! Where the program an image runs writes at run time, as its Go source says: the directories
//! 65532 must own after a user switch, and those a pod with a read-only root file system must
//! mount a volume at.

use crate::config::Config;
use crate::source::SourceFacts;

use super::facts::{Facts, join_path};
use super::model::{Body, Dockerfile};

/// A directory the program writes at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The path written, absolute (a relative path is taken from the final stage's working
    /// directory).
    pub path: String,
    /// The directory written into: the path itself, or the directory of a file.
    pub dir: String,
    /// The flag whose default names it (`-data-dir`), when a flag does: a command that sets the
    /// flag writes elsewhere.
    pub flag: Option<String>,
    /// Where the source says so: `main.go:12 writes data/app.db (sqlite)`.
    pub why: String,
}

/// The directories the program of `facts`' final stage writes, as its source says (a path
/// from a variable or the home directory, `$HOME/x` or `~/x`, or an embedded database's, set
/// when the program runs, is not told).
pub fn program_writes(facts: &Facts<'_>) -> Vec<Written> {
    let stage = facts.runtime_stage();
    let cwd = facts.workdir_at(stage, stage.instructions.len());
    facts
        .source
        .writes
        .iter()
        .filter(|write| !write.found.path.is_empty() && !write.found.path.starts_with(['$', '~']))
        .map(|write| {
            let path = join_path(&cwd, &write.found.path);
            let found = &write.found;
            Written {
                dir: if found.dir { path.clone() } else { parent(&path) },
                path,
                flag: found.how.starts_with('-').then(|| found.how.clone()),
                why: format!("{}:{} writes {} ({})", write.file, found.line, found.path, found.how),
            }
        })
        .collect()
}

/// What a Dockerfile's image writes where nothing of its own is mounted: the directories its
/// program writes (see [`program_writes`]) that are not under one of its `VOLUME`s (a container
/// runtime mounts those, writable, even over a read-only root). Empty for a file that does not
/// parse.
pub fn unmounted_writes(text: &str, source: &SourceFacts) -> Vec<Written> {
    let Ok(df) = Dockerfile::parse(text) else { return Vec::new() };
    let config = Config::default();
    let facts = Facts::new(text, &df, source, &config);
    let stage = facts.runtime_stage();
    let volumes: Vec<String> = (stage.instructions.iter().enumerate())
        .filter_map(|(i, inst)| match &inst.body {
            Body::Volume(paths) => Some(paths.iter().map(move |p| (i, p))),
            _ => None,
        })
        .flatten()
        .map(|(i, p)| join_path(&facts.workdir_at(stage, i), p))
        .collect();
    let mut writes = program_writes(&facts);
    writes.extend(given_to_user(&facts));
    writes.retain(|w| !w.dir.contains(['$', '*']) && !volumes.iter().any(|v| is_under(&w.dir, v)));
    writes
}

/// The directories the final stage's `chown -R` gives to the user it runs as (`chown -R
/// app:app /srv` before `USER app`): the image prepares them for its program to write, whether
/// or not its source says where (a path from a flag the command passes).
fn given_to_user(facts: &Facts<'_>) -> Vec<Written> {
    let stage = facts.runtime_stage();
    let Some((_, user)) = facts.last_user(stage) else { return Vec::new() };
    let name = user.split(':').next().unwrap_or(user);
    let recursive = |a: &&str| *a == "--recursive" || (a.starts_with('-') && !a.starts_with("--") && a.contains('R'));
    let mut given = Vec::new();
    for (i, inst) in stage.instructions.iter().enumerate() {
        for cmd in inst.body.run_commands() {
            let argv: Vec<&str> = cmd.argv().iter().map(|t| t.value.as_str()).collect();
            if argv.first() != Some(&"chown") || !argv.iter().any(recursive) {
                continue;
            }
            let mut operands = argv[1..].iter().filter(|a| !a.starts_with('-'));
            if operands.next().and_then(|owner| owner.split([':', '.']).next()) != Some(name) {
                continue;
            }
            for path in operands {
                let path = join_path(&facts.workdir_at(stage, i), path);
                given.push(Written {
                    why: format!(
                        "its Dockerfile gives {path} to {name}, the user it runs as (line {}: `chown -R`), for its program to write",
                        inst.line
                    ),
                    dir: path.clone(),
                    path,
                    flag: None,
                });
            }
        }
    }
    given
}

/// The first file the final stage puts under /tmp (`COPY ca.crt /tmp/certs/ca.crt`, `RUN mkdir
/// -p /tmp/cache`), with its line: an emptyDir mounted at /tmp, as a read-only root needs, would
/// hide it. `None` for a file that does not parse.
pub fn tmp_files(text: &str) -> Option<(usize, String)> {
    let df = Dockerfile::parse(text).ok()?;
    let (source, config) = (SourceFacts::default(), Config::default());
    let facts = Facts::new(text, &df, &source, &config);
    let stage = facts.runtime_stage();
    stage.instructions.iter().enumerate().find_map(|(i, inst)| {
        let at = |path: &str| join_path(&facts.workdir_at(stage, i), path);
        let put: Vec<String> = match &inst.body {
            Body::Copy(c) => vec![at(&c.dest)],
            _ => (inst.body.run_commands().iter())
                .filter(|c| matches!(c.argv().first().map(|t| t.value.as_str()), Some("mkdir" | "touch" | "cp")))
                .flat_map(|c| {
                    c.argv()
                        .iter()
                        .skip(1)
                        .filter(|t| !t.value.starts_with('-'))
                        .map(|t| at(&t.value))
                        .collect::<Vec<_>>()
                })
                .collect(),
        };
        put.into_iter().find(|p| p.starts_with("/tmp/")).map(|p| (inst.line, p))
    })
}

/// True when `dir` is `base` or inside it.
pub fn is_under(dir: &str, base: &str) -> bool {
    let base = base.trim_end_matches('/');
    dir == base || base.is_empty() || dir.starts_with(&format!("{base}/"))
}

/// The directory a path is in.
pub fn parent(path: &str) -> String {
    match path.rsplit_once('/') {
        Some(("", _)) | None => "/".into(),
        Some((dir, _)) => dir.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Located, gocode::Write};

    fn source(writes: &[(&str, bool, &str)]) -> SourceFacts {
        let writes = writes
            .iter()
            .enumerate()
            .map(|(i, (path, dir, how))| Located {
                file: "main.go".into(),
                found: Write { line: i + 1, path: path.to_string(), dir: *dir, how: how.to_string() },
            })
            .collect();
        SourceFacts { available: true, writes, ..Default::default() }
    }

    #[test]
    fn relative_paths_are_taken_from_the_working_directory_and_volumes_cover_what_is_under_them() {
        let text = "FROM golang:1.22 AS build\nRUN go build -o /app .\nFROM debian:12\nWORKDIR /srv\nVOLUME /srv/cache\nCOPY --from=build /app /app\nCMD [\"/app\"]\n";
        let source = source(&[
            ("data/app.db", false, "sqlite"),
            ("cache/x", true, "os.MkdirAll"),
            ("/var/lib/app", true, "-data-dir"),
            ("$HOME/x", true, "os.MkdirAll"),
        ]);
        let writes = unmounted_writes(text, &source);
        let dirs: Vec<(&str, Option<&str>)> = writes.iter().map(|w| (w.dir.as_str(), w.flag.as_deref())).collect();
        assert_eq!(dirs, [("/srv/data", None), ("/var/lib/app", Some("-data-dir"))]);
        assert_eq!(writes[0].why, "main.go:1 writes data/app.db (sqlite)");
        assert!(unmounted_writes("FROM alpine\nRUN <<EOF\necho\n", &source).is_empty());
    }

    #[test]
    fn a_directory_the_final_stage_gives_its_user_is_written() {
        let text = "FROM golang:1.22 AS build\nRUN go build -o /app .\nFROM alpine\nWORKDIR /srv\nRUN adduser -S app && chown -R app:app web /data\nRUN chown app /srv/app && chown -R root /etc/app\nUSER app\nCMD [\"/srv/app\"]\n";
        let writes = unmounted_writes(text, &source(&[]));
        let dirs: Vec<&str> = writes.iter().map(|w| w.dir.as_str()).collect();
        assert_eq!(dirs, ["/srv/web", "/data"]);
        assert!(writes[0].why.contains("line 5: `chown -R`"), "{}", writes[0].why);
        assert!(unmounted_writes(&text.replace("USER app\n", ""), &source(&[])).is_empty());
    }

    #[test]
    fn files_the_final_stage_puts_under_tmp_are_found() {
        let text = "FROM golang:1.22 AS build\nRUN mkdir /tmp/build\nFROM alpine\nCOPY ca.crt /tmp/certs/ca.crt\n";
        assert_eq!(tmp_files(text), Some((4, "/tmp/certs/ca.crt".into())));
        let made = "FROM alpine\nWORKDIR /tmp\nRUN echo hi && mkdir -p kafka-streams\n";
        assert_eq!(tmp_files(made), Some((3, "/tmp/kafka-streams".into())));
        assert_eq!(tmp_files("FROM alpine\nCOPY app /app\nRUN rm -rf /tmp/x\n"), None);
    }

    #[test]
    fn a_directory_is_under_itself_and_its_parents_only() {
        assert!(is_under("/data", "/data/"));
        assert!(is_under("/data/db", "/data"));
        assert!(!is_under("/database", "/data"));
        assert!(is_under("/x", "/"));
        assert_eq!(parent("/data/app.db"), "/data");
        assert_eq!(parent("/app.db"), "/");
    }
}
