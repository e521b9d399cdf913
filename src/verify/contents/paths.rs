//! Which paths of an image the report looks at, and the one way paths are written: relative to
//! the root, without `./`, `/` or `.` parts (`./usr//bin/` is `usr/bin`).

/// Where the OS names itself; the first that is a regular file is read.
pub(super) const OS_RELEASE: [&str; 2] = ["etc/os-release", "usr/lib/os-release"];
/// Debian's package database.
pub(super) const DPKG_STATUS: &str = "var/lib/dpkg/status";
/// Distroless's package database: one file per package, beside `<name>.md5sums` files.
pub(super) const DPKG_STATUS_D: &str = "var/lib/dpkg/status.d";
/// Alpine's package database.
pub(super) const APK_INSTALLED: &str = "lib/apk/db/installed";
/// RPM's SQLite package database (RPM 4.16+), at its old and its new home.
pub(super) const RPMDB_SQLITE: [&str; 2] = ["var/lib/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite"];
/// RPM's older package databases (Berkeley DB, NDB), noticed but not read.
pub(super) const RPMDB_OTHER: [&str; 4] = [
    "var/lib/rpm/Packages",
    "var/lib/rpm/Packages.db",
    "usr/lib/sysimage/rpm/Packages",
    "usr/lib/sysimage/rpm/Packages.db",
];
/// Shells, at both homes (on a merged-`/usr` system `/bin` is a link and the files are in `/usr/bin`).
pub(super) const SHELLS: [&str; 10] = [
    "bin/sh",
    "bin/bash",
    "bin/ash",
    "bin/dash",
    "bin/busybox",
    "usr/bin/sh",
    "usr/bin/bash",
    "usr/bin/ash",
    "usr/bin/dash",
    "usr/bin/busybox",
];
/// Package managers' commands.
const PACKAGE_MANAGERS: [&str; 8] = ["apt", "apt-get", "dpkg", "apk", "yum", "dnf", "microdnf", "rpm"];
/// Where package managers' commands live.
const COMMAND_DIRS: [&str; 4] = ["usr/bin", "bin", "sbin", "usr/sbin"];
/// World-writable directories that are meant to be.
const TEMP_DIRS: [&str; 2] = ["tmp", "var/tmp"];

/// What a tar entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// A hard link (to a regular file).
    HardLink,
    /// A device, FIFO or other.
    Other,
}

impl Kind {
    /// The kind of a tar entry type.
    pub(super) fn of(entry: tar::EntryType) -> Kind {
        if entry.is_file() || entry.is_contiguous() {
            Kind::File
        } else if entry.is_dir() {
            Kind::Dir
        } else if entry.is_symlink() {
            Kind::Symlink
        } else if entry.is_hard_link() {
            Kind::HardLink
        } else {
            Kind::Other
        }
    }
}

/// A raw tar path, normalised (lossy UTF-8; the root is the empty string).
pub(super) fn normalize(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw)
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// True for a file whose content is read: os-release or a package database.
pub(super) fn wants_content(path: &str) -> bool {
    OS_RELEASE.contains(&path)
        || path == DPKG_STATUS
        || path == APK_INSTALLED
        || RPMDB_SQLITE.contains(&path)
        || is_status_d(path)
}

/// True for a distroless package file (`status.d/<name>`, not its `.md5sums`).
pub(super) fn is_status_d(path: &str) -> bool {
    path.strip_prefix(DPKG_STATUS_D)
        .and_then(|rest| rest.strip_prefix('/'))
        .is_some_and(|name| !name.is_empty() && !name.contains('/') && !name.ends_with(".md5sums"))
}

/// True for a package manager's command.
pub(super) fn is_package_manager(path: &str) -> bool {
    path.rsplit_once('/').is_some_and(|(dir, name)| COMMAND_DIRS.contains(&dir) && PACKAGE_MANAGERS.contains(&name))
}

/// True for a regular file (or hard link to one) with the setuid or setgid bit.
pub(super) fn is_setuid(kind: Kind, mode: u32) -> bool {
    matches!(kind, Kind::File | Kind::HardLink) && mode & 0o6000 != 0
}

/// True for a directory anyone may write to, other than the temporary directories.
pub(super) fn is_world_writable(path: &str, kind: Kind, mode: u32) -> bool {
    kind == Kind::Dir && mode & 0o002 != 0 && !TEMP_DIRS.contains(&path)
}

/// True for an entry the merge must remember.
pub(super) fn is_tracked(path: &str, kind: Kind, mode: u32) -> bool {
    wants_content(path)
        || SHELLS.contains(&path)
        || RPMDB_OTHER.contains(&path)
        || is_package_manager(path)
        || is_setuid(kind, mode)
        || is_world_writable(path, kind, mode)
}
