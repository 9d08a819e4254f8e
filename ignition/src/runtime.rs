//! The process around an app: the log subscriber `App::run` installs, and the signals it
//! stops on.

use std::io::IsTerminal;

/// Log lines waiting for the writer thread before a logging thread waits.
const LOG_LINES_BUFFERED: usize = 16 * 1024;

/// Installs the fmt subscriber on stderr, once. A background thread writes the lines, a
/// batch per system call, so a request or a poll never waits on stderr (one log line
/// per finished task otherwise costs ~10 % of create throughput); no line is dropped
/// (senders wait when LOG_LINES_BUFFERED lines are pending), and the guard flushes the
/// rest when `run` returns. With a subscriber already set, nothing (no writer thread).
pub(crate) fn init_logging() -> Option<tracing_appender::non_blocking::WorkerGuard> {
    if tracing::dispatcher::has_been_set() {
        return None;
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        // The channel is allocated (and touched) up front: the default 128k lines are
        // 4 MiB of RSS; 16k lines (512 KiB) still absorb any burst the writer lags behind.
        .buffered_lines_limit(LOG_LINES_BUFFERED)
        .finish(std::io::BufWriter::new(std::io::stderr()));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init()
        .ok()
        .map(|()| guard)
}

/// Waits for SIGTERM or Ctrl-C.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
