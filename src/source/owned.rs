//! Files a Go program of the repository owns: carried inside it with `//go:embed`, or written by
//! it (a `go generate` step that renders a manifest from a chart). A manifest embedded so is
//! applied by the program (an operator, an installer), and one written so is made again from its
//! source: an edit to either is not where the change belongs, so harden leaves them to the program.
//! So are manifests a Makefile or script renders (`kustomize build … -o deploy/all.yaml`), and
//! those a Tiltfile deploys for development.

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};

/// The advice that ends the reason of a file rendered or written by a program: its edits belong
/// where it is made from (the caller says what they would be, or that none are needed).
pub const MADE_FROM: &str = "; harden what it is made from";

/// One `//go:embed` pattern and the Go file that declares it.
#[derive(Debug, Clone)]
pub struct Embed {
    /// The Go file, relative to the repository.
    pub file: PathBuf,
    /// The directive's line.
    pub line: usize,
    /// The pattern, relative to the Go file's directory.
    pub pattern: String,
    matcher: Option<GlobMatcher>,
}

impl Embed {
    /// An embed of `pattern`, declared in `file` (relative to the repository) at `line`.
    pub fn new(file: PathBuf, line: usize, pattern: String) -> Self {
        // `path.Match` patterns: `*` never crosses a slash.
        let matcher = GlobBuilder::new(&pattern).literal_separator(true).build().ok().map(|g| g.compile_matcher());
        Embed { file, line, pattern, matcher }
    }

    /// True when the file at `path` (relative to the repository) is embedded: the pattern names
    /// it, or a directory holding it (a directory is embedded with everything under it).
    pub fn covers(&self, path: &Path) -> bool {
        let dir = self.file.parent().unwrap_or(Path::new(""));
        let (Ok(rel), Some(matcher)) = (path.strip_prefix(dir), &self.matcher) else { return false };
        let mut prefix = PathBuf::new();
        rel.components().any(|c| {
            prefix.push(c);
            matcher.is_match(&prefix)
        })
    }
}

/// The `//go:embed` patterns of a Go file's text, with their lines: space-separated, quoted
/// (`"…"` or `` `…` ``) or bare, an `all:` prefix dropped.
pub fn patterns(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(rest) = line.trim_start().strip_prefix("//go:embed") else { continue };
        if !rest.starts_with([' ', '\t']) {
            continue;
        }
        let mut words = rest.trim();
        while !words.is_empty() {
            let (word, tail) = match words.chars().next() {
                Some(q @ ('"' | '`')) => match words[1..].find(q) {
                    Some(end) => (&words[1..end + 1], &words[end + 2..]),
                    None => break,
                },
                _ => words.split_once(char::is_whitespace).unwrap_or((words, "")),
            };
            out.push((i + 1, word.strip_prefix("all:").unwrap_or(word).to_string()));
            words = tail.trim_start();
        }
    }
    out
}

/// The calls that write a file.
const WRITES: [&str; 3] = ["os.WriteFile(", "os.Create(", "ioutil.WriteFile("];

/// What the Go programs of a repository own.
#[derive(Debug, Default)]
pub struct Owned {
    embeds: Vec<Embed>,
    /// Go files that write files, with their text.
    writers: Vec<(PathBuf, String)>,
    /// Files build scripts render, relative to the repository, with the script that does.
    rendered: Vec<(PathBuf, PathBuf, super::rendered::Rendered)>,
    /// Manifests a Tiltfile deploys for development, with the Tiltfile and the line.
    tilt: Vec<(PathBuf, PathBuf, usize)>,
    /// Manifests a skaffold configuration deploys that run an image it syncs files into, with
    /// the configuration.
    skaffold: Vec<(PathBuf, PathBuf)>,
    /// The directories renders read manifests from (relative to the repository), with the
    /// script and what it renders into.
    inputs: Vec<(PathBuf, PathBuf, super::rendered::RenderInput)>,
    /// True when a script or workflow renders a Helm chart.
    charts_rendered: bool,
}

impl Owned {
    /// Reads the non-test Go files under `repo`.
    pub fn collect(repo: &Path) -> Self {
        let mut files = Vec::new();
        super::go_sources(repo, false, &mut files, &mut Vec::new());
        let mut owned = Owned::default();
        for path in files {
            let Some(text) = super::read_go_file(&path) else { continue };
            let file = path.strip_prefix(repo).unwrap_or(&path).to_path_buf();
            if text.contains("//go:embed") {
                owned.embeds.extend(patterns(&text).into_iter().map(|(line, p)| Embed::new(file.clone(), line, p)));
            }
            let writes = WRITES.iter().any(|w| text.contains(w));
            if writes && (text.contains(".yaml\"") || text.contains(".yml\"")) {
                owned.writers.push((file, text));
            }
        }
        read_scripts(repo, &mut owned);
        let configs = texts_named(repo, crate::orchestration::is_skaffold_name);
        owned.skaffold = super::skaffold_sync::synced_manifests(repo, &configs);
        owned
    }

    /// The renders that read manifests from a directory, each with that directory (relative to
    /// the repository), its script and what it writes, where what it writes is kept in the
    /// repository (`repo`): an edit to an input leaves that output stale.
    pub fn kept_renders(&self, repo: &Path) -> Vec<(&Path, &Path, &super::rendered::RenderInput)> {
        (self.inputs.iter())
            .filter(|(_, script, found)| {
                repo.join(script.parent().unwrap_or(Path::new(""))).join(&found.output).exists()
            })
            .map(|(dir, script, found)| (dir.as_path(), script.as_path(), found))
            .collect()
    }

    /// True when a script or workflow renders a Helm chart (`helm template`, `"$BIN/helm" template`).
    pub fn renders_charts(&self) -> bool {
        self.charts_rendered
    }

    /// The renders into an OLM bundle (`operator-sdk generate bundle`), kept or not, each with
    /// the directory it reads manifests from (relative to the repository) and its script.
    pub fn bundle_renders(&self) -> impl Iterator<Item = (&Path, &Path, &super::rendered::RenderInput)> {
        (self.inputs.iter())
            .filter(|(_, _, found)| found.tool == super::rendered::BUNDLE)
            .map(|(dir, script, found)| (dir.as_path(), script.as_path(), found))
    }

    /// Why the file at `path` (relative to the repository) belongs to a program, if it does;
    /// a file a render or the program writes ends with [`MADE_FROM`].
    pub fn owner(&self, path: &Path) -> Option<String> {
        if let Some((_, tiltfile, line)) = self.tilt.iter().find(|(target, _, _)| target == path) {
            return Some(format!(
                "deployed for development by {}:{line} (k8s_yaml): Tilt rebuilds and syncs files into its containers, which a read-only root or another user would stop; harden the manifests that run in production",
                tiltfile.display()
            ));
        }
        if let Some((_, config)) = self.skaffold.iter().find(|(target, _)| target == path) {
            return Some(format!(
                "deployed for development by {} (an artifact's `sync`): skaffold copies changed files into its running containers, which a read-only root or another user would stop; harden the manifests that run in production",
                config.display()
            ));
        }
        let renders = |(target, _, found): &&(PathBuf, PathBuf, super::rendered::Rendered)| {
            target == path || (found.dir && path.starts_with(target)) || (found.anywhere && path.ends_with(target))
        };
        if let Some((_, script, found)) = self.rendered.iter().find(renders) {
            let how = match found.tool {
                "cp" => "copied from a rendered file by `cp`".to_string(),
                super::rendered::REDIRECT => format!("written by {}", super::rendered::REDIRECT),
                tool => format!("rendered by `{tool}`"),
            };
            return Some(format!(
                "{how} in {}:{}: an edit would be undone when it is rendered again{MADE_FROM}",
                script.display(),
                found.line
            ));
        }
        if let Some(embed) = self.embeds.iter().find(|e| e.covers(path)) {
            return Some(format!(
                "embedded in the program by //go:embed {} ({}:{}): the program applies it, so an edit would change what the program does; harden the code that uses it",
                embed.pattern,
                embed.file.display(),
                embed.line
            ));
        }
        let quoted = format!("\"{}\"", path.to_str()?);
        // The path is what a write call on the same line writes, not a file the program reads.
        let writes = |line: &str| line.contains(&quoted) && WRITES.iter().any(|w| line.contains(w));
        let (file, line) =
            self.writers.iter().find_map(|(file, text)| Some((file, text.lines().position(writes)? + 1)))?;
        Some(format!(
            "written by the program {}:{}: an edit would be undone when it runs again{MADE_FROM}",
            file.display(),
            line
        ))
    }
}

/// The Makefiles and shell scripts of `repo` (four levels deep at most, 512 KiB each at most),
/// each with its path relative to `repo`.
pub fn script_texts(repo: &Path) -> Vec<(PathBuf, String)> {
    texts_named(repo, super::rendered::is_script_name)
}

/// The files of `repo` (four levels deep at most, 512 KiB each at most) whose names `wanted`
/// accepts, each with its path relative to `repo`.
fn texts_named(repo: &Path, wanted: impl Fn(&str) -> bool) -> Vec<(PathBuf, String)> {
    let walk = ignore::WalkBuilder::new(repo).max_depth(Some(4)).build();
    walk.flatten()
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .filter(|e| wanted(e.file_name().to_str().unwrap_or_default()))
        .filter(|e| e.metadata().is_ok_and(|m| m.len() <= 512 * 1024))
        .filter_map(|e| {
            let text = std::fs::read_to_string(e.path()).ok()?;
            Some((e.path().strip_prefix(repo).unwrap_or(e.path()).to_path_buf(), text))
        })
        .collect()
}

/// The files named like `loaded` (relative to the repository) one directory below its own: the
/// samples a developer copies into place.
fn samples_of(repo: &Path, loaded: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (loaded.parent(), loaded.file_name()) else { return Vec::new() };
    let subdirs = std::fs::read_dir(repo.join(dir)).into_iter().flatten().flatten();
    subdirs.filter(|e| e.path().join(name).is_file()).map(|e| dir.join(e.file_name()).join(name)).collect()
}

/// Reads what the Makefiles, shell scripts and Tiltfiles of `repo` (four levels deep at most)
/// say about its manifests into `owned`: the files scripts render, each with its script (a path
/// is taken from the script's directory, and for a shell script also from the repository's root,
/// where scripts are often run from), the files Tiltfiles deploy, each with its Tiltfile and
/// line, the directories renders read, each with its script, and whether a chart is rendered.
fn read_scripts(repo: &Path, owned: &mut Owned) {
    let (mut rendered, mut tilt, mut inputs) = (Vec::new(), Vec::new(), Vec::new());
    let scripts = texts_named(repo, |name| name == "Tiltfile" || super::rendered::is_script_name(name));
    let workflows =
        texts_named(&repo.join(".github/workflows"), |name| name.ends_with(".yml") || name.ends_with(".yaml"));
    owned.charts_rendered = scripts.iter().chain(&workflows).any(|(_, text)| super::rendered::renders_chart(text));
    for (script, text) in &scripts {
        let name = script.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let tiltfile = name == "Tiltfile";
        let dir = script.parent().unwrap_or(Path::new("")).to_path_buf();
        if tiltfile {
            for (line, path) in super::tilt::loaded_manifests(text) {
                let loaded = crate::orchestration::normalise(&dir.join(path));
                // A file the developer makes from a sample (`tilt-resources/deployment.yaml`,
                // copied from `tilt-resources/examples/`): the sample is what Tilt deploys.
                if !repo.join(&loaded).exists() {
                    tilt.extend(samples_of(repo, &loaded).into_iter().map(|s| (s, script.clone(), line)));
                }
                tilt.push((loaded, script.clone(), line));
            }
            // A kustomization Tilt renders: the manifests it lists from its own directory.
            for (line, kustomized) in super::tilt::loaded_kustomizations(text) {
                let kustomized = dir.join(kustomized);
                let listed = crate::kubernetes::kustomize::FILE_NAMES
                    .iter()
                    .find_map(|name| std::fs::read_to_string(repo.join(&kustomized).join(name)).ok())
                    .map(|text| crate::kubernetes::kustomize::resources(&text))
                    .unwrap_or_default();
                let own = listed
                    .into_iter()
                    .filter(|r| !r.starts_with("..") && (r.ends_with(".yaml") || r.ends_with(".yml")));
                tilt.extend(own.map(|r| (crate::orchestration::normalise(&kustomized.join(r)), script.clone(), line)));
            }
            continue;
        }
        let makefile = !name.ends_with(".sh");
        for found in super::rendered::render_inputs(text, makefile) {
            inputs.push((crate::orchestration::normalise(&dir.join(&found.input)), script.clone(), found));
        }
        for found in super::rendered::rendered(text, makefile) {
            let mut targets = vec![crate::orchestration::normalise(&dir.join(&found.path))];
            if found.anywhere {
                targets = vec![PathBuf::from(&found.path)];
            } else if name.ends_with(".sh") {
                targets.push(crate::orchestration::normalise(Path::new(&found.path)));
            }
            rendered.extend(targets.into_iter().map(|t| (t, script.clone(), found.clone())));
        }
    }
    // A file one script writes after a variable (`${MANIFEST_ROOT}/operator/bundle.yaml`) that
    // another copies (`cp "${MANIFEST_ROOT}/operator/bundle.yaml" …-v1beta1.yaml`).
    let anywhere: Vec<_> = rendered.iter().filter(|(_, _, r)| r.anywhere).map(|(_, _, r)| r.clone()).collect();
    for (script, text) in &scripts {
        let copies = super::rendered::copies_of(text, &anywhere).into_iter().filter(|c| c.anywhere);
        rendered.extend(copies.map(|c| (PathBuf::from(&c.path), script.clone(), c)).collect::<Vec<_>>());
    }
    (owned.rendered, owned.tilt, owned.inputs) = (rendered, tilt, inputs);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_form_of_pattern() {
        let text = "package x\n\n//go:embed manifests/*.yaml \"with space.yaml\" all:static\nvar fs embed.FS\n//go:embedded no\n";
        assert_eq!(
            patterns(text),
            vec![(3, "manifests/*.yaml".to_string()), (3, "with space.yaml".to_string()), (3, "static".to_string())]
        );
    }

    #[test]
    fn manifests_a_script_renders_belong_to_it() {
        let repo = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(repo.path().join("deploy/hack")).unwrap();
        std::fs::write(repo.path().join("Makefile"), "manifests:\n\tkustomize build deploy/base -o deploy/all.yaml\n")
            .unwrap();
        std::fs::write(repo.path().join("deploy/hack/bundle.sh"), "kubectl kustomize ../overlays/prod > prod.yaml\n")
            .unwrap();
        let owned = Owned::collect(repo.path());
        let reason = owned.owner(Path::new("deploy/all.yaml")).expect("rendered by the Makefile");
        assert!(reason.starts_with("rendered by `kustomize build` in Makefile:2"), "{reason}");
        assert!(
            owned.owner(Path::new("deploy/hack/prod.yaml")).is_some() && owned.owner(Path::new("prod.yaml")).is_some()
        );
        assert!(owned.owner(Path::new("deploy/base/deployment.yaml")).is_none());
        std::fs::write(repo.path().join("Tiltfile"), "k8s_yaml('deploy/dev.yaml')\n").unwrap();
        let reason = Owned::collect(repo.path()).owner(Path::new("deploy/dev.yaml")).expect("deployed by Tilt");
        assert!(reason.starts_with("deployed for development by Tiltfile:1"), "{reason}");
        // A file the developer copies from a sample is not in the repository: the sample is Tilt's.
        std::fs::create_dir_all(repo.path().join("tilt/examples")).unwrap();
        std::fs::write(repo.path().join("tilt/examples/app.yaml"), "kind: Deployment\n").unwrap();
        std::fs::write(repo.path().join("Tiltfile"), "k8s_yaml('tilt/app.yaml')\n").unwrap();
        let owned = Owned::collect(repo.path());
        assert!(owned.owner(Path::new("tilt/examples/app.yaml")).is_some_and(|r| r.contains("Tiltfile:1")));
        assert!(owned.owner(Path::new("deploy/base/deployment.yaml")).is_none());
    }

    #[test]
    fn covers_files_and_directories_beside_the_go_file() {
        let glob = Embed::new("cmd/operator/deploy.go".into(), 3, "manifests/*.yaml".into());
        assert!(glob.covers(Path::new("cmd/operator/manifests/proxy.yaml")));
        assert!(!glob.covers(Path::new("cmd/operator/manifests/sub/proxy.yaml")));
        assert!(!glob.covers(Path::new("deploy/manifests/proxy.yaml")));
        let dir = Embed::new("install.go".into(), 1, "config".into());
        assert!(dir.covers(Path::new("config/rbac/role.yaml")));
        assert!(!dir.covers(Path::new("configs/role.yaml")));
    }
}
