//! The paths a Go file's line shows the program writing: a write call's literal path (or one
//! joined from names the file gave absolute paths), an SQLite file, a flag's data-directory
//! default, or a variable naming a directory it fills.

use std::collections::HashMap;

use super::needles::{DATA_FLAG_WORDS, READ_FLAG_WORDS, WRITE_CALLS};
use super::{Write, after, all_strings, first_string, flag_default};

/// Adds the write `code` (line `line`) shows, if any, to `out`; `assigned` holds the string
/// literals the file gave names before the line (`inputDir = "/var/input"`).
pub(super) fn writes(code: &str, line: usize, assigned: &HashMap<String, String>, out: &mut Vec<Write>) {
    for (call, dir, how) in WRITE_CALLS {
        if let Some((path, into)) = after(code, call).and_then(|rest| written_path(rest, assigned)) {
            out.push(Write { line, path, dir: *dir || into, how: how.to_string() });
            return;
        }
    }
    if let Some(rest) = after(code, "os.OpenFile(")
        && ["O_CREATE", "O_WRONLY", "O_RDWR", "O_APPEND"].iter().any(|f| rest.contains(f))
        && let Some((path, into)) = written_path(rest, assigned)
    {
        out.push(Write { line, path, dir: into, how: "os.OpenFile".into() });
        return;
    }
    if let Some(rest) = after(code, "sql.Open(") {
        let strings = all_strings(rest);
        if let [driver, dsn, ..] = strings.as_slice()
            && driver.starts_with("sqlite")
        {
            let path = dsn.trim_start_matches("file:").split('?').next().unwrap_or_default().to_string();
            if looks_like_path(&path) {
                out.push(Write { line, path, dir: false, how: "sqlite".into() });
            }
        }
        return;
    }
    if let Some((name, default)) = flag_default(code) {
        let lower = name.to_ascii_lowercase();
        let words: Vec<&str> = lower.split(['-', '_', '.']).collect();
        let data = words.iter().any(|w| DATA_FLAG_WORDS.contains(w));
        let read = words.iter().any(|w| READ_FLAG_WORDS.contains(w));
        if data && !read && looks_like_path(&default) && default.contains('/') {
            let dir = words.contains(&"dir") || !default.rsplit('/').next().unwrap_or_default().contains('.');
            out.push(Write { line, path: default, dir, how: format!("-{name}") });
            return;
        }
    }
    // A default data directory, named for it: `defaultDir = "/var/lib/app"`, or one the program
    // writes results into beside its working directory (`OutputDir = "./results/"`), in any
    // package of the module the program imports: a store package keeps its own default.
    if let Some((name, value)) = code.split_once('=')
        && let Some(path) = first_string(value).filter(|p| looks_like_path(p))
    {
        let name = name.trim_end_matches(':').trim();
        let name = name.strip_prefix("const ").or_else(|| name.strip_prefix("var ")).unwrap_or(name).trim();
        let lower = name.to_ascii_lowercase();
        // The kubelet's directories are the node's, which a CSI plugin names to the node (a
        // systemd unit's command, a mount's source), not the image's.
        let written = (path.starts_with("/var/lib/") && !path.starts_with("/var/lib/kubelet/"))
            || (path.starts_with("./") && OUTPUT_DIR_WORDS.iter().any(|w| lower.starts_with(w)));
        if written && !name.contains(' ') && lower.ends_with("dir") {
            out.push(Write { line, path, dir: true, how: format!("{name} (a default)") });
        }
    }
}

/// True for a string that can be a file system path (not a URL, not empty, not `:memory:`).
fn looks_like_path(s: &str) -> bool {
    !s.is_empty() && !s.contains("://") && !s.starts_with(':') && !s.contains(' ') && !s.contains('%')
}

/// The path a write call's first argument names (`args`: the text after its parenthesis): a
/// literal, a name the file gave an absolute path, or `filepath.Join` of them. True with it when
/// only the directory is known (`filepath.Join(inputDir, name)`): the program writes into it.
fn written_path(args: &str, assigned: &HashMap<String, String>) -> Option<(String, bool)> {
    if let Some(path) = first_string(args) {
        return looks_like_path(&path).then_some((path, false));
    }
    let absolute = |word: &str| assigned.get(word.trim()).filter(|p| p.starts_with('/') && looks_like_path(p));
    let Some(joined) = args.strip_prefix("filepath.Join(").or_else(|| args.strip_prefix("path.Join(")) else {
        let name: String = args.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        return absolute(&name).map(|p| (p.clone(), false));
    };
    let parts: Vec<&str> = joined.split(')').next()?.split(',').collect();
    let dir = absolute(parts.first()?)?;
    let rest: Option<Vec<String>> = parts[1..]
        .iter()
        .map(|p| first_string(p).or_else(|| assigned.get(p.trim()).filter(|f| !f.starts_with('/')).cloned()))
        .collect();
    Some(match rest {
        Some(rest) if !rest.is_empty() => (format!("{}/{}", dir.trim_end_matches('/'), rest.join("/")), false),
        _ => (dir.clone(), true),
    })
}

/// How the name of a variable holding a directory the program fills begins (`OutputDir`,
/// `resultsDir`, `uploadDir`).
const OUTPUT_DIR_WORDS: &[&str] = &["output", "result", "failed", "upload", "data", "state", "cache", "log"];

#[cfg(test)]
mod tests {
    use super::super::scan;

    #[test]
    fn a_write_where_a_flag_with_no_default_points_is_given_when_it_runs() {
        let code = "package main\nfunc init() {\n\tflag.StringVar(&path, \"p\", \"\", \"Absolute path\")\n\tflag.StringVar(&mode, \"m\", \"0777\", \"mode\")\n}\nfunc main() {\n\tos.MkdirAll(path, 0777)\n\tos.MkdirAll(mode, 0777)\n\tos.RemoveAll(path)\n}\n";
        let scanned = scan(code);
        let given: Vec<(usize, &str, &str)> =
            scanned.given_writes.iter().map(|w| (w.line, w.flag.as_str(), w.how.as_str())).collect();
        assert_eq!(
            given,
            [(7, "p", "os.MkdirAll"), (9, "p", "os.RemoveAll")],
            "a flag with a default is no given path"
        );
    }

    #[test]
    fn a_directory_flag_alone_is_read_not_written() {
        assert!(
            scan("package main\nvar dir = flag.String(\"dir\", \"./files\", \"the files to serve\")\n")
                .writes
                .is_empty()
        );
        let output =
            scan("package main\nvar out = flag.String(\"output-dir\", \"/var/lib/report\", \"where reports go\")\n");
        assert_eq!(output.writes.len(), 1);
    }

    #[test]
    fn paths_joined_from_named_directories_are_written() {
        let text = "package main\nconst out = \"resources.yaml\"\nvar (\n\tinputDir = \"/var/input\"\n\tname = \"x\"\n)\nfunc main() {\n\tf, _ := os.Create(filepath.Join(inputDir, out))\n\tos.WriteFile(filepath.Join(inputDir, *name), b, 0o644)\n\tos.MkdirAll(name, 0o755)\n}\n";
        let found: Vec<(usize, String, bool)> =
            scan(text).writes.into_iter().map(|w| (w.line, w.path, w.dir)).collect();
        assert_eq!(found, [(8, "/var/input/resources.yaml".to_string(), false), (9, "/var/input".to_string(), true)]);
    }

    #[test]
    fn a_default_kubelet_directory_is_the_nodes_not_written() {
        let text = "package mounter
func mount() {
	pluginDir := os.Getenv(\"PLUGIN_DIR\")
	if pluginDir == \"\" {
		pluginDir = \"/var/lib/kubelet/plugins/acme.csi\"
	}
	stateDir := \"/var/lib/acme\"
}
";
        let found: Vec<String> = scan(text).writes.into_iter().map(|w| w.path).collect();
        assert_eq!(found, ["/var/lib/acme"]);
    }
}

/// A write where the program is told to write when it runs: at the value of a flag with no
/// default (`flag.StringVar(&path, "p", "", …)`, then `os.MkdirAll(path, 0777)`), which may be a
/// host directory or a volume whose owner harden cannot see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GivenWrite {
    /// 1-based line of the write.
    pub line: usize,
    /// The flag that gives the path.
    pub flag: String,
    /// The call (`os.MkdirAll`, `os.RemoveAll`).
    pub how: String,
}

/// `(variable, flag)` for a string flag bound to a variable with no default (`flag.StringVar(&path,
/// "p", "", …)`, `StringVarP(&dir, "dir", "d", "", …)`).
pub(super) fn flag_without_default(code: &str) -> Option<(String, String)> {
    let shorthand = code.contains("StringVarP(&");
    let rest = after(code, "StringVarP(&").or_else(|| after(code, "StringVar(&"))?;
    let variable = name_at(rest);
    let strings = all_strings(rest);
    let default = strings.get(1 + usize::from(shorthand))?;
    (default.is_empty() && !variable.is_empty()).then(|| (variable, strings[0].clone()))
}

/// The write `code` (line `line`) makes at a variable `flags` binds to a flag with no default.
pub(super) fn given_write(code: &str, line: usize, flags: &HashMap<String, String>) -> Option<GivenWrite> {
    const CALLS: &[&str] =
        &["os.MkdirAll(", "os.Mkdir(", "os.RemoveAll(", "os.Create(", "os.WriteFile(", "os.OpenFile("];
    CALLS.iter().find_map(|call| {
        let rest = after(code, call)?;
        let flag = flags.get(&name_at(rest))?;
        Some(GivenWrite { line, flag: flag.clone(), how: call.trim_end_matches('(').to_string() })
    })
}

/// The Go name (a selector too: `cfg.dir`) that `rest` starts with.
fn name_at(rest: &str) -> String {
    rest.chars().take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '.')).collect()
}
