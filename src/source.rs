//! Facts about the Go source next to a Dockerfile: its module, whether it needs cgo,
//! whether it vendors, and which files the program may read at run time.
//!
//! [`SourceFacts`] is plain data so the rewriter stays pure; [`SourceFacts::collect`]
//! is the I/O edge that fills it from a directory.

use std::path::Path;

/// Modules that need cgo (they wrap a C library).
pub const CGO_MODULES: &[&str] = &[
    "github.com/mattn/go-sqlite3",
    "github.com/confluentinc/confluent-kafka-go",
    "gopkg.in/confluentinc/confluent-kafka-go.v1",
    "github.com/confluentinc/confluent-kafka-go/v2",
    "github.com/tecbot/gorocksdb",
    "github.com/linxGnu/grocksdb",
    "github.com/DataDog/zstd",
    "github.com/google/gopacket/pcap",
    "github.com/miekg/pkcs11",
    "github.com/go-gl/gl",
    "github.com/xeodou/go-sqlcipher",
    "github.com/tensorflow/tensorflow",
    "gocv.io/x/gocv",
    "github.com/ceph/go-ceph",
    "github.com/libgit2/git2go",
];

/// cgo modules whose C side is C++ (they need libstdc++ at run time: distroless `cc`).
pub const CXX_MODULES: &[&str] = &[
    "github.com/tecbot/gorocksdb",
    "github.com/linxGnu/grocksdb",
    "github.com/tensorflow/tensorflow",
    "gocv.io/x/gocv",
];

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
    /// Top-level directories and config files a program may read at run time.
    pub assets: Vec<String>,
}

/// The parts of a `go.mod` harden uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoMod {
    /// The module path.
    pub module: String,
    /// The `go` directive.
    pub go_version: Option<String>,
    /// The `toolchain` directive (`go1.22.1`).
    pub toolchain: Option<String>,
    /// Required module paths.
    pub requires: Vec<String>,
}

impl GoMod {
    /// Parses the text of a `go.mod`.
    pub fn parse(text: &str) -> Self {
        let mut module = GoMod::default();
        let mut in_require = false;
        for line in text.lines() {
            let line = line.split("//").next().unwrap_or_default().trim();
            if in_require {
                if line == ")" {
                    in_require = false;
                } else if let Some(path) = line.split_whitespace().next() {
                    module.requires.push(path.to_string());
                }
            } else if let Some(rest) = line.strip_prefix("module ") {
                module.module = rest.trim().trim_matches('"').to_string();
            } else if let Some(rest) = line.strip_prefix("go ") {
                module.go_version = Some(rest.trim().to_string());
            } else if let Some(rest) = line.strip_prefix("toolchain ") {
                module.toolchain = Some(rest.trim().to_string());
            } else if line.starts_with("require") && line.ends_with('(') {
                in_require = true;
            } else if let Some(rest) = line.strip_prefix("require ") {
                module.requires.extend(rest.split_whitespace().next().map(str::to_string));
            }
        }
        module
    }

    /// The cgo modules this module requires.
    pub fn cgo_requires(&self) -> Vec<&str> {
        self.requires.iter().map(String::as_str).filter(|r| CGO_MODULES.iter().any(|m| r.starts_with(m))).collect()
    }
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
        let mut facts = SourceFacts {
            available: go_mod.is_some() || gopath,
            has_go_sum: has("go.sum", false),
            vendored: has("vendor", true) && dir.join("vendor/modules.txt").is_file(),
            gopath,
            go_mod,
            ..SourceFacts::default()
        };
        if !facts.available {
            return facts;
        }
        let mut go_files = Vec::new();
        for (name, kind) in &listing {
            go_source(&dir.join(name), name, kind, &mut go_files);
        }
        facts.cgo_files = go_files
            .iter()
            .filter(|path| imports_c(path))
            .map(|path| path.strip_prefix(dir).unwrap_or(path).to_string_lossy().into_owned())
            .collect();
        facts.cgo_files.sort();
        let mut assets: Vec<String> = listing
            .iter()
            .filter(|(name, kind)| if kind.is_dir() { is_asset_dir(name) } else { is_runtime_config(name) })
            .map(|(name, _)| name.clone())
            .collect();
        assets.sort();
        facts.assets = assets;
        facts
    }

    /// Why the source needs cgo, if it does.
    pub fn cgo_reason(&self) -> Option<String> {
        if let Some(file) = self.cgo_files.first() {
            return Some(format!("{file} imports \"C\""));
        }
        let module = self.go_mod.as_ref()?;
        module.cgo_requires().first().map(|m| format!("go.mod requires {m}, which needs cgo"))
    }

    /// True when the cgo side is C++ (needs libstdc++ at run time).
    pub fn needs_cxx(&self) -> bool {
        self.go_mod.as_ref().is_some_and(|m| m.requires.iter().any(|r| CXX_MODULES.iter().any(|c| r.starts_with(c))))
    }
}

/// True for a directory name that usually holds run-time files (templates, static, migrations…).
pub fn is_asset_dir(name: &str) -> bool {
    ASSET_DIRS.contains(&name.to_ascii_lowercase().as_str())
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
        || lower.starts_with("goreleaser")
        || lower.starts_with("codecov");
    ext_ok && !build_file
}

/// The non-test Go files under `dir`, outside vendor/, testdata/ and hidden directories.
/// Symbolic links are not followed.
fn go_sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let (Ok(kind), Some(name)) = (entry.file_type(), entry.file_name().to_str().map(str::to_string)) else {
            continue;
        };
        go_source(&entry.path(), &name, &kind, out);
    }
}

/// One directory entry: a Go file is kept, a directory is searched.
fn go_source(path: &Path, name: &str, kind: &std::fs::FileType, out: &mut Vec<std::path::PathBuf>) {
    if kind.is_dir() && !name.starts_with('.') && !matches!(name, "vendor" | "testdata" | "node_modules") {
        go_sources(path, out);
    } else if kind.is_file() && name.ends_with(".go") && !name.ends_with("_test.go") {
        out.push(path.to_path_buf());
    }
}

/// True when the Go file imports "C". Reads only up to its first function: imports come first.
fn imports_c(path: &Path) -> bool {
    use std::io::BufRead;
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let mut in_block = false;
    for line in std::io::BufReader::new(file).lines().map_while(Result::ok) {
        let line = line.trim();
        if in_block {
            if line.starts_with(')') {
                in_block = false;
            } else if line == "\"C\"" {
                return true;
            }
        } else if line == "import \"C\"" {
            return true;
        } else if line.starts_with("import (") {
            in_block = true;
        } else if line.starts_with("func ") {
            return false;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_mod() {
        let m = GoMod::parse(
            "module example.com/app // the app\n\ngo 1.22\ntoolchain go1.22.4\n\nrequire (\n\tgithub.com/mattn/go-sqlite3 v1.14.22\n\tgolang.org/x/text v0.14.0 // indirect\n)\nrequire github.com/pkg/errors v0.9.1\n",
        );
        assert_eq!(m.module, "example.com/app");
        assert_eq!(m.go_version.as_deref(), Some("1.22"));
        assert_eq!(m.toolchain.as_deref(), Some("go1.22.4"));
        assert_eq!(m.requires.len(), 3);
        assert_eq!(m.cgo_requires(), ["github.com/mattn/go-sqlite3"]);
    }

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
        std::fs::create_dir_all(p.join("templates")).unwrap();
        std::fs::write(p.join("config.yaml"), "a: 1\n").unwrap();
        std::fs::write(p.join("docker-compose.yml"), "services: {}\n").unwrap();
        let facts = SourceFacts::collect(p);
        assert_eq!(facts.cgo_files, ["db/c.go"]);
        assert_eq!(facts.assets, ["config.yaml", "templates"]);
        assert!(facts.cgo_reason().unwrap().contains("db/c.go"));
    }
}
