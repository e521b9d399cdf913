//! Writes a library makes under the user's home directory, whatever path the program gives it:
//! Helm's chart downloads (`LocateChart`) cache the chart and its repository's index under
//! `$HOME/.cache/helm`, and fail where the home is `/` (a user the image has no account for).
//! The write is the program's where a package of it calls the function that makes the call, so a
//! shared helper package (`pkg/utils`) counts only for the programs whose code calls the helper.

use std::path::{Path, PathBuf};

use super::Located;
use super::gocode::Write;

/// The calls that write under the home directory: the import that makes them the library's, the
/// call, and what it writes.
const CALLS: &[(&str, &str, &str)] = &[
    ("helm.sh/helm/v3/pkg/action", ".LocateChart(", "Helm's LocateChart, which caches charts under $HOME/.cache/helm"),
    ("helm.sh/helm/v4/pkg/action", ".LocateChart(", "Helm's LocateChart, which caches charts under $HOME/.cache/helm"),
];

/// A call in a file to a library that writes under the home directory.
#[derive(Debug, Clone)]
pub struct LibraryCall {
    /// 1-based line of the call.
    line: usize,
    /// What the call writes.
    how: &'static str,
    /// The function of a library package the call is in (`LocateAuthHelmChart`); `None` in a
    /// `main` package, which is the program's own.
    via: Option<String>,
}

/// The first call in a file (`code`, which imports `imports`, in a package named `package`) to a
/// library that writes under the home directory.
pub fn find(code: &str, imports: &[String], package: &str) -> Option<LibraryCall> {
    let (_, call, how) =
        CALLS.iter().find(|(import, call, _)| imports.iter().any(|i| i == import) && code.contains(call))?;
    let lines: Vec<&str> = code.lines().collect();
    let at = lines.iter().position(|l| !l.trim_start().starts_with("//") && l.contains(call))?;
    let via = enclosing(&lines[..at]).filter(|_| package != "main");
    Some(LibraryCall { line: at + 1, how, via })
}

/// The name a function declaration's rest (after `func `) declares, a method's too.
fn function_name(rest: &str) -> Option<String> {
    let rest = match rest.strip_prefix('(') {
        Some(receiver) => receiver.split_once(')')?.1.trim_start(),
        None => rest,
    };
    let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    (!name.is_empty()).then_some(name)
}

/// [`home_writes`] for the Go files `go_files` of the build context `dir`.
pub fn in_context(found: Vec<(String, LibraryCall)>, dir: &Path, go_files: &[PathBuf]) -> Vec<Located<Write>> {
    if found.is_empty() {
        return Vec::new();
    }
    let files: Vec<String> =
        go_files.iter().map(|p| p.strip_prefix(dir).unwrap_or(p).to_string_lossy().into_owned()).collect();
    home_writes(found, &files, |file| super::read_go_file(&dir.join(file)))
}

/// The home writes the calls `found` (by file) make, each where the program's code reaches it: at
/// the call itself where it is in the program's own function, else at each call, from another
/// package's file, of an exported function of the library's package that leads to it (the one it
/// is in, or one calling that within the package), said as that function's (`files`: every Go
/// file, with its text read by `read`).
fn home_writes(
    found: Vec<(String, LibraryCall)>,
    files: &[String],
    read: impl Fn(&str) -> Option<String>,
) -> Vec<Located<Write>> {
    let write = |file: &str, line: usize, how: String| Located {
        file: file.to_string(),
        found: Write { line, path: "~".into(), dir: true, how },
    };
    let mut out = Vec::new();
    for (file, call) in found {
        let Some(via) = &call.via else {
            out.push(write(&file, call.line, call.how.to_string()));
            continue;
        };
        let package = super::package_dir(&file);
        let (own, others): (Vec<&String>, Vec<&String>) = files.iter().partition(|f| super::package_dir(f) == package);
        let own: Vec<String> = own.iter().filter_map(|f| read(f)).collect();
        for entry in entry_points(via, &own) {
            let qualified = format!(".{entry}(");
            for other in &others {
                let Some(code) = read(other) else { continue };
                let caller = code.lines().position(|l| !l.trim_start().starts_with("//") && l.contains(&qualified));
                if let Some(at) = caller {
                    out.push(write(other, at + 1, format!("{entry}, through {}", call.how)));
                }
            }
        }
    }
    out
}

/// The exported functions of a package (its files' texts, `own`) that are `via` or call it,
/// through the package's own functions.
fn entry_points(via: &str, own: &[String]) -> Vec<String> {
    let mut seen = vec![via.to_string()];
    let mut next = 0;
    while next < seen.len() && seen.len() < MOST_FUNCTIONS {
        let called = seen[next].clone();
        next += 1;
        for code in own {
            let lines: Vec<&str> = code.lines().collect();
            for (at, line) in lines.iter().enumerate() {
                if line.trim_start().starts_with("//") || !calls(line, &called) {
                    continue;
                }
                if let Some(caller) = enclosing(&lines[..at]).filter(|c| !seen.contains(c)) {
                    seen.push(caller);
                }
            }
        }
    }
    seen.retain(|f| f.starts_with(|c: char| c.is_ascii_uppercase()));
    seen
}

/// The functions of a package followed to find its entry points, at most.
const MOST_FUNCTIONS: usize = 16;

/// True when `line` calls the package's own function `name` (unqualified; a declaration calls
/// nothing).
fn calls(line: &str, name: &str) -> bool {
    let call = format!("{name}(");
    !line.trim_start().starts_with("func ")
        && line.match_indices(&call).any(|(i, _)| {
            let before = line[..i].chars().next_back();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
        })
}

/// The function the line after `before` (a file's lines up to it) is in.
fn enclosing(before: &[&str]) -> Option<String> {
    before.iter().rev().find_map(|l| l.strip_prefix("func ")).and_then(function_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELPER: &str = "package utils\n\nimport (\n\t\"helm.sh/helm/v3/pkg/action\"\n)\n\n// LocateAuthHelmChart finds a chart.\nfunc LocateAuthHelmChart(cfg *action.Configuration, name string) error {\n\tclient := action.NewInstall(cfg)\n\t_, err := client.ChartPathOptions.LocateChart(name, Settings)\n\treturn err\n}\n";

    fn imports() -> Vec<String> {
        vec!["helm.sh/helm/v3/pkg/action".to_string()]
    }

    #[test]
    fn a_helper_package_writes_for_the_programs_that_call_it_only() {
        let call = find(HELPER, &imports(), "utils").expect("the call");
        assert_eq!((call.line, call.via.as_deref()), (10, Some("LocateAuthHelmChart")));
        let files: Vec<String> = [
            "pkg/utils/chart.go",
            "pkg/utils/deployer.go",
            "pkg/agent/deployer.go",
            "pkg/hub/hub.go",
            "pkg/scheduler/run.go",
        ]
        .map(String::from)
        .to_vec();
        let read = |file: &str| {
            match file {
            "pkg/agent/deployer.go" => Some("package agent\n\nfunc deploy() {\n\tutils.LocateAuthHelmChart(cfg, n)\n}\n".into()),
            "pkg/utils/deployer.go" => Some("package utils\n\nfunc DeployChart() {\n\tlocate()\n}\n\nfunc locate() {\n\tLocateAuthHelmChart(cfg, n)\n}\n".into()),
            "pkg/hub/hub.go" => Some("package hub\n\nfunc run() {\n\n\tutils.DeployChart()\n}\n".into()),
            "pkg/scheduler/run.go" => Some("package scheduler\n\n// utils.LocateAuthHelmChart( is not called here\nfunc run() { utils.Other() }\n".into()),
            _ => Some(HELPER.to_string()),
        }
        };
        let writes = home_writes(vec![("pkg/utils/chart.go".into(), call)], &files, read);
        let at: Vec<(&str, usize)> = writes.iter().map(|w| (w.file.as_str(), w.found.line)).collect();
        assert_eq!(at, [("pkg/agent/deployer.go", 4), ("pkg/hub/hub.go", 5)]);
        assert!(writes[0].found.how.starts_with("LocateAuthHelmChart, through Helm's LocateChart"), "{writes:?}");
        assert!(writes[1].found.how.starts_with("DeployChart, through"), "through the package's own functions");
    }

    #[test]
    fn a_call_in_the_program_itself_is_its_write() {
        let main = HELPER.replace("package utils", "package main");
        let call = find(&main, &imports(), "main").expect("the call");
        assert_eq!(call.via, None);
        let writes = home_writes(vec![("main.go".into(), call)], &["main.go".to_string()], |_| None);
        assert_eq!((writes[0].file.as_str(), writes[0].found.line), ("main.go", 10));
        assert!(find(HELPER, &[], "utils").is_none(), "another library's LocateChart");
    }
}
