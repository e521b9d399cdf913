//! What the repository says about its manifests beyond each file: the images it builds (their
//! users, writes, file capabilities, why one keeps root), where it publishes them, and what
//! kustomize does to the images and workloads of a manifest.

use super::kustomize;

/// The users that images built in the repository run as, by image name (no registry, tag or
/// digest): their Dockerfile's final numeric non-root `USER`. A container running one keeps that
/// user: harden sets no `runAsUser` of its own over it.
pub type ImageUsers = std::collections::BTreeMap<String, String>;

/// What the repository says about its manifests beyond each file.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The users of the images the repository builds.
    pub image_users: ImageUsers,
    /// The user the images ko builds here run as (its base image's), for `ko://` references.
    pub ko_user: Option<String>,
    /// The workloads (`Kind/name`) a kustomize patch asks to run with `runAsNonRoot` and no
    /// user, so the platform (OpenShift) chooses it, with that patch's path: harden sets no user.
    pub platform_users: std::collections::BTreeMap<String, String>,
    /// The accounts images the repository builds run as where their ids are not known (`USER
    /// app` after `adduser -S app`), by image name, with the Dockerfile: no `runAsUser` harden
    /// could choose keeps the image's files its own, and the kubelet cannot check a name under
    /// `runAsNonRoot`.
    pub image_accounts: std::collections::BTreeMap<String, (std::path::PathBuf, String)>,
    /// The `USER` of the images the repository builds as their Dockerfile writes it, by image
    /// name, where it names an account whose ids `image_users` holds (`USER dex:dex` after
    /// `adduser -u 1001`): the kubelet checks only ids under `runAsNonRoot`, and the released
    /// images a manifest pins carry the name, so a pod running one is given the ids.
    pub image_user_names: std::collections::BTreeMap<String, String>,
    /// What the images the repository builds write at run time where their Dockerfile mounts
    /// nothing, by image name: a container of one keeps a writable root unless it mounts a
    /// volume there.
    pub image_writes: std::collections::BTreeMap<String, Vec<crate::dockerfile::writes::Written>>,
    /// Where the program of each image the repository builds writes under its home directory, by
    /// image name (`internal/controller/init.go:30 writes under its home directory (…)`).
    pub image_home_writes: std::collections::BTreeMap<String, String>,
    /// The images the repository builds that are no Go build (a JVM's program, rclone's) or
    /// build another project's program from its source (operator-sdk's helm-operator), by image
    /// name, with their Dockerfile and which: where their program writes harden does not read.
    pub images_not_go: std::collections::BTreeMap<String, (std::path::PathBuf, String)>,
    /// The first file each image the repository builds puts under /tmp, by image name, with its
    /// Dockerfile and the step's line: an emptyDir at /tmp would hide it.
    pub image_tmp_files: std::collections::BTreeMap<String, (std::path::PathBuf, usize, String)>,
    /// The images the repository builds that run as root and stay so after harden's fix of
    /// their Dockerfile (it keeps their runtime, or refuses the user): where their program writes
    /// into the image's own directories, root owns them, and a pod that asks `runAsNonRoot`
    /// without a user does not start them where no platform assigns one.
    pub images_staying_root: std::collections::BTreeSet<String>,
    /// The images the repository builds with no numeric user that harden's fix of their
    /// Dockerfile gives one (`USER 65532:65532`).
    pub images_given_users: std::collections::BTreeSet<String>,
    /// The tags and digests kustomizations give images, by the name the manifests use: such an
    /// image is not untagged or unpinned where it runs.
    pub image_overrides: std::collections::BTreeMap<String, kustomize::ImageOverride>,
    /// The images the repository builds whose program must keep running as root, by image
    /// name, with the Dockerfile and why (harden refused to move it to 65532 there): their
    /// containers keep their user.
    pub image_root: std::collections::BTreeMap<String, (std::path::PathBuf, String)>,
    /// The images development tools (Tilt, DevSpace) build as root, by image name, with the build
    /// that makes them so: they run the manifests with them, where `runAsNonRoot` stops pods.
    pub development_root_images: std::collections::BTreeMap<String, String>,
    /// The images development tools sync files into as they run, by image name, with the build
    /// that does: a read-only root would stop those updates.
    pub synced_images: std::collections::BTreeMap<String, String>,
    /// The newest release each image is run at in the repository's manifests, by its reference
    /// without the tag (see [`Context::newer_release`]).
    pub newest_releases: std::collections::BTreeMap<String, String>,
    /// The release the repository is at, as its `VERSION` file names it (`v0.63.0-dev`).
    pub repository_version: Option<String>,
    /// The flag or variable (`-port`, `PORT`) that moves the program of such an image off the
    /// port below 1024 that keeps it on root, by image name: a container that sets it to 1024 or
    /// more does not keep root for it.
    pub image_port_settings: std::collections::BTreeMap<String, String>,
    /// The scripts the images the repository builds start through (`/start.sh`), with the
    /// Dockerfile, by image name: what a script and what it starts write harden does not read, so
    /// a container that runs one keeps a writable root.
    pub image_scripts: std::collections::BTreeMap<String, (std::path::PathBuf, String)>,
    /// The capabilities `setcap` gives the files of images the repository builds, by image name,
    /// with the Dockerfile and the step's line: lost where new privileges are not allowed.
    pub image_file_capabilities: std::collections::BTreeMap<String, (std::path::PathBuf, usize, Vec<String>)>,
    /// What kustomize patches do to workloads that harden must respect: one that runs a
    /// workload as root would meet harden's `runAsNonRoot` and stop its pods; one that replaces
    /// a securityContext or the volumes would drop what harden adds.
    pub patched: Vec<kustomize::Patched>,
    /// Where the images the repository builds give their files to group 0 (`Dockerfile:12`,
    /// `chgrp -R 0`), by image name: their user runs in root's group on purpose.
    pub image_root_group: std::collections::BTreeMap<String, String>,
    /// The names of every image the repository builds.
    pub images_built: std::collections::BTreeSet<String>,
    /// True where the repository's builds were read (a whole run): only then is an image none of
    /// them makes known to be built elsewhere (the sweep's first look reads no Dockerfile).
    pub images_read: bool,
    /// True when the repository's manifests run images it builds: then an image it does not
    /// build is another project's.
    pub runs_own_images: bool,
    /// The names the repository's own images may be published under: its Go module's host label,
    /// owner and project (`github.com/acme/fleet` → `acme`, `fleet`); empty where no `go.mod`
    /// says.
    pub project_names: Vec<String>,
    /// The names of images built here that the repository's containers also run under a
    /// namespace of the project's (`registry.k8s.io/scheduler-plugins/controller`): an image of
    /// that name under another project's namespace is that project's (see
    /// [`Context::image_key`]).
    pub own_namespaced: std::collections::BTreeSet<String>,
    /// The names a Makefile or script sets to another image with `kustomize edit set image`
    /// (`controller`), or skaffold to the image an artifact builds: placeholders, whatever
    /// kustomization it sets them in (one the recipe makes as it runs, too).
    pub set_by_scripts: std::collections::BTreeSet<String>,
    /// Where the repository checks that its charts' READMEs are what helm-docs makes of their
    /// values (`nix/checks.nix:165`): a chart whose README helm-docs writes gets no values.yaml
    /// change without it.
    pub helm_docs_check: Option<String>,
    /// Where the repository regenerates its charts' `values.schema.json` from their values and
    /// fails on a difference (`helm schema`): a chart with a schema gets no values.yaml change.
    pub helm_schema_check: Option<String>,
    /// The claims bound to a share whose files keep their server's owners (NFS, CephFS), by
    /// claim name, with what each is bound to: the kubelet gives such a volume no fsGroup.
    pub unowned_claims: std::collections::BTreeMap<String, String>,
    /// The StorageClasses whose provisioner makes NFS shares, by name, with where each is.
    pub unowned_classes: std::collections::BTreeMap<String, String>,
    /// The SecurityContextConstraints the repository ships that lists no `seccompProfiles` (its
    /// path): OpenShift refuses a pod that sets a seccomp profile under it, so harden sets none.
    pub seccomp_refused: Option<String>,
    /// The SecurityContextConstraints the repository ships whose volumes allow no emptyDir (its
    /// path): harden mounts no /tmp emptyDir, so it makes no root filesystem read-only.
    pub empty_dir_refused: Option<String>,
    /// Why the manifest is written for OpenShift, whose restricted SCC chooses each pod's user
    /// from a range and refuses one asked for (`deploy/openshift/operator.yaml is OpenShift's`).
    pub openshift: Option<String>,
    /// The directory that makes the manifest an example of running software (`examples`,
    /// `docs`…) or the walkthrough file itself, when one does: see [`super::example_dir`].
    pub example_dir: Option<String>,
    /// The repository's own charts, by name, when none of its scripts and workflows runs
    /// `helm template`: a manifest whose `# Source:` names one of them was rendered once and is
    /// kept by hand since, not rendered again.
    pub hand_kept_charts: std::collections::BTreeSet<String>,
}

impl Context {
    /// The image a container naming `image` runs: the name a kustomization gives it in place of
    /// the one written (`newName`), else `image` itself.
    pub fn running<'a>(&'a self, image: &'a str) -> &'a str {
        self.renaming(image).and_then(|set| set.new_name.as_deref()).unwrap_or(image)
    }

    /// The name of the image a container naming `image` runs (`controller:latest` that a
    /// kustomization, or a Makefile's `kustomize edit set image`, renames to `ghcr.io/acme/op` is
    /// `op`): the key of what the repository knows of the images it builds.
    /// Another project's namesake of an image built here (`localhost:5000/appgroup-controller/
    /// controller` where the repository runs its own `controller` as
    /// `registry.k8s.io/scheduler-plugins/controller`) is keyed by its whole reference, which
    /// names nothing built here.
    ///
    /// A tag that names a variant the repository builds with a Dockerfile of its own
    /// (`multus-cni:snapshot-thick`, `Dockerfile.thick`) keys that variant (`multus-cni#thick`).
    pub fn image_key(&self, image: &str) -> String {
        let running = self.running_reference(image);
        let name = crate::orchestration::image_name(&running);
        if running.contains('/') && self.own_namespaced.contains(&name) && self.foreign_image(&running) {
            return crate::orchestration::without_tag(&running).to_string();
        }
        let path = running.split('@').next().unwrap_or(&running);
        let tag = path.get(crate::orchestration::without_tag(path).len() + 1..).unwrap_or_default();
        let variant = tag.split(['-', '_', '.']).map(|w| format!("{name}#{}", w.to_ascii_lowercase()));
        variant.into_iter().find(|key| self.images_built.contains(key)).unwrap_or(name)
    }

    /// This context for a chart's workloads: without the containers kustomize patches add to
    /// workloads of the same names, or the fields an overlay merges into them, which are in
    /// kustomize's pods, not the chart's.
    pub fn for_chart(&self) -> Context {
        let overlays = [kustomize::Effect::Lists, kustomize::Effect::MergesElsewhere];
        let patched = self.patched.iter().filter(|p| !overlays.contains(&p.effect)).cloned().collect();
        Context { patched, ..self.clone() }
    }

    /// The numeric user of the image a container naming `image` runs, when the repository
    /// builds it (with a Dockerfile, or with ko on a base whose user is known).
    pub fn image_user(&self, image: &str) -> Option<&String> {
        if self.newer_release(image).is_some() {
            return None;
        }
        let by_ko = self.running(image).starts_with("ko://").then_some(self.ko_user.as_ref()).flatten();
        self.image_users.get(&self.image_key(image)).or(by_ko)
    }

    /// Where the image a container naming `image` runs gives its files to group 0, when the
    /// repository builds it so.
    pub fn root_group_files(&self, image: &str) -> Option<&String> {
        self.image_root_group.get(&self.image_key(image))
    }

    /// The account (with its Dockerfile) of the image a container naming `image` runs, when the
    /// repository builds it with a `USER` name whose ids are not known.
    pub fn image_account(&self, image: &str) -> Option<&(std::path::PathBuf, String)> {
        self.image_accounts.get(&self.image_key(image))
    }

    /// The account name the image a container naming `image` runs has for its `USER`, when the
    /// repository builds it with a name whose ids are known (see `image_user_names`).
    pub fn image_user_name(&self, image: &str) -> Option<&String> {
        self.image_user_names.get(&self.image_key(image))
    }

    /// The capabilities `setcap` gives the binary of the image a container naming `image` runs,
    /// when the repository builds it: the Dockerfile, the step's line and the capabilities.
    pub fn file_capabilities(&self, image: &str) -> Option<&(std::path::PathBuf, usize, Vec<String>)> {
        self.image_file_capabilities.get(&self.image_key(image))
    }

    /// [`Context::running`] with the tag it runs with: the kustomization's `newTag`, else the
    /// one written (`kong-placeholder:placeholder` → `kong:3.9`, `operator:v5.16.0` → `v5.24.0`).
    pub fn running_reference(&self, image: &str) -> String {
        let Some(set) = self.renaming(image).filter(|set| set.new_name.is_some() || set.tag.is_some()) else {
            return image.to_string();
        };
        let name = set.new_name.as_deref().unwrap_or_else(|| crate::orchestration::without_tag(image));
        match &set.tag {
            Some(tag) => format!("{name}:{tag}"),
            None => name.to_string(),
        }
    }

    /// True when the repository builds the image a container naming `image` runs (by a
    /// Dockerfile, ko's `ko://` or another build it reads), under the name it runs by.
    pub fn builds(&self, image: &str) -> bool {
        let running = self.running_reference(image);
        running.starts_with("ko://")
            || (self.images_built.contains(&self.image_key(&running)) && self.newer_release(image).is_none())
    }

    /// What says the repository is past the release of an image it builds that a container
    /// naming `image` pins (`ccm:v0.1.33` in a docs example): its manifests run a newer one
    /// (`ccm:v0.1.68`), or its `VERSION` file names a release at least two minor versions on
    /// (`v0.63.0-dev` for `:v0.39.0`; one on is the release being worked on). An older
    /// Dockerfile built that image, whose user and writes today's does not say.
    pub fn newer_release(&self, image: &str) -> Option<String> {
        let running = self.running_reference(image);
        let version = crate::orchestration::release_version(&running)?;
        if !self.images_built.contains(&self.image_key(&running)) {
            return None;
        }
        let newest = self.newest_releases.get(crate::orchestration::without_tag(&running));
        if let Some(newest) = newest.filter(|n| crate::orchestration::release_version(n).is_some_and(|n| n > version)) {
            return Some(format!("its manifests run {newest} too"));
        }
        let at = self.repository_version.as_deref()?;
        let current = crate::orchestration::release_version(&format!("v:{}", at.split('-').next()?))?;
        let (major, minor) = (*current.first()?, current.get(1).copied().unwrap_or(0));
        let older =
            (version.first().copied(), version.get(1).copied().unwrap_or(0)) < (Some(major), minor.saturating_sub(1));
        older.then(|| format!("the repository's VERSION file is at {at}"))
    }

    /// True when an image (`centos/tools`, `ghcr.io/acme/web`) names none of the project's names
    /// in its namespace or its own name (nor holds one: `gcr.io/k8s-staging-fleet`,
    /// `payments/ledger-api`): another project's, where those are known.
    pub fn foreign_image(&self, reference: &str) -> bool {
        let path = crate::orchestration::without_tag(reference).to_ascii_lowercase();
        let ours = |part: &str| self.project_names.iter().any(|name| part.contains(name.as_str()));
        !self.project_names.is_empty() && !path.split('/').any(ours)
    }

    /// The kustomization that runs another image in place of `image` (`newName`), when one does.
    pub fn renamed_by(&self, image: &str) -> Option<&str> {
        self.renaming(image).filter(|set| set.new_name.is_some()).map(|set| set.kustomization.as_str())
    }

    fn renaming(&self, image: &str) -> Option<&kustomize::ImageOverride> {
        self.image_overrides.get(crate::orchestration::without_tag(image))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_is_another_projects_when_nothing_in_its_name_is_the_projects() {
        let mut context = Context { project_names: vec!["acme".into(), "fleet".into()], ..Context::default() };
        assert!(context.foreign_image("centos/tools"));
        assert!(context.foreign_image("quay.io/jetstack/cert-manager-controller:v1.16.0"));
        assert!(!context.foreign_image("ghcr.io/acme/agent:1.0"), "the owner's namespace");
        assert!(!context.foreign_image("gcr.io/k8s-staging-fleet/agent:1.0"), "a namespace holding the project");
        assert!(!context.foreign_image("registry.internal/payments/fleet-api:2.4.0"), "the project's name");
        context.project_names.clear();
        assert!(!context.foreign_image("centos/tools"), "not known without a go.mod");
    }

    #[test]
    fn a_release_two_minor_versions_behind_the_version_file_is_older() {
        let mut context = Context { repository_version: Some("v0.10.0-dev".into()), ..Context::default() };
        context.images_built.insert("ccm".into());
        assert!(context.newer_release("acme/ccm:v0.8.3").is_some_and(|n| n.contains("VERSION file is at v0.10.0-dev")));
        assert!(context.newer_release("acme/ccm:v0.9.2").is_none(), "the last release, while v0.10 is worked on");
        assert!(context.newer_release("acme/other:v0.1.0").is_none(), "not built here");
    }

    #[test]
    fn an_image_runs_with_the_name_and_tag_a_kustomization_gives_it() {
        let set = |tag: Option<&str>, new_name: Option<&str>, digest| kustomize::ImageOverride {
            tag: tag.map(str::to_string),
            digest,
            new_name: new_name.map(str::to_string),
            kustomization: "kustomization.yaml".into(),
            by_script: false,
        };
        let mut context = Context::default();
        context.image_overrides.insert("ghcr.io/acme/operator".into(), set(Some("v5.24.0"), None, false));
        context.image_overrides.insert("controller".into(), set(Some("1.2"), Some("ghcr.io/acme/manager"), false));
        context.image_overrides.insert("ghcr.io/acme/pinned".into(), set(None, None, true));
        assert_eq!(context.running_reference("ghcr.io/acme/operator:v5.16.0"), "ghcr.io/acme/operator:v5.24.0");
        assert_eq!(context.running_reference("controller:latest"), "ghcr.io/acme/manager:1.2");
        assert_eq!(context.running_reference("ghcr.io/acme/pinned:2.0"), "ghcr.io/acme/pinned:2.0", "a digest alone");
        assert_eq!(context.running_reference("ghcr.io/acme/other:1"), "ghcr.io/acme/other:1");
    }
}
