//! A Helm chart's default values: where its templates take a pod's or container's
//! `securityContext` whole from `values.yaml` (`{{- toYaml .Values.podSecurityContext | nindent 8 }}`),
//! that value is hardened there, as a manifest's would be; templates are never edited.
//!
//! Pure: the values text and the templates' texts in, findings and the new values text out. Each
//! template is rendered roughly with the chart's values ([`helm::render`]), each workload in it is
//! analysed as a manifest's is, and each change to a securityContext that came from a values block
//! becomes the same change under that block's path. A workload with a change that has no such
//! place (a securityContext the template writes itself, a volume) is left as it is, and so is a
//! value another workload shares that harden would not change the same way.

mod fallback;
mod others;
mod unparsed;
mod version;
mod workloads;

use yaml_serde::{Mapping, Value};

use crate::config::Config;
use crate::edit;
use crate::finding::Finding;
use crate::lines::LineIndex;
use crate::orchestration::helm;
use crate::outcome::{Outcome, ParseError};
use crate::rules;

use super::analyse::not_fixed;
use super::change::{Change, Seg};
use super::{Context, tree};
pub use others::openshift_promised;
use others::{schema_refuses, users_chosen_by_variants};
pub use version::{Raised, app_version, raise_patch};
use workloads::{Planned, holds_workload, no_workload_rendered, off_by_default, plan_template, unplaced};

/// What else checks a chart's `values.yaml`, so that harden proposes no change to it: the
/// changes are reported, not made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guard {
    /// A `values.schema.json` validates it (its text, where it was read), which harden does not
    /// edit: the changes are made only where the values with them still pass it.
    Schema(Option<String>),
    /// A test of the chart checks the securityContexts it renders, here (`tests/x_test.go:340`):
    /// new defaults would fail it, and harden edits no test.
    Tests(String),
    /// helm-docs writes the chart's README from `values.yaml`, and the repository runs it, here
    /// (`.pre-commit-config.yaml:4`): harden does not run helm-docs.
    Docs(String),
    /// The repository regenerates the chart's `values.schema.json` from `values.yaml` and fails
    /// when it differs, here (`.github/workflows/lint-test-chart.yaml:48`, `helm schema`):
    /// harden does not run the generator.
    GeneratedSchema(String),
}

impl Guard {
    /// The first line of the chart's tests (`files`: each path and text) that checks a
    /// securityContext (a Go test's `SecurityContext`, a helm-unittest `path:` to one).
    pub fn of_tests(files: &[(String, String)]) -> Option<Guard> {
        files.iter().find_map(|(path, text)| {
            let at = text.lines().position(|l| l.contains("securityContext") || l.contains("SecurityContext"))?;
            Some(Guard::Tests(format!("{path}:{}", at + 1)))
        })
    }

    fn reason(&self) -> String {
        let why = match self {
            Guard::Schema(_) => "the chart's values.schema.json validates values.yaml (and is often generated from it): harden does not edit the schema".to_string(),
            Guard::Tests(at) => format!(
                "the chart's tests check the securityContexts it renders ({at}): new defaults would fail them, and harden edits no test"
            ),
            Guard::GeneratedSchema(at) => format!(
                "the repository regenerates the chart's values.schema.json from values.yaml and fails when it differs ({at}): new values need the schema regenerated with them, and harden does not run the generator"
            ),
            Guard::Docs(at) => format!(
                "helm-docs writes the chart's README from values.yaml, and the repository runs it ({at}): new values leave the README stale until it is regenerated (and fail a check that compares the two, where one runs), and harden does not run helm-docs"
            ),
        };
        format!("{why}, so it proposes no change; the findings say what to set")
    }
}

/// Analyses a chart's workloads and hardens the security contexts its `values.yaml` gives them.
/// `templates` holds each template's path (as messages name it) and text; `variants` each other
/// values file the chart ships (`values-pro.yaml`, `ci/openshift-values.yaml`) with its text;
/// `guard` says what else checks `values.yaml` (its changes are then reported, not made).
pub fn harden(
    values_text: &str,
    templates: &[(String, String)],
    variants: &[(String, String)],
    guard: Option<&Guard>,
    config: &Config,
    context: &Context,
) -> Result<Outcome, ParseError> {
    let docs = super::parse(values_text)?;
    let values = match docs.as_slice() {
        [] | [Value::Null] => Value::Mapping(Mapping::new()),
        [one @ Value::Mapping(_)] => one.clone(),
        _ => return Ok(Outcome::Skipped("a chart's values.yaml that is not one mapping: no values to harden".into())),
    };
    let context = &context.for_chart();
    let mut planned = Vec::new();
    let mut unread = Vec::new();
    let mut possible = Vec::new();
    for (path, text) in templates.iter().filter(|(path, text)| !workloads::is_helm_test(path, text)) {
        // The workloads the values leave out may still take a value harden would change.
        let every = helm::render_every_branch(text, &values);
        possible.extend(plan_template(path, text, templates, &every, config, context).unwrap_or_default());
        let rendered = helm::render(text, &values);
        match plan_template(path, text, templates, &rendered, config, context) {
            Ok(mut workloads) => planned.append(&mut workloads),
            // A template of RBAC or a ConfigMap that does not render roughly hides no pod.
            Err(why) if holds_workload(text) => unread.push(unparsed::unparsed_template(path, text, &why.to_string())),
            Err(_) => {}
        }
    }
    // A pod securityContext values turn on (Bitnami's `podSecurityContext.enabled: false`) is
    // off on purpose (OpenShift assigns the user): said, and nothing moves into the containers.
    let mut switched_off = Vec::new();
    let twins: Vec<Option<Vec<String>>> =
        planned.iter().map(|p| p.twin(&possible, &planned).and_then(|t| t.pod_source.clone())).collect();
    for (p, twin) in planned.iter_mut().zip(twins) {
        if let Some(entry) = twin.filter(|_| p.pod_source.is_none()) {
            switched_off.push((p.who.clone(), p.id.clone(), entry.clone()));
            p.changes = Err(format!(
                "the template takes {}'s pod securityContext from values.yaml's {} only when a value turns it on, which the defaults do not; harden leaves that choice to the chart",
                p.id,
                entry.join(".")
            ));
        }
    }
    // A chart whose defaults render no workload is not a clean one: nothing was checked.
    let none_rendered = (planned.is_empty() && unread.is_empty())
        .then(|| {
            no_workload_rendered(
                templates.iter().filter(|(path, text)| !workloads::is_helm_test(path, text)),
                &possible,
            )
        })
        .flatten();
    // Only the workloads the values leave out: the others are planned as the values make them.
    let rendered: Vec<bool> = possible.iter().map(|p| p.twin(&planned, &possible).is_some()).collect();
    let mut rendered = rendered.into_iter();
    possible.retain(|_| !rendered.next().unwrap_or(false));
    let unchecked = (!planned.is_empty()).then(|| off_by_default(&possible)).flatten();
    settle(&mut planned, &possible);
    let trees = tree::documents(values_text).map_err(|message| ParseError { line: 1, column: 1, message })?;
    let nodes = super::align(&docs, trees);
    let lines = LineIndex::new(values_text);
    let line_of = |path: &[String]| {
        let mut node = nodes.first()?.as_ref()?;
        let mut entry = None;
        for key in path {
            let e = node.entry(key)?;
            entry = Some(e.key_range.start);
            node = &e.value;
        }
        entry.map(|at| lines.line_of(at))
    };
    let mut findings = Vec::new();
    let mut changes: Vec<Change> = Vec::new();
    let mut left_alone = Vec::new();
    for p in planned {
        let switch = switched_off.iter().find(|(who, id, _)| *who == p.who && *id == p.id).map(|(_, _, entry)| entry);
        let line = p.sources.iter().chain(switch).find_map(|s| line_of(s)).unwrap_or(1);
        let fixed = p.changes.is_ok();
        if let Err(why) = &p.changes {
            left_alone.push(format!("{}: {why}", p.who));
            // A workload that takes nothing from values.yaml has no entry its findings could
            // point at: they are one finding, under the rule of the worst of them. (What is said
            // at info, such as a user left to the image, needs nothing set.)
            let own: Vec<&Finding> = p.findings.iter().filter(|f| !config.is_disabled(f.rule)).collect();
            let own: Vec<&Finding> = own.into_iter().filter(|f| f.severity > rules::Severity::Info).collect();
            // A switch the chart's values turn on is no template to edit: the reason alone.
            if let Some(one) = unplaced(&p.who, why, &own).filter(|_| p.sources.is_empty() && switch.is_none()) {
                findings.push(one);
                continue;
            }
            findings.push(Finding::new(&rules::CHART_TEMPLATE, line, format!("{}: {why}", p.who)));
        }
        for mut f in p.findings {
            let own = p.lines.iter().find(|(rendered, _)| *rendered == f.line).and_then(|(_, s)| line_of(s));
            // What values.yaml has no entry for is told at the template's line that sets it.
            let written = p.written.iter().find(|(rendered, _)| *rendered == f.line && own.is_none() && !f.fixed);
            let at = written.map(|(_, t)| format!(":{t}")).unwrap_or_default();
            f.line = own.unwrap_or(line);
            if !fixed {
                not_fixed(&mut f);
            }
            f.message = format!("{}{at}: {}", p.who, f.message.replace(helm::UNKNOWN, "*"));
            findings.push(f);
        }
        for (source, inside, op) in p.changes.unwrap_or_default() {
            let segment = |k: String| match k.strip_prefix('[').and_then(|k| k.strip_suffix(']')).map(str::parse) {
                Some(Ok(index)) => Seg::Index(index),
                _ => Seg::Key(k),
            };
            let change = Change { doc: 0, path: source.into_iter().chain(inside).map(segment).collect(), op };
            if !changes.contains(&change) {
                changes.push(change);
            }
        }
    }
    for why in unread.into_iter().chain(none_rendered) {
        findings.push(Finding::new(&rules::CHART_TEMPLATE, 1, why.clone()));
        left_alone.push(why);
    }
    findings.extend(unchecked.map(|why| Finding::new(&rules::CHART_TEMPLATE, 1, why)));
    // A switch of the chart's own that a template reads beside a /tmp mount is the way.
    let reads = |s: &String| templates.iter().any(|(_, t)| t.contains(&format!(".Values.{s}")) && t.contains("/tmp"));
    for f in findings.iter_mut().filter(|f| f.message.ends_with(workloads::TEMPLATE_MOUNTS_TMP)) {
        if let Some(switch) = others::read_only_switch(&values).filter(reads) {
            f.message.push_str(&format!(", which the chart's own value {switch} does with it: set it to true"));
        }
    }
    for (at, why) in users_chosen_by_variants(&mut changes, variants) {
        let line = line_of(&at);
        let user_fields = [rules::RUN_AS_NON_ROOT.id, rules::RUN_AS_USER.id, rules::RUN_AS_GROUP.id];
        for f in findings.iter_mut().filter(|f| f.fixed && Some(f.line) == line && user_fields.contains(&f.rule)) {
            not_fixed(f);
            f.message.push_str(&format!("; {why}"));
        }
        left_alone.push(why);
    }
    findings.retain(|f| !config.is_disabled(f.rule));
    // A schema that was read is asked about the new values once they are written.
    let schema = match guard {
        Some(Guard::Schema(Some(schema))) => Some(schema.as_str()),
        _ => None,
    };
    if let Some(guard) = guard.filter(|_| !changes.is_empty() && schema.is_none()) {
        changes.clear();
        findings.iter_mut().for_each(not_fixed);
        left_alone.insert(0, guard.reason());
    }
    let left_alone = (!left_alone.is_empty()).then(|| left_alone.join("; "));
    if changes.is_empty() {
        return Ok(Outcome::Hardened { findings, rewritten: None, reason: left_alone, security: false });
    }
    let style = tree::Style::of(values_text, &nodes);
    let rewritten = super::rewrite::edits(values_text, &nodes, &style, &changes)
        .and_then(|edits| edit::apply(values_text, &edits).map_err(|e| e.to_string()))
        .and_then(|new| super::check(&[values], &changes, &new).map(|()| new))
        .and_then(|new| match schema.and_then(|schema| schema_refuses(schema, values_text, &new)) {
            Some(why) => Err(format!(
                "the chart's values.schema.json refuses the new values ({why}), and harden does not edit the schema"
            )),
            None => Ok(new),
        });
    match rewritten {
        Ok(new) => Ok(Outcome::Hardened { findings, rewritten: Some(new), reason: left_alone, security: true }),
        Err(why) => {
            findings.iter_mut().for_each(not_fixed);
            let reason = format!("the rewrite is not proposed: {why}");
            let reason = Some(left_alone.map_or(reason.clone(), |alone| format!("{reason}; {alone}")));
            Ok(Outcome::Hardened { findings, rewritten: None, reason, security: false })
        }
    }
}

/// Leaves alone every workload that shares a values path with one that would not change it the
/// same way, until none does: one the values render, or one `possible` holds (a workload of every
/// branch, which turning a value on would render: a privileged agent off by default).
fn settle(planned: &mut [Planned], possible: &[Planned]) {
    loop {
        let mut alone: Option<(usize, String)> = None;
        'workloads: for (w, p) in planned.iter().enumerate() {
            let Ok(changes) = &p.changes else { continue };
            for (source, inside, op) in changes {
                for other in planned.iter().chain(possible).filter(|o| o.sources.contains(source)) {
                    let same = other
                        .changes
                        .as_ref()
                        .is_ok_and(|c| c.iter().any(|(s, i, o)| s == source && i == inside && o == op));
                    if !same {
                        let off = match possible.iter().any(|p| std::ptr::eq(p, other)) {
                            true => " (rendered when the values turn it on)",
                            false => "",
                        };
                        let why = format!(
                            "values.yaml's {} is also the securityContext of {} in {}{off}, which harden would not change the same way",
                            source.join("."),
                            other.id,
                            other.who
                        );
                        alone = Some((w, why));
                        break 'workloads;
                    }
                }
            }
        }
        match alone {
            Some((w, why)) => planned[w].changes = Err(why),
            None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-NAME\nspec:\n  template:\n    spec:\n      securityContext:\n        {{- toYaml .Values.podSecurityContext | nindent 8 }}\n      containers:\n      - name: app\n        image: ghcr.io/acme/app:1.0.0\n        securityContext:\n          {{- toYaml .Values.securityContext | nindent 10 }}\n";

    fn run(values: &str, templates: &[(&str, String)]) -> Outcome {
        let templates: Vec<(String, String)> = templates.iter().map(|(p, t)| (p.to_string(), t.clone())).collect();
        let built = Context { images_built: ["app".to_string()].into(), ..Context::default() };
        harden(values, &templates, &[], None, &Config::default(), &built).unwrap()
    }

    #[test]
    fn hardens_the_values_the_templates_take_whole() {
        let values = "podSecurityContext: {}\nsecurityContext:\n  runAsUser: 2000\n";
        let Outcome::Hardened { rewritten: Some(new), findings, security: true, .. } =
            run(values, &[("templates/api.yaml", DEPLOYMENT.replace("NAME", "api"))])
        else {
            panic!("the values are hardened")
        };
        let new: Value = yaml_serde::from_str(&new).unwrap();
        assert_eq!(new["podSecurityContext"]["seccompProfile"]["type"], Value::from("RuntimeDefault"));
        assert_eq!(new["securityContext"]["allowPrivilegeEscalation"], Value::Bool(false));
        assert_eq!(new["securityContext"]["runAsUser"], Value::from(2000), "an explicit user stays");
        assert!(findings.iter().all(|f| f.message.starts_with("templates/api.yaml: ")), "{findings:?}");
    }

    #[test]
    fn a_value_shared_with_a_workload_left_alone_is_not_changed() {
        let privileged = DEPLOYMENT.replace("NAME", "agent").replace(
            "          {{- toYaml .Values.securityContext | nindent 10 }}\n",
            "          {{- toYaml .Values.securityContext | nindent 10 }}\n      hostNetwork: true\n",
        );
        let values = "podSecurityContext: {}\nsecurityContext: {}\n";
        let outcome = run(
            values,
            &[("templates/api.yaml", DEPLOYMENT.replace("NAME", "api")), ("templates/agent.yaml", privileged)],
        );
        let Outcome::Hardened { rewritten: None, findings, reason: Some(reason), .. } = outcome else {
            panic!("nothing is changed: {outcome:?}")
        };
        assert!(
            reason.contains("values.yaml's podSecurityContext is also the securityContext of Deployment/*-agent in templates/agent.yaml"),
            "{reason}"
        );
        assert!(findings.iter().any(|f| f.rule == rules::CHART_TEMPLATE.id), "{findings:?}");
        assert!(findings.iter().all(|f| !f.fixed), "{findings:?}");
    }

    #[test]
    fn a_template_that_writes_its_own_context_is_said_and_left() {
        let own = DEPLOYMENT
            .replace("NAME", "api")
            .replace("        {{- toYaml .Values.podSecurityContext | nindent 8 }}\n", "        runAsUser: 1000\n");
        let Outcome::Hardened { rewritten: None, findings, .. } =
            run("securityContext: {}\n", &[("templates/api.yaml", own)])
        else {
            panic!("nothing is changed")
        };
        let note = findings.iter().find(|f| f.rule == rules::CHART_TEMPLATE.id).unwrap();
        assert!(
            note.message
                .contains("no values.yaml entry written whole as the securityContext of Deployment/*-api's pod"),
            "{}",
            note.message
        );
    }

    #[test]
    fn malformed_values_are_an_error_with_their_line() {
        let templates = [("templates/api.yaml".to_string(), DEPLOYMENT.to_string())];
        let err = harden("a: 1\nb: [\n", &templates, &[], None, &Config::default(), &Context::default()).unwrap_err();
        assert!(err.line >= 2, "{err:?}");
    }

    #[test]
    fn a_chart_with_a_values_schema_is_told_not_changed() {
        let templates = [("templates/api.yaml".to_string(), DEPLOYMENT.replace("NAME", "api"))];
        let outcome = harden(
            "podSecurityContext: {}\nsecurityContext: {}\n",
            &templates,
            &[],
            Some(&Guard::Schema(None)),
            &Config::default(),
            &Context::default(),
        );
        let Ok(Outcome::Hardened { rewritten: None, findings, reason: Some(reason), .. }) = outcome else {
            panic!("nothing is changed: {outcome:?}")
        };
        assert!(reason.contains("values.schema.json"), "{reason}");
        assert!(findings.iter().any(|f| f.rule == "HK204") && findings.iter().all(|f| !f.fixed), "{findings:?}");
    }

    #[test]
    fn a_test_that_checks_a_security_context_guards_the_defaults() {
        let go =
            "func TestDefaults(t *testing.T) {\n\tassert.Nil(t, deployment.Spec.Template.Spec.SecurityContext)\n}\n";
        let unit = "tests:\n  - it: renders\n    asserts:\n      - isKind:\n          of: Deployment\n";
        let files = |go: &str| {
            vec![
                ("tests/labels_test.yaml".to_string(), unit.to_string()),
                ("tests/template_test.go".to_string(), go.to_string()),
            ]
        };
        assert_eq!(Guard::of_tests(&files(go)), Some(Guard::Tests("tests/template_test.go:2".into())));
        assert_eq!(Guard::of_tests(&files("func TestLabels(t *testing.T) {}\n")), None);
    }

    #[test]
    fn a_value_shared_with_a_workload_the_values_turn_off_is_not_changed() {
        let agent = format!(
            "{{{{- if .Values.agent.enabled }}}}\n{}{{{{- end }}}}\n",
            DEPLOYMENT.replace("NAME", "agent").replace("    spec:\n", "    spec:\n      hostNetwork: true\n")
        );
        let values = "agent:\n  enabled: false\npodSecurityContext: {}\nsecurityContext: {}\n";
        let outcome =
            run(values, &[("templates/api.yaml", DEPLOYMENT.replace("NAME", "api")), ("templates/agent.yaml", agent)]);
        let Outcome::Hardened { rewritten: None, findings, .. } = outcome else {
            panic!("nothing is changed: {outcome:?}")
        };
        let agent: Vec<&Finding> = findings.iter().filter(|f| f.message.starts_with("templates/agent.yaml")).collect();
        assert!(
            agent.len() == 1
                && agent[0].rule == "HK228"
                && agent[0].message.contains("renders only when a value turns it on"),
            "the agent is off, and said to be: {findings:?}"
        );
    }

    #[test]
    fn a_pod_the_template_gives_none_is_hardened_through_its_containers() {
        let template = DEPLOYMENT
            .replace("NAME", "api")
            .replace("      securityContext:\n        {{- toYaml .Values.podSecurityContext | nindent 8 }}\n", "");
        let Outcome::Hardened { rewritten: Some(new), .. } =
            run("securityContext: {}\n", &[("templates/api.yaml", template)])
        else {
            panic!("the container's values are hardened")
        };
        let new: Value = yaml_serde::from_str(&new).unwrap();
        assert_eq!(new["securityContext"]["runAsNonRoot"], Value::Bool(true), "{new:?}");
        assert_eq!(new["securityContext"]["seccompProfile"]["type"], Value::from("RuntimeDefault"));
        assert_eq!(new["securityContext"]["allowPrivilegeEscalation"], Value::Bool(false));
    }

    #[test]
    fn a_context_or_pod_a_helper_writes_is_said_to_be_unchecked() {
        let merged = DEPLOYMENT.replace("NAME", "api").replace(
            "{{- toYaml .Values.securityContext | nindent 10 }}",
            "{{- include \"chart.securityContext\" (merge .Values.securityContext .Values.global) | nindent 10 }}",
        );
        let whole = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: manager\nspec:\n  template:\n    {{- include \"chart.pod\" . | nindent 4 }}\n";
        let Outcome::Hardened { rewritten: None, findings, .. } = run(
            "podSecurityContext: {}\nsecurityContext: {}\n",
            &[("templates/api.yaml", merged), ("templates/manager.yaml", whole.into())],
        ) else {
            panic!("nothing is changed")
        };
        let rules: Vec<&str> = findings.iter().map(|f| f.rule).collect();
        assert_eq!(rules, ["HK228", "HK228"], "no finding on a context harden cannot see: {findings:?}");
        assert!(findings[0].message.contains("a helper or a value changed on the way"), "{}", findings[0].message);
        assert!(findings[1].message.contains("pod spec a helper writes"), "{}", findings[1].message);
    }

    #[test]
    fn only_a_top_level_kind_makes_a_workload() {
        assert!(holds_workload("apiVersion: apps/v1\nkind: Deployment\n"));
        assert!(!holds_workload("kind: HorizontalPodAutoscaler\nspec:\n  scaleTargetRef:\n    kind: Deployment\n"));
    }

    #[test]
    fn a_context_the_defaults_switch_off_is_said_to_be_off() {
        let switched = DEPLOYMENT.replace("NAME", "api").replace(
            "      securityContext:\n        {{- toYaml .Values.podSecurityContext | nindent 8 }}\n",
            "      {{- if .Values.podSecurityContext.enabled }}\n      securityContext:\n        {{- omit .Values.podSecurityContext \"enabled\" | toYaml | nindent 8 }}\n      {{- end }}\n",
        );
        let switched =
            switched.replace("{{- toYaml .Values.securityContext | nindent 10 }}", "readOnlyRootFilesystem: true");
        let values = "podSecurityContext:\n  enabled: false\n  fsGroup: 1001\nsecurityContext: {}\n";
        let Outcome::Hardened { findings, .. } = run(values, &[("templates/api.yaml", switched)]) else { panic!() };
        // The values turn it on: HK228 says so at info, and no template is to be edited; what the
        // defaults lack is told finding by finding.
        let note = findings.iter().find(|f| f.rule == rules::CHART_TEMPLATE.id).unwrap();
        assert!(
            note.message.contains("from values.yaml's podSecurityContext only when a value turns it on"),
            "{}",
            note.message
        );
        assert_eq!(note.severity, rules::Severity::Info);
        assert!(!findings.iter().any(|f| f.message.contains("set it in the template")), "{findings:?}");
        assert!(findings.iter().any(|f| f.rule == rules::RUN_AS_NON_ROOT.id && !f.fixed), "{findings:?}");
    }
}
