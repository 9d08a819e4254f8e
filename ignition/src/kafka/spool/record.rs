//! The spool's on-disk record format: encoding, decoding and the forgiving scan of a
//! segment. Nothing here touches a file.
//!
//! A segment is a run of records followed by zeros (the room preallocated for it, see
//! `writer`). Integers are little-endian.
//!
//! ```text
//! record   = magic "IGSP" | body length (u32) | CRC-32 of the body (u32) | body
//! body     = message | removal
//! message  = 1 | seq (u64) | topic | key | payload
//!          | 3 | seq (u64) | topic | key | headers | payload
//! removal  = 2 | seq (u64)
//! topic    = length (u16) | UTF-8
//! key      = length (u32) | UTF-8        (length u32::MAX: no key, nothing follows)
//! headers  = count (u16) | (name length (u16) | name | value length (u32) | value)*
//! payload  = the rest of the body
//! ```
//!
//! The CRC-32 is the IEEE one (zip, Ethernet: `crc32("123456789") = 0xCBF43926`). Kind 3
//! is written only for a message with headers, so a spool without any reads the same in
//! a version that knows kinds 1 and 2 only. A spool written by any earlier version must
//! stay readable: `testdata/segment-before-crc32fast.seg` is one, read by the tests below.

/// The first four bytes of every record ("IGSP").
const MAGIC: [u8; 4] = *b"IGSP";
/// magic, body length, CRC-32.
pub(super) const HEADER: usize = 12;
/// A message without record headers.
const MESSAGE: u8 = 1;
/// The removal of a message (the broker confirmed it).
const REMOVAL: u8 = 2;
/// A message with record headers (a task's trace context).
const MESSAGE_WITH_HEADERS: u8 = 3;

/// A message as spooled: where it goes and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Message {
    pub(crate) topic: String,
    pub(crate) key: Option<String>,
    pub(crate) payload: Vec<u8>,
    /// Record headers (name, value).
    pub(crate) headers: Vec<(String, String)>,
}

/// A record read back.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Record {
    Message { seq: u64, message: Message },
    Removal { seq: u64 },
}

/// The record of message `seq`.
pub(super) fn encode_message(
    seq: u64,
    topic: &str,
    key: Option<&str>,
    payload: &[u8],
    headers: &[(String, String)],
) -> Vec<u8> {
    let mut body = Vec::with_capacity(1 + 8 + 2 + topic.len() + 4 + 64 + payload.len());
    body.push(if headers.is_empty() {
        MESSAGE
    } else {
        MESSAGE_WITH_HEADERS
    });
    body.extend_from_slice(&seq.to_le_bytes());
    body.extend_from_slice(&(topic.len() as u16).to_le_bytes());
    body.extend_from_slice(topic.as_bytes());
    match key {
        Some(key) => {
            body.extend_from_slice(&(key.len() as u32).to_le_bytes());
            body.extend_from_slice(key.as_bytes());
        }
        None => body.extend_from_slice(&u32::MAX.to_le_bytes()),
    }
    if !headers.is_empty() {
        // Trace contexts are bounded far below these (16 headers, 64-byte names).
        let headers = &headers[..headers.len().min(u16::MAX as usize)];
        body.extend_from_slice(&(headers.len() as u16).to_le_bytes());
        for (name, value) in headers {
            let name = &name.as_bytes()[..name.len().min(u16::MAX as usize)];
            body.extend_from_slice(&(name.len() as u16).to_le_bytes());
            body.extend_from_slice(name);
            body.extend_from_slice(&(value.len() as u32).to_le_bytes());
            body.extend_from_slice(value.as_bytes());
        }
    }
    body.extend_from_slice(payload);
    frame(body)
}

/// The record of the removal of message `seq`.
pub(super) fn encode_removal(seq: u64) -> Vec<u8> {
    let mut body = Vec::with_capacity(9);
    body.push(REMOVAL);
    body.extend_from_slice(&seq.to_le_bytes());
    frame(body)
}

/// The length of `message`'s record, without encoding it.
pub(super) fn encoded_size(message: &Message) -> u64 {
    let key = message.key.as_ref().map_or(0, String::len);
    let headers = if message.headers.is_empty() {
        0
    } else {
        2 + message
            .headers
            .iter()
            .map(|(name, value)| 2 + name.len() + 4 + value.len())
            .sum::<usize>()
    };
    (HEADER + 1 + 8 + 2 + message.topic.len() + 4 + key + headers + message.payload.len()) as u64
}

fn frame(body: Vec<u8>) -> Vec<u8> {
    let mut record = Vec::with_capacity(HEADER + body.len());
    record.extend_from_slice(&MAGIC);
    record.extend_from_slice(&(body.len() as u32).to_le_bytes());
    record.extend_from_slice(&checksum(&body).to_le_bytes());
    record.extend_from_slice(&body);
    record
}

/// The CRC-32 (IEEE) of a body.
fn checksum(body: &[u8]) -> u32 {
    crc32fast::hash(body)
}

/// The record at the start of `bytes`, with its length, if it checks out.
fn parse_at(bytes: &[u8]) -> Option<(Record, usize)> {
    if bytes.len() < HEADER || bytes[..4] != MAGIC {
        return None;
    }
    let len = u32::from_le_bytes(bytes[4..8].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(bytes[8..12].try_into().ok()?);
    let body = bytes.get(HEADER..HEADER.checked_add(len)?)?;
    if checksum(body) != crc {
        return None;
    }
    Some((decode(body)?, HEADER + len))
}

fn decode(body: &[u8]) -> Option<Record> {
    let (&kind, rest) = body.split_first()?;
    let seq = u64::from_le_bytes(rest.get(..8)?.try_into().ok()?);
    let rest = &rest[8..];
    match kind {
        REMOVAL if rest.is_empty() => Some(Record::Removal { seq }),
        MESSAGE | MESSAGE_WITH_HEADERS => {
            let topic_len = u16::from_le_bytes(rest.get(..2)?.try_into().ok()?) as usize;
            let topic = std::str::from_utf8(rest.get(2..2 + topic_len)?).ok()?;
            let rest = &rest[2 + topic_len..];
            let key_len = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?);
            let rest = &rest[4..];
            let (key, mut rest) = if key_len == u32::MAX {
                (None, rest)
            } else {
                let key_len = key_len as usize;
                let key = std::str::from_utf8(rest.get(..key_len)?).ok()?;
                (Some(key.to_string()), &rest[key_len..])
            };
            let mut headers = Vec::new();
            if kind == MESSAGE_WITH_HEADERS {
                let count = u16::from_le_bytes(rest.get(..2)?.try_into().ok()?);
                rest = &rest[2..];
                for _ in 0..count {
                    let name_len = u16::from_le_bytes(rest.get(..2)?.try_into().ok()?) as usize;
                    let name = std::str::from_utf8(rest.get(2..2 + name_len)?).ok()?;
                    rest = &rest[2 + name_len..];
                    let value_len = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
                    let value = std::str::from_utf8(rest.get(4..4 + value_len)?).ok()?;
                    rest = &rest[4 + value_len..];
                    headers.push((name.to_string(), value.to_string()));
                }
            }
            Some(Record::Message {
                seq,
                message: Message {
                    topic: topic.to_string(),
                    key,
                    payload: rest.to_vec(),
                    headers,
                },
            })
        }
        _ => None,
    }
}

/// What [`scan`] found in a segment.
pub(super) struct Scan {
    pub(super) records: Vec<Record>,
    /// Bytes that are neither records nor the zeros after the last one.
    pub(super) skipped: Vec<Skipped>,
    /// Where the last record that checks out ends.
    pub(super) end: usize,
}

/// A run of bytes [`scan`] skipped.
pub(super) struct Skipped {
    pub(super) offset: usize,
    pub(super) len: usize,
    /// Nothing that checks out follows it.
    pub(super) torn_tail: bool,
}

/// Reads records from the start of `bytes`. At a record boundary, zeros up to the end are
/// the preallocated room of the segment: the end, quietly. Anything else that is not a
/// record is skipped up to the next record that checks out.
pub(super) fn scan(bytes: &[u8]) -> Scan {
    let mut scan = Scan {
        records: Vec::new(),
        skipped: Vec::new(),
        end: 0,
    };
    let mut at = 0;
    while at < bytes.len() {
        if let Some((record, len)) = parse_at(&bytes[at..]) {
            scan.records.push(record);
            at += len;
            scan.end = at;
            continue;
        }
        if bytes[at..].iter().all(|&b| b == 0) {
            break;
        }
        // Look for the next record that checks out.
        let mut next = None;
        let mut from = at + 1;
        while let Some(found) = memchr::memmem::find(&bytes[from..], &MAGIC) {
            let candidate = from + found;
            if parse_at(&bytes[candidate..]).is_some() {
                next = Some(candidate);
                break;
            }
            from = candidate + 1;
        }
        match next {
            Some(next) => {
                scan.skipped.push(Skipped {
                    offset: at,
                    len: next - at,
                    torn_tail: false,
                });
                at = next;
            }
            None => {
                // A torn record is followed by the segment's zeros: not counted.
                let garbage = bytes[at..]
                    .iter()
                    .rposition(|&b| b != 0)
                    .map_or(0, |last| last + 1);
                scan.skipped.push(Skipped {
                    offset: at,
                    len: garbage,
                    torn_tail: true,
                });
                break;
            }
        }
    }
    scan
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{message, odd_one, WRITTEN_BEFORE};
    use super::*;

    /// The bytes of a record built by hand from the format in the module documentation.
    fn documented_record(body: &[u8]) -> Vec<u8> {
        let mut record = b"IGSP".to_vec();
        record.extend_from_slice(&(body.len() as u32).to_le_bytes());
        record.extend_from_slice(&crc32_bitwise(body).to_le_bytes());
        record.extend_from_slice(body);
        record
    }

    /// The IEEE CRC-32 bit by bit (reflected, polynomial 0xEDB88320): the definition,
    /// independent of `crc32fast`.
    fn crc32_bitwise(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn a_record_decodes_to_its_message_and_its_size_is_known_without_encoding() {
        for i in 0..6 {
            let m = message(i);
            let record = encode_message(7, &m.topic, m.key.as_deref(), &m.payload, &m.headers);
            assert_eq!(encoded_size(&m), record.len() as u64, "{m:?}");
            let (decoded, len) = parse_at(&record).expect("checks out");
            assert_eq!(len, record.len());
            assert_eq!(
                decoded,
                Record::Message {
                    seq: 7,
                    message: m.clone()
                }
            );
            let kind = record[HEADER];
            let expected = if m.headers.is_empty() {
                MESSAGE
            } else {
                MESSAGE_WITH_HEADERS
            };
            assert_eq!(kind, expected, "headers only where there are some");
        }
    }

    #[test]
    fn crc32_is_the_ieee_one() {
        assert_eq!(checksum(b"123456789"), 0xCBF4_3926);
        assert_eq!(checksum(b""), 0);
        let long: Vec<u8> = (0..10_000u32).map(|i| (i * 31 % 251) as u8).collect();
        assert_eq!(checksum(&long), crc32_bitwise(&long));
    }

    #[test]
    fn records_built_by_hand_from_the_documented_format_are_read() {
        // A message with a key and headers, then one without either, then a removal.
        let mut with_headers = vec![3];
        with_headers.extend_from_slice(&9u64.to_le_bytes());
        with_headers.extend_from_slice(&4u16.to_le_bytes());
        with_headers.extend_from_slice(b"jobs");
        with_headers.extend_from_slice(&1u32.to_le_bytes());
        with_headers.extend_from_slice(b"k");
        with_headers.extend_from_slice(&1u16.to_le_bytes());
        with_headers.extend_from_slice(&2u16.to_le_bytes());
        with_headers.extend_from_slice(b"h1");
        with_headers.extend_from_slice(&3u32.to_le_bytes());
        with_headers.extend_from_slice("vé".as_bytes());
        with_headers.extend_from_slice(b"{\"a\":1}");
        let mut plain = vec![1];
        plain.extend_from_slice(&10u64.to_le_bytes());
        plain.extend_from_slice(&6u16.to_le_bytes());
        plain.extend_from_slice(b"events");
        plain.extend_from_slice(&u32::MAX.to_le_bytes());
        plain.extend_from_slice(b"payload");
        let mut removal = vec![2];
        removal.extend_from_slice(&9u64.to_le_bytes());
        let mut segment = Vec::new();
        for body in [&with_headers, &plain, &removal] {
            segment.extend_from_slice(&documented_record(body));
        }
        segment.resize(segment.len() + 64, 0);

        let found = scan(&segment);
        assert!(found.skipped.is_empty());
        assert_eq!(
            found.records,
            vec![
                Record::Message {
                    seq: 9,
                    message: Message {
                        topic: "jobs".into(),
                        key: Some("k".into()),
                        payload: b"{\"a\":1}".to_vec(),
                        headers: vec![("h1".into(), "vé".into())],
                    },
                },
                Record::Message {
                    seq: 10,
                    message: Message {
                        topic: "events".into(),
                        key: None,
                        payload: b"payload".to_vec(),
                        headers: Vec::new(),
                    },
                },
                Record::Removal { seq: 9 },
            ]
        );
        // And the encoder writes exactly these bytes.
        let encoded = [
            encode_message(
                9,
                "jobs",
                Some("k"),
                b"{\"a\":1}",
                &[("h1".into(), "vé".into())],
            ),
            encode_message(10, "events", None, b"payload", &[]),
            encode_removal(9),
        ]
        .concat();
        assert_eq!(encoded, segment[..found.end]);
    }

    #[test]
    fn a_segment_written_before_crc32fast_is_read_record_for_record() {
        let found = scan(WRITTEN_BEFORE);
        assert!(found.skipped.is_empty(), "every record checks out");
        assert!(WRITTEN_BEFORE[found.end..].iter().all(|&b| b == 0));
        let mut expected: Vec<Record> = (0..6)
            .map(|i| Record::Message {
                seq: i as u64 + 1,
                message: message(i),
            })
            .collect();
        expected.push(Record::Message {
            seq: 7,
            message: odd_one(),
        });
        expected.push(Record::Removal { seq: 6 });
        expected.push(Record::Removal { seq: 3 });
        assert_eq!(found.records, expected);
        // Written again today, the records are the same bytes.
        let rewritten: Vec<u8> = (0..6)
            .map(|i| {
                let m = message(i);
                encode_message(
                    i as u64 + 1,
                    &m.topic,
                    m.key.as_deref(),
                    &m.payload,
                    &m.headers,
                )
            })
            .chain([
                encode_message(7, "events", None, &odd_one().payload, &[]),
                encode_removal(6),
                encode_removal(3),
            ])
            .collect::<Vec<_>>()
            .concat();
        assert_eq!(rewritten, WRITTEN_BEFORE[..found.end]);
    }

    #[test]
    fn torn_and_corrupt_bytes_are_skipped_and_zeros_end_a_segment_quietly() {
        let records: Vec<Vec<u8>> = (0..4)
            .map(|i| {
                let m = message(i);
                encode_message(i as u64, &m.topic, m.key.as_deref(), &m.payload, &m.headers)
            })
            .collect();
        let mut segment = records.concat();
        segment.resize(segment.len() + 100, 0);
        let clean = scan(&segment);
        assert_eq!(clean.records.len(), 4);
        assert!(clean.skipped.is_empty(), "the zeros are not a torn record");

        // A flipped byte in the second record's body: skipped up to the third's magic.
        let mut corrupt = segment.clone();
        corrupt[records[0].len() + HEADER + 3] ^= 0xFF;
        let found = scan(&corrupt);
        assert_eq!(found.records.len(), 3);
        assert_eq!(found.skipped.len(), 1);
        assert_eq!(found.skipped[0].offset, records[0].len());
        assert_eq!(found.skipped[0].len, records[1].len());
        assert!(!found.skipped[0].torn_tail);

        // The last record cut in its payload, zeros after it: a torn tail.
        let whole: usize = records.iter().map(Vec::len).sum();
        let cut = whole - 3;
        let mut torn = segment[..cut].to_vec();
        torn.resize(segment.len(), 0);
        let found = scan(&torn);
        assert_eq!(found.records.len(), 3);
        assert_eq!(found.end, whole - records[3].len());
        assert_eq!(found.skipped.len(), 1);
        assert!(found.skipped[0].torn_tail);
        assert_eq!(found.skipped[0].len, cut - found.end);
    }
}
