//! What a rewrite changed in what an image carries: the packages it dropped or added, and
//! whether the shell and the package manager are gone. Pure: two reports in, one change out.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::ImageContents;

/// The change from one image's contents to another's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentsChange {
    /// Package names in the first image and not the second, sorted.
    pub packages_removed: Vec<String>,
    /// Package names in the second image and not the first, sorted.
    pub packages_added: Vec<String>,
    /// Packages counted in the first image.
    pub packages_before: usize,
    /// Packages counted in the second image.
    pub packages_after: usize,
    /// True when the first image has a shell and the second has none.
    pub shell_gone: bool,
    /// True when the first image has a package manager and the second has none.
    pub package_manager_gone: bool,
    /// Setuid and setgid files in the first image.
    pub setuid_before: usize,
    /// Setuid and setgid files in the second image.
    pub setuid_after: usize,
}

/// The change from `before` to `after`.
pub fn diff(before: &ImageContents, after: &ImageContents) -> ContentsChange {
    let old: BTreeSet<&String> = before.packages.names.iter().collect();
    let new: BTreeSet<&String> = after.packages.names.iter().collect();
    ContentsChange {
        packages_removed: old.difference(&new).map(|name| (*name).clone()).collect(),
        packages_added: new.difference(&old).map(|name| (*name).clone()).collect(),
        packages_before: before.packages.count,
        packages_after: after.packages.count,
        shell_gone: !before.shell.is_empty() && after.shell.is_empty(),
        package_manager_gone: !before.package_manager.is_empty() && after.package_manager.is_empty(),
        setuid_before: before.setuid.len(),
        setuid_after: after.setuid.len(),
    }
}
