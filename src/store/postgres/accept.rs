//! Recording webhook deliveries and queueing their jobs: one at a time, or a burst at once in
//! two statements (every delivery id, then every job), so a burst costs two round trips to the
//! server instead of three for each delivery.

use std::collections::BTreeSet;

use postgres::Transaction;

use super::QUEUE_LOCK;
use crate::store::{Accepted, Delivery, NewJob};

/// Records one delivery and queues its jobs inside `tx` (a redelivery records nothing).
pub(super) fn record(
    tx: &mut Transaction<'_>,
    delivery: &str,
    event: &str,
    jobs: &[NewJob],
    now: i64,
) -> anyhow::Result<Accepted> {
    let fresh = tx.execute(
        "INSERT INTO deliveries (id, event, received_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        &[&delivery, &event, &now],
    )?;
    if fresh == 0 {
        return Ok(Accepted::Redelivery);
    }
    if jobs.iter().any(|j| j.debounce) {
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&QUEUE_LOCK])?;
    }
    let mut queued = 0;
    for job in jobs {
        let waiting = job.debounce
            && !tx
                .query(
                    "SELECT 1 FROM jobs WHERE repo = $1 AND kind = $2 AND state = 'queued'",
                    &[&job.repo, &job.kind],
                )?
                .is_empty();
        if !waiting {
            queued += tx.execute(
                "INSERT INTO jobs (repo, kind, body, key, state, not_before, created_at)
                     VALUES ($1, $2, $3, $4, 'queued', $5, $6) ON CONFLICT DO NOTHING",
                &[&job.repo, &job.kind, &job.body, &job.key, &job.not_before, &now],
            )? as usize;
        }
    }
    Ok(match (jobs.is_empty(), queued) {
        (true, _) => Accepted::Recorded,
        (false, 0) => Accepted::Duplicate,
        (false, n) => Accepted::Queued(n),
    })
}

/// Records `deliveries` in order inside `tx`, as [`record`] would one after the other. Jobs
/// without a key, or debounced, need a look at what waits: then each is recorded on its own.
pub(super) fn record_all(tx: &mut Transaction<'_>, deliveries: &[Delivery]) -> anyhow::Result<Vec<Accepted>> {
    if deliveries.iter().flat_map(|d| &d.jobs).any(|j| j.debounce || j.key.is_none()) {
        return deliveries.iter().map(|d| record(tx, &d.id, &d.event, &d.jobs, d.now)).collect();
    }
    let ids: Vec<&str> = deliveries.iter().map(|d| d.id.as_str()).collect();
    let events: Vec<&str> = deliveries.iter().map(|d| d.event.as_str()).collect();
    let times: Vec<i64> = deliveries.iter().map(|d| d.now).collect();
    let fresh: BTreeSet<String> = tx
        .query(
            "INSERT INTO deliveries (id, event, received_at)
             SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) ON CONFLICT DO NOTHING RETURNING id",
            &[&ids, &events, &times],
        )?
        .iter()
        .map(|row| row.get(0))
        .collect();
    // A delivery id twice in the burst: the first is new, the second a redelivery.
    let mut seen = BTreeSet::new();
    let new: Vec<bool> = deliveries.iter().map(|d| fresh.contains(&d.id) && seen.insert(d.id.as_str())).collect();
    let jobs: Vec<(&NewJob, i64)> = deliveries
        .iter()
        .zip(&new)
        .filter(|(_, new)| **new)
        .flat_map(|(d, _)| d.jobs.iter().map(|j| (j, d.now)))
        .collect();
    let column = |f: &dyn Fn(&NewJob) -> &str| jobs.iter().map(|(j, _)| f(j)).collect::<Vec<&str>>();
    let (repos, kinds, bodies) = (column(&|j| &j.repo), column(&|j| &j.kind), column(&|j| &j.body));
    let keys = column(&|j| j.key.as_deref().unwrap_or_default());
    let not_before: Vec<i64> = jobs.iter().map(|(j, _)| j.not_before).collect();
    let created: Vec<i64> = jobs.iter().map(|(_, now)| *now).collect();
    let mut queued: BTreeSet<String> = tx
        .query(
            "INSERT INTO jobs (repo, kind, body, key, state, not_before, created_at)
             SELECT repo, kind, body, key, 'queued', not_before, created_at
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])
                  AS j(repo, kind, body, key, not_before, created_at)
             ON CONFLICT DO NOTHING RETURNING key",
            &[&repos, &kinds, &bodies, &keys, &not_before, &created],
        )?
        .iter()
        .map(|row| row.get(0))
        .collect();
    Ok(deliveries
        .iter()
        .zip(&new)
        .map(|(d, new)| {
            if !new {
                return Accepted::Redelivery;
            }
            // A key queued by this burst counts for the first new delivery that has it.
            let n = d.jobs.iter().filter(|j| j.key.as_ref().is_some_and(|k| queued.remove(k))).count();
            match (d.jobs.is_empty(), n) {
                (true, _) => Accepted::Recorded,
                (false, 0) => Accepted::Duplicate,
                (false, n) => Accepted::Queued(n),
            }
        })
        .collect())
}
