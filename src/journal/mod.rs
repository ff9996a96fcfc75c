//! The crash-safe record of the regions a registry owns, and the reaper that
//! removes the regions of owners that died.
//!
//! A registry that owns regions keeps one journal file in the state
//! directory and holds an exclusive `flock` on it for as long as its
//! process lives. The kernel releases the lock when the owner dies, which is
//! how the reaper tells dead owners from live ones, whatever their pid.
//!
//! The file is a table of fixed-size slots mapped `MAP_SHARED` (see
//! [`slots`] for the format). A record is written into a free slot before
//! a region is created, completed with the object's identity right after
//! `shm_open`, and the slot is freed once the region is gone. These are
//! stores into memory, no system call: the page cache holds them the
//! instant they are made, so a reaper reads them after a SIGKILL. The file
//! grows (by writing zeros, then mapping it again) only when every slot is
//! in use, so its size follows the peak number of live regions, not the
//! history. No `fsync`: POSIX shared memory does not survive a reboot, and
//! neither needs its record to.
//!
//! The reaper removes a region only when it can show that the object is the
//! one a dead owner recorded ([`reap_stale`] lists every check). Text
//! journals of earlier versions ([`legacy`]) are still read and reaped.

// The two formats are public for the project's own tests and fuzz targets
// only, with no stability promise: the public API is the reaper's.
#[doc(hidden)]
pub mod legacy;
mod reaper;
#[doc(hidden)]
pub mod slots;
mod table;

#[doc(hidden)]
pub use legacy::{created_line, header_line, removed_line};
pub(crate) use reaper::live_names_now;
pub use reaper::{list_journals, reap, reap_stale, JournalInfo, ReapReport};
pub(crate) use table::{state_dir_error, Journal, SlotRef};

/// Which format a journal is in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum JournalFormat {
    /// The slot table this version writes.
    #[default]
    Slots,
    /// The text journal of earlier versions.
    Text,
}

/// What a journal's header says about its owner.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// The file's format.
    pub format: JournalFormat,
    /// Pid of the owner when it created the journal.
    pub pid: u32,
    /// Backend the owner used (`posix`; a model's objects die with it).
    pub backend: String,
    /// Seconds since the epoch when the journal was created.
    pub started: i64,
    /// Effective uid of the owner (slot journals only).
    pub uid: Option<u32>,
    /// The boot the journal was written in (slot journals only).
    pub boot_id: Option<String>,
}

/// What a record knows about its region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordKind {
    /// Recorded before `shm_open(O_CREAT | O_EXCL)`; the owner died before
    /// it could record the identity. The object, if it is the owner's, was
    /// never sized.
    Intent,
    /// Created by the owner, with the identity `fstat` gave right after;
    /// or registered as owned with the identity of the sized object found
    /// under the name at registration (and its size then).
    Created {
        /// `st_dev` (0 on macOS).
        device: u64,
        /// `st_ino` (0 on macOS).
        inode: u64,
        /// `st_uid`.
        uid: u32,
    },
    /// Registered as owned by name, with no identity: no sized object was
    /// under the name at registration (or it could not be looked at).
    Registered,
    /// A `+` record of a text journal: a name, a size and a time.
    Legacy,
}

/// A region a journal lists as possibly existing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The system name handed to `shm_open`.
    pub name: Vec<u8>,
    /// Its size in bytes (for a registration: the size of the object found
    /// at registration, 0 without one).
    pub size: u64,
    /// Seconds since the epoch when it was recorded.
    pub since: i64,
    /// The same, in nanoseconds (whole seconds for a text record).
    pub since_ns: i64,
    /// What the record knows.
    pub kind: RecordKind,
    /// The record's number in its journal (a text record: its line).
    pub seq: u64,
    /// The slot that holds it (slot journals only).
    pub slot: Option<usize>,
}

/// The content of a journal.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// The header, if it is one.
    pub header: Option<Header>,
    /// Regions recorded and not recorded as gone, sorted by name, then by
    /// record number.
    pub live: Vec<Record>,
    /// Lines (text) or slots that did not decode.
    pub bad_lines: usize,
    /// Whether the last line of a text journal was torn (no newline). A
    /// slot journal is never torn.
    pub torn: bool,
}

/// Parse a journal in either format. Never fails: what does not decode is
/// counted in `bad_lines` and skipped.
pub fn parse(bytes: &[u8]) -> Parsed {
    if !slots::is_slot_journal(bytes) {
        return legacy::parse(bytes);
    }
    let mut parsed = Parsed {
        header: slots::decode_header(bytes).map(|h| Header {
            format: JournalFormat::Slots,
            pid: h.pid,
            backend: h.backend,
            started: h.started_ns.div_euclid(1_000_000_000),
            uid: Some(h.uid),
            boot_id: h.boot_id,
        }),
        ..Parsed::default()
    };
    for (index, decoded) in slots::decode_slots(bytes) {
        match decoded {
            slots::Decoded::Free => {}
            slots::Decoded::Bad => parsed.bad_lines += 1,
            slots::Decoded::Record(slot) => parsed.live.push(Record {
                kind: match (slot.phase, slot.identity) {
                    (slots::Phase::Created, Some((device, inode, uid))) => {
                        RecordKind::Created { device, inode, uid }
                    }
                    (slots::Phase::Registered, _) => RecordKind::Registered,
                    _ => RecordKind::Intent,
                },
                since: slot.since_ns.div_euclid(1_000_000_000),
                since_ns: slot.since_ns,
                name: slot.name,
                size: slot.size,
                seq: slot.seq,
                slot: Some(index),
            }),
        }
    }
    // Record numbers are unique in a journal: no two records compare equal.
    parsed
        .live
        .sort_unstable_by(|a, b| a.name.cmp(&b.name).then(a.seq.cmp(&b.seq)));
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_input_is_an_empty_journal() {
        assert_eq!(parse(b""), Parsed::default());
    }

    #[test]
    fn a_slot_journal_lists_its_records_by_name_then_number() {
        let header = slots::SlotHeader {
            pid: 9,
            uid: 5,
            backend: "posix".into(),
            ..Default::default()
        };
        let mut bytes = slots::encode_header(&header).to_vec();
        let records = [(3, b"/b".as_slice()), (1, b"/a"), (2, b"/a")];
        for (seq, name) in records {
            let slot = slots::Slot {
                seq,
                phase: slots::Phase::Registered,
                name: name.to_vec(),
                size: 0,
                since_ns: 2_000_000_000,
                identity: None,
            };
            for w in slots::encode_slot(&slot).unwrap() {
                bytes.extend_from_slice(&w.to_ne_bytes());
            }
        }
        bytes.extend_from_slice(&[0u8; slots::SLOT_BYTES]); // a free slot
        let parsed = parse(&bytes);
        assert_eq!(
            parsed.header.as_ref().map(|h| (h.pid, h.uid)),
            Some((9, Some(5)))
        );
        let order: Vec<(&[u8], u64, Option<usize>)> = parsed
            .live
            .iter()
            .map(|r| (r.name.as_slice(), r.seq, r.slot))
            .collect();
        assert_eq!(
            order,
            vec![
                (&b"/a"[..], 1, Some(1)),
                (&b"/a"[..], 2, Some(2)),
                (&b"/b"[..], 3, Some(0))
            ]
        );
        assert_eq!(parsed.live[0].since, 2);
        assert_eq!((parsed.bad_lines, parsed.torn), (0, false));
    }
}
