//! Directories the program writes at run time, given to the non-root user: created empty in the
//! stage that builds the program (it has a shell) under [`STAGING`], and copied into the runtime
//! owned by its user (65532, or the ids its own account keeps), the way distroless images are
//! prepared by hand (`COPY --chown`).

use crate::edit::Edit;

use super::super::facts::Facts;
use super::super::model::Body;
use super::super::plan::Writable;
use super::super::userswitch::STAGING;
use super::Style;

/// The `RUN` that creates the directories, empty, in the build stage.
pub fn staging_line(writable: &Writable) -> Option<String> {
    let dirs: Vec<String> = writable.dirs.iter().map(|d| format!("{STAGING}{d}")).collect();
    (!dirs.is_empty()).then(|| format!("RUN mkdir -p {}", dirs.join(" ")))
}

/// The `COPY` lines that bring them into the runtime, owned by its user: one per directory not
/// inside another, whose copy carries it.
pub fn copy_lines(writable: &Writable, builder: &str) -> Vec<String> {
    let inside_another = |d: &String| writable.dirs.iter().any(|o| o != d && d.starts_with(&format!("{o}/")));
    writable
        .dirs
        .iter()
        .filter(|d| !inside_another(d))
        .map(|d| format!("COPY --from={builder} --chown={} {STAGING}{d} {d}", writable.owner))
        .collect()
}

/// For a runtime stage converted in place: the staging `RUN` at the end of the stage that builds
/// the program, and the copies before the runtime's first working directory, volume, user or
/// command (or at its end).
pub fn convert(facts: &Facts<'_>, writable: &Writable, style: &Style, out: &mut Vec<Edit>) {
    let (Some(line), Some(from)) = (staging_line(writable), writable.from) else { return };
    let builder = &facts.df.stages[from];
    let end = builder.instructions.last().map_or(builder.from.span.end, |i| i.span.end);
    let lead = if facts.text[..end].ends_with('\n') { "" } else { style.nl };
    out.push(Edit::insert(end, format!("{lead}{}", style.lines(&line))));
    let stage = facts.runtime_stage();
    let copies = style.lines(&copy_lines(writable, &builder.reference()).join("\n"));
    // Before the WORKDIR or VOLUME that would make one of them root-owned first (and the classic
    // builder drops what a later step puts in a volume), and before the user and the commands.
    let first_command = stage.instructions.iter().find(|i| {
        matches!(i.body, Body::Workdir(_) | Body::Volume(_) | Body::Entrypoint(_) | Body::Cmd(_) | Body::User(..))
    });
    match first_command {
        Some(first) => out.push(Edit::insert(first.comments_start, copies)),
        None => {
            let end = stage.instructions.last().map_or(stage.from.span.end, |i| i.span.end);
            let lead = if facts.text[..end].ends_with('\n') { "" } else { style.nl };
            out.push(Edit::insert(end, format!("{lead}{copies}")));
        }
    }
}
