//! Proposing the change as a pull request: the body, the commit plan, the fingerprint that
//! makes harden idempotent, the decision that respects a closed pull request and a human's
//! commits, the reviewers from CODEOWNERS, the governor for the forge's rate limits; and, at the
//! edges, the clone, the forge client and `harden pr` itself.

pub mod body;
pub mod checkout;
pub mod commit;
pub mod decide;
pub mod fingerprint;
pub mod forge;
pub mod github;
pub mod governor;
pub mod pr;
pub mod reviewers;
pub mod write;
