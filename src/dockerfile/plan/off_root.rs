//! Moving the program off root: what the user switch needs (directories created for 65532) or
//! why it cannot happen (a low port, a root-only resource, an entrypoint that drops privileges),
//! in which case the runtime is kept and the reason joins the hazards.

use crate::finding::Finding;
use crate::rules;

use super::super::facts::Facts;
use super::super::model::{Body, Copy};
use super::super::userswitch;
use super::{Plan, Refusal, RuntimePlan, Writable};

/// The plan, once moving off root is checked: it must keep what the program needs of root (a low
/// port, writable directories, which are created for 65532 where they hold nothing else), or the
/// runtime is kept and the reason joins the hazards.
pub(super) fn off_root(facts: &Facts<'_>, runtime: RuntimePlan, edit_builds: bool, mut hazards: Vec<Finding>) -> Plan {
    let as_root = userswitch::runs_as_root(facts);
    // The root variant of an image the repository also builds without root is root on purpose:
    // said at info, as nothing here needs fixing.
    if let Some(variant) = facts.source.orchestration.nonroot_variant.as_ref().filter(|_| as_root) {
        let stage = facts.runtime_stage();
        let line = facts.last_user(stage).map_or(stage.from.line, |(inst, _)| inst.line);
        let why = format!(
            "the program runs as root on purpose: {variant} beside this file builds the same image to run without root, and the repository publishes both"
        );
        let finding = Finding::new(&rules::RUNS_AS_ROOT, line, why.clone());
        hazards.push(Finding { severity: rules::Severity::Info, ..finding });
        let root_kept = Some(why);
        return Plan {
            edit_builds,
            runtime: RuntimePlan::Keep,
            hazards,
            writable: Writable::default(),
            root_kept,
            user_kept: false,
        };
    }
    // Who ran the program before, when it moves to 65532.
    let mut previous = None;
    let switched = match &runtime {
        RuntimePlan::Keep => Ok(Writable::default()),
        changed if as_root => {
            previous = Some("root".to_string());
            user_switch(facts, changed)
        }
        changed => match userswitch::other_owner(facts) {
            Some(blocker) => Err(blocker),
            // A named user that becomes 65532 leaves its directories (its home, made by adduser)
            // behind: what the program writes is prepared for 65532 as for a program that ran as
            // root.
            None if leaves_its_home(facts, changed) => {
                previous = previous_user(facts).filter(|_| becomes_nonroot(facts, changed));
                prepared_dirs(facts, changed)
            }
            None => Ok(Writable::default()),
        },
    };
    let (runtime, writable, root_kept, user_kept) = match switched {
        Ok(writable) => {
            hazards.extend(previous.and_then(|previous| userswitch::stored_data(facts, &previous)));
            (runtime, writable, None, false)
        }
        Err((rule, line, message)) => {
            let root_kept = as_root.then(|| message.clone());
            hazards.push(Finding::new(rule, line, message));
            (RuntimePlan::Keep, Writable::default(), root_kept, !as_root)
        }
    };
    Plan { edit_builds, runtime, hazards, writable, root_kept, user_kept }
}

/// What moving the runtime from root to 65532 needs, or why it cannot.
fn user_switch(facts: &Facts<'_>, runtime: &RuntimePlan) -> Result<Writable, Refusal> {
    let stage = facts.runtime_stage();
    let user_line = facts.last_user(stage).map_or(stage.from.line, |(inst, _)| inst.line);
    if facts.is_off(rules::RUNS_AS_ROOT.id) {
        let why = "the program runs as root on purpose: HD106 is turned off for this file";
        return Err((&rules::RUNS_AS_ROOT, user_line, why.into()));
    }
    if let Some(why) = userswitch::privilege_drop(facts) {
        return Err((&rules::RUNS_AS_ROOT, user_line, format!("the program runs as root{why}")));
    }
    let blocker = super::super::notes::root_needed(facts)
        .or_else(|| userswitch::root_check(facts))
        .or_else(|| userswitch::privileged_port(facts))
        .or_else(|| userswitch::root_resource(facts))
        .or_else(|| userswitch::given_writes(facts))
        .or_else(|| userswitch::orchestrated_root(facts))
        .or_else(|| {
            let image = match runtime {
                RuntimePlan::Split { image, .. } | RuntimePlan::Convert { image: Some(image) } => Some(image.as_str()),
                _ => None,
            };
            userswitch::home_writes(facts, image)
        });
    if let Some(blocker) = blocker {
        return Err(blocker);
    }
    if let RuntimePlan::Convert { image: None } = runtime
        && let Some(blocker) = userswitch::linuxserver_base(facts)
            .or_else(|| userswitch::base_entrypoint(facts))
            .or_else(|| userswitch::base_program(facts))
    {
        return Err(blocker);
    }
    if facts.prebuilt_binary().is_some()
        && let Some(blocker) = userswitch::unknown_writes(facts)
    {
        return Err(blocker);
    }
    prepared_dirs(facts, runtime)
}

/// The directories the program writes, created for 65532 in the stage that builds it, or why
/// that cannot be done.
fn prepared_dirs(facts: &Facts<'_>, runtime: &RuntimePlan) -> Result<Writable, Refusal> {
    let dirs = userswitch::writable_dirs(facts)?;
    if dirs.is_empty() {
        return Ok(Writable::default());
    }
    let from = match runtime {
        RuntimePlan::Split { .. } => Some(facts.runtime),
        _ => program_stage(facts),
    };
    match from {
        Some(from) => Ok(Writable { dirs, from: Some(from), owner: owner(facts, runtime) }),
        None => Err((
            &rules::RUNTIME_WRITES,
            facts.runtime_stage().from.line,
            format!(
                "the program writes {} at run time, and no stage with a shell builds it to prepare that for 65532; the user is left as it is",
                dirs.join(", ")
            ),
        )),
    }
}

/// True when the runtime's user is a name that becomes 65532 under `runtime` (an account made
/// with ids harden cannot read, on a runtime it replaces).
fn becomes_nonroot(facts: &Facts<'_>, runtime: &RuntimePlan) -> bool {
    facts.last_user(facts.runtime_stage()).is_some_and(|(_, user)| {
        !crate::dockerfile::analyse::is_numeric_user(user)
            && super::super::users::ids_on(runtime, facts, user).as_deref() == Some(super::NONROOT)
    })
}

/// True when the runtime's user is a name whose account, and its home, stay behind under
/// `runtime`: it becomes 65532, or keeps the ids the runtime stage gave it on a base that
/// replaces the runtime's (where no account has them).
fn leaves_its_home(facts: &Facts<'_>, runtime: &RuntimePlan) -> bool {
    let replaced = matches!(runtime, RuntimePlan::Convert { image: Some(_) } | RuntimePlan::Split { .. });
    let own = facts.last_user(facts.runtime_stage()).is_some_and(|(_, user)| {
        !crate::dockerfile::analyse::is_numeric_user(user)
            && super::super::users::runtime_account_ids(facts, user).is_some()
    });
    becomes_nonroot(facts, runtime) || (replaced && own)
}

/// The `uid:gid` the runtime's user has under `runtime`: the ids its named account keeps, else
/// 65532's.
fn owner(facts: &Facts<'_>, runtime: &RuntimePlan) -> String {
    let user = facts.last_user(facts.runtime_stage()).map(|(_, user)| user);
    let named =
        user.filter(|u| !crate::dockerfile::analyse::is_numeric_user(u) && !crate::dockerfile::analyse::is_root(u));
    named.and_then(|u| super::super::users::ids_on(runtime, facts, u)).unwrap_or_else(|| super::NONROOT.to_string())
}

/// How the runtime's named user that becomes 65532 was known: `uid 1000 (mailhog)` where the file
/// gives its id, else its name; `None` when its ids already are 65532's (distroless's own
/// `nonroot`): nothing changes owner.
fn previous_user(facts: &Facts<'_>) -> Option<String> {
    let stage = facts.runtime_stage();
    let (_, user) = facts.last_user(stage)?;
    let name = user.split(':').next().unwrap_or(user);
    let all: Vec<_> = facts.df.stages.iter().collect();
    let own = || facts.base_image(stage).and_then(|b| b.own_account_ids(user)).map(str::to_string);
    match crate::dockerfile::users::created_ids(&all, facts.text, user).or_else(own) {
        Some(ids) if ids.split(':').next() == Some("65532") => None,
        Some(ids) => Some(format!("uid {} ({name})", ids.split(':').next().unwrap_or(&ids))),
        None => Some(format!("user {name}")),
    }
}

/// The stage the runtime copies the program from, when it builds Go (so it has a shell).
fn program_stage(facts: &Facts<'_>) -> Option<usize> {
    let builders = facts.builder_stages();
    facts.runtime_stage().instructions.iter().find_map(|inst| match &inst.body {
        Body::Copy(Copy { from: Some(from), .. }) => facts
            .df
            .stage_named(from)
            .filter(|s| builders.contains(&s.index))
            .filter(|s| facts.last_user(s).is_none_or(|(_, user)| crate::dockerfile::analyse::is_root(user)))
            .map(|s| s.index),
        _ => None,
    })
}
