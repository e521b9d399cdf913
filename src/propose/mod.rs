//! Proposing the change as a pull request: the body, the commit plan, the fingerprint that
//! makes harden idempotent, the decision that respects a closed pull request and a human's
//! commits, the reviewers from CODEOWNERS; and, at the edges, the clone, what the forge holds
//! for harden, the writes, and `harden pr` itself. The forge client is [`crate::forge`].

pub mod body;
pub mod checkout;
pub mod commit;
pub mod dashboard_issue;
pub mod decide;
pub mod fingerprint;
pub mod forge;
pub mod pr;
pub mod retired;
pub mod reviewers;
pub mod write;
