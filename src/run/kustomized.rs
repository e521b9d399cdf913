//! What kustomizations build, and the images they give the manifests they build from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::discover;
use crate::kubernetes::kustomize;
use crate::orchestration;

/// What a kustomization (at `dir`) sets for an image its manifests name (`name`), with what it
/// builds.
#[derive(Debug)]
pub struct KustomizedImage {
    /// The name the manifests use.
    pub name: String,
    /// What the kustomization sets.
    pub set: kustomize::ImageOverride,
    /// The kustomization's directory, relative to the repository.
    pub dir: PathBuf,
    /// What it builds.
    pub built: Built,
}

impl KustomizedImage {
    /// What the kustomizations of `all` that build from the manifest at `path` (relative to the
    /// repository) set for its images, by the name the manifest uses: one kustomization's for
    /// each.
    pub fn applying_to(all: &[KustomizedImage], path: &Path) -> BTreeMap<String, kustomize::ImageOverride> {
        let applying: Vec<&KustomizedImage> = all.iter().filter(|o| o.built.files.iter().any(|b| b == path)).collect();
        // An overlay applies its images and patches after those of the kustomizations it builds
        // on: kubebuilder's `config/default` patch gives the image whatever `config/manager` (or
        // a script there) named it.
        let layered_over =
            |o: &&KustomizedImage| applying.iter().any(|a| a.name == o.name && a.built.layers.contains(&o.dir));
        let applying = applying.iter().filter(|o| !layered_over(o)).copied();
        // A script that sets the image as it deploys (`kustomize edit set image controller=${IMG}`)
        // writes over the `images:` entry the kustomization keeps.
        let (by_script, kept): (Vec<_>, Vec<_>) = applying.partition(|o| o.set.by_script);
        let mut out = BTreeMap::new();
        for o in by_script.into_iter().chain(kept) {
            out.entry(o.name.clone()).or_insert_with(|| o.set.clone());
        }
        out
    }
}

/// The manifests the kustomization in `dir` (relative to `repo`) builds from, when `dir` has one.
pub fn kustomization_inputs(repo: &Path, dir: &Path) -> Option<Vec<PathBuf>> {
    let text = kustomize::FILE_NAMES.iter().find_map(|name| discover::read_text(&repo.join(dir).join(name)).ok())?;
    Some(Built::of(repo, dir, &text).files)
}

/// What a kustomization builds: the manifest files it takes in, and the directories of the
/// kustomizations it builds on (its layers), all relative to the repository, following those
/// four deep at most.
#[derive(Debug, Default, Clone)]
pub struct Built {
    /// The manifest files.
    pub files: Vec<PathBuf>,
    /// The directories of the kustomizations it builds on.
    pub layers: Vec<PathBuf>,
}

impl Built {
    /// Reads the kustomization at `dir` (with `text`), `depth` layers below the first.
    fn walk(&mut self, repo: &Path, dir: &Path, text: &str, depth: usize) {
        for resource in kustomize::resources(text) {
            let path = orchestration::normalise(&dir.join(&resource));
            let full = repo.join(&path);
            if full.is_dir() && depth < 4 {
                let inner = kustomize::FILE_NAMES.iter().find_map(|name| discover::read_text(&full.join(name)).ok());
                if let Some(inner) = inner {
                    self.layers.push(path.clone());
                    self.walk(repo, &path, &inner, depth + 1);
                }
            } else if full.is_file() {
                self.files.push(path);
            }
        }
    }

    /// What the kustomization at `dir` (with `text`) builds.
    pub fn of(repo: &Path, dir: &Path, text: &str) -> Built {
        let mut built = Built::default();
        built.walk(repo, dir, text, 0);
        built
    }
}
