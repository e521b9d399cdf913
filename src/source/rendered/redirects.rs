//! Manifests a script writes by other means than a renderer: a command's output redirected
//! into a file (`./cat-bundle.sh > "${MANIFEST_ROOT}/operator/bundle.yaml"`, `cat <<EOF >
//! deploy/all.yaml`), and copies of a rendered or written file (`cp -r staging/deploy .`).

use super::{Rendered, commands, literal_yaml, logical_lines, renderer};

/// What [`Rendered::tool`] says of a file a command's output is redirected into.
pub const REDIRECT: &str = "a redirect of a command's output";

/// The YAML files the commands of a Makefile or shell script redirect their output into (`>`,
/// `>>`), but for those of renderers, which [`super::rendered`] reads. A path after a variable
/// (`${MANIFEST_ROOT}/operator/bundle.yaml`) is told by what follows it when that has a
/// directory; a shell script's path must have one too, as a bare name is most often a
/// scratch file in whatever directory the script runs from.
pub(super) fn redirected(script: &str, makefile: bool) -> Vec<Rendered> {
    let mut out = Vec::new();
    // The files a text tool has read so far: one written back is edited in place, not made.
    let mut read: Vec<String> = Vec::new();
    for (i, line) in logical_lines(script) {
        if line.trim_start().starts_with('#') {
            continue;
        }
        // After a `cd`, a relative path is not the script's.
        for command in commands(&line).take_while(|c| c.split_whitespace().next() != Some("cd")) {
            let words: Vec<&str> = command.split_whitespace().collect();
            let target = redirect_target(&words);
            read.extend(read_files(&words, target));
            let Some(target) = target.filter(|_| renderer(&words).is_none()) else { continue };
            let (path, anywhere) = spelled(target);
            let Some(path) = literal_yaml(path) else { continue };
            if ((anywhere || !makefile) && !path.contains('/')) || read.contains(&path) {
                continue;
            }
            out.push(Rendered { line: i + 1, tool: REDIRECT, path, dir: false, anywhere });
        }
    }
    out
}

/// The tools that read a file to print it changed (`sed -z 's/…/…/' deploy/operator.yaml >
/// deploy/operator.tmp.yaml`).
const TEXT_TOOLS: &[&str] = &["sed", "awk", "yq", "cat", "grep", "perl", "head", "tail", "csplit", "envsubst"];

/// The files a command of a text tool reads, spelled as paths in the repository: its
/// arguments and what `<` feeds it, but not where its output goes (`target`).
fn read_files(words: &[&str], target: Option<&str>) -> Vec<String> {
    let tool = words.first().is_some_and(|w| TEXT_TOOLS.contains(&w.rsplit('/').next().unwrap_or(w)));
    let inputs = words.iter().skip(1).filter(|w| Some(**w) != target && !w.starts_with(['-', '>']));
    let inputs = inputs.map(|w| w.strip_prefix('<').unwrap_or(w)).filter(|w| !w.is_empty() && tool);
    let fed = words.windows(2).filter(|w| w[0] == "<").map(|w| w[1]);
    inputs.chain(fed).filter_map(|w| literal_yaml(spelled(w).0)).collect()
}

/// The files a `cp` copies out of rendered files or directories (`cp -r staging/deploy .`
/// promotes a release's rendered manifests): rendered too, as the next copy writes them again.
pub fn copies_of(script: &str, rendered: &[Rendered]) -> Vec<Rendered> {
    let mut out = Vec::new();
    for (i, line) in logical_lines(script) {
        for command in commands(&line) {
            // make's `@` (silent) and `-` (errors ignored) prefixes are not part of the command.
            let mut words = command.trim().trim_start_matches(['@', '-']).split_whitespace();
            let program = words.next();
            let args: Vec<&str> = words.filter(|w| !w.starts_with('-')).collect();
            let (Some("cp"), [source, dest]) = (program, args.as_slice()) else { continue };
            let ((source, from_anywhere), (dest, anywhere)) = (spelled(source), spelled(dest));
            let source = source.trim_start_matches("./").trim_end_matches('/');
            let dest = dest.trim_start_matches("./");
            // Into a directory (`.`, `deploy/`) the copy keeps its name.
            let target = match dest {
                "." | "" => source.rsplit('/').next().unwrap_or(source).to_string(),
                d if d.ends_with('/') => format!("{d}{}", source.rsplit('/').next().unwrap_or(source)),
                d => d.to_string(),
            };
            for r in rendered.iter().filter(|r| r.anywhere == from_anywhere) {
                let below = match r.path.strip_prefix(source) {
                    Some("") => Some(String::new()),
                    Some(rest) if rest.starts_with('/') => Some(rest.to_string()),
                    _ => None,
                };
                if let Some(below) = below {
                    let path = format!("{target}{below}");
                    out.push(Rendered { line: i + 1, tool: "cp", path, dir: r.dir, anywhere });
                }
            }
        }
    }
    out
}

/// Where a command's output goes (`> out.yaml`, `>>out.yaml`), but for a file descriptor's copy
/// (`>&2`).
fn redirect_target<'a>(words: &[&'a str]) -> Option<&'a str> {
    words.iter().enumerate().find_map(|(j, word)| {
        let after = word.strip_prefix(">>").or_else(|| word.strip_prefix('>'))?;
        match after {
            "" => words.get(j + 1).copied(),
            after if after.starts_with('&') => None,
            after => Some(after),
        }
    })
}

/// A path word without its quotes, with true when it is what follows a variable
/// (`"${OUT}/deploy/all.yaml"` is `deploy/all.yaml`).
fn spelled(word: &str) -> (&str, bool) {
    let word = word.trim_matches(['"', '\'']);
    let end = match word.strip_prefix('$') {
        Some(rest) if rest.starts_with('{') => rest.find('}').map(|at| at + 2),
        Some(rest) if rest.starts_with('(') => rest.find(')').map(|at| at + 2),
        Some(rest) => Some(rest.find(|c: char| !c.is_ascii_alphanumeric() && c != '_').unwrap_or(rest.len()) + 1),
        None => None,
    };
    match end.and_then(|at| word[at..].strip_prefix('/')) {
        Some(tail) if !tail.contains('$') => (tail, true),
        _ => (word, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_files_a_command_writes_through_a_redirect() {
        let script = "#!/bin/bash\n\"${CUR_DIR}/cat-install.sh\" > \"${MANIFEST_ROOT}/operator/install-bundle.yaml\"\ncat <<EOF > \"${MANIFEST_ROOT}/operator/install-tf.yaml\"\nEOF\n\"${CUR_DIR}/cat-install.sh\" >> $OUT/operator/install-tf.yaml\necho x > scratch.yaml\necho y 2>&1 >&2\nenvsubst < in.tmpl > deploy/app.yaml\ncd /tmp && cat > deploy/tmp.yaml\nkustomize build config > $(OUT)/deploy/all.yaml\n# cat > deploy/comment.yaml\ncp -fv \"${MANIFEST_ROOT}/operator/install-bundle.yaml\" \"${MANIFEST_ROOT}/operator/install-bundle-v1beta1.yaml\"\n";
        let found: Vec<(usize, &str, String, bool)> =
            super::super::rendered(script, false).into_iter().map(|r| (r.line, r.tool, r.path, r.anywhere)).collect();
        let at = |line, tool, path: &str, anywhere| (line, tool, path.to_string(), anywhere);
        assert_eq!(
            found,
            [
                at(2, REDIRECT, "operator/install-bundle.yaml", true),
                at(3, REDIRECT, "operator/install-tf.yaml", true),
                at(5, REDIRECT, "operator/install-tf.yaml", true),
                at(8, REDIRECT, "deploy/app.yaml", false),
                at(12, "cp", "operator/install-bundle-v1beta1.yaml", true),
            ]
        );
        let makefile = "all.yaml:\n\t./gen.sh > all.yaml\nout:\n\t./gen.sh > $(OUT)/all.yaml\n";
        let found: Vec<(usize, String)> =
            super::super::rendered(makefile, true).into_iter().map(|r| (r.line, r.path)).collect();
        assert_eq!(
            found,
            [(1, "all.yaml".into()), (2, "all.yaml".into())],
            "a Makefile's recipe runs in its directory"
        );
        // A file a text tool reads and the script writes back is edited in place, not made.
        let splice = "sed -z 's/kind: CustomResourceDefinition.*---/MARK/' ./deploy/operator.yaml > ./deploy/op.tmp.yaml\nsed -ie '/MARK/rdeploy/crd.yaml' ./deploy/op.tmp.yaml\nsed -z 's/MARK//' ./deploy/op.tmp.yaml > ./deploy/operator.yaml\nenvsubst < deploy/app.yaml.in > deploy/app.yaml\n";
        let found: Vec<String> = super::super::rendered(splice, false).into_iter().map(|r| r.path).collect();
        assert_eq!(found, ["deploy/op.tmp.yaml", "deploy/app.yaml"], "not the file written back");
    }
}
