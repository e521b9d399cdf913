//! ko's configuration (`.ko.yaml`) as a file harden changes: ko builds the images on
//! `defaultBaseImage` and the `baseImageOverrides` entries, with no Dockerfile, so a distroless
//! base on a Debian release past end of life moves to debian13 here (HD118), as in a Dockerfile.
//! Pure: text in, findings and text out.

use yaml_serde::Value;

use crate::dockerfile::image::ImageRef;
use crate::finding::Finding;
use crate::outcome::{Outcome, ParseError};
use crate::rules;

/// What ko's configuration needs: the distroless bases past end of life it names, moved to
/// debian13 (a digest-pinned one is reported, as its new digest is not known here); a
/// configuration with none is skipped with what it is.
pub fn harden(text: &str) -> Result<Outcome, ParseError> {
    let doc: Value = yaml_serde::from_str(text).map_err(|e| {
        let at = e.location();
        ParseError {
            line: at.as_ref().map_or(1, |l| l.line()),
            column: at.as_ref().map_or(1, |l| l.column()),
            message: e.to_string(),
        }
    })?;
    let default = doc.get("defaultBaseImage").and_then(Value::as_str);
    let overrides = doc.get("baseImageOverrides").and_then(Value::as_mapping).into_iter().flatten();
    // Each base once, in the order the file names them.
    let mut bases: Vec<&str> = Vec::new();
    for base in default.into_iter().chain(overrides.filter_map(|(_, image)| image.as_str())) {
        if !bases.contains(&base) {
            bases.push(base);
        }
    }
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    let mut findings = Vec::new();
    for base in bases {
        let image = ImageRef::parse(base);
        if !image.distroless_past_eol() {
            continue;
        }
        let new = image.on_debian13().to_reference();
        let pinned = image.digest.is_some();
        for (index, line) in lines.iter_mut().enumerate().filter(|(_, l)| l.contains(base) && !is_comment(l)) {
            let message = match pinned {
                true => format!(
                    "{base} is past end of life (no more security fixes), the base ko builds on; it is pinned by digest, which harden cannot give {new} here: move it there and pin the new digest"
                ),
                false => format!("{base} is past end of life (no more security fixes), the base ko builds on"),
            };
            let mut finding = Finding::new(&rules::DISTROLESS_EOL, index + 1, message);
            if !pinned {
                *line = line.replace(base, &new);
                finding.fixed = true;
            }
            findings.push(finding);
        }
    }
    // A base that runs as root runs every image ko builds on it as root (of the bases harden
    // knows: another project's image may set a user of its own).
    let root_base = default.filter(|base| {
        let image = ImageRef::parse(base);
        image.family() != crate::dockerfile::image::Family::Other && !image.default_user_is_nonroot()
    });
    let key_line = text.lines().position(|l| l.starts_with("defaultBaseImage:"));
    if let (Some(base), Some(index)) = (root_base, key_line) {
        // A distroless base has a `:nonroot` tag; another base may be kept for its shell.
        let instead = match ImageRef::parse(base).family() == crate::dockerfile::image::Family::Distroless {
            true => "its `:nonroot` tag runs them as 65532",
            false => {
                "run them as another user where they run (a pod's runAsUser), or choose a base whose user is not root"
            }
        };
        let message = format!(
            "ko builds the images on {base}, which runs them as root; {instead} (harden does not change the user ko's images run as: check the ports and files the programs need first)"
        );
        findings.push(Finding::new(&rules::RUNS_AS_ROOT, index + 1, message));
    }
    if findings.is_empty() {
        return Ok(Outcome::Skipped(reason(default)));
    }
    let new: String = lines.concat();
    let rewritten = (new != text).then_some(new);
    let security = rewritten.is_some();
    Ok(Outcome::Hardened { findings, rewritten, reason: None, security })
}

/// True for a YAML comment line.
fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// What a ko configuration that needs no change is, with the base it builds on.
fn reason(base: Option<&str>) -> String {
    let what = "a ko configuration: ko builds the images from Go packages, with no Dockerfile";
    match base {
        Some(base) => format!("{what}, on {base}"),
        None => format!("{what}, on ko's default base (cgr.dev/chainguard/static, which runs as 65532)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_distroless_base_past_end_of_life_moves_to_debian13() {
        let text = "# the images' base\ndefaultBaseImage: gcr.io/distroless/static-debian12:nonroot\nbaseImageOverrides:\n  example.com/tool/cmd/probe: \"gcr.io/distroless/base-debian12@sha256:abc\"\n  example.com/tool/cmd/web: cgr.dev/chainguard/static\n";
        let Ok(Outcome::Hardened { findings, rewritten: Some(new), security: true, .. }) = harden(text) else {
            panic!("expected a rewrite")
        };
        assert!(new.contains("defaultBaseImage: gcr.io/distroless/static-debian13:nonroot\n"));
        assert!(new.contains("\"gcr.io/distroless/base-debian12@sha256:abc\""), "a pinned base is left as it is");
        let said: Vec<(usize, bool)> = findings.iter().map(|f| (f.line, f.fixed)).collect();
        assert_eq!(said, [(2, true), (4, false)]);
        assert!(findings[1].message.contains("pin the new digest"));
    }

    #[test]
    fn a_supported_base_is_skipped_with_what_the_file_is() {
        let Ok(Outcome::Skipped(why)) = harden("defaultBaseImage: gcr.io/distroless/static-debian13:nonroot\n") else {
            panic!("expected a skip")
        };
        assert!(why.ends_with("on gcr.io/distroless/static-debian13:nonroot"), "{why}");
        let Ok(Outcome::Hardened { findings, rewritten: None, .. }) =
            harden("builds: []\ndefaultBaseImage: gcr.io/distroless/static-debian13\n")
        else {
            panic!("expected findings")
        };
        assert_eq!((findings[0].rule, findings[0].line, findings[0].fixed), ("HD106", 2, false));
        let other = harden("defaultBaseImage: public.ecr.aws/acme/minimal-base\n");
        assert!(matches!(other, Ok(Outcome::Skipped(_))), "the user of an image harden does not know is not claimed");
        assert!(harden("defaultBaseImage: [\n").is_err(), "a malformed file is an error with its line");
    }
}
