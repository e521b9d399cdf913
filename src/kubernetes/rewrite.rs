//! Turns intended [`Change`]s into byte edits that keep everything else byte-identical.
//!
//! Each change is resolved against the positioned tree: an existing scalar is replaced in
//! place; missing keys are grouped under the deepest mapping that exists and written there
//! in that mapping's own style (block lines at its indent, or `, key: value` inside `{…}`);
//! items are appended to sequences the same way.

use yaml_serde::{Mapping, Value};

use crate::edit::Edit;

use super::change::{Change, Op, Seg};
use super::tree::{Node, Style, column};

mod comments;
use comments::{commented_copy, commented_example, past_deeper_comments};

/// Where new text goes, and in which form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Anchor {
    /// Append entries to the block mapping whose keys sit at `column`, whose first line starts
    /// at byte `start`, after byte `end`.
    BlockMap { start: usize, end: usize, column: usize },
    /// Add entries before the `}` at `close` of a flow mapping.
    FlowMap { close: usize, empty: bool },
    /// Write a block value under the key (at `column`) whose line ends at `end`.
    EmptyValue { end: usize, column: usize },
    /// Append items to the block sequence whose dashes sit at `column`, after byte `end`.
    BlockSeq { end: usize, column: usize },
    /// Add items before the `]` at `close` of a flow sequence.
    FlowSeq { close: usize, empty: bool },
    /// Write block items under the key (at `column`) whose line ends at `end`, in place of an
    /// empty flow sequence (`volumes: []`), which a mapping written in flow would not match.
    EmptySeq { end: usize, column: usize },
}

impl Anchor {
    /// Sort key: by position; where several end at the same place, the innermost first: the
    /// larger column, and at the same column a sequence or empty value before the mapping whose
    /// last key holds it (a flush `- item` sits at its key's column).
    fn order(&self) -> (usize, std::cmp::Reverse<usize>, u8) {
        match *self {
            Anchor::BlockSeq { end, column }
            | Anchor::EmptyValue { end, column }
            | Anchor::EmptySeq { end, column } => (end, std::cmp::Reverse(column), 0),
            Anchor::BlockMap { end, column, .. } => (end, std::cmp::Reverse(column), 1),
            Anchor::FlowMap { close, .. } | Anchor::FlowSeq { close, .. } => (close, std::cmp::Reverse(usize::MAX), 0),
        }
    }
}

/// The edits that carry out `changes` on the document trees of `text`.
pub fn edits(text: &str, docs: &[Option<Node>], style: &Style, changes: &[Change]) -> Result<Vec<Edit>, String> {
    let mut replacements: Vec<Edit> = Vec::new();
    // Insertions grouped by anchor, keeping the order of the changes.
    let mut groups = Groups::default();
    // The written nulls (`key: ~`) that new values replace, each removed once.
    let mut nulls: Vec<std::ops::Range<usize>> = Vec::new();
    for change in changes {
        let root = docs.get(change.doc).and_then(Option::as_ref).ok_or("the document has no mapping root")?;
        let (node, rest) = resolve(root, &change.path);
        if let (Node::Empty { written, .. }, Op::Set(_)) = (node, &change.op)
            && !written.is_empty()
            && !nulls.contains(written)
        {
            nulls.push(written.clone());
        }
        match (&change.op, rest.is_empty()) {
            (Op::Set(value), true) => match node {
                Node::Scalar { range } => {
                    // A string keeps the quotes of the scalar it replaces (`"all"` → `"ALL"`).
                    let quote = text[range.clone()].chars().next().filter(|c| matches!(c, '"' | '\''));
                    replacements.push(Edit::replace(range.clone(), quoted(value, quote)))
                }
                Node::Empty { .. } => {
                    push(&mut groups, anchor_of_empty(text, root, &change.path)?, vec![], value.clone())
                }
                Node::Seq { flow, items, .. } => replacements.extend(replace_items(text, *flow, items, value)?),
                _ => return Err("a value to replace is not a scalar".into()),
            },
            (Op::Set(value), false) => {
                let keys = keys_of(rest)?;
                let anchor = match node {
                    // `securityContext: {}` becomes a block mapping, as the rest of the file is
                    // written (and a commented-out example under it can still be uncommented); so
                    // does `[]` written for one (no template renders an empty list).
                    Node::Map { flow: true, range, .. } | Node::Seq { flow: true, range, .. }
                        if (matches!(node, Node::Map { entries, .. } if entries.is_empty())
                            || matches!(node, Node::Seq { items, .. } if items.is_empty()))
                            && in_block_mapping(root, &change.path[..change.path.len() - rest.len()]) =>
                    {
                        if !nulls.contains(range) {
                            nulls.push(range.clone());
                        }
                        anchor_of_empty(text, root, &change.path[..change.path.len() - rest.len()])?
                    }
                    Node::Map { .. } => anchor_of_map(text, node)?,
                    Node::Empty { .. } => anchor_of_empty(text, root, &change.path[..change.path.len() - rest.len()])?,
                    Node::Seq { .. } => return Err("a new key would go under a list, which is no mapping".into()),
                    _ => return Err("a new key would go under a scalar".into()),
                };
                push(&mut groups, anchor, keys, value.clone());
            }
            (Op::Append(value), true) => {
                let anchor = match node {
                    // `volumes: []` becomes a block sequence, as the rest of the file is written.
                    Node::Seq { flow: true, items, range } if items.is_empty() && value.is_mapping() => {
                        if !nulls.contains(range) {
                            nulls.push(range.clone());
                        }
                        match anchor_of_empty(text, root, &change.path)? {
                            Anchor::EmptyValue { end, column } => Anchor::EmptySeq { end, column },
                            other => other,
                        }
                    }
                    _ => anchor_of_seq(text, node)?,
                };
                push(&mut groups, anchor, vec![], value.clone())
            }
            (Op::Append(_), false) => return Err("an append to a sequence that is not there".into()),
        }
    }
    // Where a nested mapping ends where its parent ends, the deeper insertion goes first.
    let mut groups = groups.list;
    groups.sort_by_key(|(anchor, _)| anchor.order());
    let mut out = replacements;
    for null in nulls {
        // From the end of `key:` (spaces before the null go with it) to the end of the null.
        let start = text[..null.start].trim_end_matches([' ', '\t']).len();
        out.push(Edit::delete(start..null.end));
    }
    for (anchor, items) in groups {
        out.extend(insertion(text, style, &anchor, items));
    }
    Ok(out)
}

/// The edits that make a sequence of scalars (`drop: [NET_RAW, CHOWN]`, or an item a line) hold
/// `value`, a sequence of no more scalars: its first items take the new ones, each keeping its
/// quotes, and the items past them go, with the comments between them.
fn replace_items(text: &str, flow: bool, items: &[Node], value: &Value) -> Result<Vec<Edit>, String> {
    let new = value.as_sequence().filter(|new| !new.is_empty() && new.len() <= items.len());
    let new = new.filter(|new| new.iter().all(|v| !v.is_mapping() && !v.is_sequence()));
    let new = new.ok_or("a value to replace is not a scalar")?;
    let mut edits = Vec::new();
    for (item, value) in items.iter().zip(new) {
        let Node::Scalar { range } = item else { return Err("a value to replace is not a scalar".into()) };
        let quote = text[range.clone()].chars().next().filter(|c| matches!(c, '"' | '\''));
        edits.push(Edit::replace(range.clone(), quoted(value, quote)));
    }
    let (kept, last) = (items[new.len() - 1].range().end, items[items.len() - 1].range().end);
    match flow {
        _ if new.len() == items.len() => {}
        true => edits.push(Edit::delete(kept..last)),
        false => edits.push(Edit::delete(line_end(text, kept)..line_end(text, last))),
    }
    Ok(edits)
}

/// Walks `path` as far as the tree goes: the deepest node found and the rest of the path.
fn resolve<'a, 'p>(root: &'a Node, path: &'p [Seg]) -> (&'a Node, &'p [Seg]) {
    let mut node = root;
    for (i, seg) in path.iter().enumerate() {
        let next = match seg {
            Seg::Key(k) => node.get(k),
            Seg::Index(n) => node.items().get(*n),
        };
        match next {
            Some(n) => node = n,
            None => return (node, &path[i..]),
        }
    }
    (node, &[])
}

fn keys_of(rest: &[Seg]) -> Result<Vec<String>, String> {
    rest.iter()
        .map(|s| match s {
            Seg::Key(k) => Ok(k.clone()),
            Seg::Index(_) => Err("a missing sequence item".to_string()),
        })
        .collect()
}

/// A new value and the keys leading to it from its anchor (none for an item or a whole value).
type Item = (Vec<String>, Value);

/// New keys and items by the place they go, in the order the changes came.
#[derive(Default)]
struct Groups {
    list: Vec<(Anchor, Vec<Item>)>,
    index: std::collections::HashMap<Anchor, usize>,
}

fn push(groups: &mut Groups, anchor: Anchor, keys: Vec<String>, value: Value) {
    match groups.index.get(&anchor) {
        Some(&i) => groups.list[i].1.push((keys, value)),
        None => {
            groups.index.insert(anchor.clone(), groups.list.len());
            groups.list.push((anchor, vec![(keys, value)]));
        }
    }
}

fn anchor_of_map(text: &str, node: &Node) -> Result<Anchor, String> {
    let Node::Map { flow, entries, range } = node else { return Err("not a mapping".into()) };
    if *flow {
        let close = text[..range.end].rfind('}').ok_or("a flow mapping without }")?;
        return Ok(Anchor::FlowMap { close, empty: entries.is_empty() });
    }
    let first = entries.first().ok_or("an empty block mapping")?;
    let last = entries.last().ok_or("an empty block mapping")?;
    let column = column(text, first.key_range.start);
    let start = text[..first.key_range.start].rfind('\n').map_or(0, |at| at + 1);
    Ok(Anchor::BlockMap { start, end: past_deeper_comments(text, line_end(text, last.range.end), column), column })
}

/// True when the key at `key_path` is an entry of a block mapping (not of `{…}`, where a value
/// must stay in flow).
fn in_block_mapping(root: &Node, key_path: &[Seg]) -> bool {
    let (parent, rest) = resolve(root, &key_path[..key_path.len().saturating_sub(1)]);
    rest.is_empty() && matches!(parent, Node::Map { flow: false, .. })
}

/// The anchor for writing a value under a key that has none (`securityContext:` alone).
fn anchor_of_empty(text: &str, root: &Node, key_path: &[Seg]) -> Result<Anchor, String> {
    let (parent, rest) = resolve(root, &key_path[..key_path.len() - 1]);
    let Some(Seg::Key(key)) = key_path.last() else { return Err("an empty value that is not a key's".into()) };
    let entry = parent.entry(key).filter(|_| rest.is_empty()).ok_or("the key of an empty value is missing")?;
    Ok(Anchor::EmptyValue { end: line_end(text, entry.key_range.end), column: column(text, entry.key_range.start) })
}

fn anchor_of_seq(text: &str, node: &Node) -> Result<Anchor, String> {
    let Node::Seq { flow, items, range } = node else { return Err("not a sequence".into()) };
    if *flow {
        let close = text[..range.end].rfind(']').ok_or("a flow sequence without ]")?;
        return Ok(Anchor::FlowSeq { close, empty: items.is_empty() });
    }
    let first = items.first().ok_or("an empty block sequence")?.range();
    let last = items.last().ok_or("an empty block sequence")?.range();
    let dash = text[..first.start].rfind('-').ok_or("a block sequence without a dash")?;
    let column = column(text, dash);
    Ok(Anchor::BlockSeq { end: past_deeper_comments(text, line_end(text, last.end), column), column })
}

/// The end of the line holding byte `at - 1` (after its newline), or the end of the text.
fn line_end(text: &str, at: usize) -> usize {
    if at > 0 && text.as_bytes()[at - 1] == b'\n' {
        return at;
    }
    text[at..].find('\n').map_or(text.len(), |i| at + i + 1)
}

/// The edits for one anchor's group of new keys or items.
fn insertion(text: &str, style: &Style, anchor: &Anchor, items: Vec<Item>) -> Vec<Edit> {
    let nl = style.nl;
    let merged = || {
        let mut map = Value::Mapping(Mapping::new());
        for (keys, value) in &items {
            nest(&mut map, keys, value.clone());
        }
        map
    };
    let at_line_start = |end: usize, lines: String| {
        // At the end of a file without a final newline, start a line and keep the file that way.
        if end == text.len() && !text.ends_with('\n') {
            Edit::insert(end, format!("{nl}{}", lines.strip_suffix(nl).unwrap_or(&lines)))
        } else {
            Edit::insert(end, lines)
        }
    };
    let edit = match *anchor {
        Anchor::BlockMap { start, end, column } => {
            let Value::Mapping(map) = merged() else { unreachable!("merged is a mapping") };
            let mut edits = Vec::new();
            let mut rest = Mapping::new();
            for (key, value) in map {
                let one = Value::Mapping(Mapping::from_iter([(key.clone(), value.clone())]));
                let lines = block_entries(&one, column, style);
                match (commented_copy(&text[start..end], &lines, column), commented_example(&text[end..], &one, column))
                {
                    (Some(range), _) => edits.push(Edit::replace(start + range.start..start + range.end, lines)),
                    // An example after the block, under a prose line (kubebuilder's `# TODO(user):
                    // uncomment …`), goes: the key is written in the block.
                    (None, Some(range)) => {
                        // With the prose that asks to uncomment it, when that is all there is before it.
                        let before = &text[end..end + range.start];
                        let asks = before.to_ascii_lowercase().contains("uncomment")
                            && before.lines().all(|l| l.trim_start().starts_with('#'));
                        let from = if asks { end } else { end + range.start };
                        edits.push(Edit::delete(from..end + range.end));
                        _ = rest.insert(key, value);
                    }
                    (None, None) => _ = rest.insert(key, value),
                }
            }
            if !rest.is_empty() {
                edits.push(at_line_start(end, block_entries(&Value::Mapping(rest), column, style)));
            }
            return edits;
        }
        Anchor::EmptyValue { end, column } => {
            // The whole value when a change sets it, else the keys the changes add under it.
            let value = items.iter().find(|(keys, _)| keys.is_empty()).map_or_else(merged, |(_, v)| v.clone());
            let Value::Mapping(map) = value else {
                let Value::Sequence(seq) = &value else { return vec![at_line_start(end, String::new())] };
                return vec![at_line_start(end, block_items(seq, column + style.seq_indent, style))];
            };
            // A key the comments under it show commented out with the same value (`helm
            // create`'s `# capabilities:` …) takes that example's place instead of doubling it.
            let inner = column + style.indent;
            let mut edits = Vec::new();
            let mut rest = Mapping::new();
            for (key, value) in map {
                let one = Value::Mapping(Mapping::from_iter([(key.clone(), value.clone())]));
                match commented_example(&text[end..], &one, inner) {
                    Some(range) => {
                        edits.push(Edit::replace(end + range.start..end + range.end, block_entries(&one, inner, style)))
                    }
                    None => _ = rest.insert(key, value),
                }
            }
            if !rest.is_empty() {
                edits.push(at_line_start(end, block_entries(&Value::Mapping(rest), inner, style)));
            }
            return edits;
        }
        Anchor::FlowMap { close, empty } => {
            let Value::Mapping(map) = merged() else { unreachable!("merged is a mapping") };
            let body: Vec<String> = map.iter().map(|(k, v)| format!("{}: {}", flow(k), flow(v))).collect();
            Edit::insert(close, format!("{}{}", if empty { "" } else { ", " }, body.join(", ")))
        }
        Anchor::BlockSeq { end, column } => {
            let values: Vec<Value> = items.into_iter().map(|(_, v)| v).collect();
            at_line_start(end, block_items(&values, column, style))
        }
        Anchor::EmptySeq { end, column } => {
            let values: Vec<Value> = items.into_iter().map(|(_, v)| v).collect();
            at_line_start(end, block_items(&values, column + style.seq_indent, style))
        }
        Anchor::FlowSeq { close, empty } => {
            // New strings take the quotes of the items already there (`["NET_RAW", "ALL"]`).
            let quote = text[..close].trim_end().chars().last().filter(|c| matches!(c, '"' | '\''));
            let body: Vec<String> = items.iter().map(|(_, v)| quoted(v, quote)).collect();
            Edit::insert(close, format!("{}{}", if empty { "" } else { ", " }, body.join(", ")))
        }
    };
    vec![edit]
}

/// A value in flow style, a plain string in `quote`s when one is given.
fn quoted(value: &Value, quote: Option<char>) -> String {
    match (value, quote) {
        (Value::String(s), Some(q)) if is_plain(s) => format!("{q}{s}{q}"),
        _ => flow(value),
    }
}

/// Sets `keys` → `value` inside a mapping value, creating the levels between.
fn nest(map: &mut Value, keys: &[String], value: Value) {
    let Some((first, rest)) = keys.split_first() else { return };
    let Some(m) = map.as_mapping_mut() else { return };
    let key = Value::String(first.clone());
    if rest.is_empty() {
        m.insert(key, value);
    } else {
        let child = m.entry(key).or_insert_with(|| Value::Mapping(Mapping::new()));
        nest(child, rest, value);
    }
}

/// The entries of a mapping value as block lines at `column`.
fn block_entries(value: &Value, column: usize, style: &Style) -> String {
    let Value::Mapping(map) = value else { return String::new() };
    let pad = " ".repeat(column);
    let nl = style.nl;
    let mut out = String::new();
    for (k, v) in map {
        match v {
            Value::Mapping(m) if !m.is_empty() => {
                out.push_str(&format!("{pad}{}:{nl}", flow(k)));
                out.push_str(&block_entries(v, column + style.indent, style));
            }
            Value::Sequence(s) if !s.is_empty() => {
                out.push_str(&format!("{pad}{}:{nl}", flow(k)));
                out.push_str(&block_items(s, column + style.seq_indent, style));
            }
            _ => out.push_str(&format!("{pad}{}: {}{nl}", flow(k), flow(v))),
        }
    }
    out
}

/// Sequence items as block lines with their dashes at `column`.
fn block_items(items: &[Value], column: usize, style: &Style) -> String {
    let pad = " ".repeat(column);
    let nl = style.nl;
    let mut out = String::new();
    for item in items {
        match item {
            Value::Mapping(m) if !m.is_empty() => {
                let lines = block_entries(item, column + 2, style);
                // The first entry goes on the dash's line.
                out.push_str(&format!("{pad}- {}", lines.trim_start_matches(' ')));
            }
            _ => out.push_str(&format!("{pad}- {}{nl}", flow(item))),
        }
    }
    out
}

/// A value in flow style: `true`, `65532`, `RuntimeDefault`, `{type: RuntimeDefault}`, `[ALL]`.
pub fn flow(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if is_plain(s) => s.clone(),
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        Value::Sequence(items) => format!("[{}]", items.iter().map(flow).collect::<Vec<_>>().join(", ")),
        Value::Mapping(map) => {
            let body: Vec<String> = map.iter().map(|(k, v)| format!("{}: {}", flow(k), flow(v))).collect();
            format!("{{{}}}", body.join(", "))
        }
        Value::Tagged(t) => flow(&t.value),
    }
}

/// True for a string YAML reads back as the same string without quotes.
fn is_plain(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-'))
        && !s.starts_with(['-', '.'])
        && s.parse::<f64>().is_err()
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
        )
}
