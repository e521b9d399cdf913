//! Facts about the Go source next to a Dockerfile: its module, whether it needs cgo,
//! whether it vendors, and which files the program may read at run time.
//!
//! [`SourceFacts`] is plain data so the rewriter stays pure; [`SourceFacts::collect`]
//! is the I/O edge that fills it from a directory. What each Go file shows is read by
//! [`gocode::scan`], what `go.mod` says by [`GoMod::parse`].

pub mod gocode;
pub mod gomod;
mod library_writes;
pub mod make_builds;
pub mod owned;
mod pod_paths;
pub mod rendered;
pub mod scripts;
pub mod skaffold_sync;
pub mod test_images;
pub mod tilt;
mod walk;

use std::path::Path;

pub use gomod::{CGO_MODULES, CXX_MODULES, GoMod};

use crate::orchestration::Orchestration;
use walk::{go_source, go_sources, read_go_file};

/// Directory names that usually hold files a Go program reads at run time.
const ASSET_DIRS: &[&str] = &[
    "assets",
    "static",
    "public",
    "templates",
    "template",
    "views",
    "web",
    "www",
    "ui",
    "dist",
    "migrations",
    "config",
    "configs",
    "conf",
    "locales",
    "i18n",
    "data",
];

/// What harden knows about the source of one build context.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceFacts {
    /// True when a Go source tree was found and looked at: a `go.mod`, or Go source in GOPATH
    /// style (false: only the Dockerfile is known).
    pub available: bool,
    /// The `go.mod` at the context root.
    pub go_mod: Option<GoMod>,
    /// `go.sum` exists at the context root.
    pub has_go_sum: bool,
    /// `vendor/modules.txt` exists.
    pub vendored: bool,
    /// The context has Go source (or a dep, glide or `vendor.mod` manifest) and no `go.mod`: a
    /// GOPATH build, which has no modules to download.
    pub gopath: bool,
    /// Non-test Go files that `import "C"`, relative to the context.
    pub cgo_files: Vec<String>,
    /// Non-test Go files built only with cgo (`//go:build cgo`) whose package has no file that
    /// stands in without it (`//go:build !cgo`): with cgo off, what they define is missing.
    pub cgo_only_files: Vec<String>,
    /// Non-test Go files that import "plugin": the program loads Go plugins, which works only
    /// in a cgo build made with the same flags as the plugins.
    pub plugin_hosts: Vec<String>,
    /// Where the program listens on a port below 1024, as its source says literally.
    pub listens: Vec<Located<gocode::Listen>>,
    /// The paths the program writes at run time, as its source says literally.
    pub writes: Vec<Located<gocode::Write>>,
    /// Where the program writes at a path a flag with no default gives when it runs.
    pub given_writes: Vec<Located<gocode::GivenWrite>>,
    /// Where the program writes under its user's home directory.
    pub home_writes: Vec<Located<gocode::Write>>,
    /// True when which of the module's programs the image runs is not known, so these facts are
    /// every package's (a finding that cites one says so).
    pub whole_module: bool,
    /// Root-only resources the program uses (the Docker socket…).
    pub root_resources: Vec<Located<gocode::RootResource>>,
    /// Where the program starts other programs.
    pub starts_programs: Vec<Located<gocode::Start>>,
    /// HTTPS addresses the program names, one per file.
    pub https: Vec<Located<gocode::Https>>,
    /// Where the context's shell scripts drop from root to another user (an entrypoint's
    /// `exec su-exec app "$@"`).
    pub privilege_drops: Vec<Located<scripts::Drop>>,
    /// Where the shell scripts start a program as root through a privilege tool (`exec gosu
    /// root /usr/sbin/sshd`: a supervisor's service that keeps root for good).
    pub root_starts: Vec<Located<scripts::Drop>>,
    /// The context's shell scripts that download the module's dependencies (`go mod download`,
    /// often behind a retry), relative to the context: a `RUN` of one fills the module cache in
    /// its layer.
    pub download_scripts: Vec<String>,
    /// Top-level directories and config files a program may read at run time.
    pub assets: Vec<String>,
    /// The files named as credentials (`.npmrc`) the Dockerfile copies that hold only settings
    /// (`engine-strict=true`), as its COPY names them: filled per Dockerfile.
    pub settings_only: Vec<String>,
    /// The packages found, by directory (relative to the context, `""` at its root).
    pub packages: std::collections::BTreeMap<String, Package>,
    /// How the repository builds and runs this Dockerfile's image outside it (Compose, skaffold,
    /// Kubernetes): filled per Dockerfile, not per build context.
    pub orchestration: Orchestration,
}

/// One directory's Go package, as its Linux files say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Package {
    /// It is a program (`package main`).
    pub main: bool,
    /// The import paths its files name.
    pub imports: std::collections::BTreeSet<String>,
}

/// Something found in a Go file, with the file (relative to the build context).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    /// The file, relative to the build context.
    pub file: String,
    /// What was found there (with its line).
    pub found: T,
}

impl SourceFacts {
    /// Looks at the build context `dir` (the directory holding `go.mod`), listing it once.
    pub fn collect(dir: &Path) -> Self {
        let listing: Vec<(String, std::fs::FileType)> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .filter_map(|e| Some((e.file_name().to_str()?.to_string(), e.file_type().ok()?)))
                    .collect()
            })
            .unwrap_or_default();
        let has = |name: &str, dir_wanted: bool| listing.iter().any(|(n, t)| n == name && t.is_dir() == dir_wanted);
        let go_mod = has("go.mod", false)
            .then(|| std::fs::read_to_string(dir.join("go.mod")).ok().map(|t| GoMod::parse(&t)))
            .flatten();
        let gopath = go_mod.is_none()
            && listing.iter().any(|(name, kind)| {
                kind.is_file()
                    && (name.ends_with(".go") || matches!(name.as_str(), "Gopkg.toml" | "glide.yaml" | "vendor.mod"))
            });
        // A workspace's root (`go.work`, no `go.mod`): its modules are read together, as a whole.
        let workspace = go_mod.is_none() && has("go.work", false);
        let mut facts = SourceFacts {
            available: go_mod.is_some() || gopath || workspace,
            has_go_sum: has("go.sum", false),
            vendored: has("vendor", true) && dir.join("vendor/modules.txt").is_file(),
            gopath,
            go_mod,
            ..SourceFacts::default()
        };
        if !facts.available {
            return facts;
        }
        let (mut go_files, mut script_files) = (Vec::new(), Vec::new());
        for (name, kind) in &listing {
            go_source(&dir.join(name), name, kind, facts.go_mod.is_some(), &mut go_files, &mut script_files);
        }
        go_files.sort();
        script_files.sort();
        for path in &script_files {
            let Some(text) = read_go_file(path) else { continue };
            let file = path.strip_prefix(dir).unwrap_or(path).to_string_lossy().into_owned();
            let drops = scripts::privilege_drops(&text).into_iter();
            facts.privilege_drops.extend(drops.map(|found| Located { file: file.clone(), found }));
            let root = scripts::root_starts(&text).into_iter();
            facts.root_starts.extend(root.map(|found| Located { file: file.clone(), found }));
            if scripts::downloads_modules(&text) {
                facts.download_scripts.push(file);
            }
        }
        // The packages with a file that stands in for their cgo files when cgo is off.
        let mut without_cgo: Vec<String> = Vec::new();
        let mut library_calls = Vec::new();
        let mut sets_server_port = false;
        let mut pod_mount_paths = std::collections::BTreeSet::new();
        for path in &go_files {
            let Some(code) = read_go_file(path) else { continue };
            pod_mount_paths.extend(pod_paths::mount_path_names(&code));
            let file = path.strip_prefix(dir).unwrap_or(path).to_string_lossy().into_owned();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let found = gocode::scan(&code);
            if found.not_linux || gocode::named_for_other_os(name) {
                continue;
            }
            if found.imports_c {
                facts.cgo_files.push(file.clone());
            }
            if found.cgo_only {
                facts.cgo_only_files.push(file.clone());
            }
            if found.without_cgo {
                without_cgo.push(package_dir(&file));
            }
            if found.imports.iter().any(|i| i == "plugin") {
                facts.plugin_hosts.push(file.clone());
            }
            let library_call = library_writes::find(&code, &found.imports, &found.package);
            sets_server_port |= found.sets_server_port;
            let package = facts.packages.entry(package_dir(&file)).or_default();
            package.main |= found.package == "main";
            package.imports.extend(found.imports);
            // A test helper or fuzzing harness links in but never runs in the program.
            if found.test_support {
                continue;
            }
            library_calls.extend(library_call.map(|call| (file.clone(), call)));
            facts
                .root_resources
                .extend(found.root_resources.into_iter().map(|found| Located { file: file.clone(), found }));
            facts
                .starts_programs
                .extend(found.starts_programs.into_iter().map(|found| Located { file: file.clone(), found }));
            facts.https.extend(found.https.map(|found| Located { file: file.clone(), found }));
            facts.listens.extend(found.listens.into_iter().map(|found| Located { file: file.clone(), found }));
            facts.writes.extend(found.writes.into_iter().map(|found| Located { file: file.clone(), found }));
            facts
                .given_writes
                .extend(found.given_writes.into_iter().map(|found| Located { file: file.clone(), found }));
            facts.home_writes.extend(found.home_writes.into_iter().map(|found| Located { file: file.clone(), found }));
        }
        facts.cgo_only_files.retain(|f| !without_cgo.contains(&package_dir(f)));
        facts.writes.retain(|w| !pod_paths::is_pods_path(&w.found.how, &pod_mount_paths));
        facts.home_writes.extend(library_writes::in_context(library_calls, dir, &go_files));
        // The module's own default for the common libraries' server port holds in every file.
        if sets_server_port {
            facts.listens.retain(|l| l.found.via.as_deref() != Some(gocode::SERVER_PORT_FLAG));
        }
        let mut assets: Vec<String> = listing
            .iter()
            .filter(|(name, kind)| match kind.is_dir() {
                true => is_asset_dir(name),
                false => is_runtime_config(name) && !is_manifest(&dir.join(name)),
            })
            .map(|(name, _)| name.clone())
            .collect();
        assets.sort();
        facts.assets = assets;
        facts
    }

    /// The directory of the `main` package named like one of `names` (in their order):
    /// `cmd/<name>`, `<name>`, or the only one of that name deeper (`cmd/infra/<name>`); a name
    /// that starts with the module's (`woodpecker-agent` in `…/woodpecker/v3`) is also looked
    /// up without it (`cmd/agent`).
    pub fn main_package_named(&self, names: &[String]) -> Option<String> {
        let module = self.go_mod.as_ref().map(|m| m.module.as_str()).unwrap_or_default();
        let project = module.split('/').rev().find(|part| !is_major_version(part)).unwrap_or_default();
        let unprefixed = names.iter().filter_map(|name| name.strip_prefix(project)?.strip_prefix('-'));
        let names: Vec<String> = names.iter().map(String::as_str).chain(unprefixed).map(String::from).collect();
        let is_main = |dir: &String| self.packages.get(dir).is_some_and(|p| p.main);
        let deeper = |name: &String| {
            let mut found = self.packages.iter().filter(|(d, p)| p.main && d.ends_with(&format!("/{name}")));
            found.next().filter(|_| found.next().is_none()).map(|(d, _)| d.clone())
        };
        let mut dirs =
            names.iter().flat_map(|name| [format!("cmd/{name}"), name.clone()].into_iter().chain(deeper(name)));
        dirs.find(is_main)
    }

    /// The facts of the programs whose `main` packages are in `dirs` (relative to the context):
    /// only what the packages they import from this module say, followed from each `main`. When
    /// a dir holds no `main` package (the program is not known), every package of the module
    /// counts but for the development tools under `hack/` (code generators, scripts in Go), which
    /// no image ships, and for the code only development tools reach: the `main` packages in
    /// their directories ([`TOOL_DIRS`]) not named like the image's program (`names`: what it
    /// starts or copies), and what only they import.
    pub fn for_programs(&self, dirs: &[String], names: &[String]) -> SourceFacts {
        let mains: Option<Vec<&String>> =
            dirs.iter().map(|dir| self.packages.get(dir).filter(|p| p.main).map(|_| dir)).collect();
        match mains.filter(|m| !m.is_empty()) {
            Some(mains) if self.go_mod.is_some() => {
                let reached = self.reached(mains.into_iter().cloned().collect());
                self.keeping(|file| reached.contains(&package_dir(file)))
            }
            _ => {
                // A development tool's program (`tools/benchmark`) is not the image's, unless
                // the image starts or copies a program of its name.
                let named = |dir: &str| names.iter().any(|n| dir.rsplit('/').next() == Some(n.as_str()));
                let tool = |dir: &str| dir.split('/').any(|part| TOOL_DIRS.contains(&part));
                let (theirs, maybe): (Vec<String>, Vec<String>) = (self.packages.iter())
                    .filter(|(_, p)| p.main)
                    .map(|(d, _)| d.clone())
                    .partition(|d| tool(d) && !named(d));
                let (others, ours) = match self.go_mod.is_some() {
                    true => (self.reached(theirs), self.reached(maybe)),
                    false => Default::default(),
                };
                let only_others = |dir: &str| others.contains(dir) && !ours.contains(dir);
                let kept = |file: &str| !file.starts_with("hack/") && !only_others(&package_dir(file));
                SourceFacts { whole_module: true, ..self.keeping(kept) }
            }
        }
    }

    /// The packages of this module the packages in `dirs` are, or import, followed through
    /// their imports.
    fn reached(&self, dirs: Vec<String>) -> std::collections::BTreeSet<String> {
        let Some(module) = &self.go_mod else { return Default::default() };
        let mut next: Vec<&Package> = dirs.iter().filter_map(|d| self.packages.get(d)).collect();
        let mut reached: std::collections::BTreeSet<String> = dirs.into_iter().collect();
        while let Some(package) = next.pop() {
            for import in &package.imports {
                let inside = match import.strip_prefix(module.module.as_str()) {
                    Some("") => String::new(),
                    Some(rest) if rest.starts_with('/') => rest[1..].to_string(),
                    _ => continue,
                };
                if let Some(found) = self.packages.get(&inside)
                    && reached.insert(inside)
                {
                    next.push(found);
                }
            }
        }
        reached
    }

    /// These facts, read from the directory `dir` below the build context (a module of its
    /// own), with the files they cite named from the context.
    pub fn cited_from(mut self, dir: &str) -> SourceFacts {
        if dir.is_empty() {
            return self;
        }
        let from = |file: &mut String| *file = format!("{}/{file}", dir.trim_end_matches('/'));
        self.cgo_files.iter_mut().chain(&mut self.cgo_only_files).for_each(from);
        self.plugin_hosts.iter_mut().chain(&mut self.download_scripts).for_each(from);
        self.listens.iter_mut().for_each(|l| from(&mut l.file));
        self.writes.iter_mut().chain(&mut self.home_writes).for_each(|l| from(&mut l.file));
        self.given_writes.iter_mut().for_each(|l| from(&mut l.file));
        self.root_resources.iter_mut().for_each(|l| from(&mut l.file));
        self.starts_programs.iter_mut().for_each(|l| from(&mut l.file));
        self.https.iter_mut().for_each(|l| from(&mut l.file));
        self.privilege_drops.iter_mut().for_each(|l| from(&mut l.file));
        self.root_starts.iter_mut().for_each(|l| from(&mut l.file));
        self
    }

    /// These facts without what any Go file says of the program (its ports, writes, resources,
    /// cgo): for an image that builds a repository it clones, not this code.
    pub fn without_program_code(&self) -> SourceFacts {
        SourceFacts { whole_module: false, ..self.keeping(|_| false) }
    }

    /// These facts, keeping only what the Go files `within` accepts (by path) say.
    fn keeping(&self, within: impl Fn(&str) -> bool) -> SourceFacts {
        let mut facts = self.clone();
        facts.cgo_files.retain(|f| within(f));
        facts.cgo_only_files.retain(|f| within(f));
        facts.plugin_hosts.retain(|f| within(f));
        facts.listens.retain(|l| within(&l.file));
        facts.writes.retain(|w| within(&w.file));
        facts.given_writes.retain(|w| within(&w.file));
        facts.home_writes.retain(|w| within(&w.file));
        facts.root_resources.retain(|r| within(&r.file));
        facts.starts_programs.retain(|s| within(&s.file));
        facts.https.retain(|h| within(&h.file));
        facts
    }

    /// Why the source needs cgo, if it does.
    pub fn cgo_reason(&self) -> Option<String> {
        if let Some(file) = self.cgo_files.first() {
            return Some(format!("{file} imports \"C\""));
        }
        if let Some(file) = self.cgo_only_files.first() {
            return Some(format!(
                "{file} is built only with cgo (`//go:build cgo`), and no file of its package stands in without it"
            ));
        }
        if let Some(file) = self.plugin_hosts.first() {
            return Some(format!("{file} imports \"plugin\", which loads Go plugins only in a cgo build"));
        }
        let module = self.go_mod.as_ref()?;
        module.cgo_requires().first().map(|m| match module.indirect.iter().any(|i| i == m) {
            true => format!("go.mod requires {m} (indirectly: a dependency uses it), which needs cgo"),
            false => format!("go.mod requires {m}, which needs cgo"),
        })
    }

    /// True when the cgo side is C++ (needs libstdc++ at run time).
    pub fn needs_cxx(&self) -> bool {
        self.go_mod.as_ref().is_some_and(|m| m.requires.iter().any(|r| CXX_MODULES.iter().any(|c| r.starts_with(c))))
    }
}

/// Directories whose `main` packages are development tools (benchmarks, generators, test
/// helpers), not programs an image ships.
const TOOL_DIRS: &[&str] =
    &["tools", "tool", "hack", "scripts", "test", "tests", "e2e", "benchmark", "benchmarks", "examples", "example"];

/// True for a module path's major version element (`v3`).
pub fn is_major_version(part: &str) -> bool {
    part.strip_prefix('v').is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

/// The directory of a Go file (relative to the context): its package's.
fn package_dir(file: &str) -> String {
    Path::new(file).parent().map(|d| d.to_string_lossy().into_owned()).unwrap_or_default()
}

/// True for a directory name that usually holds run-time files (templates, static, migrations…).
pub fn is_asset_dir(name: &str) -> bool {
    ASSET_DIRS.contains(&name.to_ascii_lowercase().as_str())
}

/// True for a Kubernetes manifest of what a cluster runs (a workload, a Service: `k8s.yml`
/// beside a sample), not a file the program reads (a component configuration has a `kind` too).
fn is_manifest(path: &Path) -> bool {
    const SERVED: &[&str] = &["Service", "Ingress", "Namespace", "ServiceAccount"];
    use crate::kubernetes::workload::{is_workload_kind, kinds_written};
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let runs = |kind: &str| SERVED.contains(&kind) || is_workload_kind(kind);
    text.lines().any(|line| line.starts_with("apiVersion:")) && kinds_written(&text).any(runs)
}

/// Config files at the context root that a program may read (not build files, not secrets).
fn is_runtime_config(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let ext_ok = [".yaml", ".yml", ".json", ".toml"].iter().any(|e| lower.ends_with(e));
    let build_file = lower.starts_with('.')
        || lower.starts_with("docker-compose")
        || lower.starts_with("compose")
        || lower.starts_with("package")
        || lower.starts_with("tsconfig")
        || lower.starts_with("renovate")
        || lower.starts_with("skaffold")
        || lower.starts_with("okteto")
        || lower.starts_with("devspace")
        || lower.starts_with("goreleaser")
        || lower.starts_with("codecov");
    ext_ok && !build_file
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_cgo_files_and_assets() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::write(p.join("go.mod"), "module x\n\ngo 1.22\n").unwrap();
        std::fs::write(p.join("main.go"), "package main\n\nimport (\n\t\"fmt\"\n)\n\nfunc main() { fmt.Println() }\n")
            .unwrap();
        std::fs::create_dir_all(p.join("db")).unwrap();
        std::fs::write(p.join("db/c.go"), "package db\n\n// #include <stdio.h>\nimport \"C\"\n").unwrap();
        std::fs::write(p.join("db/c_test.go"), "package db\nimport \"C\"\n").unwrap();
        std::fs::create_dir_all(p.join("e2e")).unwrap();
        std::fs::write(p.join("e2e/shots.go"), "package e2e\nfunc s() { os.MkdirAll(\"/screenshots\", 0o755) }\n")
            .unwrap();
        std::fs::create_dir_all(p.join("templates")).unwrap();
        std::fs::write(p.join("config.yaml"), "a: 1\n").unwrap();
        std::fs::write(p.join("docker-compose.yml"), "services: {}\n").unwrap();
        // Another module inside this one is another image's program.
        std::fs::create_dir_all(p.join("images/netd")).unwrap();
        std::fs::write(p.join("images/netd/go.mod"), "module y\n").unwrap();
        std::fs::write(p.join("images/netd/main.go"), "package main\nimport \"C\"\n").unwrap();
        let facts = SourceFacts::collect(p);
        assert_eq!(facts.cgo_files, ["db/c.go"]);
        assert!(facts.cgo_only_files.is_empty());
        // A file built only with cgo, with no stand-in beside it, needs cgo; one with a stand-in
        // (`//go:build !cgo`) does not.
        std::fs::create_dir_all(p.join("pg")).unwrap();
        std::fs::write(p.join("pg/users.go"), "//go:build cgo\n\npackage pg\n\nfunc Write() {}\n").unwrap();
        std::fs::create_dir_all(p.join("zone")).unwrap();
        std::fs::write(p.join("zone/c.go"), "// +build cgo\n\npackage zone\n").unwrap();
        std::fs::write(p.join("zone/pure.go"), "//go:build !cgo\n\npackage zone\n").unwrap();
        let facts = SourceFacts::collect(p);
        assert_eq!(facts.cgo_only_files, ["pg/users.go"]);
        assert!(facts.writes.is_empty(), "an end-to-end test's helper is not the program: {:?}", facts.writes);
        assert_eq!(facts.assets, ["config.yaml", "templates"]);
        assert!(facts.cgo_reason().unwrap().contains("db/c.go"));
    }
}
