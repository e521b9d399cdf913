//! A small POSIX-shell word lexer that keeps byte spans.
//!
//! It exists so that the Dockerfile rewriter can find `go build` inside a `RUN`
//! command and splice flags into the exact bytes the user wrote. It is not a
//! shell: it splits words and command separators, honours quotes, escapes,
//! `$(…)` and backticks, Dockerfile line continuations and comment lines inside
//! them, and nothing else. No crate offers word spans, which is why this is here.

use std::ops::Range;

/// One word or operator of a shell command, with its place in the original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// What the token is.
    pub kind: TokenKind,
    /// Byte range in the text given to [`lex`], shifted by its `offset`.
    pub span: Range<usize>,
    /// The word with quotes and escapes removed (operators: the operator itself).
    pub value: String,
}

/// The kind of a [`Token`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A word: a command name, an argument or an assignment.
    Word,
    /// A command separator: `&&`, `||`, `;`, `|`, `&`, a newline, `(` or `)`.
    Separator,
    /// A redirection operator such as `>` or `2>&1`'s `>&`.
    Redirect,
}

/// A simple command: the words between two separators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleCommand {
    /// The words, assignments (`A=b`) first, in order.
    pub words: Vec<Token>,
    /// The files its output is redirected to (`> out`, `>> log`, `2> err`), in order; not
    /// duplicated descriptors (`2>&1`).
    pub outputs: Vec<String>,
}

impl SimpleCommand {
    /// Leading `NAME=value` words, as (name, value) pairs.
    pub fn assignments(&self) -> impl Iterator<Item = (&str, &str)> {
        self.words.iter().map_while(|w| split_assignment(&w.value))
    }

    /// The words after the leading assignments (and an `env` prefix with its own assignments).
    pub fn argv(&self) -> &[Token] {
        let mut rest = &self.words[self.assignments().count()..];
        if rest.first().is_some_and(|w| w.value == "env") {
            rest = &rest[1..];
            let n = rest.iter().take_while(|w| split_assignment(&w.value).is_some()).count();
            rest = &rest[n..];
        }
        rest
    }

    /// All assignments that apply to the command, including those after `env`.
    pub fn environment(&self) -> Vec<(String, String)> {
        let leading = self.assignments().count();
        let after_env = match self.words.get(leading) {
            Some(w) if w.value == "env" => &self.words[leading + 1..],
            _ => &[],
        };
        self.words[..leading]
            .iter()
            .chain(after_env)
            .map_while(|w| split_assignment(&w.value))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

/// Splits `NAME=value` into its parts when the word is an assignment.
pub fn split_assignment(word: &str) -> Option<(&str, &str)> {
    let (name, value) = word.split_once('=')?;
    let mut chars = name.chars();
    let first = chars.next()?;
    ((first.is_ascii_alphabetic() || first == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then_some((name, value))
}

/// Lexes `text` (found at `offset` in a larger document) into tokens.
pub fn lex(text: &str, offset: usize) -> Vec<Token> {
    lexer(text, offset).run()
}

fn lexer(text: &str, offset: usize) -> Lexer<'_> {
    Lexer {
        bytes: text.as_bytes(),
        text,
        pos: 0,
        offset,
        tokens: Vec::new(),
        broken: false,
        here_documents: Vec::new(),
    }
}

/// Lexes `text` and groups the words into simple commands. A script with an unterminated
/// quote or substitution is not valid shell: it yields `None`, so nothing reads or edits it.
pub fn commands(text: &str, offset: usize) -> Option<Vec<SimpleCommand>> {
    let mut lexer = lexer(text, offset);
    let tokens = lexer.run_to_end();
    if lexer.broken {
        return None;
    }
    let mut out = Vec::new();
    let mut command = SimpleCommand { words: Vec::new(), outputs: Vec::new() };
    let mut redirect: Option<String> = None;
    for token in tokens {
        match token.kind {
            TokenKind::Word => match redirect.take() {
                Some(op) if is_output(&op, &token.value) => command.outputs.push(token.value),
                Some(_) => {}
                // `then CGO_ENABLED=0 go build`: a reserved word before a command is no part of it.
                None if command.words.is_empty()
                    && RESERVED_WORDS.contains(&token.value.as_str())
                    && text.get(token.span.start - offset..token.span.end - offset) == Some(token.value.as_str()) => {}
                None => command.words.push(token),
            },
            TokenKind::Redirect => redirect = Some(token.value),
            TokenKind::Separator => {
                if !command.words.is_empty() || !command.outputs.is_empty() {
                    out.push(std::mem::replace(&mut command, SimpleCommand { words: Vec::new(), outputs: Vec::new() }));
                }
            }
        }
    }
    if !command.words.is_empty() || !command.outputs.is_empty() {
        out.push(command);
    }
    Some(out)
}

/// The shell's reserved words that may stand before a command (`if`, `then`, `do`, `!`) or
/// alone (`fi`, `done`): unquoted and first, they are no command's name.
const RESERVED_WORDS: &[&str] = &["if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}"];

/// True when redirection `op` with target `target` writes a file: `>`, `>>`, and `>&` to a name
/// rather than a descriptor.
fn is_output(op: &str, target: &str) -> bool {
    match op {
        ">" | ">>" => true,
        ">&" => !(target == "-" || target.bytes().all(|b| b.is_ascii_digit())),
        _ => false,
    }
}

/// The shells a program or script starts by name (`sh`, `/bin/bash`).
const SHELL_NAMES: &[&str] = &["sh", "bash", "ash", "dash", "zsh"];

/// True when `program` (a name or a path) is a shell.
pub fn is_shell_program(program: &str) -> bool {
    SHELL_NAMES.contains(&program.rsplit('/').next().unwrap_or(program))
}

/// True when a shell-form command uses anything beyond plain words: variables,
/// operators, redirections, globs, substitutions or quotes that need a shell.
pub fn needs_shell(text: &str) -> bool {
    let tokens = lex(text, 0);
    tokens.iter().any(|t| t.kind != TokenKind::Word)
        || text.contains(['$', '`', '*', '?', '~', '\\', '\'', '"', '[', '{'])
}

struct Lexer<'a> {
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
    offset: usize,
    tokens: Vec<Token>,
    /// Set when a quote or substitution is still open at the end of the text.
    broken: bool,
    /// The here-documents opened on the current line (delimiter, tabs allowed before it).
    here_documents: Vec<(String, bool)>,
}

impl Lexer<'_> {
    fn run(mut self) -> Vec<Token> {
        self.run_to_end()
    }

    fn run_to_end(&mut self) -> Vec<Token> {
        while self.pos < self.bytes.len() {
            let b = self.bytes[self.pos];
            match b {
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'\\' if self.continuation_len() > 0 => {
                    self.pos += self.continuation_len();
                    self.skip_comment_lines();
                }
                b'\n' => {
                    self.push_op(1, TokenKind::Separator);
                    self.skip_here_documents();
                    self.skip_comment_lines();
                }
                b'#' if self.at_word_start() => self.skip_to_line_end(),
                b'&' | b'|' => {
                    let len = if self.peek(1) == Some(b) { 2 } else { 1 };
                    self.push_op(len, TokenKind::Separator);
                }
                b';' | b'(' | b')' => self.push_op(1, TokenKind::Separator),
                b'>' | b'<' => {
                    let len = 1 + usize::from(matches!(self.peek(1), Some(b'>' | b'&' | b'<')));
                    let here_document = b == b'<' && len == 2 && self.peek(2) != Some(b'<');
                    self.push_op(len, TokenKind::Redirect);
                    if here_document {
                        self.open_here_document();
                    }
                }
                b'0'..=b'9' if self.is_fd_redirect() => self.pos += 1,
                _ => self.word(),
            }
        }
        std::mem::take(&mut self.tokens)
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    /// Length of a `\` + optional spaces + newline continuation at `pos`, or 0.
    fn continuation_len(&self) -> usize {
        let mut i = self.pos + 1;
        while matches!(self.bytes.get(i), Some(b' ' | b'\t' | b'\r')) {
            i += 1;
        }
        if self.bytes.get(i) == Some(&b'\n') { i + 1 - self.pos } else { 0 }
    }

    fn at_word_start(&self) -> bool {
        self.pos == 0 || matches!(self.bytes[self.pos - 1], b' ' | b'\t' | b'\n' | b';' | b'&' | b'|')
    }

    fn is_fd_redirect(&self) -> bool {
        let mut i = self.pos;
        while self.bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        self.at_word_start() && matches!(self.bytes.get(i), Some(b'>' | b'<'))
    }

    /// Reads the delimiter after `<<` (or `<<-`, which allows tabs before it): the document's
    /// lines, from the next line on, are its command's input, not commands.
    fn open_here_document(&mut self) {
        let tabs = self.peek(0) == Some(b'-');
        self.pos += usize::from(tabs);
        while matches!(self.peek(0), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        if self.pos < self.bytes.len() && !matches!(self.bytes[self.pos], b'\n' | b';' | b'&' | b'|') {
            self.word();
            let delimiter = self.tokens.last().map(|t| t.value.clone()).unwrap_or_default();
            self.here_documents.push((delimiter, tabs));
        }
    }

    /// At the start of a line: skips the bodies of the here-documents opened on the line before,
    /// each up to and with its delimiter line.
    fn skip_here_documents(&mut self) {
        for (delimiter, tabs) in std::mem::take(&mut self.here_documents) {
            while self.pos < self.bytes.len() {
                let end = self.text[self.pos..].find('\n').map_or(self.bytes.len(), |i| self.pos + i);
                let line = self.text[self.pos..end].trim_end_matches('\r');
                let line = if tabs { line.trim_start_matches('\t') } else { line };
                self.pos = (end + 1).min(self.bytes.len());
                if line == delimiter {
                    break;
                }
            }
        }
    }

    /// Skips Dockerfile comment lines that sit inside a continued instruction.
    fn skip_comment_lines(&mut self) {
        loop {
            let mut i = self.pos;
            while matches!(self.bytes.get(i), Some(b' ' | b'\t')) {
                i += 1;
            }
            if self.bytes.get(i) == Some(&b'#') {
                self.pos = i;
                self.skip_to_line_end();
                if self.pos < self.bytes.len() {
                    self.pos += 1;
                }
            } else {
                return;
            }
        }
    }

    fn skip_to_line_end(&mut self) {
        while self.pos < self.bytes.len() && self.bytes[self.pos] != b'\n' {
            self.pos += 1;
        }
    }

    fn push_op(&mut self, len: usize, kind: TokenKind) {
        let span = self.pos..self.pos + len;
        self.tokens.push(Token {
            kind,
            value: self.text[span.clone()].to_string(),
            span: span.start + self.offset..span.end + self.offset,
        });
        self.pos += len;
    }

    fn word(&mut self) {
        let start = self.pos;
        let mut value = String::new();
        while self.pos < self.bytes.len() {
            let b = self.bytes[self.pos];
            match b {
                b' ' | b'\t' | b'\r' | b'\n' | b';' | b'&' | b'|' | b'(' | b')' | b'>' | b'<' => {
                    break;
                }
                b'\\' if self.continuation_len() > 0 => break,
                b'\\' => {
                    self.pos += 1;
                    if let Some(c) = self.next_char() {
                        value.push(c);
                    }
                }
                b'\'' => {
                    self.pos += 1;
                    while self.pos < self.bytes.len() && self.bytes[self.pos] != b'\'' {
                        value.push(self.next_char().unwrap_or_default());
                    }
                    self.broken |= self.pos >= self.bytes.len();
                    self.pos += 1;
                }
                b'"' => {
                    self.pos += 1;
                    while self.pos < self.bytes.len() && self.bytes[self.pos] != b'"' {
                        if self.bytes[self.pos] == b'\\' && matches!(self.peek(1), Some(b'"' | b'\\' | b'$' | b'`')) {
                            self.pos += 1;
                        }
                        value.push(self.next_char().unwrap_or_default());
                    }
                    self.broken |= self.pos >= self.bytes.len();
                    self.pos += 1;
                }
                b'$' if self.peek(1) == Some(b'(') => self.nested(b'(', b')', &mut value),
                b'`' => self.nested(b'`', b'`', &mut value),
                _ => value.push(self.next_char().unwrap_or_default()),
            }
        }
        let end = self.pos.min(self.bytes.len());
        self.tokens.push(Token { kind: TokenKind::Word, span: start + self.offset..end + self.offset, value });
    }

    /// Copies a `$( … )` or backtick substitution verbatim into the word.
    fn nested(&mut self, open: u8, close: u8, value: &mut String) {
        let start = self.pos;
        let mut depth = 0usize;
        self.pos += if open == b'(' { 1 } else { 0 };
        self.broken = true;
        while self.pos < self.bytes.len() {
            let b = self.bytes[self.pos];
            self.pos += 1;
            if b == close && (open == close && self.pos - 1 > start || depth == 1) {
                self.broken = false;
                break;
            } else if b == open && open != close {
                depth += 1;
            } else if b == close {
                depth = depth.saturating_sub(1);
            }
        }
        let end = self.pos.min(self.bytes.len());
        value.push_str(&self.text[start..end]);
    }

    fn next_char(&mut self) -> Option<char> {
        let c = self.text.get(self.pos..)?.chars().next()?;
        self.pos += c.len_utf8();
        Some(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<Vec<String>> {
        commands(text, 0).unwrap().into_iter().map(|c| c.words.into_iter().map(|w| w.value).collect()).collect()
    }

    #[test]
    fn splits_commands_and_unquotes_words() {
        assert_eq!(
            words(r#"CGO_ENABLED=0 go build -ldflags "-s -w" -o /app . && echo 'done here'"#),
            vec![
                vec!["CGO_ENABLED=0", "go", "build", "-ldflags", "-s -w", "-o", "/app", "."],
                vec!["echo", "done here"]
            ]
        );
    }

    #[test]
    fn follows_continuations_and_skips_comment_lines() {
        let text = "apk add git \\\n  # a comment\n  && go build \\\n    -o /bin/x ./cmd/x";
        assert_eq!(words(text), vec![vec!["apk", "add", "git"], vec!["go", "build", "-o", "/bin/x", "./cmd/x"]]);
    }

    #[test]
    fn keeps_spans_of_the_original_bytes() {
        let text = r#"go build -ldflags="-X main.v=$(git describe)" ."#;
        let tokens = lex(text, 10);
        assert_eq!(tokens[2].span, 19..55);
        assert_eq!(tokens[2].value, "-ldflags=-X main.v=$(git describe)");
    }

    #[test]
    fn redirect_targets_are_not_arguments() {
        assert_eq!(words("go build . 2>&1 > /dev/null"), vec![vec!["go", "build", "."]]);
    }

    #[test]
    fn output_redirects_are_kept_as_outputs() {
        let outputs =
            |text: &str| -> Vec<Vec<String>> { commands(text, 0).unwrap().into_iter().map(|c| c.outputs).collect() };
        assert_eq!(outputs("echo a > out.txt 2>&1; cat < in >> /var/log/x"), [vec!["out.txt"], vec!["/var/log/x"]]);
        assert_eq!(outputs("run 2> err.log >&2"), [vec!["err.log"]]);
        assert_eq!(outputs("> empty"), [vec!["empty"]]);
    }

    #[test]
    fn env_prefix_is_seen_through() {
        let cmd = &commands("env CGO_ENABLED=1 GOOS=linux go build .", 0).unwrap()[0];
        let argv: Vec<_> = cmd.argv().iter().map(|t| t.value.as_str()).collect();
        assert_eq!(argv, ["go", "build", "."]);
        assert_eq!(cmd.environment()[0], ("CGO_ENABLED".to_string(), "1".to_string()));
        let cmd = &commands("go build -ldflags X=1 CGO_ENABLED=1 .", 0).unwrap()[0];
        assert!(cmd.environment().is_empty(), "arguments are not assignments");
    }

    #[test]
    fn reserved_words_are_no_commands() {
        let text = "if [ \"$A\" = arm ]; then CGO_ENABLED=0 go build .; else go vet ./...; fi";
        assert_eq!(
            words(text),
            vec![
                vec!["[", "$A", "=", "arm", "]"],
                vec!["CGO_ENABLED=0", "go", "build", "."],
                vec!["go", "vet", "./..."]
            ]
        );
        assert_eq!(commands(text, 0).unwrap()[1].environment()[0].0, "CGO_ENABLED");
        assert_eq!(words("for f in a b; do echo $f; done"), vec![vec!["for", "f", "in", "a", "b"], vec!["echo", "$f"]]);
        assert_eq!(words("'then' x"), vec![vec!["then", "x"]], "a quoted word is a command's name");
        assert_eq!(words("echo then"), vec![vec!["echo", "then"]]);
    }

    #[test]
    fn here_documents_are_input_not_commands() {
        let text = "if [ -n \"$V\" ]; then\n\tcat <<msg >&2\nThis hooks into the go build process.\nmsg\n\tvarg=1\nfi\ngo build -trimpath -o /out ./cmd/...\n";
        let all = words(text);
        assert!(!all.iter().flatten().any(|w| w == "hooks"), "{all:?}");
        assert_eq!(all.last().unwrap(), &["go", "build", "-trimpath", "-o", "/out", "./cmd/..."]);
        let tabs = "cat <<-'END' > /etc/app.conf\n\tgo build here\n\tEND\necho done\n";
        assert_eq!(words(tabs), vec![vec!["cat"], vec!["echo", "done"]]);
        assert_eq!(words("grep x <<< \"$y\"; echo z"), vec![vec!["grep", "x"], vec!["echo", "z"]], "a here-string");
    }

    #[test]
    fn broken_quoting_yields_no_commands() {
        assert!(commands("go buil'd -o /app", 0).is_none());
        assert!(commands("echo $(date", 0).is_none());
        assert_eq!(commands("echo $(date) 'a'", 0).unwrap().len(), 1);
    }

    #[test]
    fn knows_when_a_shell_is_needed() {
        assert!(!needs_shell("/app/server --port 8080"));
        assert!(needs_shell("/app/server --port $PORT"));
        assert!(needs_shell("./start.sh && sleep 1"));
        assert!(needs_shell("echo hi > /tmp/x"));
    }
}
