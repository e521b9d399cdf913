//! HD105: a Go build that does not strip symbols, and where `-s -w` goes when its `-ldflags`
//! come from a variable harden leaves to the maintainer.

use super::super::facts::Facts;
use super::super::model::{Body, Stage};

/// What HD105 says of a build in `stage` whose `-ldflags` lack `-s -w`: where to add them when
/// they are the variable `from_variable` (an `ENV` of the stage or one it is built on, the build
/// file that passes the build argument, or the argument's default).
pub fn not_stripped(facts: &Facts<'_>, stage: &Stage, from_variable: Option<&str>) -> String {
    let env_line = |name: &str| {
        std::iter::successors(Some(stage), |s| facts.parent_stage(s)).find_map(|s| {
            (s.instructions.iter().rev())
                .find(|i| matches!(&i.body, Body::Env(pairs) if pairs.iter().any(|(k, _)| k == name)))
                .map(|i| i.line)
        })
    };
    let passed = |name: &str| facts.source.orchestration.build_args.iter().find(|a| a.name == name);
    match from_variable {
        Some(name) if let Some(at) = env_line(name) => format!(
            "the Go build does not strip symbols: its -ldflags are ${name}, which the file sets (ENV, line {at}) and harden leaves to you: add -s -w there"
        ),
        Some(name) if let Some(arg) = passed(name) => format!(
            "the Go build does not strip symbols: its -ldflags come from the build argument {name}, which {} passes: add -s -w there",
            arg.origin
        ),
        Some(name) if facts.arg_default(stage, name).is_some() => format!(
            "the Go build does not strip symbols: its -ldflags come from the build argument {name}, which harden leaves to you: add -s -w to its default"
        ),
        Some(name) => format!(
            "the Go build does not strip symbols: its -ldflags take ${name}, which harden leaves to you: add -s -w where it is set"
        ),
        None => "the Go build does not strip symbols (-ldflags=\"-s -w\")".to_string(),
    }
}

/// True when the variable `from_variable` a build's `-ldflags` take is a build argument that a
/// build file passes with `-s -w` (`--build-arg ldflags="$(LDFLAGS) -s -w"`): the image it
/// builds is stripped, and a debug build that passes it without them does so on purpose.
pub fn stripped_where_built(facts: &Facts<'_>, from_variable: Option<&str>) -> bool {
    from_variable.is_some_and(|name| facts.source.orchestration.stripping_args.iter().any(|a| a.name == name))
}
