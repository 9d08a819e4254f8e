//! `LOG_TYPE=flat` (the default): tracing-subscriber's readable lines, with the trace
//! context of the request or poll being served appended as `traceCtx.<name>=value`
//! fields after the event's own.
//!
//! The lines are tracing-subscriber's `Full` format, byte for byte (a test holds the two
//! side by side), but an event outside any span and without colours is written here
//! rather than by tracing-subscriber: its formatter took about 11 000 instructions per line
//! (a calendar computed for every time stamp, every character of the message written one
//! at a time through its escaping), which made the `info` line of each finished task a
//! quarter of a monitored create's cost (docs/BENCHMARKS.md). Events in spans, coloured
//! lines and `log` records still go through tracing-subscriber.

use std::cell::Cell;
use std::fmt::{self, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::field::VisitOutput;
use tracing_subscriber::fmt::format::{DefaultVisitor, Format, Full, Writer};
use tracing_subscriber::fmt::time::SystemTime as SystemClock;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::tracectx;

/// The flat event formatter.
#[derive(Debug, Clone)]
pub(crate) struct Flat {
    inner: Format<Full, SystemClock>,
    ansi: bool,
}

impl Flat {
    /// Readable lines, coloured when `ansi`.
    pub(crate) fn new(ansi: bool) -> Self {
        Self {
            // Format's own ANSI switch: the line is written through `HoldNewline`, a
            // writer of ours, which tracing-subscriber cannot mark as a terminal.
            #[allow(deprecated)]
            inner: Format::default().with_ansi(ansi),
            ansi,
        }
    }

    /// The line as tracing-subscriber writes it, or as [`write_plain`] does when it can.
    fn write_line<S, N>(
        &self,
        ctx: &FmtContext<'_, S, N>,
        writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
        N: for<'a> FormatFields<'a> + 'static,
    {
        let plain = !self.ansi
            && !writer.has_ansi_escapes()
            && event.normalized_metadata().is_none()
            && ctx.event_scope().is_none();
        match plain
            .then(|| SystemTime::now().duration_since(UNIX_EPOCH).ok())
            .flatten()
        {
            Some(now) => write_plain(now, writer, event),
            None => self.inner.format_event(ctx, writer, event),
        }
    }
}

impl<S, N> FormatEvent<S, N> for Flat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let trace = tracectx::current();
        if trace.is_empty() {
            return self.write_line(ctx, writer, event);
        }
        // The line without its newline, then the context, then the newline.
        let mut held = HoldNewline {
            out: &mut writer,
            held: false,
        };
        self.write_line(ctx, Writer::new(&mut held), event)?;
        write!(writer, " {trace}")?;
        writer.write_char('\n')
    }
}

/// An event outside any span, without colours, as `Format<Full, SystemTime>` writes it:
/// `2026-12-07T07:34:33.123456Z  INFO target: message field=value ...`.
fn write_plain(now: std::time::Duration, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
    write_timestamp(now, &mut writer)?;
    let meta = event.metadata();
    writer.write_str(level_text(meta.level()))?;
    writer.write_str(meta.target())?;
    writer.write_str(": ")?;
    let mut fields = PlainFields {
        out: writer.by_ref(),
        first: true,
        result: Ok(()),
    };
    event.record(&mut fields);
    fields.result?;
    writer.write_char('\n')
}

/// The level as tracing-subscriber pads it, and the space after it.
fn level_text(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "TRACE ",
        Level::DEBUG => "DEBUG ",
        Level::INFO => " INFO ",
        Level::WARN => " WARN ",
        Level::ERROR => "ERROR ",
    }
}

thread_local! {
    /// The second last written by this thread and its `YYYY-MM-DDTHH:MM:SS`: the calendar
    /// is worked out once a second, not for every line.
    static SECOND: Cell<(u64, [u8; 19])> = const { Cell::new((u64::MAX, [0; 19])) };
}

/// `2026-12-07T07:34:33.123456Z ` (UTC, microseconds, and the space after it).
fn write_timestamp(now: std::time::Duration, out: &mut impl fmt::Write) -> fmt::Result {
    let seconds = now.as_secs();
    let (cached, mut date) = SECOND.get();
    if cached != seconds {
        let text =
            humantime_serde::re::humantime::format_rfc3339_seconds(UNIX_EPOCH + now).to_string();
        match text.as_bytes().get(..19) {
            // Years past 9999 are written another way: not cached.
            Some(head) if text.len() == 20 => date.copy_from_slice(head),
            _ => {
                return write!(
                    out,
                    "{}.{:06}Z ",
                    &text[..text.len() - 1],
                    now.subsec_micros()
                )
            }
        }
        SECOND.set((seconds, date));
    }
    let mut tail = *b".000000Z ";
    let mut micros = now.subsec_micros();
    for digit in tail[1..7].iter_mut().rev() {
        *digit = b'0' + (micros % 10) as u8;
        micros /= 10;
    }
    // Both are ASCII.
    out.write_str(std::str::from_utf8(&date).map_err(|_| fmt::Error)?)?;
    out.write_str(std::str::from_utf8(&tail).map_err(|_| fmt::Error)?)
}

/// The event's fields as tracing-subscriber's `DefaultVisitor` writes them without
/// colours: the message as it is (control characters escaped), then ` name=value` with
/// each value's `Debug`.
struct PlainFields<'a> {
    out: Writer<'a>,
    first: bool,
    result: fmt::Result,
}

impl PlainFields<'_> {
    /// The space between two fields.
    fn pad(&mut self) -> fmt::Result {
        if std::mem::take(&mut self.first) {
            Ok(())
        } else {
            self.out.write_char(' ')
        }
    }
}

impl Visit for PlainFields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        let name = field.name();
        if name == "message" {
            return self.record_debug(field, &format_args!("{value}"));
        }
        // `Debug` of a string of printable ASCII without quotes or backslashes is the
        // string in quotes: written as it is rather than a character at a time.
        let plain = value
            .bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\');
        if !plain || self.result.is_err() || name.starts_with("log.") || name.starts_with("r#") {
            return self.record_debug(field, &value);
        }
        self.result = self.pad().and_then(|()| {
            self.out.write_str(name)?;
            self.out.write_str("=\"")?;
            self.out.write_str(value)?;
            self.out.write_char('"')
        });
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        // Rare enough to leave to tracing-subscriber (the error's sources as a list).
        if self.result.is_err() {
            return;
        }
        let mut visitor = DefaultVisitor::new(self.out.by_ref(), self.first);
        visitor.record_error(field, value);
        self.first = false;
        self.result = visitor.finish();
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let name = field.name();
        if self.result.is_err() || name.starts_with("log.") {
            return;
        }
        self.result = self.pad().and_then(|()| match name {
            "message" if self.out.sanitizes_ansi_escapes() => {
                write!(Escaping(&mut self.out), "{value:?}")
            }
            "message" => write!(self.out, "{value:?}"),
            name => {
                let name = name.strip_prefix("r#").unwrap_or(name);
                write!(self.out, "{name}={value:?}")
            }
        });
    }
}

/// Writes text with the control characters a terminal would act on escaped, as
/// tracing-subscriber does with messages (`\x1b`, `\u{9b}`, ...); text without any passes
/// through in one piece.
struct Escaping<'a, 'w>(&'a mut Writer<'w>);

impl fmt::Write for Escaping<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let clean = s
            .bytes()
            .all(|b| b < 0x7f && !matches!(b, 0x1b | 0x07 | 0x08 | 0x0c));
        if clean {
            return self.0.write_str(s);
        }
        for c in s.chars() {
            match c {
                '\x1b' => self.0.write_str("\\x1b")?,
                '\x07' => self.0.write_str("\\x07")?,
                '\x08' => self.0.write_str("\\x08")?,
                '\x0c' => self.0.write_str("\\x0c")?,
                '\x7f' => self.0.write_str("\\x7f")?,
                c if ('\u{80}'..='\u{9f}').contains(&c) => write!(self.0, "\\u{{{:x}}}", c as u32)?,
                c => self.0.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// Passes text through, keeping back a newline at the end of what was written so far.
struct HoldNewline<'a, 'w> {
    out: &'a mut Writer<'w>,
    held: bool,
}

impl fmt::Write for HoldNewline<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if s.is_empty() {
            return Ok(());
        }
        if std::mem::take(&mut self.held) {
            self.out.write_char('\n')?;
        }
        match s.strip_suffix('\n') {
            Some(head) => {
                self.held = true;
                self.out.write_str(head)
            }
            None => self.out.write_str(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logging::test_lines::Lines;
    use crate::tracectx::TraceCtx;
    use tracing_subscriber::layer::SubscriberExt;

    fn logged(f: impl FnOnce()) -> String {
        logged_by(Flat::new(false), f)
    }

    fn logged_by<F>(format: F, f: impl FnOnce()) -> String
    where
        F: for<'w> FormatEvent<
                tracing_subscriber::Registry,
                tracing_subscriber::fmt::format::DefaultFields,
            > + Send
            + Sync
            + 'static,
    {
        let lines = Lines::default();
        let sink = lines.clone();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .event_format(format)
                .with_ansi(false)
                .with_writer(move || sink.clone()),
        );
        tracing::subscriber::with_default(subscriber, f);
        lines.text()
    }

    #[test]
    fn flat_lines_end_with_the_trace_context_as_fields() {
        let mut headers = poem::http::HeaderMap::new();
        headers.insert("x-tracectx-transactionid", "t-1".parse().unwrap());
        headers.insert("x-tracectx-processid", "p 1".parse().unwrap());
        let ctx = TraceCtx::from_headers(&headers);
        let text = logged(|| {
            tracectx::sync_run(ctx, || {
                tracing::warn!(n = 1, "inside");
                tracing::info!("multi\nline");
            });
            tracing::info!("outside");
        });
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(
            lines[0].ends_with(r#"inside n=1 traceCtx.transactionid=t-1 traceCtx.processid="p 1""#),
            "{text}"
        );
        assert_eq!(lines[1].split(" multi").count(), 2, "{text}");
        assert!(
            lines[2].ends_with(r#"line traceCtx.transactionid=t-1 traceCtx.processid="p 1""#),
            "a newline inside the message stays: {text}"
        );
        assert!(lines[3].ends_with("outside"), "no context outside: {text}");
        assert!(text.ends_with('\n'));
    }

    /// Every kind of field, message and level the plain writer handles, and those it
    /// leaves to tracing-subscriber.
    fn all_kinds_of_event() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer \x1b[31m")]
        struct Outer(#[source] std::io::Error);
        let inner = std::io::Error::other("inner");
        tracing::info!("only a message");
        tracing::warn!(
            n = 1,
            big = u64::MAX,
            neg = -3i64,
            yes = true,
            f = 1.5f64,
            "numbers"
        );
        tracing::error!(text = "quoted \"and\" \\ escaped\n", plain = "a plain ~ string", unicode = "é\u{200b}", shown = %"display", dbg = ?Some("x"), "strings");
        tracing::debug!(r#type = "raw", "a raw identifier");
        tracing::trace!("no fields at trace");
        tracing::info!(
            error = &Outer(inner) as &(dyn std::error::Error + 'static),
            "an error with its source"
        );
        tracing::info!(
            error = &std::io::Error::other("plain") as &(dyn std::error::Error + 'static),
            "an error"
        );
        tracing::info!("control \x1b[2J \x07 \x08 \x0c \x7f \u{9b} \u{a0} é and\nnewline");
        tracing::info!(target: "some::other::target", field = 1);
        tracing::info!(only = "fields, no message");
        tracing::info!("");
        let template = "a {} message";
        tracing::info!(template, "formatted {}", 42);
        let span = tracing::info_span!("a_span", id = 7);
        span.in_scope(|| tracing::info!(inside = true, "in a span"));
    }

    #[test]
    fn plain_lines_are_tracing_subscribers_full_format_byte_for_byte() {
        let ours = logged(all_kinds_of_event);
        let reference = logged_by(Format::default().with_ansi(false), all_kinds_of_event);
        let (ours, reference): (Vec<&str>, Vec<&str>) =
            (ours.lines().collect(), reference.lines().collect());
        assert_eq!(ours.len(), reference.len(), "{ours:#?}\n{reference:#?}");
        assert_eq!(ours.len(), 14, "{ours:#?}");
        for (a, b) in ours.iter().zip(&reference) {
            // The time stamps differ by when each was written; the rest must not.
            let stamp = "2026-12-07T07:34:33.123456Z ".len();
            assert_eq!(
                a.get(stamp..),
                b.get(stamp..),
                "\nours:      {a}\nreference: {b}"
            );
        }
    }

    #[test]
    fn the_time_stamp_is_rfc3339_in_microseconds_and_utc() {
        for (secs, micros, text) in [
            (0, 0, "1970-01-01T00:00:00.000000Z "),
            (1_796_628_873, 123_456, "2026-12-07T07:34:33.123456Z "),
            (1_796_628_873, 999_999, "2026-12-07T07:34:33.999999Z "),
            (1_796_628_874, 7, "2026-12-07T07:34:34.000007Z "),
            (951_782_400, 500_000, "2000-02-29T00:00:00.500000Z "),
        ] {
            let mut out = String::new();
            let now = std::time::Duration::new(secs, micros * 1000);
            write_timestamp(now, &mut out).unwrap();
            assert_eq!(out, text);
        }
    }
}
