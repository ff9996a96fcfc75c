//! A dead owner's journal, from its lock (step 3) to what is left of it
//! (step g): what becomes of each of its records, the re-read and the
//! in-use check of a batch (d, e), and the unlinks (f); and the journals
//! half-made by owners killed before naming them.

use super::listing::{live_names_now, read_journal};
use super::verdict::{check, look_again, Context, Verdict};
use super::ReapReport;
use crate::journal::{legacy, slots, Header, JournalFormat, Parsed, Record};
use crate::log::{log_at, Level};
use crate::os::holders::{self, Wanted};
use crate::os::state_dir::{self, LockedFile, StateDir};
use crate::os::{Identity, ShmBackend};
use crate::status::ErrnoText;
use std::collections::HashSet;
use std::ffi::CString;
use std::os::fd::AsFd;

/// Where a record stands in a reap.
enum Fate {
    /// Dropped from the journal (unlinked, gone, left alone).
    Resolved,
    /// Kept for a later reap.
    Kept,
    /// Judged the recorded object (step c), with the identity found:
    /// waiting for the re-read (d) and the in-use check (e).
    Candidate(Identity),
}

/// A dead owner's journal, locked by this reaper.
pub(super) struct DeadJournal {
    name: String,
    locked: LockedFile,
    parsed: Parsed,
    /// One for each of `parsed.live`.
    fates: Vec<Fate>,
}

/// Step 3: open, lock, check and read the dead journal `name`.
pub(super) fn open_dead(
    dir: &StateDir,
    name: &str,
    report: &mut ReapReport,
) -> Option<DeadJournal> {
    let opened = dir.open_journal(name);
    #[cfg(feature = "crash-points")]
    crate::os::crash_point::hit("reaper-opened");
    let locked = match opened.and_then(StateDir::try_lock) {
        Ok(Some(locked)) => locked,
        Ok(None) => {
            // Its owner came back to life? No: a process of an earlier
            // version reaping without the reaper lock, or a registry that
            // reads journals, has it now.
            report.journals_live += 1;
            return None;
        }
        Err(e) => {
            log_at!(Level::Warn, "reaper: {e}");
            report.journals_skipped += 1;
            return None;
        }
    };
    #[cfg(feature = "crash-points")]
    crate::os::crash_point::hit("reaper-locked");
    if !dir.still_linked(locked.file(), name) {
        log_at!(
            Level::Info,
            "reaper: {name} was removed by another reaper; skipped"
        );
        report.journals_skipped += 1;
        return None;
    }
    let parsed = match read_journal(locked.file()) {
        Ok(parsed) => parsed,
        Err(e) => {
            log_at!(Level::Warn, "reaper: cannot read {name}: {e}");
            report.journals_skipped += 1;
            return None;
        }
    };
    report.journals_reaped += 1;
    Some(DeadJournal {
        name: name.to_owned(),
        locked,
        parsed,
        fates: Vec::new(),
    })
}

/// Steps a–c for every record of `journal`.
pub(super) fn judge_journal(
    journal: &mut DeadJournal,
    backend: &dyn ShmBackend,
    live_names: &HashSet<Vec<u8>>,
    ctx: &Context,
    report: &mut ReapReport,
) {
    let header = journal.parsed.header.as_ref();
    let earlier_boot = header
        .and_then(|h| h.boot_id.as_deref())
        .zip(crate::os::boot_id())
        .is_some_and(|(then, now)| then != now);
    // A model's objects lived in its dead process: nothing to unlink.
    let real = header.is_none_or(|h| h.backend == "posix");
    let name = &journal.name;
    journal.fates = journal
        .parsed
        .live
        .iter()
        .map(|record| {
            if earlier_boot || !real {
                report.regions_left_alone += 1;
                return Fate::Resolved;
            }
            if live_names.contains(&record.name) {
                // A live owner has (or is creating) an object under this
                // name: leave it, keep the record until that owner is done.
                defer(record, report);
                return Fate::Kept;
            }
            match check(record, backend, ctx) {
                Ok(found) => Fate::Candidate(found),
                Err(verdict) => settle(verdict, record, name, report),
            }
        })
        .collect();
}

fn defer(record: &Record, report: &mut ReapReport) {
    log_at!(
        Level::Info,
        "reaper: '{}' is listed by a live journal; kept",
        record.name.escape_ascii()
    );
    report.regions_deferred += 1;
}

/// Count a verdict other than an unlink, and say what becomes of the record.
fn settle(verdict: Verdict, record: &Record, journal: &str, report: &mut ReapReport) -> Fate {
    match verdict {
        Verdict::Unlink => {
            report.regions_unlinked += 1;
            Fate::Resolved
        }
        Verdict::Gone => {
            report.regions_already_gone += 1;
            Fate::Resolved
        }
        Verdict::LeaveAlone(why) => {
            log_at!(
                Level::Info,
                "reaper: '{}' from {journal} left alone: {why}",
                record.name.escape_ascii()
            );
            report.regions_left_alone += 1;
            Fate::Resolved
        }
        Verdict::Retry(why) => {
            log_at!(
                Level::Error,
                "reaper: '{}' from {journal}: {why}; kept for the next reap",
                record.name.escape_ascii()
            );
            report.regions_failed += 1;
            Fate::Kept
        }
    }
}

/// Steps d and e, for every candidate of the batch at once: one re-read of
/// the live journals, one scan of the processes. Each candidate left is
/// still looked at once more right before its unlink (f): the re-read
/// vouches only for an object still under the name.
pub(super) fn recheck(dir: &StateDir, journals: &mut [DeadJournal], report: &mut ReapReport) {
    let any = journals
        .iter()
        .any(|j| j.fates.iter().any(|f| matches!(f, Fate::Candidate(_))));
    if !any {
        return;
    }
    let held: Vec<&str> = journals.iter().map(|j| j.name.as_str()).collect();
    let live = live_names_now(dir, &held);
    let mut wanted: Vec<(usize, usize)> = Vec::new();
    for (j, journal) in journals.iter_mut().enumerate() {
        for (r, fate) in journal.fates.iter_mut().enumerate() {
            if !matches!(fate, Fate::Candidate(_)) {
                continue;
            }
            let record = &journal.parsed.live[r];
            match &live {
                Ok(names) if names.contains(&record.name) => {
                    defer(record, report);
                    *fate = Fate::Kept;
                }
                Ok(_) => wanted.push((j, r)),
                Err(why) => {
                    *fate = settle(
                        Verdict::Retry(format!("cannot read the live journals again: {why}")),
                        record,
                        &journal.name,
                        report,
                    );
                }
            }
        }
    }
    let targets: Vec<Wanted<'_>> = wanted
        .iter()
        .filter_map(|&(j, r)| match journals[j].fates[r] {
            Fate::Candidate(identity) => Some(Wanted {
                name: &journals[j].parsed.live[r].name,
                identity,
            }),
            _ => None,
        })
        .collect();
    let scanned = holders::held_by_others(&targets);
    drop(targets);
    for (k, &(j, r)) in wanted.iter().enumerate() {
        let journal = &mut journals[j];
        let record = &journal.parsed.live[r];
        match &scanned {
            Ok(held) if !held.get(k).copied().unwrap_or(true) => {}
            Ok(_) => {
                log_at!(
                    Level::Info,
                    "reaper: '{}' from {} is held by a live process; kept",
                    record.name.escape_ascii(),
                    journal.name
                );
                report.regions_in_use += 1;
                journal.fates[r] = Fate::Kept;
            }
            Err(why) => {
                journal.fates[r] = settle(
                    Verdict::Retry(format!("cannot tell whether a process holds it: {why}")),
                    record,
                    &journal.name,
                    report,
                );
            }
        }
    }
}

/// Step f for the candidates left in `journal`, each looked at once more
/// right before its unlink ([`look_again`]).
pub(super) fn unlink_candidates(
    journal: &mut DeadJournal,
    backend: &dyn ShmBackend,
    dry_run: bool,
    report: &mut ReapReport,
) {
    for (r, fate) in journal.fates.iter_mut().enumerate() {
        let Fate::Candidate(checked) = *fate else {
            continue;
        };
        let record = &journal.parsed.live[r];
        #[cfg(feature = "crash-points")]
        crate::os::crash_point::hit("reaper-rechecked");
        if let Some(verdict) = look_again(record, backend, &checked) {
            *fate = settle(verdict, record, &journal.name, report);
            continue;
        }
        if dry_run {
            report.regions_unlinked += 1;
            *fate = Fate::Resolved;
            continue;
        }
        let verdict = match CString::new(record.name.clone()).map(|c| backend.unlink(&c)) {
            Ok(Ok(())) => {
                log_at!(
                    Level::Info,
                    "reaper: unlinked '{}' from {}",
                    record.name.escape_ascii(),
                    journal.name
                );
                Verdict::Unlink
            }
            Ok(Err(libc::ENOENT)) => Verdict::Gone,
            Ok(Err(libc::EACCES | libc::EPERM)) => Verdict::LeaveAlone("shm_unlink was refused"),
            Ok(Err(errno)) => Verdict::Retry(format!("shm_unlink: {}", ErrnoText(errno))),
            Err(_) => Verdict::LeaveAlone("the name holds a NUL byte"),
        };
        *fate = settle(verdict, record, &journal.name, report);
    }
}

/// Step g: drop the resolved records, or remove a journal with none kept.
pub(super) fn finish(dir: &StateDir, journal: &DeadJournal) {
    let mut kept: Vec<&Record> = Vec::new();
    let mut resolved: Vec<&Record> = Vec::new();
    for (record, fate) in journal.parsed.live.iter().zip(&journal.fates) {
        match fate {
            Fate::Resolved => resolved.push(record),
            // A candidate is never left after step f; keep it if one were.
            Fate::Kept | Fate::Candidate(_) => kept.push(record),
        }
    }
    let name = &journal.name;
    if kept.is_empty() {
        if let Err(e) = dir.remove(name) {
            log_at!(Level::Warn, "reaper: {e}");
        }
    } else if let Err(errno) = keep_only(
        &journal.locked,
        journal.parsed.header.as_ref(),
        &resolved,
        &kept,
    ) {
        log_at!(
            Level::Warn,
            "reaper: cannot drop the resolved records of {name}: {}",
            ErrnoText(errno)
        );
    }
}

/// Leave in the journal only the records still unresolved.
fn keep_only(
    locked: &LockedFile,
    header: Option<&Header>,
    resolved: &[&Record],
    kept: &[&Record],
) -> std::result::Result<(), i32> {
    match header.map(|h| h.format) {
        Some(JournalFormat::Slots) | None
            if resolved.iter().all(|r| r.slot.is_some())
                && kept.iter().all(|r| r.slot.is_some()) =>
        {
            for r in resolved {
                if let Some(index) = r.slot {
                    let at = slots::slot_offset(index) as u64;
                    state_dir::write_all_at(locked.as_fd(), &[0u8; 8], at)?;
                }
            }
            Ok(())
        }
        _ => {
            let text = legacy::rewrite(header, kept);
            state_dir::truncate(locked, 0)?;
            state_dir::write_all_at(locked.as_fd(), text.as_bytes(), 0)
        }
    }
}

/// Remove `.*.tmp` files nobody holds locked that are over a minute old:
/// journals whose owner died between creating and naming them.
pub(super) fn remove_stale_temps(dir: &StateDir) {
    let Ok(names) = dir.temp_names() else { return };
    let now = crate::os::now_ns() / 1_000_000_000;
    for name in names {
        let Ok(file) = dir.open_journal(&name) else {
            continue;
        };
        let old = state_dir::modified(&file).is_some_and(|m| now - m > 60);
        if old {
            if let Ok(Some(_locked)) = StateDir::try_lock(file) {
                match dir.remove(&name) {
                    Ok(()) => log_at!(Level::Info, "reaper: removed the half-made journal {name}"),
                    Err(e) => log_at!(Level::Warn, "reaper: {e}"),
                }
            }
        }
    }
}
