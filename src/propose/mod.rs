//! Proposing the change as a pull request: the body, the commit plan, the fingerprint that
//! makes harden idempotent, the decision that respects a closed pull request and a human's
//! commits, the reviewers from CODEOWNERS, and the governor for the forge's rate limits. (The forge client itself comes with issue 5.)

pub mod body;
pub mod commit;
pub mod decide;
pub mod fingerprint;
pub mod governor;
pub mod reviewers;
