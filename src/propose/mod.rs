//! Proposing the change as a pull request: the body and the fingerprint that makes harden
//! idempotent and respectful of a closed pull request. (The forge side comes with issue 5.)

pub mod body;
pub mod fingerprint;
pub mod governor;
