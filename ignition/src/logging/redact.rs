//! The one filter every log line passes through, whatever format and whoever logged it:
//! PEM private key blocks become `***obfuscated private key***` (as the Python
//! framework's `SensitiveDataFormatter`, for any key type, not only RSA).

use std::io;

use memchr::memmem;
use tracing_subscriber::fmt::MakeWriter;

/// What a private key block is replaced by.
pub(crate) const OBFUSCATED_PRIVATE_KEY: &str = "***obfuscated private key***";

const BEGIN: &[u8] = b"-----BEGIN";
const END: &[u8] = b"-----END";
const DASHES: &[u8] = b"-----";
const PRIVATE_KEY: &[u8] = b"PRIVATE KEY";
/// The search for [`BEGIN`] that every line goes through, built once (building one per
/// line cost more than the search).
static BEGIN_FINDER: std::sync::LazyLock<memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memmem::Finder::new(BEGIN));

/// Longest label read between `-----BEGIN` and `-----` (`ENCRYPTED PRIVATE KEY` is 21).
const MAX_LABEL: usize = 64;

/// `line` with every PEM private key block (`-----BEGIN <label> PRIVATE KEY-----` up to
/// the next `-----END <label> PRIVATE KEY-----`, across lines or escaped newlines alike)
/// replaced, or `None` when there is none (the common case: one substring search).
/// A BEGIN without its END is left alone, as are other blocks (certificates).
pub(crate) fn redact(line: &[u8]) -> Option<Vec<u8>> {
    let mut at = BEGIN_FINDER.find(line)?;
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    loop {
        let Some(label_end) = private_key_label(line, at + BEGIN.len()) else {
            // Not a private key block: look for the next BEGIN.
            match memmem::find(&line[at + BEGIN.len()..], BEGIN) {
                Some(next) => {
                    at += BEGIN.len() + next;
                    continue;
                }
                None => break,
            }
        };
        let Some(block_end) = private_key_end(line, label_end) else {
            break;
        };
        let out = out.get_or_insert_with(|| Vec::with_capacity(line.len()));
        out.extend_from_slice(&line[copied..at]);
        out.extend_from_slice(OBFUSCATED_PRIVATE_KEY.as_bytes());
        copied = block_end;
        match memmem::find(&line[block_end..], BEGIN) {
            Some(next) => at = block_end + next,
            None => break,
        }
    }
    let mut out = out?;
    out.extend_from_slice(&line[copied..]);
    Some(out)
}

/// When the label starting at `from` (after `-----BEGIN` or `-----END`) names a private
/// key and is closed by `-----`, the index just past those dashes.
fn private_key_label(line: &[u8], from: usize) -> Option<usize> {
    let rest = &line[from..];
    let window = &rest[..rest.len().min(MAX_LABEL + DASHES.len())];
    let len = memmem::find(window, DASHES)?;
    let label = &rest[..len];
    let is_private_key =
        memmem::find(label, PRIVATE_KEY).is_some() && !label.iter().any(|b| b.is_ascii_control());
    is_private_key.then_some(from + len + DASHES.len())
}

/// The index just past the first `-----END <label> PRIVATE KEY-----` at or after `from`.
fn private_key_end(line: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        at += memmem::find(&line[at..], END)?;
        if let Some(end) = private_key_label(line, at + END.len()) {
            return Some(end);
        }
        at += END.len();
    }
}

/// A [`MakeWriter`] whose writers pass each write through [`redact`]. The fmt layer writes
/// each formatted event with one `write_all`, so a write is a whole line.
#[derive(Debug, Clone)]
pub(crate) struct Redacting<M>(pub(crate) M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Redacting<M> {
    type Writer = RedactingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter(self.0.make_writer())
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        RedactingWriter(self.0.make_writer_for(meta))
    }
}

/// The writer of [`Redacting`].
#[derive(Debug)]
pub(crate) struct RedactingWriter<W>(W);

impl<W: io::Write> io::Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match redact(buf) {
            None => self.0.write(buf),
            Some(redacted) => {
                self.0.write_all(&redacted)?;
                Ok(buf.len())
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redacted(line: &str) -> String {
        match redact(line.as_bytes()) {
            Some(out) => String::from_utf8(out).unwrap(),
            None => line.to_string(),
        }
    }

    const RSA: &str = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB\naFDrBz9vFqU4yJ1Xm3xEXAMPLE==\n-----END RSA PRIVATE KEY-----";

    #[test]
    fn a_multi_line_key_is_replaced_and_the_rest_kept() {
        let line = format!("INFO key={RSA} done\n");
        assert_eq!(
            redacted(&line),
            "INFO key=***obfuscated private key*** done\n"
        );
    }

    #[test]
    fn every_key_type_and_escaped_newlines_are_covered() {
        for label in ["", "RSA ", "EC ", "DSA ", "ENCRYPTED ", "OPENSSH "] {
            // As in a JSON line or a Debug field: the newlines are `\n` escapes.
            let line = format!(
                r#"{{"message":"k","key":"-----BEGIN {label}PRIVATE KEY-----\nAAAA\n-----END {label}PRIVATE KEY-----\n"}}"#
            );
            assert_eq!(
                redacted(&line),
                r#"{"message":"k","key":"***obfuscated private key***\n"}"#,
                "{label}"
            );
        }
    }

    #[test]
    fn two_keys_are_both_replaced() {
        let line = format!("a {RSA} b -----BEGIN PRIVATE KEY-----xyz-----END PRIVATE KEY----- c");
        assert_eq!(
            redacted(&line),
            "a ***obfuscated private key*** b ***obfuscated private key*** c"
        );
    }

    #[test]
    fn a_begin_without_its_end_is_left_alone() {
        let line = "cut short: -----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA0Z3VS5JJ";
        assert_eq!(redact(line.as_bytes()), None);
        // ... also after a complete key.
        let line = format!("{RSA} then -----BEGIN EC PRIVATE KEY-----AAAA");
        assert_eq!(
            redacted(&line),
            "***obfuscated private key*** then -----BEGIN EC PRIVATE KEY-----AAAA"
        );
    }

    #[test]
    fn certificates_and_public_keys_are_left_alone() {
        let cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
        assert_eq!(redact(cert.as_bytes()), None);
        let public = "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----";
        assert_eq!(redact(public.as_bytes()), None);
        // A certificate before a key: only the key goes.
        let chain = format!("{cert} {RSA}");
        assert_eq!(
            redacted(&chain),
            format!("{cert} ***obfuscated private key***")
        );
        // A key's END is the first private key END, not a certificate's.
        let odd =
            "-----BEGIN PRIVATE KEY-----a-----END CERTIFICATE-----b-----END PRIVATE KEY-----c";
        assert_eq!(redacted(odd), "***obfuscated private key***c");
    }

    #[test]
    fn a_line_without_a_key_is_not_copied() {
        assert_eq!(redact(b"INFO nothing to see ----- here"), None);
        assert_eq!(redact(b"-----BEGIN"), None);
        assert_eq!(redact(b"-----BEGIN PRIVATE KEY"), None);
    }

    #[test]
    fn the_writer_passes_redacted_lines_on_whole() {
        use std::io::Write;
        let mut writer = RedactingWriter(Vec::new());
        let line = format!("x {RSA} y\n");
        writer.write_all(line.as_bytes()).unwrap();
        writer.write_all(b"plain\n").unwrap();
        assert_eq!(
            String::from_utf8(writer.0).unwrap(),
            "x ***obfuscated private key*** y\nplain\n"
        );
    }
}
