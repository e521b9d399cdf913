//! Manifests a build script renders: a Makefile rule or a shell script that writes the output of
//! `kustomize build`, `kubectl kustomize` or `helm template` to a file of the repository. Such a
//! file is made again from its sources at the next render, so an edit to it is lost.

/// The renderers whose output is a manifest: a program (as a word, or a make variable holding
/// it, `$(KUSTOMIZE)`) and its subcommand.
const RENDERERS: [(&str, &str, &str); 3] = [
    ("kustomize", "build", "kustomize build"),
    ("kubectl", "kustomize", "kubectl kustomize"),
    ("helm", "template", "helm template"),
];

/// One file a script renders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The 1-based line of the command.
    pub line: usize,
    /// The renderer (`kustomize build`).
    pub tool: &'static str,
    /// The output path as written (`-o`/`--output` or a `>` redirection), relative to where the
    /// script runs.
    pub path: String,
}

/// The files the commands of a Makefile or shell script render manifests into: only literal
/// paths (a path from a variable is not told).
pub fn rendered(script: &str) -> Vec<Rendered> {
    let mut out = Vec::new();
    for (i, line) in script.lines().enumerate() {
        // A command ends at `&&`, `;` or `|`; each is looked at on its own.
        for command in line.split(['&', ';', '|']) {
            let words: Vec<&str> = command.split_whitespace().collect();
            let found = words.windows(2).enumerate().find_map(|(j, pair)| {
                let (_, _, tool) = RENDERERS.iter().find(|(program, sub, _)| {
                    pair[0].to_ascii_lowercase().trim_end_matches([')', '}']).ends_with(program) && pair[1] == *sub
                })?;
                Some((j + 2, *tool))
            });
            let Some((start, tool)) = found else { continue };
            let rest = &words[start..];
            let path = rest.iter().enumerate().find_map(|(j, word)| {
                if let Some(value) =
                    word.strip_prefix("--output=").or_else(|| word.strip_prefix('>').filter(|v| !v.is_empty()))
                {
                    return Some(value);
                }
                matches!(*word, "-o" | "--output" | ">").then(|| rest.get(j + 1).copied()).flatten()
            });
            let Some(path) = path.map(|p| p.trim_matches(['"', '\''])) else { continue };
            if path.is_empty() || path.contains(['$', '`']) || !(path.ends_with(".yaml") || path.ends_with(".yml")) {
                continue;
            }
            out.push(Rendered { line: i + 1, tool, path: path.trim_start_matches("./").to_string() });
        }
    }
    out
}

/// True for the names of files whose commands render manifests: Makefiles and shell scripts.
pub fn is_script_name(name: &str) -> bool {
    matches!(name, "Makefile" | "GNUmakefile" | "makefile") || name.ends_with(".mk") || name.ends_with(".sh")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_files_renderers_write() {
        let makefile = "k8s-manifests:\n\tkustomize build ./deployments/kubernetes/ -o ./deployments/kubernetes/reloader.yaml\nbundle:\n\t$(KUSTOMIZE) build config/default > dist/install.yaml && echo done\nchart:\n\thelm template charts/app --output=rendered/app.yml\nvars:\n\tkustomize build config -o $(OUT)/x.yaml\ndirs:\n\tkubectl kustomize config/crd -o config/out\n";
        let found = rendered(makefile);
        let paths: Vec<(usize, &str, &str)> = found.iter().map(|r| (r.line, r.tool, r.path.as_str())).collect();
        assert_eq!(
            paths,
            [
                (2, "kustomize build", "deployments/kubernetes/reloader.yaml"),
                (4, "kustomize build", "dist/install.yaml"),
                (6, "helm template", "rendered/app.yml"),
            ]
        );
        let script = "#!/bin/sh\nkubectl kustomize config/default >install.yaml\n";
        assert_eq!(rendered(script)[0].path, "install.yaml");
        assert!(is_script_name("Makefile") && is_script_name("hack/gen.sh") && !is_script_name("main.go"));
    }
}
