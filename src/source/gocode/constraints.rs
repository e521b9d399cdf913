//! Build constraints: which Go files a plain `go build` for Linux leaves out, by their names
//! (`x_darwin.go`) and their `//go:build` lines.

/// Build tags that keep a file out of a plain `go build`: files for tools that run beside the
/// build (`ignore`, mage's build script, a `tools.go`, wire's injectors, generators) and for
/// tests run with `-tags`.
const NEVER_BUILT: &[&str] = &["ignore", "mage", "tools", "tool", "generate", "wireinject", "integration", "e2e"];

/// `GOOS` values other than linux, as file name suffixes and build tags.
const OTHER_OSES: &[&str] =
    &["darwin", "windows", "freebsd", "openbsd", "netbsd", "plan9", "solaris", "ios", "android", "js", "wasip1"];

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
    let words: Vec<&str> = constraint.split(|c: char| !c.is_alphanumeric()).collect();
    let other_os =
        !constraint.contains("||") && !words.contains(&"linux") && words.iter().any(|w| OTHER_OSES.contains(w));
    other_os || NEVER_BUILT.contains(&constraint.trim())
}
