//! harden makes Go container images small and safe.
//!
//! The pipeline reads top to bottom: [`discover`] finds the files, [`dockerfile`]
//! analyses and rewrites them (pure: text in, findings and text out) with what [`source`] and
//! [`orchestration`] say of the Go code and of how the image runs, [`report`]
//! formats the results, and [`run`] ties the steps together with the file system; [`verify`]
//! proves a rewrite by building it, [`propose`] opens the pull request, [`sandbox`] is a local
//! forge to propose to, and [`demo`] runs the whole job against it.

// GitHub's objects are wide: serde_json's `json!` needs more than the default macro depth.
#![recursion_limit = "256"]

pub mod config;
pub mod dashboard;
pub mod demo;
pub mod discover;
pub mod dockerfile;
pub mod edit;
pub mod finding;
pub mod forge;
pub mod generated;
pub mod ko;
pub mod kubernetes;
pub mod lines;
pub mod orchestration;
pub mod outcome;
pub mod pin;
pub mod propose;
pub mod report;
pub mod rules;
pub mod rules_off;
pub mod run;
pub mod sandbox;
pub mod serve;
pub mod shell;
pub mod source;
pub mod store;
pub mod sweep;
pub mod verify;
