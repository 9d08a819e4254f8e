//! Reading a spool directory at open: every segment, oldest first, folded into the
//! messages still pending (a message without its removal), in the order they were
//! written. Forgiving: a record that does not check out is skipped with a WARN (a torn
//! tail after a crash mid-write, a bad disk) and never stops start-up.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use super::record::{scan, Message, Record};
use super::writer::{segment_id, segment_path, Segments};
use super::SpoolError;

/// What a spool directory holds.
#[derive(Debug)]
pub(super) struct Replayed {
    /// The messages pending, oldest first, with their sequence numbers.
    pub(super) left: Vec<(u64, Message)>,
    /// The segment files and where each pending message is.
    pub(super) segments: Segments,
    /// Past every sequence number seen.
    pub(super) next_seq: u64,
}

/// Reads the segments of `dir`.
pub(super) fn replay(dir: &Path) -> Result<Replayed, SpoolError> {
    let mut ids = Vec::new();
    for entry in fs::read_dir(dir).map_err(SpoolError::io(dir, "cannot list it"))? {
        let entry = entry.map_err(SpoolError::io(dir, "cannot list it"))?;
        if let Some(id) = segment_id(&entry.file_name().to_string_lossy()) {
            ids.push(id);
        }
    }
    ids.sort_unstable();

    let mut messages: Vec<Option<(u64, u64, Message)>> = Vec::new();
    let mut index: HashMap<u64, usize> = HashMap::new();
    let mut max_seq = 0u64;
    for &id in &ids {
        let path = segment_path(dir, id);
        let bytes = fs::read(&path).map_err(SpoolError::io(
            dir,
            format!("cannot read {}", path.display()),
        ))?;
        for record in read_records(&bytes, &path) {
            match record {
                Record::Message { seq, message } => {
                    max_seq = max_seq.max(seq);
                    index.insert(seq, messages.len());
                    messages.push(Some((seq, id, message)));
                }
                Record::Removal { seq } => {
                    max_seq = max_seq.max(seq);
                    if let Some(at) = index.remove(&seq) {
                        messages[at] = None;
                    }
                }
            }
        }
    }

    let mut segments = Segments::default();
    for &id in &ids {
        segments.file(id);
    }
    let mut left = Vec::new();
    for (seq, id, message) in messages.into_iter().flatten() {
        segments.holds(id, seq);
        left.push((seq, message));
    }
    Ok(Replayed {
        left,
        segments,
        next_seq: max_seq + 1,
    })
}

/// Every record of a segment that checks out; what does not is skipped with a WARN.
fn read_records(bytes: &[u8], path: &Path) -> Vec<Record> {
    let scan = scan(bytes);
    for skip in &scan.skipped {
        if skip.torn_tail {
            tracing::warn!(file = %path.display(), offset = skip.offset, skipped_bytes = skip.len, "torn or corrupt record at the end of a spool segment skipped");
        } else {
            tracing::warn!(file = %path.display(), offset = skip.offset, skipped_bytes = skip.len, "corrupt record in the spool skipped");
        }
    }
    scan.records
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::super::record::{encoded_size, scan, HEADER};
    use super::super::test_support::{
        append, assert_reopens_with, fresh_dir, message, odd_one, segments, spool_of, ROOMY,
        WRITTEN_BEFORE,
    };
    use super::super::Spool;
    use super::*;

    #[tokio::test]
    async fn a_torn_tail_is_skipped_and_what_came_before_is_kept() {
        let dir = fresh_dir("torn");
        let segment = spool_of(&dir, 5).await;
        let bytes = fs::read(&segment).unwrap();
        // Cut the last record in the middle, as a crash during its write would, and
        // leave the preallocated zeros after it.
        let last = encoded_size(&message(4)) as usize;
        let written = scan(&bytes).end;
        let mut torn = bytes[..written - last / 2].to_vec();
        torn.resize(bytes.len(), 0);
        fs::write(&segment, &torn).unwrap();
        let found = scan(&torn);
        assert_eq!(found.records.len(), 4);
        assert_eq!(found.skipped.len(), 1);
        assert!(found.skipped[0].torn_tail);
        assert_eq!(
            found.skipped[0].len,
            last - last / 2,
            "the zeros are not counted"
        );
        assert_reopens_with(&dir, &[0, 1, 2, 3]);
    }

    #[tokio::test]
    async fn a_corrupt_record_in_the_middle_is_skipped_and_the_rest_is_read() {
        let dir = fresh_dir("corrupt");
        let segment = spool_of(&dir, 5).await;
        let mut bytes = fs::read(&segment).unwrap();
        let first = encoded_size(&message(0)) as usize;
        // Flip a payload byte of the second record: its checksum no longer holds.
        bytes[first + HEADER + 20] ^= 0xFF;
        // And garbage in the length field of the fourth.
        let second = encoded_size(&message(1)) as usize;
        let third = encoded_size(&message(2)) as usize;
        let fourth_at = first + second + third;
        bytes[fourth_at + 4..fourth_at + 8].copy_from_slice(&u32::MAX.to_le_bytes());
        fs::write(&segment, &bytes).unwrap();
        assert_reopens_with(&dir, &[0, 2, 4]);
    }

    #[tokio::test]
    async fn garbage_files_and_empty_segments_do_not_stop_it() {
        let dir = fresh_dir("garbage");
        fs::create_dir_all(&dir).unwrap();
        fs::write(
            segment_path(&dir, 3),
            b"not a spool at all, just bytes IGSP and more",
        )
        .unwrap();
        fs::write(segment_path(&dir, 4), b"").unwrap();
        fs::write(dir.join("notes.txt"), b"left alone").unwrap();
        let (spool, left) = Spool::open(&dir, ROOMY).unwrap();
        assert!(left.is_empty());
        drop(spool);
        // The drained segments were deleted; the foreign file was not.
        assert!(!segment_path(&dir, 3).exists());
        assert!(dir.join("notes.txt").exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_spool_written_before_crc32fast_is_read_and_used_on() {
        let dir = fresh_dir("written-before");
        fs::create_dir_all(&dir).unwrap();
        fs::write(segment_path(&dir, 1), WRITTEN_BEFORE).unwrap();
        let expected: Vec<Message> = [0, 1, 3, 4]
            .into_iter()
            .map(message)
            .chain([odd_one()])
            .collect();
        let (spool, left) = Spool::open(&dir, ROOMY).unwrap();
        let seqs: Vec<u64> = left.iter().map(|(ticket, _)| ticket.seq).collect();
        assert_eq!(seqs, [1, 2, 4, 5, 7]);
        let got: Vec<Message> = left.into_iter().map(|(_, m)| m).collect();
        assert_eq!(got, expected);
        assert_eq!(spool.pending(), 5);
        // Appended to after it, in a new segment, numbered past what it holds.
        let fresh = append(&spool, &message(9)).await;
        assert_eq!(fresh.seq, 8);
        drop(spool);
        assert_eq!(
            segments(&dir).len(),
            2,
            "the old segment still holds messages"
        );
        let (spool, left) = Spool::open(&dir, ROOMY).unwrap();
        let got: Vec<Message> = left.into_iter().map(|(_, m)| m).collect();
        assert_eq!(got, [expected, vec![message(9)]].concat());
        drop(spool);
        fs::remove_dir_all(&dir).unwrap();
    }
}
