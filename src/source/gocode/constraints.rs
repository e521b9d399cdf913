//! Build constraints: which Go files a plain `go build` for Linux leaves out, by their names
//! (`x_darwin.go`) and their `//go:build` lines.

/// Build tags that keep a file out of a plain `go build`: files for tools that run beside the
/// build (`ignore`, mage's build script, a `tools.go`, wire's injectors, generators) and for
/// tests run with `-tags`.
const NEVER_BUILT: &[&str] = &["ignore", "mage", "tools", "tool", "generate", "wireinject", "integration", "e2e"];

/// `GOOS` values other than linux, as file name suffixes and build tags.
const OTHER_OSES: &[&str] = &[
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "hurd",
    "illumos",
    "ios",
    "js",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "wasip1",
    "windows",
    "zos",
];

/// True when a file's name restricts it to another operating system (`x_darwin.go`,
/// `x_windows_amd64.go`).
pub fn named_for_other_os(name: &str) -> bool {
    let stem = name.trim_end_matches(".go");
    let parts: Vec<&str> = stem.split('_').collect();
    parts.len() > 1 && parts[1..].iter().any(|p| OTHER_OSES.contains(p))
}

/// True when a `//go:build` constraint keeps its file out of a plain Linux build: it names other
/// systems and not linux, without alternatives, or it is one of [`NEVER_BUILT`]'s tags.
pub(super) fn keeps_out_of_linux_build(constraint: &str) -> bool {
    // A negated system (`!windows`, `!plan9`) leaves linux in.
    let words: Vec<&str> = constraint.split(|c: char| !(c.is_alphanumeric() || c == '!')).collect();
    let other_os =
        !constraint.contains("||") && !words.contains(&"linux") && words.iter().any(|w| OTHER_OSES.contains(w));
    let not_linux = !constraint.contains("||") && words.contains(&"!linux");
    other_os || not_linux || NEVER_BUILT.contains(&constraint.trim())
}

/// The cgo constraint of a line of code, if it is a build constraint (see [`cgo_constraint`]).
pub(super) fn cgo_of_line(code: &str) -> Option<(bool, bool)> {
    match (code.strip_prefix("//go:build "), code.strip_prefix("// +build ")) {
        (Some(c), _) => Some(cgo_constraint(c, false)),
        (_, Some(c)) => Some(cgo_constraint(c, true)),
        _ => None,
    }
}

/// Whether a constraint line (`//go:build …` or `// +build …`, its text after the marker) keeps
/// its file to cgo builds (`cgo`, `linux && cgo`), and whether it keeps it to builds without
/// cgo (`!cgo`): a package with only the first fails to build with CGO_ENABLED=0.
pub(super) fn cgo_constraint(constraint: &str, old_style: bool) -> (bool, bool) {
    let without = constraint.contains("!cgo");
    let words = |c: &str| c.split(|ch: char| !(ch.is_alphanumeric() || ch == '!')).any(|w| w == "cgo");
    let only = match old_style {
        // `// +build cgo linux`: a space is an or, a comma an and.
        true => constraint.split_whitespace().all(|option| option.split(',').any(|w| w == "cgo")),
        false => !constraint.contains("||") && words(constraint),
    };
    (only, without)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_constraints_that_leave_linux_out_keep_a_file_out() {
        assert!(keeps_out_of_linux_build("darwin") && named_for_other_os("pse_dragonfly.go"));
        assert!(keeps_out_of_linux_build("windows && amd64"));
        assert!(!keeps_out_of_linux_build("!plan9"), "every system but plan9");
        assert!(!keeps_out_of_linux_build("!windows && !darwin"));
        assert!(keeps_out_of_linux_build("!linux && !windows"), "every system but linux");
        assert!(!keeps_out_of_linux_build("linux || darwin"));
        assert!(keeps_out_of_linux_build("ignore"));
    }

    #[test]
    fn cgo_constraints_are_told_apart() {
        assert_eq!(cgo_constraint("cgo", false), (true, false));
        assert_eq!(cgo_constraint("linux && cgo", false), (true, false));
        assert_eq!(cgo_constraint("!cgo", false), (false, true));
        assert_eq!(cgo_constraint("cgo || windows", false), (false, false));
        assert_eq!(cgo_constraint("cgo,linux", true), (true, false));
        assert_eq!(cgo_constraint("cgo darwin", true), (false, false));
        assert_eq!(cgo_constraint("linux", false), (false, false));
    }
}
