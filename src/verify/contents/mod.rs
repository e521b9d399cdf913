//! What a built image carries: its OS, its OS packages, whether it has a shell or a package
//! manager, its setuid files and world-writable directories, and the user it runs as. Read from
//! the image's `docker save` archive ([`read`]), and compared between two images ([`diff`]).
//!
//! How it reads: `docker save` writes a stream whose `manifest.json`, which says which members
//! are the layers and in which order, comes after the layers. Rather than ask the engine for the
//! archive twice, the stream is read once into an unnamed temporary file (`archive`), costing
//! disk the size of the archive and little memory; the layers are then read from that file,
//! oldest first, and merged with their whiteouts (`layers`), keeping only the entries looked at
//! (`paths`). The package databases kept are then parsed (`packages`, `rpm`) and the whole
//! summed up (`summary`). Nothing here runs the image, follows a symlink to read a file, or
//! decodes an RPM header.
//!
//! Images can be hostile. Every cost is bounded by [`Limits`]: a bound hit gives a partial
//! answer that says so in [`ImageContents::limits_hit`]. The only errors are a stream that is
//! not an image archive at all and a temporary file that cannot be written.

mod archive;
mod change;
mod layers;
mod limits;
mod packages;
mod paths;
mod rpm;
mod summary;
mod tarwalk;
#[cfg(test)]
mod tests;

use std::io::Read;

use serde::{Deserialize, Serialize};

pub use change::{ContentsChange, diff};
pub use limits::Limits;

/// What one image carries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageContents {
    /// The OS it names in `/etc/os-release` (or `/usr/lib/os-release`), if any.
    pub os: Option<OsRelease>,
    /// Its OS packages.
    pub packages: Packages,
    /// The shells present (`/bin/sh`, `/usr/bin/bash`, `/bin/busybox`, …; links count), sorted.
    pub shell: Vec<String>,
    /// The package managers' commands present (apt, apt-get, dpkg, apk, yum, dnf, microdnf,
    /// rpm in `/bin`, `/sbin`, `/usr/bin`, `/usr/sbin`), sorted.
    pub package_manager: Vec<String>,
    /// Regular files with the setuid or setgid bit, sorted.
    pub setuid: Vec<String>,
    /// Directories anyone may write to, other than `/tmp` and `/var/tmp`, sorted.
    pub world_writable: Vec<String>,
    /// The user it runs as (`Config.User`; empty means root). Not serialised: the proof's
    /// report gives the user beside the sizes.
    #[serde(skip)]
    pub user: String,
    /// True when that user is root (empty, `root`, `0`, or either with a group).
    #[serde(skip)]
    pub runs_as_root: bool,
    /// What was not read because a bound was hit (or a part was unreadable); empty when all was.
    pub limits_hit: Vec<String>,
}

/// The OS an image names in its os-release file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsRelease {
    /// `ID`, e.g. `debian`, `alpine`.
    pub id: Option<String>,
    /// `VERSION_ID`, e.g. `12`, `3.20.3`.
    pub version_id: Option<String>,
    /// `PRETTY_NAME`, e.g. `Debian GNU/Linux 12 (bookworm)`.
    pub pretty_name: Option<String>,
}

/// An image's OS packages, from every package database found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Packages {
    /// Installed packages, summed over the databases read.
    pub count: usize,
    /// Their names, sorted and deduplicated (an RPM database without its `Name` index gives a
    /// count but no names).
    pub names: Vec<String>,
    /// The databases read.
    pub databases: Vec<PackageDb>,
}

/// A package database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PackageDb {
    /// Debian's `/var/lib/dpkg/status`.
    #[serde(rename = "dpkg")]
    Dpkg,
    /// Distroless's `/var/lib/dpkg/status.d/` files.
    #[serde(rename = "dpkg-status.d")]
    DpkgStatusD,
    /// Alpine's `/lib/apk/db/installed`.
    #[serde(rename = "apk")]
    Apk,
    /// RPM's `rpmdb.sqlite`.
    #[serde(rename = "rpm-sqlite")]
    RpmSqlite,
}

/// Why an image archive could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ContentsError {
    /// The stream is not a tar archive.
    #[error("the image archive is not a tar archive ({0}); expected the output of `docker save`")]
    NotAnArchive(String),
    /// A tar archive, but not a `docker save` one.
    #[error("the archive is not a `docker save` image archive: {0}")]
    NotAnImage(String),
    /// The temporary file the archive is read into cannot be written (disk full, no `TMPDIR`).
    #[error("cannot write the temporary file the image archive is read into (check TMPDIR and free space): {0}")]
    TempFile(#[source] std::io::Error),
}

/// Reads what an image carries from its `docker save` archive, within the default [`Limits`].
pub fn read(archive: impl Read) -> Result<ImageContents, ContentsError> {
    read_with(archive, &Limits::default())
}

/// Reads what an image carries from its `docker save` archive, within `limits`.
pub fn read_with(archive: impl Read, limits: &Limits) -> Result<ImageContents, ContentsError> {
    let mut notes = limits::Notes::default();
    let saved = archive::Saved::read(archive, limits, &mut notes)?;
    let mut tree = layers::Tree::default();
    let total = saved.layers.len();
    for (i, name) in saved.layers.iter().enumerate() {
        let label = format!("layer {} of {total}", i + 1);
        match saved.layer(name, limits.layer_bytes) {
            Ok(layer) => tree.apply(layer, &label, limits, &mut notes),
            Err(why) => notes.add(format!("{label} ({name}) is not read: {why}")),
        }
    }
    let user = saved.config(limits.file_bytes).and_then(|bytes| summary::config_user(&bytes)).unwrap_or_else(|why| {
        notes.add(format!("the image config ({}) is not read: {why}; the user is taken as root", saved.config));
        String::new()
    });
    Ok(summary::summarise(tree.nodes(), user, limits, notes))
}
