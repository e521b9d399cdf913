//! Intended changes to a manifest, as paths and values. The rewriter turns them into byte
//! edits; the checker applies them to the parsed original and requires the rewritten file
//! to parse to exactly that, so a splice that writes valid but wrong YAML is caught.

use yaml_serde::{Mapping, Value};

/// One step of a path from a document's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// What a change does at its path.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Set the value, creating missing parent mappings.
    Set(Value),
    /// Append to the sequence there.
    Append(Value),
}

/// One intended change.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Index of the document in the file.
    pub doc: usize,
    /// Where, from the document's root.
    pub path: Vec<Seg>,
    /// What.
    pub op: Op,
}

/// Builds a path from keys and indexes written as `"spec"`, `"0"`…: a segment that is all
/// digits is an index.
pub fn path(segments: &[&str]) -> Vec<Seg> {
    segments
        .iter()
        .map(|s| match s.parse::<usize>() {
            Ok(i) => Seg::Index(i),
            Err(_) => Seg::Key((*s).to_string()),
        })
        .collect()
}

/// Applies a change to a parsed document. `Err` when the path does not fit the document.
pub fn apply(doc: &mut Value, change: &Change) -> Result<(), String> {
    let mut node = doc;
    let last = change.path.len().saturating_sub(1);
    for (i, seg) in change.path.iter().enumerate() {
        let creating = i < last || matches!(change.op, Op::Set(_));
        node = match seg {
            Seg::Key(key) => {
                // A null, or an empty list written for a mapping (`securityContext: []`), is
                // replaced by the mapping.
                let empty_list = node.as_sequence().is_some_and(Vec::is_empty);
                if (node.is_null() || empty_list) && creating {
                    *node = Value::Mapping(Mapping::new());
                }
                let map = node.as_mapping_mut().ok_or_else(|| format!("{key} is not under a mapping"))?;
                let key = Value::String(key.clone());
                if !map.contains_key(&key) {
                    map.insert(key.clone(), Value::Null);
                }
                map.get_mut(&key).ok_or("missing key")?
            }
            Seg::Index(index) => {
                node.as_sequence_mut().and_then(|s| s.get_mut(*index)).ok_or_else(|| format!("no item {index}"))?
            }
        };
    }
    match &change.op {
        Op::Set(value) => *node = value.clone(),
        Op::Append(value) => node.as_sequence_mut().ok_or("append to a non-sequence")?.push(value.clone()),
    }
    Ok(())
}

/// A mapping value from `(key, value)` pairs, in order.
pub fn map<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Mapping(pairs.into_iter().map(|(k, v)| (Value::String(k.into()), v)).collect())
}

/// A string value.
pub fn string(s: &str) -> Value {
    Value::String(s.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_sets_and_appends() {
        let mut doc: Value = yaml_serde::from_str("spec:\n  containers:\n  - name: a\n    ports: [1]\n").unwrap();
        let set = Change {
            doc: 0,
            path: path(&["spec", "containers", "0", "securityContext", "runAsNonRoot"]),
            op: Op::Set(Value::Bool(true)),
        };
        let append = Change { doc: 0, path: path(&["spec", "containers", "0", "ports"]), op: Op::Append(2.into()) };
        apply(&mut doc, &set).unwrap();
        apply(&mut doc, &append).unwrap();
        let want: Value = yaml_serde::from_str(
            "spec:\n  containers:\n  - name: a\n    ports: [1, 2]\n    securityContext: {runAsNonRoot: true}\n",
        )
        .unwrap();
        assert_eq!(doc, want);
    }
}
