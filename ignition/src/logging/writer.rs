//! The log lines' way to stderr: appended to a shared buffer by whoever logs, written by
//! one background thread a batch per system call, so a request or a poll never waits on
//! stderr.
//!
//! Why not `tracing_appender::non_blocking` (what this replaced): it sends each line
//! through a channel as a `Vec` of its own, and its thread wakes for every line it finds
//! waiting alone; on the benchmark's one core that made every logged line an allocation,
//! a futex wake, a context switch and a `write` (the `info` line of each finished task
//! cost about a quarter of a monitored create's throughput; docs/BENCHMARKS.md). Here a
//! line is one copy into a buffer under a mutex; the thread, once woken, lets lines
//! gather for [`LINGER`] before each write, and sleeps on a condition variable when there
//! are none (no cost at rest).
//!
//! No line is dropped: past [`MAX_PENDING`] bytes waiting, a logging thread waits for
//! the writer. [`WriterGuard`] writes what is left when dropped (when `App::run` returns).

use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// Bytes of lines waiting for the writer before a logging thread waits (16 Ki lines of
/// 64 bytes: the bound the channel had).
const MAX_PENDING: usize = 1 << 20;

/// How long the writer lets lines gather after a batch before it writes the next one:
/// a busy server's lines go out in batches of this many milliseconds rather than one
/// system call (and one wake-up of this thread) per line.
const LINGER: Duration = Duration::from_millis(2);

/// The buffer the lines wait in.
struct State {
    pending: Vec<u8>,
    /// The writer sleeps until told (a logging thread then wakes it).
    writer_asleep: bool,
    /// No more lines: the writer writes what is left and stops.
    closed: bool,
}

struct Shared {
    state: Mutex<State>,
    /// The writer waits here for lines.
    lines: Condvar,
    /// Logging threads wait here for room.
    room: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while appending bytes leaves a buffer of whole or partial lines, which
        // is still worth writing: poisoning is ignored.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The [`MakeWriter`] of the log layers: each write appends one formatted line.
#[derive(Clone)]
pub(crate) struct LineWriter(Arc<Shared>);

impl std::fmt::Debug for LineWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LineWriter")
    }
}

/// Writes what is left and stops the writer thread when dropped.
#[derive(Debug)]
pub(crate) struct WriterGuard {
    writer: LineWriter,
    thread: Option<JoinHandle<()>>,
}

/// A writer of lines to `out`, and its guard; fails when its thread cannot be started.
pub(crate) fn spawn<W: Write + Send + 'static>(out: W) -> io::Result<(LineWriter, WriterGuard)> {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            pending: Vec::new(),
            writer_asleep: false,
            closed: false,
        }),
        lines: Condvar::new(),
        room: Condvar::new(),
    });
    let writer = LineWriter(shared.clone());
    let thread = std::thread::Builder::new()
        .name("ignition-log-writer".into())
        .spawn(move || write_lines(&shared, out))?;
    Ok((
        writer.clone(),
        WriterGuard {
            writer,
            thread: Some(thread),
        },
    ))
}

/// The writer thread: a batch at a time, until closed and empty.
fn write_lines<W: Write>(shared: &Shared, mut out: W) {
    let mut batch = Vec::new();
    loop {
        {
            let mut state = shared.lock();
            while state.pending.is_empty() && !state.closed {
                state.writer_asleep = true;
                state = shared
                    .lines
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
            if state.pending.is_empty() {
                return; // closed, and everything written
            }
            std::mem::swap(&mut batch, &mut state.pending);
        }
        shared.room.notify_all();
        // A failing stderr cannot be reported anywhere: the batch is dropped.
        let _ = out.write_all(&batch).and_then(|()| out.flush());
        batch.clear();
        if batch.capacity() > MAX_PENDING {
            // A burst's buffer is not kept for ever.
            batch = Vec::new();
        }
        std::thread::sleep(LINGER);
    }
}

impl LineWriter {
    fn append(&self, line: &[u8]) {
        let shared = &*self.0;
        let mut state = shared.lock();
        while state.pending.len() >= MAX_PENDING && !state.closed {
            state = shared
                .room
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        state.pending.extend_from_slice(line);
        if state.writer_asleep {
            state.writer_asleep = false;
            drop(state);
            shared.lines.notify_one();
        }
    }

    fn close(&self) {
        self.0.lock().closed = true;
        self.0.lines.notify_one();
        self.0.room.notify_all();
    }
}

impl Drop for WriterGuard {
    fn drop(&mut self) {
        self.writer.close();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One line's writer (the fmt layer writes each formatted line with one `write_all`).
#[derive(Debug)]
pub(crate) struct LineWrite<'a>(&'a LineWriter);

impl Write for LineWrite<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.append(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LineWriter {
    type Writer = LineWrite<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWrite(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `Write` into a shared vector.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_is_written_whole_and_in_order_by_the_time_the_guard_is_dropped() {
        let sink = Sink::default();
        let (writer, guard) = spawn(sink.clone()).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let writer = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..5000 {
                        // One `write_all` per line, as the fmt layer writes an event.
                        let line = format!("thread {t} line {i}\n");
                        writer.make_writer().write_all(line.as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        drop(guard);
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 20_000);
        for t in 0..4 {
            let prefix = format!("thread {t} line ");
            let numbers: Vec<usize> = lines
                .iter()
                .filter_map(|l| l.strip_prefix(&prefix))
                .map(|n| n.parse().unwrap())
                .collect();
            assert_eq!(numbers, (0..5000).collect::<Vec<_>>(), "thread {t}");
        }
    }

    #[test]
    fn a_logger_waits_for_room_rather_than_dropping_a_line() {
        /// A sink that takes its time, so the buffer fills.
        #[derive(Clone, Default)]
        struct Slow(Sink);
        impl Write for Slow {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                std::thread::sleep(Duration::from_millis(20));
                self.0.write(buf)
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let slow = Slow::default();
        let (writer, guard) = spawn(slow.clone()).unwrap();
        let line = vec![b'x'; 1023];
        for _ in 0..(3 * MAX_PENDING / 1024) {
            let mut w = writer.make_writer();
            w.write_all(&line).unwrap();
            w.write_all(b"\n").unwrap();
        }
        drop(guard);
        assert_eq!(slow.0 .0.lock().unwrap().len(), 3 * MAX_PENDING);
    }
}
