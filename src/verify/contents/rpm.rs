//! RPM's SQLite package database (`rpmdb.sqlite`, RPM 4.16+: Fedora 33+, RHEL and UBI 9),
//! opened with SQLite from a temporary copy, read-only and as immutable (so a database left in
//! WAL mode opens without its side files).
//!
//! What is read: the rows of the `Packages` table (`hnum`, `blob`: one row per installed
//! package, the blob its RPM header, which is not decoded) are counted, and the names come from
//! the `Name` index table (`key` the name, `hnum` its row in `Packages`). The `gpg-pubkey`
//! pseudo-packages, which are imported signing keys, are left out of both. Only real tables are
//! read: a hostile database cannot run a view or a trigger of its own here.

use std::io::Write;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::packages::Listed;

/// The packages of an `rpmdb.sqlite` file's bytes, or why they cannot be read.
pub(super) fn rpmdb(bytes: &[u8]) -> Result<Listed, String> {
    let mut file = tempfile::Builder::new()
        .prefix("harden-rpmdb-")
        .suffix(".sqlite")
        .tempfile()
        .map_err(|e| format!("cannot write a temporary copy: {e}"))?;
    file.write_all(bytes).and_then(|()| file.flush()).map_err(|e| format!("cannot write a temporary copy: {e}"))?;
    match read(file.path()) {
        Ok(Some(listed)) => Ok(listed),
        Ok(None) => Err("it has no Packages table".into()),
        Err(e) => Err(format!("SQLite cannot read it: {e}")),
    }
}

/// The packages of the database at `path`; `None` when it has no `Packages` table.
fn read(path: &Path) -> rusqlite::Result<Option<Listed>> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let db = Connection::open_with_flags(format!("file:{}?immutable=1", uri_path(path)), flags)?;
    db.execute_batch("PRAGMA trusted_schema = OFF")?;
    let is_table = |name: &str| {
        db.query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", [name], |row| {
            row.get::<_, i64>(0)
        })
        .map(|n| n > 0)
    };
    if !is_table("Packages")? {
        return Ok(None);
    }
    let with_names = is_table("Name")?;
    let count: i64 = if with_names {
        db.query_row(
            "SELECT count(*) FROM Packages WHERE hnum NOT IN (SELECT hnum FROM Name WHERE key = 'gpg-pubkey')",
            [],
            |row| row.get(0),
        )?
    } else {
        db.query_row("SELECT count(*) FROM Packages", [], |row| row.get(0))?
    };
    let mut names = Vec::new();
    if with_names {
        let mut query = db.prepare("SELECT DISTINCT key FROM Name WHERE key <> 'gpg-pubkey'")?;
        // A key that is not text (a hostile database) is passed over.
        names.extend(query.query_map([], |row| row.get::<_, String>(0))?.filter_map(Result::ok));
    }
    Ok(Some(Listed { count: usize::try_from(count).unwrap_or(0), names }))
}

/// A file path as the path of an SQLite `file:` URI (percent-encoded but for safe characters).
fn uri_path(path: &Path) -> String {
    let mut out = String::new();
    for byte in path.to_string_lossy().bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
