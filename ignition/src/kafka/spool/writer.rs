//! The spool's writer thread: it owns the segment files and the directory's lock.
//!
//! Group commit: the thread takes whatever was queued while its last write and fsync ran,
//! writes it in one `write`, and fsyncs once for all of it. Concurrent appends therefore
//! share one fsync, and an append returns once its record is on disk. Removals are not
//! fsync'ed on their own (a lost removal only means the message is sent once more after a
//! crash: delivery is at least once anyway); they reach the disk with the next fsync.
//!
//! Preallocation: a segment's blocks are reserved [`PREALLOCATE`] bytes at a time
//! (`fallocate`, which also sets the file's length), so that an fsync of an append does
//! not also have to commit the file's new length, which on ext4 is a journal commit (what
//! it gains on creates: docs/BENCHMARKS.md, "create on Kafka"). A segment therefore ends
//! in zeros after its last record, which a reader takes as its end. Where `fallocate` is
//! not supported the file grows with each write.
//!
//! Segments: the writer rolls to a new segment at [`SEGMENT_SIZE`], or at
//! [`ROLL_WHEN_DRAINED`] once nothing in the current one is pending. A segment is deleted
//! once none of its messages is pending, oldest first only (a removal lives in the same
//! or a later segment than its message, so deleting from the front never revives a
//! message whose removal was in a deleted segment). Opening always starts a new segment:
//! nothing is appended after a tail that may be torn.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use super::lock::DirLock;
use super::record::encode_removal;
use super::SpoolError;

/// A segment is rolled past this size.
const SEGMENT_SIZE: u64 = 64 * 1024 * 1024;
/// A segment with nothing pending is rolled (and deleted) past this size.
pub(super) const ROLL_WHEN_DRAINED: u64 = 1024 * 1024;
/// Blocks are reserved this many bytes at a time (see the module documentation).
pub(super) const PREALLOCATE: u64 = 4 * 1024 * 1024;

/// The file of segment `id` in `dir`.
pub(super) fn segment_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:020}.seg"))
}

/// The id of a segment file's name; `None` for any other file.
pub(super) fn segment_id(file_name: &str) -> Option<u64> {
    file_name.strip_suffix(".seg")?.parse().ok()
}

/// Which segments exist and where each pending message lives: a segment is deleted once
/// it holds none.
#[derive(Debug, Default)]
pub(super) struct Segments {
    /// Every segment file, with how many of its messages are pending.
    pending_in: BTreeMap<u64, usize>,
    /// The segment of each pending message.
    of: HashMap<u64, u64>,
}

impl Segments {
    /// Segment `id` exists.
    pub(super) fn file(&mut self, id: u64) {
        self.pending_in.entry(id).or_default();
    }

    /// Pending message `seq` is in segment `id`.
    pub(super) fn holds(&mut self, id: u64, seq: u64) {
        self.of.insert(seq, id);
        *self.pending_in.entry(id).or_default() += 1;
    }

    /// Message `seq` is no longer pending.
    fn removed(&mut self, seq: u64) {
        if let Some(id) = self.of.remove(&seq) {
            if let Some(count) = self.pending_in.get_mut(&id) {
                *count = count.saturating_sub(1);
            }
        }
    }

    /// The id after the last segment's.
    fn next_id(&self) -> u64 {
        self.pending_in.last_key_value().map_or(1, |(id, _)| id + 1)
    }
}

/// What the writer thread is asked to do.
enum Op {
    Append {
        seq: u64,
        record: Vec<u8>,
        done: oneshot::Sender<Result<(), String>>,
    },
    Remove {
        seq: u64,
    },
}

/// The spool's side of the writer thread. Dropping it lets the thread write what was
/// queued, then waits for it to end (which releases the directory's lock).
pub(super) struct WriterHandle {
    ops: Option<mpsc::Sender<Op>>,
    thread: Option<JoinHandle<()>>,
    /// fsyncs of appended records so far.
    #[cfg_attr(not(test), allow(dead_code))]
    syncs: Arc<AtomicU64>,
}

/// Starts the writer of the spool in `dir`, which holds `segments`, on a new segment.
/// With a `gate`, the thread waits for it before its first batch (tests use it to queue
/// appends before any is written).
pub(super) fn start(
    dir: &Path,
    lock: DirLock,
    mut segments: Segments,
    gate: Option<mpsc::Receiver<()>>,
) -> Result<WriterHandle, SpoolError> {
    let active = segments.next_id();
    let file =
        create_segment(dir, active).map_err(SpoolError::io(dir, "cannot create a segment"))?;
    segments.file(active);
    let syncs = Arc::new(AtomicU64::new(0));
    let mut writer = Writer {
        syncs: syncs.clone(),
        dir: dir.to_path_buf(),
        segments,
        active,
        file,
        size: 0,
        reserved: 0,
        _lock: lock,
    };
    writer.delete_drained();
    let (ops, queued) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("ignition-spool".into())
        .spawn(move || {
            if let Some(gate) = gate {
                let _ = gate.recv();
            }
            writer.run(queued)
        })
        .map_err(SpoolError::io(dir, "cannot start its writer thread"))?;
    Ok(WriterHandle {
        ops: Some(ops),
        thread: Some(thread),
        syncs,
    })
}

impl WriterHandle {
    /// Queues the record of message `seq`; `done` gets the outcome once it is on disk.
    /// `false` when the writer has stopped.
    pub(super) fn append(
        &self,
        seq: u64,
        record: Vec<u8>,
        done: oneshot::Sender<Result<(), String>>,
    ) -> bool {
        self.ops
            .as_ref()
            .is_some_and(|ops| ops.send(Op::Append { seq, record, done }).is_ok())
    }

    /// Queues the removal of message `seq`.
    pub(super) fn remove(&self, seq: u64) {
        if let Some(ops) = &self.ops {
            let _ = ops.send(Op::Remove { seq });
        }
    }

    /// fsyncs of appended records so far (one per batch).
    #[cfg(test)]
    pub(super) fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }
}

impl Drop for WriterHandle {
    fn drop(&mut self) {
        // Closing the channel ends the writer once it wrote what was queued.
        self.ops.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The writer thread's state: the files.
struct Writer {
    syncs: Arc<AtomicU64>,
    dir: PathBuf,
    segments: Segments,
    active: u64,
    file: File,
    /// Bytes of records written to the active segment.
    size: u64,
    /// Bytes reserved for it (its length; `size` or more).
    reserved: u64,
    /// Held until the writer ends.
    _lock: DirLock,
}

impl Writer {
    fn run(mut self, queued: mpsc::Receiver<Op>) {
        let mut buffer = Vec::new();
        let mut waiting = Vec::new();
        while let Ok(first) = queued.recv() {
            buffer.clear();
            let mut appended = Vec::new();
            let mut op = Some(first);
            // Everything queued while the last write and fsync ran goes in this batch.
            while let Some(next) = op.take().or_else(|| queued.try_recv().ok()) {
                match next {
                    Op::Append { seq, record, done } => {
                        buffer.extend_from_slice(&record);
                        appended.push(seq);
                        waiting.push(done);
                    }
                    Op::Remove { seq } => {
                        buffer.extend_from_slice(&encode_removal(seq));
                        // An abandoned append can be removed in its own batch.
                        if let Some(at) = appended.iter().position(|&s| s == seq) {
                            appended.swap_remove(at);
                        } else {
                            self.segments.removed(seq);
                        }
                    }
                }
                if buffer.len() as u64 > SEGMENT_SIZE {
                    break;
                }
            }
            self.reserve(buffer.len() as u64);
            let mut result = self.file.write_all(&buffer);
            if result.is_ok() && !waiting.is_empty() {
                result = self.file.sync_data();
                self.syncs.fetch_add(1, Ordering::Relaxed);
            }
            match &result {
                Ok(()) => {
                    self.size += buffer.len() as u64;
                    for &seq in &appended {
                        self.segments.holds(self.active, seq);
                    }
                }
                Err(err) => {
                    tracing::error!(dir = %self.dir.display(), error = %err, "cannot write to the spool");
                }
            }
            let reply = result.map_err(|err| err.to_string());
            for done in waiting.drain(..) {
                let _ = done.send(reply.clone());
            }
            if reply.is_ok() {
                self.maintain();
            }
        }
        // Every handle is gone: the removals written since the last fsync go to disk now.
        let _ = self.file.sync_data();
    }

    /// Rolls the active segment when it is large (or drained and not small), and
    /// deletes drained segments from the oldest on.
    fn maintain(&mut self) {
        let drained = self
            .segments
            .pending_in
            .get(&self.active)
            .copied()
            .unwrap_or(0)
            == 0;
        if self.size >= SEGMENT_SIZE || (drained && self.size >= ROLL_WHEN_DRAINED) {
            match create_segment(&self.dir, self.active + 1) {
                Ok(file) => {
                    let _ = self.file.sync_data();
                    self.active += 1;
                    self.file = file;
                    self.size = 0;
                    self.reserved = 0;
                    self.segments.file(self.active);
                }
                Err(err) => {
                    tracing::error!(dir = %self.dir.display(), error = %err, "cannot roll the spool to a new segment; appending to the current one");
                }
            }
        }
        self.delete_drained();
    }

    /// Reserves room for `len` more bytes in [`PREALLOCATE`] steps. Best effort: where
    /// it fails (a file system without `fallocate`) the write extends the file itself.
    fn reserve(&mut self, len: u64) {
        let needed = self.size + len;
        if needed <= self.reserved {
            return;
        }
        let target = needed.div_ceil(PREALLOCATE) * PREALLOCATE;
        match preallocate(&self.file, self.reserved, target - self.reserved) {
            Ok(()) => self.reserved = target,
            Err(err) => {
                tracing::debug!(dir = %self.dir.display(), error = %err, "cannot preallocate the spool segment; it grows with each write");
                // Do not ask again for this segment.
                self.reserved = u64::MAX;
            }
        }
    }

    /// Deletes the segments before the active one that hold nothing pending, oldest first,
    /// up to the first that still holds something.
    fn delete_drained(&mut self) {
        while let Some((&id, &count)) = self.segments.pending_in.first_key_value() {
            if id == self.active || count > 0 {
                break;
            }
            let path = segment_path(&self.dir, id);
            if let Err(err) = fs::remove_file(&path) {
                if err.kind() != io::ErrorKind::NotFound {
                    tracing::warn!(file = %path.display(), error = %err, "cannot delete a drained spool segment");
                    break;
                }
            }
            self.segments.pending_in.remove(&id);
        }
    }
}

/// Creates segment `id` and makes its directory entry durable. Written from its start
/// on (not in append mode: its length runs ahead of its records, see [`PREALLOCATE`]).
fn create_segment(dir: &Path, id: u64) -> io::Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(segment_path(dir, id))?;
    File::open(dir)?.sync_all()?;
    Ok(file)
}

/// Reserves `len` bytes of `file` from `offset` (zeros, the file's length grown to match).
#[cfg(target_os = "linux")]
fn preallocate(file: &File, offset: u64, len: u64) -> io::Result<()> {
    rustix::fs::fallocate(file, rustix::fs::FallocateFlags::empty(), offset, len)?;
    Ok(())
}

/// Elsewhere segments grow with each write.
#[cfg(not(target_os = "linux"))]
fn preallocate(_file: &File, _offset: u64, _len: u64) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "no fallocate here",
    ))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::record::scan;
    use super::super::test_support::{
        assert_reopens_with, fresh_dir, message, plain, segments, spool_of, ROOMY,
    };
    use super::super::Spool;
    use super::*;

    #[tokio::test]
    async fn a_segment_is_preallocated_and_its_zeros_are_read_as_its_end() {
        let dir = fresh_dir("prealloc");
        let segment = spool_of(&dir, 3).await;
        let bytes = fs::read(&segment).unwrap();
        #[cfg(target_os = "linux")]
        assert_eq!(
            bytes.len() as u64,
            PREALLOCATE,
            "reserved ahead of the records"
        );
        let found = scan(&bytes);
        assert_eq!(found.records.len(), 3);
        assert!(found.skipped.is_empty(), "the zeros are not a torn record");
        assert!(bytes[found.end..].iter().all(|&b| b == 0));
        // Garbage after the zeros is still found and skipped.
        let mut spoilt = bytes.clone();
        spoilt.extend_from_slice(b"junk");
        let found = scan(&spoilt);
        assert_eq!(found.records.len(), 3);
        assert_eq!(found.skipped.len(), 1);
        assert_reopens_with(&dir, &[0, 1, 2]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_appends_share_fsyncs_and_all_come_back() {
        let dir = fresh_dir("group");
        let (spool, _) = Spool::open(&dir, ROOMY).unwrap();
        let spool = Arc::new(spool);
        let started = std::time::Instant::now();
        let mut tasks = Vec::new();
        for i in 0..400 {
            let spool = spool.clone();
            tasks.push(tokio::spawn(async move {
                let m = message(i);
                let ticket = spool.append(&m).await.unwrap();
                drop(ticket); // not removed: it stays in the spool
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let elapsed = started.elapsed();
        let spool = Arc::into_inner(spool).unwrap();
        drop(spool);
        let (spool, left) = Spool::open(&dir, ROOMY).unwrap();
        assert_eq!(left.len(), 400);
        let mut payloads: Vec<_> = left.iter().map(|(_, m)| m.payload.clone()).collect();
        payloads.sort();
        payloads.dedup();
        assert_eq!(payloads.len(), 400);
        eprintln!("400 concurrent appends in {elapsed:?}");
        drop(spool);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn appends_queued_while_the_writer_is_busy_share_one_fsync() {
        let dir = fresh_dir("batch");
        let (open, gate) = mpsc::channel();
        let (spool, _) = Spool::open_gated(&dir, ROOMY, Some(gate)).unwrap();
        let spool = Arc::new(spool);
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let spool = spool.clone();
                tokio::spawn(async move {
                    let m = message(i);
                    spool.append(&m).await
                })
            })
            .collect();
        // All 50 are queued (counted at queueing) while the writer is held.
        while spool.pending() < 50 {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        open.send(()).unwrap();
        for task in tasks {
            let _kept = task.await.unwrap().unwrap();
        }
        assert_eq!(spool.syncs(), 1, "50 appends queued together, one fsync");
        let one_more = spool.append(&plain(b"alone")).await.unwrap();
        assert_eq!(spool.syncs(), 2);
        spool.remove(one_more);
        drop(Arc::into_inner(spool).unwrap());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn drained_segments_are_deleted_and_rolled() {
        let dir = fresh_dir("roll");
        let (spool, _) = Spool::open(&dir, ROOMY).unwrap();
        let big = vec![b'x'; 64 * 1024];
        for _ in 0..40 {
            let ticket = spool.append(&plain(&big)).await.unwrap();
            spool.remove(ticket);
        }
        // A last append makes the writer tidy up after the removals.
        let last = spool.append(&plain(b"last")).await.unwrap();
        spool.remove(last);
        let _ = spool.append(&plain(b"tidy")).await.unwrap();
        let total: usize = segments(&dir)
            .iter()
            .map(|p| scan(&fs::read(p).unwrap()).end)
            .sum();
        assert!(
            (total as u64) < 2 * ROLL_WHEN_DRAINED,
            "{total} bytes left in {:?}",
            segments(&dir)
        );
        drop(spool);
        fs::remove_dir_all(&dir).unwrap();
    }
}
