//! Candidates passed over for their type: symbolic links, which discovery never follows, and
//! pipes, sockets and devices, which it never reads.

use std::path::Path;

use super::{Found, Kind, PassOver, ignored, names};

/// Decides from its type whether a candidate is passed over: links (never followed), pipes and
/// devices (never read).
pub(super) fn check(
    path: &Path,
    display: String,
    kind: Kind,
    file_type: &std::fs::FileType,
    root: &Path,
    default_ignores: bool,
) -> Found {
    let reason = if file_type.is_symlink() {
        Some(match path.canonicalize() {
            Ok(target) if target.starts_with(root) => {
                let shown = target.strip_prefix(root).unwrap_or(&target);
                let name = target.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                match names::template_suffix(name) {
                    Some(suffix) => format!(
                        "symbolic link to {}, a template (`{suffix}`), which harden does not edit",
                        shown.display()
                    ),
                    // Where discovery does not walk, the target is scanned nowhere.
                    None => match ignored::ignored_part(shown).filter(|_| default_ignores) {
                        Some(what) => {
                            format!("symbolic link to {}, in {what}, which harden does not walk", shown.display())
                        }
                        None => format!("symbolic link to {}, which is scanned in its own place", shown.display()),
                    },
                }
            }
            Ok(_) => "symbolic link that leaves the tree; not followed".into(),
            Err(_) => "broken symbolic link".into(),
        })
    } else if !file_type.is_file() {
        Some("not a regular file (a pipe, socket or device); not read".to_string())
    } else {
        None
    };
    Found { path: path.to_path_buf(), display, kind, pass_over: reason.map(PassOver::Skip) }
}

#[cfg(test)]
mod tests {
    use super::super::discover;
    use super::*;

    #[test]
    fn a_link_into_vendored_code_is_said_to_be_scanned_nowhere() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for sub in ["vendor/acme.dev/networking/config", "deploy", "config"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        std::fs::write(root.join("vendor/acme.dev/networking/config/ingress.yaml"), "kind: ConfigMap\n").unwrap();
        std::fs::write(root.join("deploy/app.yaml"), "kind: ConfigMap\n").unwrap();
        std::os::unix::fs::symlink(
            "../vendor/acme.dev/networking/config/ingress.yaml",
            root.join("config/ingress.yaml"),
        )
        .unwrap();
        std::os::unix::fs::symlink("../deploy/app.yaml", root.join("config/app.yaml")).unwrap();
        let reason = |walk_all: bool, name: &str| {
            let found = discover(root, &[], !walk_all);
            match found.into_iter().find(|f| f.path.ends_with(name)).and_then(|f| f.pass_over) {
                Some(PassOver::Skip(why)) => why,
                other => panic!("{name}: {other:?}"),
            }
        };
        assert_eq!(
            reason(false, "config/ingress.yaml"),
            "symbolic link to vendor/acme.dev/networking/config/ingress.yaml, in vendored code, which harden does not walk"
        );
        assert_eq!(
            reason(false, "config/app.yaml"),
            "symbolic link to deploy/app.yaml, which is scanned in its own place"
        );
        assert!(
            reason(true, "config/ingress.yaml").ends_with("which is scanned in its own place"),
            "vendor/ is walked"
        );
    }
}
