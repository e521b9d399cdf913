//! The one commit harden makes, planned as GitHub's Git Data API takes it: blobs, then a tree
//! over the base tree, then a commit with no author (so GitHub signs it and marks it Verified).
//! Blob ids are computed here the way git computes them, so the client can look before it
//! creates and a replayed request creates nothing twice.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::discover::Kind;
use crate::report::plural;
use crate::run::FileReport;

use super::fingerprint::blob_sha;

/// The mode of a regular file, for paths the base tree does not list.
const REGULAR_FILE: &str = "100644";

/// A blob to upload: the body of `POST /repos/{owner}/{repo}/git/blobs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Blob {
    /// The text.
    pub content: String,
    /// Always `utf-8`: harden only rewrites text.
    pub encoding: &'static str,
    /// The id git will give it (not sent; the answer must match it).
    #[serde(skip)]
    pub sha: String,
}

/// One entry of the tree: an item of `tree` in `POST /repos/{owner}/{repo}/git/trees`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TreeEntry {
    /// The path in the repository.
    pub path: String,
    /// The file mode, kept from the base tree.
    pub mode: String,
    /// Always `blob`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The blob's id.
    pub sha: String,
}

/// The whole commit, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitPlan {
    /// The blobs, one per changed file.
    pub blobs: Vec<Blob>,
    /// The tree entries over the base tree.
    pub tree: Vec<TreeEntry>,
    /// The commit message.
    pub message: String,
}

/// Plans the commit of the changed files among `files`; `base_modes` maps the base tree's paths
/// to their modes (an executable or a symlink keeps its mode). `None` when nothing changed.
pub fn plan(files: &[FileReport], base_modes: &HashMap<String, String>) -> Option<CommitPlan> {
    let changed: Vec<(&FileReport, &String)> =
        files.iter().filter_map(|f| f.rewritten.as_ref().map(|text| (f, text))).collect();
    if changed.is_empty() {
        return None;
    }
    let blobs: Vec<Blob> = changed
        .iter()
        .map(|(_, text)| Blob { content: text.to_string(), encoding: "utf-8", sha: blob_sha(text.as_bytes()) })
        .collect();
    let tree = changed
        .iter()
        .zip(&blobs)
        .map(|((file, _), blob)| TreeEntry {
            path: file.path.clone(),
            mode: base_modes.get(&file.path).cloned().unwrap_or_else(|| REGULAR_FILE.to_string()),
            kind: "blob",
            sha: blob.sha.clone(),
        })
        .collect();
    let message = message(&changed.iter().map(|(f, _)| *f).collect::<Vec<_>>());
    Some(CommitPlan { blobs, tree, message })
}

/// The message: a subject that says what kinds of files changed, then per file the rules it resolves.
fn message(changed: &[&FileReport]) -> String {
    let dockerfiles = changed.iter().filter(|f| f.kind == Kind::Dockerfile).count();
    let manifests = changed.len() - dockerfiles;
    let subject = match (dockerfiles, manifests) {
        (0, m) => format!("harden: restrict the security context of {}", plural(m, "manifest")),
        (d, 0) => format!("harden: build {} static, distroless and non-root", plural(d, "image")),
        (d, m) => format!("harden: {} and {}", plural(d, "Dockerfile"), plural(m, "manifest")),
    };
    let mut text = format!("{subject}\n\n");
    for file in changed {
        let rules: BTreeSet<&str> = file.findings.iter().filter(|f| f.fixed).map(|f| f.rule).collect();
        let rules: Vec<&str> = rules.into_iter().collect();
        text.push_str(&format!("- {}: {}\n", file.path, rules.join(", ")));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Finding;
    use crate::rules;
    use crate::run::Status;

    fn report(path: &str, kind: Kind, rewritten: Option<&str>, rule: &rules::Rule) -> FileReport {
        FileReport {
            findings: vec![Finding { fixed: true, ..Finding::new(rule, 1, "x") }],
            original: Some("before\n".into()),
            rewritten: rewritten.map(str::to_string),
            security: true,
            ..FileReport::new(path.into(), kind, Status::Changed, None)
        }
    }

    #[test]
    fn nothing_changed_plans_no_commit() {
        let files = [report("Dockerfile", Kind::Dockerfile, None, &rules::ALL[0])];
        assert_eq!(plan(&files, &HashMap::new()), None);
    }

    #[test]
    fn blobs_carry_git_ids_and_the_tree_keeps_modes() {
        let docker = rules::ALL.iter().find(|r| r.id.starts_with("HD")).unwrap();
        let kube = rules::ALL.iter().find(|r| r.id.starts_with("HK")).unwrap();
        let files = [
            report("Dockerfile", Kind::Dockerfile, Some("FROM scratch\n"), docker),
            report("deploy/web.yaml", Kind::Kubernetes, Some("kind: Pod\n"), kube),
            report("README.md", Kind::Dockerfile, None, docker),
        ];
        let modes = HashMap::from([("Dockerfile".to_string(), "100755".to_string())]);
        let plan = plan(&files, &modes).unwrap();
        assert_eq!(plan.blobs.len(), 2);
        assert_eq!(plan.blobs[0].sha, blob_sha(b"FROM scratch\n"));
        let body = serde_json::to_value(&plan.tree).unwrap();
        assert_eq!(
            body[0],
            serde_json::json!({"path": "Dockerfile", "mode": "100755", "type": "blob", "sha": plan.blobs[0].sha})
        );
        assert_eq!(body[1]["mode"], "100644");
        assert!(serde_json::to_value(&plan.blobs[0]).unwrap().get("sha").is_none());
        assert!(plan.message.starts_with("harden: 1 Dockerfile and 1 manifest\n\n"), "{}", plan.message);
        assert!(plan.message.contains(&format!("- Dockerfile: {}\n", docker.id)));
        assert!(plan.message.contains(&format!("- deploy/web.yaml: {}\n", kube.id)));
    }

    #[test]
    fn the_subject_names_the_kind_of_change() {
        let docker = &rules::ALL[0];
        let images = [
            report("a/Dockerfile", Kind::Dockerfile, Some("x"), docker),
            report("b/Dockerfile", Kind::Dockerfile, Some("y"), docker),
        ];
        assert!(plan(&images, &HashMap::new()).unwrap().message.starts_with("harden: build 2 images static"));
    }
}
