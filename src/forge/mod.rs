//! The forge layer every channel shares (`harden pr`, `harden sweep`, later `harden serve`): the
//! GitHub client (octocrab, token or App authentication, paged and conditional reads, creates
//! sent once) with the governor in front of every request, so GitHub's limits hold across all
//! the repositories a run touches.

pub mod github;
pub mod governor;
