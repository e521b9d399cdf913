//! Which programs a Dockerfile's image ships, and so which Go source speaks for it: the `main`
//! package beside it, the ones its builds or its make targets name, the one named after the
//! binary it copies in, or the one GoReleaser builds under that name (in a module of its own).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::discover;
use crate::dockerfile;
use crate::orchestration;
use crate::source::SourceFacts;

/// The Go source of each build context, read once, by the first worker that needs it.
pub(super) struct Programs<'a> {
    sources: HashMap<&'a PathBuf, OnceLock<SourceFacts>>,
    /// The binaries GoReleaser builds, each with its `main` package (relative to the root).
    released: Vec<(String, PathBuf)>,
    repo: &'a Path,
}

impl<'a> Programs<'a> {
    /// The programs of Dockerfiles built from `contexts` (canonical), in the repository `repo`.
    pub(super) fn new(contexts: &'a [PathBuf], orchestration: &orchestration::Repository, repo: &'a Path) -> Self {
        let sources = contexts.iter().map(|c| (c, OnceLock::new())).collect();
        Programs { sources, released: orchestration.released_programs().to_vec(), repo }
    }

    /// The Go source of the module at `dir` (canonical): a build context's, read once for its
    /// Dockerfiles and this, or else read now.
    pub(super) fn module(&self, dir: &Path) -> std::borrow::Cow<'_, SourceFacts> {
        match self.sources.get(&dir.to_path_buf()) {
            Some(once) => std::borrow::Cow::Borrowed(once.get_or_init(|| SourceFacts::collect(dir))),
            None => std::borrow::Cow::Owned(SourceFacts::collect(dir)),
        }
    }

    /// The source facts of the programs the Dockerfile at `path` (canonical) ships, built from
    /// `dir`, and whether those programs are known: without them, every package of the context
    /// counts. `builds` holds the build arguments each build of it gives (a package named by one,
    /// `cmd/${PKGNAME}`, is each build's program: the image ships any of them).
    pub(super) fn of(
        &self,
        path: &Path,
        dir: &PathBuf,
        builds: &[orchestration::ArgumentBuild],
    ) -> (SourceFacts, bool) {
        let (mut source, known) = self.programs_of(path, dir, builds);
        source.settings_only = settings_copied(&discover::read_text(path).unwrap_or_default(), dir);
        (source, known)
    }

    /// The source facts of [`Programs::of`], before what the Dockerfile copies is read.
    fn programs_of(&self, path: &Path, dir: &PathBuf, builds: &[orchestration::ArgumentBuild]) -> (SourceFacts, bool) {
        let source = self.sources[dir].get_or_init(|| SourceFacts::collect(dir));
        let beside = path.parent().and_then(|p| p.strip_prefix(dir).ok()).map(Path::to_path_buf);
        let beside = beside.unwrap_or_default().to_string_lossy().to_string();
        let is_main = |d: &String| source.packages.get(d).is_some_and(|p| p.main);
        let text = discover::read_text(path).unwrap_or_default();
        // Each build's arguments; one build with none where nothing builds it with any.
        let unargued = [(Vec::new(), Vec::new())];
        let each = if builds.is_empty() { &unargued[..] } else { builds };
        let built = || {
            let module = source.go_mod.as_ref().map(|m| m.module.as_str());
            let mut dirs = Vec::new();
            for (_, args) in each {
                dirs.extend(dockerfile::program_dirs(&text, module, args).filter(|d| d.iter().all(is_main))?);
            }
            dirs.sort();
            dirs.dedup();
            Some(dirs)
        };
        // A binary make builds, by the `main` packages its rule's `go build` names.
        let made = || {
            let makefile = ["Makefile", "makefile", "GNUmakefile"]
                .iter()
                .find_map(|name| discover::read_text(&dir.join(name)).ok())?;
            let mut dirs: Vec<String> = (each.iter().flat_map(|(_, args)| dockerfile::make_targets(&text, args)))
                .flat_map(|target| crate::source::make_builds::built_packages(&makefile, &target))
                .filter(is_main)
                .collect();
            dirs.sort();
            dirs.dedup();
            (!dirs.is_empty()).then_some(dirs)
        };
        // A binary built before the image, or by make, by the `main` package named after it.
        let started = dockerfile::started_names(&text);
        let names = dockerfile::prebuilt_name(&text).map_or_else(|| started.clone(), |n| vec![n]);
        let named = || source.main_package_named(&names).map(|dir| vec![dir]);
        // An image of a repository it clones runs none of this code.
        let own_clone = source.go_mod.as_ref().is_some_and(|m| dockerfile::clones_only_module(&text, &m.module));
        if dockerfile::builds_a_clone(&text) && !own_clone {
            return (source.without_program_code(), false);
        }
        let chosen = Some(vec![beside.clone()]).filter(|b| is_main(&b[0])).or_else(built).or_else(made).or_else(named);
        match chosen {
            Some(dirs) => (source.for_programs(&dirs, &started), true),
            None => self
                .released(source, &names, dir, &started)
                .unwrap_or_else(|| (source.for_programs(std::slice::from_ref(&beside), &started), false)),
        }
    }

    /// The programs each build of the Dockerfile at `path` (`builds`: the images it makes, the
    /// build arguments it gives) ships, where they are known: one Dockerfile built once per
    /// program (`--build-arg PKGNAME=metric-adapter`) makes images that differ by them.
    pub(super) fn of_each_build(
        &self,
        path: &Path,
        dir: &PathBuf,
        builds: &[orchestration::ArgumentBuild],
    ) -> Vec<(String, SourceFacts)> {
        let mut out = Vec::new();
        for (images, args) in builds.iter().filter(|_| builds.len() > 1) {
            if let (source, true) = self.of(path, dir, &[(Vec::new(), args.clone())]) {
                out.extend(images.iter().map(|image| (image.clone(), source.clone())));
            }
        }
        out
    }

    /// The source facts of the binary GoReleaser builds under one of `names`, from its `main`
    /// package in the context `dir` (whose facts are `source`) or in a module of its own
    /// (`dir: httphandler`).
    fn released(
        &self,
        source: &SourceFacts,
        names: &[String],
        dir: &Path,
        started: &[String],
    ) -> Option<(SourceFacts, bool)> {
        let (_, package) = self.released.iter().find(|(binary, _)| names.contains(binary))?;
        let package = self.repo.join(package);
        let module =
            package.ancestors().take_while(|d| d.starts_with(self.repo)).find(|d| d.join("go.mod").is_file())?;
        let main = package.strip_prefix(module).ok()?.to_string_lossy().to_string();
        let is_main = |source: &SourceFacts| source.packages.get(&main).is_some_and(|p| p.main);
        if module == dir {
            return is_main(source).then(|| (source.for_programs(std::slice::from_ref(&main), started), true));
        }
        // Its files are cited from the context where the module is inside it, else from the root.
        let cited = module.strip_prefix(dir).or_else(|_| module.strip_prefix(self.repo)).ok()?.to_string_lossy();
        let own = SourceFacts::collect(module);
        is_main(&own).then(|| (own.for_programs(std::slice::from_ref(&main), started).cited_from(&cited), true))
    }
}

/// The settings files named as credentials (`.npmrc`) a Dockerfile (`text`) copies from its
/// context `dir` that hold no credential, as its COPY names them.
fn settings_copied(text: &str, dir: &Path) -> Vec<String> {
    let Ok(df) = dockerfile::model::Dockerfile::parse(text) else { return Vec::new() };
    let copies = df.stages.iter().flat_map(|s| &s.instructions).filter_map(|i| match &i.body {
        dockerfile::model::Body::Copy(c) if c.from.is_none() => Some(&c.sources),
        _ => None,
    });
    let named = copies.flatten().filter(|s| dockerfile::secrets::is_secret_file(s));
    let settings = |s: &&String| {
        discover::read_text(&dir.join(s.trim_start_matches("./")))
            .is_ok_and(|t| dockerfile::secrets::settings_only(s, &t))
    };
    named.filter(settings).cloned().collect()
}
