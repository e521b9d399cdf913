//! The bounds that keep reading a hostile image finite, and the plain-English notes written when
//! one is hit. A bound never fails the read: it gives a partial answer that says what is missing.

/// Bounds on what reading one image may cost. The defaults fit any real image; a hostile one
/// (millions of entries, giant paths, gzip bombs) gets a partial answer with notes instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Layers read, oldest first (Docker itself allows 127).
    pub layers: usize,
    /// Tar entries read in one layer.
    pub layer_entries: usize,
    /// Tar entries read in all layers together.
    pub entries: usize,
    /// Bytes of one path; an entry with a longer one is skipped.
    pub path_bytes: usize,
    /// Bytes of one file read for its content (a package database, os-release, the image
    /// config, `manifest.json`); a larger one is not read.
    pub file_bytes: u64,
    /// Bytes of file contents read in all (so at most this is held in memory).
    pub content_bytes: u64,
    /// Files under `/var/lib/dpkg/status.d/` read.
    pub status_d_files: usize,
    /// Paths remembered while merging layers (setuid files, world-writable directories,
    /// shells, package managers, package databases).
    pub tracked_paths: usize,
    /// Uncompressed bytes of one layer (a gzip bomb stops here).
    pub layer_bytes: u64,
    /// Bytes of the archive held in the temporary file.
    pub archive_bytes: u64,
    /// Members of the `docker save` archive read.
    pub archive_members: usize,
}

impl Default for Limits {
    fn default() -> Self {
        const MIB: u64 = 1 << 20;
        const GIB: u64 = 1 << 30;
        Limits {
            layers: 1_000,
            layer_entries: 500_000,
            entries: 1_000_000,
            path_bytes: 4096,
            file_bytes: 64 * MIB,
            content_bytes: 256 * MIB,
            status_d_files: 10_000,
            tracked_paths: 20_000,
            layer_bytes: 64 * GIB,
            archive_bytes: 64 * GIB,
            archive_members: 100_000,
        }
    }
}

/// The most distinct notes kept: one per kind of bound is the usual case.
const MAX_NOTES: usize = 50;

/// Notes gathered while reading, rendered into `ImageContents::limits_hit`.
#[derive(Debug, Default)]
pub(super) struct Notes {
    long_paths: usize,
    lines: Vec<String>,
}

impl Notes {
    /// Adds one note (once; at most [`MAX_NOTES`] are kept).
    pub(super) fn add(&mut self, line: impl Into<String>) {
        let line = line.into();
        if self.lines.len() < MAX_NOTES && !self.lines.contains(&line) {
            self.lines.push(line);
        }
    }

    /// Counts entries skipped because their path was longer than the bound.
    pub(super) fn long_paths(&mut self, count: usize) {
        self.long_paths += count;
    }

    /// The notes, the count of skipped long paths first.
    pub(super) fn into_lines(self, limits: &Limits) -> Vec<String> {
        let mut out = Vec::with_capacity(self.lines.len() + 1);
        if self.long_paths > 0 {
            out.push(format!(
                "{} entr{} with a path longer than {} bytes skipped",
                self.long_paths,
                if self.long_paths == 1 { "y" } else { "ies" },
                limits.path_bytes
            ));
        }
        out.extend(self.lines);
        out
    }
}
