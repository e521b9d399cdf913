//! Where things are in a YAML file: a small positioned tree built from `yaml-edit`'s
//! lossless syntax tree, and the file's writing style (indent, sequence style, line ending).
//!
//! The tree only says where a mapping, entry, sequence or scalar sits; what a value means
//! comes from `yaml_serde`. Edits are byte splices at these positions.

use std::ops::Range;
use std::str::FromStr;

use yaml_edit::{Mapping, Sequence, YamlFile, YamlNode};

/// A node of the positioned tree.
#[derive(Debug, Clone)]
pub enum Node {
    /// A mapping; `flow` for `{a: 1}`.
    Map {
        /// True for flow style.
        flow: bool,
        /// Its entries, in order.
        entries: Vec<Entry>,
        /// Its bytes.
        range: Range<usize>,
    },
    /// A sequence; `flow` for `[a, b]`.
    Seq {
        /// True for flow style.
        flow: bool,
        /// Its items, in order.
        items: Vec<Node>,
        /// Its bytes.
        range: Range<usize>,
    },
    /// A scalar (or anything harden does not edit into: aliases, tags), by its bytes.
    Scalar {
        /// Its bytes (quotes included).
        range: Range<usize>,
    },
    /// No value: `key:` followed by nothing, or by a null written out (`~`, `null`).
    Empty {
        /// Where the value would go.
        at: usize,
        /// The null as written (empty when nothing is written), which a new value replaces.
        written: Range<usize>,
    },
}

/// One `key: value` of a mapping.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The key as written, unquoted.
    pub key: String,
    /// The key's bytes.
    pub key_range: Range<usize>,
    /// The value.
    pub value: Node,
    /// The whole entry's bytes (for block entries, through the end of its last line).
    pub range: Range<usize>,
}

impl Node {
    /// The entry `key` of a mapping.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match self {
            Node::Map { entries, .. } => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    /// The value at `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// The items of a sequence (none for anything else).
    pub fn items(&self) -> &[Node] {
        match self {
            Node::Seq { items, .. } => items,
            _ => &[],
        }
    }

    /// The bytes of the node.
    pub fn range(&self) -> Range<usize> {
        match self {
            Node::Map { range, .. } | Node::Seq { range, .. } | Node::Scalar { range } => range.clone(),
            Node::Empty { at, .. } => *at..*at,
        }
    }
}

/// How a file writes YAML, so inserted lines look like their neighbours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Spaces per nesting level.
    pub indent: usize,
    /// Columns between a key and the dashes of its block sequence (0: flush `- item`).
    pub seq_indent: usize,
    /// `\n` or `\r\n`.
    pub nl: &'static str,
}

/// Builds the positioned tree of each document of `text` (`None` for a document whose root is
/// not a mapping).
pub fn documents(text: &str) -> Result<Vec<Option<Node>>, String> {
    let file = YamlFile::from_str(text).map_err(|e| e.to_string())?;
    Ok(file.documents().map(|doc| doc.as_mapping().map(|m| mapping(text, &m))).collect())
}

fn node(text: &str, value: &YamlNode) -> Node {
    let r = value.byte_range();
    let range = r.start as usize..r.end as usize;
    if let Some(m) = value.as_mapping() {
        mapping(text, m)
    } else if let Some(s) = value.as_sequence() {
        sequence(text, s)
    } else if text[range.clone()].trim().is_empty() {
        Node::Empty { at: range.start, written: range.start..range.start }
    } else if matches!(text[range.clone()].trim(), "~" | "null" | "Null" | "NULL") {
        let start = range.start + (text[range.clone()].len() - text[range.clone()].trim_start().len());
        let written = start..start + text[range.clone()].trim().len();
        Node::Empty { at: range.start, written }
    } else {
        Node::Scalar { range }
    }
}

fn mapping(text: &str, m: &Mapping) -> Node {
    let r = m.byte_range();
    let entries = m
        .entries()
        .filter_map(|e| {
            let key = e.key_node()?;
            let kr = key.byte_range();
            let key_range = kr.start as usize..kr.end as usize;
            let key_text = text[key_range.clone()].trim().trim_matches(|c| c == '"' || c == '\'').to_string();
            let empty = Node::Empty { at: key_range.end, written: key_range.end..key_range.end };
            let value = e.value_node().map_or(empty, |v| node(text, &v));
            let er = e.byte_range();
            Some(Entry { key: key_text, key_range, value, range: er.start as usize..er.end as usize })
        })
        .collect();
    Node::Map { flow: m.is_flow_style(), entries, range: r.start as usize..r.end as usize }
}

fn sequence(text: &str, s: &Sequence) -> Node {
    let r = s.byte_range();
    Node::Seq {
        flow: s.is_flow_style(),
        items: s.values().map(|v| node(text, &v)).collect(),
        range: r.start as usize..r.end as usize,
    }
}

/// The column of byte `offset` (bytes since the start of its line).
pub fn column(text: &str, offset: usize) -> usize {
    offset - text[..offset].rfind('\n').map_or(0, |i| i + 1)
}

impl Style {
    /// Reads the style off the file: the most common indent step between a block mapping and
    /// its block child, and how its block sequences sit under their keys.
    pub fn of(text: &str, docs: &[Option<Node>]) -> Self {
        let mut steps = Vec::new();
        let mut seq_offsets = Vec::new();
        for doc in docs.iter().flatten() {
            visit(text, doc, &mut steps, &mut seq_offsets);
        }
        let most_common = |v: &[usize], default: usize| {
            let mut counts = std::collections::BTreeMap::new();
            for x in v {
                *counts.entry(*x).or_insert(0) += 1;
            }
            counts
                .into_iter()
                .max_by_key(|&(value, n)| (n, std::cmp::Reverse(value)))
                .map_or(default, |(value, _)| value)
        };
        let indent = most_common(&steps, 2).clamp(1, 8);
        Style {
            indent,
            seq_indent: most_common(&seq_offsets, indent),
            nl: if text.contains("\r\n") { "\r\n" } else { "\n" },
        }
    }
}

fn visit(text: &str, node: &Node, steps: &mut Vec<usize>, seq_offsets: &mut Vec<usize>) {
    let Node::Map { flow: false, entries, .. } = node else {
        if let Node::Seq { items, .. } = node {
            for item in items {
                visit(text, item, steps, seq_offsets);
            }
        }
        return;
    };
    for entry in entries {
        let key_col = column(text, entry.key_range.start);
        match &entry.value {
            Node::Map { flow: false, entries: children, .. } => {
                if let Some(child) = children.first() {
                    let child_col = column(text, child.key_range.start);
                    if child_col > key_col {
                        steps.push(child_col - key_col);
                    }
                }
            }
            Node::Seq { flow: false, items, .. } if !items.is_empty() => {
                // The dash on the first item's own line (a comment above it may hold dashes too:
                // `# -- Timezone for the container.`).
                let first = items[0].range().start;
                let line = text[..first].rfind('\n').map_or(0, |i| i + 1);
                if let Some(dash) = text[line..first].rfind('-').map(|d| line + d)
                    && column(text, dash) >= key_col
                {
                    seq_offsets.push(column(text, dash) - key_col);
                }
            }
            _ => {}
        }
        visit(text, &entry.value, steps, seq_offsets);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_positions_and_style() {
        let text = "a:\n    b: 1\n    c:\n    - x\n    d: {e: 2}\n    f:\n    g: ~ # none\n";
        let docs = documents(text).unwrap();
        let root = docs[0].as_ref().unwrap();
        let a = root.get("a").unwrap();
        assert_eq!(&text[a.get("b").unwrap().range()], "1");
        assert!(matches!(a.get("d"), Some(Node::Map { flow: true, .. })));
        assert!(matches!(a.get("f"), Some(Node::Empty { written, .. }) if written.is_empty()));
        let Some(Node::Empty { written, .. }) = a.get("g") else { panic!("g is empty") };
        assert_eq!(&text[written.clone()], "~");
        let style = Style::of(text, &docs);
        assert_eq!((style.indent, style.seq_indent), (4, 0));
        let commented = "env:\n  # -- The container's time zone.\n  - name: TZ\n    value: UTC\n";
        let style = Style::of(commented, &documents(commented).unwrap());
        assert_eq!(style.seq_indent, 2, "the dashes of a comment above the first item are not its dash");
    }
}
