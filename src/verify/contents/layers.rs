//! Merges an image's layers, oldest first, into the tree a container sees, the way overlay
//! filesystems do: a later entry replaces an earlier one at its path (and, unless it is a
//! directory, everything under it); `.wh.<name>` removes `<name>` and everything under it from
//! the lower layers; `.wh..wh..opq` in a directory hides everything the lower layers put in it.
//! Whiteouts never touch entries of their own layer.
//!
//! Only the entries the report looks at (see [`super::paths`]) are kept, so memory follows
//! those and not the size of the image: a later layer can only remove or replace a kept entry
//! by naming it, its directory, or an ancestor, and each of those is seen as it streams by.

use std::collections::BTreeMap;
use std::io::Read;
use std::ops::{Bound, ControlFlow};

use super::limits::{Limits, Notes};
use super::paths::{self, Kind, normalize};
use super::tarwalk::{self, End};

/// A whiteout's name prefix.
const WHITEOUT: &str = ".wh.";
/// The opaque-directory marker.
const OPAQUE: &str = ".wh..wh..opq";

/// A kept entry of the merged tree.
#[derive(Debug)]
pub(super) struct Node {
    /// What it is.
    pub kind: Kind,
    /// Its permission bits (with setuid, setgid, sticky).
    pub mode: u32,
    /// Its bytes, for a regular file whose content the report reads (when within bounds).
    pub content: Option<Vec<u8>>,
}

/// The merged tree so far: the kept entries by normalised path.
#[derive(Debug, Default)]
pub(super) struct Tree {
    nodes: BTreeMap<String, Node>,
    entries: usize,
    content_bytes: u64,
    /// The image's entry bound was hit: later layers are not read.
    full: bool,
}

impl Tree {
    /// The kept entries, by path.
    pub(super) fn nodes(&self) -> &BTreeMap<String, Node> {
        &self.nodes
    }

    /// Lays one layer's tar stream over the tree; `label` names it in notes.
    pub(super) fn apply(&mut self, layer: impl Read, label: &str, limits: &Limits, notes: &mut Notes) {
        if self.full {
            return;
        }
        let left = limits.entries.saturating_sub(self.entries);
        let max = left.min(limits.layer_entries);
        let mut upper = BTreeMap::new();
        let walked = tarwalk::walk(layer, max, limits.path_bytes, |raw, entry| {
            self.entry(normalize(raw), entry, &mut upper, limits, notes);
            ControlFlow::Continue(())
        });
        self.entries += walked.entries;
        notes.long_paths(walked.long_paths);
        match walked.end {
            End::EntryLimit if max < limits.layer_entries => {
                self.full = true;
                notes.add(format!(
                    "the image has more than {} entries; the rest (from {label} on) is not read",
                    limits.entries
                ));
            }
            End::EntryLimit => {
                notes.add(format!("{label} has more than {} entries; the rest is not read", limits.layer_entries))
            }
            End::Broken(why) => notes.add(format!("{label} is read only in part: {why}")),
            End::Finished | End::Stopped => {}
        }
        self.nodes.append(&mut upper);
    }

    /// One entry of the layer being laid: it acts on the lower layers (`self.nodes`) at once,
    /// and what it adds waits in `upper` until the layer ends.
    fn entry<R: Read>(
        &mut self,
        path: String,
        entry: &mut tar::Entry<'_, R>,
        upper: &mut BTreeMap<String, Node>,
        limits: &Limits,
        notes: &mut Notes,
    ) {
        let (dir, base) = path.rsplit_once('/').unwrap_or(("", &path));
        if base == OPAQUE {
            remove_under(&mut self.nodes, dir);
            return;
        }
        if let Some(hidden) = base.strip_prefix(WHITEOUT) {
            // `.wh..wh.*` names other than the opaque marker are aufs bookkeeping, not whiteouts.
            if !hidden.is_empty() && !hidden.starts_with(WHITEOUT) {
                let target = if dir.is_empty() { hidden.to_string() } else { format!("{dir}/{hidden}") };
                self.nodes.remove(&target);
                remove_under(&mut self.nodes, &target);
            }
            return;
        }
        let kind = Kind::of(entry.header().entry_type());
        self.nodes.remove(&path);
        upper.remove(&path);
        if kind != Kind::Dir {
            remove_under(&mut self.nodes, &path);
        }
        let mode = entry.header().mode().unwrap_or(0);
        if !paths::is_tracked(&path, kind, mode) {
            return;
        }
        if self.nodes.len() + upper.len() >= limits.tracked_paths {
            notes.add(format!(
                "more than {} setuid files, world-writable directories and package files; the lists are incomplete",
                limits.tracked_paths
            ));
            return;
        }
        let content = (kind == Kind::File && paths::wants_content(&path))
            .then(|| self.read_content(&path, entry, limits, notes))
            .flatten();
        upper.insert(path, Node { kind, mode, content });
    }

    /// A file's bytes, unless it or the total read would pass a bound.
    fn read_content<R: Read>(
        &mut self,
        path: &str,
        entry: &mut tar::Entry<'_, R>,
        limits: &Limits,
        notes: &mut Notes,
    ) -> Option<Vec<u8>> {
        let size = entry.size();
        if size > limits.file_bytes {
            notes.add(format!("/{path} is {size} bytes, over the {}-byte bound; it is not read", limits.file_bytes));
            return None;
        }
        if self.content_bytes.saturating_add(size) > limits.content_bytes {
            notes.add(format!("more than {} bytes of package files; /{path} is not read", limits.content_bytes));
            return None;
        }
        // Charged at the size the header claims, which is what is allocated.
        self.content_bytes += size;
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        match Read::take(entry, size).read_to_end(&mut bytes) {
            Ok(_) => Some(bytes),
            Err(e) => {
                notes.add(format!("/{path} cannot be read: {e}"));
                None
            }
        }
    }
}

/// Removes every kept entry under directory `dir` (not `dir` itself; `""` is the root).
fn remove_under(nodes: &mut BTreeMap<String, Node>, dir: &str) {
    if dir.is_empty() {
        nodes.retain(|path, _| path.is_empty());
        return;
    }
    let prefix = format!("{dir}/");
    let under: Vec<String> = nodes
        .range::<str, _>((Bound::Included(prefix.as_str()), Bound::Unbounded))
        .take_while(|(path, _)| path.starts_with(&prefix))
        .map(|(path, _)| path.clone())
        .collect();
    for path in under {
        nodes.remove(&path);
    }
}
