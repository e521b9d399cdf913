//! What a template's actions say of where the rendering is: the block actions it is in (the
//! branch an `if` on a value takes, what `.` is inside a `with`), the variables that name values,
//! and the `values.yaml` paths its words name. Pure.

use yaml_serde::Value;

use super::super::scalar;

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

/// Where the rendering is: the block actions it is in, and the variables that name values.
#[derive(Default)]
pub(super) struct Scope {
    frames: Vec<Frame>,
    vars: std::collections::BTreeMap<String, Vec<String>>,
}

impl Scope {
    /// True inside a branch not rendered.
    pub(super) fn dropped(&self) -> bool {
        self.frames.iter().any(|f| f.dropped)
    }
}
/// Carries out a control action (`if`, `else`, `with`, `range`, `define`, `block`, `end`, or a
/// variable naming a value) on `scope`; false for any other action.
pub(super) fn control(action: &str, values: &Value, scope: &mut Scope, evaluate: bool) -> bool {
    // Go's lexer ends a keyword where a field or variable starts: `with.Values.x` is `with .Values.x`.
    let keyword = ["with", "if", "range"]
        .into_iter()
        .find(|k| action.strip_prefix(k).is_some_and(|rest| rest.starts_with(['.', '$', '('])));
    let spaced = keyword.map(|k| format!("{k} {}", &action[k.len()..]));
    let words: Vec<&str> = spaced.as_deref().unwrap_or(action).split_whitespace().collect();
    match words.first().copied().unwrap_or_default() {
        "end" => drop(scope.frames.pop()),
        "else" => {
            let holds = match words.get(1) {
                Some(&"if") => condition(&words[2..], values, scope).filter(|_| evaluate),
                Some(_) => None,
                None => Some(true),
            };
            if let Some(f) = scope.frames.last_mut() {
                let take = !f.taken && holds != Some(false);
                f.dropped = !take;
                f.taken |= take;
            }
        }
        "with" => {
            let path = values_path(words.get(1).copied().unwrap_or_default(), scope);
            // An empty mapping or list still renders: what harden would write into it
            // (`podSecurityContext: {}`) is where the template takes it; so does a key written
            // with no value (`pod: null`), the chart's way to say it sets nothing there.
            let holds = path.as_ref().map(|p| {
                let v = lookup(values, p);
                truthy(v) || matches!(v, Value::Mapping(_) | Value::Sequence(_)) || written_empty(values, p)
            });
            scope.frames.push(Frame::branch(path.map_or(Dot::Unknown, Dot::Values), holds.filter(|_| evaluate)));
        }
        "range" | "define" => scope.frames.push(Frame { dot: Dot::Unknown, dropped: true, taken: true }),
        "if" => {
            let holds = condition(&words[1..], values, scope).filter(|_| evaluate);
            scope.frames.push(Frame::branch(Dot::Same, holds));
        }
        "block" => scope.frames.push(Frame::branch(Dot::Same, None)),
        // `$sc := .Values.controller.securityContext | default dict` names a value.
        name if name.starts_with('$') && words.get(1) == Some(&":=") => {
            let piped = words.get(3..).unwrap_or_default();
            let defaulted = matches!(piped, ["|", "default", "dict" | "(dict)"]);
            match words.get(2).and_then(|w| values_path(w, scope)).filter(|_| piped.is_empty() || defaulted) {
                Some(path) => _ = scope.vars.insert(name.to_string(), path),
                None => _ = scope.vars.remove(name),
            }
        }
        _ => return false,
    }
    true
}

/// What an `if` tests, where it reads only `values.yaml`: a value (`.Values.hostNetwork.enabled`,
/// empty or false when missing), `not` one, `eq`/`ne` of one and a string, or `and`/`or` of
/// such; `None` otherwise.
fn condition(words: &[&str], values: &Value, scope: &Scope) -> Option<bool> {
    // A condition in parentheses (`if (index .Values "x" "enabled")`) is the condition.
    let joined = words.join(" ");
    if let Some(inner) = joined.strip_prefix('(').and_then(|t| t.strip_suffix(')'))
        && super::action::split_top(inner, |c| c == ')').len() == 1
    {
        return condition(&inner.split_whitespace().collect::<Vec<_>>(), values, scope);
    }
    // A `global` value a chart does not hold is its parent's to give (a subchart's), not unset.
    let value = |word: &str| {
        let path = values_path(word, scope)?;
        let parents = path.first().is_some_and(|k| k == "global") && lookup(values, &path).is_null();
        (!parents).then(|| lookup(values, &path))
    };
    match words {
        // An empty mapping still renders, as for `with`: the template takes what harden would
        // write into it (`if .Values.podSecurityContext`), also where the chart wrote it `[]`;
        // another empty list is false, as Go takes it (`if .Values.extraNamespaces`).
        [path] => value(path).map(|v| match v {
            Value::Mapping(_) => true,
            Value::Sequence(_) if path.to_ascii_lowercase().ends_with("securitycontext") => true,
            v => truthy(v),
        }),
        ["not", path] => value(path).map(|v| !truthy(v)),
        // `and (eq .Values.cloudProvider "magnum") (.Values.caPath)`: each term a condition.
        [op @ ("and" | "or"), ..] => {
            let text = words[1..].join(" ");
            let terms = super::action::split_top(&text, char::is_whitespace);
            let each: Vec<Option<bool>> = terms
                .iter()
                .map(|t| {
                    let inner = t.strip_prefix('(').and_then(|t| t.strip_suffix(')')).unwrap_or(t);
                    match inner.split_whitespace().collect::<Vec<_>>().as_slice() {
                        // A term is true as Go templates take it: an empty list is false here.
                        [path] => value(path).map(truthy),
                        words => condition(words, values, scope),
                    }
                })
                .collect();
            let decides = *op == "or";
            match each.contains(&Some(decides)) {
                true => Some(decides),
                false => each.iter().all(Option::is_some).then_some(!decides),
            }
        }
        // `index .Values "event-watcher" "enabled"`: a key that is no name in a path.
        ["index", base, keys @ ..] if !keys.is_empty() => {
            let mut path = match *base {
                ".Values" | "$.Values" => Vec::new(),
                base => values_path(base, scope)?,
            };
            let key = |k: &&str| k.strip_prefix('"').and_then(|k| k.strip_suffix('"')).map(str::to_string);
            path.extend(keys.iter().map(key).collect::<Option<Vec<_>>>()?);
            Some(truthy(lookup(values, &path)))
        }
        // Sprig's string tests take the part first (`hasPrefix "/" .Values.image.repository`).
        [op @ ("hasPrefix" | "hasSuffix" | "contains"), part, whole] => {
            let part = part.strip_prefix('"').and_then(|p| p.strip_suffix('"'))?;
            let whole = scalar(value(whole)?)?;
            Some(match *op {
                "hasPrefix" => whole.starts_with(part),
                "hasSuffix" => whole.ends_with(part),
                _ => whole.contains(part),
            })
        }
        [op @ ("eq" | "ne"), a, b] => {
            let text = |word: &str| match word.strip_prefix('"').and_then(|w| w.strip_suffix('"')) {
                Some(quoted) => Some(quoted.to_string()),
                // A literal (`eq .Values.readOnlyRootFileSystem true`, `eq .Values.replicas 1`).
                None if word == "true" || word == "false" || word.parse::<f64>().is_ok() => Some(word.to_string()),
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

/// True when `path` names a key `values` writes with no value (`pod: null`, `pod:`).
fn written_empty(values: &Value, path: &[String]) -> bool {
    let Some((last, parent)) = path.split_last() else { return false };
    lookup(values, parent).as_mapping().is_some_and(|m| m.get(last.as_str()).is_some_and(Value::is_null))
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
pub(super) fn values_path(word: &str, scope: &Scope) -> Option<Vec<String>> {
    let path = path_named(word, scope)?;
    // A key is a name (`podSecurityContext`, `kube-rbac-proxy`), never a piece of syntax.
    let name = |k: &String| k.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    path.iter().all(name).then_some(path)
}

/// The keys of [`values_path`], as the word names them.
fn path_named(word: &str, scope: &Scope) -> Option<Vec<String>> {
    let word = word.trim_matches(|c| c == '(' || c == ')');
    let keys = |path: &str| path.split('.').filter(|k| !k.is_empty()).map(str::to_string).collect::<Vec<_>>();
    if let Some(path) = word.strip_prefix("$.Values.").or_else(|| word.strip_prefix(".Values.")) {
        return Some(keys(path));
    }
    // A variable that names a value (`$sc`, `$etcd.labels`).
    if word.starts_with('$') {
        let (name, rest) = word.split_once('.').unwrap_or((word, ""));
        let mut path = scope.vars.get(name)?.clone();
        path.extend(keys(rest));
        return Some(path);
    }
    let relative = word.strip_prefix('.')?;
    let mut path = match scope.frames.iter().map(|f| &f.dot).rev().find(|d| !matches!(d, Dot::Same))? {
        Dot::Values(path) => path.clone(),
        _ => return None,
    };
    path.extend(keys(relative));
    Some(path)
}
