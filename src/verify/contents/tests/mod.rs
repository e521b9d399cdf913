//! Images built in memory, in both `docker save` formats, and what is read from them.

mod hostile;
mod images;

use std::io::Write;

use flate2::{Compression, write::GzEncoder};
use serde_json::json;

/// One entry of a test layer.
pub(super) enum E<'a> {
    /// A regular file: path, mode, bytes.
    File(&'a str, u32, &'a [u8]),
    /// A directory: path, mode.
    Dir(&'a str, u32),
    /// A symbolic link: path, target.
    Link(&'a str, &'a str),
}

/// A layer's tar (GNU headers, so long paths get GNU long-name entries).
pub(super) fn layer(entries: &[E<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        match *entry {
            E::File(path, mode, data) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(mode);
                header.set_size(data.len() as u64);
                builder.append_data(&mut header, path, data).unwrap();
            }
            E::Dir(path, mode) => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(mode);
                header.set_size(0);
                builder.append_data(&mut header, path, &[][..]).unwrap();
            }
            E::Link(path, target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_mode(0o777);
                header.set_size(0);
                builder.append_link(&mut header, path, target).unwrap();
            }
        }
    }
    builder.into_inner().unwrap()
}

/// The same bytes gzip-compressed.
pub(super) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// An image config running as `user`.
pub(super) fn config(user: &str) -> String {
    json!({"architecture": "amd64", "os": "linux", "config": {"User": user, "Env": ["PATH=/usr/bin"]}}).to_string()
}

/// Adds one regular member to an archive.
pub(super) fn member(builder: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]) {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mode(0o644);
    header.set_size(data.len() as u64);
    builder.append_data(&mut header, path, data).unwrap();
}

/// The classic `docker save` archive (Docker before 25): `<id>/layer.tar`, `<id>.json`, and
/// `manifest.json` last.
pub(super) fn classic(config: &str, layers: &[Vec<u8>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut names = Vec::new();
    for (i, layer) in layers.iter().enumerate() {
        let name = format!("{:064x}/layer.tar", i + 1);
        member(&mut builder, &format!("{:064x}/VERSION", i + 1), b"1.0");
        member(&mut builder, &name, layer);
        names.push(name);
    }
    member(&mut builder, &format!("{:064x}.json", 999), config.as_bytes());
    let manifest = json!([{"Config": format!("{:064x}.json", 999), "RepoTags": ["app:before"], "Layers": names}]);
    member(&mut builder, "manifest.json", manifest.to_string().as_bytes());
    member(&mut builder, "repositories", b"{}");
    builder.into_inner().unwrap()
}

/// The OCI layout `docker save` writes from Docker 25 on: every member a blob, `index.json`,
/// `manifest.json` and `oci-layout` after them.
pub(super) fn oci(config: &str, layers: &[Vec<u8>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let blob = |i: usize| format!("blobs/sha256/{i:064x}");
    let mut names = Vec::new();
    for (i, layer) in layers.iter().enumerate() {
        member(&mut builder, &blob(i + 1), layer);
        names.push(blob(i + 1));
    }
    member(&mut builder, &blob(999), config.as_bytes());
    let index = json!({"schemaVersion": 2, "manifests": [{"digest": format!("sha256:{:064x}", 998)}]});
    member(&mut builder, &blob(998), b"{\"schemaVersion\":2}");
    member(&mut builder, "index.json", index.to_string().as_bytes());
    let manifest = json!([{"Config": blob(999), "RepoTags": ["app:after"], "Layers": names}]);
    member(&mut builder, "manifest.json", manifest.to_string().as_bytes());
    member(&mut builder, "oci-layout", b"{\"imageLayoutVersion\":\"1.0.0\"}");
    builder.into_inner().unwrap()
}
