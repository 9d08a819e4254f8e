//! Trace context: the `X-Tracectx-<Name>` headers LM sends on every call, so that one
//! transaction can be followed across LM, the driver and the VIM.
//!
//! Each header of a request to an operation (of either API) becomes the log field
//! `traceCtx.<name lower-cased>` (Python 1.x naming) on every line logged while that
//! request is served: [`run`] makes it the task's [`current`] context (a task-local), which
//! both log formatters read for each line, and from which the task monitor copies it into
//! the monitoring job. Each poll of the task runs in the job's context, and its event
//! carries the context as Kafka message headers named `X-Tracectx-<Name>`.
//!
//! A task-local rather than a `tracing` span: a span per request costs a registry slot,
//! its fields formatted when it opens, and the subscriber at every poll (about a tenth
//! of the request path's CPU on the create benchmark); the task-local costs a clone of
//! an `Arc` per line logged. Like a span that is not passed on, it does not follow work
//! the driver hands to another task (`tokio::spawn`).
//!
//! A request without `X-Tracectx-TransactionId` gets a generated one (a random UUID),
//! answered in the response header `X-Tracectx-TransactionId` with the given one.
//!
//! Bounds: at most [`MAX_HEADERS`] headers are read (later ones dropped), names of at most
//! [`MAX_NAME_BYTES`] bytes of `[A-Za-z0-9-_]` (others dropped), values truncated to
//! [`MAX_VALUE_BYTES`] bytes (at a character boundary; bytes that are not UTF-8 become
//! U+FFFD); a repeated name keeps its first value. Values are data: written as JSON
//! strings (logstash) or quoted when they are not plain (flat), never as format strings.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use poem::http::{HeaderMap, HeaderName, HeaderValue};
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The headers' prefix (header names arrive lower-cased).
const HEADER_PREFIX: &str = "x-tracectx-";
/// The log fields' prefix.
const KEY_PREFIX: &str = "traceCtx.";
/// The name of the transaction id (lower-cased).
const TRANSACTION_ID: &str = "transactionid";
/// `traceCtx.transactionid`.
const TRANSACTION_ID_KEY: &str = "traceCtx.transactionid";
/// The response header with the transaction id.
pub(crate) const TRANSACTION_ID_HEADER: HeaderName =
    HeaderName::from_static("x-tracectx-transactionid");

/// At most this many `X-Tracectx-*` headers of a request are kept (a generated
/// transaction id comes on top).
pub(crate) const MAX_HEADERS: usize = 16;
/// Longer values are truncated to this many bytes.
pub(crate) const MAX_VALUE_BYTES: usize = 256;
/// Headers whose name (after `X-Tracectx-`) is longer are dropped.
pub(crate) const MAX_NAME_BYTES: usize = 64;

/// One context entry: `traceCtx.<name>` and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    /// `traceCtx.<name>`, the name lower-cased.
    key: Cow<'static, str>,
    value: Box<str>,
}

impl Entry {
    fn new(name: &str, value: String) -> Self {
        let key = if name == TRANSACTION_ID {
            Cow::Borrowed(TRANSACTION_ID_KEY)
        } else {
            let mut key = String::with_capacity(KEY_PREFIX.len() + name.len());
            key.push_str(KEY_PREFIX);
            key.extend(name.chars().map(|c| c.to_ascii_lowercase()));
            Cow::Owned(key)
        };
        Self {
            key,
            value: value.into_boxed_str(),
        }
    }

    /// The name, lower-cased (after `X-Tracectx-`).
    fn name(&self) -> &str {
        &self.key[KEY_PREFIX.len()..]
    }
}

/// The trace context of one request or one task: `(name, value)` pairs, names
/// lower-cased, in header order. Cheap to clone; empty allocates nothing.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct TraceCtx(Option<Arc<[Entry]>>);

impl TraceCtx {
    /// The context of a request: its `X-Tracectx-*` headers (within the bounds), and a
    /// generated transaction id when it has none.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Self {
        let mut entries: Vec<Entry> = Vec::new();
        for (name, value) in headers {
            let Some(name) = strip_prefix_ignore_case(name.as_str(), HEADER_PREFIX) else {
                continue;
            };
            if entries.len() >= MAX_HEADERS {
                tracing::debug!(limit = MAX_HEADERS, "X-Tracectx-* header dropped: too many");
                break;
            }
            push(&mut entries, name, value.as_bytes());
        }
        if !entries.iter().any(|e| e.name() == TRANSACTION_ID) {
            entries.insert(0, Entry::new(TRANSACTION_ID, crate::util::random_uuid()));
        }
        Self(Some(entries.into()))
    }

    /// Whether there is no entry.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries().is_empty()
    }

    fn entries(&self) -> &[Entry] {
        self.0.as_deref().unwrap_or_default()
    }

    /// `(traceCtx.<name>, value)` for each entry, the log fields.
    pub(crate) fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries().iter().map(|e| (&*e.key, &*e.value))
    }

    /// Whether `key` is one of the log fields (`traceCtx.<name>`).
    pub(crate) fn has_key(&self, key: &str) -> bool {
        self.entries().iter().any(|e| e.key == key)
    }

    /// The transaction id, if there is one.
    pub(crate) fn transaction_id(&self) -> Option<&str> {
        self.entries()
            .iter()
            .find(|e| e.name() == TRANSACTION_ID)
            .map(|e| &*e.value)
    }

    /// The context as message headers: `X-Tracectx-<Name>` (LM's spelling for
    /// TransactionId, ProcessId and TaskId, else each word capitalised: HTTP header
    /// names arrive lower-cased) and the value.
    pub(crate) fn message_headers(&self) -> Vec<(String, String)> {
        self.entries()
            .iter()
            .map(|e| (header_name(e.name()), e.value.to_string()))
            .collect()
    }
}

/// `rest` of `name` after `prefix` (ASCII case-insensitive).
fn strip_prefix_ignore_case<'a>(name: &'a str, prefix: &str) -> Option<&'a str> {
    let head = name.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &name[prefix.len()..])
}

/// Adds `name` = `value` to `entries` when the name is valid and new.
fn push(entries: &mut Vec<Entry>, name: &str, value: &[u8]) {
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME_BYTES
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        tracing::debug!(
            "X-Tracectx-* header dropped: its name is empty, longer than {MAX_NAME_BYTES} bytes or not [A-Za-z0-9-_]"
        );
        return;
    }
    if entries.iter().any(|e| e.name().eq_ignore_ascii_case(name)) {
        return;
    }
    entries.push(Entry::new(name, bounded_text(value)));
}

/// `bytes` as text of at most [`MAX_VALUE_BYTES`] bytes, cut at a character boundary;
/// bytes that are not UTF-8 become U+FFFD.
fn bounded_text(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len().min(MAX_VALUE_BYTES));
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        if text.len() + valid.len() <= MAX_VALUE_BYTES {
            text.push_str(valid);
        } else {
            for c in valid.chars() {
                if text.len() + c.len_utf8() > MAX_VALUE_BYTES {
                    return text;
                }
                text.push(c);
            }
        }
        if !chunk.invalid().is_empty() {
            if text.len() + char::REPLACEMENT_CHARACTER.len_utf8() > MAX_VALUE_BYTES {
                return text;
            }
            text.push(char::REPLACEMENT_CHARACTER);
        }
    }
    text
}

/// `X-Tracectx-<Name>` for a lower-cased name.
fn header_name(name: &str) -> String {
    let known = match name {
        "transactionid" => Some("TransactionId"),
        "processid" => Some("ProcessId"),
        "taskid" => Some("TaskId"),
        _ => None,
    };
    let mut header = String::from("X-Tracectx-");
    match known {
        Some(known) => header.push_str(known),
        None => {
            let mut word_start = true;
            for c in name.chars() {
                header.push(if word_start {
                    c.to_ascii_uppercase()
                } else {
                    c
                });
                word_start = c == '-' || c == '_';
            }
        }
    }
    header
}

/// The flat form: `traceCtx.<name>=<value>` separated by spaces; a value that is not
/// plain (`[A-Za-z0-9-_.:/@]`) is quoted and escaped, so it cannot pass for more fields.
impl fmt::Display for TraceCtx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (key, value)) in self.fields().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            let plain = !value.is_empty()
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:/@".contains(&b));
            if plain {
                write!(f, "{key}={value}")?;
            } else {
                write!(f, "{key}={value:?}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for TraceCtx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries().iter().map(|e| (e.name(), &*e.value)))
            .finish()
    }
}

/// A JSON object `{"transactionid": "t-1", ...}` (in a monitoring job).
impl Serialize for TraceCtx {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries().len()))?;
        for entry in self.entries() {
            map.serialize_entry(entry.name(), &*entry.value)?;
        }
        map.end()
    }
}

/// From a JSON object of names and values, within the same bounds as the headers.
impl<'de> Deserialize<'de> for TraceCtx {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = TraceCtx;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of trace context names to values")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TraceCtx, A::Error> {
                /// A value that is not a string is skipped, not an error: a job is
                /// never dropped for its trace context.
                #[derive(Deserialize)]
                #[serde(untagged)]
                enum Text {
                    Text(String),
                    Other(serde::de::IgnoredAny),
                }
                let mut entries = Vec::new();
                while let Some((name, value)) = map.next_entry::<String, Text>()? {
                    // the generated transaction id may come on top of MAX_HEADERS
                    if let (Text::Text(value), true) = (value, entries.len() <= MAX_HEADERS) {
                        push(&mut entries, &name, value.as_bytes());
                    }
                }
                Ok(if entries.is_empty() {
                    TraceCtx::default()
                } else {
                    TraceCtx(Some(entries.into()))
                })
            }
        }
        deserializer.deserialize_map(Entries)
    }
}

tokio::task_local! {
    /// The context of the request or poll the task is serving.
    static CURRENT: TraceCtx;
}

/// The context of the request or poll being served by this task (empty outside one).
pub(crate) fn current() -> TraceCtx {
    CURRENT.try_with(TraceCtx::clone).unwrap_or_default()
}

/// Runs `work` as the task's [`current`] context. (Not an `async fn`: that would hold
/// `work` twice, as its argument and inside the scope, and futures here are large.)
pub(crate) fn run<F: Future>(ctx: TraceCtx, work: F) -> impl Future<Output = F::Output> {
    CURRENT.scope(ctx, work)
}

/// Runs `f` with `ctx` as the [`current`] context (for code that is not a task).
#[cfg(test)]
pub(crate) fn sync_run<R>(ctx: TraceCtx, f: impl FnOnce() -> R) -> R {
    CURRENT.sync_scope(ctx, f)
}

/// The response header value of the context's transaction id.
pub(crate) fn response_header(ctx: &TraceCtx) -> Option<HeaderValue> {
    HeaderValue::from_str(ctx.transaction_id()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn headers_become_lower_cased_fields_in_order() {
        let ctx = TraceCtx::from_headers(&headers(&[
            ("X-Tracectx-TransactionId", b"t-1"),
            ("Content-Type", b"application/json"),
            ("x-tracectx-ProcessId", b"p-1"),
            ("X-TRACECTX-Custom_Name", b"c 1"),
        ]));
        let fields: Vec<_> = ctx.fields().collect();
        assert_eq!(
            fields,
            [
                ("traceCtx.transactionid", "t-1"),
                ("traceCtx.processid", "p-1"),
                ("traceCtx.custom_name", "c 1")
            ]
        );
        assert_eq!(ctx.transaction_id(), Some("t-1"));
        assert_eq!(
            ctx.to_string(),
            r#"traceCtx.transactionid=t-1 traceCtx.processid=p-1 traceCtx.custom_name="c 1""#
        );
        assert_eq!(
            ctx.message_headers(),
            [
                ("X-Tracectx-TransactionId".to_string(), "t-1".to_string()),
                ("X-Tracectx-ProcessId".into(), "p-1".into()),
                ("X-Tracectx-Custom_Name".into(), "c 1".into())
            ]
        );
    }

    #[test]
    fn no_transaction_id_gets_a_generated_uuid() {
        let ctx = TraceCtx::from_headers(&headers(&[("x-tracectx-processid", b"p-1")]));
        let id = ctx.transaction_id().unwrap().to_string();
        assert_eq!(id.len(), 36, "{id}");
        assert_eq!(id.as_bytes()[14], b'4', "version 4: {id}");
        assert!(
            matches!(id.as_bytes()[19], b'8' | b'9' | b'a' | b'b'),
            "variant RFC 4122: {id}"
        );
        let dashes: Vec<usize> = id.match_indices('-').map(|(i, _)| i).collect();
        assert_eq!(dashes, [8, 13, 18, 23], "8-4-4-4-12: {id}");
        assert!(id
            .bytes()
            .all(|b| b == b'-' || b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(ctx.fields().next().unwrap().0, "traceCtx.transactionid");
        let other = TraceCtx::from_headers(&HeaderMap::new());
        assert_ne!(other.transaction_id().unwrap(), id);
        assert_eq!(other.fields().count(), 1);
    }

    #[test]
    fn count_length_and_names_are_bounded() {
        let long = "é".repeat(200); // 400 bytes
        let mut pairs: Vec<(String, Vec<u8>)> = vec![
            ("x-tracectx-transactionid".into(), long.clone().into_bytes()),
            ("x-tracectx-".into(), b"empty name".to_vec()),
            ("x-tracectx-a.b".into(), b"dot".to_vec()),
            (
                format!("x-tracectx-{}", "n".repeat(65)),
                b"long name".to_vec(),
            ),
            ("x-tracectx-bytes".into(), b"ok\xff\xfeend".to_vec()),
        ];
        for i in 0..40 {
            pairs.push((format!("x-tracectx-h{i}"), b"v".to_vec()));
        }
        let borrowed: Vec<(&str, &[u8])> = pairs
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect();
        let ctx = TraceCtx::from_headers(&headers(&borrowed));
        let id = ctx.transaction_id().unwrap();
        assert_eq!(id.len(), 256, "truncated at a char boundary");
        assert!(long.starts_with(id));
        let names: Vec<&str> = ctx.entries().iter().map(Entry::name).collect();
        assert_eq!(names.len(), MAX_HEADERS, "{names:?}");
        assert_eq!(names[..2], ["transactionid", "bytes"]);
        assert_eq!(names[15], "h13");
        assert_eq!(
            ctx.entries()[1].value.as_ref(),
            "ok\u{FFFD}\u{FFFD}end",
            "not UTF-8: replaced"
        );
    }

    #[test]
    fn a_repeated_header_keeps_its_first_value() {
        let ctx = TraceCtx::from_headers(&headers(&[
            ("x-tracectx-transactionid", b"first"),
            ("x-tracectx-transactionid", b"second"),
        ]));
        assert_eq!(ctx.fields().count(), 1);
        assert_eq!(ctx.transaction_id(), Some("first"));
    }

    #[test]
    fn serialises_as_a_map_and_reads_back_within_bounds() {
        let ctx = TraceCtx::from_headers(&headers(&[
            ("x-tracectx-transactionid", b"t-1"),
            ("x-tracectx-processid", b"p-1"),
        ]));
        let json = serde_json::to_string(&ctx).unwrap();
        assert_eq!(json, r#"{"transactionid":"t-1","processid":"p-1"}"#);
        let back: TraceCtx = serde_json::from_str(&json).unwrap();
        assert_eq!(back, ctx);
        let hostile: TraceCtx = serde_json::from_value(serde_json::json!({
            "ok": "x".repeat(1000), "bad name": "v", "": "v", "number": 5, "object": {"a": 1}
        }))
        .unwrap();
        let fields: Vec<_> = hostile.fields().collect();
        assert_eq!(fields.len(), 1);
        assert_eq!(fields[0].1.len(), MAX_VALUE_BYTES);
        let empty: TraceCtx = serde_json::from_str("{}").unwrap();
        assert!(empty.is_empty());
    }

    #[tokio::test]
    async fn run_makes_the_context_current() {
        let ctx = TraceCtx::from_headers(&headers(&[("x-tracectx-transactionid", b"t-9")]));
        assert!(current().is_empty());
        let seen = run(ctx.clone(), async { current() }).await;
        assert_eq!(seen, ctx);
    }
}
