//! Carries out a [`Plan`] as byte-span edits of the original text.
//!
//! Every change is a splice: lines harden does not need to touch stay byte-identical,
//! comments and formatting included. New text comes from the templates in `templates/`
//! and follows the file's style (line endings, keyword case).

mod builder;
mod runtime_stage;
mod split;
mod writable;

use std::ops::Range;

use minijinja::Environment;

use crate::edit::Edit;

pub use builder::{builder_pin, debian_programs, leaves_eol_base, other_modules_built};

use super::facts::Facts;
use super::model::Instruction;
use super::plan::{Plan, RuntimePlan};

/// The edits that carry out `plan`.
pub fn edits(facts: &Facts<'_>, plan: &Plan) -> Vec<Edit> {
    let style = Style::of(facts);
    let mut out = Vec::new();
    if plan.edit_builds {
        builder::edits(facts, plan, &style, &mut out);
    }
    builder::add_to_copy(facts, &mut out);
    builder::distroless_eol(facts, plan, &mut out);
    if super::analyse::runtime_on_build_platform(facts, plan) == Some(true)
        && let Some(span) = &facts.runtime_stage().from.platform_span
    {
        out.push(Edit::delete(span.clone()));
    }
    match &plan.runtime {
        RuntimePlan::Split { image, copies, .. } => {
            split::edits(facts, &style, image, copies, &plan.writable, &mut out)
        }
        RuntimePlan::Convert { image } => {
            // The directories first: their copies go before the USER the conversion may insert.
            writable::convert(facts, &plan.writable, &style, &mut out);
            runtime_stage::convert(facts, plan, &style, image.as_deref(), &mut out);
        }
        RuntimePlan::Keep => runtime_stage::keep(facts, plan, &mut out),
    }
    runtime_stage::number_side_users(facts, &mut out);
    out
}

/// How the file writes lines: its line ending and whether its keywords are lowercase.
pub struct Style {
    /// `\n` or `\r\n`.
    pub nl: &'static str,
    /// True when every instruction keyword in the file is lowercase.
    pub lowercase: bool,
}

impl Style {
    fn of(facts: &Facts<'_>) -> Self {
        let keywords = facts.df.stages.iter().flat_map(|s| {
            std::iter::once(&facts.text[s.from.span.start..s.from.span.start + 4])
                .chain(s.instructions.iter().map(|i| i.keyword.as_str()))
        });
        let lowercase = keywords.clone().all(|k| k.chars().all(|c| !c.is_ascii_uppercase()));
        Style { nl: facts.df.newline, lowercase }
    }

    /// `text` as lines in the file's style: each line ended with its line ending, and the
    /// leading keyword lowercased in a lowercase file.
    pub fn lines(&self, text: &str) -> String {
        text.lines()
            .map(|line| {
                let line = match line.split_once(' ') {
                    Some((kw, rest)) if self.lowercase && kw.chars().all(|c| c.is_ascii_uppercase()) => {
                        format!("{} {rest}", kw.to_ascii_lowercase())
                    }
                    _ => line.to_string(),
                };
                format!("{line}{}", self.nl)
            })
            .collect()
    }

    /// `word` as an instruction keyword in the file's style.
    pub fn keyword(&self, word: &str) -> String {
        if self.lowercase { word.to_ascii_lowercase() } else { word.to_string() }
    }
}

/// The bytes to delete to remove an instruction and the comments attached above it. When a
/// blank line comes before, the blank lines after go too, so no double gap is left.
pub fn removal(text: &str, inst: &Instruction) -> Range<usize> {
    let start = inst.comments_start;
    let mut end = inst.span.end;
    let blank_before = start == 0 || text[..start].ends_with("\n\n") || text[..start].ends_with("\n\r\n");
    if blank_before {
        while end < text.len() {
            let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
            if !text[end..line_end].trim().is_empty() {
                break;
            }
            end = line_end;
        }
    }
    start..end
}

/// The built-in templates, compiled once.
fn templates() -> &'static Environment<'static> {
    static TEMPLATES: std::sync::OnceLock<Environment<'static>> = std::sync::OnceLock::new();
    TEMPLATES.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in [(split::TEMPLATE, split::RUNTIME_STAGE), (builder::TEMPLATE, builder::MODULE_DOWNLOAD)] {
            env.add_template(name, source).expect("built-in template compiles");
        }
        env
    })
}

/// Renders a built-in template; they are fixed text, so a failure is a bug in harden.
fn render(name: &str, ctx: minijinja::Value) -> String {
    let template = templates().get_template(name).expect("built-in template exists");
    template.render(ctx).expect("built-in template renders")
}
