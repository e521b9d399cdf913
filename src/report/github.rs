//! What a run tells the GitHub Actions runner (`--github`): annotations as workflow commands on
//! stdout, step outputs for `$GITHUB_OUTPUT`, and a Markdown job summary for
//! `$GITHUB_STEP_SUMMARY`. Rendering is pure text; [`Runner`] is the one place that prints the
//! commands and appends to the runner's files. Not for code scanning, which reads the SARIF log
//! (`sarif.rs`).

use std::fmt::Write as _;
use std::hash::BuildHasher as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::discover::Kind;
use crate::propose::pr;
use crate::rules::{self, Severity};
use crate::run::{FileReport, Status};
use crate::verify::{ImageReport, Verdict, report::markdown};

/// How many annotations of each level (error, warning, notice) GitHub shows for one step.
pub const ANNOTATIONS_PER_LEVEL: usize = 10;

/// Table rows shown open in the summary; a longer table folds into `<details>`.
const OPEN_ROWS: usize = 20;

/// Findings listed in the summary at the most: a step's summary is limited to 1 MiB.
const MAX_ROWS: usize = 1000;

/// One step output, `name` and value.
pub type Output = (&'static str, String);

/// The annotations for `reports` (with `fixing`, only what the fix leaves), errors first, at most
/// [`ANNOTATIONS_PER_LEVEL`] of each level, and how many were left out. Paths are made relative
/// to `workspace`, as GitHub places annotations by the path in the repository.
pub fn annotations(reports: &[FileReport], fixing: bool, workspace: &Path) -> (String, usize) {
    let mut all: Vec<(Severity, String)> = Vec::new();
    for report in reports {
        let file = property(&repository_path(&report.path, workspace));
        if report.status == Status::Error {
            let reason = report.reason.as_deref().unwrap_or("cannot be read");
            all.push((Severity::Error, format!("::error file={file},title=harden::{}", data(reason))));
        }
        for f in report.findings.iter().filter(|f| !(fixing && f.fixed)) {
            let level = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "notice",
            };
            let fixable = if f.fixed { " (harden fix resolves this)" } else { "" };
            let line = f.line.max(1);
            let message = data(&format!("{}{fixable}", f.message));
            all.push((f.severity, format!("::{level} file={file},line={line},title={}::{message}", f.rule)));
        }
    }
    all.sort_by_key(|(severity, _)| std::cmp::Reverse(*severity));
    let mut out = String::new();
    let mut left_out = 0;
    for level in [Severity::Error, Severity::Warning, Severity::Info] {
        let of_level: Vec<&String> = all.iter().filter(|(s, _)| *s == level).map(|(_, a)| a).collect();
        left_out += of_level.len().saturating_sub(ANNOTATIONS_PER_LEVEL);
        for annotation in of_level.into_iter().take(ANNOTATIONS_PER_LEVEL) {
            out.push_str(annotation);
            out.push('\n');
        }
    }
    (out, left_out)
}

/// The job summary of a scan (or, with `fixing`, a fix): a count line and the findings table,
/// folded into `<details>` when long; `left_out` annotations are said to be in it.
pub fn findings_summary(reports: &[FileReport], fixing: bool, left_out: usize) -> String {
    let findings: usize = reports.iter().map(|r| r.findings.len()).sum();
    let fixable = reports.iter().flat_map(|r| &r.findings).filter(|f| f.fixed).count();
    let changed = reports.iter().filter(|r| r.status == Status::Changed).count();
    let (command, verb, changing) = if fixing { ("fix", "fixed", "changed") } else { ("scan", "fixable", "to change") };
    let mut out = format!(
        "### harden {command}\n\n{} ({changed} {changing}), {}, {fixable} {verb}.\n\n",
        // Directories passed over are listed in the report, not counted as files.
        super::plural(reports.iter().filter(|r| r.kind != Kind::Directory).count(), "file"),
        super::plural(findings, "finding"),
    );
    let mut rows = Vec::new();
    for report in reports {
        let file = cell(&report.path);
        if report.status == Status::Error {
            rows.push(format!("| `{file}` | | | error | {} | |", cell(report.reason.as_deref().unwrap_or(""))));
        }
        for f in &report.findings {
            let name = rules::by_id(f.rule).map_or("", |r| r.name);
            let fix = if f.fixed { verb } else { "" };
            let (rule, severity, message) = (f.rule, f.severity.as_str(), cell(&f.message));
            rows.push(format!("| `{file}` | {} | {rule} {name} | {severity} | {message} | {fix} |", f.line));
        }
    }
    if !rows.is_empty() {
        let mut table = String::from("| file | line | rule | severity | finding | fix |\n|---|---|---|---|---|---|\n");
        for row in rows.iter().take(MAX_ROWS) {
            table.push_str(row);
            table.push('\n');
        }
        if rows.len() > MAX_ROWS {
            let _ = writeln!(table, "\n{} more rows are in the SARIF log and the JSON report.", rows.len() - MAX_ROWS);
        }
        out.push_str(&fold(&format!("{} findings", rows.len()), &table, rows.len()));
    }
    if left_out > 0 {
        let _ = writeln!(
            out,
            "\nAnnotations left out: {left_out} (GitHub shows {ANNOTATIONS_PER_LEVEL} of each level per step)."
        );
    }
    out
}

/// The job summary of a build proof: the before/after table, folded when long.
pub fn proof_summary(images: &[ImageReport]) -> String {
    let proven = images.iter().filter(|i| i.verdict == Verdict::Proven).count();
    let head = format!("### Build proof\n\n{} Dockerfiles built before and after, {proven} proven.\n\n", images.len());
    if images.is_empty() {
        return head;
    }
    head + &fold("the build proof", &markdown(images), 2 * images.len())
}

/// The step outputs of a scan or a fix: `findings`, `fixable` (findings the fix resolves) and
/// `changed-files` (a JSON array of the files the fix changes).
pub fn report_outputs(reports: &[FileReport]) -> Vec<Output> {
    let findings: usize = reports.iter().map(|r| r.findings.len()).sum();
    let fixable = reports.iter().flat_map(|r| &r.findings).filter(|f| f.fixed).count();
    let changed: Vec<&str> = reports.iter().filter(|r| r.status == Status::Changed).map(|r| r.path.as_str()).collect();
    vec![
        ("findings", findings.to_string()),
        ("fixable", fixable.to_string()),
        ("changed-files", serde_json::to_string(&changed).unwrap_or_default()),
    ]
}

/// The step outputs of a build proof: `bytes-before`, `bytes-after` and `bytes-saved`, summed over
/// the proven images.
pub fn proof_outputs(images: &[ImageReport]) -> Vec<Output> {
    let (before, after) = images
        .iter()
        .filter(|i| i.verdict == Verdict::Proven)
        .filter_map(|i| Some((i.before.bytes?, i.after.bytes?)))
        .fold((0, 0), |(b, a), (before, after)| (b + before, a + after));
    vec![
        ("bytes-before", before.to_string()),
        ("bytes-after", after.to_string()),
        ("bytes-saved", before.saturating_sub(after).to_string()),
    ]
}

/// Step outputs as `$GITHUB_OUTPUT` takes them: `name=value`, or `name<<DELIMITER` lines for a
/// value with a line break, with a delimiter that is no line of the value.
pub fn outputs(pairs: &[Output]) -> String {
    let mut out = String::new();
    for (name, value) in pairs {
        if !value.contains('\n') && !value.contains('\r') {
            let _ = writeln!(out, "{name}={value}");
            continue;
        }
        let delimiter =
            (0..).map(|n| format!("HARDEN_EOF_{n}")).find(|d| !value.lines().any(|l| l == d)).unwrap_or_default();
        let _ = writeln!(out, "{name}<<{delimiter}\n{value}\n{delimiter}");
    }
    out
}

/// While a `Fence` lives, the runner takes no line printed to stdout for a workflow command
/// (`::stop-commands::TOKEN`, until `::TOKEN::` when it is dropped). The reports print paths and
/// text from the repository, which a pull request controls: a file named `::set-output …` must
/// stay a name. The token is random, so nothing in the repository can end the fence early.
pub struct Fence(String);

impl Fence {
    /// Stops the runner reading workflow commands until the fence is dropped.
    pub fn raise() -> Self {
        let token =
            format!("harden-{:016x}", std::collections::hash_map::RandomState::new().hash_one(std::process::id()));
        println!("::stop-commands::{token}");
        Fence(token)
    }
}

impl Drop for Fence {
    fn drop(&mut self) {
        println!("::{}::", self.0);
    }
}

/// The runner's side: the files it reads outputs and the summary from, and the workspace.
pub struct Runner {
    output: Option<PathBuf>,
    summary: Option<PathBuf>,
    workspace: PathBuf,
}

impl Runner {
    /// The runner as the environment describes it (`GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`,
    /// `GITHUB_WORKSPACE`); a file that is not set is not written.
    pub fn from_env() -> Self {
        let var = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        Runner {
            output: var("GITHUB_OUTPUT"),
            summary: var("GITHUB_STEP_SUMMARY"),
            workspace: var("GITHUB_WORKSPACE").unwrap_or_default(),
        }
    }

    /// Tells the runner about a scan or a fix: prints the annotations (and how many were left out)
    /// and sets the outputs (`sarif-file` too, when one was written) and the summary.
    pub fn reports(&self, reports: &[FileReport], fixing: bool, sarif: Option<&Path>) -> std::io::Result<()> {
        let (annotations, left_out) = annotations(reports, fixing, &self.workspace);
        print!("{annotations}");
        if left_out > 0 {
            println!(
                "harden: annotations left out: {left_out} (GitHub shows {ANNOTATIONS_PER_LEVEL} of each level per \
                 step); the job summary lists every finding"
            );
        }
        let mut pairs = report_outputs(reports);
        pairs.extend(sarif.map(|path| ("sarif-file", path.display().to_string())));
        self.publish(&pairs, &findings_summary(reports, fixing, left_out))
    }

    /// Tells the runner about a build proof: the byte outputs and the table.
    pub fn proof(&self, images: &[ImageReport]) -> std::io::Result<()> {
        self.publish(&proof_outputs(images), &proof_summary(images))
    }

    /// Tells the runner what `harden pr` did: `pr-number` and `pr-url` when there is a pull
    /// request, the outputs of its scan and proof, and a summary with the line it printed.
    pub fn pull(&self, report: &pr::Report, line: &str) -> std::io::Result<()> {
        let mut pairs = report_outputs(&report.files);
        let mut summary = format!("### harden pr\n\n{line}\n");
        if let Some((number, url)) = &report.pull {
            pairs.extend([("pr-number", number.to_string()), ("pr-url", url.clone())]);
        }
        if !report.proof.is_empty() {
            pairs.extend(proof_outputs(&report.proof));
            summary = summary + "\n" + &proof_summary(&report.proof);
        }
        self.publish(&pairs, &summary)
    }

    /// Appends `pairs` to the outputs file and `summary` to the summary file, where they are set.
    fn publish(&self, pairs: &[Output], summary: &str) -> std::io::Result<()> {
        for (file, text) in [(&self.output, outputs(pairs)), (&self.summary, summary.to_string())] {
            if let Some(path) = file {
                std::fs::OpenOptions::new().create(true).append(true).open(path)?.write_all(text.as_bytes())?;
            }
        }
        Ok(())
    }
}

/// `table` with a heading line, inside `<details>` when it has more than [`OPEN_ROWS`] rows.
fn fold(what: &str, table: &str, rows: usize) -> String {
    if rows > OPEN_ROWS {
        format!("<details><summary>{what} ({rows} rows)</summary>\n\n{table}\n</details>\n")
    } else {
        table.to_string()
    }
}

/// The path as the repository names it: relative to the workspace, without a leading `./`.
fn repository_path(path: &str, workspace: &Path) -> String {
    let relative = Path::new(path).strip_prefix(workspace).ok().filter(|_| !workspace.as_os_str().is_empty());
    let path = relative.map_or_else(|| path.to_string(), |p| p.display().to_string());
    path.trim_start_matches("./").to_string()
}

/// A workflow command's message, escaped as the runner unescapes it.
fn data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// A workflow command's property value (`file=…`): also `:` and `,` escaped.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

/// A Markdown table cell: no line breaks, no column separators.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Finding;
    use crate::verify::Side;

    fn report(path: &str, findings: Vec<Finding>) -> FileReport {
        FileReport {
            findings,
            original: None,
            rewritten: None,
            security: true,
            ..FileReport::new(path.into(), Kind::Dockerfile, Status::Changed, None)
        }
    }

    fn finding(rule: &str, line: usize, fixed: bool) -> Finding {
        let mut f = Finding::new(rules::by_id(rule).unwrap(), line, "a message, with: 100% of it\non two lines");
        f.fixed = fixed;
        f
    }

    #[test]
    fn annotations_are_escaped_capped_per_level_and_errors_come_first() {
        let mut findings: Vec<Finding> = (1..=12).map(|line| finding("HD104", line, true)).collect();
        findings.push(finding("HD106", 3, true));
        let reports = [report("/w/svc,a/Dockerfile", findings)];
        let (text, left_out) = annotations(&reports, false, Path::new("/w"));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 11, "{text}");
        assert_eq!(left_out, 2, "12 notices, 10 shown");
        assert_eq!(
            lines[0],
            "::error file=svc%2Ca/Dockerfile,line=3,title=HD106::a message, with: 100%25 of it%0Aon two lines \
             (harden fix resolves this)"
        );
        assert!(lines[1..].iter().all(|l| l.starts_with("::notice file=svc%2Ca/Dockerfile,line=")), "{text}");
        let (after_fix, left_out) = annotations(&reports, true, Path::new("/w"));
        assert_eq!((after_fix.as_str(), left_out), ("", 0), "a fix leaves nothing to annotate");
    }

    #[test]
    fn the_proof_outputs_sum_the_proven_images_only() {
        let image = |before, after, verdict| ImageReport {
            dockerfile: "Dockerfile".into(),
            before: Side { bytes: Some(before), built: true, ..Side::default() },
            after: Side { bytes: Some(after), built: true, ..Side::default() },
            binary_bytes: None,
            verdict,
            reason: None,
            cves_note: None,
        };
        let images = [image(800, 6, Verdict::Proven), image(100, 10, Verdict::Proven), image(50, 60, Verdict::Failed)];
        let values: Vec<String> =
            proof_outputs(&images).into_iter().map(|(name, value)| format!("{name}={value}")).collect();
        assert_eq!(values, ["bytes-before=900", "bytes-after=16", "bytes-saved=884"]);
        let summary = proof_summary(&images);
        assert!(
            summary.starts_with("### Build proof\n\n3 Dockerfiles built before and after, 2 proven.\n"),
            "{summary}"
        );
        assert!(summary.contains("| failed | after |") && !summary.contains("<details>"), "{summary}");
        let many: Vec<ImageReport> = (0..11).map(|_| image(2, 1, Verdict::Proven)).collect();
        assert!(proof_summary(&many).contains("<details><summary>the build proof (22 rows)</summary>"));
    }

    #[test]
    fn outputs_use_a_delimiter_that_is_no_line_of_the_value() {
        let text = outputs(&[("findings", "3".into()), ("body", "a\nHARDEN_EOF_0\nb".into())]);
        assert_eq!(text, "findings=3\nbody<<HARDEN_EOF_1\na\nHARDEN_EOF_0\nb\nHARDEN_EOF_1\n");
    }

    #[test]
    fn a_long_findings_table_folds_and_says_what_was_not_annotated() {
        let findings: Vec<Finding> = (1..=25).map(|line| finding("HD105", line, false)).collect();
        let summary = findings_summary(&[report("Dockerfile", findings)], false, 15);
        assert!(summary.starts_with("### harden scan\n\n1 file (1 to change), 25 findings, 0 fixable.\n"), "{summary}");
        assert!(summary.contains("<details><summary>25 findings (25 rows)</summary>"), "{summary}");
        assert!(summary.contains(
            "| `Dockerfile` | 7 | HD105 symbols-not-stripped | info | a message, with: 100% of it on two lines |  |"
        ));
        assert!(summary.contains("Annotations left out: 15 "), "{summary}");
        let short = findings_summary(&[report("Dockerfile", vec![finding("HD106", 1, true)])], true, 0);
        assert!(!short.contains("<details>") && short.contains("| fixed |"), "{short}");
        // A directory passed over is no file.
        let dir = FileReport { kind: Kind::Directory, status: Status::Skipped, ..report("test/", Vec::new()) };
        let counted = findings_summary(&[report("Dockerfile", Vec::new()), dir], false, 0);
        assert!(counted.starts_with("### harden scan\n\n1 file (1 to change)"), "{counted}");
    }
}
