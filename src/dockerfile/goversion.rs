//! Which Go a builder runs, and whether it builds in module mode: what decides which flags and
//! steps are valid. `-trimpath` came in Go 1.13 and modules in Go 1.11; a GOPATH build (no
//! `go.mod`, an old Go, or `GO111MODULE=off`) has no `go.mod` to copy and no module cache.

use super::facts::{Facts, GoRun};
use super::image::Family;
use super::model::Stage;

/// A Go release by its major and minor number (`1.22`); patch releases do not change flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct GoVersion {
    /// The major number (1).
    pub major: u32,
    /// The minor number (22).
    pub minor: u32,
}

impl GoVersion {
    /// The first Go with `-trimpath`.
    pub const TRIMPATH: GoVersion = GoVersion { major: 1, minor: 13 };
    /// The first Go with modules (`go.mod`, `go mod download`).
    pub const MODULES: GoVersion = GoVersion { major: 1, minor: 11 };
    /// The first Go that builds in module mode even inside GOPATH when `GO111MODULE` is unset.
    pub const MODULES_IN_GOPATH: GoVersion = GoVersion { major: 1, minor: 13 };
    /// The first Go whose `go.mod` `go` line is the least Go that builds the module (before, it
    /// was advice, and often years old).
    pub const REAL_MINIMUM: GoVersion = GoVersion { major: 1, minor: 21 };
    /// The first Go whose linker's `-s` implies `-w` (no DWARF either).
    pub const STRIP_IMPLIES_NO_DWARF: GoVersion = GoVersion { major: 1, minor: 22 };
    /// The first Go with a build cache (`GOCACHE`).
    pub const BUILD_CACHE: GoVersion = GoVersion { major: 1, minor: 10 };
    /// The first Go that ships no standard library built beforehand: before it, a golang image
    /// carried `net` and `os/user` compiled with cgo, linked in even where no gcc is left.
    pub const NO_PREBUILT_STD: GoVersion = GoVersion { major: 1, minor: 20 };
    /// The first Go that turns cgo off by itself where no C compiler is found.
    pub const NO_COMPILER_NO_CGO: GoVersion = GoVersion { major: 1, minor: 20 };
    /// The first Go whose `go get` in module mode only edits `go.mod` and downloads: it builds
    /// nothing.
    pub const GET_BUILDS_NOTHING: GoVersion = GoVersion { major: 1, minor: 18 };

    /// The newest Go release harden knows of (the table below is what was out when this release
    /// of harden was made, December 2026).
    pub const NEWEST: GoVersion = GoVersion { major: 1, minor: 27 };
    /// The oldest Go release still supported: the one before [`GoVersion::NEWEST`].
    pub const OLDEST_SUPPORTED: GoVersion = GoVersion { major: 1, minor: Self::NEWEST.minor - 1 };

    /// Since when this release gets no more security fixes, as said to the reader: a Go release
    /// is supported until the second release after it is out. `None` while it is supported.
    pub fn past_support(self) -> Option<&'static str> {
        if self.major != 1 || self >= Self::OLDEST_SUPPORTED {
            return None;
        }
        let ended = RELEASED.iter().find(|(minor, _)| *minor == self.minor + 2).map(|(_, when)| *when);
        Some(ended.unwrap_or("before 2018"))
    }

    /// Parses `1.22`, `1.22.3`, `go1.21.0`, `1.21rc1` or `1.22-alpine`; `None` for anything without
    /// a minor number (`1`, `alpine`, `latest`).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim().trim_matches('"').strip_prefix("go").unwrap_or(text.trim().trim_matches('"'));
        let mut parts = text.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor: String = parts.next()?.chars().take_while(char::is_ascii_digit).collect();
        Some(GoVersion { major, minor: minor.parse().ok()? })
    }
}

/// When each Go 1.x release came out, by its minor number.
const RELEASED: &[(u32, &str)] = &[
    (10, "February 2018"),
    (11, "August 2018"),
    (12, "February 2019"),
    (13, "September 2019"),
    (14, "February 2020"),
    (15, "August 2020"),
    (16, "February 2021"),
    (17, "August 2021"),
    (18, "March 2022"),
    (19, "August 2022"),
    (20, "February 2023"),
    (21, "August 2023"),
    (22, "February 2024"),
    (23, "August 2024"),
    (24, "February 2025"),
    (25, "August 2025"),
    (26, "February 2026"),
    (27, "August 2026"),
];

impl std::fmt::Display for GoVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl Facts<'_> {
    /// True when `-ldflags` strip symbols and debug information for the go command `run` runs:
    /// `-s -w`, or `-s` alone from Go 1.22 (an untagged golang image is a current Go).
    pub fn strips(&self, run: &GoRun, ld: &[String]) -> bool {
        let has = |flag: &str| ld.iter().any(|w| w == flag);
        let stage = &self.df.stages[run.stage];
        has("-s")
            && (has("-w") || self.go_version(stage, run.instr).is_none_or(|v| v >= GoVersion::STRIP_IMPLIES_NO_DWARF))
    }

    /// The Go a stage builds with, when the file says: a `GOTOOLCHAIN` that names a release, else
    /// the golang image's tag (through `ARG` defaults); with `GOTOOLCHAIN=auto` set, raised to
    /// `go.mod`'s `toolchain` or `go` line, which the go command then switches to. `None` for an
    /// untagged or `latest` image: a current Go. (`go.mod`'s lines alone are only the least Go
    /// the module accepts, not the one that builds it.)
    pub fn go_version(&self, stage: &Stage, upto: usize) -> Option<GoVersion> {
        let toolchain = self.env_at(stage, upto, "GOTOOLCHAIN");
        if let Some(exact) = toolchain.as_deref().filter(|t| !t.ends_with("+auto")).and_then(GoVersion::parse) {
            return Some(exact);
        }
        let image = self
            .base_image(stage)
            .filter(|i| i.family() == Family::Golang)
            .and_then(|i| i.tag.as_deref())
            .and_then(GoVersion::parse);
        let switches = toolchain.as_deref().is_some_and(|t| t == "auto" || t.ends_with("+auto"));
        let wanted = self.source.go_mod.as_ref().and_then(|m| {
            m.toolchain
                .as_deref()
                .and_then(GoVersion::parse)
                .or_else(|| m.go_version.as_deref().and_then(GoVersion::parse))
        });
        match (image, wanted) {
            (Some(image), Some(wanted)) if switches => Some(image.max(wanted)),
            (image, _) => image,
        }
    }

    /// Why a stage builds in GOPATH mode at instruction `upto` (no modules: nothing to download,
    /// no module cache), or `None` in module mode.
    pub fn gopath_mode(&self, stage: &Stage, upto: usize) -> Option<String> {
        let setting = self.env_at(stage, upto, "GO111MODULE").map(|v| v.to_ascii_lowercase());
        match setting.as_deref() {
            Some("off") => return Some("the build sets GO111MODULE=off".into()),
            Some("on") => return None,
            _ => {}
        }
        let version = self.go_version(stage, upto);
        if let Some(v) = version.filter(|v| *v < GoVersion::MODULES) {
            return Some(format!("Go {v} predates modules (Go 1.11)"));
        }
        if self.source.gopath {
            return Some("the build context has Go source and no go.mod".into());
        }
        let in_gopath = self.workdir_at(stage, upto).starts_with("/go/src/");
        match version {
            Some(v) if v < GoVersion::MODULES_IN_GOPATH && in_gopath => {
                Some(format!("Go {v} builds inside GOPATH without modules unless GO111MODULE=on"))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_versions_the_ways_they_are_written() {
        let v = |major, minor| Some(GoVersion { major, minor });
        assert_eq!(GoVersion::parse("1.22"), v(1, 22));
        assert_eq!(GoVersion::parse("1.10.3-alpine3.8"), v(1, 10));
        assert_eq!(GoVersion::parse("go1.21.0"), v(1, 21));
        assert_eq!(GoVersion::parse("1.21rc1"), v(1, 21));
        assert_eq!(GoVersion::parse("\"1.27\""), v(1, 27));
        assert_eq!(GoVersion::parse("1-alpine"), None);
        assert_eq!(GoVersion::parse("alpine"), None);
        assert_eq!(GoVersion::parse("latest"), None);
        assert!(GoVersion::parse("1.12").unwrap() < GoVersion::TRIMPATH);
        assert!(GoVersion::parse("1.9").unwrap() < GoVersion::parse("1.10").unwrap());
    }

    #[test]
    fn a_release_is_supported_until_the_second_after_it_is_out() {
        let since = |v: &str| GoVersion::parse(v).unwrap().past_support();
        assert_eq!(since("1.27"), None);
        assert_eq!(since("1.26"), None);
        assert_eq!(since("1.25"), Some("August 2026"));
        assert_eq!(since("1.22.5"), Some("February 2025"));
        assert_eq!(since("1.16"), Some("March 2022"));
        assert_eq!(since("1.8"), Some("February 2018"));
        assert_eq!(since("1.4"), Some("before 2018"));
    }
}
