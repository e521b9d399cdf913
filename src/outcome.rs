//! What the engine of a file type makes of one file.

use crate::finding::Finding;

/// The result of analysing (and rewriting) one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Not a file harden handles: nothing to do, and why.
    Skipped(String),
    /// A file harden handles: its findings, and the rewritten text when `fix` changes it.
    Hardened {
        /// Findings on the original, each marked fixed or not.
        findings: Vec<Finding>,
        /// The rewritten text, when it differs from the original.
        rewritten: Option<String>,
        /// What the user should know about the file beyond its findings: why a rewrite was not
        /// proposed, or what was left alone on request.
        reason: Option<String>,
        /// True when the rewrite is a security change: it changes who the program runs as, what
        /// it runs on or what the image carries, or a pod's security context. A rewrite of build
        /// flags, cache mounts, `ADD` or command forms alone is not, and `harden pr` does not
        /// propose it alone.
        security: bool,
    },
}

/// A file that cannot be parsed, with the 1-based line and column the parser reported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ParseError {
    /// 1-based line of the error.
    pub line: usize,
    /// 1-based column of the error.
    pub column: usize,
    /// What the parser expected.
    pub message: String,
}
