//! Real-shaped images: Debian, distroless, Alpine, UBI; whiteouts; the diff between two.

use super::{E, classic, config, gzip, layer, member, oci};
use crate::verify::contents::{ContentsError, ImageContents, PackageDb, diff, read};

const DPKG_STATUS: &[u8] = b"Package: base-files
Status: install ok installed
Version: 12.4
Description: Debian base system
 miscellaneous files

Package: bash
Status: install ok installed

Package: old-tool
Status: deinstall ok config-files

Package: libc6
Status: hold ok installed
";

const OS_RELEASE: &[u8] = b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"
NAME=\"Debian GNU/Linux\"
VERSION_ID=\"12\"
ID=debian
";

/// A Debian-like image: shell, apt, setuid and setgid files, temp directories, one open dir.
fn debian() -> Vec<u8> {
    layer(&[
        E::Dir("etc", 0o755),
        E::File("etc/os-release", 0o644, OS_RELEASE),
        E::File("var/lib/dpkg/status", 0o644, DPKG_STATUS),
        E::File("bin/dash", 0o755, b"ELF"),
        E::Link("bin/sh", "dash"),
        E::File("usr/bin/bash", 0o755, b"ELF"),
        E::File("usr/bin/apt-get", 0o755, b"ELF"),
        E::File("usr/bin/dpkg", 0o755, b"ELF"),
        E::File("usr/bin/passwd", 0o4755, b"ELF"),
        E::File("usr/bin/wall", 0o2755, b"ELF"),
        E::Dir("tmp", 0o1777),
        E::Dir("var/tmp", 0o1777),
        E::Dir("srv/drop", 0o1777),
    ])
}

#[test]
fn classic_archive_of_a_debian_image() {
    let app = layer(&[E::File("app/server", 0o755, b"ELF")]);
    let contents = read(&classic(&config(""), &[debian(), app])[..]).unwrap();
    let os = contents.os.clone().unwrap();
    assert_eq!(os.id.as_deref(), Some("debian"));
    assert_eq!(os.version_id.as_deref(), Some("12"));
    assert_eq!(os.pretty_name.as_deref(), Some("Debian GNU/Linux 12 (bookworm)"));
    assert_eq!(contents.packages.names, ["base-files", "bash", "libc6"]);
    assert_eq!(contents.packages.count, 3, "the deinstalled package's leftovers do not count");
    assert_eq!(contents.packages.databases, [PackageDb::Dpkg]);
    assert_eq!(contents.shell, ["/bin/dash", "/bin/sh", "/usr/bin/bash"]);
    assert_eq!(contents.package_manager, ["/usr/bin/apt-get", "/usr/bin/dpkg"]);
    assert_eq!(contents.setuid, ["/usr/bin/passwd", "/usr/bin/wall"]);
    assert_eq!(contents.world_writable, ["/srv/drop"], "a sticky open directory other than /tmp counts");
    assert_eq!(contents.user, "");
    assert!(contents.runs_as_root);
    assert!(contents.limits_hit.is_empty(), "{:?}", contents.limits_hit);
}

#[test]
fn oci_archive_of_a_distroless_image_with_gzip_layers() {
    let base = gzip(&layer(&[
        E::File("usr/lib/os-release", 0o644, b"ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Distroless\"\n"),
        E::Link("etc/os-release", "../usr/lib/os-release"),
        E::File("var/lib/dpkg/status.d/base-files", 0o644, b"Package: base-files\nVersion: 12.4\n"),
        E::File("var/lib/dpkg/status.d/base-files.md5sums", 0o644, b"abc  etc/debian_version\n"),
        E::File("var/lib/dpkg/status.d/tzdata", 0o644, b"Package: tzdata\nVersion: 2024a\n"),
        E::File("var/lib/dpkg/status.d/netbase", 0o644, b"Package: netbase\nStatus: install ok installed\n"),
        E::Dir("tmp", 0o1777),
    ]));
    let app = layer(&[E::File("./app", 0o755, b"ELF")]);
    let contents = read(&oci(&config("65532:65532"), &[base, app])[..]).unwrap();
    assert_eq!(contents.os.as_ref().and_then(|os| os.pretty_name.as_deref()), Some("Distroless"));
    assert_eq!(contents.packages.names, ["base-files", "netbase", "tzdata"]);
    assert_eq!(contents.packages.count, 3);
    assert_eq!(contents.packages.databases, [PackageDb::DpkgStatusD]);
    assert!(contents.shell.is_empty() && contents.package_manager.is_empty() && contents.setuid.is_empty());
    assert!(contents.world_writable.is_empty());
    assert_eq!(contents.user, "65532:65532");
    assert!(!contents.runs_as_root);
    assert!(contents.limits_hit.is_empty(), "{:?}", contents.limits_hit);
}

#[test]
fn alpine_packages_busybox_and_apk() {
    let base = gzip(&layer(&[
        E::File("etc/os-release", 0o644, b"NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.3\n"),
        E::File("lib/apk/db/installed", 0o644, b"C:Q1abc\nP:musl\nV:1.2.5\n\nC:Q1def\nP:busybox\nV:1.36\n\nP:musl\n"),
        E::File("bin/busybox", 0o755, b"ELF"),
        E::Link("bin/sh", "/bin/busybox"),
        E::File("sbin/apk", 0o755, b"ELF"),
    ]));
    let contents = read(&classic(&config("root:root"), &[base])[..]).unwrap();
    assert_eq!(contents.os.and_then(|os| os.version_id), Some("3.20.3".into()));
    assert_eq!(contents.packages.names, ["busybox", "musl"]);
    assert_eq!(contents.packages.count, 3, "counted as listed, named once");
    assert_eq!(contents.packages.databases, [PackageDb::Apk]);
    assert_eq!(contents.shell, ["/bin/busybox", "/bin/sh"]);
    assert_eq!(contents.package_manager, ["/sbin/apk"]);
    assert!(contents.runs_as_root, "root:root is root");
}

#[test]
fn whiteouts_remove_files_and_opaque_directories_hide_lower_contents() {
    let lower = layer(&[
        E::File("usr/bin/su", 0o4755, b"ELF"),
        E::File("usr/bin/passwd", 0o4755, b"ELF"),
        E::File("opt/app/helper", 0o4755, b"ELF"),
        E::Dir("opt/app/cache", 0o777),
        E::File("bin/sh", 0o755, b"ELF"),
    ]);
    let upper = layer(&[
        E::File("usr/bin/.wh.su", 0o644, b""),
        E::File("usr/bin/passwd", 0o755, b"ELF"),
        E::File("opt/app/new", 0o4755, b"ELF"),
        E::File("opt/app/.wh..wh..opq", 0o644, b""),
        E::File("bin/.wh.sh", 0o644, b""),
    ]);
    let contents = read(&oci(&config("nobody"), &[lower, upper])[..]).unwrap();
    assert_eq!(contents.setuid, ["/opt/app/new"], "its own layer's opaque marker does not hide it");
    assert!(contents.world_writable.is_empty());
    assert!(contents.shell.is_empty());
}

#[test]
fn a_whiteout_of_a_whole_directory_removes_everything_under_it() {
    let upper = layer(&[E::File(".wh.var", 0o644, b""), E::Link("bin", "usr/bin"), E::File("usr/.wh.bin", 0o644, b"")]);
    let contents = read(&classic(&config(""), &[debian(), upper])[..]).unwrap();
    assert_eq!(contents.packages, Default::default());
    assert!(contents.shell.is_empty(), "bin replaced by a link hides the files under it: {:?}", contents.shell);
    assert!(contents.package_manager.is_empty() && contents.setuid.is_empty());
    assert_eq!(contents.world_writable, ["/srv/drop"]);
}

#[test]
fn a_repeated_layer_linked_in_the_classic_format_is_read() {
    let mut builder = tar::Builder::new(Vec::new());
    member(&mut builder, "a/layer.tar", &layer(&[E::File("usr/bin/su", 0o4755, b"ELF")]));
    member(&mut builder, "c.json", config("").as_bytes());
    let mut link = tar::Header::new_gnu();
    link.set_entry_type(tar::EntryType::Symlink);
    link.set_size(0);
    builder.append_link(&mut link, "b/layer.tar", "../a/layer.tar").unwrap();
    let manifest = r#"[{"Config":"c.json","Layers":["a/layer.tar","b/layer.tar"]}]"#;
    member(&mut builder, "manifest.json", manifest.as_bytes());
    let contents = read(&builder.into_inner().unwrap()[..]).unwrap();
    assert_eq!(contents.setuid, ["/usr/bin/su"]);
    assert!(contents.limits_hit.is_empty(), "{:?}", contents.limits_hit);
}

/// A tiny `rpmdb.sqlite` as RPM writes it: `Packages` (`hnum`, `blob`) and the `Name` index.
fn rpmdb(names: &[&str], with_index: bool) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rpmdb.sqlite");
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute_batch(
        "PRAGMA journal_mode = WAL;
         CREATE TABLE IF NOT EXISTS 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);
         CREATE TABLE IF NOT EXISTS 'Name' (key 'TEXT' NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL,
             FOREIGN KEY (hnum) REFERENCES 'Packages'(hnum));",
    )
    .unwrap();
    for name in names {
        db.execute("INSERT INTO Packages (blob) VALUES (x'0000000100000000')", []).unwrap();
        if with_index {
            db.execute("INSERT INTO Name (key, hnum, idx) VALUES (?1, last_insert_rowid(), 0)", [name]).unwrap();
        }
    }
    db.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    drop(db);
    std::fs::read(path).unwrap()
}

#[test]
fn rpm_sqlite_database_is_counted_and_named() {
    let db = rpmdb(&["bash", "glibc", "gpg-pubkey", "microdnf"], true);
    let base = layer(&[
        E::File("usr/lib/sysimage/rpm/rpmdb.sqlite", 0o644, &db),
        E::Link("var/lib/rpm", "../../usr/lib/sysimage/rpm"),
        E::File("usr/bin/microdnf", 0o755, b"ELF"),
    ]);
    let contents = read(&oci(&config("1001"), &[base])[..]).unwrap();
    assert_eq!(contents.packages.count, 3, "signing keys are no packages");
    assert_eq!(contents.packages.names, ["bash", "glibc", "microdnf"]);
    assert_eq!(contents.packages.databases, [PackageDb::RpmSqlite]);
    assert_eq!(contents.package_manager, ["/usr/bin/microdnf"]);

    let rows_only = layer(&[E::File("var/lib/rpm/rpmdb.sqlite", 0o644, &rpmdb(&["a", "b"], false))]);
    let contents = read(&oci(&config(""), &[rows_only])[..]).unwrap();
    assert_eq!((contents.packages.count, contents.packages.names.len()), (2, 0));
}

#[test]
fn a_broken_rpm_database_is_noted() {
    let base = layer(&[E::File("var/lib/rpm/rpmdb.sqlite", 0o644, b"not sqlite at all")]);
    let contents = read(&oci(&config(""), &[base])[..]).unwrap();
    assert_eq!(contents.packages.count, 0);
    assert!(
        contents.limits_hit.iter().any(|n| n.contains("/var/lib/rpm/rpmdb.sqlite is not read")),
        "{:?}",
        contents.limits_hit
    );
}

#[test]
fn diff_says_what_the_rewrite_dropped() {
    let before = read(&classic(&config(""), &[debian()])[..]).unwrap();
    let mut after = ImageContents::default();
    after.packages.names = vec!["base-files".into(), "tzdata".into()];
    after.packages.count = 2;
    let change = diff(&before, &after);
    assert_eq!(change.packages_removed, ["bash", "libc6"]);
    assert_eq!(change.packages_added, ["tzdata"]);
    assert_eq!((change.packages_before, change.packages_after), (3, 2));
    assert!(change.shell_gone && change.package_manager_gone);
    assert_eq!((change.setuid_before, change.setuid_after), (2, 0));
    assert!(!diff(&before, &before).shell_gone);
}

#[test]
fn a_stream_that_is_no_image_archive_is_an_error() {
    let err = read(&[0x42u8; 2048][..]).unwrap_err();
    assert!(matches!(err, ContentsError::NotAnArchive(_)), "{err}");
    let mut builder = tar::Builder::new(Vec::new());
    member(&mut builder, "hello.txt", b"hi");
    let err = read(&builder.into_inner().unwrap()[..]).unwrap_err();
    assert!(matches!(err, ContentsError::NotAnImage(_)), "{err}");
    assert!(err.to_string().contains("no manifest.json"), "{err}");
}
