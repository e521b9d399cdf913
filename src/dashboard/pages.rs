//! The dashboard's pages, rendered from the templates in `templates/dashboard/`: the campaign
//! (`index.html`), one page per repository (`repo/OWNER/NAME.html`) and per sweep
//! (`sweep/ID.html`), and the stylesheet and script they load. Links are relative, so the
//! written site works from any directory (GitHub Pages) and the served one from `/`.

use minijinja::value::{Serde, Value};
use minijinja::{AutoEscape, Environment, context};
use serde::Serialize;

use super::campaign::{Campaign, State, repo_page};
use super::charts::{day, step_chart};
use super::{Snapshot, Visibility};
use crate::store::ALL_OUTCOMES;
use crate::verify::report::human;

/// One file of the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Its path under the site's root (`index.html`, `repo/acme/api.html`).
    pub path: String,
    /// Its content type.
    pub content_type: &'static str,
    /// Its content.
    pub body: String,
}

/// What the pages are made from: a snapshot, who is looking, and the time they are written at.
pub struct Site<'a> {
    /// The store's content.
    pub snapshot: &'a Snapshot,
    /// Which private repositories may be shown.
    pub visibility: &'a Visibility,
    /// Seconds since the epoch.
    pub now: i64,
}

const CSS: &str = include_str!("../../templates/dashboard/dashboard.css");
const JS: &str = include_str!("../../templates/dashboard/dashboard.js");

impl Site<'_> {
    /// Every page of the site.
    pub fn pages(&self) -> anyhow::Result<Vec<Page>> {
        let campaign = Campaign::new(self.snapshot, self.visibility, self.now);
        let mut pages = vec![self.index(&campaign)?];
        for row in &campaign.rows {
            pages.extend(self.page(&format!("repo/{}.html", row.repo))?);
        }
        let mut names: Vec<&str> = self.snapshot.repos.iter().map(|r| r.full_name.as_str()).collect();
        names.retain(|n| !campaign.rows.iter().any(|r| r.repo == *n));
        for name in names {
            pages.extend(self.page(&format!("repo/{name}.html"))?);
        }
        for sweep in &campaign.sweeps {
            pages.extend(self.page(&format!("sweep/{}.html", sweep.id.0))?);
        }
        pages.extend(["dashboard.css", "dashboard.js"].into_iter().filter_map(self::asset));
        Ok(pages)
    }

    /// The page at `path` (`""` is the index), or `None` when there is none (or it is a private
    /// repository's and those are not shown).
    pub fn page(&self, path: &str) -> anyhow::Result<Option<Page>> {
        let path = path.trim_start_matches('/');
        match path {
            "" | "index.html" => Ok(Some(self.index(&Campaign::new(self.snapshot, self.visibility, self.now))?)),
            "dashboard.css" | "dashboard.js" => Ok(self::asset(path)),
            _ => {
                if let Some(name) = path.strip_prefix("repo/").and_then(|p| p.strip_suffix(".html")) {
                    return self.repo(path, name);
                }
                match path.strip_prefix("sweep/").and_then(|p| p.strip_suffix(".html")) {
                    Some(id) => self.sweep(path, id),
                    None => Ok(None),
                }
            }
        }
    }

    fn index(&self, campaign: &Campaign) -> anyhow::Result<Page> {
        let states: Vec<Value> =
            State::ALL.iter().map(|s| Value::from(Serde(StateView { slug: s.slug(), label: s.label() }))).collect();
        let charts = vec![
            chart(
                "open-findings",
                "Findings in harden's open pull requests",
                "findings",
                &campaign.open_findings,
                &|v| v.to_string(),
            ),
            chart(
                "bytes-saved",
                "Image bytes saved by merged pull requests",
                "bytes saved",
                &campaign.bytes_saved,
                &human,
            ),
        ];
        let body = self.render(
            "index.html.j2",
            "",
            context! {
                s => Serde(&campaign.summary),
                rows => Serde(&campaign.rows),
                states,
                charts,
                sweeps => Serde(&campaign.sweeps),
            },
        )?;
        Ok(Page { path: "index.html".into(), content_type: HTML, body })
    }

    fn repo(&self, path: &str, name: &str) -> anyhow::Result<Option<Page>> {
        let Some(page) = repo_page(self.snapshot, name, self.visibility, self.now) else { return Ok(None) };
        let body = self.render("repo.html.j2", "../../", context! { page => Serde(page) })?;
        Ok(Some(Page { path: path.into(), content_type: HTML, body }))
    }

    fn sweep(&self, path: &str, id: &str) -> anyhow::Result<Option<Page>> {
        let orgs = self.visibility.orgs(self.snapshot);
        let Some((sweep, results)) = self
            .snapshot
            .sweeps
            .iter()
            .find(|(s, _)| s.id.0.to_string() == id && orgs.iter().any(|o| o.eq_ignore_ascii_case(&s.org)))
        else {
            return Ok(None);
        };
        let shown: Vec<_> = results.iter().filter(|r| self.visibility.shows(self.snapshot, &r.repo)).collect();
        let outcomes: Vec<(&str, usize)> = ALL_OUTCOMES
            .iter()
            .map(|o| (o.as_str(), shown.iter().filter(|r| r.outcome == *o).count()))
            .filter(|(_, n)| *n > 0)
            .collect();
        let body = self.render(
            "sweep.html.j2",
            "../",
            context! { sweep => Serde(sweep), results => Serde(shown), outcomes => Serde(outcomes) },
        )?;
        Ok(Some(Page { path: path.into(), content_type: HTML, body }))
    }

    fn render(&self, template: &str, root: &str, page: Value) -> anyhow::Result<String> {
        let env = environment();
        let base = context! {
            root,
            orgs => self.visibility.orgs(self.snapshot),
            generated => day(self.now),
            include_private => self.visibility.all,
            login => &self.visibility.login,
            can_sign_in => self.visibility.can_sign_in,
        };
        Ok(env.get_template(template)?.render(context! { ..base, ..page })?)
    }
}

const HTML: &str = "text/html; charset=utf-8";

/// The stylesheet or the script at `path` (`/dashboard.css`), which no state changes.
pub fn asset(path: &str) -> Option<Page> {
    let (content_type, body) = match path.trim_start_matches('/') {
        "dashboard.css" => ("text/css; charset=utf-8", CSS),
        "dashboard.js" => ("text/javascript; charset=utf-8", JS),
        _ => return None,
    };
    Some(Page { path: path.trim_start_matches('/').into(), content_type, body: body.into() })
}

#[derive(Serialize)]
struct StateView {
    slug: &'static str,
    label: &'static str,
}

fn chart(
    id: &str,
    title: &str,
    unit: &str,
    points: &[super::campaign::Point],
    format: &dyn Fn(u64) -> String,
) -> Value {
    let rows: Vec<Value> = points.iter().map(|p| context! { day => day(p.at), value => format(p.value) }).collect();
    context! {
        id,
        title,
        unit,
        svg => Value::from_safe_string(step_chart(id, title, points, format)),
        points => rows,
    }
}

/// The templates, with HTML escaping everywhere and the helpers they use; parsed once.
fn environment() -> &'static Environment<'static> {
    static ENVIRONMENT: std::sync::OnceLock<Environment<'static>> = std::sync::OnceLock::new();
    ENVIRONMENT.get_or_init(parsed)
}

fn parsed() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    for (name, text) in [
        ("base.html.j2", include_str!("../../templates/dashboard/base.html.j2")),
        ("index.html.j2", include_str!("../../templates/dashboard/index.html.j2")),
        ("repo.html.j2", include_str!("../../templates/dashboard/repo.html.j2")),
        ("sweep.html.j2", include_str!("../../templates/dashboard/sweep.html.j2")),
    ] {
        env.add_template(name, text).expect("the built-in dashboard templates parse");
    }
    env.add_function("bytes", |b: i64| human(b.max(0) as u64));
    env.add_function("day", day);
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dashboard::campaign::tests::repo;
    use crate::store::{Outcome, RepoResult, SweepId, SweepRecord};

    #[test]
    fn an_organisation_whose_repositories_are_all_private_is_not_even_named_to_an_outsider() {
        let sweep = |id, org: &str| SweepRecord {
            id: SweepId(id),
            org: org.into(),
            shard: "1/1".into(),
            started_at: id,
            finished_at: None,
        };
        let result = |name: &str| RepoResult {
            repo: name.into(),
            outcome: Outcome::NothingToDo,
            detail: "nothing".into(),
            pull: None,
            requests: 1,
            at: 0,
        };
        let snapshot = Snapshot {
            orgs: vec!["secretco".into(), "open".into()],
            repos: vec![repo("secretco/vault", true, false), repo("open/site", false, false)],
            sweeps: vec![
                (sweep(2, "secretco"), vec![result("secretco/vault")]),
                (sweep(1, "open"), vec![result("open/site")]),
            ],
            ..Snapshot::default()
        };
        let outsider = Visibility::default();
        let site = Site { snapshot: &snapshot, visibility: &outsider, now: 0 };
        let index = site.page("").unwrap().unwrap().body;
        assert!(!index.contains("secretco") && index.contains("open"), "{index}");
        assert!(
            site.page("sweep/2.html").unwrap().is_none() && site.page("repo/secretco/vault.html").unwrap().is_none()
        );
        assert!(site.page("sweep/1.html").unwrap().is_some());
        let member = Visibility { login: Some("ann".into()), orgs: vec!["SECRETCO".into()], ..Visibility::default() };
        let site = Site { snapshot: &snapshot, visibility: &member, now: 0 };
        let sweep_page = site.page("sweep/2.html").unwrap().expect("a member sees the sweep").body;
        assert!(sweep_page.contains("vault"), "{sweep_page}");
    }
}
