//! One template's workloads, each analysed as a manifest's is, its changes to securityContexts
//! moved to the `values.yaml` entries the template takes them from. Pure.

use std::collections::BTreeMap;

use crate::config::Config;
use crate::finding::Finding;
use crate::lines::LineIndex;
use crate::orchestration::helm::{self, Rendered};
use crate::rules;
use crate::rules_off::RulesOff;

use super::super::analyse::root_filesystem::TMP_MOUNTED;
use super::super::change::{Change, Op, Seg};
use super::super::{Context, analyse, services, tree, workload};

/// What a finding on a read-only root says where the template would have to mount /tmp.
pub(super) const TEMPLATE_MOUNTS_TMP: &str = "; harden leaves it: the template would have to mount a /tmp volume";

/// A change moved to `values.yaml`: the values path of the security context, the keys inside it,
/// and what is done there.
pub(super) type Moved = (Vec<String>, Vec<String>, Op);

/// One workload of a template, with where its security contexts come from.
pub(super) struct Planned {
    /// The template, as messages name it.
    pub(super) who: String,
    /// The workload (`Deployment/*-agent`).
    pub(super) id: String,
    /// Its findings.
    pub(super) findings: Vec<Finding>,
    /// Its changes, as changes to `values.yaml`: the values path a security context comes from,
    /// the path inside it, and what; or why one has no place there.
    pub(super) changes: Result<Vec<Moved>, String>,
    /// The `values.yaml` paths its security contexts come from (the pod's first).
    pub(super) sources: Vec<Vec<String>>,
    /// The `values.yaml` path the pod's securityContext comes from.
    pub(super) pod_source: Option<Vec<String>>,
    /// The rendered line of the workload and of each container, with the values path of its
    /// security context, so that a finding points at the entry it is about.
    pub(super) lines: Vec<(usize, Vec<String>)>,
    /// The rendered line of each finding that the template writes as it is, with its line in
    /// the template: where a finding values.yaml has no entry for is set.
    pub(super) written: Vec<(usize, usize)>,
}

impl Planned {
    /// The workload of `among` this one of `mine` is, rendered otherwise: the one of the same
    /// template and id, else the one in its place among the template's workloads of its kind
    /// when both renders hold as many (a name an inline `{{ if }}` spells otherwise,
    /// `csi-oci{{ if .Values.handle }}-{{ .Values.handle }}{{ end }}-node`).
    pub(super) fn twin<'p>(&self, among: &'p [Planned], mine: &[Planned]) -> Option<&'p Planned> {
        let exact = among.iter().find(|o| o.who == self.who && o.id == self.id);
        let kind = |p: &Planned| p.id.split('/').next().map(str::to_string);
        let alike = |o: &&Planned| o.who == self.who && kind(o) == kind(self);
        let (theirs, ours): (Vec<&Planned>, Vec<&Planned>) =
            (among.iter().filter(alike).collect(), mine.iter().filter(alike).collect());
        let place = ours.iter().position(|o| std::ptr::eq(*o, self)).filter(|_| theirs.len() == ours.len());
        exact.or_else(|| theirs.get(place?).copied())
    }
}

/// Each line of `rendered` (1-based) that is a line of `template` as written, with that line.
fn written_lines(template: &str, rendered: &str) -> BTreeMap<usize, usize> {
    let diff = similar::TextDiff::from_lines(template, rendered);
    let equal = diff.ops().iter().filter(|op| op.tag() == similar::DiffTag::Equal);
    equal.flat_map(|op| op.old_range().zip(op.new_range())).map(|(t, r)| (r + 1, t + 1)).collect()
}
/// The workloads of one template (`template`, rendered as `rendered`), each analysed, its changes
/// moved to `values.yaml`; `chart` holds every template of the chart (path and text), where the
/// helpers it calls may be defined.
pub(super) fn plan_template(
    path: &str,
    template: &str,
    chart: &[(String, String)],
    rendered: &Rendered,
    config: &Config,
    context: &Context,
) -> Result<Vec<Planned>, String> {
    let text = &rendered.text;
    let docs = super::super::parse(text).map_err(|e| format!("line {}: {}", e.line, e.message))?;
    let nodes = super::super::align(&docs, tree::documents(text)?);
    let lines = LineIndex::new(text);
    let supplied = supplies_containers(template);
    let template_lines = written_lines(template, text);
    let ranged = ranged_containers(template);
    let mut planned = Vec::new();
    for (i, (value, node)) in docs.iter().zip(&nodes).enumerate() {
        let Some(node) = node else { continue };
        let Some(mut workload) = workload::find(text, &lines, i, value, node) else { continue };
        // A name the template makes (`{{ include "ledger.fullname" . }}`) is a wildcard.
        workload.name = workload.name.replace(helm::UNKNOWN, "*");
        for c in &mut workload.containers {
            c.name = c.name.replace(helm::UNKNOWN, "*");
        }
        workload.service_ports = services::low_ports(&docs, &workload);
        let who = path.to_string();
        let off = RulesOff::configured(config).and(&[rules::IMAGE_TAG.id, rules::IMAGE_DIGEST.id]);
        let plan = analyse::plan(&workload, &config.kubernetes.skip, &off, context);
        let block_of = |node: Option<&tree::Node>| {
            let at = node?.range().start;
            rendered.blocks.iter().find(|b| b.range.contains(&at)).map(|b| b.path.clone())
        };
        let pod = block_of(workload.pod.get("securityContext"));
        let containers: BTreeMap<(&str, usize), Option<Vec<String>>> =
            workload.containers.iter().map(|c| ((c.list, c.index), block_of(c.node.get("securityContext")))).collect();
        let sources: Vec<Vec<String>> = pod.iter().chain(containers.values().flatten()).cloned().collect();
        let lines: Vec<(usize, Vec<String>)> = pod
            .iter()
            .map(|p| (workload.line, p.clone()))
            .chain(
                workload.containers.iter().filter_map(|c| Some((c.line, containers.get(&(c.list, c.index))?.clone()?))),
            )
            .collect();
        // Where the template gives the pod no securityContext of its own but each container one
        // from values, what the pod would get goes to each container (the fields both have).
        let every_container: Option<Vec<Vec<String>>> =
            workload.containers.iter().map(|c| containers.get(&(c.list, c.index)).cloned().flatten()).collect();
        let pod_unwritten = workload.pod.get("securityContext").is_none();
        let move_one = |c: &Change| -> Result<Vec<Moved>, String> {
            let rest = &c.path[workload.pod_path.len()..];
            let key = |s: &Seg, k: &str| matches!(s, Seg::Key(key) if key == k);
            // A list item (`drop: [NET_RAW]` becoming `[ALL]`) is written `[0]`.
            let keys = |after: &[Seg]| -> Vec<String> {
                let key = |s: &Seg| match s {
                    Seg::Key(k) => k.clone(),
                    Seg::Index(i) => format!("[{i}]"),
                };
                after.iter().map(key).collect()
            };
            let (source, after, written, what) = match rest {
                [first, after @ ..] if key(first, "securityContext") => {
                    let written = workload.pod.get("securityContext").is_some();
                    let in_containers = after.first().is_some_and(|k| CONTAINER_FIELDS.iter().any(|f| key(k, f)));
                    // Containers the chart's users add through values run under the pod's user
                    // too: the user goes to harden's own containers, so a root init container of
                    // theirs still starts.
                    let user = after.first().is_some_and(|k| USER_FIELDS.iter().any(|f| key(k, f)));
                    let route = (pod.is_none() && pod_unwritten && in_containers) || (supplied && user);
                    if let Some(sources) = every_container.as_ref().filter(|_| route) {
                        let inside = keys(after);
                        return Ok(sources.iter().map(|s| (s.clone(), inside.clone(), c.op.clone())).collect());
                    }
                    (pod.clone(), after, written, format!("{}'s pod", workload.id()))
                }
                [Seg::Key(list), Seg::Index(i), sc, after @ ..] if key(sc, "securityContext") => {
                    let c = workload.containers.iter().find(|c| c.list == list && c.index == *i);
                    let written = c.is_some_and(|c| c.node.get("securityContext").is_some());
                    let name = c.map_or_else(|| "a container".to_string(), |c| format!("container {}", c.name));
                    let source = containers.get(&(list.as_str(), *i)).cloned().flatten();
                    (source, after, written, name)
                }
                _ => return Err(format!("harden would add {} to the template, which it does not edit", field(rest))),
            };
            let source = source.ok_or_else(|| match written {
                true => format!(
                    "harden finds no values.yaml entry written whole as the securityContext of {what}: the template writes it itself, or through a helper or variable harden does not follow"
                ),
                false => format!("the template gives {what} no securityContext from values.yaml"),
            })?;
            Ok(vec![(source, keys(after), c.op.clone())])
        };
        let move_all = |changes: &[Change]| -> Result<Vec<Moved>, String> {
            changes.iter().map(move_one).collect::<Result<Vec<_>, _>>().map(|moved| moved.concat())
        };
        // Two containers whose securityContext is one values entry (a sidecar beside the
        // program) take the same changes or none: a change one needs would reach the other.
        let shared_entry = |planned_changes: &[Change]| {
            let mut own: BTreeMap<(&str, usize), Vec<Moved>> = BTreeMap::new();
            for c in planned_changes {
                if let [Seg::Key(list), Seg::Index(i), ..] = &c.path[workload.pod_path.len()..] {
                    own.entry((list.as_str(), *i)).or_default().extend(move_one(c).unwrap_or_default());
                }
            }
            let name = |(list, index): &(&str, usize)| {
                let c = workload.containers.iter().find(|c| c.list == *list && c.index == *index);
                c.map_or_else(String::new, |c| c.name.clone())
            };
            let empty = Vec::new();
            let same =
                |a: &Vec<Moved>, b: &Vec<Moved>| a.iter().all(|m| b.contains(m)) && b.iter().all(|m| a.contains(m));
            let shared: Vec<_> = containers.iter().filter_map(|(k, s)| Some((k, s.as_ref()?))).collect();
            for (i, (a, source)) in shared.iter().enumerate() {
                for (b, other) in &shared[i + 1..] {
                    if source == other && !same(own.get(*a).unwrap_or(&empty), own.get(*b).unwrap_or(&empty)) {
                        return Some(format!(
                            "values.yaml's {} is the securityContext of both container {} and container {}, which harden would not change the same way",
                            source.join("."),
                            name(a),
                            name(b)
                        ));
                    }
                }
            }
            None
        };
        let mut findings = plan.findings;
        let mut changes = move_all(&plan.changes);
        if let Some(why) = shared_entry(&plan.changes).filter(|_| changes.is_ok()) {
            changes = Err(why);
        }
        // The pod's user fields that go into the containers' entries are told there.
        if supplied && every_container.is_some() && changes.is_ok() {
            const WHERE: &str = " (set in the securityContext of each of the chart's containers: a pod-level one would bind the containers its users add through values too)";
            let pod_user_rules = [rules::RUN_AS_NON_ROOT.id, rules::RUN_AS_USER.id, rules::RUN_AS_GROUP.id];
            let pod_level =
                |f: &Finding| f.fixed && pod_user_rules.contains(&f.rule) && !f.message.contains(" container ");
            for f in findings.iter_mut().filter(|f| pod_level(f)) {
                f.message.push_str(WHERE);
            }
        }
        // A read-only root comes with a /tmp volume the template would have to mount: without it
        // the rest still goes in, and the root stays writable (said).
        if changes.is_err() {
            let without =
                analyse::plan(&workload, &config.kubernetes.skip, &off.and(&[rules::WRITABLE_ROOT.id]), context);
            match (move_all(&without.changes), shared_entry(&without.changes)) {
                // Without the volume, the entry two containers share is what stops it.
                (Ok(_), Some(why)) => changes = Err(why),
                (Ok(moved), None) => {
                    for f in findings.iter_mut().filter(|f| f.rule == rules::WRITABLE_ROOT.id && f.fixed) {
                        f.fixed = false;
                        f.message = f.message.replace(TMP_MOUNTED, TEMPLATE_MOUNTS_TMP);
                    }
                    changes = Ok(moved);
                }
                (Err(_), _) => {}
            }
        }
        // A securityContext a helper writes is not known: what harden would say of it may be
        // false (a merge of values harden does not follow), so only that is said.
        let helper_written = |node: &tree::Node| {
            node.entry("securityContext").is_some_and(|e| {
                text[e.key_range.end..].lines().nth(1).is_some_and(|l| l.trim() == helm::HELPER_WRITTEN)
            })
        };
        if helper_written(workload.pod) || workload.containers.iter().any(|c| helper_written(c.node)) {
            let why = format!(
                "a helper or a value changed on the way (include, merge, unset) writes a securityContext of {}, which harden does not render, so it is not checked",
                workload.id()
            );
            // (HK228 says so, where the workload's changes are told.)
            findings = Vec::new();
            changes = Err(why);
        }
        // Containers a `range` makes are not rendered: what harden would say or set of the pod
        // would not have seen them (a privileged node plugin per protocol).
        if let Some(line) = ranged {
            let why = format!(
                "the template makes containers of {} in a `range` over values (line {line}), which harden does not render, so they are not checked",
                workload.id()
            );
            findings = Vec::new();
            changes = Err(why);
        }
        // A value that would take the template's own securityContext from every user stays empty.
        let fallback_taken = |moved: &Vec<Moved>| {
            moved.iter().find_map(|(entry, ..)| super::fallback::replaced_fallback(template, entry))
        };
        if let Some(why) = changes.as_ref().ok().and_then(fallback_taken) {
            changes = Err(why);
        }
        let written = findings.iter().filter_map(|f| Some((f.line, *template_lines.get(&f.line)?))).collect();
        planned.push(Planned { who, id: workload.id(), findings, changes, sources, pod_source: pod, lines, written });
    }
    // A workload whose pod spec a helper writes (`{{- include "capsule.pod" . | nindent 6 }}`)
    // is not checked: said, not passed over in silence.
    let kind_from_value = templated_kind(template);
    let helper_only = only_helpers(template);
    if planned.is_empty() && (holds_workload(text) || kind_from_value.is_some() || helper_only.is_some()) {
        let why = match (kind_from_value, helper_only) {
            (Some(line), _) => format!(
                "the template makes its workload's kind from a value ({line}), which harden does not render, so it is not checked"
            ),
            (None, Some(helper)) => match defined_in(chart, &helper) {
                Some(file) => format!(
                    "the template only calls {helper}, defined in {file}, whose workloads harden does not render, so they are not checked"
                ),
                None => format!(
                    "the template only calls {helper}, whose workloads (a `.tpl` helper's, or a library chart's, such as one Chart.yaml's dependencies fetch at install) harden does not render, so they are not checked"
                ),
            },
            (None, None) => "the template makes a workload whose pod spec a helper writes, which harden does not render, so it is not checked".to_string(),
        };
        planned.push(Planned {
            who: path.to_string(),
            id: String::new(),
            findings: Vec::new(),
            changes: Err(why),
            sources: Vec::new(),
            pod_source: None,
            lines: Vec::new(),
            written: Vec::new(),
        });
    }
    Ok(planned)
}
/// The pod securityContext fields a container's securityContext has too, so that a pod the
/// template gives none gets them through each of its containers.
const CONTAINER_FIELDS: &[&str] = &["runAsNonRoot", "runAsUser", "runAsGroup", "seccompProfile"];

/// The pod securityContext fields that decide who every container runs as.
const USER_FIELDS: &[&str] = &["runAsNonRoot", "runAsUser", "runAsGroup"];

/// True when a template takes containers from values (`{{- toYaml .Values.initContainers }}`,
/// `extraContainers`, `sidecars`): containers harden cannot see, which the chart's users write.
fn supplies_containers(template: &str) -> bool {
    template.match_indices(".Values.").any(|(at, found)| {
        let path: String = template[at + found.len()..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '.' || *c == '_')
            .collect();
        let last = path.rsplit('.').next().unwrap_or_default().to_ascii_lowercase();
        last.ends_with("containers") || last.starts_with("sidecar")
    })
}

/// The line of a `range` whose body names a container's image (`{{- range .Values.protocols }}`
/// over `- name:` … `image:`), when the template has one: containers harden does not render.
fn ranged_containers(template: &str) -> Option<usize> {
    let mut open: Vec<Option<usize>> = Vec::new();
    for (i, line) in template.lines().enumerate() {
        for (at, _) in line.match_indices("{{") {
            let action = line[at + 2..].trim_start_matches('-').trim_start();
            let word = action.split(|c: char| !c.is_alphanumeric()).next().unwrap_or_default();
            match word {
                "range" => open.push(Some(i + 1)),
                "if" | "with" | "define" | "block" => open.push(None),
                "end" => _ = open.pop(),
                _ => {}
            }
        }
        let image = line.trim_start().trim_start_matches("- ").starts_with("image:");
        if let Some(at) = open.iter().flatten().next().filter(|_| image) {
            return Some(*at);
        }
    }
    None
}

/// What a change outside the security contexts adds, as a reviewer would name it.
fn field(rest: &[Seg]) -> &'static str {
    let named = |k: &str| rest.iter().any(|s| matches!(s, Seg::Key(key) if key == k));
    if named("volumeMounts") {
        "a volume mount"
    } else if named("volumes") {
        "a volume"
    } else {
        "a field"
    }
}
/// True when a template makes a workload (`kind: Deployment` at its top level, or a kind from a
/// value over a pod spec: `kind: {{ title $mode }}`).
pub(super) fn holds_workload(template: &str) -> bool {
    // At the top level: an autoscaler's `scaleTargetRef` names a kind too.
    workload::KINDS.iter().any(|(kind, _)| template.lines().any(|l| l.trim_end() == format!("kind: {kind}")))
        || templated_kind(template).is_some()
}

/// The top-level `kind:` line a template writes from a value, of a workload's API (`apps/v1`,
/// `batch/v1`) over a pod spec (`containers:`); not a policy's (Kyverno's `kind: {{
/// .Values.policyKind }}` over patterns that name containers).
fn templated_kind(template: &str) -> Option<&str> {
    let kind = template.lines().find(|l| l.starts_with("kind:") && l.contains("{{"))?;
    let api = template.lines().any(|l| matches!(l.trim_end(), "apiVersion: apps/v1" | "apiVersion: batch/v1"));
    (api && template.lines().any(|l| l.trim_start().starts_with("containers:"))).then(|| kind.trim_end())
}

/// Why a chart whose default values render none of its workloads is not checked, when its
/// `templates` hold some: they render only when a value is set (an unset `mode`), which
/// `possible` (the workloads of every branch) shows, or harden does not follow how they are
/// written (a `range` over values, a helper's template).
pub(super) fn no_workload_rendered<'t>(
    templates: impl Iterator<Item = &'t (String, String)>,
    possible: &[Planned],
) -> Option<String> {
    let holding: Vec<&str> = templates.filter(|(_, text)| holds_workload(text)).map(|(p, _)| p.as_str()).collect();
    let first = possible.first().map(|p| p.who.as_str()).or(holding.first().copied())?;
    Some(match possible.is_empty() {
        false => format!(
            "the chart's default values render none of its workloads ({first} renders once a value is set), and harden checks what the defaults render: nothing was checked"
        ),
        true => format!(
            "harden renders none of the chart's workloads ({first} writes them in a way it does not follow, such as a `range` over values or a helper): nothing was checked"
        ),
    })
}

/// What is said of the workloads the default values leave out (`possible`: those a value turns
/// on, which harden does not render): which they are, once for the chart; `None` when there are
/// none.
pub(super) fn off_by_default(possible: &[Planned]) -> Option<String> {
    let mut named: Vec<String> = possible
        .iter()
        .map(|p| match p.id.is_empty() {
            true => p.who.clone(),
            false => format!("{} ({})", p.who, p.id.replace(helm::UNKNOWN, "*")),
        })
        .collect();
    named.dedup();
    let first = named.first()?;
    let (more, verb, them, were) = match named.len() {
        1 => (String::new(), "renders", "it", "it was"),
        n => (format!(" and {} more", n - 1), "render", "them", "they were"),
    };
    Some(format!(
        "{first}{more} {verb} only when a value turns {them} on, and harden checks what the defaults render: {were} not checked"
    ))
}

/// The helper a template does nothing but call (`{{ include "common.all" . }}`, k8s-at-home's
/// charts on their library chart), quoted: everything it renders is that helper's.
fn only_helpers(template: &str) -> Option<String> {
    let mut called = None;
    for line in
        template.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with("{{/*") && !l.starts_with("{{- /*"))
    {
        let action = line.strip_prefix("{{")?.strip_suffix("}}")?.trim_matches(|c: char| c == '-' || c.is_whitespace());
        let mut words = action.split_whitespace();
        if !matches!(words.next(), Some("include" | "template")) || line.matches("{{").count() != 1 {
            return None;
        }
        called = words.next().map(str::to_string);
    }
    called
}

/// The chart's template (its path) that defines `helper` (quoted, as a call names it).
fn defined_in<'c>(chart: &'c [(String, String)], helper: &str) -> Option<&'c str> {
    let defines = |text: &str| {
        text.lines().any(|l| {
            let action = l.trim().trim_start_matches("{{").trim_start_matches('-').trim_start();
            action.strip_prefix("define").is_some_and(|rest| rest.split_whitespace().next() == Some(helper))
        })
    };
    chart.iter().find(|(_, text)| defines(text)).map(|(path, _)| path.as_str())
}

/// True for a template of the pods `helm test` starts (`templates/tests/`, `templates/test/`, or
/// any template with the `helm.sh/hook: test` annotation): they check a release; they are not the
/// chart's.
pub(super) fn is_helm_test(path: &str, text: &str) -> bool {
    path.starts_with("templates/tests/")
        || path.starts_with("templates/test/")
        || text.lines().any(|l| {
            let l = l.trim().replace(['"', '\''], "");
            l.starts_with("helm.sh/hook:")
                && l.split([':', ',']).skip(1).any(|h| matches!(h.trim(), "test" | "test-success"))
        })
}

/// The one finding for a workload whose template takes no securityContext from `values.yaml`:
/// HK228, at the severity of its worst finding, saying why and naming the rules its findings
/// break (a chart's gap is the template's, whatever it leaves unset).
pub(super) fn unplaced(who: &str, why: &str, own: &[&Finding]) -> Option<Finding> {
    let worst = own.iter().max_by_key(|f| f.severity)?;
    let mut rules_named: Vec<&str> = own.iter().map(|f| f.rule).collect();
    rules_named.sort();
    rules_named.dedup();
    let message = format!(
        "{who}: {why}, so nothing in values.yaml can set what it lacks ({}); set it in the template",
        rules_named.join(", ")
    );
    Some(Finding { rule: rules::CHART_TEMPLATE.id, severity: worst.severity, line: 1, fixed: false, message })
}
