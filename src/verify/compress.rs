//! Compressed image size without a registry: gzip every layer of `docker save`'s archive into
//! a counter. Registries store layers gzip-compressed, so this is what a pull transfers.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::path::PathBuf;

use flate2::{Compression, write::GzEncoder};

/// Counts bytes written, keeps none.
struct Counter(u64);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Compressed sizes of layers already measured, by layer (directory or blob name and size), so a
/// base image shared by many Dockerfiles is compressed once. Kept in a small file between runs.
#[derive(Debug, Default)]
pub struct LayerCache {
    sizes: HashMap<String, u64>,
    path: Option<PathBuf>,
}

impl LayerCache {
    /// The cache in `path` (empty when the file is missing or unreadable).
    pub fn load(path: PathBuf) -> Self {
        let sizes = std::fs::read_to_string(&path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .filter_map(|(k, v)| Some((k.to_string(), v.parse().ok()?)))
            .collect();
        LayerCache { sizes, path: Some(path) }
    }

    /// Writes the cache back to its file (best effort: a cache that cannot be written is only slower).
    pub fn save(&self) {
        let Some(path) = &self.path else { return };
        let text: String = self.sizes.iter().map(|(k, v)| format!("{k}\t{v}\n")).collect();
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = std::fs::write(path, text);
    }
}

/// The gzip-compressed size of the layers in a `docker save` tar stream: the `layer.tar`
/// entries of the classic format, or the non-JSON blobs of the OCI layout.
pub fn compressed_layers(archive: impl Read, cache: &mut LayerCache) -> io::Result<u64> {
    let mut archive = tar::Archive::new(archive);
    let mut total = 0;
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.to_string_lossy().into_owned();
        let size = entry.header().size()?;
        let is_layer = path.ends_with("layer.tar") || (path.starts_with("blobs/") && size > 4096);
        if !is_layer {
            continue;
        }
        let key = format!("{path}:{size}");
        if let Some(&known) = cache.sizes.get(&key) {
            total += known;
            continue;
        }
        let mut gz = GzEncoder::new(Counter(0), Compression::default());
        io::copy(&mut entry, &mut gz)?;
        let compressed = gz.finish()?.0;
        cache.sizes.insert(key, compressed);
        total += compressed;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_compressed_layers_only() {
        let mut builder = tar::Builder::new(Vec::new());
        let layer = vec![b'a'; 100_000];
        let mut header = tar::Header::new_gnu();
        header.set_size(layer.len() as u64);
        header.set_cksum();
        builder.append_data(&mut header, "abc/layer.tar", &layer[..]).unwrap();
        let mut header = tar::Header::new_gnu();
        header.set_size(2);
        header.set_cksum();
        builder.append_data(&mut header, "manifest.json", &b"{}"[..]).unwrap();
        let archive = builder.into_inner().unwrap();
        let mut cache = LayerCache::default();
        let size = compressed_layers(&archive[..], &mut cache).unwrap();
        assert!(size > 0 && size < 1_000, "100 kB of one byte compresses well: {size}");
        assert_eq!(compressed_layers(&archive[..], &mut cache).unwrap(), size, "the cache gives the same answer");
    }
}
