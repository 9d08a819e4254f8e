//! `LOG_TYPE=flat` (the default): tracing-subscriber's readable lines, with the trace
//! context of the request or poll being served appended as `traceCtx.<name>=value`
//! fields after the event's own.

use std::fmt;

use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{Format, Full, Writer};
use tracing_subscriber::fmt::time::SystemTime;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::tracectx;

/// The flat event formatter.
#[derive(Debug, Clone)]
pub(crate) struct Flat {
    inner: Format<Full, SystemTime>,
}

impl Flat {
    /// Readable lines, coloured when `ansi`.
    pub(crate) fn new(ansi: bool) -> Self {
        Self {
            // Format's own ANSI switch: the line is written through `HoldNewline`, a
            // writer of ours, which tracing-subscriber cannot mark as a terminal.
            #[allow(deprecated)]
            inner: Format::default().with_ansi(ansi),
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
            return self.inner.format_event(ctx, writer, event);
        }
        // The line without its newline, then the context, then the newline.
        let mut held = HoldNewline {
            out: &mut writer,
            held: false,
        };
        self.inner
            .format_event(ctx, Writer::new(&mut held), event)?;
        write!(writer, " {trace}")?;
        writer.write_char('\n')
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
        let lines = Lines::default();
        let sink = lines.clone();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .event_format(Flat::new(false))
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
}
