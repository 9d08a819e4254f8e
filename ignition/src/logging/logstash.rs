//! `LOG_TYPE=logstash`: one JSON object per line, the fields of the Python framework's
//! `LogstashFormatter` (ignition 1.1.0) first, then the `traceCtx.*` fields of the trace
//! context the event is logged in, then the event's own fields, then those of the spans
//! the event is in (innermost first), each key once.

use std::cell::RefCell;
use std::fmt;

use serde::ser::{SerializeMap, Serializer as _};
use serde::Serialize;
use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::tracectx;

/// The keys every line has, in order; an event or span field of the same name is written
/// as `fields.<name>` instead.
const FIXED_KEYS: [&str; 10] = [
    "@timestamp",
    "@version",
    "message",
    "host",
    "path",
    "tags",
    "type",
    "thread_name",
    "level",
    "logger_name",
];

/// The event formatter (use it with [`NoFields`] and [`SpanFieldsLayer`]).
#[derive(Debug, Clone)]
pub(crate) struct Logstash {
    host: String,
}

impl Logstash {
    /// A formatter whose lines name this host.
    pub(crate) fn new(host: String) -> Self {
        Self { host }
    }
}

/// Python's level names (tracing's TRACE is below Python's lowest, DEBUG).
pub(crate) fn python_level(level: &Level) -> &'static str {
    match *level {
        Level::TRACE | Level::DEBUG => "DEBUG",
        Level::INFO => "INFO",
        Level::WARN => "WARNING",
        Level::ERROR => "ERROR",
    }
}

impl<S, N> FormatEvent<S, N> for Logstash
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
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        let mut fields = EventFields {
            message: None,
            fields: Fields::default(),
            from_log: normalized.is_some(),
        };
        event.record(&mut fields);
        let thread = std::thread::current();
        let thread_id;
        let thread_name = match thread.name() {
            Some(name) => name,
            None => {
                thread_id = format!("{:?}", thread.id());
                &thread_id
            }
        };
        let path = meta.file().or(meta.module_path()).unwrap_or("");

        let timestamp =
            humantime_serde::re::humantime::format_rfc3339_millis(std::time::SystemTime::now());
        // serde_json writes bytes: into a reused buffer, then the line in one piece.
        thread_local! {
            static LINE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
        }
        LINE.with(|line| {
            let mut reused = line.try_borrow_mut();
            let mut fresh = Vec::new();
            let line = match reused.as_deref_mut() {
                Ok(line) => line,
                // Re-entered (a logging panic hook, say): a buffer of its own.
                Err(_) => &mut fresh,
            };
            line.clear();
            let mut out = serde_json::Serializer::new(&mut *line);
            let mut map = out.serialize_map(None).map_err(|_| fmt::Error)?;
            let fixed = (|| {
                map.serialize_entry("@timestamp", &Displayed(timestamp))?;
                map.serialize_entry("@version", "1")?;
                map.serialize_entry("message", fields.message.as_deref().unwrap_or(""))?;
                map.serialize_entry("host", &self.host)?;
                map.serialize_entry("path", path)?;
                map.serialize_entry("tags", &[] as &[&str])?;
                map.serialize_entry("type", "logstash")?;
                map.serialize_entry("thread_name", thread_name)?;
                map.serialize_entry("level", python_level(meta.level()))?;
                map.serialize_entry("logger_name", meta.target())
            })();
            fixed.map_err(|_| fmt::Error)?;

            // The trace context of the request or poll being served, then the rest.
            let trace = tracectx::current();
            for (key, value) in trace.fields() {
                map.serialize_entry(key, value).map_err(|_| fmt::Error)?;
            }
            let mut written: Vec<&str> = Vec::new();
            let mut entry = |map: &mut _, key: &'static str, value: &Value| -> fmt::Result {
                if written.contains(&key) || trace.has_key(key) {
                    return Ok(());
                }
                written.push(key);
                write_field(map, key, value)
            };
            for (key, value) in &fields.fields.0 {
                entry(&mut map, key, value)?;
            }
            if let Some(scope) = ctx.event_scope() {
                for span in scope {
                    let extensions = span.extensions();
                    if let Some(span_fields) = extensions.get::<Fields>() {
                        for (key, value) in &span_fields.0 {
                            entry(&mut map, key, value)?;
                        }
                    }
                }
            }
            SerializeMap::end(map).map_err(|_| fmt::Error)?;
            line.push(b'\n');
            // serde_json writes valid UTF-8 (its input is `str`s).
            writer.write_str(std::str::from_utf8(line).map_err(|_| fmt::Error)?)
        })
    }
}

/// Writes one field, renamed `fields.<key>` when it would shadow a fixed key.
fn write_field<M: SerializeMap>(map: &mut M, key: &str, value: &Value) -> fmt::Result {
    let result = if FIXED_KEYS.contains(&key) {
        map.serialize_entry(&format!("fields.{key}"), value)
    } else {
        map.serialize_entry(key, value)
    };
    result.map_err(|_| fmt::Error)
}

/// A `Display` value serialized as a JSON string without an intermediate `String`.
struct Displayed<T>(T);

impl<T: fmt::Display> Serialize for Displayed<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

/// Fields as JSON values, in the order recorded; also the span extension
/// [`SpanFieldsLayer`] keeps.
#[derive(Debug, Default)]
pub(crate) struct Fields(Vec<(&'static str, Value)>);

impl Fields {
    fn set(&mut self, key: &'static str, value: Value) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, old)) => *old = value,
            None => self.0.push((key, value)),
        }
    }
}

impl Visit for Fields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.set(field.name(), Value::from(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.set(field.name(), Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.set(field.name(), Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.set(field.name(), Value::from(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.set(field.name(), Value::from(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.set(field.name(), Value::from(value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.set(field.name(), Value::from(format!("{value:?}")));
    }
}

/// An event's fields: `message` apart, and the `log.*` fields of a `log` record skipped
/// (their values are the line's `path` and `logger_name`).
struct EventFields {
    message: Option<String>,
    fields: Fields,
    from_log: bool,
}

impl EventFields {
    fn skip(&self, field: &Field) -> bool {
        self.from_log && field.name().starts_with("log.")
    }
}

impl Visit for EventFields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.fields.record_f64(field, value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if !self.skip(field) {
            self.fields.record_i64(field, value);
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if !self.skip(field) {
            self.fields.record_u64(field, value);
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.record_bool(field, value);
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = Some(value.to_string());
        } else if !self.skip(field) {
            self.fields.record_str(field, value);
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.fields.record_error(field, value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.message = Some(format!("{value:?}"));
        } else if !self.skip(field) {
            self.fields.record_debug(field, value);
        }
    }
}

/// Keeps each span's fields as JSON values (in the span's extensions), for the lines
/// logged inside it: recorded once when the span opens (or a field is recorded later),
/// not formatted again for every line.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SpanFieldsLayer;

impl<S> Layer<S> for SpanFieldsLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if fields.0.is_empty() {
            return;
        }
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        match extensions.get_mut::<Fields>() {
            Some(fields) => values.record(fields),
            None => {
                let mut fields = Fields::default();
                values.record(&mut fields);
                extensions.insert(fields);
            }
        }
    }
}

/// A field formatter that formats nothing: in logstash mode span fields come from
/// [`SpanFieldsLayer`], so the fmt layer need not format them as text too.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NoFields;

impl<'writer> FormatFields<'writer> for NoFields {
    fn format_fields<R: tracing_subscriber::field::RecordFields>(
        &self,
        _writer: Writer<'writer>,
        _fields: R,
    ) -> fmt::Result {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logging::test_lines::Lines;
    use crate::tracectx::TraceCtx;
    use tracing_subscriber::layer::SubscriberExt;

    fn logged(f: impl FnOnce()) -> Vec<serde_json::Map<String, Value>> {
        let lines = Lines::default();
        let sink = lines.clone();
        let subscriber = tracing_subscriber::registry().with(SpanFieldsLayer).with(
            tracing_subscriber::fmt::layer()
                .event_format(Logstash::new("h1".into()))
                .fmt_fields(NoFields)
                .with_writer(move || sink.clone()),
        );
        tracing::subscriber::with_default(subscriber, f);
        let text = lines.text();
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}")))
            .collect()
    }

    #[test]
    fn the_fixed_fields_come_first_then_the_event_then_its_spans() {
        let lines = logged(|| {
            let outer = tracing::info_span!("request", "traceCtx.transactionid" = "t-1", n = 1);
            let _outer = outer.enter();
            let inner = tracing::info_span!("poll", n = 2, later = tracing::field::Empty);
            let _inner = inner.enter();
            inner.record("later", "set");
            tracing::warn!(target: "my::target", count = 3u64, ok = true, ratio = 0.5, who = %"me", "hello {}", "world");
        });
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        let keys: Vec<&str> = line.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "@timestamp",
                "@version",
                "message",
                "host",
                "path",
                "tags",
                "type",
                "thread_name",
                "level",
                "logger_name",
                "count",
                "ok",
                "ratio",
                "who",
                "n",
                "later",
                "traceCtx.transactionid"
            ]
        );
        assert_eq!(line["message"], "hello world");
        assert_eq!(line["@version"], "1");
        assert_eq!(line["host"], "h1");
        assert!(line["path"].as_str().unwrap().ends_with("logstash.rs"));
        assert_eq!(line["tags"], serde_json::json!([]));
        assert_eq!(line["type"], "logstash");
        assert_eq!(line["level"], "WARNING");
        assert_eq!(line["logger_name"], "my::target");
        assert_eq!(line["count"], 3);
        assert_eq!(line["ok"], true);
        assert_eq!(line["ratio"], 0.5);
        assert_eq!(line["who"], "me");
        assert_eq!(line["n"], 2, "the innermost span wins");
        assert_eq!(
            line["later"], "set",
            "a field recorded after the span opened"
        );
        assert_eq!(line["traceCtx.transactionid"], "t-1");
        let timestamp = line["@timestamp"].as_str().unwrap();
        assert_eq!(
            timestamp.len(),
            "2026-12-01T20:58:08.123Z".len(),
            "{timestamp}"
        );
        assert!(
            timestamp.ends_with('Z') && timestamp.as_bytes()[19] == b'.',
            "{timestamp}"
        );
        humantime_serde::re::humantime::parse_rfc3339(timestamp).unwrap();
    }

    #[test]
    fn the_trace_context_comes_after_the_fixed_fields_and_wins_over_a_span_field() {
        let mut headers = poem::http::HeaderMap::new();
        headers.insert("x-tracectx-transactionid", "t-1".parse().unwrap());
        headers.insert("x-tracectx-processid", "p-1".parse().unwrap());
        let ctx = TraceCtx::from_headers(&headers);
        let lines = logged(|| {
            tracectx::sync_run(ctx.clone(), || {
                let _driver =
                    tracing::info_span!("driver", "traceCtx.processid" = "shadow").entered();
                tracing::info!(n = 1, "inside");
            });
        });
        let line = &lines[0];
        let keys: Vec<&str> = line.keys().map(String::as_str).skip(10).collect();
        assert_eq!(
            keys,
            ["traceCtx.transactionid", "traceCtx.processid", "n"],
            "{line:?}"
        );
        assert_eq!(line["traceCtx.transactionid"], "t-1");
        assert_eq!(line["traceCtx.processid"], "p-1", "the context wins");
        assert_eq!(line["message"], "inside");
    }

    #[test]
    fn a_field_named_like_a_fixed_key_does_not_replace_it() {
        let lines = logged(|| {
            let span = tracing::info_span!("s", level = "span level");
            let _span = span.enter();
            tracing::info!(path = "/api/infrastructure/create", host = 7, "request");
        });
        let line = &lines[0];
        assert!(line["path"].as_str().unwrap().ends_with("logstash.rs"));
        assert_eq!(line["fields.path"], "/api/infrastructure/create");
        assert_eq!(line["host"], "h1");
        assert_eq!(line["fields.host"], 7);
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["fields.level"], "span level");
    }

    #[test]
    fn an_event_without_a_message_and_quotes_and_newlines_stay_valid_json() {
        let lines = logged(|| {
            tracing::trace!(n = 1);
            tracing::error!(text = "a \"quoted\"\nline\u{1b}", "multi\nline \\ message");
        });
        assert_eq!(lines[0]["message"], "");
        assert_eq!(lines[0]["level"], "DEBUG", "TRACE is Python's DEBUG");
        assert_eq!(lines[1]["message"], "multi\nline \\ message");
        assert_eq!(lines[1]["text"], "a \"quoted\"\nline\u{1b}");
        assert_eq!(lines[1]["level"], "ERROR");
    }

    #[test]
    fn python_level_names() {
        assert_eq!(python_level(&Level::TRACE), "DEBUG");
        assert_eq!(python_level(&Level::DEBUG), "DEBUG");
        assert_eq!(python_level(&Level::INFO), "INFO");
        assert_eq!(python_level(&Level::WARN), "WARNING");
        assert_eq!(python_level(&Level::ERROR), "ERROR");
    }
}
