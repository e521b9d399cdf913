//! The campaign's pace ("rollout windows"): how many pull requests a sweep may open in an hour
//! across the organisation (a leaky bucket), how many may be open at once, and on which days and
//! UTC hours. Pure: the time and the store's counts are passed in. What must wait is told with
//! an estimate of when it will go.

use time::{OffsetDateTime, Weekday};

/// The pace of a campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pace {
    /// Pull requests opened per hour, across the organisation (or this shard's share of it).
    pub per_hour: usize,
    /// Harden pull requests open at once, across the organisation.
    pub max_open: usize,
    /// Days new pull requests may open on (empty: every day).
    pub days: Vec<Weekday>,
    /// UTC hours they may open in, `[from, to)` (`None`: all day).
    pub hours: Option<(u8, u8)>,
}

impl Default for Pace {
    fn default() -> Self {
        Pace { per_hour: 10, max_open: 50, days: Vec::new(), hours: None }
    }
}

impl Pace {
    /// Whether a new pull request may open at `now`, given the openings of the last hour
    /// (`recent`, oldest first), the harden pull requests open now, and how many already wait in
    /// this sweep (`waiting`); `Err` says when it may, as an estimate.
    pub fn allows(&self, now: i64, recent: &[i64], open: usize, waiting: usize) -> Result<(), String> {
        if open >= self.max_open {
            return Err(format!(
                "{open} harden pull requests are open (at most {}): it opens when one is merged or closed",
                self.max_open
            ));
        }
        let in_hour: Vec<i64> = recent.iter().copied().filter(|&t| t > now - 3600).collect();
        let free = self.per_hour.saturating_sub(in_hour.len());
        if let Some(next) = self.next_window(now) {
            return Err(format!(
                "outside the campaign's window: from {}",
                stamp(next + waiting_delay(waiting, self.per_hour))
            ));
        }
        if free == 0 || waiting >= free {
            // The slot frees when the opening that filled it is an hour old; the ones waiting
            // before this one take the slots before it.
            let behind = waiting.saturating_sub(free);
            let first_free = in_hour.get(behind % self.per_hour.max(1)).map_or(now, |&t| t + 3600);
            let at = first_free + 3600 * (behind / self.per_hour.max(1)) as i64;
            return Err(format!("{} pull requests an hour at most: about {}", self.per_hour, stamp(at)));
        }
        Ok(())
    }

    /// The start of the next window when `now` is outside one.
    fn next_window(&self, now: i64) -> Option<i64> {
        let inside = |t: i64| {
            let at = OffsetDateTime::from_unix_timestamp(t).unwrap_or(OffsetDateTime::UNIX_EPOCH);
            let day_ok = self.days.is_empty() || self.days.contains(&at.weekday());
            let hour_ok = self.hours.is_none_or(|(from, to)| (from..to).contains(&at.hour()));
            day_ok && hour_ok
        };
        if inside(now) {
            return None;
        }
        let hour = now - now.rem_euclid(3600);
        (1..=24 * 8).map(|h| hour + 3600 * h).find(|&t| inside(t))
    }
}

fn waiting_delay(waiting: usize, per_hour: usize) -> i64 {
    3600 * (waiting / per_hour.max(1)) as i64
}

/// A time as a reader takes it: `2026-12-02 09:00 UTC`.
pub fn stamp(seconds: i64) -> String {
    let at = OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", at.year(), u8::from(at.month()), at.day(), at.hour(), at.minute())
}

/// Reads `mon-fri`, `sat,sun` or `mon,wed-fri`.
pub fn parse_days(text: &str) -> Result<Vec<Weekday>, String> {
    const NAMES: [(&str, Weekday); 7] = [
        ("mon", Weekday::Monday),
        ("tue", Weekday::Tuesday),
        ("wed", Weekday::Wednesday),
        ("thu", Weekday::Thursday),
        ("fri", Weekday::Friday),
        ("sat", Weekday::Saturday),
        ("sun", Weekday::Sunday),
    ];
    let index = |name: &str| {
        NAMES
            .iter()
            .position(|(n, _)| name.trim().to_ascii_lowercase().starts_with(n))
            .ok_or(format!("`{name}` is not a day"))
    };
    let mut days = Vec::new();
    for part in text.split(',') {
        let (from, to) = part.split_once('-').unwrap_or((part, part));
        let (from, to) = (index(from)?, index(to)?);
        let mut i = from;
        loop {
            if !days.contains(&NAMES[i].1) {
                days.push(NAMES[i].1);
            }
            if i == to {
                break;
            }
            i = (i + 1) % 7;
        }
    }
    Ok(days)
}

/// Reads `9-17` (UTC hours, the end not included).
pub fn parse_hours(text: &str) -> Result<(u8, u8), String> {
    let (from, to) = text.split_once('-').ok_or("expected FROM-TO, such as 9-17")?;
    let (from, to): (u8, u8) =
        (from.trim().parse().map_err(|_| "not an hour")?, to.trim().parse().map_err(|_| "not an hour")?);
    if from >= to || to > 24 {
        return Err(format!("{text}: expected 0 <= FROM < TO <= 24"));
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Wednesday 2026-12-02 10:00:00 UTC.
    const NOW: i64 = 1_796_205_600;

    #[test]
    fn a_budget_of_two_an_hour_opens_two_and_says_when_the_rest_goes() {
        let pace = Pace { per_hour: 2, ..Pace::default() };
        assert_eq!(pace.allows(NOW, &[], 0, 0), Ok(()));
        assert_eq!(pace.allows(NOW, &[NOW - 100], 1, 0), Ok(()));
        let full = pace.allows(NOW, &[NOW - 100, NOW - 50], 2, 0).unwrap_err();
        assert!(full.contains("about 2026-12-02 10:58 UTC"), "{full}");
        let later = pace.allows(NOW, &[NOW - 100, NOW - 50], 2, 2).unwrap_err();
        assert!(later.contains("about 2026-12-02 11:58 UTC"), "{later}");
        // An opening more than an hour old no longer counts.
        assert_eq!(pace.allows(NOW, &[NOW - 4000, NOW - 3700], 2, 0), Ok(()));
    }

    #[test]
    fn the_open_cap_and_the_window_hold() {
        let pace = Pace { max_open: 3, ..Pace::default() };
        assert!(pace.allows(NOW, &[], 3, 0).unwrap_err().contains("3 harden pull requests are open"));
        let office = Pace {
            days: parse_days("mon-fri").unwrap(),
            hours: Some(parse_hours("12-17").unwrap()),
            ..Pace::default()
        };
        assert!(office.allows(NOW, &[], 0, 0).unwrap_err().contains("from 2026-12-02 12:00 UTC"));
        assert_eq!(office.allows(NOW + 2 * 3600, &[], 0, 0), Ok(()));
        let weekend = Pace { days: parse_days("sat,sun").unwrap(), ..Pace::default() };
        assert!(weekend.allows(NOW, &[], 0, 0).unwrap_err().contains("from 2026-12-05 00:00 UTC"));
        assert_eq!(parse_days("fri-mon").unwrap().len(), 4);
        assert!(parse_hours("17-9").is_err() && parse_days("someday").is_err());
    }
}
