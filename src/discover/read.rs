//! Reading a candidate's text: passed over when it is too large or not text, with the reason.

use std::path::Path;

/// Files larger than this are skipped.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Why a file's text was not read.
#[derive(Debug)]
pub enum Unread {
    /// Passed over, with the reason (too large, or not text).
    Skipped(String),
    /// Reading failed.
    Failed(std::io::Error),
}

/// A candidate's text: passed over when larger than [`MAX_FILE_BYTES`] or not UTF-8 text.
pub fn read_text(path: &Path) -> Result<String, Unread> {
    let file = std::fs::File::open(path).map_err(Unread::Failed)?;
    let size = file.metadata().map_err(Unread::Failed)?.len();
    if size > MAX_FILE_BYTES {
        // A generated bundle says so in its first lines: that is the reason a reader wants.
        let mut head = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::Read::take(&file, 4096), &mut head);
        let head = String::from_utf8_lossy(&head);
        return Err(Unread::Skipped(match crate::generated::generated_marker(&head) {
            Some(marker) => {
                format!("generated ({marker}) and larger than 1 MiB ({size} bytes): harden the source it comes from")
            }
            None => format!("larger than 1 MiB ({size} bytes)"),
        }));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // Read through `take`, so a file that grows meanwhile is still bounded.
    std::io::Read::read_to_end(&mut std::io::Read::take(&file, MAX_FILE_BYTES + 1), &mut bytes)
        .map_err(Unread::Failed)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Unread::Skipped("larger than 1 MiB (it grew while harden read it)".into()));
    }
    match String::from_utf8(bytes) {
        Ok(text) if !text.contains('\0') => Ok(text),
        _ => Err(Unread::Skipped("binary file (not UTF-8 text)".into())),
    }
}
