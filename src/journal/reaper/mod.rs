//! Listing journals, and reaping the regions of dead owners.
//!
//! A reap ([`reap_stale`]; [`reap`] for the state directory of a registry's
//! options) takes these steps in this order. They are the reaper's steps in
//! the README ("Crash safety", whose step 5 is g here) and in
//! `docs/protocol-model.md`, whose step names are the crash points in
//! parentheses; [`reap_stale`]'s own documentation says why each is there.
//!
//! 1. Serialise: `reaper_lock` (this file) takes the state directory's
//!    reaper lock, waiting `REAPER_LOCK_PATIENCE` at most
//!    (`reaper-serialised`).
//! 2. Survey: `survey` (`listing.rs`) tells the dead journals from the live
//!    ones and reads the names the live ones list (`reaper-surveyed`); a
//!    journal that cannot be read ends the reap there (`reap_stale`).
//! 3. Each dead journal, `JOURNALS_PER_BATCH` at a time (`reap_stale`):
//!    `open_dead` (`dead_journal.rs`) opens it (`reaper-opened`), locks it
//!    (`reaper-locked`), checks that it is still linked and reads it
//!    (`read_journal`, `listing.rs`).
//! 4. Each record of the batch:
//!    - (a) `judge_journal` (`dead_journal.rs`): a journal of an earlier
//!      boot, or of a model backend, unlinks nothing; a name a live journal
//!      listed at the survey is deferred (`defer`);
//!    - (b) `check` (`verdict.rs`) opens the name and `fstat`s it
//!      (`reaper-checked`);
//!    - (c) `judge` (`verdict.rs`), called by `check`, holds the record
//!      against that identity: the rules of the README's table, each tested
//!      there; a verdict other than a candidate is counted, and the record
//!      dropped or kept, by `settle` (`dead_journal.rs`);
//!    - (d) `recheck` (`dead_journal.rs`) reads the live journals again
//!      (`live_names_now`, `listing.rs`; the model's `re-read`), once a
//!      batch;
//!    - (e) `recheck` then asks `holders::held_by_others`
//!      (`src/os/holders.rs`) whether a live process holds each candidate,
//!      in one scan a batch;
//!    - (f) `unlink_candidates` (`dead_journal.rs`): `reaper-rechecked`,
//!      then `look_again` (`verdict.rs`) requires the object of (b) under
//!      the name, and only then `shm_unlink` (the model's `unlink`);
//!    - (g) `finish` (`dead_journal.rs`) drops the resolved records
//!      (`keep_only`) or removes a journal with none kept (the model's
//!      `journal-done`).
//!
//! Last, `remove_stale_temps` (`dead_journal.rs`) removes the journals
//! half-made by owners killed before naming them, and `reap_stale` removes
//! the reaper lock file when no journal is left, then releases the lock
//! (the model's `reaper-released`).
//!
//! [`list_journals`] (`listing.rs`) describes the journals without changing
//! anything; `live_names_now` also serves a registry's unlink of a
//! registration without identity.

mod dead_journal;
mod listing;
mod verdict;

use crate::log::{log_at, Level};
use crate::os::state_dir::{self, LockedFile, StateDir};
use crate::os::ShmBackend;
use crate::status::Result;
use std::path::Path;

use super::table::state_dir_error;
use dead_journal::{
    finish, judge_journal, open_dead, recheck, remove_stale_temps, unlink_candidates, DeadJournal,
};
use listing::{open_dir, survey};
use verdict::Context;

pub(crate) use listing::live_names_now;
pub use listing::{list_journals, JournalInfo};

/// Counts from a reap (`reap_stale`; in C, `triton_shm_reap_stale_sized`
/// and `triton_shm_reap_report`).
///
/// Fields are only ever appended. C passes it with its size to
/// `triton_shm_reap_stale_sized`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReapReport {
    /// Journals whose owner was dead and which were processed.
    pub journals_reaped: usize,
    /// Journals held by a live owner (or by another reaper), left alone.
    pub journals_live: usize,
    /// Journals that could not be used (a symlink, another owner,
    /// unreadable, no longer linked), or that were not reaped because some
    /// journal could not be read (its regions might be live).
    pub journals_skipped: usize,
    /// Regions unlinked (or, in a dry run, that would be).
    pub regions_unlinked: usize,
    /// Regions listed but already gone.
    pub regions_already_gone: usize,
    /// Regions whose check or unlink failed for a reason that may pass
    /// (their records are kept for the next reap; the log has each errno).
    pub regions_failed: usize,
    /// Records dropped without unlinking: the object under the name is not
    /// the one recorded (replaced, another user's, newer than the record),
    /// or it is another user's (`EACCES`/`EPERM`), or the journal is from an
    /// earlier boot.
    pub regions_left_alone: usize,
    /// Regions a live journal lists too: left alone for now, their records
    /// kept until that owner is done with the name.
    pub regions_deferred: usize,
    /// Regions a live process other than the reaper has open or mapped
    /// (a client that keeps no journal, say): left alone for now, their
    /// records kept for a later reap.
    pub regions_in_use: usize,
}

/// For each journal in the state directory `path` whose owner is dead (its
/// lock can be taken), unlink the regions it lists that are provably the
/// objects it recorded and that no live process holds, and remove the
/// journal. Journals of live owners are never touched. With `dry_run`,
/// nothing is changed and `regions_unlinked` counts the regions that would
/// be.
///
/// The steps (DESIGN: "no object is ever removed by name alone"):
/// 1. Take the state directory's reaper lock (`.reaper.lock`, which the
///    journal listing ignores), waiting at most 20 ms. Reapers of one
///    directory run one at a time; one that finds another at work returns
///    with an empty report: the one at work surveys the same journals, and
///    waiting longer would stall a creator's reap-on-create behind a slow
///    (or stopped) reaper. Journals that die later go to the next reap.
///    (The 20 ms ride out a child forked by another thread mid-reap, which
///    shares the lock until it execs.)
/// 2. Survey: list the journals; a dead one's lock can be taken; read the
///    names live journals list.
/// 3. Lock each dead journal, check it is still linked under its name
///    (a reaper of an earlier version, which takes no reaper lock, may have
///    removed it), and read it.
/// 4. For each record, in this boot, of the real backend:
///    - (a) listed by a live journal (survey): kept, `regions_deferred`;
///    - (b) open the name and `fstat` it (gone: the record is dropped);
///    - (c) judge: a creation's identity must match (Linux: device and inode,
///      and the size unless never sized; macOS: owner and page-rounded
///      size, which cannot tell a same-sized replacement); a record
///      without identity must meet the rules of its kind (an intent: an
///      object never sized and not older than the record; a registration:
///      an object of this user; a text record: not older than the record).
///      These only ever withhold an unlink: what decides for a record
///      without identity is d and e;
///    - (d) read the live journals again: a creator writes its intent before
///      its `shm_open`, so the live creator of any object opened in b is
///      listed now; listed: kept, `regions_deferred`;
///    - (e) ask whether a live process of this user (other than the reaper)
///      has the object open or mapped (Linux: `/proc/<pid>/fd` and
///      `/proc/<pid>/maps`; macOS: libproc's descriptor lists; one scan
///      for all the records of a batch): held, kept,
///      `regions_in_use`; the scan failed: kept, `regions_failed`;
///    - (f) look at the name once more ([`ShmBackend::identity_by_name`]:
///      on Linux one `lstat`) and require the object found at b: gone,
///      the record is dropped (`regions_already_gone`); another object,
///      left alone and the record dropped (`regions_left_alone`); the look
///      failed, kept (`regions_failed`); only then `shm_unlink`.
///    - (g) the records resolved are dropped; a journal with none kept is
///      removed.
///
/// Why no live object is removed (Linux): only an owner or a reaper
/// unlinks an object; reapers are serialised, and an owner unlinks only
/// the object of its own identity. The object unlinked at f is the one of
/// b (f looks again), whose live owner (if any) is listed at d, since
/// owners free their record only after their unlink: an owner d does not
/// list has unlinked that object already, and a creator that came after d
/// put another object under the name, which f's look leaves alone. A live
/// holder is seen at e. What is left: a client that keeps no journal
/// (Triton's C++ client, `shm_open(O_RDWR | O_CREAT)` on a stale name) and
/// opens the object between e and f. On macOS the object at f is the
/// object of b only as far as owner and rounded size tell, and e misses a
/// process that mapped the object and closed its descriptor.
///
/// A record whose object is gone, is another's, or is not the one recorded
/// is dropped; a record whose check, scan or unlink failed otherwise
/// (`EMFILE`, say) is kept, alone, for the next reap. When some journal
/// cannot be read at all, no region is unlinked (its names are unknown). A
/// missing directory reaps nothing. Journal files half-made by owners
/// killed before naming them (`.*.tmp`, unlocked, a minute old) are
/// removed.
pub fn reap_stale(path: &Path, backend: &dyn ShmBackend, dry_run: bool) -> Result<ReapReport> {
    let mut report = ReapReport::default();
    if !path.exists() {
        return Ok(report);
    }
    let dir = open_dir(path)?;
    if dir.journal_names().map_err(state_dir_error)?.is_empty() {
        // Nothing to reap, and no reaper lock file made where none is needed.
        if !dry_run {
            remove_stale_temps(&dir);
        }
        return Ok(report);
    }
    let Some(_serialised) = reaper_lock(&dir)? else {
        log_at!(
            Level::Info,
            "reaper: another reaper is at work in {}; left to it",
            path.display()
        );
        return Ok(report);
    };
    #[cfg(feature = "crash-points")]
    crate::os::crash_point::hit("reaper-serialised");
    let names = dir.journal_names().map_err(state_dir_error)?;
    let survey = survey(&dir, &names, &mut report);
    #[cfg(feature = "crash-points")]
    crate::os::crash_point::hit("reaper-surveyed");
    if survey.unreadable > 0 {
        log_at!(
            Level::Warn,
            "reaper: {} journal(s) could not be read; reaping nothing, since their regions may be live",
            survey.unreadable
        );
        report.journals_skipped += survey.dead.len();
        return Ok(report);
    }
    let ctx = Context {
        euid: nix::unistd::geteuid().as_raw(),
        page: crate::os::page_size(),
    };
    // Dead journals stay open and locked from step 3 to step g; in batches,
    // so that a directory of many dead journals never runs out of
    // descriptors.
    for batch in survey.dead.chunks(JOURNALS_PER_BATCH) {
        let mut journals: Vec<DeadJournal> = batch
            .iter()
            .filter_map(|name| open_dead(&dir, name, &mut report))
            .collect();
        for journal in &mut journals {
            judge_journal(journal, backend, &survey.live_names, &ctx, &mut report);
        }
        recheck(&dir, &mut journals, &mut report);
        for journal in &mut journals {
            unlink_candidates(journal, backend, dry_run, &mut report);
            if !dry_run {
                finish(&dir, journal);
            }
        }
    }
    if !dry_run {
        remove_stale_temps(&dir);
        // Nothing left to serialise: the lock file goes too, while still
        // locked, as the reap's last act (a reaper that opened it meanwhile
        // finds it unlinked and opens a new one).
        if dir.journal_names().is_ok_and(|names| names.is_empty()) {
            let _ = dir.remove(state_dir::REAPER_LOCK);
        }
    }
    Ok(report)
}

/// How long a reap waits for the reaper lock before it leaves the work to
/// the reaper that holds it.
const REAPER_LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_millis(20);

/// The state directory's reaper lock, tried every millisecond for at most
/// [`REAPER_LOCK_PATIENCE`]: long enough to ride out a process forked by
/// another thread while a reap held it (the child shares the lock until it
/// execs), short enough never to stall a creator's reap-on-create. `None`:
/// another reaper is at work.
fn reaper_lock(dir: &StateDir) -> Result<Option<LockedFile>> {
    let give_up = std::time::Instant::now() + REAPER_LOCK_PATIENCE;
    loop {
        if let Some(locked) = dir.try_reaper_lock().map_err(state_dir_error)? {
            return Ok(Some(locked));
        }
        if std::time::Instant::now() >= give_up {
            return Ok(None);
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// Dead journals open and locked at once.
const JOURNALS_PER_BATCH: usize = 256;

/// [`reap_stale`] on the state directory `options` names, against the real
/// OS (journals are only kept for it). The Rust twin of
/// `triton_shm_reap_stale`.
pub fn reap(options: &crate::Options, dry_run: bool) -> Result<ReapReport> {
    reap_stale(&options.state_dir_path(), crate::os::system(), dry_run)
}
