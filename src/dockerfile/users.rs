//! The ids a Dockerfile gives the user and group names it creates: `adduser -u N`, `useradd
//! --uid N`, `addgroup -g N`, `groupadd --gid N`, or `/etc/passwd` and `/etc/group` lines it
//! writes itself (`echo "app:x:1000:1000::/home/app:" >> /etc/passwd`), in the stages given (a
//! builder often writes the passwd file the runtime copies).

use super::facts::Facts;
use super::image::ImageRef;
use super::model::{Body, Dockerfile, Stage};
use super::plan::{Plan, RuntimePlan};

/// The stages of `df`, but the one at `except` (a runtime stage whose own account setup a
/// conversion to distroless removes).
pub fn stages_but(df: &Dockerfile, except: Option<usize>) -> Vec<&Stage> {
    df.stages.iter().filter(|s| Some(s.index) != except).collect()
}

/// The numeric `uid[:gid]` for `USER name[:group]` when one of `stages` creates the name (and
/// group) with fixed ids; `None` when either part cannot be told, so the group is never dropped.
pub fn created_ids(stages: &[&Stage], text: &str, user: &str) -> Option<String> {
    let (name, group) = match user.split_once(':') {
        Some((name, group)) => (name, Some(group)),
        None => (user, None),
    };
    let passwd = passwd_line(stages, text, name);
    let uid = created_id(stages, &["adduser", "useradd"], &["-u", "--uid"], name)
        .or_else(|| passwd.as_ref().map(|(uid, _)| uid.clone()))?;
    match group {
        // The account's primary group, where the file says which: the one it runs with.
        None => Some(match primary_gid(stages, text, name, passwd) {
            Some(gid) => format!("{uid}:{gid}"),
            None => uid,
        }),
        Some(group) if group.chars().all(|c| c.is_ascii_digit()) => Some(format!("{uid}:{group}")),
        Some(group) => {
            let gid = created_id(stages, &["addgroup", "groupadd"], &["-g", "--gid"], group)
                .or_else(|| group_line(stages, text, group))
                .or_else(|| passwd.filter(|_| group == name).map(|(_, gid)| gid))
                .or_else(|| busybox_own_group(stages, name).filter(|_| group == name))?;
            Some(format!("{uid}:{gid}"))
        }
    }
}

/// The numeric ids the runtime's named `user` becomes under `plan` (see [`ids_for`]): a runtime
/// harden replaces, or whose accounts it knows, gets them; a kept one only those the file gives
/// (or `nobody`'s).
pub fn ids_under(plan: &Plan, facts: &Facts<'_>, user: &str) -> Option<String> {
    if plan.user_kept {
        return None;
    }
    ids_on(&plan.runtime, facts, user)
}

/// The numeric ids the runtime's named `user` becomes when the runtime is planned as `runtime`
/// (see [`ids_under`]).
pub fn ids_on(runtime_plan: &RuntimePlan, facts: &Facts<'_>, user: &str) -> Option<String> {
    let runtime = facts.runtime_stage();
    let (others, known) = match runtime_plan {
        RuntimePlan::Keep => (stages_but(facts.df, None), false),
        // A base kept whose accounts are known gives `nobody` the ids it has there (65534), as
        // a manifest running the image names them: the image keeps its user.
        RuntimePlan::Convert { image: None } if nobody_ids(user).is_some() => return nobody_ids(user),
        RuntimePlan::Convert { image: None } => (
            stages_but(facts.df, Some(runtime.index)),
            facts.base_image(runtime).is_some_and(ImageRef::accounts_are_known),
        ),
        _ => (stages_but(facts.df, Some(runtime.index)), true),
    };
    // Ids the runtime itself gives the account (`adduser -D -u 1000 app`) are the maintainer's
    // choice: the files its volumes and bind-mounted host directories hold are theirs, so they
    // stay when the runtime's base is replaced.
    if let Some(ids) = runtime_account_ids(facts, user) {
        return Some(ids);
    }
    ids_for(&others, facts.text, user, known)
}

/// The numeric ids `USER name[:group]` becomes in a runtime stage: those one of `stages` gives
/// it; 65534 for `nobody` (`nobody`, `nobody:nogroup`), which every Linux distribution and
/// distroless give that id; else 65532, harden's user, where the runtime's accounts are known
/// (`accounts_known`: distroless, scratch, or a runtime harden replaces). `None` when the ids are
/// the kept base image's own, which harden does not read: changing them would change who runs.
fn ids_for(stages: &[&Stage], text: &str, user: &str, accounts_known: bool) -> Option<String> {
    // An account the file creates keeps its own ids, even where only part of them can be told:
    // 65532 would be another user, with no entry in the passwd file the image carries.
    match created_ids(stages, text, user) {
        Some(ids) => Some(ids),
        None if creates(stages, text, user) => None,
        None => nobody_ids(user)
            .filter(|_| !accounts_known)
            .or_else(|| accounts_known.then(|| super::plan::NONROOT.to_string())),
    }
}

/// The `uid:gid` the runtime stage gives the account `user` (`name` or `name:group`) it creates
/// with a fixed uid: the group its command names or creates, else the account's own group,
/// which BusyBox's `adduser` (on Alpine and BusyBox) numbers as the uid, and so does `useradd`
/// where that number is free (its own group: no `-g`, `-N`, and no system account); `None`
/// when the group cannot be told.
pub fn runtime_account_ids(facts: &Facts<'_>, user: &str) -> Option<String> {
    let runtime = facts.runtime_stage();
    let ids = created_ids(&[runtime], facts.text, user)?;
    if ids.contains(':') {
        return Some(ids);
    }
    let (name, group) = user.split_once(':').unwrap_or((user, user));
    let busybox = facts.base_image(runtime).is_some_and(|b| b.is_musl() || b.family() == super::image::Family::Busybox);
    let own_group = run_argvs(&[runtime]).any(|argv| {
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let joins =
            |flags: &[&str]| argv.iter().any(|a| flags.iter().any(|f| a == f || a.starts_with(&format!("{f}="))));
        account_name(&argv) == Some(name)
            && match argv.first() {
                Some(&"adduser") => busybox && !joins(&["-G", "--ingroup", "--gid"]),
                // A system account's own group is numbered in the system range instead.
                Some(&"useradd") => !joins(&["-g", "--gid", "-N", "--no-user-group", "-r", "--system"]),
                _ => false,
            }
    });
    (own_group && group == name).then(|| format!("{ids}:{ids}"))
}

/// `65534:65534` for `nobody` (`nobody`, `nobody:nobody`, `nobody:nogroup`), the ids every Linux
/// distribution and distroless give that account.
pub fn nobody_ids(user: &str) -> Option<String> {
    let nobody = matches!(user.split_once(':'), Some(("nobody", "nobody" | "nogroup"))) || user == "nobody";
    nobody.then(|| "65534:65534".to_string())
}

/// True when one of `stages` creates the account `user` names (`adduser`, `useradd`, or a passwd
/// line it writes), whatever ids it gives it (a build argument's, `--uid ${UID}`).
pub fn creates(stages: &[&Stage], text: &str, user: &str) -> bool {
    let name = user.split(':').next().unwrap_or(user);
    let by_program = run_argvs(stages).any(|argv| {
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        argv.first().is_some_and(|p| matches!(*p, "adduser" | "useradd")) && account_name(&argv) == Some(name)
    });
    // A passwd line (seven fields) counts whatever its ids: `${uid}` is chosen at build time.
    by_program || entries(stages, text, name).any(|fields| fields.len() >= 6 && fields[1] == "x")
}

/// The accounts the `RUN`s of `stages` create (`adduser -D app`, `useradd -u 1009 rclone`), each
/// once, in order.
pub fn created_accounts(stages: &[&Stage]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for argv in run_argvs(stages) {
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let created = argv.first().is_some_and(|p| matches!(*p, "adduser" | "useradd")).then(|| account_name(&argv));
        if let Some(Some(name)) = created
            && !out.iter().any(|n| n == name)
        {
            out.push(name.to_string());
        }
    }
    out
}

/// `uid:gid` as the build arguments that give them, for `USER name[:group]` when one of `stages`
/// creates the account and its group with ids from build arguments (`adduser -u ${APP_UID}`,
/// `addgroup -g ${APP_GID} app`): `USER ${APP_UID}:${APP_GID}` keeps the option to choose them
/// and puts numbers in the image, as the kubelet needs.
pub fn argument_ids(stages: &[&Stage], user: &str) -> Option<String> {
    let (name, group) = user.split_once(':').unwrap_or((user, user));
    let uid = option_of(stages, &["adduser", "useradd"], &["-u", "--uid"], name).filter(|v| v.starts_with('$'))?;
    let gid = option_of(stages, &["addgroup", "groupadd"], &["-g", "--gid"], group).filter(|v| v.starts_with('$'))?;
    Some(format!("{uid}:{gid}"))
}

/// [`argument_ids`] for `user`, the runtime stage's last `USER`, where that stage declares the
/// build arguments before it, so `USER ${APP_UID}:${APP_GID}` written there reads them (an ARG's
/// scope ends with its stage).
pub fn runtime_argument_ids(facts: &Facts<'_>, user: &str) -> Option<String> {
    let stage = facts.runtime_stage();
    let (inst, last) = facts.last_user(stage)?;
    let at = stage.instructions.iter().position(|i| std::ptr::eq(i, inst)).filter(|_| last == user)?;
    let ids = argument_ids(&stages_but(facts.df, None), user)?;
    undeclared(stage, at, &ids).is_empty().then_some(ids)
}

/// The build arguments of `ids` (`${APP_UID}:${APP_GID}`) that `stage` does not declare before
/// its instruction `at`, which a USER there cannot read.
fn undeclared<'a>(stage: &Stage, at: usize, ids: &'a str) -> Vec<&'a str> {
    let declared = |name: &str| {
        stage.instructions[..at]
            .iter()
            .any(|i| matches!(&i.body, Body::Arg(args) if args.iter().any(|(n, _)| n == name)))
    };
    ids.split(':').filter_map(super::variables::only_variable).filter(|name| !declared(name)).collect()
}

/// The primary group id of the account `name` a stage creates: its passwd line's, the group
/// `useradd -g` (or `adduser -G`, `--ingroup`) puts it in, or a group of its own name created
/// with an id (`groupadd -g 1000 woodpecker`, which `useradd woodpecker` then joins).
fn primary_gid(stages: &[&Stage], text: &str, name: &str, passwd: Option<(String, String)>) -> Option<String> {
    let gid_of = |group: &str| {
        let group = group.to_string();
        (is_id(&group).then(|| group.clone()))
            .or_else(|| created_id(stages, &["addgroup", "groupadd"], &["-g", "--gid"], &group))
            .or_else(|| group_line(stages, text, &group))
    };
    let joined = option_of(stages, &["useradd"], &["-g", "--gid"], name)
        .or_else(|| option_of(stages, &["adduser"], &["-G", "--ingroup", "--gid"], name));
    passwd.map(|(_, gid)| gid).or_else(|| joined.and_then(|g| gid_of(&g))).or_else(|| {
        created_id(stages, &["addgroup", "groupadd"], &["-g", "--gid"], name)
            .or_else(|| group_line(stages, text, name))
            .or_else(|| busybox_own_group(stages, name))
    })
}

/// The gid of the group BusyBox's `adduser -u N name` (alpine's, busybox's) creates for `name`
/// when no group is given: N, the uid (it fails rather than take another); a system account
/// (`-S`) joins `nogroup` instead.
fn busybox_own_group(stages: &[&Stage], name: &str) -> Option<String> {
    let busybox = |stage: &&&Stage| {
        let image = crate::orchestration::without_tag(&stage.from.image);
        matches!(image.rsplit('/').next(), Some("alpine" | "busybox"))
    };
    stages.iter().filter(busybox).find_map(|stage| {
        run_argvs(std::slice::from_ref(stage)).find_map(|argv| {
            let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
            let system = |a: &&str| *a == "--system" || (a.starts_with('-') && !a.starts_with("--") && a.contains('S'));
            let grouped = argv.iter().any(|a| matches!(a.split('=').next(), Some("-G" | "--ingroup" | "--gid")))
                || argv.iter().any(system);
            (argv.first() == Some(&"adduser") && account_name(&argv) == Some(name) && !grouped).then_some(())?;
            created_id(std::slice::from_ref(stage), &["adduser"], &["-u", "--uid"], name)
        })
    })
}

/// The id some stage gives `name` with one of `programs` and one of `flags` (`useradd -u 1000
/// app`).
fn created_id(stages: &[&Stage], programs: &[&str], flags: &[&str], name: &str) -> Option<String> {
    option_of(stages, programs, flags, name).filter(|v| is_id(v))
}

/// The value one of `flags` has where a stage runs one of `programs` for `name` (its last word).
fn option_of(stages: &[&Stage], programs: &[&str], flags: &[&str], name: &str) -> Option<String> {
    run_argvs(stages).find_map(|argv| {
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        if !argv.first().is_some_and(|p| programs.contains(p)) || account_name(&argv) != Some(name) {
            return None;
        }
        // `--uid=1000` carries its value.
        if let Some(value) = argv.iter().find_map(|a| {
            a.split_once('=').filter(|(flag, _)| flags.contains(flag)).map(|(_, value)| value.to_string())
        }) {
            return Some(value);
        }
        // Short options may be bundled, the one that takes the id last (`addgroup -Sg 1000`).
        let short = |a: &str| {
            a.starts_with('-') && !a.starts_with("--") && flags.iter().any(|f| f.len() == 2 && a.ends_with(&f[1..]))
        };
        let pos = argv.iter().position(|a| flags.contains(a) || short(a))?;
        argv.get(pos + 1).map(|v| v.to_string())
    })
}

/// The words of every command the `RUN`s of `stages` run, with the variables an `ENV` of the
/// stage set before it to a literal value put in (`ENV UID=10001` then `adduser --uid "${UID}"`);
/// a build argument's stays as written, as its value is chosen when the image is built.
fn run_argvs<'a>(stages: &'a [&'a Stage]) -> impl Iterator<Item = Vec<String>> + 'a {
    stages.iter().flat_map(|stage| {
        let mut env: Vec<(String, Option<String>)> = Vec::new();
        let mut out = Vec::new();
        for inst in &stage.instructions {
            if let super::model::Body::Env(pairs) = &inst.body {
                let literal = pairs.iter().filter(|(_, v)| !v.contains('$'));
                env.extend(literal.map(|(k, v)| (k.clone(), Some(v.clone()))));
            }
            for cmd in inst.body.run_commands() {
                let expand = |t: &crate::shell::Token| {
                    super::variables::substitute(&t.value, &env).unwrap_or_else(|| t.value.clone())
                };
                out.push(cmd.argv().iter().map(expand).collect());
            }
        }
        out
    })
}

/// The options of `useradd`, `adduser` (Debian's and BusyBox's), `groupadd` and `addgroup` that
/// take a value as the next word (a bundle of short options takes one when its last does).
const VALUE_OPTIONS: &[&str] = &[
    "--base-dir",
    "--comment",
    "--home-dir",
    "--home",
    "--expiredate",
    "--inactive",
    "--gid",
    "--groups",
    "--skel",
    "--key",
    "--password",
    "--root",
    "--prefix",
    "--shell",
    "--uid",
    "--selinux-user",
    "--ingroup",
    "--gecos",
    "--firstuid",
    "--lastuid",
    "--conf",
];
/// The short options among them, by letter.
const VALUE_LETTERS: &str = "bcdefgGkKpRPsuZh";

/// The account an `argv` of `useradd`, `adduser`, `groupadd` or `addgroup` creates: its first
/// word that is neither an option nor an option's value (`useradd --system app --uid=999`).
fn account_name<'a>(argv: &[&'a str]) -> Option<&'a str> {
    let mut words = argv.iter().skip(1);
    while let Some(word) = words.next() {
        if !word.starts_with('-') {
            return Some(word);
        }
        let takes_value = match word.strip_prefix("--") {
            Some(_) => VALUE_OPTIONS.contains(word),
            None => word.ends_with(|c: char| VALUE_LETTERS.contains(c)),
        };
        if takes_value {
            words.next();
        }
    }
    None
}

/// The uid and gid of a passwd line for `name` that a `RUN` writes: `name:x:UID:GID:`.
fn passwd_line(stages: &[&Stage], text: &str, name: &str) -> Option<(String, String)> {
    entries(stages, text, name).find_map(|fields| match fields.as_slice() {
        [_, _, uid, gid, _, ..] if is_id(uid) && is_id(gid) => Some((uid.to_string(), gid.to_string())),
        _ => None,
    })
}

/// The gid of a group line for `group` that a `RUN` writes: `group:x:GID:members` (members are
/// names, so a passwd line, whose fourth field is a number, is not taken for it).
fn group_line(stages: &[&Stage], text: &str, group: &str) -> Option<String> {
    entries(stages, text, group).find_map(|fields| match fields.as_slice() {
        [_, _, gid, members, ..] if is_id(gid) && !members.starts_with(|c: char| c.is_ascii_digit()) => {
            Some(gid.to_string())
        }
        _ => None,
    })
}

/// The colon-separated fields of every `name:…` entry in the file's `RUN` instructions, each
/// cut at the first quote, space or line end; an entry the same command writes to a file of
/// other colon-separated lines (`/etc/shadow`, whose `name::99999:0:…` holds no ids) is not one.
fn entries<'a>(stages: &'a [&'a Stage], text: &'a str, name: &'a str) -> impl Iterator<Item = Vec<&'a str>> + 'a {
    let needle = format!("{name}:");
    stages.iter().flat_map(|s| &s.instructions).filter(|i| !i.body.run_commands().is_empty()).flat_map(move |inst| {
        let run = &text[inst.span.clone()];
        let starts: Vec<usize> = run
            .match_indices(&needle)
            .map(|(i, _)| i)
            .filter(|i| !run[..*i].ends_with(|c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.')))
            .filter(|i| !writes_other_database(&run[*i..]))
            .collect();
        starts.into_iter().map(move |i| {
            let entry = run[i..].split(['"', '\'', ' ', '\n', '\\']).next().unwrap_or_default();
            entry.split(':').collect()
        })
    })
}

/// True when the command an entry starts (up to its `&&`, `;` or line end) writes it to a file
/// that is neither passwd nor group: shadow, gshadow, sudoers, subuid or subgid.
fn writes_other_database(entry: &str) -> bool {
    let command = entry.split(['\n', ';']).next().unwrap_or(entry).split("&&").next().unwrap_or(entry);
    ["shadow", "sudoers", "/etc/subuid", "/etc/subgid"].iter().any(|file| command.contains(file))
}

fn is_id(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_digit())
}

/// What HD107 adds to say how a user name that keeps its name becomes numbers: the build
/// arguments the file creates it with (`write USER ${UID}:${GID}`), ids it cannot read, or the
/// base image's own account; empty when none of these says more.
pub fn numbering_hint(facts: &Facts<'_>, stage: &Stage, user: &str, base: Option<&ImageRef>) -> String {
    let stages = stages_but(facts.df, None);
    let last_user =
        facts.last_user(stage).and_then(|(inst, _)| stage.instructions.iter().position(|i| std::ptr::eq(i, inst)));
    let missing = |ids: &str| last_user.map(|at| undeclared(stage, at, ids).join(" and ")).unwrap_or_default();
    if let Some(ids) = runtime_argument_ids(facts, user) {
        format!(
            "; the file creates it with ids from build arguments, which this stage declares: fix writes USER {ids}, which keeps them a choice and puts numbers in the image"
        )
    } else if let Some(ids) = argument_ids(&stages, user).filter(|ids| !missing(ids).is_empty()) {
        format!(
            "; the file creates it with ids from build arguments, which this stage does not declare (an ARG ends with its stage), so the name is kept: declare ARG {} in it (with the ids as defaults), then write USER {ids}",
            missing(&ids)
        )
    } else if let Some(ids) = argument_ids(&stages, user) {
        format!(
            "; the file creates it with ids from build arguments, so the name is kept: write USER {ids}, which keeps them a choice and puts numbers in the image"
        )
    } else if creates(&stages, facts.text, user) {
        "; the file creates it with ids harden cannot read (from build arguments, or chosen when the image is built), so the name is kept: write them as USER uid:gid".to_string()
    } else if let Some(base) = base.filter(|b| !b.accounts_are_known()) {
        format!(
            "; its ids are {}'s own, which harden does not read, so the name is kept: write them as USER uid:gid",
            base.to_reference()
        )
    } else {
        String::new()
    }
}

/// A USER written with build variables (`${uid}:${gid}`) as the defaults of `stage`'s
/// arguments and environment make it (`0:0`), where they give every variable.
pub fn user_as_built(facts: &Facts<'_>, stage: &Stage, user: &str) -> Option<String> {
    if !user.contains('$') {
        return None;
    }
    facts.expand(stage, stage.instructions.len(), user)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str, user: &str) -> Option<String> {
        let df = Dockerfile::parse(text).unwrap();
        created_ids(&stages_but(&df, None), text, user)
    }

    #[test]
    fn reads_ids_from_user_commands_in_any_stage() {
        let text = "FROM golang:1.22 AS build\nRUN addgroup -g 1001 app && adduser -u 1001 -G app -D app\nFROM alpine:3.20\nCOPY --from=build /etc/passwd /etc/passwd\nUSER app:app\n";
        assert_eq!(ids(text, "app:app").as_deref(), Some("1001:1001"));
        assert_eq!(ids(text, "app").as_deref(), Some("1001:1001"), "its primary group, -G app");
        assert_eq!(ids(text, "app:staff"), None);
        assert_eq!(ids(text, "other"), None);
        // Bundled short options: -S (a system account) with -g, whose value follows.
        let bundled = "FROM alpine\nRUN addgroup -Sg 1000 hugo && adduser -Sg hugo -u 1000 -G hugo hugo\n";
        assert_eq!(ids(bundled, "hugo:hugo").as_deref(), Some("1000:1000"));
        let own_group = "FROM debian\nRUN groupadd -g 1000 ci && useradd -u 1000 -g 1000 ci\n";
        assert_eq!(ids(own_group, "ci").as_deref(), Some("1000:1000"));
        let same_name = "FROM debian\nRUN groupadd -g 2000 ci && useradd -u 1000 ci\n";
        assert_eq!(ids(same_name, "ci").as_deref(), Some("1000:2000"), "useradd joins the group of its name");
        let busybox = "FROM alpine:3.21 AS user\nENV UID=10001\nRUN adduser --disabled-password --uid \"${UID}\" app\n";
        assert_eq!(ids(busybox, "app").as_deref(), Some("10001:10001"), "BusyBox's group of its own, gid = uid");
        assert_eq!(ids(busybox, "app:app").as_deref(), Some("10001:10001"));
        assert_eq!(ids("FROM alpine\nRUN adduser -S -u 100 app\n", "app").as_deref(), Some("100"), "nogroup's");
        let debian = "FROM debian:13\nRUN adduser --disabled-password --uid 1000 app\n";
        assert_eq!(ids(debian, "app").as_deref(), Some("1000"), "Debian's adduser picks the gid");
        assert_eq!(ids(debian, "app:app"), None);
        // The name before the options, and `--uid=N` with its value.
        let name_first = "FROM debian\nRUN groupadd -g 999 proxy && useradd --system proxy --uid=999 --gid=999\n";
        assert_eq!(ids(name_first, "proxy").as_deref(), Some("999:999"));
        let from_args = "FROM debian\nARG UID=999\nRUN useradd --system proxy --uid=$UID\n";
        assert_eq!(ids(from_args, "proxy"), None, "a build argument's id is chosen when the image is built");
        assert!(creates(&stages_but(&Dockerfile::parse(from_args).unwrap(), None), from_args, "proxy"));
    }

    #[test]
    fn reads_ids_from_passwd_and_group_lines() {
        let text = "FROM golang:1.22 AS build\nRUN echo \"svc:x:1000:1000:svc:/home/svc:/sbin/nologin\" > /tmp/passwd && \\\n    echo \"svc:x:1000:svc\" > /tmp/group\nFROM scratch\nUSER svc:svc\n";
        assert_eq!(ids(text, "svc:svc").as_deref(), Some("1000:1000"));
        let other_group =
            "FROM golang:1.22\nRUN echo 'svc:x:1000:1000::/:' >> /etc/passwd && echo 'ops:x:2000:' >> /etc/group\n";
        assert_eq!(ids(other_group, "svc:ops").as_deref(), Some("1000:2000"));
        // A name that only ends the same is not the user.
        assert_eq!(ids("FROM scratch\nRUN echo 'mysvc:x:1:1::/:' >> /etc/passwd\n", "svc"), None);
        // tracee's layout: the passwd line's ids are build arguments, and the shadow line's
        // numbers (password ageing) are no ids.
        let shadow = "FROM ubuntu\nRUN echo \"dev:x:${uid}:${gid}::/home/dev:/bin/bash\" >> /etc/passwd && \\\n    echo \"dev::99999:0:99999:7:::\" >> /etc/shadow\n";
        assert_eq!(ids(shadow, "dev"), None);
        assert!(creates(&stages_but(&Dockerfile::parse(shadow).unwrap(), None), shadow, "dev"));
    }
}
