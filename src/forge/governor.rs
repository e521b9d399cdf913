//! The governor for GitHub's limits: how long to wait before the next request. Pure: the
//! caller passes the time, so the rules are tested without sleeping.
//!
//! GitHub's rules it follows: mutating requests one at a time and at least a second apart;
//! content-creating requests (pull requests, comments, commits) under 80 a minute and 500 an
//! hour (the secondary limits); after a 403 or 429, `retry-after` first, then, when the primary
//! budget is spent, `x-ratelimit-reset`; at least a minute when a secondary limit gives neither.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The limits to stay under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The least time between two mutating requests.
    pub mutation_gap: Duration,
    /// Content-creating requests allowed in any minute.
    pub per_minute: usize,
    /// Content-creating requests allowed in any hour.
    pub per_hour: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { mutation_gap: Duration::from_secs(1), per_minute: 80, per_hour: 500 }
    }
}

/// What kind of request is about to be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// A read (GET).
    Read,
    /// A mutation that creates no content (PATCH a ref, add a label).
    Mutation,
    /// A mutation that creates content (a pull request, a comment, a commit).
    Content,
}

/// The rate-limit headers of a response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateHeaders {
    /// `retry-after`, in seconds.
    pub retry_after: Option<u64>,
    /// `x-ratelimit-remaining`.
    pub remaining: Option<u64>,
    /// `x-ratelimit-reset`, in seconds since the epoch.
    pub reset: Option<u64>,
}

/// The governor's memory of what was sent.
#[derive(Debug, Clone)]
pub struct Governor {
    limits: Limits,
    last_mutation: Option<Instant>,
    content: VecDeque<Instant>,
    blocked_until: Option<Instant>,
}

impl Governor {
    /// A governor for `limits`.
    pub fn new(limits: Limits) -> Self {
        Governor { limits, last_mutation: None, content: VecDeque::new(), blocked_until: None }
    }

    /// How long to wait at `now` before sending `request`.
    pub fn wait(&self, now: Instant, request: Request) -> Duration {
        let mut until = self.blocked_until.unwrap_or(now);
        if request != Request::Read
            && let Some(last) = self.last_mutation
        {
            until = until.max(last + self.limits.mutation_gap);
        }
        if request == Request::Content {
            for (window, allowed) in
                [(Duration::from_secs(60), self.limits.per_minute), (Duration::from_secs(3600), self.limits.per_hour)]
            {
                let recent: Vec<&Instant> =
                    self.content.iter().filter(|&&t| now.saturating_duration_since(t) < window).collect();
                if recent.len() >= allowed
                    && let Some(oldest) = recent.first()
                {
                    until = until.max(**oldest + window);
                }
            }
        }
        until.saturating_duration_since(now)
    }

    /// Records that `request` was sent at `at`.
    pub fn sent(&mut self, at: Instant, request: Request) {
        if request != Request::Read {
            self.last_mutation = Some(at);
        }
        if request == Request::Content {
            self.content.push_back(at);
            while self.content.front().is_some_and(|&t| at.saturating_duration_since(t) >= Duration::from_secs(3600)) {
                self.content.pop_front();
            }
        }
    }

    /// Learns from a response received at `now` (`epoch` is the same moment in seconds since the
    /// epoch, for `x-ratelimit-reset`). Returns how long the caller must wait before retrying, if
    /// the response was a rate limit.
    pub fn received(&mut self, now: Instant, epoch: u64, status: u16, headers: &RateHeaders) -> Option<Duration> {
        if status != 403 && status != 429 {
            return None;
        }
        let wait = if let Some(secs) = headers.retry_after {
            Duration::from_secs(secs)
        } else if headers.remaining == Some(0)
            && let Some(reset) = headers.reset
        {
            Duration::from_secs(reset.saturating_sub(epoch).max(1))
        } else if status == 429 || headers.remaining.is_some() {
            // A secondary limit with no advice: GitHub asks for at least a minute.
            Duration::from_secs(60)
        } else {
            return None;
        };
        let until = now + wait;
        self.blocked_until = Some(self.blocked_until.map_or(until, |b| b.max(until)));
        Some(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_are_a_second_apart_and_reads_are_not_held() {
        let t0 = Instant::now();
        let mut g = Governor::new(Limits::default());
        assert_eq!(g.wait(t0, Request::Mutation), Duration::ZERO);
        g.sent(t0, Request::Mutation);
        assert_eq!(g.wait(t0 + Duration::from_millis(300), Request::Mutation), Duration::from_millis(700));
        assert_eq!(g.wait(t0 + Duration::from_millis(300), Request::Read), Duration::ZERO);
    }

    #[test]
    fn content_stays_under_the_minute_and_hour_budgets() {
        let t0 = Instant::now();
        let limits = Limits { mutation_gap: Duration::ZERO, per_minute: 3, per_hour: 5 };
        let mut g = Governor::new(limits);
        for i in 0..3 {
            g.sent(t0 + Duration::from_secs(i), Request::Content);
        }
        // The fourth waits until the first leaves the minute.
        assert_eq!(g.wait(t0 + Duration::from_secs(10), Request::Content), Duration::from_secs(50));
        g.sent(t0 + Duration::from_secs(61), Request::Content);
        g.sent(t0 + Duration::from_secs(62), Request::Content);
        // Five in the hour: the sixth waits for the first to leave the hour.
        assert_eq!(g.wait(t0 + Duration::from_secs(200), Request::Content), Duration::from_secs(3400));
    }

    #[test]
    fn retry_after_comes_first_then_the_reset_then_a_minute() {
        let t0 = Instant::now();
        let mut g = Governor::new(Limits::default());
        let retry = RateHeaders { retry_after: Some(7), remaining: Some(0), reset: Some(1_000_100) };
        assert_eq!(g.received(t0, 1_000_000, 403, &retry), Some(Duration::from_secs(7)));
        let reset = RateHeaders { retry_after: None, remaining: Some(0), reset: Some(1_000_100) };
        assert_eq!(g.received(t0, 1_000_000, 403, &reset), Some(Duration::from_secs(100)));
        assert_eq!(g.wait(t0, Request::Read), Duration::from_secs(100), "everything waits for the reset");
        let secondary = RateHeaders { retry_after: None, remaining: Some(40), reset: None };
        assert_eq!(g.received(t0, 1_000_000, 403, &secondary), Some(Duration::from_secs(60)));
        assert_eq!(g.received(t0, 1_000_000, 403, &RateHeaders::default()), None, "a plain 403 is not a limit");
        assert_eq!(g.received(t0, 1_000_000, 200, &retry), None);
    }
}
