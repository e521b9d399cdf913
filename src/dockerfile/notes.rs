//! What the maintainer's comments in the runtime stage ask harden to keep: `# Need root user
//! for UDS` above the `FROM`, `# Alpine rather than distroless because the probes need test`.
//! A comment is the maintainer's word: harden keeps what it names and quotes it.

use crate::rules;

use super::facts::Facts;
use super::plan::Refusal;

/// Words of a comment that say root is needed, not avoided.
const NEEDS: &[&str] = &["need", "require", "must", "has to", "have to", "only as root", "run as root", "runs as root"];
/// Words of root that name something else (a user that is not root, a filesystem), or say it
/// is not wanted (`shouldn't`).
const NOT_ROOT: &[&str] = &[
    "non-root",
    "nonroot",
    "rootless",
    "root filesystem",
    "rootfs",
    "root-owned",
    "chroot",
    "n't",
    "repository root",
    "repo root",
    "project root",
    "module root",
    "root of the",
    "root directory",
];
/// Words that turn a need around (`must not run as root`, `never as root`).
const NEGATIONS: &[&str] = &["not", "never", "avoid", "avoids"];
/// Words that say what a comment naming the runtime's own base chose it for.
const OWN_BASE_FOR: &[&str] = &["shell", "debug", "expect", "because", "need", "require"];
/// Words that say a comment naming distroless or scratch chose another base over it.
const CHOSEN_OVER: &[&str] =
    &["rather than", "instead of", "because", "need", "require", "small enough", "expect", "exec into"];

/// The comment in the runtime stage (or just above its `FROM`) saying the program needs root,
/// or a non-root `USER` of the runtime stage commented out (`# USER 65532:65532`: the
/// maintainers turned it off), as a refusal that quotes it.
pub fn root_needed(facts: &Facts<'_>) -> Option<Refusal> {
    if let Some((line, text)) = user_commented_out(facts) {
        let why = format!(
            "the file's non-root user is commented out (line {line}: `{text}`): its maintainers turned it off, so the user is left as it is"
        );
        return Some((&rules::COMMENT_NEEDS_ROOT, line, why));
    }
    // Each sentence on its own: `never published. Runs as root because it has to` asks for root.
    let asks = |sentence: &str| {
        let lower = sentence.to_ascii_lowercase();
        let words = lower.split(|c: char| !c.is_ascii_alphanumeric());
        let (root, negated) = words.fold((false, false), |(r, n), w| (r || w == "root", n || NEGATIONS.contains(&w)));
        root && !negated && NEEDS.iter().any(|n| lower.contains(n)) && !NOT_ROOT.iter().any(|n| lower.contains(n))
    };
    let (line, text) = runtime_comments(facts, true).into_iter().find_map(|(line, text)| {
        let sentence = text.split(". ").flat_map(|s| s.split("; ")).find(|s| asks(s))?;
        // Quoted from the line it starts on, when the block says more.
        let start: String = sentence.chars().take(12).collect();
        let lines = facts.text.lines().enumerate().skip(line - 1);
        let at = lines.take_while(|(_, l)| l.trim_start().starts_with('#')).find(|(_, l)| l.contains(&start));
        Some((at.map_or(line, |(i, _)| i + 1), sentence.trim_end_matches('.').to_string()))
    })?;
    let why = format!("the file says the program needs root (line {line}: `{text}`), so the user is left as it is");
    Some((&rules::COMMENT_NEEDS_ROOT, line, why))
}

/// The `USER` instruction of the runtime stage that a comment holds (`# USER 65532:65532`,
/// `#USER nonroot`), naming a user that is not root, with its line.
fn user_commented_out(facts: &Facts<'_>) -> Option<(usize, String)> {
    let from = facts.runtime_stage().from.line;
    let stage = facts
        .text
        .lines()
        .enumerate()
        .skip(from)
        .take_while(|(_, l)| !l.trim_start().get(..5).is_some_and(|w| w.eq_ignore_ascii_case("FROM ")));
    stage.into_iter().find_map(|(i, line)| {
        let comment = line.trim_start().strip_prefix('#')?.trim();
        let mut words = comment.split_whitespace();
        let user = words.next().filter(|w| w.eq_ignore_ascii_case("USER")).and(words.next())?;
        let name = user.split(':').next().unwrap_or(user);
        (words.next().is_none() && !matches!(name, "root" | "0")).then(|| (i + 1, comment.to_string()))
    })
}

/// The comment in the runtime stage (or just above its `FROM`) saying why its base was chosen
/// over distroless or scratch, or why its own base (`# we use alpine for easier debugging`,
/// `# alpine: CI tools expect a shell`), as a refusal that quotes it.
pub fn base_chosen(facts: &Facts<'_>) -> Option<Refusal> {
    let base =
        facts.base_image(facts.runtime_stage()).map(|b| b.name.rsplit('/').next().unwrap_or(&b.name).to_string());
    let (line, text) = runtime_comments(facts, false).into_iter().find(|(_, text)| {
        let lower = text.to_ascii_lowercase();
        let over = (lower.contains("distroless") || lower.contains("scratch"))
            && CHOSEN_OVER.iter().any(|w| lower.contains(w));
        let own = base.as_deref().is_some_and(|b| lower.contains(b)) && OWN_BASE_FOR.iter().any(|w| lower.contains(w));
        over || own
    })?;
    let why = format!("the file says why the runtime keeps its base (line {line}: `{text}`), so harden keeps it");
    Some((&rules::COMMENT_KEEPS_BASE, line, why))
}

/// The instructions a commented-out line of a Dockerfile starts with.
const INSTRUCTIONS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "RUN",
    "SHELL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// The comments of the runtime stage, the block just above its `FROM` and, with `head`, the
/// file's head (before its first instruction), each block of consecutive comment lines joined,
/// with its first line; parser directives aside. The head speaks for the image's user; of a base
/// it may name the build's.
fn runtime_comments(facts: &Facts<'_>, head: bool) -> Vec<(usize, String)> {
    let lines: Vec<&str> = facts.text.lines().collect();
    let from = facts.runtime_stage().from.line.saturating_sub(1);
    // The block right above the FROM belongs to the stage.
    let start = (0..from).rev().take_while(|&i| lines[i].trim_start().starts_with('#')).last().unwrap_or(from);
    // The file's own head, the comments before its first instruction, speaks for the image too.
    let head = match head {
        true => lines.iter().take(start).take_while(|l| l.trim().is_empty() || l.trim_start().starts_with('#')).count(),
        false => 0,
    };
    let mut blocks: Vec<(usize, String)> = Vec::new();
    let mut open = false;
    for (i, line) in lines.iter().enumerate().filter(|(i, _)| *i < head || *i >= start) {
        let Some(comment) = line.trim_start().strip_prefix('#') else {
            open = false;
            continue;
        };
        let comment = comment.trim();
        if ["syntax=", "escape=", "check="].iter().any(|d| comment.starts_with(d)) {
            continue;
        }
        // An instruction commented out (`#RUN go install …/dlv@v1.8.2`) is code, not the
        // maintainer's word, and ends the block it is in.
        if comment.split_whitespace().next().is_some_and(|w| INSTRUCTIONS.contains(&w)) {
            open = false;
            continue;
        }
        match blocks.last_mut().filter(|_| open) {
            Some((_, text)) => {
                text.push(' ');
                text.push_str(comment);
            }
            None => blocks.push((i + 1, comment.to_string())),
        }
        open = true;
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::dockerfile::model::Dockerfile;
    use crate::source::SourceFacts;

    fn notes(text: &str) -> (Option<String>, Option<String>) {
        let df = Dockerfile::parse(text).unwrap();
        let (source, config) = (SourceFacts::default(), Config::default());
        let facts = Facts::new(text, &df, &source, &config);
        (root_needed(&facts).map(|r| r.2), base_chosen(&facts).map(|r| r.2))
    }

    #[test]
    fn comments_that_ask_for_root_or_a_base_are_kept_and_quoted() {
        let build = "FROM golang:1.23 AS build\n# Build as root for the cache\nRUN go build -o /app .\n";
        let (root, _) = notes(&format!(
            "{build}# Need root user for UDS\nFROM gcr.io/distroless/static\nCOPY --from=build /app /\n"
        ));
        assert!(root.unwrap().contains("line 4: `Need root user for UDS`"));
        let (_, base) = notes(&format!(
            "{build}# Alpine rather than distroless because the probes need a\n# `test` binary on PATH.\nFROM alpine:3.20\n"
        ));
        assert!(
            base.unwrap().contains("`Alpine rather than distroless because the probes need a `test` binary on PATH.`")
        );
        // A builder's comment, a non-root note and a plain description keep nothing.
        let (root, base) = notes(&format!("{build}FROM gcr.io/distroless/static\n# Run as nonroot, no root needed\n"));
        assert_eq!((root, base), (None, None));
        assert_eq!(notes(&format!("{build}# Use distroless as the minimal base\nFROM alpine\n")).1, None);
        let own = "# Alpine, as many CI tools expect an interactive shell in the container\nFROM alpine:3\n";
        assert!(notes(&format!("{build}{own}")).1.unwrap().contains("line 4"));
        assert!(notes(&format!("{build}# we use alpine for easier debugging\nFROM alpine:3.22\n")).1.is_some());
        assert_eq!(notes(&format!("{build}# alpine base, small\nFROM alpine:3.22\n")).1, None, "no reason said");
        let commented_out =
            "# Debug\n#RUN go install github.com/go-delve/delve/cmd/dlv@v1.8.2\n# alpine:3.23.3\nFROM alpine:3.23.3\n";
        assert_eq!(notes(&format!("{build}{commented_out}")).1, None, "an instruction commented out says nothing");
        let conceded =
            "# we could copy the binary to scratch, but this image is small enough\n# and users exec into it\n";
        assert!(notes(&format!("{build}FROM alpine\n{conceded}ENTRYPOINT [\"/app\"]\n")).1.unwrap().contains("line 5"));
        assert_eq!(notes(&format!("{build}FROM alpine\n# The server must not run as root\n")).0, None);
        assert!(notes(&format!("{build}# Note: needs root for the raw socket\nFROM alpine\n")).0.is_some());
        // A non-root USER commented out in the runtime stage is turned off on purpose.
        let off =
            notes(&format!("{build}FROM gcr.io/distroless/static\nCOPY --from=build /app /\n# USER 65532:65532\n"));
        assert!(off.0.unwrap().contains("line 6: `USER 65532:65532`"));
        assert_eq!(notes(&format!("{build}FROM alpine\n# USER root\n")).0, None);
        assert_eq!(notes(&format!("{build}FROM alpine\n# USER is set by the chart\n")).0, None);
        // The file's head speaks for it, a sentence at a time; a path's root is no user.
        let head = "# A test image, never pushed. It runs as root because it has to\n# write into a hostPath.\n\n";
        let asked = notes(&format!("{head}{build}FROM scratch\n")).0.unwrap();
        assert!(asked.contains("line 1: `It runs as root because it has to write into a hostPath`"), "{asked}");
        let context = "# Must be built from the repository root.\n\n";
        assert_eq!(notes(&format!("{context}{build}FROM scratch\n")).0, None);
    }
}
