//! The paths a Go file's line shows the program writing: a write call's literal path, an
//! SQLite file, a flag's data-directory default, or a variable naming a directory it fills.

use super::needles::{DATA_FLAG_WORDS, READ_FLAG_WORDS, WRITE_CALLS};
use super::{Write, after, all_strings, first_string, flag_default, looks_like_path};

/// Adds the write `code` (line `line`) shows, if any, to `out`.
pub(super) fn writes(code: &str, line: usize, out: &mut Vec<Write>) {
    for (call, dir, how) in WRITE_CALLS {
        if let Some(path) = after(code, call).and_then(first_string).filter(|p| looks_like_path(p)) {
            out.push(Write { line, path, dir: *dir, how: how.to_string() });
            return;
        }
    }
    if let Some(rest) = after(code, "os.OpenFile(")
        && ["O_CREATE", "O_WRONLY", "O_RDWR", "O_APPEND"].iter().any(|f| rest.contains(f))
        && let Some(path) = first_string(rest).filter(|p| looks_like_path(p))
    {
        out.push(Write { line, path, dir: false, how: "os.OpenFile".into() });
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
        let written = path.starts_with("/var/lib/")
            || (path.starts_with("./") && OUTPUT_DIR_WORDS.iter().any(|w| lower.starts_with(w)));
        if written && !name.contains(' ') && lower.ends_with("dir") {
            out.push(Write { line, path, dir: true, how: format!("{name} (a default)") });
        }
    }
}

/// How the name of a variable holding a directory the program fills begins (`OutputDir`,
/// `resultsDir`, `uploadDir`).
const OUTPUT_DIR_WORDS: &[&str] = &["output", "result", "failed", "upload", "data", "state", "cache", "log"];
