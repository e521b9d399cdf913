//! Findings: what a rule says about one place in one file.

use serde::Serialize;

use crate::rules::{Rule, Severity};

/// One rule's verdict on one line of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule id, e.g. `HD106`.
    pub rule: &'static str,
    /// The severity (the rule's default).
    pub severity: Severity,
    /// 1-based line the finding points at.
    pub line: usize,
    /// What is wrong here, in words a user can act on.
    pub message: String,
    /// Whether `harden fix` resolves it.
    pub fixed: bool,
}

impl Finding {
    /// A finding of `rule` at `line`, not (yet) known to be fixed.
    pub fn new(rule: &Rule, line: usize, message: impl Into<String>) -> Self {
        Finding { rule: rule.id, severity: rule.severity, line, message: message.into(), fixed: false }
    }
}
