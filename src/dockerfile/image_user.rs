//! The user the image a Dockerfile builds runs as: its last `USER` (through the stages it is
//! built on, its variables as their defaults give them), as ids where the file, `nobody` or the
//! base's own accounts (distroless's `nonroot`) give them, or the account name where none does.
//! Pure.

use super::facts::Facts;
use super::{image, model, plan, users};
use crate::config::Config;
use crate::source::SourceFacts;

/// The numeric non-root user (`uid` or `uid:gid`) the image of a Dockerfile runs as: the last
/// `USER` of its final stage or the stages it is built on, a name turned into the ids the file
/// gives it, or 65532:65532 with no `USER` on a base whose tag runs programs as 65532 (variables
/// as their defaults give them). `None` for root, a name without fixed ids, a variable without a
/// default, no `USER` on another base, or a file that does not parse.
pub fn final_numeric_user(text: &str) -> Option<String> {
    stage_numeric_user(text, None)
}

/// The numeric non-root user of [`final_numeric_user`] for the image a build stops at stage
/// `target` (`--target`), or at the final stage for `None`; `None` also for a target the file
/// does not name.
pub fn stage_numeric_user(text: &str, target: Option<&str>) -> Option<String> {
    let df = model::Dockerfile::parse(text).ok()?;
    let user = match written_user(text, &df, target)? {
        Ok(user) => user,
        // No USER on a base whose tag runs programs as 65532 (distroless `:nonroot`).
        Err(base) => return base.default_user_is_nonroot().then(|| plan::NONROOT.to_string()),
    };
    // A name the file creates with fixed ids runs as those ids, `nobody` as 65534, and an account
    // of a base whose accounts harden knows (distroless's `nonroot`) as its ids there.
    let stages = users::stages_but(&df, None);
    let user = match user.split(':').next()?.parse::<u32>() {
        // A bare uid the file creates an account for (`adduser --uid 1000 argocd`) runs in that
        // account's group.
        Ok(_) if !user.contains(':') => users::created_accounts(&stages)
            .iter()
            .filter_map(|name| users::created_ids(&stages, text, name))
            .find(|ids| ids.split(':').next() == Some(user.as_str()) && ids.contains(':'))
            .unwrap_or(user),
        Ok(_) => user,
        Err(_) => users::created_ids(&stages, text, &user)
            .or_else(|| users::nobody_ids(&user))
            .or_else(|| Some(runtime_base(&df, target)?.own_account_ids(&user)?.to_string()))?,
    };
    let uid = user.split(':').next()?;
    (uid.parse::<u32>().ok()? > 0).then_some(user)
}

/// The account the image a build stops at `target` (`None`: the final stage) runs as, when its
/// `USER` is a name whose ids neither the file nor harden knows (`adduser -S app`, whose ids
/// the distribution picks when the image is built; an account of an alpine or debian base): a
/// manifest cannot give it a `runAsUser` that keeps its files its own, and the kubelet cannot
/// check such a name under `runAsNonRoot`. `None` for ids, root, a variable without a default, or
/// a name on an image whose accounts harden knows (distroless `nonroot` is 65532).
pub fn stage_account(text: &str, target: Option<&str>) -> Option<String> {
    let df = model::Dockerfile::parse(text).ok()?;
    let user = written_user(text, &df, target)?.ok()?;
    let name = user.split(':').next()?;
    let unknown = !name.contains('$')
        && name.parse::<u32>().is_err()
        && name != "root"
        && users::created_ids(&users::stages_but(&df, None), text, &user).is_none()
        && users::nobody_ids(&user).is_none();
    (unknown && !runtime_base(&df, target).is_some_and(|b| b.accounts_are_known())).then(|| name.to_string())
}

/// The base image the stage a build stops at `target` (`None`: the final stage) is built on,
/// through the stages it is built on, as its arguments' defaults make it.
fn runtime_base(df: &model::Dockerfile, target: Option<&str>) -> Option<image::ImageRef> {
    let mut stage = target_stage(df, target)?;
    while let Some(parent) = df.stage_named(&stage.from.image).filter(|p| p.index < stage.index) {
        stage = parent;
    }
    df.resolve_image(&stage.from.image).map(|i| image::ImageRef::parse(&i))
}

/// The `USER` of the image a build stops at `target` (`None`: the final stage), as written,
/// when it names an account rather than giving its ids (`USER dex:dex`): the kubelet checks only
/// ids under `runAsNonRoot`, whatever ids [`stage_numeric_user`] finds for the name.
pub fn stage_user_name(text: &str, target: Option<&str>) -> Option<String> {
    let df = model::Dockerfile::parse(text).ok()?;
    let user = written_user(text, &df, target)?.ok()?;
    let name = user.split(':').next()?;
    (name.parse::<u32>().is_err() && !name.contains('$')).then_some(user)
}

/// The last `USER` of the stage a build stops at `target` (`None`: the final stage) or of the
/// stages it is built on, as written; `Err` with the base image when none has one. `None` for a
/// target the file does not name.
fn written_user(text: &str, df: &model::Dockerfile, target: Option<&str>) -> Option<Result<String, image::ImageRef>> {
    // Its variables as the defaults before it give them (`USER $USER_ID` after `ARG USER_ID=666`).
    let (source, config) = (SourceFacts::default(), Config::default());
    let facts = Facts::new(text, df, &source, &config);
    let mut stage = target_stage(df, target)?;
    loop {
        let last = stage.instructions.iter().rposition(|i| matches!(i.body, model::Body::User(..)));
        let last = last.and_then(|at| match &stage.instructions[at].body {
            model::Body::User(user, _) => {
                Some(facts.expand(stage, at, user.trim()).unwrap_or_else(|| user.trim().into()))
            }
            _ => None,
        });
        match (last, df.stage_named(&stage.from.image)) {
            (Some(user), _) => return Some(Ok(user)),
            (None, Some(parent)) if parent.index < stage.index => stage = parent,
            (None, None) => return df.resolve_image(&stage.from.image).map(|i| Err(image::ImageRef::parse(&i))),
            _ => return None,
        }
    }
}

/// True when the image a build stops at `target` (`None`: the final stage) runs its program as
/// root: the last `USER` of that stage or the stages it is built on is root's, or none sets one
/// on a base that does not run as another user. False for a target the file does not name.
pub fn stage_runs_as_root(text: &str, target: Option<&str>) -> bool {
    let Ok(df) = model::Dockerfile::parse(text) else { return false };
    match written_user(text, &df, target) {
        Some(Ok(user)) => super::analyse::is_root(&user),
        Some(Err(base)) => !base.default_user_is_nonroot(),
        None => false,
    }
}

/// The stage a build stops at `target` (`None`: the final stage).
fn target_stage<'d>(df: &'d model::Dockerfile, target: Option<&str>) -> Option<&'d model::Stage> {
    match target {
        Some(name) => df.stage_named(name),
        None => df.stages.last(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_final_numeric_user_through_parent_stages() {
        let text = "FROM golang:1.23 AS build\nUSER 0\nFROM alpine:3.20 AS base\nUSER 65534:65534\nFROM base\nCOPY --from=build /x /x\n";
        assert_eq!(final_numeric_user(text).as_deref(), Some("65534:65534"));
        assert_eq!(final_numeric_user("FROM alpine\nUSER app\n"), None);
        assert_eq!(final_numeric_user("FROM busybox\nUSER nobody\n").as_deref(), Some("65534:65534"));
        let named = "FROM alpine:3.20 AS user-setup\nRUN addgroup -g 1001 -S dex && adduser -u 1001 -S -G dex dex\nFROM alpine:3.20\nCOPY --from=user-setup /etc/passwd /etc/passwd\nUSER dex:dex\n";
        assert_eq!(final_numeric_user(named).as_deref(), Some("1001:1001"));
        assert_eq!(final_numeric_user("FROM alpine\nUSER 0:0\n"), None);
        assert_eq!(final_numeric_user("FROM alpine\n"), None);
    }

    #[test]
    fn an_account_whose_ids_nobody_knows_is_told_apart_from_ids_root_and_known_names() {
        let system = "FROM alpine:3.20 AS base\nRUN adduser -S app\nFROM base\nUSER app\n";
        assert_eq!(stage_account(system, None).as_deref(), Some("app"));
        assert_eq!(stage_account("FROM node:22\nUSER node:node\n", None).as_deref(), Some("node"));
        let fixed = "FROM alpine:3.20\nRUN adduser -S -u 1001 app\nUSER app\n";
        assert_eq!(stage_account(fixed, None), None);
        for text in ["FROM alpine\nUSER 1000\n", "FROM alpine\nUSER root\n", "FROM alpine\nUSER nobody\n"] {
            assert_eq!(stage_account(text, None), None, "{text}");
        }
        assert_eq!(stage_account("FROM alpine\nARG U=app\nUSER ${U}\n", None).as_deref(), Some("app"));
        assert_eq!(stage_account("FROM alpine\nARG U\nUSER ${U}\n", None), None, "a build argument with no default");
        assert_eq!(
            final_numeric_user("FROM alpine\nARG ID=666\nARG GID=$ID\nUSER $ID:$GID\n").as_deref(),
            Some("666:666")
        );
        assert_eq!(stage_account("FROM gcr.io/distroless/static-debian12\nUSER nonroot\n", None), None);
        assert_eq!(stage_account("FROM alpine\n", None), None);
    }
}
