//! Walks a tar stream entry by entry, within bounds. The `tar` crate's ordinary iterator reads a
//! GNU long name or a PAX header whole into memory, however large the archive says it is; here
//! the iterator runs raw and those extension entries are read only up to the path bound, so a
//! hostile layer cannot make one allocation larger than that.
//!
//! What it does not do: sparse files (Docker never writes them) and PAX `size` overrides that
//! disagree with the header (a file over 8 GiB) end the walk, with a reason, rather than
//! desynchronise it.

use std::io::Read;
use std::ops::ControlFlow;

/// PAX records besides the path (times, xattrs) may add this much to a PAX header.
const PAX_SLACK: usize = 64 * 1024;

/// How a walk ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum End {
    /// The archive's end was reached.
    Finished,
    /// The visitor stopped it.
    Stopped,
    /// The entry bound was reached.
    EntryLimit,
    /// The stream is not a readable tar archive from here on, and why.
    Broken(String),
}

/// What a walk saw.
#[derive(Debug)]
pub(super) struct Walked {
    /// How it ended.
    pub end: End,
    /// Tar entries read, extension headers included.
    pub entries: usize,
    /// Entries skipped because their path was longer than the bound.
    pub long_paths: usize,
}

/// An extension header's word on the next entry.
enum Extension {
    /// Its path (and, from PAX, its size).
    Path(Option<Vec<u8>>, Option<u64>),
    /// Its path is longer than the bound: skip it.
    TooLong,
}

/// Calls `visit` with each entry's full path and the entry (positioned at its data), for at
/// most `max_entries` entries; entries whose path is longer than `max_path` bytes are skipped
/// and counted.
pub(super) fn walk<R: Read>(
    reader: R,
    max_entries: usize,
    max_path: usize,
    mut visit: impl FnMut(&[u8], &mut tar::Entry<'_, R>) -> ControlFlow<()>,
) -> Walked {
    let mut walked = Walked { end: End::Finished, entries: 0, long_paths: 0 };
    let mut archive = tar::Archive::new(reader);
    let entries = match archive.entries() {
        Ok(entries) => entries.raw(true),
        Err(e) => {
            walked.end = End::Broken(e.to_string());
            return walked;
        }
    };
    let mut extension = None;
    for entry in entries {
        let mut entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                walked.end = End::Broken(e.to_string());
                break;
            }
        };
        if walked.entries >= max_entries {
            walked.end = End::EntryLimit;
            break;
        }
        walked.entries += 1;
        let kind = entry.header().entry_type();
        if kind.is_gnu_longname() || kind.is_pax_local_extensions() {
            extension = Some(read_extension(&mut entry, kind.is_gnu_longname(), max_path));
            continue;
        }
        if kind.is_gnu_longlink() || kind.is_pax_global_extensions() {
            continue;
        }
        if kind.is_gnu_sparse() {
            walked.end = End::Broken("a sparse file entry, which is not read".into());
            break;
        }
        let path = match extension.take() {
            Some(Extension::TooLong) => None,
            Some(Extension::Path(path, size)) => {
                if size.is_some_and(|size| size != entry.size()) {
                    walked.end = End::Broken("a PAX size this reader cannot follow (a file over 8 GiB)".into());
                    break;
                }
                Some(path.unwrap_or_else(|| entry.path_bytes().into_owned()))
            }
            None => Some(entry.path_bytes().into_owned()),
        };
        let Some(path) = path.filter(|p| p.len() <= max_path) else {
            walked.long_paths += 1;
            continue;
        };
        if visit(&path, &mut entry).is_break() {
            walked.end = End::Stopped;
            break;
        }
    }
    walked
}

/// Reads a GNU long name or a PAX header, when it is small enough to hold a path within bounds.
fn read_extension<R: Read>(entry: &mut tar::Entry<'_, R>, gnu: bool, max_path: usize) -> Extension {
    let cap = if gnu { max_path + 1 } else { max_path + PAX_SLACK };
    let size = entry.size();
    if size > cap as u64 {
        return Extension::TooLong;
    }
    let mut data = Vec::with_capacity(cap.min(size as usize));
    if entry.take(size).read_to_end(&mut data).is_err() {
        return Extension::TooLong;
    }
    if gnu {
        while data.last() == Some(&0) {
            data.pop();
        }
        return Extension::Path(Some(data), None);
    }
    let (mut path, mut size) = (None, None);
    for record in tar::PaxExtensions::new(&data).flatten() {
        match record.key_bytes() {
            b"path" => path = Some(record.value_bytes()),
            b"size" => size = std::str::from_utf8(record.value_bytes()).ok().and_then(|s| s.parse().ok()),
            _ => {}
        }
    }
    match path {
        Some(path) if path.len() > max_path => Extension::TooLong,
        path => Extension::Path(path.map(<[u8]>::to_vec), size),
    }
}
