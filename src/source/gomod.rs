//! `go.mod`: the module path, the Go it asks for, and the modules it requires (those that need
//! cgo, and those whose C side is C++).

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
    "github.com/giorgisio/goav",
    "github.com/sailorvii/goav",
];

/// cgo modules that the dependencies requiring them use only in cgo builds (pebble's zstd
/// compression, behind a `cgo` build constraint): required indirectly, they show no need.
const CGO_ONLY_IF_ENABLED: &[&str] = &["github.com/DataDog/zstd"];

/// cgo modules whose C side is C++ (they need libstdc++ at run time: distroless `cc`).
pub const CXX_MODULES: &[&str] = &[
    "github.com/tecbot/gorocksdb",
    "github.com/linxGnu/grocksdb",
    "github.com/tensorflow/tensorflow",
    "gocv.io/x/gocv",
];

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
    /// Those marked `// indirect`: a dependency of a dependency.
    pub indirect: Vec<String>,
    /// Local directories modules are replaced with (`replace x => ./x`).
    pub local_replaces: Vec<String>,
}

impl GoMod {
    /// The names the module's path gives the project: its host's own label, its owner and its
    /// project (`github.com/acme/fleet` → `acme`, `fleet`; `go.acme.dev/fleet` → `acme`, `fleet`),
    /// lowercase, short and shared ones (`github`, `k8s`) left out.
    pub fn project_names(&self) -> Vec<String> {
        const SHARED: &[&str] =
            &["github", "gitlab", "bitbucket", "gitee", "codeberg", "googlesource", "golang", "k8s", "sigs"];
        let module = self.module.to_ascii_lowercase();
        let mut parts = module.split('/');
        let host = parts.next().filter(|h| h.contains('.')).into_iter().flat_map(|h| h.rsplit('.').skip(1));
        let path = parts.filter(|p| !super::is_major_version(p)).take(2);
        host.chain(path).filter(|n| n.len() > 2 && !SHARED.contains(n)).map(str::to_string).collect()
    }

    /// [`GoMod::project_names`] of the repository at `repo`: its root's go.mod, else those of its
    /// top folders (ovn-kubernetes's `go-controller/go.mod`), where the module lives beside the
    /// manifests rather than above them.
    pub fn project_names_in(repo: &std::path::Path) -> Vec<String> {
        let read = |path: std::path::PathBuf| std::fs::read_to_string(path).ok().map(|t| Self::parse(&t));
        if let Some(root) = read(repo.join("go.mod")) {
            return root.project_names();
        }
        let mut folders: Vec<_> = std::fs::read_dir(repo).into_iter().flatten().flatten().map(|e| e.path()).collect();
        folders.sort();
        let mut names: Vec<String> =
            folders.into_iter().filter_map(|d| read(d.join("go.mod"))).flat_map(|m| m.project_names()).collect();
        names.sort();
        names.dedup();
        names
    }

    /// Parses the text of a `go.mod`.
    pub fn parse(text: &str) -> Self {
        let mut module = GoMod::default();
        let mut in_require = false;
        let mut in_replace = false;
        for raw in text.lines() {
            let indirect = raw.contains("// indirect");
            let line = raw.split("//").next().unwrap_or_default().trim();
            let replaced =
                line.strip_prefix("replace ").filter(|_| !line.ends_with('(')).or(in_replace.then_some(line));
            if let Some(target) = replaced.and_then(|r| r.split_once("=>")).map(|(_, t)| t.trim()) {
                if target.starts_with("./") || target.starts_with("../") {
                    module.local_replaces.push(target.split_whitespace().next().unwrap_or(target).to_string());
                }
                continue;
            }
            if in_replace {
                in_replace = line != ")";
                continue;
            }
            if in_require {
                if line == ")" {
                    in_require = false;
                } else if let Some(path) = line.split_whitespace().next() {
                    module.requires.push(path.to_string());
                    if indirect {
                        module.indirect.push(path.to_string());
                    }
                }
            } else if line.starts_with("replace") && line.ends_with('(') {
                in_replace = true;
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

    /// The cgo modules this module requires, but for those a dependency uses only when cgo is on.
    pub fn cgo_requires(&self) -> Vec<&str> {
        let optional = |r: &str| CGO_ONLY_IF_ENABLED.contains(&r) && self.indirect.iter().any(|i| i == r);
        self.requires
            .iter()
            .map(String::as_str)
            .filter(|r| CGO_MODULES.iter().any(|m| r.starts_with(m)) && !optional(r))
            .collect()
    }
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
        let zstd = |line: &str| GoMod::parse(&format!("module x\n\nrequire (\n\t{line}\n)\n")).cgo_requires().len();
        assert_eq!(zstd("github.com/DataDog/zstd v1.5.2 // indirect"), 0, "pebble uses it only with cgo on");
        assert_eq!(zstd("github.com/DataDog/zstd v1.5.2"), 1);
        assert_eq!(zstd("github.com/sailorvii/goav v0.1.4"), 1);
        let m = GoMod::parse(
            "module x\n\nreplace example.com/sub => ./sub\nreplace (\n\texample.com/a v1.0.0 => ../a\n\texample.com/b => example.com/c v1.2.0\n)\nrequire example.com/z v1\n",
        );
        assert_eq!(m.local_replaces, ["./sub", "../a"]);
        assert_eq!(m.requires, ["example.com/z"]);
    }

    #[test]
    fn a_repository_without_a_root_module_is_named_by_its_top_folders() {
        let repo = tempfile::tempdir().unwrap();
        std::fs::create_dir(repo.path().join("go-controller")).unwrap();
        std::fs::write(
            repo.path().join("go-controller/go.mod"),
            "module github.com/ovn-org/ovn-kubernetes/go-controller
",
        )
        .unwrap();
        assert_eq!(GoMod::project_names_in(repo.path()), ["ovn-kubernetes", "ovn-org"]);
        std::fs::write(
            repo.path().join("go.mod"),
            "module github.com/acme/fleet
",
        )
        .unwrap();
        assert_eq!(GoMod::project_names_in(repo.path()), ["acme", "fleet"], "the root's module first");
    }
}
