//! What the spool's tests share: directories, sample messages, and write-then-reopen.

use std::fs;
use std::path::{Path, PathBuf};

use super::{Message, Spool, SpoolLimits, Ticket};

/// Bounds no test reaches unless it means to.
pub(super) const ROOMY: SpoolLimits = SpoolLimits {
    max_bytes: 1 << 30,
    max_records: 1_000_000,
};

/// A segment written by the spool before its checksum came from `crc32fast` (commit
/// c81f5ec, a hand-written CRC-32 table), its preallocated zeros cut to 25: [`message`]s 0
/// to 5 (seq 1 to 6), then [`odd_one`] (seq 7), then the removals of seq 6 and 3.
pub(super) const WRITTEN_BEFORE: &[u8] = include_bytes!("testdata/segment-before-crc32fast.seg");

/// The message of seq 7 in [`WRITTEN_BEFORE`]: another topic, no key, a payload holding
/// the magic and zeros.
pub(super) fn odd_one() -> Message {
    Message {
        topic: "events".into(),
        key: None,
        payload: b"\0\xffIGSP\0\0".to_vec(),
        headers: Vec::new(),
    }
}

/// A directory of its own under the temporary directory (not created).
pub(super) fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ignition-spool-test-{name}-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    let _ = fs::remove_dir_all(&dir);
    dir
}

/// The segment files of `dir`, oldest first.
pub(super) fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    files.sort();
    files
}

/// Message `i`: with a key when `i` is even, with record headers when `i % 3 == 1`.
pub(super) fn message(i: usize) -> Message {
    Message {
        topic: "jobs".into(),
        key: (i % 2 == 0).then(|| format!("key-{i}")),
        payload: format!("payload {i}").into_bytes(),
        // Every third one with record headers (a trace context), the others without.
        headers: if i % 3 == 1 {
            vec![
                ("X-Tracectx-TransactionId".into(), format!("t-{i}")),
                ("X-Tracectx-ProcessId".into(), "p é".into()),
            ]
        } else {
            Vec::new()
        },
    }
}

/// A message on `jobs` with no key and no headers.
pub(super) fn plain(payload: &[u8]) -> Message {
    Message {
        topic: "jobs".into(),
        key: None,
        payload: payload.to_vec(),
        headers: Vec::new(),
    }
}

/// Writes messages `0..count` (kept) to a new spool in `dir` and closes it: its
/// segment's path.
pub(super) async fn spool_of(dir: &Path, count: usize) -> PathBuf {
    let (spool, _) = Spool::open(dir, ROOMY).unwrap();
    for i in 0..count {
        let _kept = append(&spool, &message(i)).await;
    }
    drop(spool);
    segments(dir).pop().unwrap()
}

/// Reopens `dir`: what it holds must be `expected`, in order; then removes `dir`.
pub(super) fn assert_reopens_with(dir: &Path, expected: &[usize]) {
    let (spool, left) = Spool::open(dir, ROOMY).unwrap();
    let got: Vec<_> = left.into_iter().map(|(_, m)| m).collect();
    assert_eq!(
        got,
        expected.iter().copied().map(message).collect::<Vec<_>>()
    );
    drop(spool);
    fs::remove_dir_all(dir).unwrap();
}

/// Appends `m`, which must be taken.
pub(super) async fn append(spool: &Spool, m: &Message) -> Ticket {
    spool.append(m).await.expect("appended")
}
