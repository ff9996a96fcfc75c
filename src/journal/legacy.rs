//! The text journals of earlier versions, still read so that an upgrade
//! never strands the regions of an owner that died running one:
//!
//! ```text
//! triton-shm-journal 1 pid=4242 backend=posix started=1764316800
//! + 2f696e70757430 65536 1764316801
//! - 2f696e70757430
//! ```
//!
//! A `+` record was appended before a region was created and a `-` record
//! after it was gone; names are hex-encoded bytes. A last line without its
//! newline (a write torn by a crash) is ignored, and so are lines that do
//! not parse, which are counted. This version never writes such journals
//! except to keep the records a reap could not resolve.
//!
//! Why it stays: this is the format of 0.1.0, the first release
//! (CHANGELOG.md: the state of `main` at `aafc773`, not tagged), which
//! wrote nothing else, and every 0.x release keeps 0.1.0's promises (README,
//! "ABI and versioning"). The state directory is shared by whichever
//! versions of the library run on a host, so the `*.journal` files of a
//! 0.1.0 owner that died are there for a newer reaper to find; without this
//! reader their regions would stay in `/dev/shm` until the next reboot,
//! the leak the journal exists to prevent. It can go with the release that
//! stops supporting an upgrade from 0.1.0.

use super::{Header, JournalFormat, Parsed, Record, RecordKind};

/// First words of every text journal.
pub const MAGIC: &str = "triton-shm-journal 1";

/// Append `bytes` to `out` as lower-case hex, two digits a byte.
fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
}

pub(super) fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.is_empty() || text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The header line of a text journal.
pub fn header_line(pid: u32, backend: &str, started: i64) -> String {
    format!("{MAGIC} pid={pid} backend={backend} started={started}\n")
}

/// The `+` record of a text journal, written before `name` was created.
pub fn created_line(name: &[u8], size: u64, now: i64) -> String {
    use std::fmt::Write;
    let mut line = String::with_capacity(name.len() * 2 + 48);
    line.push_str("+ ");
    push_hex(&mut line, name);
    let _ = writeln!(line, " {size} {now}");
    line
}

/// The `-` record of a text journal, written after `name` was gone.
pub fn removed_line(name: &[u8]) -> String {
    let mut line = String::with_capacity(name.len() * 2 + 3);
    line.push_str("- ");
    push_hex(&mut line, name);
    line.push('\n');
    line
}

fn parse_header(line: &str) -> Option<Header> {
    let rest = line.strip_prefix(MAGIC)?.strip_prefix(' ')?;
    let mut header = Header {
        format: JournalFormat::Text,
        ..Header::default()
    };
    for field in rest.split(' ') {
        let (key, value) = field.split_once('=')?;
        match key {
            "pid" => header.pid = value.parse().ok()?,
            "backend" => header.backend = value.to_owned(),
            "started" => header.started = value.parse().ok()?,
            _ => {}
        }
    }
    Some(header)
}

/// Fold a text journal's bytes into its live records, sorted by name. Never
/// fails: what does not parse is counted in `bad_lines` and skipped.
pub fn parse(bytes: &[u8]) -> Parsed {
    let mut parsed = Parsed::default();
    // Each record's latest state by name; a removal leaves None behind.
    let mut latest: Vec<(Vec<u8>, Option<Record>)> = Vec::new();
    let complete = match bytes.iter().rposition(|&b| b == b'\n') {
        Some(end) => {
            parsed.torn = end + 1 < bytes.len();
            &bytes[..=end]
        }
        None => {
            parsed.torn = !bytes.is_empty();
            &[][..]
        }
    };
    for (index, raw) in complete.split(|&b| b == b'\n').enumerate() {
        if raw.is_empty() {
            continue;
        }
        let Ok(line) = std::str::from_utf8(raw) else {
            parsed.bad_lines += 1;
            continue;
        };
        if index == 0 {
            if let Some(header) = parse_header(line) {
                parsed.header = Some(header);
                continue;
            }
        }
        let fields: Vec<&str> = line.split(' ').collect();
        match fields.as_slice() {
            ["+", name, size, since] => match (unhex(name), size.parse(), since.parse::<i64>()) {
                (Some(name), Ok(size), Ok(since)) => {
                    let record = Record {
                        name: name.clone(),
                        size,
                        since,
                        since_ns: since.saturating_mul(1_000_000_000),
                        kind: RecordKind::Legacy,
                        seq: index as u64,
                        slot: None,
                    };
                    latest.push((name, Some(record)));
                }
                _ => parsed.bad_lines += 1,
            },
            ["-", name] => match unhex(name) {
                Some(name) => latest.push((name, None)),
                None => parsed.bad_lines += 1,
            },
            _ => parsed.bad_lines += 1,
        }
    }
    // Stable by name, so the last operation on each name comes last.
    latest.sort_by(|a, b| a.0.cmp(&b.0));
    for (i, (name, record)) in latest.iter().enumerate() {
        let last = latest.get(i + 1).is_none_or(|next| next.0 != *name);
        if let (true, Some(record)) = (last, record) {
            parsed.live.push(record.clone());
        }
    }
    parsed
}

/// A text journal holding `header` and one `+` record for each of `records`.
pub fn rewrite(header: Option<&Header>, records: &[&Record]) -> String {
    let mut text = match header {
        Some(h) => header_line(h.pid, &h.backend, h.started),
        None => String::new(),
    };
    for r in records {
        text += &created_line(&r.name, r.size, r.since);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        let mut out = String::new();
        push_hex(&mut out, bytes);
        out
    }

    fn names(parsed: &Parsed) -> Vec<(Vec<u8>, u64, i64)> {
        parsed
            .live
            .iter()
            .map(|r| (r.name.clone(), r.size, r.since))
            .collect()
    }

    #[test]
    fn records_fold_into_the_live_set() {
        let mut text = header_line(7, "posix", 100);
        text += &created_line(b"/a", 10, 101);
        text += &created_line(b"/b\xff", 20, 102);
        text += &removed_line(b"/a");
        let parsed = parse(text.as_bytes());
        let header = parsed.header.clone().unwrap();
        assert_eq!(
            (header.pid, header.backend.as_str(), header.started),
            (7, "posix", 100)
        );
        assert_eq!(names(&parsed), vec![(b"/b\xff".to_vec(), 20, 102)]);
        assert_eq!((parsed.bad_lines, parsed.torn), (0, false));
    }

    #[test]
    fn the_last_record_of_a_name_decides() {
        let mut text = header_line(1, "posix", 0);
        text += &created_line(b"/b", 1, 10);
        text += &created_line(b"/a", 1, 11);
        text += &removed_line(b"/a");
        text += &created_line(b"/a", 2, 12); // created again after removal
        text += &created_line(b"/b", 3, 13); // recorded twice: the later wins
        text += &removed_line(b"/gone-before-it-came");
        let parsed = parse(text.as_bytes());
        assert_eq!(
            names(&parsed),
            vec![(b"/a".to_vec(), 2, 12), (b"/b".to_vec(), 3, 13)]
        );
    }

    #[test]
    fn a_torn_last_record_is_ignored() {
        let mut text = header_line(1, "posix", 0);
        text += &created_line(b"/kept", 1, 0);
        let torn = created_line(b"/torn", 1, 0);
        text += &torn[..torn.len() - 3];
        let parsed = parse(text.as_bytes());
        assert!(parsed.torn);
        assert_eq!(parsed.live.len(), 1);
        assert_eq!(parsed.live[0].name, b"/kept");
    }

    #[test]
    fn garbage_is_counted_and_skipped() {
        let text = b"not a header\n+ zz 1 2\n+ 2f61 x 1\n- 2f6\n\xff\xfe\n+ 2f61 5 6\nrandom\n";
        let parsed = parse(text);
        assert_eq!(parsed.header, None);
        assert_eq!(parsed.bad_lines, 6);
        assert_eq!(parsed.live.len(), 1);
        assert_eq!(parsed.live[0].name, b"/a");
    }

    #[test]
    fn a_rewrite_keeps_exactly_the_records_given() {
        let mut text = header_line(3, "posix", 9);
        text += &created_line(b"/x", 1, 2);
        text += &created_line(b"/y", 3, 4);
        let parsed = parse(text.as_bytes());
        let again = parse(rewrite(parsed.header.as_ref(), &[&parsed.live[1]]).as_bytes());
        assert_eq!(again.header, parsed.header);
        assert_eq!(names(&again), vec![(b"/y".to_vec(), 3, 4)]);
    }

    #[test]
    fn hex_round_trips_every_byte() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(unhex(&hex(&all)).unwrap(), all);
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex(""), None);
        assert_eq!(unhex("g0"), None);
    }
}
