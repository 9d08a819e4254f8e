//! Hostile `driverFiles`, as an attacker (or a broken packager) would send them: each a
//! name, the base64 text, and what the 400 must say.

use std::io::{Cursor, Write};

use base64::Engine as _;
use zip::result::ZipResult;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

type Writer = ZipWriter<Cursor<Vec<u8>>>;

/// One hostile archive.
pub(super) struct Hostile {
    /// What it tries.
    pub(super) name: &'static str,
    /// The request's `driverFiles`.
    pub(super) driver_files: String,
    /// Words the 400's message must have (the entry, the reason).
    pub(super) says: Vec<String>,
}

/// A zip made by the `zip` crate's writer (which writes names as it is given them).
fn zip_with(build: impl FnOnce(&mut Writer) -> ZipResult<()>) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    build(&mut zip).expect("a zip in memory");
    zip.finish().expect("a zip in memory").into_inner()
}

fn deflated() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(CompressionMethod::Deflated)
}

fn add(zip: &mut Writer, name: &str, contents: &[u8]) -> ZipResult<()> {
    zip.start_file(name, deflated())?;
    zip.write_all(contents)?;
    Ok(())
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Makes entry `name` declare `size` bytes unpacked, in its central directory header and
/// its local header (APPNOTE 4.3.12 and 4.3.7): a zip bomb's lie, which the writer will
/// not tell.
fn lie_about_size(zip: &mut [u8], name: &str, size: u32) {
    let find =
        |haystack: &[u8], needle: &[u8]| haystack.windows(needle.len()).position(|w| w == needle);
    let u16_at = |zip: &[u8], i: usize| usize::from(u16::from_le_bytes([zip[i], zip[i + 1]]));
    let mut at = 0;
    while let Some(found) = find(&zip[at..], b"PK\x01\x02") {
        let header = at + found;
        let name_len = u16_at(zip, header + 28);
        if &zip[header + 46..header + 46 + name_len] == name.as_bytes() {
            let local = u32::from_le_bytes(zip[header + 42..header + 46].try_into().unwrap());
            let local = local as usize;
            assert_eq!(&zip[local..local + 4], b"PK\x03\x04");
            zip[header + 24..header + 28].copy_from_slice(&size.to_le_bytes());
            zip[local + 22..local + 26].copy_from_slice(&size.to_le_bytes());
            return;
        }
        at = header + 46 + name_len + u16_at(zip, header + 30) + u16_at(zip, header + 32);
    }
    panic!("no entry {name:?}");
}

/// Every hostile archive; `outside` is a path outside the temporary directory that an
/// absolute entry names (the test checks nothing appears there), `bomb_bytes` how much a
/// bomb's entry inflates to (past the server's `max_size`).
pub(super) fn hostile_archives(outside: &str, bomb_bytes: usize) -> Vec<Hostile> {
    let one = |name: &'static str, entry: &str, says: &[&str]| Hostile {
        name,
        driver_files: b64(&zip_with(|zip| {
            add(zip, "scripts/Install.sh", b"echo fine\n")?;
            add(zip, entry, b"escaped\n")
        })),
        says: says.iter().map(|s| s.to_string()).collect(),
    };
    let mut archives = vec![
        one(
            "zip-slip",
            "../../escaped.txt",
            &["`../../escaped.txt`", "escapes"],
        ),
        one(
            "zip-slip below a directory",
            "scripts/../../../escaped.txt",
            &["`scripts/../../../escaped.txt`", "escapes"],
        ),
        one(
            "zip-slip with backslashes",
            r"..\..\escaped.txt",
            &[r"`..\..\escaped.txt`", "escapes"],
        ),
        one("an absolute path", outside, &[outside, "absolute"]),
        one(
            "a Windows drive",
            r"C:\escaped.txt",
            &[r"`C:\escaped.txt`", "absolute"],
        ),
    ];
    archives.push(Hostile {
        name: "a symbolic link out, and a file through it",
        driver_files: b64(&zip_with(|zip| {
            zip.add_symlink("scripts", "/etc", deflated())?;
            add(zip, "scripts/escaped.txt", b"escaped\n")
        })),
        says: vec!["`scripts`".into(), "symbolic link".into()],
    });
    archives.push(Hostile {
        name: "one entry more than resource_driver.driver_files.max_entries (10 000)",
        driver_files: b64(&zip_with(|zip| {
            for i in 0..10_001 {
                add(zip, &format!("f/{i}"), b"")?;
            }
            Ok(())
        })),
        says: vec!["`f/10000`".into(), "max_entries".into()],
    });
    let bomb = || {
        zip_with(|zip| {
            add(zip, "scripts/Install.sh", b"echo fine\n")?;
            zip.start_file("bomb.bin", deflated().compression_level(Some(1)))?;
            zip.write_all(&vec![0u8; bomb_bytes])?;
            Ok(())
        })
    };
    let honest = bomb();
    assert!(
        honest.len() * 100 < bomb_bytes,
        "a bomb: {} bytes",
        honest.len()
    );
    archives.push(Hostile {
        name: "a zip bomb that declares its size",
        driver_files: b64(&honest),
        says: vec!["`bomb.bin`".into(), "max_size".into()],
    });
    let mut lying = bomb();
    lie_about_size(&mut lying, "bomb.bin", 100);
    archives.push(Hostile {
        name: "a zip bomb that declares 100 bytes",
        driver_files: b64(&lying),
        says: vec!["`bomb.bin`".into(), "max_size".into()],
    });
    archives.push(Hostile {
        name: "not base64",
        driver_files: "UEsDBBQ*not-base64*".into(),
        says: vec!["not base64".into()],
    });
    archives.push(Hostile {
        name: "not a zip",
        driver_files: b64(b"#!/bin/sh\necho this is a script, not a zip\n"),
        says: vec!["not a zip".into()],
    });
    archives
}
