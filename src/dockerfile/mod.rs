//! Go Dockerfiles: detect, analyse, rewrite, check.
//!
//! [`harden`] is the whole pipeline for one file's text and is pure: parse → facts →
//! plan → findings → edits → re-parse and check the contract. The caller does the I/O.

pub mod analyse;
pub mod contract;
pub mod facts;
pub mod gobuild;
pub mod image;
pub mod model;
pub mod pin;
pub mod plan;
pub mod rewrite;
pub mod runtime;
pub mod variables;

use crate::config::Config;
use crate::edit;
use crate::finding::Finding;
pub use crate::outcome::Outcome;
use crate::rules;
use crate::source::SourceFacts;

pub use model::ParseError;

/// Analyses and rewrites one Dockerfile.
pub fn harden(text: &str, source: &SourceFacts, config: &Config) -> Result<Outcome, ParseError> {
    // The parser's spans do not count a byte-order mark; work without it and put it back.
    if let Some(body) = text.strip_prefix('\u{feff}') {
        let mut outcome = harden(body, source, config)?;
        if let Outcome::Hardened { rewritten: Some(new), .. } = &mut outcome {
            new.insert(0, '\u{feff}');
        }
        return Ok(outcome);
    }
    let df = model::Dockerfile::parse(text)?;
    let facts = facts::Facts::new(text, &df, source, config);
    if !facts.is_go_build() {
        return Ok(Outcome::Skipped("not a Go build: no golang base image and no go build or go install".into()));
    }
    let plan = plan::decide(&facts);
    let mut findings = analyse::findings(&facts, &plan);
    let edits = rewrite::edits(&facts, &plan);
    let (rewritten, reason) = match edit::apply(text, &edits) {
        Ok(new) if new == text => (None, None),
        Ok(new) => match check(&facts, &new, source, config) {
            Ok(after) => {
                mark_fixed(&mut findings, &df, &after);
                (Some(new), None)
            }
            Err(why) => (None, Some(format!("the rewrite is not proposed: {why}"))),
        },
        Err(overlap) => (None, Some(format!("the rewrite is not proposed: internal error: {overlap}"))),
    };
    Ok(Outcome::Hardened { findings, rewritten, reason })
}

/// Re-parses the rewritten text, checks the image contract, and returns its findings with
/// where they are.
fn check(
    before: &facts::Facts<'_>,
    new: &str,
    source: &SourceFacts,
    config: &Config,
) -> Result<Vec<(&'static str, Scope)>, String> {
    let df = model::Dockerfile::parse(new).map_err(|e| format!("the rewritten file does not parse ({e})"))?;
    let after = facts::Facts::new(new, &df, source, config);
    contract::check(&contract::of(before), &contract::of(&after))?;
    let plan = plan::decide(&after);
    Ok(analyse::findings(&after, &plan).iter().map(|f| (f.rule, Scope::of(f, &df))).collect())
}

/// Where a finding is, for matching findings before and after a rewrite: the runtime (whatever
/// its stage index becomes), or a stage by index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Runtime,
    Stage(Option<usize>),
}

impl Scope {
    fn of(finding: &Finding, df: &model::Dockerfile) -> Self {
        if rules::RUNTIME_SCOPED.iter().any(|r| r.id == finding.rule) {
            return Scope::Runtime;
        }
        Scope::Stage(df.stages.iter().rposition(|s| s.from.line <= finding.line))
    }
}

/// Marks each finding that has no counterpart (same rule, same place) after the rewrite as fixed.
fn mark_fixed(findings: &mut [Finding], df: &model::Dockerfile, after: &[(&str, Scope)]) {
    let mut remaining = after.to_vec();
    for finding in findings.iter_mut() {
        let key = (finding.rule, Scope::of(finding, df));
        match remaining.iter().position(|k| *k == key) {
            Some(i) => {
                remaining.remove(i);
            }
            None => finding.fixed = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_order_mark_is_kept_and_does_not_shift_edits() {
        let text = "\u{feff}FROM golang:1.22 AS build\nRUN CGO_ENABLED=0 go build -o /app .";
        let Ok(Outcome::Hardened { rewritten: Some(new), .. }) =
            harden(text, &SourceFacts::default(), &Config::default())
        else {
            panic!("expected a rewrite");
        };
        assert!(new.starts_with("\u{feff}FROM golang:1.22 AS build\n"), "{new}");
        assert!(new.contains("go build -trimpath -ldflags=\"-s -w\" -o /app ."), "{new}");
    }
}
