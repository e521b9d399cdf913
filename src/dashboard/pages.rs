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
        pages.push(asset("dashboard.css", "text/css; charset=utf-8", CSS));
        pages.push(asset("dashboard.js", "text/javascript; charset=utf-8", JS));
        Ok(pages)
    }

    /// The page at `path` (`""` is the index), or `None` when there is none (or it is a private
    /// repository's and those are not shown).
    pub fn page(&self, path: &str) -> anyhow::Result<Option<Page>> {
        let path = path.trim_start_matches('/');
        match path {
            "" | "index.html" => Ok(Some(self.index(&Campaign::new(self.snapshot, self.visibility, self.now))?)),
            "dashboard.css" => Ok(Some(asset(path, "text/css; charset=utf-8", CSS))),
            "dashboard.js" => Ok(Some(asset(path, "text/javascript; charset=utf-8", JS))),
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
        let Some((sweep, results)) = self.snapshot.sweeps.iter().find(|(s, _)| s.id.0.to_string() == id) else {
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
            orgs => &self.snapshot.orgs,
            generated => day(self.now),
            include_private => self.visibility.all,
            login => &self.visibility.login,
            can_sign_in => self.visibility.can_sign_in,
        };
        Ok(env.get_template(template)?.render(context! { ..base, ..page })?)
    }
}

const HTML: &str = "text/html; charset=utf-8";

fn asset(path: &str, content_type: &'static str, body: &str) -> Page {
    Page { path: path.into(), content_type, body: body.into() }
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
