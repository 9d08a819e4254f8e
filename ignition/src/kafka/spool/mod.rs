//! The durable spool (`messaging.spool_dir`): every message handed to the Kafka producer
//! is first written here, fsync'ed, and removed once the broker confirmed it, so that a
//! process killed during a broker outage loses nothing: at the next start what is still
//! here is sent again, before the job-queue consumer starts and before the port opens.
//! What a full spool means for each kind of message is decided in one place, `OnFull`
//! (`kafka::delivery`).
//!
//! A directory holds a lock file (`spool.lock`: one process per directory) and segment
//! files `<id>.seg`, written append-only. The parts, one concept each:
//!
//! - this file: the handle, [`Spool`]: open, the bounds (`messaging.spool_max_bytes`,
//!   `messaging.spool_max_records`), appends that return once on disk, and tickets;
//! - [`record`]: the on-disk record format (checksummed; a torn or corrupt record is found
//!   and skipped);
//! - [`writer`]: the thread that owns the files: group commit, preallocation, rolling and
//!   deleting drained segments;
//! - [`replay`]: reading a directory at open, what an earlier process left;
//! - [`lock`]: one process per directory.
//!
//! Why a plain segment file and not redb or fjall: what is needed is an append-only log
//! with removals and a scan at start-up, nothing keyed, nothing queried. An embedded
//! B-tree (redb) commits by rewriting pages and fsyncs per transaction, so group commit
//! would have to be built on top of it anyway; an LSM (fjall) brings compaction threads,
//! a journal and its own caches for data that lives milliseconds. Each adds a dependency
//! tree and a file format we do not control to a framework whose users want a small
//! binary.

mod lock;
mod record;
mod replay;
#[cfg(test)]
mod test_support;
mod writer;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Mutex};

use tokio::sync::oneshot;

pub(crate) use record::Message;
use record::{encode_message, encoded_size};
use writer::WriterHandle;

use crate::util::Locked;

/// How much the spool may hold: messages not yet confirmed, and their bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SpoolLimits {
    /// `messaging.spool_max_bytes`: the bytes of the records pending.
    pub(crate) max_bytes: u64,
    /// `messaging.spool_max_records`: the records pending.
    pub(crate) max_records: usize,
}

/// Why the spool could not be opened or did not take a message.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// Another process has the directory open.
    #[error("the spool directory {} (`messaging.spool_dir`) is in use by another process (its `spool.lock` is locked); give each process its own directory", dir.display())]
    Locked {
        /// The directory.
        dir: PathBuf,
    },
    /// The directory or a file in it cannot be read or written.
    #[error("the spool directory {} (`messaging.spool_dir`) cannot be used: {what}: {source}", dir.display())]
    Io {
        /// The directory.
        dir: PathBuf,
        /// What failed.
        what: String,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// The spool holds as much as it may: the message was not taken.
    #[error("the spool at {} (`messaging.spool_dir`) is full: {reason}; the broker has not confirmed what it holds", dir.display())]
    Full {
        /// The directory.
        dir: PathBuf,
        /// Which bound was hit, naming its property.
        reason: String,
    },
    /// The message could not be written (the disk refused it).
    #[error("cannot write to the spool at {} (`messaging.spool_dir`): {reason}", dir.display())]
    Write {
        /// The directory.
        dir: PathBuf,
        /// The I/O error.
        reason: String,
    },
}

impl SpoolError {
    /// A map from the I/O error of `what` (e.g. "cannot read x") in `dir`.
    fn io(dir: &Path, what: impl Into<String>) -> impl FnOnce(io::Error) -> Self {
        let (dir, what) = (dir.to_path_buf(), what.into());
        move |source| Self::Io { dir, what, source }
    }
}

/// A message in the spool, to be given back to [`Spool::remove`] once confirmed. Dropped
/// instead, the message stays in the spool and is sent again at the next start.
#[derive(Debug)]
#[must_use = "a spooled message stays in the spool until removed"]
pub(crate) struct Ticket {
    seq: u64,
    size: u64,
}

/// What is pending, for the bounds.
#[derive(Debug, Default)]
struct Pending {
    records: usize,
    bytes: u64,
}

/// An open spool. Dropping it lets the writer finish what was queued, then unlocks.
pub(crate) struct Spool {
    dir: PathBuf,
    limits: SpoolLimits,
    next_seq: AtomicU64,
    /// The bounds' bookkeeping; also held while an append is queued, so that what was
    /// admitted is what the writer receives.
    pending: Mutex<Pending>,
    writer: WriterHandle,
}

impl std::fmt::Debug for Spool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spool")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Spool {
    /// Opens (creating it if needed) the spool in `dir`; returns it with the messages
    /// still pending from an earlier process, oldest first.
    pub(crate) fn open(
        dir: &Path,
        limits: SpoolLimits,
    ) -> Result<(Self, Vec<(Ticket, Message)>), SpoolError> {
        Self::open_gated(dir, limits, None)
    }

    /// [`Spool::open`], with a writer that waits for `gate` before its first batch
    /// (tests use it to queue appends before any is written).
    fn open_gated(
        dir: &Path,
        limits: SpoolLimits,
        gate: Option<mpsc::Receiver<()>>,
    ) -> Result<(Self, Vec<(Ticket, Message)>), SpoolError> {
        std::fs::create_dir_all(dir).map_err(SpoolError::io(dir, "cannot create it"))?;
        let lock = lock::DirLock::acquire(dir)?;
        let replayed = replay::replay(dir)?;
        let mut pending = Pending::default();
        let left = replayed
            .left
            .into_iter()
            .map(|(seq, message)| {
                let size = encoded_size(&message);
                pending.records += 1;
                pending.bytes += size;
                (Ticket { seq, size }, message)
            })
            .collect();
        let writer = writer::start(dir, lock, replayed.segments, gate)?;
        let spool = Self {
            dir: dir.to_path_buf(),
            limits,
            next_seq: AtomicU64::new(replayed.next_seq),
            pending: Mutex::new(pending),
            writer,
        };
        Ok((spool, left))
    }

    /// The directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// fsyncs of appended records so far (one per batch).
    #[cfg(test)]
    pub(crate) fn syncs(&self) -> u64 {
        self.writer.syncs()
    }

    /// Messages pending (written, not yet removed).
    #[cfg(test)]
    pub(crate) fn pending(&self) -> usize {
        self.pending.locked().records
    }

    /// Writes a message (with its record headers) and returns once it is on disk (its
    /// fsync shared with every append queued meanwhile). Refused, with the bound named,
    /// when the spool is full.
    pub(crate) async fn append(&self, message: &Message) -> Result<Ticket, SpoolError> {
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        let record = encode_message(
            seq,
            &message.topic,
            message.key.as_deref(),
            &message.payload,
            &message.headers,
        );
        let size = record.len() as u64;
        let (done, written) = oneshot::channel();
        {
            let mut pending = self.pending.locked();
            if pending.records >= self.limits.max_records {
                return Err(self.full(format!(
                    "{} messages wait for the broker (`messaging.spool_max_records`: {})",
                    pending.records, self.limits.max_records
                )));
            }
            if pending.bytes + size > self.limits.max_bytes {
                return Err(self.full(format!(
                    "{} bytes wait for the broker and this message has {size} (`messaging.spool_max_bytes`: {})",
                    pending.bytes,
                    crate::config::ByteSize(self.limits.max_bytes)
                )));
            }
            if !self.writer.append(seq, record, done) {
                return Err(self.write_failed("the spool is closed".into()));
            }
            pending.records += 1;
            pending.bytes += size;
        }
        // Dropped before the write is known (a create cancelled by its call timeout, or
        // by its client going away): nobody will send the message, so it leaves the
        // spool, instead of holding its slot and being sent at the next start.
        let abandoned = Abandoned {
            spool: self,
            seq,
            size,
            armed: true,
        };
        let written = written
            .await
            .unwrap_or_else(|_| Err("the spool's writer stopped".into()));
        let ticket = abandoned.disarm();
        match written {
            Ok(()) => Ok(ticket),
            Err(reason) => {
                self.release(size);
                Err(self.write_failed(reason))
            }
        }
    }

    /// `Ok` while the spool takes another message of average size (readiness during a
    /// broker outage); else which bound is reached.
    pub(crate) fn room(&self) -> Result<(), String> {
        let pending = self.pending.locked();
        if pending.records >= self.limits.max_records {
            return Err(format!(
                "the spool holds {} messages (`messaging.spool_max_records`)",
                pending.records
            ));
        }
        let average = pending
            .bytes
            .checked_div(pending.records as u64)
            .unwrap_or(0);
        if pending.bytes + average > self.limits.max_bytes {
            return Err(format!(
                "the spool holds {} (`messaging.spool_max_bytes`: {})",
                crate::config::ByteSize(pending.bytes),
                crate::config::ByteSize(self.limits.max_bytes)
            ));
        }
        Ok(())
    }

    /// Removes a message (the broker confirmed it, or its sender gave it up). Not waited
    /// for: a removal reaches the disk with the next fsync (see `writer`).
    pub(crate) fn remove(&self, ticket: Ticket) {
        self.release(ticket.size);
        self.writer.remove(ticket.seq);
    }

    fn release(&self, size: u64) {
        let mut pending = self.pending.locked();
        pending.records = pending.records.saturating_sub(1);
        pending.bytes = pending.bytes.saturating_sub(size);
    }

    fn full(&self, reason: String) -> SpoolError {
        SpoolError::Full {
            dir: self.dir.clone(),
            reason,
        }
    }

    fn write_failed(&self, reason: String) -> SpoolError {
        SpoolError::Write {
            dir: self.dir.clone(),
            reason,
        }
    }
}

/// Removes an appended message whose append was dropped before it returned.
struct Abandoned<'a> {
    spool: &'a Spool,
    seq: u64,
    size: u64,
    armed: bool,
}

impl Abandoned<'_> {
    /// The append returned: the ticket is its caller's.
    fn disarm(mut self) -> Ticket {
        self.armed = false;
        Ticket {
            seq: self.seq,
            size: self.size,
        }
    }
}

impl Drop for Abandoned<'_> {
    fn drop(&mut self) {
        if self.armed {
            // Queued after the append, so the writer sees the record first.
            self.spool.remove(Ticket {
                seq: self.seq,
                size: self.size,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::sync::Arc;

    use super::test_support::{append, fresh_dir, message, plain, ROOMY};
    use super::*;

    #[tokio::test]
    async fn what_is_not_removed_comes_back_at_reopen_in_order() {
        let dir = fresh_dir("reopen");
        let (spool, left) = Spool::open(&dir, ROOMY).unwrap();
        assert!(left.is_empty());
        let mut tickets = Vec::new();
        for i in 0..10 {
            tickets.push(append(&spool, &message(i)).await);
        }
        for (i, ticket) in tickets.into_iter().enumerate() {
            if i % 3 == 0 {
                spool.remove(ticket);
            }
        }
        assert_eq!(spool.pending(), 6);
        drop(spool);
        let (spool, left) = Spool::open(&dir, ROOMY).unwrap();
        let expected: Vec<_> = (0..10).filter(|i| i % 3 != 0).map(message).collect();
        let got: Vec<_> = left.iter().map(|(_, m)| m.clone()).collect();
        assert_eq!(got, expected);
        assert_eq!(spool.pending(), 6);
        // Removing the re-read ones (as after re-sending them) empties it for good.
        for (ticket, _) in left {
            spool.remove(ticket);
        }
        let fresh = append(&spool, &message(42)).await;
        drop(spool);
        let (spool, left) = Spool::open(&dir, ROOMY).unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].1, message(42));
        assert_eq!(left[0].0.seq, fresh.seq);
        drop(spool);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_second_open_of_the_same_directory_is_refused_until_the_first_is_closed() {
        let dir = fresh_dir("lock");
        let (spool, _) = Spool::open(&dir, ROOMY).unwrap();
        let err = Spool::open(&dir, ROOMY).unwrap_err();
        assert!(matches!(err, SpoolError::Locked { .. }), "{err}");
        assert!(err.to_string().contains("`messaging.spool_dir`"), "{err}");
        drop(spool);
        let (spool, _) = Spool::open(&dir, ROOMY).unwrap();
        drop(spool);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn the_bounds_refuse_a_message_naming_the_property_and_free_up_on_removal() {
        let dir = fresh_dir("bounds");
        let limits = SpoolLimits {
            max_bytes: 1 << 20,
            max_records: 3,
        };
        let (spool, _) = Spool::open(&dir, limits).unwrap();
        let mut tickets = Vec::new();
        for i in 0..3 {
            tickets.push(append(&spool, &message(i)).await);
        }
        let err = spool.append(&plain(b"one more")).await.unwrap_err();
        assert!(matches!(err, SpoolError::Full { .. }), "{err}");
        assert!(
            err.to_string().contains("`messaging.spool_max_records`: 3"),
            "{err}"
        );
        spool.remove(tickets.pop().unwrap());
        tickets.push(append(&spool, &message(9)).await);
        drop(spool);

        let dir2 = fresh_dir("bounds-bytes");
        let limits = SpoolLimits {
            max_bytes: 200,
            max_records: 1000,
        };
        let (spool, _) = Spool::open(&dir2, limits).unwrap();
        let small = append(&spool, &message(0)).await;
        let err = spool.append(&plain(&[b'x'; 200])).await.unwrap_err();
        assert!(
            err.to_string().contains("`messaging.spool_max_bytes`: 200"),
            "{err}"
        );
        spool.remove(small);
        drop(spool);
        // A full spool re-read at start-up counts against the bounds too.
        let (spool, left) = Spool::open(
            &dir,
            SpoolLimits {
                max_bytes: 1 << 20,
                max_records: 3,
            },
        )
        .unwrap();
        assert_eq!(left.len(), 3);
        assert!(spool.append(&plain(b"x")).await.is_err());
        drop(spool);
        fs::remove_dir_all(&dir).unwrap();
        fs::remove_dir_all(&dir2).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_append_dropped_before_its_write_leaves_the_spool() {
        let dir = fresh_dir("abandoned");
        let (open, gate) = mpsc::channel();
        let (spool, _) = Spool::open_gated(&dir, ROOMY, Some(gate)).unwrap();
        let spool = Arc::new(spool);
        let kept = message(1);
        let dropped = message(2);
        let keeper = {
            let spool = spool.clone();
            let m = kept.clone();
            tokio::spawn(async move { spool.append(&m).await })
        };
        let abandoned = {
            let spool = spool.clone();
            let m = dropped.clone();
            tokio::spawn(async move { spool.append(&m).await })
        };
        // Both queued while the writer is held; then the second append is cancelled
        // (what a call timeout does to a create waiting for its fsync).
        while spool.pending() < 2 {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        abandoned.abort();
        assert!(abandoned.await.unwrap_err().is_cancelled());
        assert_eq!(spool.pending(), 1, "the cancelled append freed its slot");
        open.send(()).unwrap();
        let _ticket = keeper.await.unwrap().unwrap();
        drop(Arc::into_inner(spool).unwrap());
        // Its record and its removal went out in one batch: only the kept one comes back.
        let (spool, left) = Spool::open(&dir, ROOMY).unwrap();
        let left: Vec<Message> = left.into_iter().map(|(_, m)| m).collect();
        assert_eq!(left, vec![kept]);
        drop(spool);
        fs::remove_dir_all(&dir).unwrap();
    }
}
