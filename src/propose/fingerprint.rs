//! The fingerprint of a proposal: what the pull request was made from. Same inputs and same
//! rules, same fingerprint: harden then changes nothing (no commit, no edit); a pull request
//! closed without merging is never recreated for the same fingerprint.

use serde::{Deserialize, Serialize};

use crate::rules;

/// The git blob id of `content` (what `git hash-object` prints), so inputs are named as git names them.
pub fn blob_sha(content: &[u8]) -> String {
    git2::Oid::hash_object(git2::ObjectType::Blob, content).map(|oid| oid.to_string()).unwrap_or_default()
}

/// A digest of the rule catalogue (ids, severities, summaries and fixes): it changes whenever a
/// rule does, so a changed catalogue regenerates pull requests.
pub fn rules_version() -> String {
    let mut hasher = sha1_smol::Sha1::new();
    for r in rules::ALL {
        hasher.update(format!("{}\0{}\0{}\0{}\0{}\n", r.id, r.name, r.severity.as_str(), r.summary, r.fix).as_bytes());
    }
    hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
    hasher.digest().to_string()[..12].to_string()
}

/// The fingerprint of the inputs `(path, blob sha)`, in any order, under the current rules.
pub fn fingerprint(inputs: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = inputs.iter().collect();
    sorted.sort();
    let mut hasher = sha1_smol::Sha1::new();
    for (path, sha) in sorted {
        hasher.update(format!("{path}\0{sha}\n").as_bytes());
    }
    hasher.update(rules_version().as_bytes());
    hasher.digest().to_string()
}

/// The hidden metadata a pull request body carries: `<!-- harden:meta {...} -->`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// The fingerprint of the inputs.
    pub fingerprint: String,
    /// The rules version it was made with.
    pub rules: String,
    /// The files it changes.
    pub files: Vec<String>,
}

impl Meta {
    /// Reads the metadata back from a pull request body.
    pub fn from_body(body: &str) -> Option<Self> {
        let start = body.find("<!-- harden:meta ")? + "<!-- harden:meta ".len();
        let end = body[start..].find(" -->")? + start;
        serde_json::from_str(&body[start..end]).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_ids_match_git() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(blob_sha(b"hello\n"), "ce013625030ba8dba906f756967f9e9ca394464a");
        assert_eq!(blob_sha(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    }

    #[test]
    fn fingerprints_ignore_order_and_follow_content() {
        let a = ("Dockerfile".to_string(), blob_sha(b"FROM golang\n"));
        let b = ("k8s/deploy.yaml".to_string(), blob_sha(b"kind: Pod\n"));
        assert_eq!(fingerprint(&[a.clone(), b.clone()]), fingerprint(&[b.clone(), a.clone()]));
        let changed = ("Dockerfile".to_string(), blob_sha(b"FROM golang:1.22\n"));
        assert_ne!(fingerprint(&[a, b.clone()]), fingerprint(&[changed, b]));
    }

    #[test]
    fn meta_round_trips_through_a_body() {
        let meta = Meta { fingerprint: "abc".into(), rules: rules_version(), files: vec!["Dockerfile".into()] };
        let body = format!("text\n<!-- harden:meta {} -->\n", serde_json::to_string(&meta).unwrap());
        assert_eq!(Meta::from_body(&body), Some(meta));
        assert_eq!(Meta::from_body("no meta here"), None);
    }
}
