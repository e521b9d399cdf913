//! What a Go build produces: where `go build`/`go install` leave the binary, and its name.

use crate::source::SourceFacts;

use super::facts::{Facts, GoRun, join_path};
use super::gobuild::{GoCommand, GoVerb};
use super::image::Family;

/// The name `go build`/`go install` gives the binary of `package`.
pub fn binary_name(package: &str, source: &SourceFacts) -> Option<String> {
    let package = package.split('@').next().unwrap_or(package).trim_end_matches('/');
    // The module's own package is named by the module's path (`example.com/yq/v4` makes `yq`).
    let package = match package {
        "" | "." | "./" => source.go_mod.as_ref()?.module.as_str(),
        package => package,
    };
    if package.ends_with("...") {
        return None;
    }
    let last = package.rsplit('/').next()?;
    // Files name the binary after the first (`go build main.go` makes `main`).
    if let Some(stem) = last.strip_suffix(".go") {
        return Some(stem.to_string());
    }
    // A major-version suffix (example.com/tool/v2) names the binary after the element before it.
    if last.len() > 1 && last.starts_with('v') && last[1..].chars().all(|c| c.is_ascii_digit()) {
        return package.rsplit('/').nth(1).map(str::to_string);
    }
    Some(last.to_string())
}

/// Where a build command leaves its binaries: a file path, or a directory for multi-package builds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// One binary at this absolute path.
    File(String),
    /// Binaries inside this absolute directory.
    Dir(String),
}

impl Output {
    /// The absolute path.
    pub fn path(&self) -> &str {
        match self {
            Output::File(p) | Output::Dir(p) => p,
        }
    }
}

impl Facts<'_> {
    /// Where a `go build`/`go install` leaves its output, when that can be known.
    pub fn output_of(&self, run: &GoRun, cmd: &GoCommand) -> Option<Output> {
        let stage = &self.df.stages[run.stage];
        let mut cwd = self.workdir_at(stage, run.instr);
        if let Some(cd) = &cmd.cd {
            cwd = join_path(&cwd, cd);
        }
        let many = cmd.packages.len() > 1 || cmd.packages.iter().any(|p| p.ends_with("..."));
        match cmd.verb {
            // `-o` names a directory when it ends in a slash or several packages are listed;
            // with one `./...` pattern it names the file of its single main package.
            GoVerb::Build => match cmd.flag("o").and_then(|f| f.value.as_deref()) {
                Some(o) if o.contains('$') => None,
                Some(o) if o.ends_with('/') || cmd.packages.len() > 1 => Some(Output::Dir(join_path(&cwd, o))),
                Some(o) => Some(Output::File(join_path(&cwd, o))),
                None if many => None,
                None => {
                    let name = binary_name(cmd.packages.first().map_or(".", String::as_str), self.source)?;
                    Some(Output::File(join_path(&cwd, &name)))
                }
            },
            GoVerb::Install => {
                // The command's own variables first (`export GOPATH=/root/gocode && go install`).
                let var = |name: &str| {
                    cmd.env_value(name).map(str::to_string).or_else(|| self.env_at(stage, run.instr, name))
                };
                let bin = var("GOBIN").or_else(|| var("GOPATH").map(|p| format!("{p}/bin"))).or_else(|| {
                    self.base_image(stage).filter(|i| i.family() == Family::Golang).map(|_| "/go/bin".into())
                })?;
                if many {
                    return Some(Output::Dir(bin));
                }
                let name = binary_name(cmd.packages.first().map_or(".", String::as_str), self.source)?;
                Some(Output::File(join_path(&bin, &name)))
            }
            GoVerb::Other => None,
        }
    }

    /// True when a later step of the same stage builds the file this build writes (a first
    /// build that only fills the compiler cache, then the build that ships): its binary is gone.
    /// Builds of one step are not compared: they may be the branches of an `if`.
    pub fn overwritten(&self, run: &GoRun, cmd: &GoCommand) -> bool {
        let Some(Output::File(path)) = self.output_of(run, cmd) else { return false };
        let later = self.go_runs.iter().filter(|r| r.stage == run.stage && r.instr > run.instr);
        later
            .flat_map(|r| r.commands.iter().filter(|c| c.builds()).map(move |c| (r, c)))
            .any(|(r, c)| matches!(self.output_of(r, c), Some(Output::File(other)) if other == path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_binaries_like_go_does() {
        let source = SourceFacts {
            go_mod: Some(crate::source::GoMod { module: "example.com/svc".into(), ..Default::default() }),
            ..Default::default()
        };
        assert_eq!(binary_name(".", &source).as_deref(), Some("svc"));
        assert_eq!(binary_name("./cmd/api", &source).as_deref(), Some("api"));
        assert_eq!(binary_name("example.com/tool/v2@latest", &source).as_deref(), Some("tool"));
        assert_eq!(binary_name("./cmd/...", &source), None);
        assert_eq!(binary_name("main.go", &source).as_deref(), Some("main"));
        assert_eq!(binary_name("./cmd/daemon/main.go", &source).as_deref(), Some("main"));
        // A module of a later major version names the binary after the element before `/v4`.
        let source = SourceFacts {
            go_mod: Some(crate::source::GoMod { module: "example.com/yq/v4".into(), ..Default::default() }),
            ..Default::default()
        };
        assert_eq!(binary_name(".", &source).as_deref(), Some("yq"));
    }
}
