//! An owned, simplified view of a parsed Dockerfile, with byte spans.
//!
//! `parse-dockerfile` does the parsing (BuildKit syntax, heredocs, flags); this
//! module turns its borrowed AST into the few facts the rules and the rewriter
//! need, and adds what the parser does not give: the whole-line span of each
//! instruction and the comment lines attached above it. It does no I/O.

use std::ops::Range;

use parse_dockerfile::Instruction as Ast;

use crate::shell::{self, SimpleCommand};

mod body;
pub(super) mod heredoc;
use body::{EMPTY_COMMAND, body, parse_args};

pub use crate::lines::LineIndex;
pub use crate::outcome::ParseError;

/// One `NAME[=default]` word of an `ARG`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgWord {
    /// The variable's name.
    pub name: String,
    /// Its default, when it has one.
    pub default: Option<String>,
    /// Where the whole word is in the file.
    pub span: Range<usize>,
}

/// A parsed Dockerfile.
#[derive(Debug, Clone)]
pub struct Dockerfile {
    /// `ARG`s before the first `FROM`.
    pub global_args: Vec<ArgWord>,
    /// The build stages, in order.
    pub stages: Vec<Stage>,
    /// `\r\n` when the file uses CRLF line endings, else `\n`.
    pub newline: &'static str,
    /// True when the file ends inside a continued instruction (a trailing `\`), so no line can be
    /// appended after it.
    pub open_at_end: bool,
}

/// One `FROM` and the instructions up to the next.
#[derive(Debug, Clone)]
pub struct Stage {
    /// Position of the stage in the file, from 0.
    pub index: usize,
    /// The `FROM` instruction.
    pub from: From,
    /// The instructions after `FROM`.
    pub instructions: Vec<Instruction>,
}

/// A `FROM` instruction.
#[derive(Debug, Clone)]
pub struct From {
    /// The image reference as written (may contain `$VAR`).
    pub image: String,
    /// Span of the image reference.
    pub image_span: Range<usize>,
    /// The `AS` name, if any.
    pub alias: Option<String>,
    /// Where an ` AS name` can be inserted (end of the image or last flag).
    pub alias_insert_at: usize,
    /// The `--platform` value, if any.
    pub platform: Option<String>,
    /// Span of the `--platform` flag with the blanks after it (what dropping it removes).
    pub platform_span: Option<Range<usize>>,
    /// 1-based line of the keyword.
    pub line: usize,
    /// Whole-line span of the instruction.
    pub span: Range<usize>,
}

/// One instruction after a `FROM`.
#[derive(Debug, Clone)]
pub struct Instruction {
    /// The keyword exactly as written (`RUN`, `run`, `Copy`…).
    pub keyword: String,
    /// Span of the keyword.
    pub keyword_span: Range<usize>,
    /// Whole-line span: from the start of the keyword's line through the newline of its last line.
    pub span: Range<usize>,
    /// Start of the comment lines directly above the instruction (equals `span.start` when none).
    pub comments_start: usize,
    /// 1-based line of the keyword.
    pub line: usize,
    /// What the instruction says.
    pub body: Body,
}

/// The parts of an instruction that the rules read.
#[derive(Debug, Clone)]
pub enum Body {
    /// `RUN`: its `--mount` values and the shell script(s) it runs.
    Run {
        /// Values of every `--mount` flag.
        mounts: Vec<String>,
        /// Where new `--mount` flags go (after the keyword and any existing flags).
        flags_insert_at: usize,
        /// The simple commands of its shell script and heredoc bodies, with spans in the file;
        /// `None` when a script is not valid shell (an unterminated quote).
        commands: Option<Vec<SimpleCommand>>,
        /// The exec-form argv, when the command is a JSON array.
        exec: Option<Vec<String>>,
    },
    /// `COPY` or `ADD`.
    Copy(Copy),
    /// `ENV`: the pairs it sets.
    Env(Vec<(String, String)>),
    /// `ARG`: the names and defaults it declares.
    Arg(Vec<(String, Option<String>)>),
    /// `USER` with the span of its argument.
    User(String, Range<usize>),
    /// `CMD`.
    Cmd(CommandForm),
    /// `ENTRYPOINT`.
    Entrypoint(CommandForm),
    /// `EXPOSE` ports as written (`8080`, `53/udp`).
    Expose(Vec<String>),
    /// `HEALTHCHECK CMD …` (or `None` for `HEALTHCHECK NONE`).
    Healthcheck(Option<CommandForm>),
    /// `WORKDIR`.
    Workdir(String),
    /// `VOLUME`.
    Volume(Vec<String>),
    /// `ONBUILD`.
    Onbuild,
    /// `LABEL`, `STOPSIGNAL`, `SHELL`, `MAINTAINER`.
    Other,
}

/// A `COPY` or `ADD` instruction.
#[derive(Debug, Clone)]
pub struct Copy {
    /// True for `ADD`.
    pub is_add: bool,
    /// The `--from` value.
    pub from: Option<String>,
    /// The `--chown` value and its span.
    pub chown: Option<(String, Range<usize>)>,
    /// The `--chmod` value.
    pub chmod: Option<String>,
    /// The `--checksum` value of an `ADD` (`sha256:…`), which BuildKit checks a download against.
    pub checksum: Option<String>,
    /// Source paths (heredoc sources are left out).
    pub sources: Vec<String>,
    /// Destination path.
    pub dest: String,
}

/// The exec or shell form of `CMD`, `ENTRYPOINT` or `HEALTHCHECK CMD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandForm {
    /// `["a", "b"]`.
    Exec(Vec<String>),
    /// `a b`, with the span of the text.
    Shell(String, Range<usize>),
}

impl Body {
    /// The simple commands a `RUN` runs (none for other instructions and for broken shell).
    pub fn run_commands(&self) -> &[SimpleCommand] {
        match self {
            Body::Run { commands: Some(commands), .. } => commands,
            _ => &[],
        }
    }
}

impl CommandForm {
    /// The words the command runs: exec args as they are, shell text split into words.
    pub fn words(&self) -> Vec<String> {
        match self {
            CommandForm::Exec(args) => args.clone(),
            CommandForm::Shell(text, _) => shell::lex(text, 0).into_iter().map(|t| t.value).collect(),
        }
    }
}

impl Dockerfile {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        // The parser refuses `ENTRYPOINT []` (BuildKit's way to clear the base's entrypoint):
        // it reads an empty string of the same length in its place, told apart below.
        let cleared = EMPTY_COMMAND
            .replace_all(text, |c: &regex::Captures<'_>| format!("{}\"\"{}", &c[1], " ".repeat(c[2].len() - 2)));
        let cleared = heredoc::blank_late_bodies(&cleared);
        let ast = parse_dockerfile::parse(&cleared).map_err(|e| ParseError {
            line: e.line(),
            column: e.column(),
            message: e.to_string().lines().next().unwrap_or("parse error").to_string(),
        })?;
        let lines = LineIndex::new(text);
        let keyword_starts: Vec<usize> = ast.instructions.iter().map(keyword_span).map(|s| s.start).collect();
        let mut global_args = Vec::new();
        let mut stages: Vec<Stage> = Vec::new();
        for (i, inst) in ast.instructions.iter().enumerate() {
            let kw = keyword_span(inst);
            let next = keyword_starts.get(i + 1).map_or(text.len(), |&s| lines.line_start(s));
            let span = lines.line_start(kw.start)..trim_trailing_comments(text, lines.line_start(kw.start), next);
            let line = lines.line_of(kw.start);
            match inst {
                Ast::From(from) => stages.push(Stage {
                    index: stages.len(),
                    from: From {
                        image: from.image.value.to_string(),
                        image_span: from.image.span.clone(),
                        alias: from.as_.as_ref().map(|(_, name)| name.value.to_string()),
                        alias_insert_at: from.image.span.end,
                        platform: from
                            .options
                            .iter()
                            .find(|f| f.name.value == "platform")
                            .and_then(|f| f.value.as_ref().map(|v| v.value.to_string())),
                        platform_span: from.options.iter().find(|f| f.name.value == "platform").map(|f| {
                            let end = f.span().end;
                            let blanks = text[end..].len() - text[end..].trim_start_matches([' ', '\t']).len();
                            f.span().start..end + blanks
                        }),
                        line,
                        span,
                    },
                    instructions: Vec::new(),
                }),
                Ast::Arg(arg) if stages.is_empty() => {
                    global_args.extend(parse_args(&arg.arguments.value, arg.arguments.span.start))
                }
                other => {
                    let Some(stage) = stages.last_mut() else {
                        continue;
                    };
                    stage.instructions.push(Instruction {
                        keyword: text[kw.clone()].to_string(),
                        comments_start: comments_start(text, span.start),
                        keyword_span: kw,
                        span,
                        line,
                        body: body(other, text),
                    });
                }
            }
        }
        let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let open_at_end = text.trim_end().ends_with('\\');
        Ok(Dockerfile { global_args, stages, newline, open_at_end })
    }

    /// The index of the stage whose image the build ships: the last, or, where the last is only
    /// `FROM dev` (no instructions), the stage it names.
    pub fn shipped_stage(&self) -> usize {
        let mut at = self.stages.len().saturating_sub(1);
        while let Some(stage) = self.stages.get(at).filter(|s| s.instructions.is_empty()) {
            match self.stage_named(&stage.from.image).map(|p| p.index).filter(|&p| p < at) {
                Some(parent) => at = parent,
                None => break,
            }
        }
        at
    }

    /// The stage a `--from=` or `FROM` value names: an alias or a numeric index.
    pub fn stage_named(&self, name: &str) -> Option<&Stage> {
        self.stages
            .iter()
            .find(|s| s.from.alias.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(name)))
            .or_else(|| name.parse::<usize>().ok().and_then(|i| self.stages.get(i)))
    }

    /// The image a `FROM` names after substituting global `ARG` defaults; `None` when a
    /// variable has no default.
    pub fn resolve_image(&self, image: &str) -> Option<String> {
        self.resolve_image_given(image, &[])
    }

    /// Like [`Dockerfile::resolve_image`], with values `given` outside the file (a Compose
    /// file's or skaffold's build arguments) for the global `ARG`s that have no default.
    pub fn resolve_image_given(&self, image: &str, given: &[(String, String)]) -> Option<String> {
        let vars: Vec<(String, Option<String>)> = self
            .global_args
            .iter()
            .map(|a| {
                let outside = given.iter().find(|(name, _)| *name == a.name).map(|(_, v)| v.clone());
                (a.name.clone(), a.default.clone().filter(|d| !stands_in(image, a, d)).or(outside))
            })
            .collect();
        // `FROM "$BASE_IMAGE"`: the quotes are the shell's, not the image's.
        super::variables::substitute(image.trim_matches('"'), &vars)
    }

    /// The build argument of `image` whose default only stands in for the image a build must
    /// pass (`ARG RUNTIME_IMAGE=placeholder`), with that default.
    pub fn stand_in_arg(&self, image: &str) -> Option<(&str, &str)> {
        self.global_args.iter().find_map(|a| {
            let default = a.default.as_deref().filter(|d| stands_in(image, a, d))?;
            super::variables::uses(image, &a.name).then_some((a.name.as_str(), default))
        })
    }
}

/// Defaults a Dockerfile gives a build argument of an image to say that the build must pass
/// one (`ARG RUNTIME_IMAGE=placeholder`, `ARG GO_VERSION=PLEASE_PROVIDE_GO_VERSION`, which the
/// Makefile sets), written without `-` and `_`: the whole default, or a part of it.
const STAND_INS: &[&str] =
    &["override", "setme", "unset", "undefined", "required", "none", "null", "todo", "tbd", "dummy"];
const STAND_IN_PARTS: &[&str] = &["placeholder", "please", "replaceme", "changeme", "mustbeset"];

/// True when `arg`'s `default` only stands in for the value the build of `image` must pass: a
/// word that says so, or, for the digest of `image`, no digest (`ARG ALPINE_SHA=pass-a-valid-sha`).
fn stands_in(image: &str, arg: &ArgWord, default: &str) -> bool {
    let digest = ["@sha256:${", "@sha256:$"].iter().any(|d| image.contains(&format!("{d}{}", arg.name)));
    let default = default.trim_matches('"');
    is_stand_in(default) || (digest && (default.len() != 64 || !default.chars().all(|c| c.is_ascii_hexdigit())))
}

/// True for a build argument's default that stands in for the value a build must pass.
fn is_stand_in(default: &str) -> bool {
    let word: String = default
        .chars()
        .filter(|c| !matches!(c, '"' | '\'' | '<' | '>' | '_' | '-'))
        .collect::<String>()
        .to_ascii_lowercase();
    STAND_INS.contains(&word.as_str()) || STAND_IN_PARTS.iter().any(|p| word.contains(p))
}

impl Stage {
    /// The name other stages use for this one: its alias, else its index.
    pub fn reference(&self) -> String {
        self.from.alias.clone().unwrap_or_else(|| self.index.to_string())
    }

    /// The stage's first command of its own, a CMD or ENTRYPOINT that names one: an empty one
    /// (`ENTRYPOINT []`) only clears its base's.
    pub fn own_command(&self) -> Option<&Instruction> {
        self.instructions.iter().find(|i| match &i.body {
            Body::Cmd(form) | Body::Entrypoint(form) => !form.words().is_empty(),
            _ => false,
        })
    }
}

fn keyword_span(inst: &Ast<'_>) -> Range<usize> {
    match inst {
        Ast::Add(i) => i.add.span.clone(),
        Ast::Arg(i) => i.arg.span.clone(),
        Ast::Cmd(i) => i.cmd.span.clone(),
        Ast::Copy(i) => i.copy.span.clone(),
        Ast::Entrypoint(i) => i.entrypoint.span.clone(),
        Ast::Env(i) => i.env.span.clone(),
        Ast::Expose(i) => i.expose.span.clone(),
        Ast::From(i) => i.from.span.clone(),
        Ast::Healthcheck(i) => i.healthcheck.span.clone(),
        Ast::Label(i) => i.label.span.clone(),
        Ast::Maintainer(i) => i.maintainer.span.clone(),
        Ast::Onbuild(i) => i.onbuild.span.clone(),
        Ast::Run(i) => i.run.span.clone(),
        Ast::Shell(i) => i.shell.span.clone(),
        Ast::Stopsignal(i) => i.stopsignal.span.clone(),
        Ast::User(i) => i.user.span.clone(),
        Ast::Volume(i) => i.volume.span.clone(),
        Ast::Workdir(i) => i.workdir.span.clone(),
        _ => 0..0,
    }
}

/// Moves `end` back over blank and comment lines that belong to the next instruction.
fn trim_trailing_comments(text: &str, start: usize, end: usize) -> usize {
    let mut end = end;
    loop {
        let body = &text[start..end];
        let trimmed = body.strip_suffix('\n').unwrap_or(body);
        let line_start = trimmed.rfind('\n').map_or(start, |i| start + i + 1);
        if line_start == start {
            return end;
        }
        let line = text[line_start..end].trim();
        if line.is_empty() || line.starts_with('#') {
            end = line_start;
        } else {
            return end;
        }
    }
}

/// The start of the run of `#` comment lines directly above `line_start`.
fn comments_start(text: &str, line_start: usize) -> usize {
    let mut start = line_start;
    while start > 0 {
        let prev_start = text[..start - 1].rfind('\n').map_or(0, |i| i + 1);
        let line = text[prev_start..start].trim();
        if line.starts_with('#') && !is_directive(line) {
            start = prev_start;
        } else {
            break;
        }
    }
    start
}

fn is_directive(line: &str) -> bool {
    let l = line.trim_start_matches('#').trim_start().to_ascii_lowercase();
    ["syntax=", "escape=", "check="].iter().any(|d| l.starts_with(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "ARG GO=1.22\n# build\nFROM golang:${GO} AS build\nRUN go build \\\n  -o /app .\n\n# runtime\nFROM scratch\nCOPY --from=build /app /app\n";

    #[test]
    fn an_empty_command_array_clears_the_command() {
        let text = "FROM golang:1.22\nENTRYPOINT [ ]\nCMD []\nUSER 1000\n";
        let df = Dockerfile::parse(text).unwrap();
        let bodies: Vec<&Body> = df.stages[0].instructions.iter().map(|i| &i.body).collect();
        assert!(matches!(bodies[0], Body::Entrypoint(CommandForm::Exec(args)) if args.is_empty()), "{bodies:?}");
        assert!(matches!(bodies[1], Body::Cmd(CommandForm::Exec(args)) if args.is_empty()));
        assert!(matches!(bodies[2], Body::User(user, span) if user == "1000" && &text[span.clone()] == "1000"));
        assert!(matches!(&Dockerfile::parse("FROM a\nCMD [\"\"]\n").unwrap().stages[0].instructions[0].body,
            Body::Cmd(CommandForm::Exec(args)) if args == &[String::new()]));
    }

    #[test]
    fn spans_cover_whole_lines_and_leave_comments_to_the_next() {
        let df = Dockerfile::parse(TEXT).unwrap();
        let run = &df.stages[0].instructions[0];
        assert_eq!(&TEXT[run.span.clone()], "RUN go build \\\n  -o /app .\n");
        assert_eq!(df.stages[1].from.line, 8);
        let copy = &df.stages[1].instructions[0];
        assert_eq!(copy.comments_start, copy.span.start);
    }

    #[test]
    fn resolves_global_args_in_from() {
        let df = Dockerfile::parse(TEXT).unwrap();
        assert_eq!(df.resolve_image(&df.stages[0].from.image).as_deref(), Some("golang:1.22"));
        assert_eq!(df.resolve_image("golang:${MISSING}"), None);
        assert_eq!(df.resolve_image("golang:${MISSING:-1.21}").as_deref(), Some("golang:1.21"));
        assert_eq!(df.resolve_image("\"golang:${MISSING:-1.21}\"").as_deref(), Some("golang:1.21"));
    }

    #[test]
    fn a_stand_in_default_names_no_image() {
        let df = Dockerfile::parse("ARG RUNTIME=placeholder\nARG BASE=alpine:3.20\nFROM ${RUNTIME}\n").unwrap();
        assert_eq!(df.resolve_image("${RUNTIME}"), None);
        assert_eq!(
            df.resolve_image_given("${RUNTIME}", &[("RUNTIME".into(), "gcr.io/distroless/static".into())]).as_deref(),
            Some("gcr.io/distroless/static")
        );
        assert_eq!(df.resolve_image("${BASE}").as_deref(), Some("alpine:3.20"));
        assert_eq!(df.stand_in_arg("${RUNTIME}"), Some(("RUNTIME", "placeholder")));
        assert_eq!(df.stand_in_arg("${BASE}"), None);
        let df =
            Dockerfile::parse("ARG GO_VERSION=PLEASE_PROVIDE_GO_VERSION\nFROM acme/build:${GO_VERSION}\n").unwrap();
        assert_eq!(df.resolve_image("acme/build:${GO_VERSION}"), None, "a tag the build must pass");
        let df = Dockerfile::parse("ARG SHA=\"pass-a-valid-sha-or-this-fails\"\nFROM alpine@sha256:${SHA}\n").unwrap();
        assert_eq!(df.stand_in_arg("alpine@sha256:${SHA}").map(|(name, _)| name), Some("SHA"), "no digest");
    }

    #[test]
    fn global_args_know_where_their_words_are() {
        let text = "ARG A=1 B
ARG RUNTIME=\"alpine:3.19\"
FROM ${RUNTIME}
";
        let df = Dockerfile::parse(text).unwrap();
        let words: Vec<(&str, Option<&str>, &str)> =
            df.global_args.iter().map(|a| (a.name.as_str(), a.default.as_deref(), &text[a.span.clone()])).collect();
        assert_eq!(
            words,
            [("A", Some("1"), "A=1"), ("B", None, "B"), ("RUNTIME", Some("alpine:3.19"), "RUNTIME=\"alpine:3.19\"")]
        );
    }

    #[test]
    fn reports_parse_errors_with_line() {
        let err = Dockerfile::parse("FROM alpine\nRUN <<EOF\necho\n").unwrap_err();
        assert!(err.line >= 2, "{err}");
    }
}
