//! What the runtime stage's commands say: a shell-form ENTRYPOINT or CMD (no signals), a
//! HEALTHCHECK's form and tools, and an EXPOSE of a port below 1024.

use crate::finding::Finding;
use crate::rules;

use super::super::facts::Facts;
use super::super::model::{Body, CommandForm, Stage};
use super::super::plan::Plan;
use super::super::runtime;

/// The findings of the runtime `stage`'s ENTRYPOINT, CMD, HEALTHCHECK and EXPOSE.
pub(super) fn findings(facts: &Facts<'_>, plan: &Plan, stage: &Stage, out: &mut Vec<Finding>) {
    let binds_low_ports =
        facts.file_capabilities().is_some_and(|(_, caps)| caps.iter().any(|c| c == "NET_BIND_SERVICE"));
    for inst in &stage.instructions {
        // A bare `CMD` or `ENTRYPOINT` names no command: no form to speak of.
        if let Body::Cmd(CommandForm::Shell(text, _)) | Body::Entrypoint(CommandForm::Shell(text, _)) = &inst.body
            && text.trim().is_empty()
        {
            continue;
        }
        match &inst.body {
            // The refusal to drop the shell already said so of this line.
            // A CMD of one simple command on a runtime that keeps its shell: busybox ash, dash
            // and bash exec the last command of `-c` in their own place, so the program is
            // PID 1 and gets signals (an ENTRYPOINT in shell form still drops the run's arguments).
            Body::Cmd(CommandForm::Shell(text, _))
                if !plan.runtime_is_shell_less(facts)
                    && one_simple_command(text)
                    && !plan.hazards.iter().any(|h| h.rule == rules::SHELL_FORM.id && h.line == inst.line) =>
            {
                let message = match facts.entrypoint_and_cmd(stage).0 {
                    Some(_) => {
                        "CMD is in shell form under an ENTRYPOINT: its words reach the entrypoint as `/bin/sh -c …`; harden leaves it, as exec form would change the entrypoint's arguments"
                    }
                    None => {
                        "CMD is in shell form, one simple command that /bin/sh runs in its own place (busybox ash, dash and bash exec it), so the program still gets signals; exec form would not depend on the shell"
                    }
                };
                out.push(Finding {
                    severity: crate::rules::Severity::Info,
                    ..Finding::new(&rules::SHELL_FORM, inst.line, message.to_string())
                });
            }
            // On a base without /bin/sh the image cannot start at all: an error, whose fix a
            // pull request carries alone.
            Body::Entrypoint(form @ CommandForm::Shell(..)) | Body::Cmd(form @ CommandForm::Shell(..))
                if facts.unstartable_command().is_some_and(|c| std::ptr::eq(c, form)) =>
            {
                let finding = Finding::new(
                    &rules::SHELL_FORM,
                    inst.line,
                    format!(
                        "{} is in shell form, and the runtime has no /bin/sh to run it: the image cannot start as written{}",
                        inst.keyword,
                        match runtime::needs_shell(form) {
                            true =>
                                "; it uses shell syntax, which exec form cannot carry, so harden leaves it to you (spell its values out in exec form)",
                            false => "",
                        }
                    ),
                );
                out.push(Finding { severity: crate::rules::Severity::Error, ..finding });
            }
            Body::Entrypoint(CommandForm::Shell(..)) | Body::Cmd(CommandForm::Shell(..))
                if !plan.hazards.iter().any(|h| h.rule == rules::SHELL_FORM.id && h.line == inst.line) =>
            {
                out.push(Finding::new(
                    &rules::SHELL_FORM,
                    inst.line,
                    format!(
                        "{} is in shell form: it runs under /bin/sh and the program does not get signals",
                        inst.keyword
                    ),
                ));
            }
            // A health check gets no signals: its shell form matters only where there is no
            // shell, the only place harden turns it. Where the shell stays, it is said at info:
            // nothing needs changing (hadolint's DL3025 reads only CMD and ENTRYPOINT).
            Body::Healthcheck(Some(form @ CommandForm::Shell(..)))
                if !(plan.runtime_is_shell_less(facts) && runtime::healthcheck_needs_tools(form)) =>
            {
                let finding = if plan.runtime_is_shell_less(facts) {
                    Finding::new(
                        &rules::SHELL_FORM,
                        inst.line,
                        "HEALTHCHECK CMD is in shell form, and the runtime has no /bin/sh to run it",
                    )
                } else {
                    // `curl -f http://localhost:$PORT/health`: the shell expands what exec form would not.
                    // A script over several lines is no word to quote.
                    let expands = form.words().into_iter().find(|w| w.contains('$')).map(|w| {
                        match w.contains('\n') || w.chars().count() > 60 {
                            true => ", which runs its script".to_string(),
                            false => format!(", which expands `{w}`"),
                        }
                    });
                    let expands = expands.unwrap_or_default();
                    let message = format!(
                        "HEALTHCHECK CMD is in shell form: the runtime keeps its /bin/sh to run it{expands}, and a health check needs no signals, so harden leaves the form as it is"
                    );
                    Finding {
                        severity: crate::rules::Severity::Info,
                        ..Finding::new(&rules::SHELL_FORM, inst.line, message)
                    }
                };
                out.push(finding);
            }
            Body::Healthcheck(Some(form))
                if plan.runtime_is_shell_less(facts) && runtime::healthcheck_needs_tools(form) =>
            {
                out.push(Finding::new(
                    &rules::HEALTHCHECK_TOOL,
                    inst.line,
                    "HEALTHCHECK needs a shell or an HTTP tool that a distroless runtime does not have",
                ));
            }
            // When a low port left the user as it is, the plan's finding says so once.
            // A binary given NET_BIND_SERVICE by `setcap` binds low ports as any user.
            Body::Expose(ports)
                if !plan.hazards.iter().any(|h| h.rule == rules::PRIVILEGED_PORT.id) && !binds_low_ports =>
            {
                let low: Vec<&str> = ports
                    .iter()
                    .map(String::as_str)
                    .filter(|port| port.split('/').next().and_then(|p| p.parse::<u32>().ok()).is_some_and(|n| n < 1024))
                    .collect();
                if !low.is_empty() {
                    let finding = Finding::new(
                        &rules::PRIVILEGED_PORT,
                        inst.line,
                        format!(
                            "EXPOSE {}: a non-root process may not bind a port below 1024 where the runtime does not allow it (CRI-O, older runtimes)",
                            low.join(" ")
                        ),
                    );
                    // Where the port kept a root program's user, the plan's own finding (a
                    // warning) says so; here the user stays as it was for another reason, or
                    // is not root: nothing to act on in this file, only to know.
                    out.push(Finding { severity: crate::rules::Severity::Info, ..finding });
                }
            }
            // An image already not root that sets its listen port below 1024: said, as EXPOSE is.
            Body::Env(pairs)
                if !plan.hazards.iter().any(|h| h.rule == rules::PRIVILEGED_PORT.id) && !binds_low_ports =>
            {
                if let Some((name, port)) = super::super::userswitch::listen_env(facts, pairs) {
                    let finding = Finding::new(
                        &rules::PRIVILEGED_PORT,
                        inst.line,
                        format!(
                            "ENV {name} sets the program's port to {port}: a non-root process may not bind a port below 1024 where the runtime does not allow it (CRI-O, older runtimes); set it to 1024 or more"
                        ),
                    );
                    out.push(Finding { severity: crate::rules::Severity::Info, ..finding });
                }
            }
            _ => {}
        }
    }
}

/// True when a shell-form command is one simple command: no list, pipe, redirection,
/// substitution or trap, which would keep the shell running beside the program.
fn one_simple_command(text: &str) -> bool {
    let operators = [";", "&", "|", ">", "<", "$(", "`", "\n", "trap "];
    !operators.iter().any(|o| text.contains(o)) && !text.trim().is_empty()
}
