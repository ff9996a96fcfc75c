//! Arbitrary bytes as a journal file through `journal::parse`, which the
//! reaper runs on whatever it finds in the state directory. It must never
//! panic, and what it folds must survive being written back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use triton_shm::journal::{self, created_line, header_line, removed_line, Parsed};

fuzz_target!(|data: &[u8]| {
    let parsed = journal::parse(data);
    check_shape(data, &parsed);
    check_rewrite(&parsed);
    check_torn_tails(data, &parsed);
});

fn check_shape(data: &[u8], parsed: &Parsed) {
    // Every live record has a name, and the live set is sorted by name
    // with no name twice.
    assert!(parsed.live.iter().all(|r| !r.name.is_empty()));
    assert!(parsed.live.windows(2).all(|w| w[0].name < w[1].name));
    // Only complete lines count; the last is torn when no newline ends it.
    assert_eq!(parsed.torn, !data.is_empty() && !data.ends_with(b"\n"));
    let complete_lines = data.iter().filter(|&&b| b == b'\n').count();
    assert!(parsed.bad_lines <= complete_lines);
    assert!(parsed.live.len() <= complete_lines);
}

/// Writing the live set back as a journal (header, then one `+` record a
/// region) and parsing that gives the same journal, with nothing bad and
/// nothing torn; a `-` record then removes exactly its region.
fn check_rewrite(parsed: &Parsed) {
    let mut text = String::new();
    if let Some(h) = &parsed.header {
        text += &header_line(h.pid, &h.backend, h.started);
    }
    for r in &parsed.live {
        text += &created_line(&r.name, r.size, r.since);
    }
    let again = journal::parse(text.as_bytes());
    assert_eq!(again.header, parsed.header);
    assert_eq!(again.live, parsed.live);
    assert_eq!((again.bad_lines, again.torn), (0, false));
    if let Some(first) = parsed.live.first() {
        text += &removed_line(&first.name);
        assert_eq!(journal::parse(text.as_bytes()).live, parsed.live[1..]);
    }
}

/// What a crash leaves at the end of the file, a write cut short, changes
/// nothing: not the live set, not the header, not the count of bad lines.
fn check_torn_tails(data: &[u8], parsed: &Parsed) {
    let record = created_line(b"/torn", 4096, 1);
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
