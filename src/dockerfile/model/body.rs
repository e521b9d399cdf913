//! What each instruction of the parser's AST says, as a [`Body`]: the commands of a `RUN`, the
//! sources of a `COPY`, the words of `ENV` and `ARG`, a command in exec or shell form.

use parse_dockerfile::{Command, HealthcheckArguments, Instruction as Ast, JsonOrStringArray, Source};

use crate::shell;

use super::{ArgWord, Body, CommandForm, Copy};

pub(super) fn body(inst: &Ast<'_>, text: &str) -> Body {
    match inst {
        Ast::Run(run) => {
            let mut scripts: Vec<(&str, usize)> = Vec::new();
            let mut exec = None;
            match &run.arguments {
                Command::Shell(s) => scripts.push((s.value, s.span.start)),
                Command::Exec(args) => exec = Some(args.value.iter().map(|a| a.value.to_string()).collect()),
                _ => {}
            }
            scripts.extend(run.here_docs.iter().map(|h| (&text[h.span.clone()], h.span.start)));
            let commands =
                scripts.iter().map(|(script, offset)| shell::commands(script, *offset)).collect::<Option<Vec<_>>>();
            Body::Run {
                mounts: run
                    .options
                    .iter()
                    .filter(|f| f.name.value == "mount")
                    .filter_map(|f| f.value.as_ref().map(|v| v.value.to_string()))
                    .collect(),
                flags_insert_at: run.options.last().map_or(run.run.span.end, |f| f.span().end),
                commands: commands.map(|c| c.into_iter().flatten().collect()),
                exec,
            }
        }
        Ast::Copy(copy) => Body::Copy(Copy {
            is_add: false,
            from: flag(&copy.options, "from"),
            chown: copy
                .options
                .iter()
                .find(|f| f.name.value == "chown")
                .and_then(|f| f.value.as_ref().map(|v| (v.value.to_string(), v.span.clone()))),
            chmod: flag(&copy.options, "chmod"),
            checksum: None,
            sources: sources(&copy.src),
            dest: copy.dest.value.to_string(),
        }),
        Ast::Add(add) => Body::Copy(Copy {
            is_add: true,
            from: None,
            chown: add
                .options
                .iter()
                .find(|f| f.name.value == "chown")
                .and_then(|f| f.value.as_ref().map(|v| (v.value.to_string(), v.span.clone()))),
            chmod: flag(&add.options, "chmod"),
            checksum: flag(&add.options, "checksum"),
            sources: sources(&add.src),
            dest: add.dest.value.to_string(),
        }),
        Ast::Env(env) => Body::Env(parse_env(&env.arguments.value)),
        Ast::Arg(arg) => Body::Arg(
            parse_args(&arg.arguments.value, arg.arguments.span.start)
                .into_iter()
                .map(|a| (a.name, a.default))
                .collect(),
        ),
        Ast::User(user) => Body::User(user.arguments.value.to_string(), user.arguments.span.clone()),
        Ast::Cmd(cmd) => Body::Cmd(command_form(&cmd.arguments, text)),
        Ast::Entrypoint(ep) => Body::Entrypoint(command_form(&ep.arguments, text)),
        Ast::Expose(expose) => Body::Expose(expose.arguments.iter().map(|a| a.value.to_string()).collect()),
        Ast::Healthcheck(hc) => Body::Healthcheck(match &hc.arguments {
            HealthcheckArguments::Cmd { arguments, .. } => Some(command_form(arguments, text)),
            _ => None,
        }),
        Ast::Workdir(wd) => Body::Workdir(wd.arguments.value.to_string()),
        Ast::Volume(volume) => Body::Volume(match &volume.arguments {
            JsonOrStringArray::Json(items) => items.value.iter().map(|v| v.value.to_string()).collect(),
            JsonOrStringArray::String(items) => items.iter().map(|v| v.value.to_string()).collect(),
        }),
        Ast::Onbuild(_) => Body::Onbuild,
        _ => Body::Other,
    }
}

fn flag(options: &[parse_dockerfile::Flag<'_>], name: &str) -> Option<String> {
    options.iter().find(|f| f.name.value == name).and_then(|f| f.value.as_ref().map(|v| v.value.to_string()))
}

fn sources(src: &[Source<'_>]) -> Vec<String> {
    src.iter()
        .filter_map(|s| match s {
            Source::Path(p) => Some(p.value.to_string()),
            _ => None,
        })
        .collect()
}

/// `ENTRYPOINT []` or `CMD []` (spaces allowed inside), with the keyword and its space apart.
pub(super) static EMPTY_COMMAND: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"(?mi)^([ \t]*(?:ENTRYPOINT|CMD)[ \t]+)(\[[ \t]*\])[ \t]*$").expect("a valid pattern")
});

/// A command as written; `text` is the file, where an empty array read as `""` is told apart.
fn command_form(command: &Command<'_>, text: &str) -> CommandForm {
    match command {
        Command::Exec(args) => CommandForm::Exec(args.value.iter().map(|a| a.value.to_string()).collect()),
        Command::Shell(s) if text[s.span.clone()].starts_with('[') => CommandForm::Exec(Vec::new()),
        Command::Shell(s) => CommandForm::Shell(s.value.to_string(), s.span.clone()),
        _ => CommandForm::Exec(Vec::new()),
    }
}

/// Parses `ENV A=1 B="x y"` and the legacy `ENV A 1`.
fn parse_env(args: &str) -> Vec<(String, String)> {
    let words: Vec<String> = shell::lex(args, 0).into_iter().map(|t| t.value).collect();
    match words.first() {
        Some(first) if !first.contains('=') => {
            let value = args.trim_start()[first.len()..].trim().trim_matches('"').to_string();
            vec![(first.clone(), value)]
        }
        _ => words.iter().filter_map(|w| w.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    }
}

/// Parses `ARG A B=1`, whose text starts at `offset` in the file.
pub(super) fn parse_args(args: &str, offset: usize) -> Vec<ArgWord> {
    shell::lex(args, offset)
        .into_iter()
        .map(|t| {
            let (name, default) = match t.value.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (t.value, None),
            };
            ArgWord { name, default, span: t.span }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_env_forms() {
        assert_eq!(parse_env("A=1 B=\"x y\""), vec![("A".into(), "1".into()), ("B".into(), "x y".into())]);
        assert_eq!(parse_env("PORT 8080"), vec![("PORT".into(), "8080".into())]);
    }
}
