//! Secrets in a Dockerfile: names that hold them (after hadolint DL3064) and files that are
//! credentials, and the findings for them.

use crate::finding::Finding;
use crate::rules;

use super::facts::Facts;
use super::model::Body;

/// Substrings of ENV/ARG names that hold secrets (after hadolint DL3064).
const SECRET_NAME_PARTS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "ACCESS_KEY",
    "CLIENT_KEY",
    "CREDENTIAL",
    "AUTH_KEY",
    // A private key for git over SSH (`ARG SSH_KEY` to fetch private modules); not `_KEY` alone:
    // `GPG_KEY` is a public fingerprint.
    "SSH_KEY",
    "DEPLOY_KEY",
];
/// File names that are credentials.
const SECRET_FILES: &[&str] = &[
    ".env",
    ".netrc",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    "id_rsa",
    "id_ed25519",
    "id_ecdsa",
    "kubeconfig",
    "credentials",
];
/// File extensions of keys and keystores.
const SECRET_EXTENSIONS: &[&str] = &[".key", ".p12", ".pfx", ".jks"];

/// ARG and ENV names that look like secrets, and credential files copied into an image.
pub(super) fn findings(facts: &Facts<'_>, out: &mut Vec<Finding>) {
    for name in facts.df.global_args.iter().map(|a| &a.name) {
        if is_secret_name(name) {
            let line = facts.text.lines().position(|l| l.contains(name.as_str())).map_or(1, |i| i + 1);
            out.push(Finding::new(&rules::SECRET_IN_ENV, line, format!("ARG {name} looks like a secret")));
        }
    }
    for stage in &facts.df.stages {
        for inst in &stage.instructions {
            match &inst.body {
                Body::Env(pairs) => {
                    let secrets = pairs.iter().filter(|(n, v)| is_secret_name(n) && !v.is_empty() && !is_setting(v));
                    for (name, _) in secrets {
                        out.push(Finding::new(
                            &rules::SECRET_IN_ENV,
                            line_naming(facts.text, inst.line, name),
                            format!("ENV {name} looks like a secret"),
                        ));
                    }
                }
                Body::Arg(args) => {
                    for (name, _) in args.iter().filter(|(n, _)| is_secret_name(n)) {
                        out.push(Finding::new(
                            &rules::SECRET_IN_ENV,
                            inst.line,
                            format!("ARG {name} looks like a secret"),
                        ));
                    }
                }
                Body::Copy(copy) => {
                    let settings = |s: &&String| copy.from.is_none() && facts.source.settings_only.contains(s);
                    for src in copy.sources.iter().filter(|s| is_secret_file(s) && !settings(s)) {
                        out.push(Finding::new(
                            &rules::SECRET_FILE_COPIED,
                            inst.line,
                            format!("{src} is a credential file"),
                        ));
                    }
                }
                _ => {}
            }
        }
    }
}

/// True for a value that is a switch or a number (`KOPIA_PERSIST_CREDENTIALS_ON_CONNECT=false`):
/// a setting about secrets, not one.
fn is_setting(value: &str) -> bool {
    let value = value.trim_matches(['"', '\'']).to_ascii_lowercase();
    ["true", "false", "yes", "no", "on", "off"].contains(&value.as_str())
        || (!value.is_empty() && value.chars().all(|c| c.is_ascii_digit()))
}

/// The line, from an instruction's first, that holds `name`: an `ENV` continued over lines
/// names each variable on its own.
fn line_naming(text: &str, first: usize, name: &str) -> usize {
    text.lines().skip(first - 1).position(|l| l.contains(name)).map_or(first, |i| first + i)
}

/// True for an ENV/ARG name that holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let pointer = ["_FILE", "_PATH", "_DIR", "_URL", "_ENDPOINT", "_NAME"].iter().any(|s| upper.ends_with(s));
    !pointer && SECRET_NAME_PARTS.iter().any(|p| upper.contains(p))
}

/// Package managers' settings files, named as credential files, that hold a credential only
/// in a key of [`CREDENTIAL_KEYS`] (`//registry/:_authToken=…`, `password:`).
const SETTINGS_FILES: &[&str] = &[".npmrc", ".yarnrc", ".yarnrc.yml", ".pypirc"];
/// Words of the keys that hold a credential in a settings file.
const CREDENTIAL_KEYS: &[&str] = &["auth", "token", "password", "passwd", "secret", "username", "cert", "key"];

/// True when a package manager's settings file (named `name`, holding `text`) holds no
/// credential: no line's key (before its `=`; a YAML line whole) names a token or password.
pub fn settings_only(name: &str, text: &str) -> bool {
    let name = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
    let keys = text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with(['#', ';', '[']));
    let mut keys = keys.map(|l| l.split('=').next().unwrap_or(l).to_ascii_lowercase());
    SETTINGS_FILES.contains(&name.as_str()) && !keys.any(|k| CREDENTIAL_KEYS.iter().any(|c| k.contains(c)))
}

/// True for a copied path that is a credential file.
pub fn is_secret_file(path: &str) -> bool {
    // A directory (`credentials/`, a Go package) is not a credential file.
    if path.contains("://") || path.ends_with('/') {
        return false;
    }
    let name = path.trim_end_matches('/').rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    let env_file =
        name == ".env" || (name.starts_with(".env.") && !name.ends_with(".example") && !name.ends_with(".sample"));
    env_file
        || SECRET_FILES.iter().any(|f| {
            // `kubeconfig.yaml`, `credentials.json`; not a program named for them (`kubeconfig_generator`).
            let variant = name.strip_prefix(f).is_some_and(|rest| rest.starts_with('.'));
            name == *f || (variant && *f != ".env" && !name.ends_with(".pub"))
        })
        || SECRET_EXTENSIONS.iter().any(|e| name.ends_with(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settings_file_with_no_credential_key_holds_settings_only() {
        assert!(settings_only("frontend/.npmrc", "engine-strict=true\nstrict-allow-scripts=true\n"));
        assert!(!settings_only(".npmrc", "registry=https://npm.acme.dev/\n//npm.acme.dev/:_authToken=${NPM_TOKEN}\n"));
        assert!(!settings_only(".pypirc", "[pypi]\nusername = __token__\npassword = pypi-abc\n"));
        assert!(!settings_only(".netrc", "machine example.com\n"), "a .netrc is for credentials");
    }

    #[test]
    fn knows_secrets() {
        assert!(is_secret_name("GITHUB_TOKEN") && is_secret_name("db_password"));
        assert!(!is_secret_name("PASSWORD_FILE") && !is_secret_name("PORT"));
        assert!(is_secret_name("SSH_KEY") && is_secret_name("GIT_DEPLOY_KEY") && !is_secret_name("GPG_KEY"));
        assert!(!is_secret_name("SSH_KEY_PATH"), "a path to the key, not the key");
        assert!(is_secret_file(".env") && is_secret_file("certs/server.key") && is_secret_file("id_rsa"));
        assert!(!is_secret_file(".env.example") && !is_secret_file("id_rsa.pub") && !is_secret_file("main.go"));
        assert!(is_secret_file("deploy/kubeconfig.yaml") && is_secret_file("credentials.json"));
        assert!(is_secret_file("credentials") && !is_secret_file("credentials/"), "a package directory");
        assert!(!is_secret_file("/usr/src/app/bin/kubeconfig_generator"), "a program named for what it writes");
        assert!(is_setting("false") && is_setting("\"ON\"") && is_setting("3") && !is_setting("s3cr3t"));
    }

    #[test]
    fn a_switch_is_no_secret_and_the_name_has_its_line() {
        let text = "FROM scratch\nENV A=1 \\\n    PERSIST_CREDENTIALS=false \\\n    API_TOKEN=abc\n";
        let df = super::super::model::Dockerfile::parse(text).unwrap();
        let (source, config) = (crate::source::SourceFacts::default(), crate::config::Config::default());
        let facts = Facts::new(text, &df, &source, &config);
        let mut out = Vec::new();
        findings(&facts, &mut out);
        let found: Vec<_> = out.iter().map(|f| (f.line, f.message.as_str())).collect();
        assert_eq!(found, [(4, "ENV API_TOKEN looks like a secret")]);
    }
}
