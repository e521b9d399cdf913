//! Group commit: deliveries that arrive together are recorded together. One thread takes every
//! delivery waiting (up to [`BATCH`]) and records them with [`Store::accept_all`], so a burst of
//! deliveries costs a few transactions instead of one each, and each is answered only once its
//! record is committed.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

use tokio::sync::oneshot;

use crate::store::{Accepted, Delivery, Store};

/// The most deliveries recorded in one transaction.
pub const BATCH: usize = 256;

type Waiting = (Delivery, oneshot::Sender<anyhow::Result<Accepted>>);

/// Hands deliveries to the recording thread; the thread ends when the recorder is dropped.
pub struct Recorder {
    queue: Sender<Waiting>,
}

impl Recorder {
    /// Starts the thread that records into `store`.
    pub fn start(store: Arc<dyn Store + Send + Sync>) -> Self {
        let (queue, waiting) = channel();
        std::thread::Builder::new()
            .name("harden-recorder".into())
            .spawn(move || record(&*store, &waiting))
            .expect("a thread starts");
        Recorder { queue }
    }

    /// Records `delivery` (with the deliveries that arrive with it) and answers what became of it.
    pub async fn accept(&self, delivery: Delivery) -> anyhow::Result<Accepted> {
        let (answer, answered) = oneshot::channel();
        self.queue.send((delivery, answer)).map_err(|_| anyhow::anyhow!("the recorder has stopped"))?;
        answered.await.map_err(|_| anyhow::anyhow!("the recorder stopped before it answered"))?
    }
}

/// Takes what waits, records it, answers each, until every sender is gone.
fn record(store: &(dyn Store + Send + Sync), waiting: &Receiver<Waiting>) {
    while let Ok(first) = waiting.recv() {
        let mut batch = vec![first];
        while batch.len() < BATCH
            && let Ok(next) = waiting.try_recv()
        {
            batch.push(next);
        }
        let (deliveries, answers): (Vec<Delivery>, Vec<_>) = batch.into_iter().unzip();
        for (answer, accepted) in answers.into_iter().zip(store.accept_all(&deliveries)) {
            // The request may have gone (its client hung up): its record stands.
            let _ = answer.send(accepted);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewJob;
    use crate::store::sqlite::Sqlite;

    fn delivery(id: &str, key: &str) -> Delivery {
        let job = NewJob {
            repo: "acme/api".into(),
            kind: "harden".into(),
            body: "{}".into(),
            key: Some(key.into()),
            debounce: false,
            not_before: 0,
        };
        Delivery { id: id.into(), event: "issue_comment".into(), jobs: vec![job], now: 1 }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn deliveries_sent_together_are_each_answered_as_one_alone_would_be() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store + Send + Sync> = Arc::new(Sqlite::open(&dir.path().join("s.db")).unwrap());
        let recorder = Arc::new(Recorder::start(store.clone()));
        let sent = [("d1", "c1"), ("d2", "c2"), ("d1", "c3"), ("d3", "c1")];
        let answers = futures_util::future::join_all(sent.iter().map(|(id, key)| {
            let recorder = recorder.clone();
            async move { recorder.accept(delivery(id, key)).await.unwrap() }
        }))
        .await;
        let queued = answers.iter().filter(|a| matches!(a, Accepted::Queued(1))).count();
        // d1 twice is a redelivery, c1 twice is one job: two jobs, whatever the batches were.
        assert_eq!(queued, 2, "{answers:?}");
        assert!(answers.contains(&Accepted::Redelivery) && answers.contains(&Accepted::Duplicate));
        assert_eq!(store.jobs().unwrap().len(), 2);
    }
}
