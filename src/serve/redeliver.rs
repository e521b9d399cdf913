//! Deliveries GitHub could not make (the server was down, or answered 503): on start and then
//! every hour, the App's webhook deliveries of the last three days are read back, and each one
//! that no attempt delivered (no 2xx answer for its delivery id) is asked for again. The store
//! drops any that did arrive after all (a server that recorded a delivery and died before
//! answering it).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::forge::github::{AppClient, delivered_at};

/// How far back GitHub's failed deliveries are asked for again.
pub const WINDOW: i64 = 3 * 24 * 3600;

/// How often they are looked for.
pub const EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// The deliveries to ask for again among `listed` (GitHub's list, any order): for each delivery
/// id (`guid`) made since `since` that no attempt delivered, its newest attempt. Pure.
pub fn failed(listed: &[Value], since: i64) -> Vec<u64> {
    /// What the attempts of one delivery id say.
    #[derive(Default)]
    struct Attempts {
        delivered: bool,
        /// The newest attempt in the window: when, and its id.
        newest: Option<(i64, u64)>,
    }
    let mut by_guid: BTreeMap<&str, Attempts> = BTreeMap::new();
    for delivery in listed {
        let (Some(guid), Some(id)) = (delivery["guid"].as_str(), delivery["id"].as_u64()) else { continue };
        let at = delivered_at(delivery).unwrap_or(0);
        let attempts = by_guid.entry(guid).or_default();
        attempts.delivered |= (200..300).contains(&delivery["status_code"].as_u64().unwrap_or(0));
        if at >= since && attempts.newest.is_none_or(|(newest, _)| at >= newest) {
            attempts.newest = Some((at, id));
        }
    }
    by_guid.into_values().filter(|a| !a.delivered).filter_map(|a| Some(a.newest?.1)).collect()
}

/// Asks GitHub again for the App's failed deliveries since `now - WINDOW`; how many.
pub async fn failed_deliveries(app: &AppClient, now: i64) -> anyhow::Result<usize> {
    let listed = app.hook_deliveries(now - WINDOW).await?;
    let ids = failed(&listed, now - WINDOW);
    for id in &ids {
        app.redeliver(*id).await?;
    }
    Ok(ids.len())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn attempt(id: u64, guid: &str, at: &str, status: u64) -> Value {
        json!({"id": id, "guid": guid, "delivered_at": at, "status_code": status})
    }

    #[test]
    fn only_what_no_attempt_delivered_within_the_window_and_its_newest_attempt() {
        let since = delivered_at(&json!({"delivered_at": "2026-12-01T00:00:00Z"})).unwrap();
        let listed = [
            attempt(1, "a", "2026-12-01T10:00:00Z", 0),
            attempt(2, "a", "2026-12-01T11:00:00Z", 502),
            attempt(3, "b", "2026-12-01T10:00:00Z", 0),
            attempt(4, "b", "2026-12-01T10:05:00Z", 202),
            attempt(5, "c", "2026-11-20T10:00:00Z", 0),
            attempt(6, "d", "2026-12-01T12:00:00Z", 200),
        ];
        assert_eq!(failed(&listed, since), [2], "a's newest attempt; b was delivered later; c is too old");
    }
}
