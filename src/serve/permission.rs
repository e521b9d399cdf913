//! Who may command harden: at least the permission the server requires (write by default) on
//! the repository, as GitHub's collaborator-permission API names it. Pure.

/// The least permission a commenter needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Required {
    /// Push access (GitHub's `write`; `maintain` and `admin` have it too).
    Write,
    /// `maintain` or `admin`.
    Maintain,
    /// `admin` only.
    Admin,
}

impl Required {
    /// The name GitHub gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            Required::Write => "write",
            Required::Maintain => "maintain",
            Required::Admin => "admin",
        }
    }
}

/// Whether a user whose `role_name` (or, from older servers, `permission`) is `role` has at
/// least `required`. `triage`, `read`, `none` and anything unknown never do.
pub fn allows(role: &str, required: Required) -> bool {
    let held = match role {
        "admin" => Required::Admin,
        "maintain" => Required::Maintain,
        "write" | "push" => Required::Write,
        _ => return false,
    };
    held >= required
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_against_each_requirement() {
        for (role, write, maintain, admin) in [
            ("admin", true, true, true),
            ("maintain", true, true, false),
            ("write", true, false, false),
            ("triage", false, false, false),
            ("read", false, false, false),
            ("none", false, false, false),
            ("", false, false, false),
        ] {
            assert_eq!(allows(role, Required::Write), write, "{role} for write");
            assert_eq!(allows(role, Required::Maintain), maintain, "{role} for maintain");
            assert_eq!(allows(role, Required::Admin), admin, "{role} for admin");
        }
    }
}
