//! A Helm chart's template rendered roughly and purely: a line that is only a control action is
//! dropped (of an `if`, the branch its values choose is rendered, else the first; no `range`
//! body), one that writes a value whole (`{{- toYaml .Values.resources | nindent 12 }}`) is that
//! value at that indent, recorded (the chart's `values.yaml` is where harden hardens its pods), and
//! an action inside a line is replaced by the `values.yaml` value it names
//! (`{{ .Values.image.repository }}`), or by its quoted default, or by a word no image is called.

use std::ops::Range;

use yaml_serde::Value;

use super::action::{action_value, split_top};
use super::scope::{Scope, control, values_path};
use super::text::{closing, logical_lines, without_comments};

/// A block a template takes whole from `values.yaml` (`{{- toYaml .Values.podSecurityContext |
/// nindent 8 }}`), and where its value sits in the rendered text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValuesBlock {
    /// Its bytes in the rendered text.
    pub range: Range<usize>,
    /// Its keys in `values.yaml` (`["controller", "podSecurityContext"]`).
    pub path: Vec<String>,
    /// True for an empty value, written `{}`.
    empty: bool,
}

/// A template rendered roughly, with the blocks it takes from `values.yaml`.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// The template as YAML.
    pub text: String,
    /// The blocks written whole from `values.yaml`, in order.
    pub blocks: Vec<ValuesBlock>,
}

/// The template as YAML, its actions filled in from `values`: a line that is only a template
/// action is dropped, unless it writes a `values.yaml` block at an indent (`toYaml … | nindent 8`),
/// which is written there; of an `if`, the branch its values choose, else the first, and no
/// `range` body.
pub fn render(template: &str, values: &Value) -> Rendered {
    render_branches(template, values, true)
}

/// The template rendered as [`render`] does, but with the first branch of every `if` and the
/// body of every `with`, whatever the values say: every workload the chart can make.
pub fn render_every_branch(template: &str, values: &Value) -> Rendered {
    render_branches(template, values, false)
}

fn render_branches(template: &str, values: &Value, evaluate: bool) -> Rendered {
    let mut out = Rendered { text: String::with_capacity(template.len()), blocks: Vec::new() };
    let mut scope = Scope::default();
    for line in logical_lines(template) {
        let Some(line) = without_comments(&line) else { continue };
        let line = line.as_str();
        let trimmed = line.trim();
        let dropped = scope.dropped();
        // One action the whole line (a quoted `"{{ … }}"` inside it, as `tpl` takes, is its text).
        let whole = trimmed.strip_prefix("{{").and_then(closing).is_some_and(|end| end + 4 == trimmed.len());
        if whole {
            let action = trimmed[2..trimmed.len() - 2].trim_matches(|c: char| c == '-' || c.is_whitespace());
            if !control(action, values, &mut scope, evaluate) && !dropped {
                match block_action(action, &scope) {
                    Some(block) => write_block(&mut out, block, values),
                    None if writes_security_context(action) && !after_security_context_key(&out) => {
                        // A helper that writes the key itself (`{{ template "x.securityContext.pod" . }}`).
                        let pad = &line[..line.len() - line.trim_start().len()];
                        out.text.push_str(&format!("{pad}securityContext:\n{pad}  {HELPER_WRITTEN}\n"));
                    }
                    None => mark_helper_written(&mut out, action),
                }
            }
            continue;
        }
        // A line of a branch not taken may still close it (`{{- end }}{{- end }}`).
        if dropped && !line.contains("{{") {
            continue;
        }
        let mut rest = line;
        let mut wrote_block = false;
        while let Some(start) = rest.find("{{") {
            let Some(end) = closing(&rest[start + 2..]).map(|end| end + 2) else { break };
            let action = &rest[start + 2..start + end];
            let trimmed = action.trim_matches(|c: char| c == '-' || c.is_whitespace());
            // A branch inside the line (`{{- if .Values.digest }}@…{{- else }}:…{{- end }}`)
            // writes only where it is taken.
            let live = !scope.dropped();
            // `- {{- if .Values.image.release }}`: the branch opens here, and writes nothing.
            if control(trimmed, values, &mut scope, evaluate) {
                if live && !wrote_block {
                    out.text.push_str(&rest[..start]);
                }
                rest = &rest[start + end + 2..];
                continue;
            }
            // After a block only the line's control actions count (`{{ toYaml . | nindent 4 }}{{- end }}`).
            if !live || wrote_block {
                rest = &rest[start + end + 2..];
                continue;
            }
            // An action that writes lines of its own (`labels: {{- include "x.labels" . | nindent 4 }}`)
            // leaves its key alone on the line: a values block there, or nothing.
            if trimmed.split_whitespace().any(|w| matches!(w, "nindent" | "indent")) {
                // The line so far, with what an opening branch wrote of it (`key: {{ if x }}`).
                out.text.push_str(&rest[..start]);
                let line_start = out.text.rfind('\n').map_or(0, |i| i + 1);
                let kept = out.text[line_start..].trim_end().len();
                out.text.truncate(line_start + kept);
                if kept > 0 {
                    out.text.push('\n');
                }
                match block_action(trimmed, &scope) {
                    Some(block) => write_block(&mut out, block, values),
                    None => mark_helper_written(&mut out, trimmed),
                }
                wrote_block = true;
                rest = &rest[start + end + 2..];
                continue;
            }
            out.text.push_str(&rest[..start]);
            out.text.push_str(&action_value(action, values));
            rest = &rest[start + end + 2..];
        }
        // A line dropped from start to end writes nothing, not even its newline.
        let dropped_whole = dropped && scope.dropped();
        if !wrote_block && !dropped_whole {
            if !scope.dropped() {
                out.text.push_str(rest);
            }
            out.text.push('\n');
        }
    }
    drop_empty_before_entries(out)
}
/// The comment written under a `securityContext:` whose value a helper or a value changed on
/// the way writes (`{{- include "capsule.podSecurityContext" . | nindent 8 }}`): what it holds is
/// not known.
pub const HELPER_WRITTEN: &str = "# harden: written by a helper";

/// True for an action that calls a helper named for a securityContext (`template
/// "injector.securityContext.pod" .`, `include "app.podSecurityContext" .`).
fn writes_security_context(action: &str) -> bool {
    let mut words = action.split_whitespace();
    matches!(words.next(), Some("template" | "include"))
        && words.next().is_some_and(|name| name.to_ascii_lowercase().contains("securitycontext"))
}

/// True when the last line written is a `securityContext:` key waiting for its value.
fn after_security_context_key(out: &Rendered) -> bool {
    out.text.trim_end().lines().last().is_some_and(|l| l.trim_end().ends_with("securityContext:"))
}

/// Marks the `securityContext:` just written as written by `action`, when the action writes lines
/// of its own (`nindent`, `indent`) that harden does not render; and a container whose fields
/// after its name a helper writes (`- name: proxy` then `{{- include "x.proxySpec" . | nindent
/// 10 }}`) as having a securityContext a helper writes.
fn mark_helper_written(out: &mut Rendered, action: &str) {
    let words: Vec<&str> = action.split_whitespace().collect();
    let Some(at) = words.iter().position(|w| matches!(*w, "nindent" | "indent")) else { return };
    let indent_of = |line: &str| line.len() - line.trim_start().len();
    let mut lines = out.text.trim_end().lines().rev();
    let last = lines.next().unwrap_or_default();
    if last.trim_end().ends_with("securityContext:") {
        let indent = indent_of(last) + 2;
        out.text.push_str(&format!("{}{HELPER_WRITTEN}\n", " ".repeat(indent)));
        return;
    }
    // The list item's fields go on at its dash's indent plus two; its list is a containers key.
    let helper = words.first().is_some_and(|w| matches!(w.trim_start_matches('('), "include" | "template"));
    let item = last.trim_start().starts_with("- ");
    let fields = words.get(at + 1).and_then(|n| n.parse::<usize>().ok()) == Some(indent_of(last) + 2);
    let outer = |l: &&str| match indent_of(l).cmp(&indent_of(last)) {
        std::cmp::Ordering::Less => true,
        // `containers:` then `- name: a` at the key's own indent.
        std::cmp::Ordering::Equal => !l.trim_start().starts_with("- "),
        std::cmp::Ordering::Greater => false,
    };
    let parent = lines.find(|l| !l.trim().is_empty() && outer(l)).unwrap_or_default();
    if helper && item && fields && parent.trim_end().ends_with("ontainers:") {
        let pad = " ".repeat(indent_of(last) + 2);
        out.text.push_str(&format!("{pad}securityContext:\n{pad}  {HELPER_WRITTEN}\n"));
    }
}

/// The `values.yaml` path and indent of an action that writes a value whole as YAML at an indent
/// (`toYaml .Values.podSecurityContext | nindent 8`, `.Values.x | toYaml | indent 4`); none for
/// one that changes it on the way (`omit`, `merge`, `tpl`) or names no value.
fn block_action(action: &str, scope: &Scope) -> Option<Block> {
    // A pipe needs no spaces around it (`toYaml .| nindent 10`).
    let mut commands = split_top(action, |c| c == '|');
    // `… | nindent 8 | trim` on a line indented as deep, or `toYaml … | trim | nindent 8` (or
    // `trimSuffix "\n"`): the same block, a newline less.
    commands.retain(|c| !matches!(c.trim(), "trim" | r#"trimSuffix "\n""#));
    let words: Vec<&str> = commands.iter().flat_map(|c| c.split_whitespace()).collect();
    let at = words.iter().position(|w| matches!(*w, "nindent" | "indent"))?;
    let indent = words.get(at + 1)?.parse().ok()?;
    let rest: Vec<&str> = words.iter().enumerate().filter(|(i, _)| *i != at && *i != at + 1).map(|(_, w)| *w).collect();
    let block = |path: &str, omit: &[&str]| {
        let omit = omit.iter().map(|k| k.trim_matches('"').to_string()).collect();
        Some(Block { path: values_path(path, scope)?, indent, omit })
    };
    match rest.as_slice() {
        ["toYaml", path] | [path, "toYaml"] => block(path, &[]),
        // `tpl (toYaml .) $`: the value, its own actions rendered (harden writes none).
        ["tpl", "(toYaml", path, "$" | "."] if path.ends_with(')') => block(path, &[]),
        // Bitnami's `omit .Values.podSecurityContext "enabled" | toYaml`: the value less its switch.
        ["omit", path, keys @ .., "toYaml"] if keys.iter().all(|k| k.starts_with('"')) => block(path, keys),
        _ => None,
    }
}

/// A value a template writes whole at an indent, less the keys it omits.
struct Block {
    path: Vec<String>,
    indent: usize,
    omit: Vec<String>,
}

/// Writes the value at `path` as YAML at `indent`, recording where it is. An empty value (or
/// one `values.yaml` does not hold) is written `{}` under a key of its own, and not at all after
/// other entries (`annotations:` with `prometheus.io/scrape` before it).
fn write_block(out: &mut Rendered, block: Block, values: &Value) {
    let Block { path, indent, omit } = block;
    let mut value = path.iter().try_fold(values, |v, key| v.get(key.as_str())).filter(|v| !v.is_null()).cloned();
    if let Some(Value::Mapping(map)) = &mut value {
        map.retain(|k, _| k.as_str().is_none_or(|k| !omit.iter().any(|o| o == k)));
    }
    let value = value.as_ref();
    let empty = value.is_none_or(|v| match v {
        Value::Mapping(m) => m.is_empty(),
        Value::Sequence(items) => items.is_empty(),
        _ => false,
    });
    // `{}` only under a key of its own, less indented than the value.
    let last = out.text.trim_end().lines().last().unwrap_or_default();
    let under_key = last.ends_with(':') && last.len() - last.trim_start().len() < indent;
    if empty && !under_key {
        return;
    }
    let yaml = value.filter(|_| !empty).and_then(|v| yaml_serde::to_string(v).ok()).unwrap_or_else(|| "{}\n".into());
    let start = out.text.len();
    for line in yaml.lines() {
        out.text.push_str(&" ".repeat(indent));
        out.text.push_str(line);
        out.text.push('\n');
    }
    out.blocks.push(ValuesBlock { range: start..out.text.len(), path, empty });
}

/// Removes each empty value's `{}` that entries of the same mapping follow (`labels:`, `{}`,
/// `role: worker`, or `metadata:`, `{}` deeper than the `labels:` that follows), where it would
/// not parse: the key then holds those entries.
fn drop_empty_before_entries(out: Rendered) -> Rendered {
    let indent = |line: &str| line.len() - line.trim_start().len();
    let mut kept = Rendered { text: String::with_capacity(out.text.len()), blocks: Vec::new() };
    let mut last = 0;
    for block in out.blocks {
        let next = out.text[block.range.end..].lines().find(|l| !l.trim().is_empty());
        let key = out.text[..block.range.start].lines().rfind(|l| !l.trim().is_empty()).unwrap_or_default();
        if block.empty && next.is_some_and(|next| indent(next) > indent(key)) {
            kept.text.push_str(&out.text[last..block.range.start]);
            last = block.range.end;
            continue;
        }
        kept.text.push_str(&out.text[last..block.range.start]);
        let start = kept.text.len();
        kept.text.push_str(&out.text[block.range.clone()]);
        last = block.range.end;
        kept.blocks.push(ValuesBlock { range: start..kept.text.len(), ..block });
    }
    kept.text.push_str(&out.text[last..]);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The template rendered with `values` (YAML text), and the rendering parsed.
    fn rendered(values: &str, template: &str) -> (Rendered, Value) {
        let rendered = render(template, &yaml_serde::from_str(values).unwrap());
        let parsed = yaml_serde::from_str(&rendered.text).unwrap_or_else(|e| panic!("{e}: {}", rendered.text));
        (rendered, parsed)
    }

    fn values() -> Value {
        yaml_serde::from_str("image:\n  repository: ghcr.io/acme/relay\n  tag: 1.4.0\nport: 8080\n").unwrap()
    }

    #[test]
    fn actions_take_their_values_and_control_lines_go() {
        let template = "spec:\n  {{- with .Values.nodeSelector }}\n  nodeSelector:\n    {{- toYaml . | nindent 4 }}\n  {{- end }}\n  containers:\n    - image: \"{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}\"\n      ports:\n        - containerPort: {{ .Values.port }}\n";
        let rendered = render(template, &values()).text;
        assert!(rendered.contains("image: \"ghcr.io/acme/relay:1.4.0\""), "{rendered}");
        assert!(rendered.contains("containerPort: 8080"), "{rendered}");
        assert!(!rendered.contains("{{"), "{rendered}");
        let parsed: Value = yaml_serde::from_str(&rendered).unwrap();
        assert!(parsed.get("spec").and_then(|s| s.get("containers")).is_some());
    }

    #[test]
    fn a_branch_inside_a_line_writes_only_where_taken() {
        let template = "spec:\n  image: {{ .Values.image.repository }}{{- if .Values.digest -}}{{ printf \"@%s\" .Values.digest }}{{- else -}}{{ printf \":%s\" .Values.image.tag }}{{- end }}\n  port: {{ .Values.port }}\n";
        let rendered = render(template, &values()).text;
        assert!(rendered.contains("image: ghcr.io/acme/relay:1.4.0\n"), "{rendered}");
        assert!(rendered.contains("port: 8080"), "{rendered}");
        // A name completed by a value harden cannot render ends where that value begins.
        let completed = format!("ghcr.io/acme/relay{}", super::super::UNKNOWN);
        assert_eq!(crate::orchestration::image_name(&completed), "relay");
    }

    #[test]
    fn a_values_block_is_written_at_its_indent_and_recorded() {
        let values: Value =
            yaml_serde::from_str("podSecurityContext: {}\ncontroller:\n  securityContext:\n    runAsNonRoot: true\n")
                .unwrap();
        // A pipe written without spaces (`.|`) is a pipe all the same, and a keyword needs no
        // space before its field (`with.Values`).
        let template = "spec:\n  {{- with.Values.podSecurityContext }}\n  securityContext:\n    {{- toYaml .| nindent 4 }}\n  {{- end }}\n  containers:\n  - name: app\n    securityContext: {{- .Values.controller.securityContext|toYaml | nindent 6 }}\n    resources: {{- merge .Values.resources (dict) | toYaml | nindent 6 }}\n";
        let rendered = render(template, &values);
        let paths: Vec<&[String]> = rendered.blocks.iter().map(|b| b.path.as_slice()).collect();
        assert_eq!(
            paths,
            [["podSecurityContext".to_string()].as_slice(), &["controller".into(), "securityContext".into()]]
        );
        assert_eq!(&rendered.text[rendered.blocks[0].range.clone()], "    {}\n");
        assert_eq!(&rendered.text[rendered.blocks[1].range.clone()], "      runAsNonRoot: true\n");
        let through_tpl = "spec:\n  {{- with .Values.podSecurityContext }}\n  securityContext:\n    {{- tpl (toYaml .) $ | nindent 4 }}\n  {{- end }}\n";
        let paths: Vec<Vec<String>> = render(through_tpl, &values).blocks.into_iter().map(|b| b.path).collect();
        assert_eq!(paths, [["podSecurityContext".to_string()]], "tpl over toYaml is the value");
        let parsed: Value = yaml_serde::from_str(&rendered.text).unwrap();
        let container = &parsed["spec"]["containers"][0];
        assert_eq!(container["securityContext"]["runAsNonRoot"], Value::Bool(true), "{}", rendered.text);
        assert!(container["resources"].is_null(), "a changed value is no block: {}", rendered.text);
    }

    #[test]
    fn one_branch_renders_and_empty_values_give_way_to_entries() {
        let template = "metadata:\n  labels:\n    {{- toYaml .Values.podLabels | nindent 4 }}\n    role: worker\nspec:\n  {{- if .Values.autoscaling }}\n  replicas: 1\n  {{- else }}\n  replicas: {{ .Values.replicas }}\n  {{- end }}\n  containers:\n  - name: app\n  {{- toYaml .Values.extra | nindent 2 }}\n  {{- range $k, $v := .Values.env }}\n  {{ $k }}: {{ $v }}\n  {{- end }}\n";
        let (rendered, parsed) = rendered("podLabels: {}\nextra: []\nreplicas: 2\n", template);
        assert_eq!(parsed["metadata"]["labels"]["role"], Value::from("worker"));
        assert_eq!(parsed["spec"]["replicas"], Value::from(2), "the else branch: {}", rendered.text);
        assert!(rendered.blocks.is_empty(), "no empty value is written where entries follow: {:?}", rendered.blocks);
        // A key whose own entries come less deep than the empty value (`annotations:` left out
        // by an `if`, the value then written under `metadata:`).
        let template = "template:\n  metadata:\n    {{- if .Values.metrics }}\n    annotations:\n    {{- end }}\n    {{- with .Values.customAnnotations }}\n      {{- toYaml . | nindent 6 }}\n    {{- end }}\n    labels:\n      app: x\n";
        let (annotated, parsed) = self::rendered("metrics: false\ncustomAnnotations: {}\n", template);
        assert_eq!(parsed["template"]["metadata"]["labels"]["app"], Value::from("x"), "{}", annotated.text);
    }

    #[test]
    fn a_block_and_the_end_of_its_with_on_one_line_close_the_with() {
        let template = "metadata:\n  labels:\n    app: x\n    {{- with .Values.commonLabels }}{{ toYaml . | trim | nindent 4 }}{{- end }}\n{{- if .Values.annotations }}\n  annotations:\n    {{- toYaml .Values.annotations | nindent 4 -}}\n{{- end }}\nspec:\n  replicas: 1\n";
        for values in ["commonLabels: {}\nannotations: {}\n", "commonLabels:\n  team: a\nannotations: {}\n"] {
            let values: Value = yaml_serde::from_str(values).unwrap();
            for rendered in [render(template, &values), render_every_branch(template, &values)] {
                let parsed: Value =
                    yaml_serde::from_str(&rendered.text).unwrap_or_else(|e| panic!("{e}: {}", rendered.text));
                assert_eq!(parsed["spec"]["replicas"], Value::from(1), "{}", rendered.text);
                assert_eq!(parsed["metadata"]["labels"]["app"], Value::from("x"), "{}", rendered.text);
            }
        }
    }

    #[test]
    fn conditions_on_values_choose_the_branch() {
        let values: Value =
            yaml_serde::from_str("hostNetwork:\n  enabled: false\nkind: Deployment\ndaemonset: false\n").unwrap();
        let template = "spec:\n  {{- if .Values.hostNetwork.enabled }}\n  hostNetwork: true\n  {{- end }}\n  {{- if eq .Values.kind \"DaemonSet\" }}\n  kind: a\n  {{- else if eq .Values.kind \"Deployment\" }}\n  kind: b\n  {{- else }}\n  kind: c\n  {{- end }}\n  {{- with .Values.daemonset }}\n  daemonset: here\n  {{- else }}\n  daemonset: none\n  {{- end }}\n  {{- if include \"x\" . }}\n  unknown: first\n  {{- else }}\n  unknown: second\n  {{- end }}\n";
        let parsed: Value = yaml_serde::from_str(&render(template, &values).text).unwrap();
        assert!(parsed["spec"].get("hostNetwork").is_none(), "{parsed:?}");
        assert_eq!(parsed["spec"]["kind"], Value::from("b"));
        assert_eq!(parsed["spec"]["daemonset"], Value::from("none"));
        assert_eq!(parsed["spec"]["unknown"], Value::from("first"), "an unknown condition takes the first branch");
        let watcher: Value = yaml_serde::from_str("event-watcher:\n  enabled: false\n").unwrap();
        let indexed = "spec:\n  {{- if index .Values \"event-watcher\" \"enabled\" }}\n  watcher: on\n  {{- end }}\n";
        assert!(!render(indexed, &watcher).text.contains("watcher: on"), "a key that is no name, by index");
        let wrapped = indexed.replace(
            "if index .Values \"event-watcher\" \"enabled\"",
            "if (index .Values \"event-watcher\" \"enabled\")",
        );
        assert!(!render(&wrapped, &watcher).text.contains("watcher: on"), "in parentheses");
        let global = "spec:\n  {{- if (eq .Values.global.scheduler.enabled true) }}\n  scheduler: on\n  {{- end }}\n";
        assert!(render(global, &watcher).text.contains("scheduler: on"), "a global the parent gives is not known here");
        let lists: Value = yaml_serde::from_str("extraNamespaces: []\npodSecurityContext: []\n").unwrap();
        let listed = "spec:\n  {{- if .Values.extraNamespaces }}\n  extra: on\n  {{- end }}\n  {{- if .Values.podSecurityContext }}\n  pod: on\n  {{- end }}\n";
        let listed = render(listed, &lists).text;
        assert!(!listed.contains("extra: on"), "an empty list is false, as Go takes it: {listed}");
        assert!(listed.contains("pod: on"), "a securityContext written [] is where harden writes: {listed}");
        // A branch opened inside a line and closed on a later one, with another.
        let opened =
            "args:\n  - --export={{ .Values.on }}{{ if .Values.on }}\n  - --channel=x\n{{- end }}{{- end }}\nport: 1\n";
        let opened = render(
            &format!("{{{{ if .Values.extra }}}}{opened}"),
            &yaml_serde::from_str("on: false\nextra: yes\n").unwrap(),
        )
        .text;
        assert!(opened.contains("port: 1") && !opened.contains("channel"), "{opened}");
    }

    #[test]
    fn and_or_of_conditions_and_a_trimmed_block_render() {
        let values: Value =
            yaml_serde::from_str("cloudProvider: aws\ncaPath: /etc/ca\npodSecurityContext:\n  fsGroup: 10\n").unwrap();
        let template = "spec:\n  {{- if and (eq .Values.cloudProvider \"magnum\") (.Values.caPath) }}\n  hostPath: magnum\n  {{- end }}\n  {{- if or (eq .Values.cloudProvider \"aws\") (.Values.other) }}\n  provider: aws\n  {{- end }}\n  securityContext:\n    {{ toYaml .Values.podSecurityContext | nindent 4 | trim }}\n";
        let rendered = render(template, &values);
        let parsed: Value = yaml_serde::from_str(&rendered.text).unwrap();
        assert!(parsed["spec"].get("hostPath").is_none(), "{}", rendered.text);
        assert_eq!(parsed["spec"]["provider"], Value::from("aws"));
        assert_eq!(parsed["spec"]["securityContext"]["fsGroup"], Value::from(10));
        assert_eq!(rendered.blocks[0].path, ["podSecurityContext"]);
        // Trimmed before its indent, it is the same block.
        let trimmed_first = template.replace("| nindent 4 | trim", "| trim | nindent 4");
        assert_eq!(render(&trimmed_first, &values).blocks[0].path, ["podSecurityContext"]);
        // So is one whose last newline is trimmed (kube-monkey's `trimSuffix "\n"`).
        let suffix_trimmed = template.replace("| nindent 4 | trim", "| trimSuffix \"\\n\" | nindent 4");
        assert_eq!(render(&suffix_trimmed, &values).blocks[0].path, ["podSecurityContext"]);
        // Sprig's string tests, the part first.
        let prefixed = "image: {{ if hasPrefix \"/\" .Values.caPath }}local{{ else }}remote{{ end }}\nsuffix: {{ if hasSuffix \"ws\" .Values.cloudProvider }}yes{{ else }}no{{ end }}\n";
        assert_eq!(render(prefixed, &values).text, "image: local\nsuffix: yes\n");
        let other: Value = yaml_serde::from_str("caPath: gcr.io/ca\ncloudProvider: gce\n").unwrap();
        assert_eq!(render(prefixed, &other).text, "image: remote\nsuffix: no\n");
        // An empty list is false in an `or`, and `true` a literal to compare with.
        let values: Value = yaml_serde::from_str(
            "volumeMounts: []
readOnly: false
",
        )
        .unwrap();
        let template = "spec:
  {{- if or (.Values.volumeMounts) (eq .Values.readOnly true) }}
  tmp: mounted
  {{- end }}
  name: x
";
        let rendered = render(template, &values);
        assert!(!rendered.text.contains("tmp: mounted"), "{}", rendered.text);
    }

    #[test]
    fn a_variable_that_names_a_value_is_that_value() {
        let values: Value = yaml_serde::from_str("controller:\n  securityContext:\n    runAsNonRoot: true\n").unwrap();
        let template = "{{- $sc := .Values.controller.securityContext | default dict }}\n{{- $other := include \"x\" . }}\nspec:\n  securityContext:\n    {{- toYaml $sc | nindent 4 }}\n  other:\n    {{- toYaml $other | nindent 4 }}\n";
        let rendered = render(template, &values);
        let paths: Vec<&[String]> = rendered.blocks.iter().map(|b| b.path.as_slice()).collect();
        assert_eq!(paths, [["controller".to_string(), "securityContext".to_string()].as_slice()], "{}", rendered.text);
    }

    #[test]
    fn an_omitted_switch_is_left_out_and_an_include_leaves_its_key() {
        let template = "metadata:\n  labels: {{- include \"common.labels\" . | nindent 4 }}\n    app: controller\nspec:\n  securityContext: {{- omit .Values.podSecurityContext \"enabled\" | toYaml | nindent 4 }}\n";
        let (rendered, parsed) = rendered("podSecurityContext:\n  enabled: true\n  fsGroup: 1001\n", template);
        assert_eq!(parsed["metadata"]["labels"]["app"], Value::from("controller"));
        assert_eq!(parsed["spec"]["securityContext"]["fsGroup"], Value::from(1001));
        assert!(parsed["spec"]["securityContext"].get("enabled").is_none(), "{}", rendered.text);
        assert_eq!(rendered.blocks[0].path, ["podSecurityContext"]);
    }

    #[test]
    fn comments_multi_line_actions_and_inline_branches_render() {
        let template = "spec:\n  {{- /* true for {{- if $value }} and 0 */ -}}\n  containers:\n  - {{- if .Values.image.release }}\n    image: {{ .Values.image.repository }}:{{ .Values.image.release }}\n    {{- else }}\n    image: {{ .Values.image.repository }}\n    {{- end }}\n    args:\n    - --a\n    {{- include \"flags\" (pick .Values\n      \"x\"\n    ) | nindent 4 }}\n    - --b\n";
        let (rendered, parsed) = rendered("image:\n  repository: acme/gk\n  release: v3\n", template);
        let container = &parsed["spec"]["containers"][0];
        assert_eq!(container["image"], Value::from("acme/gk:v3"), "{}", rendered.text);
        assert_eq!(container["args"], Value::from(vec!["--a", "--b"]), "{}", rendered.text);
    }

    #[test]
    fn a_quoted_template_inside_an_action_is_its_text() {
        let template = "spec:\n  {{- if tpl \"{{ .Values.affinity }}\" . | contains \"nodeSelectorTerms\" }}\n  affinity: {}\n  {{- end }}\n  containers:\n  - name: app\n    image: {{ \"a \\\"}}\\\" b\" | quote }}\n";
        let (rendered, parsed) = rendered("affinity: {}\n", template);
        assert_eq!(parsed["spec"]["containers"][0]["name"], Value::from("app"), "{}", rendered.text);
        assert!(!rendered.text.contains("{{"), "{}", rendered.text);
    }

    #[test]
    fn a_helper_that_writes_a_security_context_is_marked_where_it_stands() {
        let template = "spec:\n  {{ template \"app.securityContext.pod\" . -}}\n  containers:\n    - name: app\n      {{- template \"app.securityContext.container\" . }}\n      image: app\n";
        let (rendered, parsed) = rendered("{}", template);
        let marked = |v: &Value| v.is_null();
        assert!(marked(&parsed["spec"]["securityContext"]), "{}", rendered.text);
        assert!(marked(&parsed["spec"]["containers"][0]["securityContext"]), "{}", rendered.text);
        assert_eq!(rendered.text.matches(HELPER_WRITTEN).count(), 2, "{}", rendered.text);
        // A container whose fields after its name a helper writes; another helper's list items
        // (arguments) are not a container.
        let template = "spec:\n  containers:\n  - name: app\n    args:\n    - --a\n    {{- include \"flags\" . | nindent 4 }}\n  - name: proxy\n    {{- include \"x.proxySpec\" . | nindent 4 }}\n";
        let (spec, parsed) = self::rendered("{}", template);
        assert!(marked(&parsed["spec"]["containers"][1]["securityContext"]), "{}", spec.text);
        assert_eq!(spec.text.matches(HELPER_WRITTEN).count(), 1, "{}", spec.text);
    }
}
