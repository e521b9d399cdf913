//! A Helm chart's templates, read roughly for what their containers run: harden edits no
//! template, but an `exec` probe a chart's Deployment runs (`wget -q --spider …`) needs the shell and tools
//! of the image it runs as much as one in a plain manifest does.
//!
//! Rendering is approximate and pure: a line that is only a template action (`{{- if … }}`) is
//! dropped, one that writes a value whole (`{{- toYaml .Values.resources | nindent 12 }}`) is that
//! value at that indent, recorded (the chart's `values.yaml` is where harden hardens its pods), and
//! an action inside a line is replaced by the `values.yaml` value it names
//! (`{{ .Values.image.repository }}`), or by its quoted default, or by a word no image is called.

use std::ops::Range;
use std::path::PathBuf;

use yaml_serde::Value;

use super::{Repository, containers, documents, scalar};

/// What an action that names no value harden can read becomes.
pub const UNKNOWN: &str = "helm-template-value";

impl Repository {
    /// Reads a Helm chart's templates (`templates`: each path with its text) for the containers
    /// they run, their values filled in from the chart's `values.yaml` text.
    pub fn read_chart(&mut self, values: &str, templates: &[(PathBuf, String)]) {
        let values: Value = yaml_serde::from_str(values).unwrap_or(Value::Null);
        for (path, text) in templates {
            for doc in documents(&render(text, &values).text) {
                containers(&doc, &mut self.containers, &path.display().to_string());
            }
        }
    }
}

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

/// What `.` stands for inside a block action (`with`, `range`, `if`…).
enum Dot {
    /// A `with` of a `values.yaml` path: `.` is that value.
    Values(Vec<String>),
    /// A `with` or `range` of something else, or a `define`: `.` is unknown.
    Unknown,
    /// An `if` or `block`, which leave `.` as it was.
    Same,
}

/// A block action being rendered: what `.` is in it, whether its lines are dropped (a branch
/// whose condition is false, or after one taken; a `range` body, which repeats unknown items),
/// and whether a branch of it was taken.
struct Frame {
    dot: Dot,
    dropped: bool,
    taken: bool,
}

impl Frame {
    /// A branch whose condition is `holds` (`None`: not known, so taken unless one was).
    fn branch(dot: Dot, holds: Option<bool>) -> Frame {
        let taken = holds != Some(false);
        Frame { dot, dropped: !taken, taken }
    }
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
    let mut frames: Vec<Frame> = Vec::new();
    for line in template.lines() {
        let trimmed = line.trim();
        let dropped = frames.iter().any(|f| f.dropped);
        if trimmed.starts_with("{{") && trimmed.ends_with("}}") && trimmed.matches("{{").count() == 1 {
            let action = trimmed[2..trimmed.len() - 2].trim_matches(|c: char| c == '-' || c.is_whitespace());
            let keyword = action.split_whitespace().next().unwrap_or_default();
            let words: Vec<&str> = action.split_whitespace().collect();
            match keyword {
                "end" => drop(frames.pop()),
                "else" => {
                    let holds = match words.get(1) {
                        Some(&"if") => condition(&words[2..], values, &frames).filter(|_| evaluate),
                        Some(_) => None,
                        None => Some(true),
                    };
                    if let Some(f) = frames.last_mut() {
                        let take = !f.taken && holds != Some(false);
                        f.dropped = !take;
                        f.taken |= take;
                    }
                }
                "with" => {
                    let path = values_path(words.get(1).copied().unwrap_or_default(), &frames);
                    // An empty mapping or list (or none) still renders: what harden would
                    // write into it (`podSecurityContext: {}`) is where the template takes it.
                    let holds = path
                        .as_ref()
                        .map(|p| lookup(values, p))
                        .map(|v| truthy(v) || matches!(v, Value::Null | Value::Mapping(_) | Value::Sequence(_)));
                    frames.push(Frame::branch(path.map_or(Dot::Unknown, Dot::Values), holds.filter(|_| evaluate)));
                }
                "range" | "define" => frames.push(Frame { dot: Dot::Unknown, dropped: true, taken: true }),
                "if" => {
                    frames.push(Frame::branch(Dot::Same, condition(&words[1..], values, &frames).filter(|_| evaluate)))
                }
                "block" => frames.push(Frame::branch(Dot::Same, None)),
                _ if dropped => {}
                _ => {
                    if let Some((path, indent)) = block_action(action, &frames) {
                        write_block(&mut out, path, indent, values);
                    }
                }
            }
            continue;
        }
        if dropped {
            continue;
        }
        let mut rest = line;
        let mut wrote_block = false;
        while let Some(start) = rest.find("{{") {
            let Some(end) = rest[start..].find("}}") else { break };
            let action = &rest[start + 2..start + end];
            if let Some((path, indent)) =
                block_action(action.trim_matches(|c: char| c == '-' || c.is_whitespace()), &frames)
            {
                let before = rest[..start].trim_end();
                if !before.trim().is_empty() {
                    out.text.push_str(before);
                    out.text.push('\n');
                }
                write_block(&mut out, path, indent, values);
                wrote_block = true;
                break;
            }
            out.text.push_str(&rest[..start]);
            out.text.push_str(&action_value(action, values));
            rest = &rest[start + end + 2..];
        }
        if !wrote_block {
            out.text.push_str(rest);
            out.text.push('\n');
        }
    }
    drop_empty_before_entries(out)
}

/// What an `if` tests, where it reads only `values.yaml`: a value (`.Values.hostNetwork.enabled`,
/// empty or false when missing), `not` one, or `eq`/`ne` of one and a string; `None` otherwise.
fn condition(words: &[&str], values: &Value, frames: &[Frame]) -> Option<bool> {
    let value = |word: &str| values_path(word, frames).map(|p| lookup(values, &p));
    match words {
        // An empty mapping or list still renders, as for `with`: the template takes what harden
        // would write into it (`if .Values.podSecurityContext`).
        [path] => value(path).map(|v| truthy(v) || matches!(v, Value::Mapping(_) | Value::Sequence(_))),
        ["not", path] => value(path).map(|v| !truthy(v)),
        [op @ ("eq" | "ne"), a, b] => {
            let text = |word: &str| match word.strip_prefix('"').and_then(|w| w.strip_suffix('"')) {
                Some(quoted) => Some(quoted.to_string()),
                None => value(word).map(|v| scalar(v).unwrap_or_default()),
            };
            let equal = text(a)? == text(b)?;
            Some(equal == (*op == "eq"))
        }
        _ => None,
    }
}

/// The value at `path` (null when `values.yaml` does not hold it).
fn lookup<'v>(values: &'v Value, path: &[String]) -> &'v Value {
    static NULL: Value = Value::Null;
    path.iter().try_fold(values, |v, key| v.get(key.as_str())).unwrap_or(&NULL)
}

/// Whether Go templates take a value as true: not null, false, zero or empty.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Sequence(items) => !items.is_empty(),
        Value::Mapping(map) => !map.is_empty(),
        _ => true,
    }
}

/// The `values.yaml` keys a path in an action names: `.Values.a.b` (or `$.Values.a.b`), or one
/// relative to a `with` of values (`.`, `.securityContext`).
fn values_path(word: &str, frames: &[Frame]) -> Option<Vec<String>> {
    let word = word.trim_matches(|c| c == '(' || c == ')');
    let keys = |path: &str| path.split('.').filter(|k| !k.is_empty()).map(str::to_string).collect::<Vec<_>>();
    if let Some(path) = word.strip_prefix("$.Values.").or_else(|| word.strip_prefix(".Values.")) {
        return Some(keys(path));
    }
    let relative = word.strip_prefix('.')?;
    let mut path = match frames.iter().map(|f| &f.dot).rev().find(|d| !matches!(d, Dot::Same))? {
        Dot::Values(path) => path.clone(),
        _ => return None,
    };
    path.extend(keys(relative));
    Some(path)
}

/// The `values.yaml` path and indent of an action that writes a value whole as YAML at an indent
/// (`toYaml .Values.podSecurityContext | nindent 8`, `.Values.x | toYaml | indent 4`); none for
/// one that changes it on the way (`omit`, `merge`, `tpl`) or names no value.
fn block_action(action: &str, frames: &[Frame]) -> Option<(Vec<String>, usize)> {
    let words: Vec<&str> = action.split_whitespace().filter(|w| *w != "|").collect();
    let at = words.iter().position(|w| matches!(*w, "nindent" | "indent"))?;
    let indent = words.get(at + 1)?.parse().ok()?;
    let rest: Vec<&str> = words.iter().enumerate().filter(|(i, _)| *i != at && *i != at + 1).map(|(_, w)| *w).collect();
    match rest.as_slice() {
        ["toYaml", path] | [path, "toYaml"] => Some((values_path(path, frames)?, indent)),
        _ => None,
    }
}

/// Writes the value at `path` as YAML at `indent`, recording where it is. An empty value (or
/// one `values.yaml` does not hold) is written `{}` under a key of its own, and not at all after
/// other entries (`annotations:` with `prometheus.io/scrape` before it).
fn write_block(out: &mut Rendered, path: Vec<String>, indent: usize, values: &Value) {
    let value = path.iter().try_fold(values, |v, key| v.get(key.as_str())).filter(|v| !v.is_null());
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
/// `role: worker`), where it would not parse: the key then holds those entries.
fn drop_empty_before_entries(out: Rendered) -> Rendered {
    let indent = |line: &str| line.len() - line.trim_start().len();
    let mut kept = Rendered { text: String::with_capacity(out.text.len()), blocks: Vec::new() };
    let mut last = 0;
    for block in out.blocks {
        let next = out.text[block.range.end..].lines().find(|l| !l.trim().is_empty());
        if block.empty && next.is_some_and(|next| indent(next) >= indent(&out.text[block.range.clone()])) {
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

/// The value an action inside a line stands for: the first `.Values.` path it names, where
/// `values` has a scalar there; else its first quoted string (`default "8080"`).
fn action_value(action: &str, values: &Value) -> String {
    let action = action.trim_matches(|c: char| c == '-' || c.is_whitespace());
    // An empty value piped to `default` takes the default, as Helm renders it.
    let defaulted = action.contains("default");
    let looked_up = action.split(|c: char| c.is_whitespace() || c == '(' || c == ')').find_map(|word| {
        let path = word.strip_prefix(".Values.")?;
        scalar(path.split('.').try_fold(values, |v, key| v.get(key))?).filter(|v| !(defaulted && v.is_empty()))
    });
    // A format (`printf "v%s" .Chart.AppVersion`) is no value.
    let quoted =
        || defaulted.then(|| action.split('"').nth(1).filter(|q| !q.contains('%')).map(str::to_string)).flatten();
    let value = looked_up.or_else(quoted).unwrap_or_else(|| UNKNOWN.to_string());
    // `quote` writes the value as a YAML string (a cron schedule `*/2 * * * *` would be an alias).
    match action.split(|c: char| c.is_whitespace() || c == '|').any(|w| w == "quote" || w == "squote") {
        true => format!("{value:?}"),
        false => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn an_unknown_value_takes_its_quoted_default_or_names_nothing() {
        assert_eq!(action_value(" .Values.missing | default \"9090\" ", &values()), "9090");
        assert_eq!(action_value(" .Values.missing | default (printf \"v%s\" .Chart.AppVersion) ", &values()), UNKNOWN);
        assert_eq!(
            action_value(" .Values.schedule | quote ", &yaml_serde::from_str("schedule: '*/2 * * * *'").unwrap()),
            "\"*/2 * * * *\""
        );
        assert_eq!(action_value(" include \"relay.fullname\" . ", &values()), UNKNOWN);
        assert_eq!(action_value(" .Release.Name ", &values()), UNKNOWN);
    }

    #[test]
    fn a_values_block_is_written_at_its_indent_and_recorded() {
        let values: Value =
            yaml_serde::from_str("podSecurityContext: {}\ncontroller:\n  securityContext:\n    runAsNonRoot: true\n")
                .unwrap();
        let template = "spec:\n  {{- with .Values.podSecurityContext }}\n  securityContext:\n    {{- toYaml . | nindent 4 }}\n  {{- end }}\n  containers:\n  - name: app\n    securityContext: {{- .Values.controller.securityContext | toYaml | nindent 6 }}\n    resources: {{- omit .Values.resources \"x\" | toYaml | nindent 6 }}\n";
        let rendered = render(template, &values);
        let paths: Vec<&[String]> = rendered.blocks.iter().map(|b| b.path.as_slice()).collect();
        assert_eq!(
            paths,
            [["podSecurityContext".to_string()].as_slice(), &["controller".into(), "securityContext".into()]]
        );
        assert_eq!(&rendered.text[rendered.blocks[0].range.clone()], "    {}\n");
        assert_eq!(&rendered.text[rendered.blocks[1].range.clone()], "      runAsNonRoot: true\n");
        let parsed: Value = yaml_serde::from_str(&rendered.text).unwrap();
        let container = &parsed["spec"]["containers"][0];
        assert_eq!(container["securityContext"]["runAsNonRoot"], Value::Bool(true), "{}", rendered.text);
        assert_eq!(container["resources"].as_str(), Some(UNKNOWN), "a changed value is no block: {}", rendered.text);
    }

    #[test]
    fn one_branch_renders_and_empty_values_give_way_to_entries() {
        let values: Value = yaml_serde::from_str("podLabels: {}\nextra: []\nreplicas: 2\n").unwrap();
        let template = "metadata:\n  labels:\n    {{- toYaml .Values.podLabels | nindent 4 }}\n    role: worker\nspec:\n  {{- if .Values.autoscaling }}\n  replicas: 1\n  {{- else }}\n  replicas: {{ .Values.replicas }}\n  {{- end }}\n  containers:\n  - name: app\n  {{- toYaml .Values.extra | nindent 2 }}\n  {{- range $k, $v := .Values.env }}\n  {{ $k }}: {{ $v }}\n  {{- end }}\n";
        let rendered = render(template, &values);
        let parsed: Value = yaml_serde::from_str(&rendered.text).unwrap_or_else(|e| panic!("{e}: {}", rendered.text));
        assert_eq!(parsed["metadata"]["labels"]["role"], Value::from("worker"));
        assert_eq!(parsed["spec"]["replicas"], Value::from(2), "the else branch: {}", rendered.text);
        assert!(rendered.blocks.is_empty(), "no empty value is written where entries follow: {:?}", rendered.blocks);
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
    }
}
