//! Output formats for scan and fix results: text, JSON, SARIF and unified diffs; and what a run
//! tells the GitHub Actions runner (`github`).

mod diff;
pub mod github;
mod sarif;
mod text;

use serde::Serialize;

use crate::run::FileReport;

pub use diff::{diff, notes as diff_notes};
pub use sarif::sarif;
pub use text::text;

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable lines.
    Text,
    /// One JSON object: `{"files": [...]}`.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// Unified diffs of the rewritten files (`fix` only).
    Diff,
}

/// `count` and `noun`, the noun in the plural unless the count is one: "1 file", "2 files".
pub fn plural(count: usize, noun: &str) -> String {
    if count == 1 { format!("1 {noun}") } else { format!("{count} {noun}s") }
}

/// The JSON document: `{"files":[{"path","kind","status","reason","findings":[…]}]}`.
pub fn json(reports: &[FileReport]) -> String {
    #[derive(Serialize)]
    struct Document<'a> {
        files: &'a [FileReport],
    }
    serde_json::to_string_pretty(&Document { files: reports }).unwrap_or_default() + "\n"
}

/// Renders `reports` in `format`; `fixing` says whether `fixed` marks are meaningful, and
/// `category` names a SARIF run.
pub fn render(format: Format, reports: &[FileReport], fixing: bool, category: &str) -> String {
    match format {
        Format::Text => text(reports, fixing),
        Format::Json => json(reports),
        Format::Sarif => sarif(reports, category),
        Format::Diff => diff(reports),
    }
}
