//! The log lines a test's server writes, captured on the test's thread: the tests'
//! runtime is single-threaded, so the server's tasks log there too.

use std::io::Write;
use std::sync::{Arc, Mutex};

/// The log lines written on this thread at `level` and above while it lives.
pub struct Logs {
    lines: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
    _second: tracing::Dispatch,
}

impl Logs {
    /// Starts capturing lines at `level` and above (plain text, no colours).
    pub fn capture(level: tracing::Level) -> Self {
        // While exactly one dispatcher exists, a callsite first reached on a thread
        // without one (another test's) is cached as never enabled, for every thread
        // (tokio-rs/tracing#3611, #2874); with two the interest is asked of both.
        let second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
        let lines = Arc::new(Mutex::new(Vec::new()));
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(level)
            .with_writer(move || LogWriter(writer.clone()))
            .finish();
        Self {
            lines,
            _guard: tracing::subscriber::set_default(subscriber),
            _second: second,
        }
    }

    /// Every line so far.
    pub fn lines(&self) -> Vec<String> {
        let bytes = self.lines.lock().expect("the capture's lock");
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// The lines containing `needle`.
    pub fn matching(&self, needle: &str) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|line| line.contains(needle))
            .collect()
    }
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("the capture's lock")
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
