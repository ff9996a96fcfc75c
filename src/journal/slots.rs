//! The journal file format: a header, then a table of fixed-size slots, one
//! a region. Pure code: encoding and decoding, no system call.
//!
//! ```text
//! offset 0    header (256 bytes): magic, version, slot size, pid, uid,
//!             start time, nonce, backend, boot id, checksum
//! offset 256  slot 0 (336 bytes = 42 words), slot 1, ...
//! ```
//!
//! A slot is 42 native-endian 64-bit words. Word 0 is the state: 0 for a
//! free slot, otherwise `seq << 8 | phase`. The owner writes every other
//! word first and the state last, so a slot is either free or complete; a
//! checksum over the other words guards against anything else (a file
//! edited by hand, a torn read of a live journal). Moving a record from
//! [`Phase::Intent`] to [`Phase::Created`] writes the identity words, which
//! the intent's checksum does not cover, then their own checksum, then the
//! new state: a crash at any step leaves a valid intent or a valid creation.

/// First bytes of every slot journal.
pub const MAGIC: &[u8; 16] = b"triton-shm-slot2";
/// Format version in the header.
///
/// cbindgen:ignore
pub const VERSION: u32 = 2;
/// Bytes before the first slot.
///
/// cbindgen:ignore
pub const HEADER_BYTES: usize = 256;
/// Words in one slot.
///
/// cbindgen:ignore
pub const SLOT_WORDS: usize = 42;
/// Bytes in one slot.
///
/// cbindgen:ignore
pub const SLOT_BYTES: usize = SLOT_WORDS * 8;
/// The longest system name a slot holds (`/` and 255 bytes: Linux's limit).
///
/// cbindgen:ignore
pub const NAME_CAPACITY: usize = 256;

pub(crate) const W_STATE: usize = 0;
const W_SIZE: usize = 1;
const W_SINCE: usize = 2;
const W_LEN: usize = 3;
pub(crate) const W_DEVICE: usize = 4;
pub(crate) const W_INODE: usize = 5;
pub(crate) const W_UID: usize = 6;
pub(crate) const W_CHECK_BASE: usize = 7;
pub(crate) const W_CHECK_IDENTITY: usize = 8;
const W_NAME: usize = 9;
const NAME_WORDS: usize = NAME_CAPACITY / 8;
const _: () = assert!(W_NAME + NAME_WORDS <= SLOT_WORDS);

// Header offsets.
const H_VERSION: usize = 16;
const H_SLOT_BYTES: usize = 20;
const H_PID: usize = 24;
const H_UID: usize = 28;
const H_STARTED_NS: usize = 32;
const H_NONCE: usize = 40;
const H_BACKEND: usize = 48;
const BACKEND_LEN: usize = 16;
const H_BOOT_LEN: usize = 64;
const H_BOOT: usize = 65;
const BOOT_LEN: usize = 64;
const H_CHECK: usize = 136;

/// What a record says about its region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Written before `shm_open(O_CREAT | O_EXCL)`: the object may exist,
    /// never sized, with no identity recorded yet.
    Intent = 1,
    /// Created here, with the identity `fstat` gave right after creation.
    Created = 2,
    /// Registered as owned by name: created by this process some other
    /// way, before the record was written.
    Registered = 3,
}

impl Phase {
    fn from_word(word: u64) -> Option<Phase> {
        match word & 0xff {
            1 => Some(Phase::Intent),
            2 => Some(Phase::Created),
            3 => Some(Phase::Registered),
            _ => None,
        }
    }
}

/// The content of one slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    /// Number of this record in its journal, from 1; never reused.
    pub seq: u64,
    /// What the record says.
    pub phase: Phase,
    /// The system name handed to `shm_open`.
    pub name: Vec<u8>,
    /// Size in bytes asked for (0 for a registration).
    pub size: u64,
    /// Nanoseconds since the epoch when the record was written.
    pub since_ns: i64,
    /// `st_dev`, `st_ino`, `st_uid` after creation ([`Phase::Created`]
    /// only; device and inode are 0 on macOS).
    pub identity: Option<(u64, u64, u32)>,
}

/// What a slot's words hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decoded {
    /// A free slot.
    Free,
    /// A complete record.
    Record(Slot),
    /// Neither: a checksum or a field that does not hold.
    Bad,
}

fn mix(h: u64, word: u64) -> u64 {
    (h ^ word)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .rotate_left(29)
}

fn check_base(words: &[u64]) -> u64 {
    let len = usize::try_from(words[W_LEN])
        .unwrap_or(0)
        .min(NAME_CAPACITY);
    // The number, and whether the record is a registration; not whether an
    // intent became a creation, which changes the state word alone.
    let registration = u64::from(words[W_STATE] & 0xff == Phase::Registered as u64);
    let mut h = mix(
        0x7472_6974_6f6e_2d31,
        words[W_STATE] >> 8 | registration << 63,
    );
    for w in [words[W_SIZE], words[W_SINCE], words[W_LEN]] {
        h = mix(h, w);
    }
    for w in &words[W_NAME..W_NAME + len.div_ceil(8)] {
        h = mix(h, *w);
    }
    h
}

/// The checksum of the identity words of a creation record.
pub(crate) fn check_identity(base: u64, device: u64, inode: u64, uid: u64) -> u64 {
    mix(mix(mix(base, device), inode), uid)
}

/// The words of a record without identity: what the owner stores first.
/// `None` for an empty name, a name longer than [`NAME_CAPACITY`], or a
/// number outside 1..2^56.
pub fn encode_record(
    seq: u64,
    phase: Phase,
    name: &[u8],
    size: u64,
    since_ns: i64,
) -> Option<[u64; SLOT_WORDS]> {
    if name.is_empty() || name.len() > NAME_CAPACITY || seq == 0 || seq >> 56 != 0 {
        return None;
    }
    let mut words = [0u64; SLOT_WORDS];
    words[W_STATE] = seq << 8 | phase as u64;
    words[W_SIZE] = size;
    words[W_SINCE] = since_ns as u64;
    words[W_LEN] = name.len() as u64;
    for (i, chunk) in name.chunks(8).enumerate() {
        let mut bytes = [0u8; 8];
        bytes[..chunk.len()].copy_from_slice(chunk);
        words[W_NAME + i] = u64::from_ne_bytes(bytes);
    }
    words[W_CHECK_BASE] = check_base(&words);
    Some(words)
}

/// The words of `slot`, as the owner stores them.
pub fn encode_slot(slot: &Slot) -> Option<[u64; SLOT_WORDS]> {
    let mut words = encode_record(slot.seq, slot.phase, &slot.name, slot.size, slot.since_ns)?;
    if let Some((device, inode, uid)) = slot.identity {
        words[W_DEVICE] = device;
        words[W_INODE] = inode;
        words[W_UID] = u64::from(uid);
        words[W_CHECK_IDENTITY] =
            check_identity(words[W_CHECK_BASE], device, inode, u64::from(uid));
    }
    Some(words)
}

/// Decode one slot's words.
pub fn decode_slot(words: &[u64]) -> Decoded {
    if words.len() != SLOT_WORDS {
        return Decoded::Bad;
    }
    let state = words[W_STATE];
    if state == 0 {
        return Decoded::Free;
    }
    let (Some(phase), seq) = (Phase::from_word(state), state >> 8) else {
        return Decoded::Bad;
    };
    let len = words[W_LEN];
    if seq == 0
        || len == 0
        || len > NAME_CAPACITY as u64
        || check_base(words) != words[W_CHECK_BASE]
    {
        return Decoded::Bad;
    }
    let identity = (words[W_DEVICE], words[W_INODE], words[W_UID]);
    if phase == Phase::Created
        && check_identity(words[W_CHECK_BASE], identity.0, identity.1, identity.2)
            != words[W_CHECK_IDENTITY]
    {
        return Decoded::Bad;
    }
    let mut name: Vec<u8> = words[W_NAME..W_NAME + NAME_WORDS]
        .iter()
        .flat_map(|w| w.to_ne_bytes())
        .collect();
    name.truncate(len as usize);
    Decoded::Record(Slot {
        seq,
        phase,
        name,
        size: words[W_SIZE],
        since_ns: words[W_SINCE] as i64,
        identity: (phase == Phase::Created).then(|| {
            (
                identity.0,
                identity.1,
                u32::try_from(identity.2).unwrap_or(u32::MAX),
            )
        }),
    })
}

/// What a slot journal's header says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SlotHeader {
    /// Pid of the owner when it created the journal.
    pub pid: u32,
    /// Effective uid of the owner.
    pub uid: u32,
    /// Nanoseconds since the epoch when the journal was created.
    pub started_ns: i64,
    /// A random number that makes the file name unique.
    pub nonce: u64,
    /// Backend the owner used.
    pub backend: String,
    /// The boot the journal was written in (see `os::boot_id`).
    pub boot_id: Option<String>,
}

/// The header bytes for `header`. A backend or boot id too long for its
/// field is cut (neither ever is).
pub fn encode_header(header: &SlotHeader) -> [u8; HEADER_BYTES] {
    let mut out = [0u8; HEADER_BYTES];
    out[..16].copy_from_slice(MAGIC);
    out[H_VERSION..H_VERSION + 4].copy_from_slice(&VERSION.to_ne_bytes());
    out[H_SLOT_BYTES..H_SLOT_BYTES + 4].copy_from_slice(&(SLOT_BYTES as u32).to_ne_bytes());
    out[H_PID..H_PID + 4].copy_from_slice(&header.pid.to_ne_bytes());
    out[H_UID..H_UID + 4].copy_from_slice(&header.uid.to_ne_bytes());
    out[H_STARTED_NS..H_STARTED_NS + 8].copy_from_slice(&header.started_ns.to_ne_bytes());
    out[H_NONCE..H_NONCE + 8].copy_from_slice(&header.nonce.to_ne_bytes());
    let backend = header.backend.as_bytes();
    let n = backend.len().min(BACKEND_LEN);
    out[H_BACKEND..H_BACKEND + n].copy_from_slice(&backend[..n]);
    if let Some(boot) = &header.boot_id {
        let n = boot.len().min(BOOT_LEN);
        out[H_BOOT_LEN] = n as u8;
        out[H_BOOT..H_BOOT + n].copy_from_slice(&boot.as_bytes()[..n]);
    }
    let check = header_check(&out);
    out[H_CHECK..H_CHECK + 8].copy_from_slice(&check.to_ne_bytes());
    out
}

fn header_check(bytes: &[u8]) -> u64 {
    bytes[..H_CHECK]
        .chunks(8)
        .fold(0x6a6f_7572_6e61_6c32, |h, c| {
            mix(h, u64::from_ne_bytes(c.try_into().unwrap_or([0; 8])))
        })
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(bytes[at..at + 4].try_into().unwrap_or([0; 4]))
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(bytes[at..at + 8].try_into().unwrap_or([0; 8]))
}

/// Decode a header; `None` unless magic, version, slot size and checksum
/// all hold.
pub fn decode_header(bytes: &[u8]) -> Option<SlotHeader> {
    let bytes = bytes.get(..HEADER_BYTES)?;
    if &bytes[..16] != MAGIC
        || u32_at(bytes, H_VERSION) != VERSION
        || u32_at(bytes, H_SLOT_BYTES) as usize != SLOT_BYTES
        || header_check(bytes) != u64_at(bytes, H_CHECK)
    {
        return None;
    }
    let backend = &bytes[H_BACKEND..H_BACKEND + BACKEND_LEN];
    let backend_len = backend.iter().position(|&b| b == 0).unwrap_or(BACKEND_LEN);
    let boot_len = usize::from(bytes[H_BOOT_LEN]).min(BOOT_LEN);
    Some(SlotHeader {
        pid: u32_at(bytes, H_PID),
        uid: u32_at(bytes, H_UID),
        started_ns: u64_at(bytes, H_STARTED_NS) as i64,
        nonce: u64_at(bytes, H_NONCE),
        backend: String::from_utf8_lossy(&backend[..backend_len]).into_owned(),
        boot_id: (boot_len > 0)
            .then(|| String::from_utf8_lossy(&bytes[H_BOOT..H_BOOT + boot_len]).into_owned()),
    })
}

/// Whether `bytes` begin like a slot journal.
pub fn is_slot_journal(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// The byte offset of slot `index`.
pub fn slot_offset(index: usize) -> usize {
    HEADER_BYTES + index * SLOT_BYTES
}

/// The slots in `bytes` past the header, each decoded, with its index. A
/// partial slot at the end (a file cut short) is `Bad`.
pub fn decode_slots(bytes: &[u8]) -> impl Iterator<Item = (usize, Decoded)> + '_ {
    let body = bytes.get(HEADER_BYTES..).unwrap_or(&[]);
    body.chunks(SLOT_BYTES).enumerate().map(|(index, chunk)| {
        if chunk.len() != SLOT_BYTES {
            return (index, Decoded::Bad);
        }
        let mut words = [0u64; SLOT_WORDS];
        for (w, c) in words.iter_mut().zip(chunk.chunks_exact(8)) {
            *w = u64::from_ne_bytes(c.try_into().unwrap_or([0; 8]));
        }
        (index, decode_slot(&words))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(phase: Phase) -> Slot {
        Slot {
            seq: 7,
            phase,
            name: b"/a-region\xff".to_vec(),
            size: 65536,
            since_ns: 1_764_316_800_000_000_123,
            identity: (phase == Phase::Created).then_some((64, 1234, 1000)),
        }
    }

    #[test]
    fn every_phase_round_trips() {
        for phase in [Phase::Intent, Phase::Created, Phase::Registered] {
            let words = encode_slot(&slot(phase)).unwrap();
            assert_eq!(decode_slot(&words), Decoded::Record(slot(phase)));
        }
    }

    #[test]
    fn a_flipped_bit_anywhere_in_a_record_makes_it_bad_or_free() {
        let words = encode_slot(&slot(Phase::Created)).unwrap();
        for word in 0..W_NAME + 2 {
            for bit in [0, 9, 63] {
                let mut w = words;
                w[word] ^= 1 << bit;
                let decoded = decode_slot(&w);
                assert!(
                    !matches!(decoded, Decoded::Record(ref s) if *s != slot(Phase::Created)),
                    "word {word} bit {bit}: {decoded:?}"
                );
            }
        }
    }

    #[test]
    fn an_upgrade_cut_at_any_word_leaves_a_valid_intent_or_creation() {
        let intent = encode_slot(&slot(Phase::Intent)).unwrap();
        let created = encode_slot(&slot(Phase::Created)).unwrap();
        // The owner's order: device, inode, uid, identity checksum, state.
        let order = [W_DEVICE, W_INODE, W_UID, W_CHECK_IDENTITY, W_STATE];
        for cut in 0..=order.len() {
            let mut w = intent;
            for &i in &order[..cut] {
                w[i] = created[i];
            }
            let expected = if cut == order.len() {
                slot(Phase::Created)
            } else {
                slot(Phase::Intent)
            };
            assert_eq!(
                decode_slot(&w),
                Decoded::Record(expected),
                "cut after {cut} words"
            );
        }
    }

    #[test]
    fn names_too_long_for_a_slot_are_refused() {
        let mut s = slot(Phase::Intent);
        s.name = vec![b'x'; NAME_CAPACITY + 1];
        assert_eq!(encode_slot(&s), None);
        s.name = vec![b'x'; NAME_CAPACITY];
        assert!(matches!(
            decode_slot(&encode_slot(&s).unwrap()),
            Decoded::Record(_)
        ));
    }

    #[test]
    fn the_header_round_trips_and_a_changed_byte_breaks_it() {
        let header = SlotHeader {
            pid: 42,
            uid: 1000,
            started_ns: 5,
            nonce: 0xdead_beef,
            backend: "posix".into(),
            boot_id: Some("0a1b2c3d-0000-4000-8000-000000000000".into()),
        };
        let mut bytes = encode_header(&header);
        assert_eq!(decode_header(&bytes), Some(header));
        bytes[H_PID] ^= 1;
        assert_eq!(decode_header(&bytes), None);
    }
}
