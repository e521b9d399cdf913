//! The text package databases and os-release, parsed from their bytes: Debian's dpkg `status`
//! (and distroless's `status.d/` files, the same format), Alpine's apk `installed`. Pure: bytes
//! in, names out; a line that does not parse is passed over.

use super::OsRelease;

/// The packages one database lists.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Listed {
    /// How many entries it has.
    pub count: usize,
    /// Their names, as listed (not yet sorted or deduplicated).
    pub names: Vec<String>,
}

/// A dpkg database: stanzas separated by blank lines, with `Package:` and `Status:` fields.
/// With `need_status` (the `status` file) a package counts only when its status says it is
/// installed (`install ok installed`, `hold ok installed`), not a removed package's leftover
/// configuration (`deinstall ok config-files`); without it (a distroless `status.d` file, which
/// often has no `Status:`), a package counts unless a status says it is not installed.
pub(super) fn dpkg(text: &[u8], need_status: bool) -> Listed {
    let mut listed = Listed::default();
    let text = String::from_utf8_lossy(text);
    let (mut name, mut status) = (None, None);
    // A blank line ends a stanza; the chained one ends the last.
    for line in text.lines().chain([""]) {
        if line.trim().is_empty() {
            let installed = match status.take() {
                Some(status) => str::split_whitespace(status).nth(2) == Some("installed"),
                None => !need_status,
            };
            if let Some(name) = name.take().filter(|n: &&str| !n.is_empty() && installed) {
                listed.count += 1;
                listed.names.push(name.to_string());
            }
            continue;
        }
        // Continuation lines start with a space or tab; no field read here spans lines.
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let Some((field, value)) = line.split_once(':') else { continue };
        if field.trim().eq_ignore_ascii_case("Package") {
            name = Some(value.trim());
        } else if field.trim().eq_ignore_ascii_case("Status") {
            status = Some(value.trim());
        }
    }
    listed
}

/// An apk database: one `P:<name>` line per installed package.
pub(super) fn apk(text: &[u8]) -> Listed {
    let names: Vec<String> = String::from_utf8_lossy(text)
        .lines()
        .filter_map(|line| line.strip_prefix("P:"))
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_string)
        .collect();
    Listed { count: names.len(), names }
}

/// The `ID`, `VERSION_ID` and `PRETTY_NAME` of an os-release file (`KEY=value` lines, values
/// maybe quoted).
pub(super) fn os_release(text: &[u8]) -> OsRelease {
    let mut os = OsRelease::default();
    for line in String::from_utf8_lossy(text).lines() {
        let Some((key, value)) = line.trim().split_once('=') else { continue };
        let slot = match key.trim() {
            "ID" => &mut os.id,
            "VERSION_ID" => &mut os.version_id,
            "PRETTY_NAME" => &mut os.pretty_name,
            _ => continue,
        };
        *slot = Some(unquote(value.trim())).filter(|v| !v.is_empty());
    }
    os
}

/// A shell-style value without its quotes and backslash escapes.
fn unquote(value: &str) -> String {
    let inner =
        ['"', '\''].iter().find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q))).unwrap_or(value);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' { chars.next().unwrap_or('\\') } else { c });
    }
    out
}
