//! `job_queue.encryption_key_file`: the AES-256 key monitoring jobs are sealed with, read
//! and checked at start, and never shown.

use std::path::Path;

use super::secrets::Outside;

/// Bytes of an AES-256 key.
const KEY_LEN: usize = 32;

/// Largest key file read: 64 hex characters and a line break fit; anything much larger
/// is not a key file (and `/dev/zero` must not fill the memory).
const MAX_KEY_FILE: u64 = 4096;

/// The key from `job_queue.encryption_key_file`: 32 bytes, whose `Debug` never shows
/// them (and which is never serialized with the configuration).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct EncryptionKey([u8; KEY_LEN]);

impl std::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncryptionKey(<redacted>)")
    }
}

impl EncryptionKey {
    /// The key's bytes, for the sealing of monitoring jobs.
    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    #[cfg(test)]
    pub(crate) fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// Reads the key file at `path`: 32 raw bytes, or 64 hex characters (either case)
    /// with an optional trailing newline. The error says what the file holds instead,
    /// never any of it.
    pub(crate) fn read(path: &Path, outside: Outside) -> Result<Self, String> {
        let shown = path.display();
        let bytes = (outside.read)(path, MAX_KEY_FILE)
            .map_err(|err| format!("cannot read the key file {shown}: {err}"))?;
        Self::parse(&bytes).map_err(|why| format!("the key file {shown} {why}"))
    }

    fn parse(bytes: &[u8]) -> Result<Self, String> {
        if let Ok(raw) = <[u8; KEY_LEN]>::try_from(bytes) {
            return Ok(Self(raw));
        }
        let text = bytes
            .strip_suffix(b"\n")
            .map(|text| text.strip_suffix(b"\r").unwrap_or(text))
            .unwrap_or(bytes);
        if text.len() != 2 * KEY_LEN {
            return Err(format!(
                "holds {} bytes; a key is {KEY_LEN} raw bytes or {} hex characters",
                bytes.len(),
                2 * KEY_LEN
            ));
        }
        if let Some(at) = text.iter().position(|b| !b.is_ascii_hexdigit()) {
            return Err(format!(
                "holds {} characters but is not hex (character {} is not 0-9, a-f or A-F)",
                2 * KEY_LEN,
                at + 1
            ));
        }
        // Every byte is a hex digit (checked above), so `to_digit` never fails.
        let digit = |byte: u8| char::from(byte).to_digit(16).unwrap_or(0) as u8;
        let mut key = [0; KEY_LEN];
        for (byte, pair) in key.iter_mut().zip(text.chunks_exact(2)) {
            *byte = (digit(pair[0]) << 4) | digit(pair[1]);
        }
        Ok(Self(key))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    const HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191A1B1C1D1E1F";

    fn counting() -> [u8; KEY_LEN] {
        std::array::from_fn(|i| i as u8)
    }

    #[test]
    fn raw_and_hex_keys_are_read() {
        assert_eq!(
            EncryptionKey::parse(&counting()).unwrap().bytes(),
            &counting()
        );
        for text in [HEX.to_string(), format!("{HEX}\n"), format!("{HEX}\r\n")] {
            assert_eq!(
                EncryptionKey::parse(text.as_bytes()).unwrap().bytes(),
                &counting(),
                "{text:?}"
            );
        }
        // 32 raw bytes that happen to end in a newline are a raw key, not trimmed.
        let mut raw = [b'k'; KEY_LEN];
        raw[KEY_LEN - 1] = b'\n';
        assert_eq!(EncryptionKey::parse(&raw).unwrap().bytes(), &raw);
    }

    #[test]
    fn a_wrong_length_or_bad_hex_is_refused_without_showing_the_key() {
        let err = EncryptionKey::parse(&[1; 31]).unwrap_err();
        assert!(err.contains("holds 31 bytes"), "{err}");
        let err = EncryptionKey::parse(format!("{HEX}\n\n").as_bytes()).unwrap_err();
        assert!(err.contains("holds 66 bytes"), "{err}");
        let bad = format!("{}zz", &HEX[..62]);
        let err = EncryptionKey::parse(bad.as_bytes()).unwrap_err();
        assert!(err.contains("not hex (character 63"), "{err}");
        assert!(!err.contains(&bad[..10]), "{err}");
        let err = EncryptionKey::parse(format!("+{}", &HEX[1..]).as_bytes()).unwrap_err();
        assert!(
            err.contains("not hex (character 1"),
            "a sign is not a digit: {err}"
        );
    }

    #[test]
    fn debug_never_shows_the_key() {
        let key = EncryptionKey::parse(HEX.as_bytes()).unwrap();
        let debug = format!("{key:?} {:?}", Some(key.clone()));
        assert_eq!(
            debug,
            "EncryptionKey(<redacted>) Some(EncryptionKey(<redacted>))"
        );
    }

    #[test]
    fn the_file_is_read_and_named_in_errors() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "{HEX}").unwrap();
        let key = EncryptionKey::read(file.path(), Outside::PROCESS).unwrap();
        assert_eq!(key.bytes(), &counting());
        let err = EncryptionKey::read(Path::new("/no/such/key"), Outside::PROCESS).unwrap_err();
        assert!(
            err.starts_with("cannot read the key file /no/such/key: "),
            "{err}"
        );
        let mut long = tempfile::NamedTempFile::new().unwrap();
        long.write_all(&[b'a'; 10_000]).unwrap();
        let err = EncryptionKey::read(long.path(), Outside::PROCESS).unwrap_err();
        assert!(
            err.contains("holds 4097 bytes"),
            "read no further than needed: {err}"
        );
    }
}
