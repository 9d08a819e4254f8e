//! The unpacker against hostile archives made here, and the life of a [`DriverFiles`].
//!
//! Every refusal is checked three ways: the 400 names the reason and the entry, nothing
//! was written outside the parent directory the unpacker was given (a sandbox: the parent
//! sits inside a directory of the test's own, and for absolute names the target path is
//! checked too), and no temporary directory is left in the parent.

use std::io::{Cursor, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use base64::Engine as _;
use tempfile::TempDir;
use zip::result::ZipResult;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::{unpack_blocking, unpack_in, DriverFiles, DriverFilesLimits};
use crate::error::ResourceDriverError;

// ---- archives ----

type Writer = ZipWriter<Cursor<Vec<u8>>>;

/// A zip made by the `zip` crate's writer.
fn zip_with(build: impl FnOnce(&mut Writer) -> ZipResult<()>) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    build(&mut zip).unwrap();
    zip.finish().unwrap().into_inner()
}

fn stored() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(CompressionMethod::Stored)
}

fn deflated() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(CompressionMethod::Deflated)
}

/// Adds the file `name` with `contents`.
fn add(zip: &mut Writer, name: &str, contents: &[u8], options: SimpleFileOptions) -> ZipResult<()> {
    zip.start_file(name, options)?;
    zip.write_all(contents)?;
    Ok(())
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Rewrites fields of entry `name` where the writer refuses to make what a hostile archive
/// has: `central` gets the central directory header, `local` the local file header
/// (APPNOTE 4.3.12 and 4.3.7; offsets below are theirs).
fn patch(zip: &mut [u8], name: &str, central: impl Fn(&mut [u8]), local: impl Fn(&mut [u8])) {
    let mut at = 0;
    while let Some(found) = find(&zip[at..], b"PK\x01\x02") {
        let header = at + found;
        let u16_at = |zip: &[u8], i: usize| usize::from(u16::from_le_bytes([zip[i], zip[i + 1]]));
        let name_len = u16_at(zip, header + 28);
        let extra_len = u16_at(zip, header + 30);
        let comment_len = u16_at(zip, header + 32);
        if &zip[header + 46..header + 46 + name_len] == name.as_bytes() {
            let local_at = u32::from_le_bytes(zip[header + 42..header + 46].try_into().unwrap());
            let local_at = local_at as usize;
            assert_eq!(&zip[local_at..local_at + 4], b"PK\x03\x04");
            central(&mut zip[header..]);
            local(&mut zip[local_at..]);
            return;
        }
        at = header + 46 + name_len + extra_len + comment_len;
    }
    panic!("no entry {name:?} in the archive");
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Sets the unix mode (high 16 bits of the external attributes) of entry `name`: the
/// writer masks modes to their permission bits, so devices and FIFOs are made this way.
fn set_unix_mode(zip: &mut [u8], name: &str, mode: u32) {
    patch(
        zip,
        name,
        |central| {
            central[5] = 3; // made by: unix
            central[38..42].copy_from_slice(&(mode << 16).to_le_bytes());
        },
        |_| {},
    );
}

/// Makes entry `name` declare `size` bytes unpacked (a zip bomb's lie).
fn set_declared_size(zip: &mut [u8], name: &str, size: u32) {
    patch(
        zip,
        name,
        |central| central[24..28].copy_from_slice(&size.to_le_bytes()),
        |local| local[22..26].copy_from_slice(&size.to_le_bytes()),
    );
}

/// Sets entry `name`'s compression method (12 is bzip2).
fn set_method(zip: &mut [u8], name: &str, method: u16) {
    patch(
        zip,
        name,
        |central| central[10..12].copy_from_slice(&method.to_le_bytes()),
        |local| local[8..10].copy_from_slice(&method.to_le_bytes()),
    );
}

/// Marks entry `name` encrypted (general purpose flag bit 0).
fn set_encrypted(zip: &mut [u8], name: &str) {
    patch(zip, name, |central| central[8] |= 1, |local| local[6] |= 1);
}

// ---- the sandbox ----

/// A parent directory for the unpacker inside a directory of the test's own, so that a
/// write beside the parent (`../x`) would show.
struct Sandbox {
    outer: TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let outer = tempfile::tempdir().unwrap();
        std::fs::create_dir(outer.path().join("parent")).unwrap();
        Self { outer }
    }

    fn parent(&self) -> PathBuf {
        self.outer.path().join("parent")
    }

    /// Everything in the sandbox but the parent directory itself, recursively.
    fn contents(&self) -> Vec<String> {
        let mut found = Vec::new();
        walk(self.outer.path(), self.outer.path(), &mut found);
        found.retain(|path| path != "parent");
        found.sort();
        found
    }

    /// The directories the unpacker made in the parent.
    fn trees(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.parent())
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect()
    }

    fn assert_empty(&self, context: &str) {
        assert_eq!(
            self.contents(),
            Vec::<String>::new(),
            "left behind: {context}"
        );
    }
}

/// Drops `files` and waits for its removal (on the blocking pool, inside a runtime), as
/// the service does before it answers.
async fn dropped(files: DriverFiles) {
    let removal = files.removal();
    drop(files);
    removal.settled().await;
}

fn walk(root: &Path, dir: &Path, found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        found.push(path.strip_prefix(root).unwrap().display().to_string());
        if entry.file_type().unwrap().is_dir() {
            walk(root, &path, found);
        }
    }
}

fn small_limits() -> DriverFilesLimits {
    DriverFilesLimits {
        max_entries: 20,
        max_size: 1024 * 1024,
    }
}

/// Unpacks `encoded` into a fresh sandbox: the 400's message, after checking that the
/// refusal left nothing anywhere in the sandbox.
async fn refused_text(encoded: String, limits: DriverFilesLimits) -> String {
    let sandbox = Sandbox::new();
    let result = unpack_in(encoded, limits, sandbox.parent()).await;
    sandbox.assert_empty("after a refusal");
    match result {
        Err(ResourceDriverError::InvalidDriverFiles(message)) => {
            assert!(message.starts_with("driverFiles"), "{message}");
            message
        }
        other => panic!("expected InvalidDriverFiles, got {other:?}"),
    }
}

async fn refused(zip: &[u8], limits: DriverFilesLimits) -> String {
    refused_text(b64(zip), limits).await
}

async fn unpacked(sandbox: &Sandbox, zip: &[u8]) -> DriverFiles {
    unpack_in(b64(zip), small_limits(), sandbox.parent())
        .await
        .unwrap()
}

#[cfg(unix)]
fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

// ---- what is accepted ----

#[tokio::test]
async fn a_tree_of_files_and_directories_is_unpacked_and_removed_on_drop() {
    let zip = zip_with(|zip| {
        add(zip, "README.md", b"# scripts\n", deflated())?;
        zip.add_directory("scripts/", stored())?;
        add(
            zip,
            "scripts/install.sh",
            b"#!/bin/sh\necho install\n",
            deflated().unix_permissions(0o755),
        )?;
        add(
            zip,
            "scripts/lib/common.sh",
            b"x=1\n",
            stored().unix_permissions(0o644),
        )?;
        add(zip, "./config//site.yaml", b"site: a\n", deflated())?;
        zip.add_directory("empty", stored())?;
        add(zip, "binary.bin", &[0, 159, 146, 150], stored())
    });
    let sandbox = Sandbox::new();
    let files = unpacked(&sandbox, &zip).await;

    assert_eq!(
        files.files(),
        [
            "README.md",
            "binary.bin",
            "config/site.yaml",
            "scripts/install.sh",
            "scripts/lib/common.sh"
        ]
    );
    assert_eq!(
        files.read_to_string("scripts/install.sh").unwrap(),
        "#!/bin/sh\necho install\n"
    );
    assert_eq!(
        files.read_to_string("./config/site.yaml").unwrap(),
        "site: a\n"
    );
    assert_eq!(
        std::fs::read(files.root().join("binary.bin")).unwrap(),
        [0, 159, 146, 150]
    );
    assert!(files.root().join("empty").is_dir());
    assert_eq!(sandbox.trees(), [files.root().to_path_buf()]);
    assert!(files
        .root()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("ignition-driver-files-"));
    #[cfg(unix)]
    {
        assert_eq!(mode_of(files.root()), 0o700);
        assert_eq!(mode_of(&files.root().join("scripts")), 0o700);
        assert_eq!(mode_of(&files.root().join("scripts/install.sh")), 0o700);
        assert_eq!(mode_of(&files.root().join("scripts/lib/common.sh")), 0o600);
        assert_eq!(mode_of(&files.root().join("README.md")), 0o600);
    }
    let debug = format!("{files:?}");
    assert!(
        debug.contains("files: 5") && !debug.contains("install"),
        "{debug}"
    );

    dropped(files).await;
    sandbox.assert_empty("after the drop");
}

#[tokio::test]
async fn an_empty_archive_is_an_empty_directory() {
    let zip = zip_with(|_| Ok(()));
    assert_eq!(zip.len(), 22, "just the end of central directory record");
    let sandbox = Sandbox::new();
    let files = unpacked(&sandbox, &zip).await;
    assert_eq!(files.files(), Vec::<String>::new());
    assert_eq!(std::fs::read_dir(files.root()).unwrap().count(), 0);
    dropped(files).await;
    sandbox.assert_empty("after the drop");
}

#[tokio::test]
async fn line_wrapped_base64_is_read() {
    let zip = zip_with(|zip| add(zip, "a.txt", &[b'a'; 200], stored()));
    let wrapped: String = b64(&zip)
        .as_bytes()
        .chunks(76)
        .map(|line| format!("{}\r\n", std::str::from_utf8(line).unwrap()))
        .collect();
    assert!(wrapped.lines().count() > 3);
    let sandbox = Sandbox::new();
    let files = unpack_in(format!("  {wrapped}\t"), small_limits(), sandbox.parent())
        .await
        .unwrap();
    assert_eq!(files.read_to_string("a.txt").unwrap(), "a".repeat(200));
}

#[tokio::test]
async fn limits_are_inclusive() {
    // 20 entries (the limit), 1 MiB in all (the limit).
    let zip = zip_with(|zip| {
        for i in 0..19 {
            add(zip, &format!("f{i}"), b"", stored())?;
        }
        add(zip, "big", &vec![7u8; 1024 * 1024], deflated())
    });
    let sandbox = Sandbox::new();
    let files = unpacked(&sandbox, &zip).await;
    assert_eq!(files.files().len(), 20);
    assert_eq!(
        std::fs::metadata(files.root().join("big")).unwrap().len(),
        1024 * 1024
    );
}

#[cfg(unix)]
#[tokio::test]
async fn the_zip_and_base64_commands_make_what_is_read() {
    // A real `zip -r` + `base64` pipeline (wrapped at 76 columns), as a package is made by
    // hand; skipped where the commands are missing (the writer's archives are tested above).
    // (Into a file: `zip` cannot write stored entries to a pipe.)
    let have = |command: &str| {
        std::process::Command::new(command)
            .arg("--help")
            .output()
            .is_ok_and(|out| out.status.success())
    };
    if !have("zip") || !have("base64") {
        eprintln!("skipped: no `zip` or `base64` command");
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let package = work.path().join("ansible");
    std::fs::create_dir_all(package.join("config/host_vars")).unwrap();
    std::fs::create_dir_all(package.join("scripts")).unwrap();
    std::fs::write(package.join("scripts/Install.yaml"), "- hosts: all\n").unwrap();
    std::fs::write(package.join("config/inventory"), "[all]\nlocalhost\n").unwrap();
    std::fs::write(package.join("config/host_vars/localhost.yml"), "a: 1\n").unwrap();
    let run = |script: &str| {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .current_dir(&package)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let encoded = run("zip -q -r ../package.zip . && base64 ../package.zip");
    assert!(encoded.contains('\n'));

    let sandbox = Sandbox::new();
    let files = unpack_in(encoded, DriverFilesLimits::default(), sandbox.parent())
        .await
        .unwrap();
    assert_eq!(
        files.files(),
        [
            "config/host_vars/localhost.yml",
            "config/inventory",
            "scripts/Install.yaml"
        ]
    );
    assert_eq!(
        files.read_to_string("config/inventory").unwrap(),
        "[all]\nlocalhost\n"
    );
    dropped(files).await;
    sandbox.assert_empty("after the drop");

    // `zip -y` stores a symbolic link as a link: refused, naming it.
    std::os::unix::fs::symlink("/etc/passwd", package.join("config/passwd")).unwrap();
    let encoded =
        run("rm ../package.zip && zip -q -r -y ../package.zip . && base64 ../package.zip");
    let message = refused_text(encoded, DriverFilesLimits::default()).await;
    assert_eq!(
        message,
        "driverFiles: entry `config/passwd` is a symbolic link"
    );
}

// ---- what is refused ----

#[tokio::test]
async fn names_that_leave_the_directory_are_refused() {
    for (name, reason) in [
        ("../escaped.txt", "escapes the driver's directory (`..`)"),
        (
            "a/../../escaped.txt",
            "escapes the driver's directory (`..`)",
        ),
        (r"..\escaped.txt", "escapes the driver's directory (`..`)"),
        ("a/../b.txt", "escapes the driver's directory (`..`)"),
        (r"C:\escaped.txt", "is an absolute path"),
    ] {
        let zip = zip_with(|zip| {
            add(zip, "ok.txt", b"fine", stored())?;
            add(zip, name, b"pwned", stored())
        });
        let message = refused(&zip, small_limits()).await;
        assert_eq!(message, format!("driverFiles: entry `{name}` {reason}"));
    }
}

#[tokio::test]
async fn absolute_names_are_refused_and_nothing_is_written_there() {
    let target = tempfile::tempdir().unwrap();
    let absolute = target.path().join("pwned.txt");
    let name = absolute.to_str().unwrap().to_owned();
    let zip = zip_with(|zip| add(zip, &name, b"pwned", stored()));
    let message = refused(&zip, small_limits()).await;
    assert_eq!(
        message,
        format!("driverFiles: entry `{name}` is an absolute path")
    );
    assert!(!absolute.exists());
    assert_eq!(std::fs::read_dir(target.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn symlinks_devices_fifos_and_sockets_are_refused() {
    let zip = zip_with(|zip| {
        add(zip, "ok.txt", b"fine", stored())?;
        zip.add_symlink("link", "/etc/passwd", stored())
    });
    assert_eq!(
        refused(&zip, small_limits()).await,
        "driverFiles: entry `link` is a symbolic link"
    );

    // A link to a directory, then a file "through" it: the link is refused first.
    let zip = zip_with(|zip| {
        zip.add_symlink("etc", "/etc", stored())?;
        add(zip, "etc/pwned", b"pwned", stored())
    });
    assert_eq!(
        refused(&zip, small_limits()).await,
        "driverFiles: entry `etc` is a symbolic link"
    );

    for (mode, reason) in [
        (0o020_644, "is a device"),
        (0o060_644, "is a device"),
        (0o010_644, "is a FIFO (named pipe)"),
        (0o140_644, "is a socket"),
        (0o170_644, "has an unknown file type (mode 170000)"),
    ] {
        let mut zip = zip_with(|zip| {
            add(zip, "ok.txt", b"fine", stored())?;
            add(zip, "special", b"", stored())
        });
        set_unix_mode(&mut zip, "special", mode);
        assert_eq!(
            refused(&zip, small_limits()).await,
            format!("driverFiles: entry `special` {reason}"),
            "mode {mode:o}"
        );
    }
}

#[tokio::test]
async fn too_many_entries_are_refused_before_anything_is_written() {
    // The default limit: 10 000 entries; the 10 001st is named.
    let zip = zip_with(|zip| {
        for i in 0..10_001 {
            add(zip, &format!("f{i:05}"), b"", stored())?;
        }
        Ok(())
    });
    assert_eq!(
        refused(&zip, DriverFilesLimits::default()).await,
        "driverFiles: entry `f10000` is past the limit of 10000 entries \
         (resource_driver.driver_files.max_entries): the archive has 10001"
    );
}

#[tokio::test]
async fn directories_implied_by_deep_names_count_as_entries() {
    // 2 entries, but 21 directories and files: more than a limit of 20.
    let deep = (0..20)
        .map(|i| format!("d{i}"))
        .collect::<Vec<_>>()
        .join("/")
        + "/file";
    let zip = zip_with(|zip| {
        add(zip, "ok.txt", b"fine", stored())?;
        add(zip, &deep, b"deep", stored())
    });
    assert_eq!(
        refused(&zip, small_limits()).await,
        format!(
            "driverFiles: entry `{deep}` makes more than 20 files and directories \
             (resource_driver.driver_files.max_entries)"
        )
    );
}

#[tokio::test]
async fn a_zip_bomb_is_stopped_at_the_limit_whatever_it_declares() {
    // 4 MiB of zeros deflate to some 4 KiB; the header says 100 bytes. (Small for a bomb,
    // to be quick in a debug build; what counts is that it is past the 1 MiB limit.)
    let mut zip = zip_with(|zip| {
        add(zip, "ok.txt", b"fine", stored())?;
        add(
            zip,
            "bomb",
            &vec![0u8; 4 * 1024 * 1024],
            deflated().compression_level(Some(1)),
        )
    });
    assert!(zip.len() < 64 * 1024, "{}", zip.len());
    set_declared_size(&mut zip, "bomb", 100);
    assert_eq!(
        refused(&zip, small_limits()).await,
        "driverFiles: entry `bomb` takes the unpacked size past the limit of 1 MiB \
         (resource_driver.driver_files.max_size)"
    );
}

#[tokio::test]
async fn the_limit_counts_all_files_together() {
    // Two files of 600 KiB: each under 1 MiB, together over it (declared honestly, so
    // refused before anything is written).
    let zip = zip_with(|zip| {
        add(zip, "one", &vec![1u8; 600 * 1024], deflated())?;
        add(zip, "two", &vec![2u8; 600 * 1024], deflated())
    });
    assert_eq!(
        refused(&zip, small_limits()).await,
        "driverFiles: entry `two` takes the unpacked size past the limit of 1 MiB \
         (resource_driver.driver_files.max_size): the archive declares 1228800 bytes"
    );

    // The same with both sizes understated: caught while writing the second.
    let mut zip = zip;
    set_declared_size(&mut zip, "one", 10);
    set_declared_size(&mut zip, "two", 10);
    assert_eq!(
        refused(&zip, small_limits()).await,
        "driverFiles: entry `two` takes the unpacked size past the limit of 1 MiB \
         (resource_driver.driver_files.max_size)"
    );
}

#[tokio::test]
async fn a_file_and_a_directory_of_one_name_or_one_file_twice_are_refused() {
    let cases: [(&[&str], &str); 4] = [
        (
            &["a", "a/b"],
            "driverFiles: entry `a/b` needs `a` to be a directory, but entry `a` is a file",
        ),
        (
            &["a/b", "a"],
            "driverFiles: entry `a` names the directory `a` of entry `a/b` as a file",
        ),
        (
            &["x/y", "x//y"],
            "driverFiles: entry `x//y` names the same file as entry `x/y`",
        ),
        (
            &["x/y", r"x\y"],
            r"driverFiles: entry `x\y` names the same file as entry `x/y`",
        ),
    ];
    for (names, message) in cases {
        let zip = zip_with(|zip| {
            for name in names {
                add(zip, name, b"data", stored())?;
            }
            Ok(())
        });
        assert_eq!(refused(&zip, small_limits()).await, message);
    }
    // A directory given twice (explicitly, and implied by a file) is fine.
    let zip = zip_with(|zip| {
        add(zip, "d/f", b"data", stored())?;
        zip.add_directory("d/", stored())?;
        zip.add_directory("./d", stored())
    });
    let sandbox = Sandbox::new();
    assert_eq!(unpacked(&sandbox, &zip).await.files(), ["d/f"]);
}

#[tokio::test]
async fn encrypted_and_unsupported_entries_are_refused() {
    let mut zip = zip_with(|zip| add(zip, "secret", b"data", stored()));
    set_encrypted(&mut zip, "secret");
    assert_eq!(
        refused(&zip, small_limits()).await,
        "driverFiles: entry `secret` is encrypted"
    );

    let mut zip = zip_with(|zip| add(zip, "packed", b"data", stored()));
    set_method(&mut zip, "packed", 12);
    let message = refused(&zip, small_limits()).await;
    assert!(
        message.starts_with("driverFiles: entry `packed` ")
            && message.contains("only stored and deflated entries are read"),
        "{message}"
    );
}

#[tokio::test]
async fn corrupt_contents_are_refused_naming_the_entry() {
    let contents = b"the original contents of a stored file";
    let mut zip = zip_with(|zip| {
        add(zip, "ok.txt", b"fine", stored())?;
        add(zip, "damaged.txt", contents, stored())
    });
    let at = find(&zip, contents).unwrap();
    zip[at] ^= 0xff; // the CRC no longer matches
    let message = refused(&zip, small_limits()).await;
    assert!(
        message.starts_with("driverFiles: entry `damaged.txt` is corrupt: "),
        "{message}"
    );
}

#[tokio::test]
async fn what_is_not_base64_or_not_a_zip_is_refused() {
    let zip = zip_with(|zip| add(zip, "a", b"a", stored()));
    let url_safe = b64(&[0xfb, 0xff]).replace('+', "-").replace('/', "_");
    let unpadded = b64(&zip).trim_end_matches('=').to_owned();
    assert_ne!(
        unpadded,
        b64(&zip),
        "the test needs an archive whose base64 is padded"
    );
    for (text, starts) in [
        (
            "",
            "driverFiles is empty: expected the base64 of a zip archive",
        ),
        (" \n", "driverFiles is empty"),
        (
            "not base64!",
            "driverFiles is not base64 (standard alphabet, padded; whitespace skipped)",
        ),
        (url_safe.as_str(), "driverFiles is not base64"),
        (unpadded.as_str(), "driverFiles is not base64"),
        ("aGVsbG8gd29ybGQ=", "driverFiles is not a zip archive: "),
    ] {
        let message = refused_text(text.to_owned(), small_limits()).await;
        assert!(message.starts_with(starts), "{text:?}: {message}");
    }
    let mut truncated = zip.clone();
    truncated.truncate(zip.len() - 10);
    let message = refused(&truncated, small_limits()).await;
    assert!(
        message.starts_with("driverFiles is not a zip archive: "),
        "{message}"
    );
}

#[tokio::test]
async fn names_are_shown_with_control_characters_escaped() {
    let zip = zip_with(|zip| add(zip, "../\x1b[2Jevil\n", b"x", stored()));
    assert_eq!(
        refused(&zip, small_limits()).await,
        r"driverFiles: entry `../\u{1b}[2Jevil\n` escapes the driver's directory (`..`)"
    );
}

// ---- read_to_string ----

#[tokio::test]
async fn read_to_string_refuses_what_it_cannot_read_naming_it() {
    let zip = zip_with(|zip| {
        add(zip, "scripts/ok.sh", b"ok", stored())?;
        add(zip, "latin1.txt", &[0xe9, 0x74, 0xe9], stored())
    });
    let sandbox = Sandbox::new();
    let files = unpacked(&sandbox, &zip).await;
    // A file beside the tree, which no path may reach.
    std::fs::write(sandbox.parent().join("secret"), "secret").unwrap();

    for (relative, message) in [
        (
            "scripts/missing.sh",
            "driverFiles: no file `scripts/missing.sh` in the driver's files",
        ),
        (
            "../secret",
            "driverFiles: `../secret` escapes the driver's directory (`..`)",
        ),
        (
            "scripts/../../secret",
            "driverFiles: `scripts/../../secret` escapes the driver's directory (`..`)",
        ),
        (
            "/etc/passwd",
            "driverFiles: `/etc/passwd` is an absolute path",
        ),
        ("latin1.txt", "driverFiles: `latin1.txt` is not UTF-8 text"),
        ("", "driverFiles: `` names no file"),
        ("./", "driverFiles: `./` names no file"),
    ] {
        assert_eq!(
            files.read_to_string(relative),
            Err(ResourceDriverError::InvalidDriverFiles(message.to_owned())),
            "{relative:?}"
        );
    }
    let message = files.read_to_string("scripts").unwrap_err().to_string();
    assert!(
        message.starts_with("driverFiles: cannot read `scripts`: "),
        "{message}"
    );
}

// ---- the directory's life ----

#[tokio::test]
async fn the_directory_goes_when_the_future_holding_it_panics() {
    let sandbox = Sandbox::new();
    let files = unpacked(&sandbox, &zip_with(|zip| add(zip, "a", b"a", stored()))).await;
    assert_eq!(sandbox.trees().len(), 1);
    let removal = files.removal();
    let call = tokio::spawn(async move {
        let _files = files;
        tokio::task::yield_now().await;
        panic!("the driver's call panicked");
    });
    assert!(call.await.unwrap_err().is_panic());
    removal.settled().await;
    sandbox.assert_empty("after the panic");
}

#[tokio::test]
async fn the_directory_goes_when_the_future_holding_it_is_dropped_midway() {
    let sandbox = Sandbox::new();
    let files = unpacked(&sandbox, &zip_with(|zip| add(zip, "a", b"a", stored()))).await;
    let removal = files.removal();
    let (started, started_rx) = tokio::sync::oneshot::channel();
    let call = async move {
        let _files = files;
        let _ = started.send(());
        std::future::pending::<()>().await;
    };
    // A call timeout, or a client that went away: the future is dropped where it waits.
    let timed_out = tokio::time::timeout(Duration::from_millis(50), async {
        tokio::join!(call, async { started_rx.await.unwrap() })
    })
    .await;
    assert!(timed_out.is_err());
    removal.settled().await;
    sandbox.assert_empty("after the cancellation");
}

#[tokio::test]
async fn a_large_tree_dropped_on_a_runtime_is_removed_and_waited_for() {
    let zip = zip_with(|zip| {
        for i in 0..500 {
            add(zip, &format!("dir{}/file{i}", i % 10), b"x", stored())?;
        }
        Ok(())
    });
    let sandbox = Sandbox::new();
    let limits = DriverFilesLimits {
        max_entries: 1000,
        ..small_limits()
    };
    let files = unpack_in(b64(&zip), limits, sandbox.parent())
        .await
        .unwrap();
    assert_eq!(files.files().len(), 500);
    dropped(files).await;
    sandbox.assert_empty("after the drop of a large tree");
}

#[tokio::test]
async fn files_the_driver_keeps_are_not_waited_for() {
    let sandbox = Sandbox::new();
    let files = unpacked(&sandbox, &zip_with(|zip| add(zip, "a", b"a", stored()))).await;
    let removal = files.removal();
    // Still alive (kept past the call, in a task of the driver's own): no wait.
    tokio::time::timeout(Duration::from_secs(10), removal.settled())
        .await
        .expect("settled at once");
    assert_eq!(files.read_to_string("a").unwrap(), "a");
    dropped(files).await;
    sandbox.assert_empty("after the drop");
}

#[test]
fn files_dropped_outside_a_runtime_are_removed_at_once() {
    let zip = zip_with(|zip| {
        for i in 0..200 {
            add(zip, &format!("file{i}"), b"x", stored())?;
        }
        Ok(())
    });
    let sandbox = Sandbox::new();
    let limits = DriverFilesLimits {
        max_entries: 1000,
        ..small_limits()
    };
    let files = unpack_blocking(
        &b64(&zip),
        limits,
        &sandbox.parent(),
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(files.files().len(), 200);
    drop(files);
    sandbox.assert_empty("right after the drop");
}

#[test]
fn a_stopped_unpacking_leaves_nothing() {
    let zip = zip_with(|zip| add(zip, "a", b"a", stored()));
    let sandbox = Sandbox::new();
    let result = unpack_blocking(
        &b64(&zip),
        small_limits(),
        &sandbox.parent(),
        &AtomicBool::new(true),
    );
    assert!(
        matches!(result, Err(ResourceDriverError::Internal(_))),
        "{result:?}"
    );
    sandbox.assert_empty("after a stop");
}

#[test]
fn an_unpacking_whose_caller_went_away_leaves_nothing() {
    // 4 MiB to decode and write: the caller stops waiting long before (or, on a loaded
    // machine, maybe after) it is done; either way nothing may stay. Dropping the runtime
    // waits for its blocking tasks, so the unpacker has finished when the sandbox is
    // looked at.
    let zip = zip_with(|zip| add(zip, "big", &vec![0u8; 4 * 1024 * 1024], stored()));
    let sandbox = Sandbox::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let encoded = b64(&zip);
    let gave_up = runtime.block_on(async {
        let unpacking = unpack_in(encoded, DriverFilesLimits::default(), sandbox.parent());
        tokio::time::timeout(Duration::from_millis(1), unpacking).await
    });
    assert!(gave_up.is_err(), "the unpacking took less than 1 ms");
    drop(runtime);
    sandbox.assert_empty("after the caller went away");
}

#[tokio::test]
async fn an_unusable_parent_is_an_internal_error_not_a_400() {
    let sandbox = Sandbox::new();
    let missing = sandbox.parent().join("missing");
    let zip = zip_with(|zip| add(zip, "a", b"a", stored()));
    let result = unpack_in(b64(&zip), small_limits(), missing).await;
    match result {
        Err(ResourceDriverError::Internal(message)) => {
            assert!(
                message.starts_with("driverFiles: cannot create a temporary directory in "),
                "{message}"
            )
        }
        other => panic!("expected Internal, got {other:?}"),
    }
    sandbox.assert_empty("after the failure");
}

#[test]
fn driver_files_can_move_between_threads() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<DriverFiles>();
}
