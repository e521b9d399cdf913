//! Byte-span edits and applying them, so untouched bytes stay identical.

use std::ops::Range;

/// Replace `range` of the original text with `text` (an insertion when the range is empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// The bytes replaced.
    pub range: Range<usize>,
    /// What goes in their place.
    pub text: String,
}

impl Edit {
    /// Inserts `text` at `at`.
    pub fn insert(at: usize, text: impl Into<String>) -> Self {
        Edit { range: at..at, text: text.into() }
    }

    /// Replaces `range` with `text`.
    pub fn replace(range: Range<usize>, text: impl Into<String>) -> Self {
        Edit { range, text: text.into() }
    }

    /// Deletes `range`.
    pub fn delete(range: Range<usize>) -> Self {
        Edit { range, text: String::new() }
    }
}

/// Two edits that change the same bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("overlapping edits at bytes {first:?} and {second:?}")]
pub struct Overlap {
    /// The first edit's range.
    pub first: Range<usize>,
    /// The second edit's range.
    pub second: Range<usize>,
}

/// Applies `edits` to `text`. Insertions at the same point keep the order they were given in.
pub fn apply(text: &str, edits: &[Edit]) -> Result<String, Overlap> {
    let mut order: Vec<usize> = (0..edits.len()).collect();
    order.sort_by_key(|&i| (edits[i].range.start, edits[i].range.end, i));
    for pair in order.windows(2) {
        let (a, b) = (&edits[pair[0]].range, &edits[pair[1]].range);
        if b.start < a.end || (a == b && !a.is_empty()) {
            return Err(Overlap { first: a.clone(), second: b.clone() });
        }
    }
    let mut out = String::with_capacity(text.len() + edits.iter().map(|e| e.text.len()).sum::<usize>());
    let mut pos = 0;
    for &i in &order {
        let edit = &edits[i];
        out.push_str(&text[pos..edit.range.start]);
        out.push_str(&edit.text);
        pos = edit.range.end;
    }
    out.push_str(&text[pos..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_in_order_and_keeps_the_rest() {
        let edits = [Edit::insert(5, "A"), Edit::replace(0..1, "x"), Edit::insert(5, "B"), Edit::delete(7..9)];
        assert_eq!(apply("hello world", &edits).unwrap(), "xelloAB wld");
    }

    #[test]
    fn refuses_overlaps() {
        assert!(apply("hello", &[Edit::replace(0..3, "x"), Edit::delete(2..4)]).is_err());
    }
}
