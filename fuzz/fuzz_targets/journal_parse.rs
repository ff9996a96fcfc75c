//! Arbitrary bytes as a journal file through `journal::parse`, which the
//! reaper runs on whatever it finds in the state directory, in both
//! formats: the slot table this version writes and the text journals of
//! earlier versions. It must never panic, and what it decodes must survive
//! being written back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use triton_shm::journal::{self, legacy, slots, Parsed, Record, RecordKind};

fuzz_target!(|data: &[u8]| {
    let parsed = journal::parse(data);
    check_shape(&parsed);
    if slots::is_slot_journal(data) {
        check_slot_rewrite(data, &parsed);
    } else {
        check_text_rewrite(&parsed);
        check_torn_tails(data, &parsed);
    }
    check_slot_round_trip(data);
});

fn check_shape(parsed: &Parsed) {
    // Every record has a name that fits a slot, and the records come
    // sorted by name, then by number.
    assert!(parsed.live.iter().all(|r| !r.name.is_empty()));
    assert!(parsed
        .live
        .windows(2)
        .all(|w| (&w[0].name, w[0].seq) <= (&w[1].name, w[1].seq)));
}

/// Writing a text journal's live set back (header, then one `+` record a
/// region) and parsing that gives the same journal, with nothing bad and
/// nothing torn; a `-` record then removes exactly its region.
fn check_text_rewrite(parsed: &Parsed) {
    assert!(parsed
        .live
        .iter()
        .all(|r| r.kind == RecordKind::Legacy && r.slot.is_none()));
    assert!(
        parsed.live.windows(2).all(|w| w[0].name < w[1].name),
        "one record a name"
    );
    let all: Vec<&Record> = parsed.live.iter().collect();
    let mut text = legacy::rewrite(parsed.header.as_ref(), &all);
    let again = journal::parse(text.as_bytes());
    assert_eq!(again.header, parsed.header);
    assert_eq!(names_sizes(&again), names_sizes(parsed));
    assert_eq!((again.bad_lines, again.torn), (0, false));
    if let Some(first) = parsed.live.first() {
        text += &legacy::removed_line(&first.name);
        assert_eq!(
            names_sizes(&journal::parse(text.as_bytes())),
            names_sizes(parsed)[1..]
        );
    }
}

fn names_sizes(parsed: &Parsed) -> Vec<(Vec<u8>, u64, i64)> {
    parsed
        .live
        .iter()
        .map(|r| (r.name.clone(), r.size, r.since))
        .collect()
}

/// What a crash leaves at the end of a text journal, a write cut short,
/// changes nothing.
fn check_torn_tails(data: &[u8], parsed: &Parsed) {
    let record = legacy::created_line(b"/torn", 4096, 1);
    let cut = 1 + data.len() % (record.len() - 1);
    let own: Vec<u8> = data.iter().copied().filter(|&b| b != b'\n').collect();
    for tail in [&record.as_bytes()[..cut], &own[..]] {
        if tail.is_empty() {
            continue;
        }
        let torn = journal::parse(&[data, tail].concat());
        assert!(torn.torn);
        assert_eq!(torn.header, parsed.header);
        assert_eq!(torn.live, parsed.live);
        assert_eq!(torn.bad_lines, parsed.bad_lines);
    }
}

fn to_slot(r: &Record) -> slots::Slot {
    let (phase, identity) = match r.kind {
        RecordKind::Created { device, inode, uid } => {
            (slots::Phase::Created, Some((device, inode, uid)))
        }
        RecordKind::Registered => (slots::Phase::Registered, None),
        _ => (slots::Phase::Intent, None),
    };
    slots::Slot {
        seq: r.seq,
        phase,
        name: r.name.clone(),
        size: r.size,
        since_ns: r.since_ns,
        identity,
    }
}

/// The records of a slot journal, each written back into the slot it came
/// from of an otherwise empty table, decode to the same records.
fn check_slot_rewrite(data: &[u8], parsed: &Parsed) {
    let slots_in_data = data
        .len()
        .saturating_sub(slots::HEADER_BYTES)
        .div_ceil(slots::SLOT_BYTES);
    assert!(parsed.live.len() + parsed.bad_lines <= slots_in_data);
    let mut image = data
        .get(..slots::HEADER_BYTES)
        .map_or_else(Vec::new, <[u8]>::to_vec);
    image.resize(slots::HEADER_BYTES + slots_in_data * slots::SLOT_BYTES, 0);
    for r in &parsed.live {
        let index = r.slot.expect("a slot record knows its slot");
        let words = slots::encode_slot(&to_slot(r)).expect("a decoded record encodes");
        let at = slots::slot_offset(index);
        for (i, w) in words.iter().enumerate() {
            image[at + i * 8..at + i * 8 + 8].copy_from_slice(&w.to_ne_bytes());
        }
    }
    let again = journal::parse(&image);
    assert_eq!(again.header, parsed.header);
    assert_eq!(again.live, parsed.live);
    assert_eq!(again.bad_lines, 0);
}

/// A record made of the input's bytes encodes and decodes to itself, and
/// an intent cut at any step of its completion stays a valid record.
fn check_slot_round_trip(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let len = 1 + usize::from(first) % slots::NAME_CAPACITY;
    let name: Vec<u8> = rest.iter().copied().take(len).collect();
    if name.is_empty() {
        return;
    }
    let word = |i: usize| {
        rest.get(i * 8..i * 8 + 8)
            .map_or(0, |b| u64::from_ne_bytes(b.try_into().unwrap()))
    };
    let phase = [
        slots::Phase::Intent,
        slots::Phase::Created,
        slots::Phase::Registered,
    ][usize::from(first) % 3];
    let slot = slots::Slot {
        seq: 1 + word(0) % (1 << 55),
        phase,
        name,
        size: word(1),
        since_ns: word(2) as i64,
        identity: (phase == slots::Phase::Created).then(|| (word(3), word(4), word(5) as u32)),
    };
    let words = slots::encode_slot(&slot).expect("a valid record encodes");
    assert_eq!(slots::decode_slot(&words), slots::Decoded::Record(slot));
}
