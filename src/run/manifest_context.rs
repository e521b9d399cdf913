//! What the rest of the repository tells its manifests: the images its Dockerfiles build (their
//! names, users, writes, file capabilities, why one keeps root; where the project publishes
//! them) and the renders that read manifests into files the repository keeps.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::rules::Severity;
use crate::source::SourceFacts;
use crate::{discover, dockerfile, kubernetes, orchestration};

use super::programs::Programs;
use super::repository::RepositoryFacts;
use super::{FileReport, Status};

/// What a Dockerfile's image does at run time that its manifests must respect: the user it
/// runs as (its final numeric non-root `USER`) and, when its programs are known (`program_known`:
/// the `main` packages it builds), where they write with nothing of the image's own
/// mounted there (the writes of a whole module would name its generators' files); `config`
/// says which rules are turned off (HD106 off keeps the image on root).
pub(super) fn built_image(
    f: &discover::Found,
    source: &SourceFacts,
    program_known: bool,
    config: &Config,
    by_image: Vec<(String, SourceFacts)>,
) -> BuiltImage {
    let Ok(text) = discover::read_text(&f.path) else { return BuiltImage::default() };
    let writes = if program_known { dockerfile::writes::unmounted_writes(&text, source) } else { Vec::new() };
    let image_writes = by_image.into_iter().map(|(image, program)| {
        let program = SourceFacts { orchestration: source.orchestration.clone(), ..program };
        (image, dockerfile::writes::unmounted_writes(&text, &program))
    });
    let image_writes: Vec<_> = image_writes.collect();
    let hardened = dockerfile::harden(&text, source, config);
    let rewritten = match &hardened {
        Ok(crate::outcome::Outcome::Hardened { rewritten: Some(new), .. }) => Some(new),
        _ => None,
    };
    let stays_root = dockerfile::runs_as_root(&text) && rewritten.is_none_or(|new| dockerfile::runs_as_root(new));
    let user = dockerfile::final_numeric_user(&text);
    let gains_user = user.is_none() && rewritten.and_then(|new| dockerfile::final_numeric_user(new)).is_some();
    // Another language's program (a JVM's, rclone's image): where it writes is not read.
    let not_go = matches!(&hardened, Ok(crate::outcome::Outcome::Skipped(why)) if why.starts_with("not a Go build"));
    let not_go = (dockerfile::fetched_program(&text, source.go_mod.as_ref().map(|m| m.module.as_str())))
        .or_else(|| not_go.then(|| "is not a Go build".to_string()));
    let last = dockerfile::model::Dockerfile::parse(&text).ok().and_then(|df| df.stages.last()?.from.alias.clone());
    let home_write = (source.home_writes.first().filter(|_| program_known))
        .map(|w| format!("{}:{} writes under its home directory ({})", w.file, w.found.line, w.found.how));
    BuiltImage {
        user,
        gains_user,
        home_write,
        writes,
        image_writes,
        stays_root,
        // An export on scratch with no command runs nothing that could need root.
        root_kept: dockerfile::root_kept(&text, source, config).filter(|_| !dockerfile::runs_no_program(&text)),
        low_port_setting: dockerfile::low_port_setting(&text, source, config),
        file_capabilities: dockerfile::file_capabilities(&text),
        started_script: dockerfile::started_script(&text, source),
        root_group: dockerfile::root_group_files(&text),
        tmp_files: dockerfile::writes::tmp_files(&text),
        not_go,
        last,
        text,
    }
}

/// What the repository tells its manifests about the images it builds: `built` holds each
/// Dockerfile (relative to the repository) with what it says of its image; `sources` the Go
/// source read for the Dockerfiles, which the programs of `cmd/` are read from too.
pub(super) fn manifest_context(
    built: Vec<(PathBuf, BuiltImage)>,
    facts: &RepositoryFacts,
    repo: &Path,
    sources: &Programs<'_>,
) -> kubernetes::Context {
    let mut context = kubernetes::Context {
        platform_users: facts.platform_users.clone(),
        patched: facts.patched.clone(),
        helm_docs_check: facts.helm_docs_check.clone(),
        helm_schema_check: facts.helm_schema_check.clone(),
        unowned_claims: facts.storage.unowned_claims(),
        unowned_classes: facts.storage.unowned_classes().clone(),
        images_read: true,
        development_root_images: facts.orchestration.development_root_images().iter().cloned().collect(),
        synced_images: facts.orchestration.synced_images().iter().cloned().collect(),
        newest_releases: facts.orchestration.newest_releases(),
        repository_version: std::fs::read_to_string(repo.join("VERSION")).ok().map(|v| v.trim().to_string()),
        ..Default::default()
    };
    // A Windows image runs in no Linux pod: it says nothing of the manifests' containers.
    for (dockerfile, image) in built.iter().filter(|(_, image)| !dockerfile::builds_windows_image(&image.text)) {
        let keyed = facts.orchestration.image_targets(dockerfile).into_iter().flat_map(|(name, target)| {
            let writes = image.writes_of(&name);
            variant_keys(&name, dockerfile, &built, facts).into_iter().map(move |key| (key, target.clone(), writes))
        });
        for (name, target, writes) in keyed {
            context.images_built.insert(name.clone());
            let (user, last) = image.at(target.as_deref());
            // Another target that runs as root ships the same programs (kaniko's executor and
            // warmer beside its final slim stage): what keeps the final one on root keeps it too.
            if let Some(why) = image.root_kept.as_ref().filter(|_| last || user.is_none()) {
                context.image_root.entry(name.clone()).or_insert_with(|| (dockerfile.clone(), why.clone()));
                if let Some(setting) = &image.low_port_setting {
                    context.image_port_settings.entry(name.clone()).or_insert_with(|| setting.clone());
                }
            }
            if let Some(line) = image.root_group.filter(|_| last) {
                let at = format!("{}:{line}", dockerfile.display());
                context.image_root_group.entry(name.clone()).or_insert(at);
            }
            if let Some(script) = image.started_script.as_ref().filter(|_| last) {
                context.image_scripts.entry(name.clone()).or_insert_with(|| (dockerfile.clone(), script.clone()));
            }
            match user {
                Some(user) => {
                    if !context.image_users.contains_key(&name)
                        && let Some(written) = dockerfile::stage_user_name(&image.text, target.as_deref())
                    {
                        context.image_user_names.insert(name.clone(), written);
                    }
                    context.image_users.entry(name.clone()).or_insert(user);
                }
                None => {
                    if let Some(account) = dockerfile::stage_account(&image.text, target.as_deref()) {
                        context.image_accounts.entry(name.clone()).or_insert_with(|| (dockerfile.clone(), account));
                    }
                }
            }
            if !last {
                continue;
            }
            if let Some((line, caps)) = &image.file_capabilities {
                let at = (dockerfile.clone(), *line, caps.clone());
                context.image_file_capabilities.entry(name.clone()).or_insert(at);
            }
            if image.stays_root {
                context.images_staying_root.insert(name.clone());
            } else if image.gains_user {
                context.images_given_users.insert(name.clone());
            }
            if let Some(why) = &image.home_write {
                context.image_home_writes.entry(name.clone()).or_insert_with(|| why.clone());
            }
            if let Some(what) = &image.not_go {
                context.images_not_go.entry(name.clone()).or_insert_with(|| (dockerfile.clone(), what.clone()));
            }
            if let Some((line, path)) = &image.tmp_files {
                context.image_tmp_files.entry(name.clone()).or_insert((dockerfile.clone(), *line, path.clone()));
            }
            context.image_writes.entry(name).or_insert_with(|| writes.to_vec());
        }
    }
    let ko_images = facts.orchestration.ko_images();
    if let Some(user) = facts.orchestration.ko_user() {
        ko_images.iter().for_each(|name| _ = context.image_users.entry(name.clone()).or_insert_with(|| user.clone()));
        context.ko_user = Some(user.clone());
    }
    context.images_built.extend(ko_images);
    // A repository that builds images names them after its programs too (`cmd/interceptors`).
    if !context.images_built.is_empty() {
        let programs = std::fs::read_dir(repo.join("cmd")).into_iter().flatten().flatten();
        let dirs: Vec<String> =
            programs.filter(|e| e.path().is_dir()).filter_map(|e| e.file_name().to_str().map(str::to_string)).collect();
        home_writers(&mut context, &dirs, repo, sources);
        context.images_built.extend(dirs);
    }
    // A stage a manifest's image is named after is that image's target (`--target $*`).
    let targets = built.iter().flat_map(|(_, image)| dockerfile::stage_names(&image.text));
    context.images_built.extend(targets.filter(|name| facts.orchestration.runs_image(name)).collect::<Vec<_>>());
    let mut renamed = facts.renamed_images().map(orchestration::image_name);
    context.project_names = crate::source::GoMod::project_names_in(repo);
    let namespaced = |name: &&String| {
        facts.orchestration.image_paths(name).any(|path| path.contains('/') && !context.foreign_image(path))
    };
    context.own_namespaced = context.images_built.iter().filter(namespaced).cloned().collect();
    context.set_by_scripts = facts.orchestration.replaced_images().collect();
    context.runs_own_images =
        facts.orchestration.runs_any(&context.images_built) || renamed.any(|name| context.images_built.contains(&name));
    context
}

/// The keys the image `name` that `dockerfile` builds is known by: a variant's Dockerfile
/// (`Dockerfile.thick`, `controller.Dockerfile`) is its variant's (`multus-cni#thick`, which a
/// tag naming it, `snapshot-thick`, runs; see `kubernetes::Context::image_key`), and the name's
/// too where no plain `Dockerfile` builds that name.
fn variant_keys(
    name: &str,
    dockerfile: &Path,
    built: &[(PathBuf, BuiltImage)],
    facts: &RepositoryFacts,
) -> Vec<String> {
    let Some(variant) = discover::dockerfile_variant(dockerfile) else { return vec![name.to_string()] };
    let plain = built.iter().any(|(other, _)| {
        discover::dockerfile_variant(other).is_none()
            && facts.orchestration.image_targets(other).iter().any(|(n, _)| n == name)
    });
    let own = format!("{name}#{variant}");
    if plain { vec![own] } else { vec![own, name.to_string()] }
}

/// The programs of `cmd/` (`programs`: their directories' names) that images no Dockerfile here
/// builds are named after, whose code writes under the user's home directory (tsnet's state under
/// `os.UserConfigDir`): their images keep the user they give such a home, as an image built here
/// for the same reason does (HD143), so a container running one gets none of harden's.
fn home_writers(context: &mut kubernetes::Context, programs: &[String], repo: &Path, sources: &Programs<'_>) {
    let unbuilt: Vec<&String> = programs
        .iter()
        .filter(|p| !context.images_built.contains(*p) && !context.image_users.contains_key(*p))
        .collect();
    if unbuilt.is_empty() || !repo.join("go.mod").is_file() {
        return;
    }
    let module = sources.module(repo);
    for program in unbuilt {
        let dir = format!("cmd/{program}");
        let own = module.for_programs(std::slice::from_ref(&dir), &[]);
        if let Some(write) = own.home_writes.first().filter(|_| module.packages.get(&dir).is_some_and(|p| p.main)) {
            let why = format!(
                "{}:{} writes under the program's home directory ({}), which a user its image has no account for does not have (its HOME is /)",
                write.file, write.found.line, write.found.how
            );
            context.image_root.entry(program.clone()).or_insert((PathBuf::from(dir), why));
        }
    }
}

/// What a Dockerfile of the repository says about the image it builds, for the manifests that
/// run it.
#[derive(Default)]
pub(super) struct BuiltImage {
    /// Its numeric non-root user.
    pub(super) user: Option<String>,
    /// What its program writes where the image mounts nothing.
    pub(super) writes: Vec<dockerfile::writes::Written>,
    /// The same for each image a build of it makes with a program of its own (`--build-arg
    /// PKGNAME=metric-adapter`), by the image's name.
    image_writes: Vec<(String, Vec<dockerfile::writes::Written>)>,
    /// Why its program must keep running as root.
    pub(super) root_kept: Option<String>,
    /// The flag or variable that moves its program off the low port that keeps it on root.
    pub(super) low_port_setting: Option<String>,
    /// True when it runs as root and harden's fix of its Dockerfile leaves it so.
    stays_root: bool,
    /// True when it has no numeric user and harden's fix of its Dockerfile gives it one.
    gains_user: bool,
    /// The capabilities `setcap` gives its files, with the step's line.
    pub(super) file_capabilities: Option<(usize, Vec<String>)>,
    /// The script it starts through (`/start.sh`), when it does.
    pub(super) started_script: Option<String>,
    /// The line of the step that gives its files to group 0 (`chgrp -R 0`), when one does.
    pub(super) root_group: Option<usize>,
    /// Where its program writes under its home directory, when it does.
    home_write: Option<String>,
    /// The first file its final stage puts under /tmp, with the step's line.
    tmp_files: Option<(usize, String)>,
    /// Why its program is not read: no Go build, or another project's program built from its source.
    not_go: Option<String>,
    /// The name of its final stage, when it has one.
    last: Option<String>,
    /// The Dockerfile.
    text: String,
}

impl BuiltImage {
    /// What the image named `name` writes: its own program's writes where a build of the
    /// Dockerfile makes it with a program of its own, else the Dockerfile's.
    fn writes_of(&self, name: &str) -> &[dockerfile::writes::Written] {
        self.image_writes.iter().find(|(image, _)| image == name).map_or(&self.writes, |(_, writes)| writes)
    }

    /// What the image a build stops at `target` (`None`: the final stage) runs as, and whether
    /// it is the final stage's image, whose program the writes and the reason to keep root
    /// are about.
    pub(super) fn at(&self, target: Option<&str>) -> (Option<String>, bool) {
        match target {
            Some(t) if !self.last.as_deref().is_some_and(|l| l.eq_ignore_ascii_case(t)) => {
                (dockerfile::stage_numeric_user(&self.text, Some(t)), false)
            }
            _ => (self.user.clone(), true),
        }
    }
}

/// The manifests a render reads (relative to the repository), and what to say when one of them
/// is edited.
pub(super) type StaleRender = (Vec<PathBuf>, String);

/// The renders whose output the repository keeps, each with the manifests it reads (its
/// kustomization's, or its variants') and the note for an edited one.
pub(super) fn stale_renders(owned: &crate::source::owned::Owned, repo: &Path) -> Vec<StaleRender> {
    let mut seen = Vec::new();
    owned
        .kept_renders(repo)
        .into_iter()
        // One render written twice (the branches of an `ifndef`) is told once.
        .filter(|(dir, script, found)| {
            let key = (dir.to_path_buf(), script.to_path_buf(), found.output.clone(), found.rule.clone());
            let new = !seen.contains(&key);
            seen.push(key);
            new
        })
        .map(|(dir, script, found)| {
            let how = match &found.rule {
                Some(rule) => format!("`make {rule}`"),
                None => script.display().to_string(),
            };
            let note = format!(
                "this file is read by `{}` in {}:{}, which writes {}, kept in the repository: run {how} after this change and commit what it writes, or the kept copy lags behind (and any check that it is current fails)",
                found.tool,
                script.display(),
                found.line,
                found.output
            );
            (render_reads(repo, dir), note)
        })
        .collect()
}

/// The manifests operator-sdk renders into an OLM bundle (relative to the repository), each with
/// why OpenShift chooses their user: OperatorHub installs the bundle there, and its restricted
/// SCC gives a pod a user of the namespace's range and refuses one that asks for another.
pub(super) fn bundled(owned: &crate::source::owned::Owned, repo: &Path) -> Vec<StaleRender> {
    (owned.bundle_renders())
        .map(|(dir, script, found)| {
            let why = format!(
                "{}:{} renders it into an OLM bundle (`{}`), which OperatorHub installs on OpenShift",
                script.display(),
                found.line,
                found.tool
            );
            (render_reads(repo, dir), why)
        })
        .collect()
}

/// The manifests a render reads from `dir`: its kustomization's; without one there, those of
/// its variants' (a directory per bundle variant).
fn render_reads(repo: &Path, dir: &Path) -> Vec<PathBuf> {
    super::kustomized::kustomization_inputs(repo, dir).unwrap_or_else(|| {
        let variants = std::fs::read_dir(repo.join(dir)).into_iter().flatten().flatten();
        variants
            .filter_map(|v| super::kustomized::kustomization_inputs(repo, &dir.join(v.file_name())))
            .flatten()
            .collect()
    })
}

/// Notes on the changed manifests whose workloads a generated file the repository keeps holds
/// too (a kustomize build or a script's concatenation, skipped as generated): the generated copy
/// is stale until it is generated again, which a check that generated files are current
/// catches. The note names the script or Makefile that mentions the generated file, when one
/// does.
pub(super) fn stale_copies(reports: &mut [super::FileReport], paths: &[PathBuf], repo: &Path) {
    // Skipped as generated, or as too large to harden and marked generated (a kustomize build of
    // every CRD and workload) or written by a script (`cat crd.yaml operator.yaml > bundle.yaml`).
    let scripts = crate::source::owned::script_texts(repo);
    let generated = |path: &PathBuf, r: &super::FileReport| {
        let why = r.reason.as_deref().filter(|_| r.status == Status::Skipped)?;
        let large = why.starts_with("larger than");
        if !(large || why.starts_with("generated (") || why.starts_with("rendered by `")) {
            return None;
        }
        let text = std::fs::read_to_string(repo.join(path)).ok()?;
        let made = || crate::generated::generated_marker(&text).is_some() || writer(path, &scripts).is_some();
        (!large || made()).then_some(text)
    };
    let copies: Vec<(&PathBuf, Vec<String>)> = paths
        .iter()
        .zip(reports.iter())
        .filter_map(|(path, r)| Some((path, crate::kubernetes::kustomize::workload_ids(&generated(path, r)?))))
        .filter(|(_, ids)| !ids.is_empty())
        .collect();
    if copies.is_empty() {
        return;
    }
    for (path, report) in paths.iter().zip(reports.iter_mut()) {
        let Some(text) = report.original.as_deref().filter(|_| report.status == Status::Changed) else {
            continue;
        };
        if report.findings.iter().any(|f| f.rule == crate::rules::RENDER_INPUT.id) {
            continue;
        }
        // Only the workloads harden changes (their fixed findings name them first).
        let mut ids = crate::kubernetes::kustomize::workload_ids(text);
        ids.retain(|id| report.findings.iter().any(|f| f.fixed && f.message.starts_with(&format!("{id} "))));
        let held: Vec<(&PathBuf, &String)> = copies
            .iter()
            .filter(|(copy, _)| *copy != path)
            .filter_map(|(copy, held)| Some((*copy, ids.iter().find(|id| held.contains(id))?)))
            .collect();
        let Some(&(_, id)) = held.first() else { continue };
        let shown: Vec<String> = held.iter().map(|(copy, _)| copy.display().to_string()).collect();
        // The script is named when one writes them all.
        let generators: Vec<Option<&PathBuf>> = held.iter().map(|(copy, _)| generator(copy, &scripts, repo)).collect();
        let by = match generators.first() {
            Some(Some(script)) if generators.iter().all(|g| g == &Some(*script)) => format!(" by {}", script.display()),
            _ => String::new(),
        };
        let (these, files) = if shown.len() == 1 { ("a file", "it") } else { ("files", "them") };
        let note = format!(
            "{id} is also in {}, {these} generated{by} from the manifests and kept in the repository: generate {files} again after this change and commit {files}, or a check that generated files are current fails",
            shown.join(", ")
        );
        report.findings.insert(0, crate::finding::Finding::new(&crate::rules::RENDER_INPUT, 1, note));
    }
}

/// The script or Makefile that writes the generated file `copy`: the one its generated marker
/// names (`generated … by generate-deployment.sh`), else the first that mentions its path.
fn generator<'a>(copy: &Path, scripts: &'a [(PathBuf, String)], repo: &Path) -> Option<&'a PathBuf> {
    let text = std::fs::read_to_string(repo.join(copy)).unwrap_or_default();
    let marker = crate::generated::generated_marker(&text).unwrap_or_default();
    let named = scripts
        .iter()
        .find(|(script, _)| script.file_name().and_then(|n| n.to_str()).is_some_and(|name| marker.contains(name)));
    let shown = copy.display().to_string();
    let mentions =
        || scripts.iter().find(|(_, text)| text.contains(&format!("/{shown}")) || text.contains(&format!(" {shown}")));
    named.or_else(mentions).map(|(script, _)| script).or_else(|| writer(copy, scripts))
}

/// The script or Makefile that writes `copy` with a shell redirect (`> $(DEPLOYDIR)/bundle.yaml`,
/// matched by the file's name).
fn writer<'a>(copy: &Path, scripts: &'a [(PathBuf, String)]) -> Option<&'a PathBuf> {
    let name = copy.file_name()?.to_str()?;
    let writes = |text: &str| {
        text.split('>').skip(1).filter_map(|after| after.split_whitespace().next()).any(|target| {
            let target = target.trim_matches(['"', '\'', ';']);
            target == name || target.ends_with(&format!("/{name}"))
        })
    };
    scripts.iter().find(|(_, text)| writes(text)).map(|(script, _)| script)
}

/// The reason of a rendered or written manifest, with what hardening it would take, as its
/// analysis says: the rules harden would fix in it (to fix where it is made from), or none.
pub(super) fn made_from(reason: String, report: &FileReport) -> String {
    use crate::source::owned::MADE_FROM;
    let mut fixed: Vec<&str> = report.findings.iter().filter(|f| f.fixed).map(|f| f.rule).collect();
    fixed.sort();
    fixed.dedup();
    match report.status {
        Status::Changed if !fixed.is_empty() => {
            reason.replace(MADE_FROM, &format!("{MADE_FROM} (here harden would fix {})", fixed.join(", ")))
        }
        // Unchanged for lack of problems, or for problems harden leaves where they are made too.
        Status::Unchanged => {
            let mut left: Vec<&str> =
                report.findings.iter().filter(|f| f.severity > Severity::Info).map(|f| f.rule).collect();
            left.sort();
            left.dedup();
            match left.is_empty() {
                true => reason.replace(MADE_FROM, "; it already has what harden would write"),
                false => reason.replace(
                    MADE_FROM,
                    &format!("; harden would change nothing in it either (it leaves {} unfixed)", left.join(", ")),
                ),
            }
        }
        _ => reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_writes_a_file_it_redirects_to() {
        let makefile = "$(DEPLOYDIR)/bundle.yaml: $(DEPLOYDIR)/operator.yaml\n\tcat $(DEPLOYDIR)/crd.yaml > $(DEPLOYDIR)/bundle.yaml; cat $(DEPLOYDIR)/operator.yaml >> $(DEPLOYDIR)/bundle.yaml\n";
        let scripts = vec![
            (PathBuf::from("hack/readme.sh"), "echo deploy/bundle.yaml\n".to_string()),
            (PathBuf::from("Makefile"), makefile.to_string()),
        ];
        assert_eq!(writer(Path::new("deploy/bundle.yaml"), &scripts), Some(&PathBuf::from("Makefile")));
        assert_eq!(writer(Path::new("deploy/operator.yaml"), &scripts), None, "read, not written");
    }

    #[test]
    fn an_unchanged_render_has_what_harden_writes_only_without_problems_left() {
        use crate::finding::Finding;
        use crate::source::owned::MADE_FROM;
        let reason = || format!("rendered by `make manifests`{MADE_FROM}");
        let mut report = FileReport::new("install.yaml".into(), discover::Kind::Kubernetes, Status::Unchanged, None);
        assert_eq!(
            made_from(reason(), &report),
            "rendered by `make manifests`; it already has what harden would write"
        );
        report.findings.push(Finding::new(&crate::rules::RUN_AS_NON_ROOT, 3, "does not set runAsNonRoot: true"));
        assert_eq!(
            made_from(reason(), &report),
            "rendered by `make manifests`; harden would change nothing in it either (it leaves HK201 unfixed)"
        );
    }
}
