//! The unpacker of a resource driver's `driverFiles` on any archive: never a panic; on
//! success a tree of plain files and directories inside its own directory, within the
//! limits; on a refusal nothing left in the parent directory; after the drop nothing at
//! all.
//!
//! The first byte chooses what the rest is: even, the bytes of a zip (base64-encoded here,
//! so the mutations reach the zip reader); odd, the `driverFiles` text itself (the base64
//! decoder and the whitespace it skips).
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;

/// Small limits: every refusal path is reachable with inputs of a few KiB, and a run
/// writes little.
const MAX_ENTRIES: usize = 64;
const MAX_SIZE: u64 = 1024 * 1024;

/// One parent directory per fuzzing process (left empty when it ends).
fn parent() -> &'static Path {
    static PARENT: OnceLock<PathBuf> = OnceLock::new();
    PARENT.get_or_init(|| {
        let parent =
            std::env::temp_dir().join(format!("ignition-fuzz-driver-files-{}", std::process::id()));
        std::fs::create_dir_all(&parent).expect("the fuzz parent directory");
        parent
    })
}

fn children(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .expect("readable")
        .map(|entry| entry.expect("an entry").path())
        .collect()
}

/// Every path under `dir`: (files and directories counted, bytes in files); panics on
/// anything that is neither.
fn tally(dir: &Path, nodes: &mut usize, bytes: &mut u64) {
    for path in children(dir) {
        let meta = std::fs::symlink_metadata(&path).expect("metadata");
        *nodes += 1;
        if meta.is_dir() {
            tally(&path, nodes, bytes);
        } else {
            assert!(meta.is_file(), "not a plain file: {}", path.display());
            *bytes += meta.len();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let encoded = if mode % 2 == 0 {
        base64::engine::general_purpose::STANDARD.encode(rest)
    } else {
        String::from_utf8_lossy(rest).into_owned()
    };
    let parent = parent();
    match ignition::__fuzz::unpack_driver_files(&encoded, MAX_ENTRIES, MAX_SIZE, parent) {
        Ok(files) => {
            assert_eq!(children(parent), [files.root().to_path_buf()], "one tree");
            let (mut nodes, mut bytes) = (0, 0);
            tally(files.root(), &mut nodes, &mut bytes);
            assert!(nodes <= MAX_ENTRIES, "{nodes} files and directories");
            assert!(bytes <= MAX_SIZE, "{bytes} bytes");
            let listed = files.files();
            assert!(listed.windows(2).all(|w| w[0] < w[1]), "sorted, unique");
            for relative in &listed {
                assert!(
                    !relative.starts_with('/')
                        && !relative.split('/').any(|p| p == ".." || p.is_empty())
                );
                let path = files.root().join(relative);
                assert!(std::fs::symlink_metadata(&path).expect("listed").is_file());
                // A listed file reads, or is refused as not UTF-8 — never anything else.
                if let Err(err) = files.read_to_string(relative) {
                    assert!(err.to_string().ends_with("is not UTF-8 text"), "{err}");
                }
            }
            let _ = format!("{files:?}");
            drop(files);
        }
        Err(err) => {
            let message = err.to_string();
            assert!(message.starts_with("driverFiles"), "{message}");
        }
    }
    assert!(
        children(parent).is_empty(),
        "left behind in {}",
        parent.display()
    );
});
