//! The Kubernetes rules: for each workload, the findings and the changes that fix them.
//!
//! This is the one place that decides what harden changes in a pod spec: the Pod Security
//! Standards "restricted" profile, plus the high UID and group that checkov, kube-score and
//! kubesec ask for. What leaves a workload or a container alone is judged in `alone.rs`.

use yaml_serde::Value;

use crate::dockerfile::image::standard_account;
use crate::finding::Finding;
use crate::rules::{self, Rule};
use crate::rules_off::RulesOff;

use super::alone::s6_overlay::s6_overlay_containers;
use super::alone::{
    explicit_root_containers, file_capability_containers, host_needs, others_images, patched,
    privileged_port_containers, root_commands, root_image_built_here, root_image_containers, script_write_containers,
    skipped_containers, socket_sharing_containers, unconfined_containers, unmounted_data_stores,
    volume_owner_containers, windows_pod,
};
use super::change::{Change, Op, Seg, map, path, string};
use super::workload::{Container, Workload};

mod built_elsewhere;
mod capabilities;
mod container_level;
mod container_users;
mod image_pins;
mod left_alone_gaps;
mod non_root;
mod openshift;
pub use openshift::Constraints;
mod patched_fields;
pub mod root_filesystem;
mod unknown_fields;

/// The user and group harden runs pods as (distroless `nonroot`).
pub const NONROOT_ID: u64 = 65532;
/// The name of the volume harden mounts at /tmp when the root filesystem becomes read-only.
const TMP_VOLUME: &str = "tmp";

/// What harden decides about one workload.
pub struct Plan {
    /// Its findings.
    pub findings: Vec<Finding>,
    /// The changes that fix what can be fixed (empty when the workload is left alone).
    pub changes: Vec<Change>,
    /// Containers left alone as asked, as `Kind/name/container`.
    pub opted_out: Vec<String>,
}

/// Marks a finding not fixed, and drops what its message promises the fix sets (`; fix sets it
/// and mounts an emptyDir at /tmp…`): nothing is set on a workload or file left as it is.
pub fn not_fixed(f: &mut Finding) {
    f.fixed = false;
    // A read-only root needs the /tmp volume the fix would have added: the advice keeps it.
    if let Some(kept) = f.message.strip_suffix(root_filesystem::TMP_MOUNTED) {
        f.message = format!("{kept}{}", root_filesystem::TMP_ADVICE);
    } else if let Some(at) = f.message.find("; fix sets") {
        f.message.truncate(at);
    }
}

/// Decides the findings and changes of one workload. `skip` lists `Kind/name` and
/// `Kind/name/container` entries the configuration opts out; `off` the rules turned off for the
/// workload, neither reported nor fixed.
pub fn plan(workload: &Workload<'_>, skip: &[String], off: &RulesOff, context: &super::Context) -> Plan {
    if let Some(windows) = windows_pod(workload) {
        return Plan { findings: vec![windows], changes: Vec::new(), opted_out: Vec::new() };
    }
    let mut findings = Vec::new();
    unknown_fields::findings(workload, &mut findings);
    let host = host_needs(workload, &mut findings).or_else(|| patched(workload, context, &mut findings));
    // What leaves the workload alone (the host it needs, a patch that runs it as root).
    let reasons: Vec<&str> = findings.iter().map(|f: &Finding| f.rule).collect();
    let skipped = skipped_containers(workload, skip);
    let mut alone = skipped.clone();
    // Containers of other projects' images: an official one starting as root, a data store,
    // any other the repository does not build.
    let mut foreign = root_image_containers(workload, &skipped, &mut findings);
    alone.extend(foreign.iter().cloned());
    alone.extend(explicit_root_containers(workload, &alone, &mut findings));
    let s6 = s6_overlay_containers(workload, &alone, &mut findings);
    foreign.extend(s6.iter().cloned());
    alone.extend(s6);
    let stores = unmounted_data_stores(workload, &alone, &context.image_users, &mut findings);
    foreign.extend(stores.iter().cloned());
    alone.extend(stores);
    // Another project's image is told as such before what its port or writes would need.
    let others = others_images(workload, &alone, host.is_some(), context, &mut findings);
    foreign.extend(others.iter().cloned());
    alone.extend(others);
    alone.extend(file_capability_containers(workload, &alone, context, &mut findings));
    alone.extend(privileged_port_containers(workload, &alone, context, &mut findings));
    alone.extend(unconfined_containers(workload, &alone, &mut findings));
    alone.extend(volume_owner_containers(workload, &alone, context, &mut findings));
    alone.extend(script_write_containers(workload, &alone, context, &mut findings));
    alone.extend(root_image_built_here(workload, &alone, context, &mut findings));
    alone.extend(socket_sharing_containers(workload, &alone, &mut findings));
    let handled: Vec<&Container<'_>> = workload.containers.iter().filter(|c| !alone.contains(&c.name)).collect();
    let root_command = root_commands(workload, &mut findings);
    let left_alone = host.is_some() || root_command.is_some() || handled.is_empty();
    let off = &off.clone().and(&patched_fields::answered(workload, context, false));
    // What an overlay merges in is not added, and still told.
    let fixes_off = &off.clone().and(&patched_fields::answered(workload, context, true));
    let mut plan =
        Planner { workload, handled: handled.clone(), changes: Vec::new(), findings, context, off: fixes_off };
    plan.pod_level();
    let mut tmp_mounts = Vec::new();
    for container in handled {
        if plan.container(container) {
            tmp_mounts.push(container);
        }
    }
    plan.tmp_volume(&tmp_mounts);
    // A moving tag is told whoever the image runs as (not of a container opted out).
    for container in workload.containers.iter().filter(|c| alone.contains(&c.name) && !skipped.contains(&c.name)) {
        plan.image(container, &container.who(workload), true);
    }
    let Planner { mut findings, changes, .. } = plan;
    findings.retain(|f| !off.has(f.rule));
    patched_fields::drop_answered(workload, context, &mut findings);
    patched_fields::leave_to_overlays(workload, context, &mut findings);
    findings.sort_by_key(|f| f.line);
    for f in findings.iter_mut().filter(|_| left_alone) {
        not_fixed(f);
        // Beside the need that leaves it alone, what it lacks is told at info: nothing here
        // can change while that need stays.
        if host.is_some() && !reasons.contains(&f.rule) && f.rule != crate::rules::UNKNOWN_SECURITY_FIELD.id {
            f.severity = crate::rules::Severity::Info;
        }
    }
    // In a repository that builds images of its own, a workload of other projects' images only
    // (a development add-on) is theirs to harden: what it lacks is told, not raised as this
    // repository's error. In a repository of deployments, every workload is its own. A field
    // misspelt in the manifest (HK230) is the manifest's own, whatever image it runs.
    if !context.images_built.is_empty() && workload.containers.iter().all(|c| foreign.contains(&c.name)) {
        let images = findings.iter_mut().filter(|f| f.rule != crate::rules::UNKNOWN_SECURITY_FIELD.id);
        images.for_each(|f| f.severity = crate::rules::Severity::Info);
    }
    let mut changes = if left_alone { Vec::new() } else { changes };
    built_elsewhere::leave_users(workload, &alone, context, &mut findings, &mut changes);
    let id = workload.id();
    let opted_out = skipped
        .iter()
        .filter(|name| workload.containers.iter().any(|c| &c.name == *name))
        .map(|n| format!("{id}/{n}"))
        .collect();
    Plan { findings, changes, opted_out }
}

struct Planner<'w, 'a> {
    workload: &'w Workload<'a>,
    /// The containers harden changes: all but those left alone (opted out, or running an
    /// official image that starts as root).
    handled: Vec<&'w Container<'a>>,
    changes: Vec<Change>,
    findings: Vec<Finding>,
    context: &'w super::Context,
    /// The rules turned off for the workload: their fixes are not made.
    off: &'w RulesOff,
}

impl<'w> Planner<'w, '_> {
    fn pod_path(&self, rest: &[&str]) -> Vec<Seg> {
        let mut p = path(self.workload.pod_path);
        p.extend(path(rest));
        p
    }

    /// The path to `rest` inside a container.
    fn in_container(&self, c: &Container<'_>, rest: &[&str]) -> Vec<Seg> {
        let mut p = path(self.workload.pod_path);
        p.push(Seg::Key(c.list.to_string()));
        p.push(Seg::Index(c.index));
        p.extend(path(rest));
        p
    }

    /// True when harden handles every container, so pod-level values reach only those.
    fn whole_pod(&self) -> bool {
        // A container a kustomize patch adds (kubebuilder's kube-rbac-proxy sidecar) is in the
        // pod too, where the patch is built: what the pod level sets reaches it.
        let w = self.workload;
        let added = |name: &String| !w.containers.iter().any(|c| &c.name == name);
        let patched = self.context.patched.iter().filter(|p| p.applies_to(&w.name));
        self.handled.len() == w.containers.len() && !patched.flat_map(|p| &p.containers).any(added)
    }

    /// Sets a pod-level `securityContext` value (`rest` starts with `securityContext`). With a
    /// container left alone, the pod level would reach that container too: the value is set
    /// instead on each handled container that does not set the key itself.
    fn set_for_pod(&mut self, rule: &Rule, rest: &[&str], value: Value) {
        match self.whole_pod() {
            true => self.set(rule, self.pod_path(rest), value),
            false => self.set_in_containers(rule, rest, value),
        }
    }

    /// Sets a `securityContext` value (`rest` starts with `securityContext`) on each handled
    /// container that does not set the key itself.
    fn set_in_containers(&mut self, rule: &Rule, rest: &[&str], value: Value) {
        let key = rest[1];
        let lacking: Vec<Vec<Seg>> = self
            .handled
            .iter()
            .filter(|c| c.value.get("securityContext").and_then(|s| s.get(key)).is_none())
            .map(|c| self.in_container(c, rest))
            .collect();
        for p in lacking {
            self.set(rule, p, value.clone());
        }
    }

    /// Sets the value at `path`, as the fix of `rule`: nothing when the rule is turned off here.
    fn set(&mut self, rule: &Rule, path: Vec<Seg>, value: Value) {
        if !self.off.has(rule.id) {
            self.changes.push(Change { doc: self.workload.doc, path, op: Op::Set(value) });
        }
    }

    /// Appends the value to the sequence at `path`, as the fix of `rule`: nothing when the rule
    /// is turned off here.
    fn append(&mut self, rule: &Rule, path: Vec<Seg>, value: Value) {
        if !self.off.has(rule.id) {
            self.changes.push(Change { doc: self.workload.doc, path, op: Op::Append(value) });
        }
    }

    fn finding(&mut self, rule: &Rule, line: usize, message: String, fixed: bool) {
        let mut f = Finding::new(rule, line, message);
        f.fixed = fixed;
        self.findings.push(f);
    }

    /// A finding at info: a choice the manifest made on purpose, which harden leaves (an
    /// explicit user below 10000 is no breach of the restricted profile).
    fn note(&mut self, rule: &Rule, line: usize, message: String) {
        let severity = crate::rules::Severity::Info;
        self.findings.push(Finding { severity, ..Finding::new(rule, line, message) });
    }

    fn pod_level(&mut self) {
        let w = self.workload;
        let id = w.id();
        let line = w.line;
        let sc = w.pod_value.get("securityContext");
        let get = |key: &str| sc.and_then(|s| s.get(key));
        let whole_pod = self.whole_pod();
        // The containers whose choices count: those harden handles; of a workload left alone,
        // every container it has.
        let considered: Vec<&Container<'_>> = match self.handled.is_empty() {
            true => w.containers.iter().collect(),
            false => self.handled.clone(),
        };
        let containers_user: Vec<u64> =
            considered.iter().filter_map(|c| c.value.get("securityContext")?.get("runAsUser")?.as_u64()).collect();

        let explicit_root = get("runAsUser").and_then(Value::as_u64) == Some(0); // (containers: left alone)
        // A value every considered container sets for itself needs no pod-level twin.
        let every_container = |key: &str, ok: &dyn Fn(&Value) -> bool| {
            let set = |c: &&Container<'_>| c.value.get("securityContext").and_then(|s| s.get(key)).is_some_and(ok);
            !considered.is_empty() && considered.iter().all(set)
        };
        let containers_non_root = every_container("runAsNonRoot", &|v| v.as_bool() == Some(true));
        let containers_users = every_container("runAsUser", &|v| v.as_u64().is_some_and(|uid| uid > 0));
        let containers_seccomp = every_container("seccompProfile", &|v| {
            matches!(v.get("type").and_then(Value::as_str), Some("RuntimeDefault" | "Localhost"))
        });
        let platform = self.platform_chooses_user();
        let why = platform.as_deref().unwrap_or_default();
        self.pod_non_root(explicit_root, containers_non_root, containers_users, platform.as_deref());
        let (mut set_user, mut user_per_container, mut users_given) = (false, false, false);
        match get("runAsUser").and_then(Value::as_u64) {
            Some(0) => self.finding(
                &rules::EXPLICIT_ROOT,
                line,
                format!(
                    "{id} sets runAsUser: 0; the containers that take it run as root on purpose and are left alone: dropping their capabilities or making their root filesystem read-only could stop a program that needs root"
                ),
                false,
            ),
            Some(uid) if uid < 10000 => self.note(
                &rules::RUN_AS_USER,
                line,
                format!("{id} runs as user {uid}, below 10000; harden never overrides an explicit user"),
            ),
            Some(_) => {}
            // Told at info: the platform's choice is the right one there, nothing to fix.
            None if containers_user.is_empty() && platform.is_some() => self.note(
                &rules::RUN_AS_USER,
                line,
                format!("{id} does not set runAsUser: {why}, so the platform (OpenShift) chooses the user; harden sets none"),
            ),
            None if containers_user.is_empty() && self.images_users_known() => {
                // Images whose USER is a name get its ids on their containers; the rest keep
                // the image's user.
                let handled = self.handled.clone();
                let numbered: Vec<&Container<'_>> = handled.into_iter().filter(|c| !self.give_named_ids(c)).collect();
                let mut images: Vec<String> = numbered
                    .iter()
                    .filter_map(|c| self.image_user(c))
                    // As it runs: with the tag a kustomization gives it.
                    .map(|(image, user)| format!("{} (as {user})", self.context.running_reference(&image)))
                    .collect();
                images.sort();
                images.dedup();
                if !images.is_empty() {
                    let message = format!(
                        "{id} does not set runAsUser; it runs {}, built here with a non-root user, which harden leaves to the image",
                        images.join(", ")
                    );
                    // Nothing is wrong that the file should fix: the image says who runs (with or
                    // without runAsNonRoot beside it).
                    self.note(&rules::RUN_AS_USER, line, message);
                }
            }
            // runAsNonRoot set without a user leaves the uid to the image, or to the platform
            // (OpenShift assigns one from the namespace's range and refuses others).
            // (Told at info: the restricted profile asks for no user, and the kubelet holds the
            // image to runAsNonRoot.)
            None if containers_user.is_empty() && get("runAsNonRoot").and_then(Value::as_bool) == Some(true) => {
                self.non_root_without_user(format!("{id} sets"), line, &self.handled.clone())
            }
            None if containers_user.is_empty() && containers_non_root => {
                self.non_root_without_user(format!("{id}'s containers set"), line, &self.handled.clone())
            }
            None if let Some(account) = self.any_unknown_account().filter(|_| containers_user.is_empty()) => {
                self.finding(&rules::RUN_AS_USER, line, format!("{id} does not set runAsUser: {account}"), false)
            }
            None if containers_user.is_empty() && whole_pod && self.handled.iter().all(|c| self.image_user(c).is_none()) => {
                self.finding(&rules::RUN_AS_USER, line, format!("{id} does not set runAsUser"), true);
                self.set(&rules::RUN_AS_USER, self.pod_path(&["securityContext", "runAsUser"]), NONROOT_ID.into());
                // A user set elsewhere (a patch, the rule turned off) has a group harden does not know.
                set_user = !self.off.has(rules::RUN_AS_USER.id);
            }
            None if !explicit_root => {
                users_given = self.user_for_each();
                user_per_container = true;
            }
            None => {}
        }
        // With a user per container, the containers that chose a user without a group are the
        // ones left to tell about.
        let group_left_out = |c: &&Container<'_>| {
            let sc = c.value.get("securityContext");
            sc.and_then(|s| s.get("runAsUser")).is_some() && sc.and_then(|s| s.get("runAsGroup")).is_none()
        };
        let groups_complete = user_per_container && !self.handled.iter().any(group_left_out);
        // Images built here with `USER uid:gid` (or nobody's or nonroot's uid, whose account has
        // its group) give their containers the group already.
        let gives_group = |user: &str| user.contains(':') || user.parse().is_ok_and(standard_account);
        let images_give_groups = get("runAsUser").is_none()
            && containers_user.is_empty()
            && !self.handled.is_empty()
            && self.handled.iter().all(|c| self.image_user(c).is_some_and(|(_, user)| gives_group(&user)));
        // runAsNonRoot without a user leaves the user, and so its group, to the image (one built
        // here with a user and no group runs in root's group: told either way).
        let user_left_to_image = get("runAsUser").is_none()
            && containers_user.is_empty()
            && (get("runAsNonRoot").and_then(Value::as_bool) == Some(true) || containers_non_root)
            && !self.images_users_known();
        // A pod that runs as root on purpose (`runAsUser: 0`) has root's group: nothing to match.
        if get("runAsGroup").is_none()
            && !explicit_root
            && !groups_complete
            && !images_give_groups
            && !user_left_to_image
            && platform.is_none()
        {
            // A uid ko's base has no account for runs in group 0: its own number is its group.
            let one_user = containers_user.windows(2).all(|w| w[0] == w[1]);
            let chosen =
                get("runAsUser").and_then(Value::as_u64).or(containers_user.first().copied().filter(|_| one_user));
            let ko_group = chosen.filter(|uid| !set_user && self.ko_user_without_account(*uid));
            let fixable =
                set_user || get("runAsUser").and_then(Value::as_u64) == Some(NONROOT_ID) || ko_group.is_some();
            // An image built here with a uid and no group runs in group 0, root's: said, with
            // the group to set.
            let groupless =
                self.handled.iter().filter_map(|c| self.image_user(c)).find(|(_, u)| {
                    !u.contains(':') && u.parse::<u64>().is_ok_and(|uid| uid > 0 && !standard_account(uid))
                });
            let image_groupless = groupless.is_some();
            // An image that gives its files to group 0 runs in it on purpose (OpenShift's way).
            let root_group = groupless.as_ref().and_then(|(image, uid)| {
                let at = self.context.root_group_files(image)?;
                Some(format!("{id} does not set runAsGroup; {image} runs as {uid} with no group in its USER, and {at} gives its files to group 0, root's (OpenShift's pattern for whatever uid the platform picks): leave runAsGroup unset, or 0, which that pattern expects"))
            });
            let why = match (fixable, groupless, get("runAsUser").and_then(Value::as_u64)) {
                _ if let Some(uid) = ko_group => format!(
                    "; it runs as {uid}, which has no account in the base ko builds its image on, so in group 0, root's; fix sets runAsGroup: {uid}"
                ),
                (true, ..) => String::new(),
                (false, Some((image, uid)), _) => format!(
                    "; {image} runs as {uid} with no group in its USER, so in the group the image's account for {uid} has, else in group 0 (root's): set runAsGroup: {uid}"
                ),
                (false, None, Some(uid)) => {
                    format!("; the pod runs as {uid}, in the group the image's account for {uid} has, else in group 0 (root's): set runAsGroup to that user's group")
                }
                // A container's own user names the group to look for (its files' group).
                (false, None, None) => match containers_user.first() {
                    Some(uid) => format!(
                        "; its containers run as {uid}, in the group the image's account for that uid has, else in group 0 (root's): set runAsGroup to that user's group"
                    ),
                    None => "; the pod runs in the group the image gives its user, else in group 0 (root's): set runAsGroup to that user's group"
                        .to_string(),
                },
            };
            // nobody's and distroless's nonroot accounts carry their own group, which the runtime
            // takes from the image's passwd: setting it is only to be sure.
            let pod_user = get("runAsUser").and_then(Value::as_u64);
            let same = containers_user.len() == considered.len() && containers_user.windows(2).all(|w| w[0] == w[1]);
            let user = pod_user.or(containers_user.first().copied().filter(|_| same));
            match user.filter(|uid| !fixable && !image_groupless && standard_account(*uid)) {
                _ if !fixable && let Some(message) = root_group => self.note(&rules::RUN_AS_GROUP, line, message),
                Some(uid) => self.note(
                    &rules::RUN_AS_GROUP,
                    line,
                    format!(
                        "{id} does not set runAsGroup; {} as {uid}, whose account in most images ({}) has group {uid}, which the runtime takes from the image: set runAsGroup: {uid} to be sure",
                        if pod_user.is_some() { "the pod runs" } else { "its containers run" },
                        if uid == 65532 { "distroless's nonroot" } else { "nobody" }
                    ),
                ),
                None => self.finding(&rules::RUN_AS_GROUP, line, format!("{id} does not set runAsGroup{why}"), fixable),
            }
            if fixable {
                let group = ko_group.unwrap_or(NONROOT_ID);
                self.set_for_pod(&rules::RUN_AS_GROUP, &["securityContext", "runAsGroup"], group.into());
            }
        }
        // Persistent volumes keep their owner: with a user harden chose, the volume is given
        // the user's group, or the program could not write its own data.
        if (set_user || users_given)
            && !self.handled.is_empty()
            && get("fsGroup").is_none()
            && w.mounts_persistent_volume()
        {
            // fsGroup is the pod's alone (a container has no such field): with a container left
            // alone it would regroup that container's volumes too (a data store that wants its
            // directory 0700), so it is only reported.
            if self.whole_pod() {
                self.finding(
                    &rules::FS_GROUP,
                    line,
                    format!("{id} mounts a persistent volume and sets no fsGroup; fix sets fsGroup: {NONROOT_ID}, so the volume is given the new user's group (where its driver applies fsGroup, as most do; a hostPath volume keeps its owner)"),
                    true,
                );
                self.set(&rules::FS_GROUP, self.pod_path(&["securityContext", "fsGroup"]), NONROOT_ID.into());
            } else {
                self.finding(
                    &rules::FS_GROUP,
                    line,
                    format!("{id} mounts a persistent volume and sets no fsGroup; not fixed: fsGroup is the pod's, and would regroup the volumes of the containers harden leaves alone too; give the volume the user {NONROOT_ID}'s group where it is prepared"),
                    false,
                );
            }
        }
        let seccomp = get("seccompProfile").and_then(|s| s.get("type")).and_then(Value::as_str);
        match seccomp {
            Some("RuntimeDefault" | "Localhost") => {}
            // Unconfined in so many words is a need (its containers are left alone for it).
            Some(other) => self.finding(
                &rules::SECCOMP,
                line,
                format!("{id} sets seccompProfile {other} on purpose; harden leaves it"),
                false,
            ),
            None if containers_seccomp => {}
            None if let Some(scc) = &self.context.seccomp_refused => self.finding(
                &rules::SECCOMP,
                line,
                format!("{id} sets no seccompProfile; not fixed: {scc} grants a SecurityContextConstraints that lists no seccompProfiles, and OpenShift refuses a pod that sets one under it (list runtime/default there, and harden sets it)"),
                false,
            ),
            None => {
                self.finding(&rules::SECCOMP, line, format!("{id} sets no seccompProfile"), true);
                self.set_for_pod(
                    &rules::SECCOMP,
                    &["securityContext", "seccompProfile"],
                    map([("type", string("RuntimeDefault"))]),
                );
            }
        }
        self.left_alone_gaps();
    }
}
