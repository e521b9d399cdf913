//! Byte offsets to line numbers.

/// Maps byte offsets to lines.
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes the line starts of `text`.
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// 1-based line of `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset)
    }

    /// Offset of the start of the line holding `offset`.
    pub fn line_start(&self, offset: usize) -> usize {
        self.starts[self.line_of(offset) - 1]
    }
}
