//! Hostile images: each ends with a bounded, clear, partial answer, never a panic or a hang.

use std::time::{Duration, Instant};

use super::{E, classic, config, gzip, layer, oci};
use crate::verify::contents::{Limits, read, read_with};

/// A layer of `count` empty files, then one setuid file.
fn many_entries(count: usize) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::with_capacity((count + 4) * 512));
    for i in 0..count {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(0o644);
        header.set_size(0);
        builder.append_data(&mut header, format!("f/{i:06}"), &[][..]).unwrap();
    }
    let mut header = tar::Header::new_gnu();
    header.set_mode(0o4755);
    header.set_size(3);
    builder.append_data(&mut header, "usr/bin/last", &b"ELF"[..]).unwrap();
    builder.into_inner().unwrap()
}

#[test]
fn a_layer_of_100_000_entries_is_read_whole_within_the_default_bounds() {
    let archive = oci(&config(""), &[gzip(&many_entries(100_000))]);
    let start = Instant::now();
    let contents = read(&archive[..]).unwrap();
    assert!(start.elapsed() < Duration::from_secs(60), "took {:?}", start.elapsed());
    assert_eq!(contents.setuid, ["/usr/bin/last"]);
    assert!(contents.limits_hit.is_empty(), "{:?}", contents.limits_hit);
}

#[test]
fn the_entry_bounds_stop_a_layer_and_the_image() {
    let archive = classic(&config(""), &[many_entries(5_000), layer(&[E::File("usr/bin/su", 0o4755, b"ELF")])]);
    let limits = Limits { layer_entries: 1_000, ..Limits::default() };
    let contents = read_with(&archive[..], &limits).unwrap();
    assert_eq!(contents.setuid, ["/usr/bin/su"], "the next layer is still read");
    assert_eq!(contents.limits_hit, ["layer 1 of 2 has more than 1000 entries; the rest is not read"]);

    let limits = Limits { entries: 2_000, ..Limits::default() };
    let contents = read_with(&archive[..], &limits).unwrap();
    assert!(contents.setuid.is_empty());
    assert_eq!(
        contents.limits_hit,
        ["the image has more than 2000 entries; the rest (from layer 1 of 2 on) is not read"]
    );
}

#[test]
fn a_gnu_long_name_of_10_000_bytes_is_skipped_and_counted() {
    let long = format!("{}/su", "d".repeat(10_000));
    let base = layer(&[E::File(&long, 0o4755, b"ELF"), E::File("usr/bin/sudo", 0o4755, b"ELF")]);
    let contents = read(&classic(&config(""), &[base])[..]).unwrap();
    assert_eq!(contents.setuid, ["/usr/bin/sudo"], "the entry after it is read");
    assert_eq!(contents.limits_hit, ["1 entry with a path longer than 4096 bytes skipped"]);
}

/// A PAX record: its length counts itself.
fn pax_record(key: &str, value: &str) -> Vec<u8> {
    let body = format!(" {key}={value}\n");
    let mut len = body.len() + 1;
    while format!("{len}{body}").len() != len {
        len += 1;
    }
    format!("{len}{body}").into_bytes()
}

/// A ustar layer whose one setuid file's path is given by a PAX header, as Go's tar writes it.
fn pax_layer(path: &str) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let records = pax_record("path", path);
    let mut pax = tar::Header::new_ustar();
    pax.set_entry_type(tar::EntryType::XHeader);
    pax.set_path("PaxHeaders.0/x").unwrap();
    pax.set_size(records.len() as u64);
    pax.set_cksum();
    builder.append(&pax, &records[..]).unwrap();
    let mut file = tar::Header::new_ustar();
    file.set_entry_type(tar::EntryType::Regular);
    file.set_path("truncated").unwrap();
    file.set_mode(0o4755);
    file.set_size(3);
    file.set_cksum();
    builder.append(&file, &b"ELF"[..]).unwrap();
    builder.into_inner().unwrap()
}

#[test]
fn pax_paths_are_followed_within_the_bound() {
    let path = format!("opt/{}/tool", "p".repeat(200));
    let contents = read(&oci(&config(""), &[pax_layer(&path)])[..]).unwrap();
    assert_eq!(contents.setuid, [format!("/{path}")]);

    let contents = read(&oci(&config(""), &[pax_layer(&"q".repeat(5_000))])[..]).unwrap();
    assert!(contents.setuid.is_empty());
    assert_eq!(contents.limits_hit, ["1 entry with a path longer than 4096 bytes skipped"]);
}

#[test]
fn a_package_database_over_the_file_bound_is_not_read() {
    let status = "Package: x\nStatus: install ok installed\n\n".repeat(100);
    let base = layer(&[E::File("var/lib/dpkg/status", 0o644, status.as_bytes())]);
    let limits = Limits { file_bytes: 1_000, ..Limits::default() };
    let contents = read_with(&classic(&config(""), &[base])[..], &limits).unwrap();
    assert_eq!(contents.packages.count, 0);
    assert_eq!(
        contents.limits_hit,
        [format!("/var/lib/dpkg/status is {} bytes, over the 1000-byte bound; it is not read", status.len())]
    );
}

#[test]
fn a_layer_that_inflates_past_its_bound_is_cut_off_and_said() {
    let bomb = gzip(&layer(&[E::File("big", 0o644, &vec![0; 1 << 20]), E::File("usr/bin/su", 0o4755, b"ELF")]));
    let limits = Limits { layer_bytes: 100_000, ..Limits::default() };
    let contents = read_with(&oci(&config(""), &[bomb])[..], &limits).unwrap();
    assert!(contents.setuid.is_empty());
    assert_eq!(contents.limits_hit.len(), 1);
    assert!(contents.limits_hit[0].starts_with("layer 1 of 1 is read only in part"), "{:?}", contents.limits_hit);
    assert!(contents.limits_hit[0].contains("100000 bytes uncompressed"), "{:?}", contents.limits_hit);
}

#[test]
fn a_truncated_layer_and_a_missing_one_give_what_was_read() {
    let mut cut = layer(&[E::File("usr/bin/su", 0o4755, b"ELF"), E::File("big", 0o644, &[7; 4096])]);
    cut.truncate(2048);
    let mut builder = tar::Builder::new(Vec::new());
    super::member(&mut builder, "l1", &cut);
    super::member(&mut builder, "c.json", config("").as_bytes());
    super::member(&mut builder, "manifest.json", br#"[{"Config":"c.json","Layers":["l1","l2"]}]"#);
    let contents = read(&builder.into_inner().unwrap()[..]).unwrap();
    assert_eq!(contents.setuid, ["/usr/bin/su"]);
    assert_eq!(contents.limits_hit.len(), 2, "{:?}", contents.limits_hit);
    assert!(contents.limits_hit[0].starts_with("layer 1 of 2 is read only in part"));
    assert_eq!(contents.limits_hit[1], "layer 2 of 2 (l2) is not read: it is missing from the archive");
}
