//! Kubernetes manifests: find the workloads, analyse their pod security, and harden their
//! `securityContext` with minimal edits.
//!
//! [`harden`] is pure: text in, findings and text out. `yaml_serde` reads what the file
//! means (and rejects malformed or hostile YAML first); `yaml-edit`'s lossless tree says
//! where things are; the edits are byte splices. Every rewrite is parsed again and must
//! equal the original plus exactly the intended changes.

mod alone;
pub mod analyse;
pub mod change;
pub mod chart;
mod context;
mod examples;
pub mod kustomize;
mod placeholders;
pub mod rewrite;
pub mod services;
pub mod storage;
pub mod tree;
mod unhardened;
pub mod workload;
pub mod writes;

use serde::Deserialize;
use yaml_serde::Value;

use crate::config::Config;
use crate::edit;
use crate::generated::generated_marker;
use crate::outcome::{Outcome, ParseError};
use crate::rules_off::RulesOff;

pub use context::{Context, ImageUsers};
pub use examples::example_dir;

/// Analyses and rewrites one YAML file.
pub fn harden(text: &str, config: &Config) -> Result<Outcome, ParseError> {
    harden_with(text, config, &Context::default())
}

/// How the reason of a patch (a workload that names no image) ends: where it is merged.
pub const MERGED_ONTO_BASE: &str =
    ", so another tool (kustomize) merges it onto a base, which is where harden makes the change";

/// Analyses and rewrites one YAML file, knowing what the repository says about it elsewhere.
pub fn harden_with(text: &str, config: &Config, context: &Context) -> Result<Outcome, ParseError> {
    let filled_in = |placeholder: String| {
        Outcome::Skipped(format!(
            "a template: {placeholder} is filled in (by a script, or by hand) before it is applied, so the file is not the manifest that runs"
        ))
    };
    // Helm's own line names a template file of a chart (`# Source: app/templates/deploy.yaml`),
    // not a provenance note (`# Source: https://github.com/kubernetes-csi/external-snapshotter`).
    // A chart of the repository that nothing renders again leaves its output kept by hand.
    let mut helm_source = text.lines().filter_map(|l| l.strip_prefix("# Source: "));
    let rendered_again = |t: &str| !t.split('/').next().is_some_and(|chart| context.hand_kept_charts.contains(chart));
    if let Some(template) = helm_source.find(|t| !t.contains("://") && t.contains('/') && rendered_again(t)) {
        return Ok(Outcome::Skipped(format!(
            "rendered from a Helm chart (# Source: {template}): an edit would be undone when it is rendered again; harden the chart"
        )));
    }
    // ytt's annotations (`#@ load("@ytt:data", "data")`) make the file a template ytt renders.
    if text.lines().any(|l| l.trim_start().starts_with("#@")) {
        return Ok(Outcome::Skipped(
            "a ytt template (#@ annotations): ytt renders it, so the file is not the manifest that runs".into(),
        ));
    }
    // A generated file that names no kind is no manifest, and is said to be none.
    let has_kind = text.lines().any(|l| l.trim_start().trim_start_matches("- ").starts_with("kind:"));
    if let Some(marker) = generated_marker(text).filter(|_| has_kind) {
        return Ok(Outcome::Skipped(format!(
            "generated ({marker}): an edit would be undone when it is generated again; harden the source it comes from"
        )));
    }
    let docs = match parse(text) {
        // `{{ }}` inside a workload (or a file that only parses once rendered) is Helm or Go
        // templating; in another object's strings (alert rules, dashboards) it is that object's.
        Ok(docs) if text.contains("{{") && docs.iter().any(|d| unhardened::is_workload(d) && templated(d)) => {
            return Ok(Outcome::Skipped(TEMPLATE.into()));
        }
        Err(_) if text.contains("{{") || text.contains("{%") => return Ok(Outcome::Skipped(TEMPLATE.into())),
        Err(_) if let Some(placeholder) = placeholders::placeholder(text) => return Ok(filled_in(placeholder)),
        Ok(docs) => docs,
        // Only a file that says it is a manifest is an error when it does not parse.
        Err(_) if !text.lines().any(|l| l.starts_with("kind:") || l.starts_with("apiVersion:")) => {
            return Ok(Outcome::Skipped("not a Kubernetes manifest (no kind, and not plain YAML)".into()));
        }
        Err(e) => return Err(e),
    };
    if let Some(why) = unhardened::reason(&docs) {
        return Ok(Outcome::Skipped(why));
    }
    if let Some(placeholder) = placeholders::placeholder(text) {
        return Ok(filled_in(placeholder));
    }
    let trees = tree::documents(text).map_err(|message| ParseError { line: 1, column: 1, message })?;
    let nodes = align(&docs, trees);
    let style = tree::Style::of(text, &nodes);
    let mut findings = Vec::new();
    let mut changes = Vec::new();
    let mut opted_out = Vec::new();
    let mut patches = Vec::new();
    let lines = crate::lines::LineIndex::new(text);
    for (i, (value, node)) in docs.iter().zip(&nodes).enumerate() {
        let Some(node) = node else { continue };
        let Some(mut workload) = workload::find(text, &lines, i, value, node) else { continue };
        workload.service_ports = services::low_ports(&docs, &workload);
        let id = workload.id();
        let annotated = workload.annotation(workload::SKIP_ANNOTATION).is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if annotated || config.kubernetes.skip.iter().any(|s| s == &id) {
            opted_out.push(id);
            continue;
        }
        if let Some(patch) = unhardened::patch_fragment(&workload) {
            patches.push(patch);
            continue;
        }
        let ignored =
            workload.ignored_rules().map_err(|message| ParseError { line: workload.line, column: 1, message })?;
        let off = RulesOff::configured(config).and(&ignored);
        let plan = analyse::plan(&workload, &config.kubernetes.skip, &off, context);
        findings.extend(plan.findings);
        changes.extend(plan.changes);
        opted_out.extend(plan.opted_out);
    }
    findings.retain(|f| !config.is_disabled(f.rule));
    let mut left_alone = Vec::new();
    if !opted_out.is_empty() {
        left_alone.push(format!("left alone as asked (harden.dev/skip or configuration): {}", opted_out.join(", ")));
    }
    if !patches.is_empty() {
        let patch = format!("a patch: {}{MERGED_ONTO_BASE}", patches.join(", "));
        if findings.is_empty() && changes.is_empty() && opted_out.is_empty() {
            return Ok(Outcome::Skipped(patch));
        }
        left_alone.push(patch);
    }
    let reason = if changes.is_empty() {
        None
    } else {
        match rewrite::edits(text, &nodes, &style, &changes)
            .and_then(|edits| edit::apply(text, &edits).map_err(|e| e.to_string()))
            .and_then(|new| check(&docs, &changes, &new).map(|()| new))
        {
            Ok(new) => return Ok(done(findings, Some(new), None, left_alone)),
            Err(why) => Some(format!("the rewrite is not proposed: {why}")),
        }
    };
    for f in &mut findings {
        f.fixed &= reason.is_none();
    }
    Ok(done(findings, None, reason, left_alone))
}

const TEMPLATE: &str = "a template ({{ }} or {% %}), not plain YAML: Helm, Go or Jinja templating decides the output";

/// True when a string in the document holds `{{`, or a mapping has a mapping for a key: what an
/// unquoted `name: {{.Name}}` parses as, and no Kubernetes object has.
fn templated(doc: &Value) -> bool {
    match doc {
        Value::String(s) => s.contains("{{"),
        Value::Sequence(items) => items.iter().any(templated),
        Value::Mapping(map) => map.iter().any(|(k, v)| k.is_mapping() || templated(k) || templated(v)),
        _ => false,
    }
}

fn done(
    findings: Vec<crate::finding::Finding>,
    rewritten: Option<String>,
    reason: Option<String>,
    left_alone: Vec<String>,
) -> Outcome {
    let reason = match (reason, left_alone.is_empty()) {
        (Some(r), true) => Some(r),
        (Some(r), false) => Some(format!("{r}; {}", left_alone.join("; "))),
        (None, false) => Some(left_alone.join("; ")),
        (None, true) => None,
    };
    // Every edit harden makes to a manifest is to a security context or the volume it needs.
    let security = rewritten.is_some();
    Outcome::Hardened { findings, rewritten, reason, security }
}

/// The documents of a YAML text that parse, up to the first that does not: the parser repeats
/// its error for ever after one, so reading on would never end.
pub fn documents_read(text: &str) -> impl Iterator<Item = Value> + '_ {
    yaml_serde::Deserializer::from_str(text).map_while(|doc| Value::deserialize(doc).ok())
}

/// Parses every document. yaml_serde refuses alias bombs (its repetition limit) and deep
/// nesting (its recursion limit) with an error, so hostile input ends here, quickly.
fn parse(text: &str) -> Result<Vec<Value>, ParseError> {
    // libyaml's scanner slows down with the depth of flow collections; stop before it does.
    if let Some(line) = flow_depth_exceeds(text, MAX_FLOW_DEPTH) {
        return Err(ParseError {
            line,
            column: 1,
            message: format!("flow collections nested deeper than {MAX_FLOW_DEPTH} levels; not read"),
        });
    }
    yaml_serde::Deserializer::from_str(text)
        .map(|doc| {
            Value::deserialize(doc).map_err(|e| {
                let location = e.location();
                let (line, column) = location.as_ref().map_or((1, 1), |l| (l.line(), l.column()));
                let mut message = e.to_string();
                // The parser places a duplicate key at its mapping; the second key is the place.
                let (line, column) = match duplicate_key_line(text, &message, line) {
                    Some(second) => {
                        message.truncate(message.find(" at line ").unwrap_or(message.len()));
                        (second, 1)
                    }
                    None => (line, column),
                };
                ParseError { line, column, message }
            })
        })
        .collect()
}

/// The line of the second `key:` at the indent of the first, from the mapping's line `from`,
/// when `message` says a mapping holds `key` twice (`duplicate entry with key "apiVersion"`).
fn duplicate_key_line(text: &str, message: &str, from: usize) -> Option<usize> {
    let key = message.split("duplicate entry with key \"").nth(1)?.split('"').next()?;
    let mut indent = None;
    for (i, line) in text.lines().enumerate().skip(from.saturating_sub(1)) {
        if line.starts_with("---") && indent.is_some() {
            return None;
        }
        let trimmed = line.trim_start();
        if !trimmed.strip_prefix(key).is_some_and(|rest| rest.starts_with(':')) {
            continue;
        }
        let at = line.len() - trimmed.len();
        match indent {
            None => indent = Some(at),
            Some(first) if first == at => return Some(i + 1),
            Some(_) => {}
        }
    }
    None
}

/// The deepest `[`/`{` nesting harden reads (Kubernetes manifests use a handful).
const MAX_FLOW_DEPTH: usize = 64;

/// The line where flow collections nest deeper than `limit`, ignoring quoted text and comments.
fn flow_depth_exceeds(text: &str, limit: usize) -> Option<usize> {
    let (mut depth, mut line, mut quote, mut comment, mut prev) = (0usize, 1, None, false, '\n');
    for c in text.chars() {
        match (c, quote) {
            ('\n', _) => {
                line += 1;
                comment = false;
                quote = None;
            }
            _ if comment => {}
            (q, Some(open)) if q == open => quote = None,
            (_, Some(_)) => {}
            ('"' | '\'', None) => quote = Some(c),
            ('#', None) if prev.is_whitespace() => comment = true,
            ('[' | '{', None) => {
                depth += 1;
                if depth > limit {
                    return Some(line);
                }
            }
            (']' | '}', None) => depth = depth.saturating_sub(1),
            _ => {}
        }
        prev = c;
    }
    None
}

/// Pairs each parsed document with its positioned tree. The two parsers agree on which
/// documents exist except for empty ones; when they disagree, no tree is paired (nothing is edited).
fn align(docs: &[Value], trees: Vec<Option<tree::Node>>) -> Vec<Option<tree::Node>> {
    let mapped = docs.iter().filter(|d| d.is_mapping()).count();
    let tree_maps: Vec<tree::Node> = trees.into_iter().flatten().collect();
    if mapped != tree_maps.len() {
        return vec![None; docs.len()];
    }
    let mut trees = tree_maps.into_iter();
    docs.iter().map(|d| if d.is_mapping() { trees.next() } else { None }).collect()
}

/// Parses the rewritten text and requires it to be the original plus exactly `changes`.
fn check(before: &[Value], changes: &[change::Change], new: &str) -> Result<(), String> {
    let mut expected = before.to_vec();
    for c in changes {
        let doc = expected.get_mut(c.doc).ok_or("a change to a missing document")?;
        change::apply(doc, c)?;
    }
    let after = parse(new).map_err(|e| format!("the rewritten file does not parse ({e})"))?;
    if after != expected {
        let which = after.iter().zip(&expected).position(|(a, e)| a != e).unwrap_or(after.len().min(expected.len()));
        return Err(format!("the rewritten document {} differs from the intended change", which + 1));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn rejected_quickly(text: &str, want: &str) {
        let start = Instant::now();
        let err = harden(text, &Config::default()).unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(1), "took {:?}", start.elapsed());
        assert!(err.message.contains(want), "{err}");
    }

    #[test]
    fn a_duplicate_key_is_placed_at_its_second_line() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers: []\napiVersion: v1\n";
        let err = harden(text, &Config::default()).unwrap_err();
        assert_eq!(err.line, 7, "{err}");
        assert_eq!(err.message, "duplicate entry with key \"apiVersion\"");
    }

    #[test]
    fn examples_are_found_by_their_directory_or_their_own_name() {
        let example = |p: &str| example_dir(std::path::Path::new(p));
        assert_eq!(example("config/samples/minio.yaml").as_deref(), Some("config/samples/"));
        assert_eq!(example("quick_start.yaml").as_deref(), Some("quick_start.yaml"));
        assert_eq!(example("deploy/getting-started.yaml").as_deref(), Some("deploy/getting-started.yaml"));
        assert_eq!(example("deploy/example-deployment.yaml").as_deref(), Some("deploy/example-deployment.yaml"));
        assert_eq!(example("deploy/manager.yaml"), None);
        assert_eq!(example("deploy/counterexamples-of-nothing.yaml"), None, "whole words only");
    }

    #[test]
    fn a_generated_file_says_so_of_itself() {
        assert!(generated_marker("# Code generated by controller-gen. DO NOT EDIT.\nkind: Pod\n").is_some());
        assert!(generated_marker("# Generated by `make manifests`\n").is_some());
        assert!(generated_marker("# This file is autogenerated from config/\n").is_some());
        assert!(generated_marker("## This is not autogenerated\n").is_none(), "a denial");
        let licensed =
            "# Licensed\n#\n".repeat(7) + "# WARNING: This file is autogenerated. Do not manually edit.\n---\n";
        assert!(generated_marker(&licensed).is_some(), "below a licence header");
        assert!(
            generated_marker("# Edit this file by hand:\n# it is not possible to get this generated by kubebuilder\n")
                .is_none()
        );
        for plain in
            ["# This file is the example the docs show\n", "kind: Pod\na: 1\nb: 2\nc: 3\nd: 4\n# Generated by hand\n"]
        {
            assert!(generated_marker(plain).is_none(), "{plain}");
        }
        // A generated file of another tool (a synced issue template) is no manifest at all.
        assert_eq!(skipped("# AUTO-GENERATED, DO NOT EDIT!\ngithub: [acme]\n"), "not a Kubernetes manifest (no kind)");
        assert_eq!(
            skipped("services:\n  redis:\n    image: redis:7\n"),
            "a Compose file (services:), not a Kubernetes manifest"
        );
        // An Argo Workflow's templates each run one container.
        assert!(
            skipped("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec:\n  templates:\n  - name: main\n    container:\n      image: busybox:1.36\n")
                .starts_with("custom resources whose controller makes pods from the templates they hold (kinds: Workflow)")
        );
        // An override file sets only what changes (`environment:`).
        assert_eq!(
            skipped("version: '3.7'\nservices:\n  api:\n    environment:\n      - LOG_LEVEL=trace\n"),
            "a Compose file (services:), not a Kubernetes manifest"
        );
        // A server's own configuration that lists its services is no Compose file.
        assert_eq!(
            skipped("services:\n  frontend:\n    rpc:\n      grpcPort: 7233\n"),
            "not a Kubernetes manifest (no kind)"
        );
        assert!(skipped("# AUTO-GENERATED, DO NOT EDIT!\nkind: Pod\n").starts_with("generated ("));
        assert!(
            skipped(
                "apiVersion: operators.coreos.com/v1alpha1\nkind: ClusterServiceVersion\nmetadata:\n  name: op.v1.0.0\n"
            )
            .starts_with("an OLM ClusterServiceVersion")
        );
        let template = "apiVersion: template.openshift.io/v1\nkind: Template\nobjects:\n- kind: DeploymentConfig\n";
        assert!(skipped(template).starts_with("an OpenShift Template"));
        let apply_patch = "kind: Deployment\napiVersion: apps/v1\nspec:\n  template:\n    spec:\n      containers:\n      - name: extra\n        image: registry.k8s.io/pause:3.10\n";
        assert!(skipped(apply_patch).starts_with("a patch: its workloads name no object"), "{}", skipped(apply_patch));
        let job = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: migrate-\nspec:\n  template:\n    spec:\n      containers:\n      - name: m\n        image: ghcr.io/acme/migrate:1.0\n";
        assert!(
            super::unhardened::reason(&[yaml_serde::from_str(job).unwrap()]).is_none(),
            "a generated name names it"
        );
        let noted = "# Snapshot CRDs\n# Source: https://github.com/kubernetes-csi/external-snapshotter\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: a\n";
        assert!(skipped(noted).starts_with("no workload"), "a provenance note: {}", skipped(noted));
        let workflow_template = "apiVersion: tinkerbell.org/v1alpha1\nkind: Template\nmetadata:\n  name: ubuntu\nspec:\n  data: |\n    version: \"0.1\"\n";
        assert!(skipped(workflow_template).starts_with("no workload"), "{}", skipped(workflow_template));
        let ytt = "#@ load(\"@ytt:data\", \"data\")\nkind: Deployment\nspec: {}\n";
        assert!(skipped(ytt).starts_with("a ytt template"));
    }

    #[test]
    fn an_alias_bomb_is_an_error() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        for (prev, cur) in ('a'..='i').zip('b'..='j') {
            text.push_str(&format!(
                "{cur}: &{cur} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        text.push_str("kind: Pod\nspec: {containers: *j}\n");
        rejected_quickly(&text, "repetition limit");
    }

    #[test]
    fn deep_nesting_is_an_error() {
        let flow = format!("kind: Pod\nspec: {}{}\n", "[".repeat(200_000), "]".repeat(200_000));
        rejected_quickly(&flow, "nested deeper");
        let block: String = (1..2000).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        rejected_quickly(&format!("kind: Pod\nspec:\n{block}"), "recursion limit");
    }

    #[test]
    fn a_name_the_api_server_completes_names_the_workload() {
        let job = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: migrate-\nspec:\n  template:\n    spec:\n      containers:\n      - name: m\n        image: ghcr.io/acme/m:1.0\n";
        let Ok(Outcome::Hardened { findings, .. }) = harden(job, &Config::default()) else { panic!("not hardened") };
        assert!(findings.iter().all(|f| f.message.starts_with("Job/migrate- ")), "{findings:?}");
    }

    fn skipped(text: &str) -> String {
        match harden(text, &Config::default()) {
            Ok(Outcome::Skipped(reason)) => reason,
            other => panic!("not skipped: {other:?}"),
        }
    }

    #[test]
    fn what_decides_a_file_is_not_a_manifest_comes_first() {
        // Jinja (docs snippets) is a template, not a YAML error.
        let jinja = "{% raw %}\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ name }}\n{% endraw %}\n";
        assert!(skipped(jinja).starts_with("a template ({{ }} or {% %})"), "{}", skipped(jinja));
        // Unquoted, `{{.Name}}` is valid YAML: a mapping whose key is a mapping.
        let go_template = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{.Name}}\nspec:\n  replicas: {{.Replicas}}\n  template:\n    spec:\n      containers:\n      - name: app\n        image: app:1.0\n";
        assert!(skipped(go_template).starts_with("a template ({{ }} or {% %})"), "{}", skipped(go_template));
        // A file with no kind is no manifest, whatever placeholders its strings hold.
        assert_eq!(
            skipped("tasks:\n  run:\n    cmds: [\"echo {ELAPSED}\"]\n    desc: {ELAPSED}\n"),
            "not a Kubernetes manifest (no kind)"
        );
        let placeholder = "kind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: app\n    image: {IMAGE}\n";
        assert!(skipped(placeholder).contains("{IMAGE} is filled in (by a script, or by hand)"));
    }

    #[test]
    fn a_workload_whose_containers_name_no_image_is_a_patch() {
        let patch = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: manager\nspec:\n  template:\n    spec:\n      containers:\n      - name: manager\n        args: [--metrics-addr=:8443]\n";
        assert!(skipped(patch).starts_with("a patch: Deployment/manager names no image"), "{}", skipped(patch));
        // A patch that adds a sidecar beside the base's container is a patch too.
        let sidecar = format!("{patch}      - name: proxy\n        image: quay.io/brancz/kube-rbac-proxy:v0.18.0\n");
        assert!(
            skipped(&sidecar).starts_with("a patch: Deployment/manager names no image for container manager (the container proxy it adds is not checked here), so"),
            "{}",
            skipped(&sidecar)
        );
        let with_base = format!(
            "{patch}---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: app\n    image: app:1.0\n"
        );
        let Ok(Outcome::Hardened { rewritten: Some(new), reason: Some(reason), .. }) =
            harden(&with_base, &Config::default())
        else {
            panic!("the Pod beside the patch is hardened");
        };
        assert!(
            reason.starts_with("a patch: Deployment/manager") && new.matches("securityContext").count() == 2,
            "{reason}\n{new}"
        );
    }

    #[test]
    fn quotes_and_comments_do_not_count_as_nesting() {
        assert_eq!(flow_depth_exceeds("a: \"[[[[\" # {{{{\nb: it's [x]\n", 2), None);
        assert_eq!(flow_depth_exceeds("a: [[[x]]]\n", 2), Some(1));
    }
}
