//! The log subscriber [`App::run`](crate::App::run) installs on stderr: readable lines
//! (`flat`) or one JSON object per line (`logstash`, the Python framework's fields), at
//! the configured level, every line passing through the private key filter, written by a
//! background thread.

mod flat;
mod logstash;
mod redact;
mod writer;

#[cfg(test)]
mod test_lines;

use std::io::IsTerminal;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use crate::config::{LogLevel, LogType, LoggingProperties};

/// Installs the subscriber on stderr, once. A background thread writes the lines, a
/// batch per system call, so a request or a poll never waits on stderr (`writer`); no
/// line is dropped (loggers wait when the writer lags too far behind), and the guard
/// writes the rest when `run` returns. Panics are logged as ERROR lines (target `panic`) through the
/// same subscriber instead of Rust's default message. With a subscriber already set,
/// nothing (no writer thread, no panic hook).
pub(crate) fn init(settings: &LoggingProperties) -> Option<writer::WriterGuard> {
    if tracing::dispatcher::has_been_set() {
        return None;
    }
    let (filter, refused) = filter(settings.level, std::env::var("RUST_LOG").ok());
    let (writer, guard) = match writer::spawn(std::io::stderr()) {
        Ok(started) => started,
        Err(err) => {
            eprintln!("cannot start the log writer thread ({err}): no log lines");
            return None;
        }
    };
    let writer = redact::Redacting(writer);
    let registry = tracing_subscriber::registry().with(filter);
    let installed = match settings.r#type {
        LogType::Logstash => registry
            .with(logstash::SpanFieldsLayer)
            .with(
                tracing_subscriber::fmt::layer()
                    .event_format(logstash::Logstash::new(hostname()))
                    .fmt_fields(logstash::NoFields)
                    .with_ansi(false)
                    .with_writer(writer),
            )
            .try_init(),
        LogType::Flat => {
            let ansi = std::io::stderr().is_terminal();
            registry
                .with(
                    tracing_subscriber::fmt::layer()
                        .event_format(flat::Flat::new(ansi))
                        .with_ansi(ansi)
                        .with_writer(writer),
                )
                .try_init()
        }
    };
    installed.ok()?;
    std::panic::set_hook(Box::new(log_panic));
    if let Some(why) = refused {
        tracing::warn!(
            "RUST_LOG ignored ({why}); logging at level {:?}",
            settings.level
        );
    }
    Some(guard)
}

/// The filter: `RUST_LOG` when it is set and parses (else the reason it was refused),
/// otherwise `level`.
fn filter(level: LogLevel, rust_log: Option<String>) -> (EnvFilter, Option<String>) {
    let mut refused = None;
    if let Some(directives) = rust_log.filter(|d| !d.trim().is_empty()) {
        match EnvFilter::builder().parse(&directives) {
            Ok(filter) => return (filter, None),
            Err(err) => refused = Some(format!("`{directives}`: {err}")),
        }
    }
    (EnvFilter::new(level_directives(level)), refused)
}

/// The tracing directives of a level. Below INFO the Kafka client stays at INFO, as the
/// Python framework keeps its `kafka` logger (use `RUST_LOG` for more).
fn level_directives(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Trace => "trace,rdkafka=info",
        LogLevel::Debug => "debug,rdkafka=info",
        LogLevel::Info => "info",
        LogLevel::Warning => "warn",
        LogLevel::Error | LogLevel::Critical => "error",
    }
}

/// The panic hook: one ERROR line, inside the spans of the panicking code (so it carries
/// their fields), with `stack_trace` (the backtrace when `RUST_BACKTRACE` asks for one).
fn log_panic(info: &std::panic::PanicHookInfo<'_>) {
    let what = crate::util::panic_message(info.payload());
    let thread = std::thread::current();
    let thread = thread.name().unwrap_or("<unnamed>");
    let location = info
        .location()
        .map(|l| l.to_string())
        .unwrap_or_else(|| "an unknown location".into());
    let backtrace = std::backtrace::Backtrace::capture();
    let stack_trace = match backtrace.status() {
        std::backtrace::BacktraceStatus::Captured => format!("{location}\n{backtrace}"),
        _ => format!("{location}\n(no backtrace: run with RUST_BACKTRACE=1 for one)"),
    };
    tracing::error!(target: "panic", %stack_trace, "thread '{thread}' panicked at {location}: {what}");
}

/// This machine's name, for the `host` field: the kernel's (on Linux, the pod's name in
/// Kubernetes), else `$HOSTNAME`, else `localhost`.
fn hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .chain(std::env::var("HOSTNAME").ok())
        .chain(std::env::var("COMPUTERNAME").ok())
        .map(|name| name.trim().to_string())
        .find(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_level_names_map_to_tracing_levels() {
        let directives = |name: &str| level_directives(name.parse::<LogLevel>().unwrap());
        assert_eq!(directives("DEBUG"), "debug,rdkafka=info");
        assert_eq!(directives("INFO"), "info");
        assert_eq!(directives("info"), "info");
        assert_eq!(directives("WARNING"), "warn");
        assert_eq!(directives("WARN"), "warn");
        assert_eq!(directives("ERROR"), "error");
        assert_eq!(directives("CRITICAL"), "error");
        assert_eq!(directives("FATAL"), "error");
        assert_eq!(directives("TRACE"), "trace,rdkafka=info");
        let err = "VERBOSE".parse::<LogLevel>().unwrap_err();
        assert!(
            err.contains("DEBUG, INFO, WARNING, ERROR, CRITICAL"),
            "{err}"
        );
    }

    #[test]
    fn log_types_are_read_in_any_case() {
        assert_eq!("logstash".parse::<LogType>(), Ok(LogType::Logstash));
        assert_eq!("LogStash".parse::<LogType>(), Ok(LogType::Logstash));
        assert_eq!("flat".parse::<LogType>(), Ok(LogType::Flat));
        assert!("json".parse::<LogType>().is_err());
    }

    #[test]
    fn rust_log_wins_when_it_parses() {
        let (filter, refused) = filter(LogLevel::Warning, Some("ignition=debug".into()));
        assert_eq!(filter.to_string(), "ignition=debug");
        assert_eq!(refused, None);
        let (filter, refused) = filter_of(LogLevel::Warning, Some("  ".into()));
        assert_eq!(filter, "warn");
        assert_eq!(refused, None);
        let (filter, refused) = filter_of(LogLevel::Error, Some("ignition=loud".into()));
        assert_eq!(filter, "error");
        assert!(refused.unwrap().contains("ignition=loud"));
    }

    fn filter_of(level: LogLevel, rust_log: Option<String>) -> (String, Option<String>) {
        let (filter, refused) = filter(level, rust_log);
        (filter.to_string(), refused)
    }

    #[test]
    fn the_host_has_a_name() {
        assert!(!hostname().is_empty());
    }
}
