//! Whether the program needs cgo, and why: the build's own `CGO_ENABLED`, flags that only work
//! with cgo (`-race`, `-linkmode=external`, `CGO_LDFLAGS`), a C toolchain the builder installs, or
//! the source's `import "C"`.

use super::{Cgo, Facts, GoRun, installed_packages};
use crate::dockerfile::gobuild::GoCommand;
use crate::dockerfile::goversion::GoVersion;
use crate::dockerfile::model::{Body, Stage};

/// Packages whose installation in a builder means a C toolchain for cgo.
const C_TOOLCHAIN_PACKAGES: &[&str] =
    &["gcc", "g++", "build-base", "musl-dev", "libc6-dev", "libc-dev", "clang", "build-essential", "gcc-c++"];
/// C++ toolchain packages (the program then needs libstdc++ at run time).
const CXX_PACKAGES: &[&str] = &["g++", "gcc-c++", "libstdc++", "build-essential"];

impl<'a> Facts<'a> {
    /// The effective `CGO_ENABLED` of a go command: its own assignment, else the stage's ENV/ARG.
    pub fn cgo_setting(&self, run: &GoRun, cmd: &GoCommand) -> Option<String> {
        let stage = &self.df.stages[run.stage];
        let Some(own) = cmd.env_value("CGO_ENABLED") else { return self.env_at(stage, run.instr, "CGO_ENABLED") };
        // `CGO_ENABLED=${CGO_ENABLED}` over `ENV CGO_ENABLED=0` is that ENV's value (an ARG's
        // default stays the maintainer's switch, see `cgo_switch`).
        let name = own.strip_prefix('$').map(|v| v.trim_start_matches('{').split(['}', ':']).next().unwrap_or(v));
        let from_env = name.and_then(|name| {
            stage.instructions[..run.instr].iter().rev().find_map(|i| match &i.body {
                Body::Env(pairs) => pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
                _ => None,
            })
        });
        Some(from_env.filter(|v| !v.starts_with('$')).unwrap_or_else(|| own.to_string()))
    }

    /// The build argument a go command's `CGO_ENABLED` comes from (`CGO_ENABLED=$CGO_ENABLED`,
    /// `ENV CGO_ENABLED=${CGO}`), with its default: the maintainer's own switch, which harden
    /// leaves as it is.
    pub fn cgo_switch(&self, run: &GoRun, cmd: &GoCommand) -> Option<(String, Option<String>)> {
        let setting = self.cgo_setting(run, cmd)?;
        let name = setting.strip_prefix('$')?.trim_start_matches('{').split(['}', ':']).next()?.to_string();
        let default = self.arg_default(&self.df.stages[run.stage], &name);
        Some((name, default))
    }

    /// True when the build argument of [`Facts::cgo_switch`] turns cgo off: its default is 0, or
    /// every build gives it 0 (`--build-arg CGO_ENABLED=$(CGO_ENABLED)` with `CGO_ENABLED = 0`).
    pub fn cgo_switched_off(&self, run: &GoRun, cmd: &GoCommand) -> bool {
        self.cgo_switch(run, cmd).is_some_and(|(name, default)| {
            let given = self.source.orchestration.build_args.iter().filter(|a| a.name == name);
            let given: Vec<&str> = given.map(|a| a.value.as_str()).collect();
            default.as_deref() == Some("0") || (!given.is_empty() && given.iter().all(|v| *v == "0"))
        })
    }

    /// True when a build stage's command turns on a static link the Makefile or script makes
    /// (`make release BUILD_STATIC=1`, `STATIC=true ./build.sh`): a switch named for it, set on.
    fn static_switch(&self) -> bool {
        let on = |name: &str, value: &str| {
            name.split('_').any(|part| part.eq_ignore_ascii_case("static"))
                && matches!(value, "1" | "true" | "yes" | "on")
        };
        self.builder_stages().into_iter().flat_map(|s| &self.df.stages[s].instructions).any(|inst| match &inst.body {
            Body::Run { commands: Some(commands), .. } => commands.iter().any(|c| {
                c.words.iter().any(|w| crate::shell::split_assignment(&w.value).is_some_and(|(n, v)| on(n, v)))
            }),
            Body::Env(pairs) => pairs.iter().any(|(n, v)| on(n, v)),
            _ => false,
        })
    }

    /// Decides whether the program needs cgo, and why.
    pub(super) fn decide_cgo(&self) -> Cgo {
        // Delve, a debug image's tool, says nothing of the program's cgo.
        let builds: Vec<_> = self.builds().filter(|(_, c)| !c.builds_delve()).collect();
        // Off in the file, or by the build argument every build gives it (`CGO_ENABLED ?= 0`
        // passed as `--build-arg CGO_ENABLED=$(CGO_ENABLED)`): a -dev package is then for tools.
        let off = |(r, c): &(&GoRun, &GoCommand)| {
            self.cgo_setting(r, c).as_deref() == Some("0") || self.cgo_switched_off(r, c)
        };
        let all_disabled = !builds.is_empty() && builds.iter().all(off);
        let ldflags: Vec<Vec<String>> =
            builds.iter().map(|(r, c)| crate::dockerfile::flags::ldflags_words(self, r, c).0).collect();
        let static_link = ldflags.iter().any(|ld| {
            let ld = ld.join(" ");
            ld.contains("-extldflags") && ld.contains("-static")
        }) || self.static_switch();
        let mut cgo = Cgo { static_link, ..Cgo::default() };
        // A file that builds nothing (a binary built before docker build, or by make or a script
        // whose flags harden cannot read) decides no cgo: its needs are unknown (HD131).
        if all_disabled || builds.is_empty() {
            return cgo;
        }
        let explicit = builds.iter().find(|(r, c)| {
            self.cgo_setting(r, c).as_deref() == Some("1")
                || self.cgo_switch(r, c).is_some_and(|(_, default)| default.as_deref() == Some("1"))
        });
        let toolchain = self.builder_stages().into_iter().find_map(|s| self.installed_c_toolchain(&self.df.stages[s]));
        let linkmode = ldflags.iter().any(|ld| links_externally(ld));
        let cgo_flag = builds.iter().find_map(|(_, c)| cgo_only_flag(c));
        let c_flags = builds.iter().find_map(|(r, c)| {
            let stage = &self.df.stages[r.stage];
            C_FLAG_VARIABLES
                .into_iter()
                .find(|name| c.env_value(name).is_some() || self.env_at(stage, r.instr, name).is_some())
        });
        let reason = if explicit.is_some() {
            Some("the build sets CGO_ENABLED=1".to_string())
        } else if let Some(flag) = cgo_flag {
            Some(format!("the build uses {flag}, which needs cgo"))
        } else if let Some((pkg, _)) = &toolchain {
            Some(format!("the builder installs {pkg} for the build"))
        } else if linkmode {
            Some("the build links with -linkmode external, which needs cgo".to_string())
        } else if let Some(name) = c_flags {
            Some(format!("the build sets {name} for the C compiler or linker"))
        } else if builds.iter().all(|(_, c)| c.installs_remote_only()) {
            // Another module's tool (`go install github.com/acme/ddns@latest`): the repository's
            // go.mod is not its.
            None
        } else if builds.iter().all(|(r, _)| self.builds_without_c_compiler(r)) {
            // Go 1.20 and later turn cgo off where no C compiler is found: the program the file
            // builds today links no C, whatever its module requires.
            None
        } else {
            self.source.cgo_reason()
        };
        cgo.needed = reason.is_some();
        cgo.reason = reason;
        cgo.cxx = toolchain.is_some_and(|(_, cxx)| cxx) || self.source.needs_cxx();
        cgo
    }

    /// True when a build runs on Docker's golang `-alpine` image of Go 1.20 or later (or a
    /// current one) with no C compiler: no `CC` set and none installed (the toolchain check comes
    /// first), so the go command builds with cgo off by itself.
    fn builds_without_c_compiler(&self, run: &GoRun) -> bool {
        let stage = &self.df.stages[run.stage];
        let golang_alpine = self.base_image(stage).is_some_and(|i| i.is_official_golang() && i.is_musl());
        let recent = self.go_version(stage, run.instr).is_none_or(|v| v >= GoVersion::NO_COMPILER_NO_CGO);
        golang_alpine && recent && self.env_at(stage, run.instr, "CC").is_none()
    }

    /// The first C toolchain package a stage installs (itself, or a stage it starts from), else the
    /// first C library headers package, and whether it is C++.
    fn installed_c_toolchain(&self, stage: &Stage) -> Option<(String, bool)> {
        let stages = std::iter::once(stage).chain(self.ancestors(stage));
        let installs: Vec<String> = stages.flat_map(|s| &s.instructions).flat_map(installed_packages).collect();
        // A C library's headers (`libsnmp-dev`, `sqlite-dev`, `openssl-devel`) are there for cgo too.
        let c_library = |p: &&String| p.ends_with("-dev") || p.ends_with("-devel");
        let pkg = installs
            .iter()
            .find(|p| C_TOOLCHAIN_PACKAGES.contains(&p.as_str()))
            .or_else(|| installs.iter().find(c_library))?;
        let cxx = installs.iter().any(|p| CXX_PACKAGES.contains(&p.as_str()));
        Some((pkg.clone(), cxx))
    }
}

/// The variables that give cgo's C compiler and linker their flags: a build that sets them
/// (`CGO_LDFLAGS="-Wl,-z,relro,-z,now"`) means its cgo.
const C_FLAG_VARIABLES: [&str; 4] = ["CGO_CFLAGS", "CGO_CPPFLAGS", "CGO_CXXFLAGS", "CGO_LDFLAGS"];

/// True when `-ldflags` link with the external (C) linker (`-linkmode=external`, `-linkmode
/// external`, its value quoted inside the flags: `-linkmode "external"`), which Go refuses
/// without cgo.
fn links_externally(ldflags: &[String]) -> bool {
    let words: Vec<&str> = ldflags.iter().map(|w| w.trim_matches(['"', '\''])).collect();
    words.iter().enumerate().any(|(i, word)| {
        *word == "-linkmode=external" || (*word == "-linkmode" && words.get(i + 1) == Some(&"external"))
    })
}

/// A flag of a go command that works only with cgo: the race detector and the memory and address
/// sanitizers, and the build modes that make C libraries or plugins.
fn cgo_only_flag(cmd: &GoCommand) -> Option<String> {
    if let Some(name) = ["race", "msan", "asan"].into_iter().find(|name| cmd.flag(name).is_some()) {
        return Some(format!("-{name}"));
    }
    match cmd.flag("buildmode").and_then(|f| f.value.as_deref()) {
        Some(mode @ ("c-archive" | "c-shared" | "plugin")) => Some(format!("-buildmode={mode}")),
        _ => None,
    }
}
