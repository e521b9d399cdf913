//! Compressed image size without a registry: gzip every layer of `docker save`'s archive into
//! a counter. Registries store layers gzip-compressed, so this is what a pull transfers.

use std::io::{self, Read, Write};

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

/// The gzip-compressed size of the layers in a `docker save` tar stream: the `layer.tar`
/// entries of the classic format, or the non-JSON blobs of the OCI layout.
pub fn compressed_layers(archive: impl Read) -> io::Result<u64> {
    let mut archive = tar::Archive::new(archive);
    let mut total = 0;
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.to_string_lossy().into_owned();
        let is_layer = path.ends_with("layer.tar") || (path.starts_with("blobs/") && entry.header().size()? > 4096);
        if !is_layer {
            continue;
        }
        let mut gz = GzEncoder::new(Counter(0), Compression::default());
        io::copy(&mut entry, &mut gz)?;
        total += gz.finish()?.0;
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
        let size = compressed_layers(&archive[..]).unwrap();
        assert!(size > 0 && size < 1_000, "100 kB of one byte compresses well: {size}");
    }
}
