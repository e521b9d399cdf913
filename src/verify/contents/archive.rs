//! The `docker save` archive, in either format: the classic one (`<id>/layer.tar` members and
//! `<id>.json` config) and the OCI layout of Docker 25+ (`blobs/sha256/<hex>` members). Both have
//! a `manifest.json` naming the config and the layers, oldest first, and in both it comes after
//! the layers. So the stream is read once into an unnamed temporary file (deleted when dropped),
//! `manifest.json` aside in memory, and members are then opened from the file in the manifest's
//! order. Layers are plain or gzip-compressed tar, told apart by their first bytes.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Take, Write};
use std::ops::ControlFlow;

use flate2::read::MultiGzDecoder;
use serde::Deserialize;

use super::ContentsError;
use super::limits::{Limits, Notes};
use super::paths::normalize;
use super::tarwalk::{self, End};

/// The archive's members, held in a temporary file, and what its manifest says they are.
pub(super) struct Saved {
    file: File,
    members: HashMap<String, Span>,
    links: HashMap<String, String>,
    /// The layer members, oldest first.
    pub layers: Vec<String>,
    /// The config member.
    pub config: String,
}

/// Where a member lies in the temporary file.
#[derive(Debug, Clone, Copy)]
struct Span {
    offset: u64,
    len: u64,
}

/// One image in `manifest.json`.
#[derive(Deserialize)]
struct ManifestEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
}

impl Saved {
    /// Reads the whole archive stream. Fails only when it is not a `docker save` archive (or the
    /// temporary file cannot be written); bounds hit are noted.
    pub(super) fn read(archive: impl Read, limits: &Limits, notes: &mut Notes) -> Result<Saved, ContentsError> {
        let mut file = tempfile::tempfile().map_err(ContentsError::TempFile)?;
        let (mut members, mut links) = (HashMap::new(), HashMap::new());
        let (mut manifest, mut written, mut failure) = (None, 0u64, None);
        let walked = tarwalk::walk(archive, limits.archive_members, limits.path_bytes, |raw, entry| {
            let name = normalize(raw);
            let kind = entry.header().entry_type();
            if kind.is_symlink() || kind.is_hard_link() {
                if let Some(target) = entry.link_name_bytes() {
                    let relative = kind.is_symlink() && !target.starts_with(b"/");
                    let base = if relative { name.rsplit_once('/').map_or("", |(dir, _)| dir) } else { "" };
                    let target = resolve(base, &normalize(&target));
                    links.insert(name, target);
                }
                return ControlFlow::Continue(());
            }
            if !(kind.is_file() || kind.is_contiguous()) {
                return ControlFlow::Continue(());
            }
            let size = entry.size();
            if name == "manifest.json" {
                manifest =
                    Some(if size > limits.file_bytes { Err(size) } else { read_all(entry, size).map_err(|_| size) });
            } else if written.saturating_add(size) > limits.archive_bytes {
                notes.add(format!("the archive is larger than {} bytes; {name} is not read", limits.archive_bytes));
            } else {
                let offset = written;
                match append(entry, &mut file, &mut written) {
                    Ok(true) => {
                        members.insert(name, Span { offset, len: written - offset });
                    }
                    Ok(false) => {}
                    Err(e) => {
                        failure = Some(e);
                        return ControlFlow::Break(());
                    }
                }
            }
            ControlFlow::Continue(())
        });
        if let Some(e) = failure {
            return Err(ContentsError::TempFile(e));
        }
        let manifest = match (manifest, walked.end) {
            (Some(Ok(bytes)), end) => {
                match end {
                    End::EntryLimit => notes.add(format!(
                        "the archive has more than {} members; the rest are not read",
                        limits.archive_members
                    )),
                    End::Broken(why) => notes.add(format!("the archive breaks off ({why}); the rest is not read")),
                    End::Finished | End::Stopped => {}
                }
                bytes
            }
            (Some(Err(size)), _) => {
                return Err(ContentsError::NotAnImage(format!(
                    "its manifest.json is {size} bytes, over the {}-byte bound (or unreadable)",
                    limits.file_bytes
                )));
            }
            (None, End::Broken(why)) if walked.entries == 0 => return Err(ContentsError::NotAnArchive(why)),
            (None, End::Broken(why)) => {
                return Err(ContentsError::NotAnImage(format!("it breaks off ({why}) before a manifest.json")));
            }
            (None, _) => return Err(ContentsError::NotAnImage("it has no manifest.json".into())),
        };
        let images: Vec<ManifestEntry> = serde_json::from_slice(&manifest)
            .map_err(|e| ContentsError::NotAnImage(format!("its manifest.json is not a docker save manifest: {e}")))?;
        let count = images.len();
        let Some(image) = images.into_iter().next() else {
            return Err(ContentsError::NotAnImage("its manifest.json lists no image".into()));
        };
        if count > 1 {
            notes.add(format!("the archive holds {count} images; only the first is read"));
        }
        let mut layers: Vec<String> = image.layers.iter().map(|l| normalize(l.as_bytes())).collect();
        if layers.len() > limits.layers {
            notes.add(format!("the image has {} layers; only the {} oldest are read", layers.len(), limits.layers));
            layers.truncate(limits.layers);
        }
        Ok(Saved { file, members, links, layers, config: normalize(image.config.as_bytes()) })
    }

    /// A member's bytes as a reader, following links between members (Docker links a layer
    /// that repeats to its first copy).
    fn open(&self, name: &str) -> Result<Take<&File>, String> {
        let mut name = name;
        for _ in 0..8 {
            match self.links.get(name) {
                Some(target) => name = target,
                None => break,
            }
        }
        let span = self.members.get(name).ok_or("it is missing from the archive")?;
        let mut file = &self.file;
        file.seek(SeekFrom::Start(span.offset)).map_err(|e| e.to_string())?;
        Ok(file.take(span.len))
    }

    /// A layer's tar stream, decompressed when it is gzip, cut off past `max_bytes`.
    pub(super) fn layer(&self, name: &str, max_bytes: u64) -> Result<Box<dyn Read + '_>, String> {
        let mut magic = Vec::with_capacity(4);
        self.open(name)?.take(4).read_to_end(&mut magic).map_err(|e| e.to_string())?;
        let data = self.open(name)?;
        match magic.as_slice() {
            [0x1f, 0x8b, ..] => {
                Ok(Box::new(Capped { inner: MultiGzDecoder::new(data), left: max_bytes, cap: max_bytes }))
            }
            [0x28, 0xb5, 0x2f, 0xfd] => Err("it is zstd-compressed, which is not read".into()),
            _ => Ok(Box::new(Capped { inner: data, left: max_bytes, cap: max_bytes })),
        }
    }

    /// The image config's bytes, when within `max_bytes`.
    pub(super) fn config(&self, max_bytes: u64) -> Result<Vec<u8>, String> {
        let data = self.open(&self.config)?;
        if data.limit() > max_bytes {
            return Err(format!("it is {} bytes, over the {max_bytes}-byte bound", data.limit()));
        }
        let size = data.limit();
        read_all(data, size).map_err(|e| e.to_string())
    }
}

/// Reads a member of known size whole (the caller has bounded the size).
fn read_all(reader: impl Read, size: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    reader.take(size).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Appends a member to the temporary file, counting bytes in `written`: `Ok(false)` when the
/// archive broke off inside it, `Err` when the file cannot be written.
fn append(entry: &mut impl Read, file: &mut File, written: &mut u64) -> io::Result<bool> {
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = match entry.read(&mut buf) {
            Ok(0) => return Ok(true),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return Ok(false),
        };
        file.write_all(&buf[..n])?;
        *written += n as u64;
    }
}

/// A link's target as a member name: `target` taken from directory `base`, `..` resolved.
fn resolve(base: &str, target: &str) -> String {
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for part in target.split('/') {
        match part {
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    parts.join("/")
}

/// A reader that fails, rather than ends, past its byte budget: a cut-off layer must not look
/// like a complete one.
struct Capped<R> {
    inner: R,
    left: u64,
    cap: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = buf.len().min(usize::try_from(self.left.saturating_add(1)).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left = self
            .left
            .checked_sub(n as u64)
            .ok_or_else(|| io::Error::other(format!("it is over {} bytes uncompressed", self.cap)))?;
        Ok(n)
    }
}
