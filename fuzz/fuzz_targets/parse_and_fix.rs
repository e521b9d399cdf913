//! Fuzzes the whole Dockerfile engine: parse → facts → plan → findings → rewrite → re-check.
//! Any input may be rejected with a parse error; none may panic, and a rewrite must be a
//! fixed point (fixing it again changes nothing).
#![no_main]

use harden::config::Config;
use harden::dockerfile::{Outcome, harden};
use harden::source::SourceFacts;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let (source, config) = (SourceFacts::default(), Config::default());
    if let Ok(Outcome::Hardened { rewritten: Some(new), .. }) = harden(text, &source, &config) {
        match harden(&new, &source, &config) {
            Ok(Outcome::Hardened { rewritten: None, .. }) => {}
            other => panic!("a rewrite is not a fixed point: {other:?}"),
        }
    }
});
