//! The per-repository configuration file: `.github/harden.yml` or `.harden.yml`.
//!
//! Parsing is pure ([`Config::from_yaml`]); [`Config::load`] is the one place that
//! reads the file. The JSON Schema for the file is `schema/harden.schema.json`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Where the configuration file may live, in order of preference.
pub const LOCATIONS: &[&str] = &[".github/harden.yml", ".github/harden.yaml", ".harden.yml", ".harden.yaml"];

/// The default runtime for static binaries.
pub const DEFAULT_STATIC: &str = "gcr.io/distroless/static-debian13:nonroot";
/// The default runtime for cgo binaries linked against glibc.
pub const DEFAULT_BASE: &str = "gcr.io/distroless/base-debian13:nonroot";
/// The default runtime for cgo binaries that also need libstdc++/libgcc.
pub const DEFAULT_CC: &str = "gcr.io/distroless/cc-debian13:nonroot";

/// harden's settings for one repository.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Paths to leave alone, as gitignore-style globs relative to the repository root.
    pub ignore: Vec<String>,
    /// Leave alone the directories that hold other people's code or test data
    /// ([`crate::discover::DEFAULT_IGNORED`]: `vendor/`, `node_modules/`, `testdata/`…).
    pub default_ignores: bool,
    /// Rule ids to turn off (`HD110`…).
    pub disable: Vec<String>,
    /// The runtime images to write.
    pub runtime: RuntimeImages,
    /// Pin base images by digest with `harden fix --pin` (which asks the registries).
    pub pin_digests: bool,
    /// Set by `harden fix --pin` (not read from the file): the rewrite will be pinned afterwards,
    /// so it may replace an image pinned by digest (the new one gets pinned in its turn).
    #[serde(skip)]
    pub pinning: bool,
    /// Add BuildKit cache mounts to Go commands.
    pub cache_mounts: bool,
    /// Kubernetes settings.
    pub kubernetes: KubernetesConfig,
    /// How `harden verify` builds this repository's images.
    pub verify: VerifyConfig,
    /// How `harden pr` proposes the change.
    pub pull_request: PullRequestConfig,
    /// Which files `harden pr` proposes: those whose change is a security change, or all.
    pub propose: ProposeScope,
    /// Whether `harden pr` may propose a rewrite whose build proof could not run here.
    pub proof: ProofPolicy,
    /// How `harden sweep` treats the repository (and, in the organisation's `.github`
    /// repository, every repository).
    pub sweep: SweepConfig,
}

/// How `harden sweep` treats repositories. In the organisation's configuration (its `.github`
/// repository's `harden.yml`): `mode` and `overrides`; in a repository's: `enabled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SweepConfig {
    /// `opt-out` (the default): every repository is swept unless it says `enabled: false`;
    /// `opt-in`: only repositories that say `enabled: true`.
    pub mode: SweepMode,
    /// Whether a repository's own configuration replaces the organisation's (and may opt out).
    pub overrides: bool,
    /// A repository's choice: in (`true`) or out (`false`) of the organisation's sweeps.
    pub enabled: Option<bool>,
}

impl Default for SweepConfig {
    fn default() -> Self {
        SweepConfig { mode: SweepMode::OptOut, overrides: true, enabled: None }
    }
}

/// Whether an organisation's sweep takes repositories unless they opt out, or only those that
/// opt in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SweepMode {
    /// Every repository unless it opts out.
    #[default]
    OptOut,
    /// Only repositories that opt in.
    OptIn,
}

/// Which rewritten files `harden pr` proposes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProposeScope {
    /// Files whose change moves the program off root, changes what it runs on or what the image
    /// carries, or tightens a pod's security context; build-flag, cache-mount, `ADD`→`COPY` and
    /// exec-form edits ride along with such a change and never make a pull request alone.
    #[default]
    Security,
    /// Every file `harden fix` changes.
    All,
}

/// Whether a pull request needs a build proof that ran.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProofPolicy {
    /// Propose with the proof marked skipped, and why, when it cannot run here (no engine, or the
    /// original does not build here either). A failed proof is never proposed.
    #[default]
    Optional,
    /// Propose only rewrites whose proof ran and passed.
    Required,
}

/// How `harden pr` proposes the change.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PullRequestConfig {
    /// The one branch harden pushes to.
    pub branch: String,
    /// Labels put on the pull request.
    pub labels: Vec<String>,
    /// Request reviews from the CODEOWNERS of the changed files.
    pub codeowners: bool,
    /// Users (logins) and teams (`org/slug`) asked to review besides the code owners.
    pub reviewers: Vec<String>,
    /// Keep one issue in the repository that lists harden's findings and its pull request.
    pub dashboard_issue: bool,
}

/// The branch harden pushes to unless configured otherwise.
pub const DEFAULT_BRANCH: &str = "harden/all";

impl Default for PullRequestConfig {
    fn default() -> Self {
        PullRequestConfig {
            branch: DEFAULT_BRANCH.into(),
            labels: vec!["security".into(), "harden".into()],
            codeowners: true,
            reviewers: Vec::new(),
            dashboard_issue: false,
        }
    }
}

/// How `harden verify` builds; flags on the command line take precedence (and add to the lists).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VerifyConfig {
    /// Network for RUN steps (default `none`).
    pub network: Option<String>,
    /// Build arguments, `NAME=VALUE`.
    pub build_args: Vec<String>,
    /// Build secrets, as `docker build --secret` takes them (`id=netrc,src=/path`).
    pub secrets: Vec<String>,
    /// The stage to build.
    pub target: Option<String>,
    /// The platform to build for.
    pub platform: Option<String>,
    /// How long the smoke run waits, in seconds.
    pub smoke_seconds: Option<u64>,
    /// A registry (`host:port`) to push the images to, for the registry's own compressed sizes.
    pub registry: Option<String>,
    /// The CVE scanner that counts the images' vulnerabilities (`auto`, `trivy`, `grype`, `none`).
    pub cve_scanner: Option<crate::verify::cves::ScannerChoice>,
}

/// Kubernetes settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KubernetesConfig {
    /// Workloads (`Kind/name`) and containers (`Kind/name/container`) to leave alone.
    pub skip: Vec<String>,
}

/// The runtime images harden writes; an organisation that mirrors distroless points these at its mirror.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuntimeImages {
    /// Runtime for static (`CGO_ENABLED=0`) binaries.
    #[serde(rename = "static")]
    pub static_: String,
    /// Runtime for cgo binaries (glibc).
    pub base: String,
    /// Runtime for cgo binaries that link libstdc++/libgcc.
    pub cc: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            ignore: Vec::new(),
            default_ignores: true,
            disable: Vec::new(),
            runtime: RuntimeImages::default(),
            pin_digests: true,
            pinning: false,
            cache_mounts: true,
            kubernetes: KubernetesConfig::default(),
            verify: VerifyConfig::default(),
            pull_request: PullRequestConfig::default(),
            propose: ProposeScope::default(),
            proof: ProofPolicy::default(),
            sweep: SweepConfig::default(),
        }
    }
}

impl Default for RuntimeImages {
    fn default() -> Self {
        RuntimeImages { static_: DEFAULT_STATIC.into(), base: DEFAULT_BASE.into(), cc: DEFAULT_CC.into() }
    }
}

/// A configuration file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid configuration.
    #[error("{path}:{line}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line of the problem (0 when unknown).
        line: usize,
        /// What is wrong.
        message: String,
    },
}

impl Config {
    /// Parses configuration text; `path` is only used in errors.
    pub fn from_yaml(text: &str, path: &Path) -> Result<Self, ConfigError> {
        if text.trim().is_empty() {
            return Ok(Config::default());
        }
        let config: Config = yaml_serde::from_str(text).map_err(|e| ConfigError::Invalid {
            path: path.to_path_buf(),
            line: e.location().map_or(0, |l| l.line()),
            message: e.to_string(),
        })?;
        for id in &config.disable {
            if crate::rules::by_id(id).is_none() {
                return Err(ConfigError::Invalid {
                    path: path.to_path_buf(),
                    line: text.lines().position(|l| l.contains(id.as_str())).map_or(0, |i| i + 1),
                    message: format!("unknown rule id {id:?} in disable (see `harden rules`)"),
                });
            }
        }
        Ok(config)
    }

    /// Reads the configuration of the repository at `root`, or the default when it has none.
    pub fn load(root: &Path) -> Result<Self, ConfigError> {
        match LOCATIONS.iter().map(|location| root.join(location)).find(|path| path.is_file()) {
            Some(path) => Config::load_file(&path),
            None => Ok(Config::default()),
        }
    }

    /// Reads the configuration file at `path` (`--config`, in place of the repository's own).
    pub fn load_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
        Config::from_yaml(&text, path)
    }

    /// True when the rule `id` is turned off.
    pub fn is_disabled(&self, id: &str) -> bool {
        self.disable.iter().any(|d| d.eq_ignore_ascii_case(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_key() {
        let text = "ignore: [examples/**]\ndisable: [HD110]\nruntime:\n  static: mirror.example/distroless/static:nonroot\npin_digests: false\n";
        let c = Config::from_yaml(text, Path::new(".harden.yml")).unwrap();
        assert_eq!(c.ignore, ["examples/**"]);
        assert!(c.is_disabled("hd110"));
        assert_eq!(c.runtime.static_, "mirror.example/distroless/static:nonroot");
        assert_eq!(c.runtime.base, DEFAULT_BASE);
        assert!(!c.pin_digests);
    }

    #[test]
    fn the_json_schema_describes_exactly_this_struct() {
        let schema: serde_json::Value = serde_json::from_str(include_str!("../schema/harden.schema.json")).unwrap();
        // A document made of every default in the schema must be the default configuration.
        let defaults = |props: &serde_json::Value| -> serde_json::Map<String, serde_json::Value> {
            props.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v["default"].clone())).collect()
        };
        let mut doc = defaults(&schema["properties"]);
        doc.insert("runtime".into(), defaults(&schema["properties"]["runtime"]["properties"]).into());
        doc.insert("kubernetes".into(), defaults(&schema["properties"]["kubernetes"]["properties"]).into());
        doc.insert("verify".into(), defaults(&schema["properties"]["verify"]["properties"]).into());
        doc.insert("pull_request".into(), defaults(&schema["properties"]["pull_request"]["properties"]).into());
        doc.insert("sweep".into(), defaults(&schema["properties"]["sweep"]["properties"]).into());
        let yaml = serde_json::to_string(&doc).unwrap();
        assert_eq!(Config::from_yaml(&yaml, Path::new("schema")).unwrap(), Config::default());
        // And a key the schema does not know is refused by both.
        assert_eq!(schema["additionalProperties"], false);
        assert!(Config::from_yaml("{\"extra\": 1}", Path::new("schema")).is_err());
    }

    #[test]
    fn unknown_keys_and_rules_are_errors_with_a_line() {
        let err = Config::from_yaml("ignore: []\nrutime: {}\n", Path::new("x.yml")).unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { line: 2, .. }), "{err}");
        let err = Config::from_yaml("disable:\n  - HD999\n", Path::new("x.yml")).unwrap_err();
        assert!(err.to_string().contains("x.yml:2"), "{err}");
    }
}
