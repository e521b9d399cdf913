//! Fuzzes the Kubernetes engine: parse → workloads → plan → edits → re-parse check.
//! Any input may be rejected; none may panic, and a rewrite must be a fixed point.
#![no_main]

use harden::config::Config;
use harden::kubernetes::harden;
use harden::outcome::Outcome;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let config = Config::default();
    if let Ok(Outcome::Hardened { rewritten: Some(new), .. }) = harden(text, &config) {
        match harden(&new, &config) {
            Ok(Outcome::Hardened { rewritten: None, .. }) => {}
            other => panic!("a rewrite is not a fixed point: {other:?}"),
        }
    }
});
