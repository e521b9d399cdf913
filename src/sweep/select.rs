//! Which repositories a sweep looks at, from the forge's listing alone (pure): archived,
//! disabled, empty and forked repositories are passed over unless asked for; names, topics and
//! languages narrow the set; a shard takes its stable share; the order is a stable shuffle by
//! name, so a paced campaign spreads over the organisation the same way every time.

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde_json::Value;

/// What the sweep takes and leaves.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Name globs (`api-*`, `acme/web`); empty takes every name.
    pub include: Vec<String>,
    /// Name globs to leave out.
    pub exclude: Vec<String>,
    /// Topics, any of which a repository must have; empty takes every repository.
    pub topics: Vec<String>,
    /// Languages (case does not matter), one of which must be the repository's; empty takes all.
    pub languages: Vec<String>,
    /// Take forks too.
    pub forks: bool,
}

/// `I/N`: this run takes the I-th of N shares (from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which share, from 1.
    pub index: u32,
    /// How many shares.
    pub count: u32,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let (i, n) = text.split_once('/').ok_or("expected I/N, such as 2/8")?;
        let (index, count): (u32, u32) =
            (i.parse().map_err(|_| "I is not a number")?, n.parse().map_err(|_| "N is not a number")?);
        if count == 0 || index == 0 || index > count {
            return Err(format!("{text}: I must be from 1 to N"));
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// The whole of it.
    pub const ALL: Shard = Shard { index: 1, count: 1 };

    /// True when this shard takes `full_name`: a stable hash of the name, so every run of the
    /// same shard takes the same repositories and the shards together take each exactly once.
    pub fn takes(&self, full_name: &str) -> bool {
        stable_hash(full_name) % u64::from(self.count) == u64::from(self.index - 1)
    }
}

/// FNV-1a over the name: the same on every machine and in every release.
pub fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

/// A repository of the listing, as the sweep keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// `owner/name`.
    pub full_name: String,
    /// The branch harden proposes against.
    pub default_branch: String,
    /// Why the sweep passes it over, when it does.
    pub skipped: Option<String>,
    /// Private: the dashboard shows it only to signed-in members.
    pub private: bool,
}

impl Listed {
    /// The organisation (or user) that owns it.
    pub fn owner(&self) -> &str {
        self.full_name.split('/').next().unwrap_or_default()
    }
}

impl Filter {
    /// The repositories of `listing` (GitHub's repository objects) in this shard, in sweep
    /// order, each with the reason it is passed over when it is.
    pub fn select(&self, listing: &[Value], shard: Shard) -> Result<Vec<Listed>, String> {
        let include = globs(&self.include)?;
        let exclude = globs(&self.exclude)?;
        let mut out: Vec<Listed> = listing
            .iter()
            .filter_map(|repo| {
                let full_name = repo["full_name"].as_str()?.to_string();
                shard.takes(&full_name).then(|| Listed {
                    default_branch: repo["default_branch"].as_str().unwrap_or("main").to_string(),
                    skipped: self.skip_reason(repo, &full_name, &include, &exclude),
                    private: repo["private"].as_bool().unwrap_or(true),
                    full_name,
                })
            })
            .collect();
        out.sort_by_key(|r| (stable_hash(&format!("order:{}", r.full_name)), r.full_name.clone()));
        Ok(out)
    }

    fn skip_reason(&self, repo: &Value, full_name: &str, include: &GlobSet, exclude: &GlobSet) -> Option<String> {
        let name = full_name.rsplit('/').next().unwrap_or(full_name);
        let flag = |key: &str| repo[key].as_bool() == Some(true);
        let topics: Vec<&str> = repo["topics"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let language = repo["language"].as_str().unwrap_or_default();
        let named = |set: &GlobSet| set.is_match(name) || set.is_match(full_name);
        let reason = if flag("disabled") {
            "disabled"
        } else if flag("archived") {
            "archived (read-only: nothing can be proposed)"
        } else if flag("fork") && !self.forks {
            "a fork (--include-forks takes it)"
        } else if repo["size"].as_u64() == Some(0) {
            "empty"
        } else if !self.include.is_empty() && !named(include) {
            "not named by --include"
        } else if named(exclude) {
            "named by --exclude"
        } else if !self.topics.is_empty() && !self.topics.iter().any(|t| topics.contains(&t.as_str())) {
            "has none of the --topic topics"
        } else if !self.languages.is_empty() && !self.languages.iter().any(|l| l.eq_ignore_ascii_case(language)) {
            "not in a --language language"
        } else {
            return None;
        };
        Some(reason.to_string())
    }
}

fn globs(patterns: &[String]) -> Result<GlobSet, String> {
    let mut set = GlobSetBuilder::new();
    for pattern in patterns {
        set.add(Glob::new(pattern).map_err(|e| format!("{pattern}: {e}"))?);
    }
    set.build().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn repo(name: &str, extra: Value) -> Value {
        let mut value = json!({"full_name": format!("acme/{name}"), "default_branch": "main", "size": 10, "language": "Go", "topics": []});
        for (k, v) in extra.as_object().unwrap() {
            value[k] = v.clone();
        }
        value
    }

    #[test]
    fn passes_over_what_it_should_and_says_why() {
        let listing = [
            repo("api", json!({})),
            repo("old", json!({"archived": true})),
            repo("copy", json!({"fork": true})),
            repo("blank", json!({"size": 0})),
            repo("web", json!({"language": "TypeScript"})),
            repo("infra", json!({"topics": ["terraform"]})),
        ];
        let filter = Filter { exclude: vec!["infra".into()], languages: vec!["go".into()], ..Filter::default() };
        let picked = filter.select(&listing, Shard::ALL).unwrap();
        let reason =
            |name: &str| picked.iter().find(|r| r.full_name == format!("acme/{name}")).unwrap().skipped.clone();
        assert_eq!(reason("api"), None);
        assert!(reason("old").unwrap().starts_with("archived"));
        assert!(reason("copy").unwrap().starts_with("a fork"));
        assert_eq!(reason("blank").as_deref(), Some("empty"));
        assert_eq!(reason("web").as_deref(), Some("not in a --language language"));
        assert_eq!(reason("infra").as_deref(), Some("named by --exclude"));
        let topical =
            Filter { topics: vec!["terraform".into()], ..Filter::default() }.select(&listing, Shard::ALL).unwrap();
        assert_eq!(topical.iter().filter(|r| r.skipped.is_none()).count(), 1);
    }

    #[test]
    fn shards_take_every_repository_exactly_once_in_a_stable_order() {
        let listing: Vec<Value> = (0..200).map(|i| repo(&format!("svc-{i}"), json!({}))).collect();
        let mut seen = std::collections::BTreeMap::new();
        for index in 1..=3 {
            for r in Filter::default().select(&listing, Shard { index, count: 3 }).unwrap() {
                *seen.entry(r.full_name).or_insert(0) += 1;
            }
        }
        assert_eq!(seen.len(), 200);
        assert!(seen.values().all(|&n| n == 1));
        let once = Filter::default().select(&listing, Shard::ALL).unwrap();
        let again = Filter::default().select(&listing, Shard::ALL).unwrap();
        assert_eq!(once, again);
        assert_ne!(once[0].full_name, "acme/svc-0", "the order is a shuffle, not the listing's");
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        assert!("0/3".parse::<Shard>().is_err() && "4/3".parse::<Shard>().is_err());
    }
}
