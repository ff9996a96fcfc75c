//! Listing journals, and reaping the regions of dead owners.

use super::{legacy, parse, slots, Header, JournalFormat, Parsed, Record, RecordKind};
use crate::log::{log_at, Level};
use crate::os::holders::{self, Wanted};
use crate::os::state_dir::{self, LockedFile, StateDir};
use crate::os::{Identity, OpenFlags, ShmBackend};
use crate::status::{ErrnoText, Result};
use std::collections::HashSet;
use std::ffi::CString;
use std::fs::File;
use std::io::Read;
use std::os::fd::AsFd;
use std::path::Path;

use super::table::state_dir_error;

/// What one journal in the state directory holds. See [`list_journals`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalInfo {
    /// File name inside the state directory.
    pub file: String,
    /// Whether a live process holds its lock.
    pub alive: bool,
    /// Its header, if readable.
    pub header: Option<Header>,
    /// The regions it lists as possibly existing.
    pub regions: Vec<Record>,
    /// Lines (text) or slots that did not decode.
    pub bad_lines: usize,
    /// Why it could not be read, if it could not.
    pub error: Option<String>,
}

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

/// Read a journal's bytes. A live journal may be written while it is read:
/// a slot that does not decode is read again (a few times) before it counts
/// as bad.
fn read_journal(file: &File) -> std::io::Result<Parsed> {
    let mut parsed = Parsed::default();
    for _ in 0..3 {
        let mut bytes = Vec::new();
        (&*file).read_to_end(&mut bytes)?;
        std::io::Seek::rewind(&mut &*file)?;
        parsed = parse(&bytes);
        if parsed.bad_lines == 0 || !slots::is_slot_journal(&bytes) {
            break;
        }
    }
    Ok(parsed)
}

fn open_dir(path: &Path) -> Result<StateDir> {
    StateDir::open(path, false).map_err(state_dir_error)
}

/// Describe every journal in the state directory `path` without changing
/// anything. A missing directory lists nothing.
pub fn list_journals(path: &Path) -> Result<Vec<JournalInfo>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let dir = open_dir(path)?;
    let names = dir.journal_names().map_err(state_dir_error)?;
    Ok(names
        .into_iter()
        .map(|file| {
            let mut info = JournalInfo {
                file: file.clone(),
                alive: false,
                header: None,
                regions: Vec::new(),
                bad_lines: 0,
                error: None,
            };
            let opened = dir
                .open_journal(&file)
                .map_err(|e| e.to_string())
                .and_then(|f| {
                    let parsed = read_journal(&f).map_err(|e| e.to_string())?;
                    Ok((StateDir::try_lock(f).map_err(|e| e.to_string())?, parsed))
                });
            match opened {
                Ok((lock, parsed)) => {
                    info.alive = lock.is_none();
                    info.header = parsed.header;
                    info.regions = parsed.live;
                    info.bad_lines = parsed.bad_lines;
                }
                Err(e) => info.error = Some(e),
            }
            info
        })
        .collect())
}

/// What the reaper decides for one record.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The object is the one recorded: unlink it.
    Unlink,
    /// Gone already: drop the record.
    Gone,
    /// Not the object recorded, or not ours: drop the record, unlink nothing.
    LeaveAlone(&'static str),
    /// Cannot tell now (a failed call that may pass): keep the record.
    Retry(String),
}

/// What the reaper compares a record with.
pub(crate) struct Context {
    /// The reaper's effective uid.
    pub euid: u32,
    /// The page size objects are rounded to (macOS).
    pub page: u64,
}

/// Judge a record against the identity of the object now under its name.
/// Pure, so that every rule is tested on its own.
pub(crate) fn judge(record: &Record, found: &Identity, ctx: &Context) -> Verdict {
    if found.uid != ctx.euid {
        return Verdict::LeaveAlone("the object belongs to another user");
    }
    match record.kind {
        RecordKind::Created { device, inode, uid } => {
            if uid != found.uid {
                return Verdict::LeaveAlone("the object's owner is not the one recorded");
            }
            if inode != 0 || found.inode != 0 {
                // Linux: device and inode name the very object created, and
                // its size is exact: a client that reopened it by name and
                // sized it anew made it its own.
                if (device, inode) != (found.device, found.inode) {
                    return Verdict::LeaveAlone(
                        "another object now has the name (device/inode differ)",
                    );
                }
                if found.size != 0 && found.size != record.size {
                    return Verdict::LeaveAlone("the object was sized anew after its owner died");
                }
            } else {
                // macOS: no inode; the size the owner gave it, rounded up to
                // a page, is what is left to compare.
                let rounded = record
                    .size
                    .div_ceil(ctx.page.max(1))
                    .saturating_mul(ctx.page.max(1));
                if found.size != rounded {
                    return Verdict::LeaveAlone("another object now has the name (size differs)");
                }
            }
            Verdict::Unlink
        }
        RecordKind::Intent => {
            // The owner died between the record and recording the identity:
            // its object, if it made one, was never sized.
            if found.size != 0 {
                return Verdict::LeaveAlone(
                    "the object was sized, so it is not the one the owner was creating",
                );
            }
            match found.changed_ns {
                Some(changed) if changed < record.since_ns.saturating_sub(1_000_000_000) => {
                    Verdict::LeaveAlone("the object is older than the record")
                }
                _ => Verdict::Unlink,
            }
        }
        // A registration costs no system call, so it carries no identity:
        // the owner's uid and the cross-checks are all there is. (The
        // status change time cannot tell either: every store through a
        // mapping moves it.)
        RecordKind::Registered => Verdict::Unlink,
        RecordKind::Legacy => match found.changed_ns {
            // A text record has whole seconds. The object was made right
            // after its record, and its status change time only moves on.
            Some(changed) if changed < record.since_ns.saturating_sub(1_000_000_000) => {
                Verdict::LeaveAlone("the object is older than its record")
            }
            _ => Verdict::Unlink,
        },
    }
}

/// Steps b and c: the identity of the object under the record's name, if
/// the judge takes it for the recorded object; otherwise the verdict.
fn check(
    record: &Record,
    backend: &dyn ShmBackend,
    ctx: &Context,
) -> std::result::Result<Identity, Verdict> {
    let Ok(name) = CString::new(record.name.clone()) else {
        return Err(Verdict::LeaveAlone("the name holds a NUL byte"));
    };
    let fd = match backend.open(&name, OpenFlags::EXISTING) {
        Ok(fd) => fd,
        Err(libc::ENOENT) => return Err(Verdict::Gone),
        Err(libc::EACCES | libc::EPERM) => {
            return Err(Verdict::LeaveAlone("the object belongs to another user"))
        }
        // A name no object can have.
        Err(libc::EINVAL | libc::ENAMETOOLONG) => {
            return Err(Verdict::LeaveAlone("no object can have this name"))
        }
        Err(errno) => return Err(Verdict::Retry(format!("shm_open: {}", ErrnoText(errno)))),
    };
    let found = backend
        .identity(fd.as_fd())
        .map_err(|errno| Verdict::Retry(format!("fstat: {}", ErrnoText(errno))))?;
    #[cfg(feature = "crash-points")]
    crate::os::crash_point::hit("reaper-checked");
    match judge(record, &found, ctx) {
        Verdict::Unlink => Ok(found),
        other => Err(other),
    }
}

/// What a first pass over the journals found: the names live journals
/// list, the journals whose owner is dead, and how many journals could not
/// be read (their names are unknown, so then nothing may be unlinked).
struct Survey {
    live_names: HashSet<Vec<u8>>,
    dead: Vec<String>,
    unreadable: usize,
}

fn survey(dir: &StateDir, names: &[String], report: &mut ReapReport) -> Survey {
    let mut survey = Survey {
        live_names: HashSet::new(),
        dead: Vec::new(),
        unreadable: 0,
    };
    for name in names {
        let file = match dir.open_journal(name) {
            Ok(file) => file,
            Err(e) => {
                log_at!(Level::Warn, "reaper: {e}");
                report.journals_skipped += 1;
                // A refusal (symlink, another owner) is not ours to read;
                // a failed call (EMFILE...) hides names that may be live.
                if e.errno.is_some() {
                    survey.unreadable += 1;
                }
                continue;
            }
        };
        match StateDir::try_lock(file) {
            Ok(Some(locked)) => {
                drop(locked); // closing releases it: reaped below, locked again
                survey.dead.push(name.clone());
            }
            Ok(None) => {
                report.journals_live += 1;
                match dir
                    .open_journal(name)
                    .map_err(|e| e.to_string())
                    .and_then(|f| read_journal(&f).map_err(|e| e.to_string()))
                {
                    Ok(parsed) => survey
                        .live_names
                        .extend(parsed.live.into_iter().map(|r| r.name)),
                    Err(e) => {
                        log_at!(
                            Level::Warn,
                            "reaper: cannot read the live journal {name}: {e}"
                        );
                        survey.unreadable += 1;
                    }
                }
            }
            Err(e) => {
                log_at!(Level::Warn, "reaper: {name}: {e}");
                report.journals_skipped += 1;
                survey.unreadable += 1;
            }
        }
    }
    survey
}

/// The names the live journals of `dir` list now, leaving out the journals
/// named in `skip` (those this reaper holds, or a registry's own). A
/// journal whose lock can be taken belongs to a dead owner and lists
/// nothing live; one removed meanwhile, or refused (a symlink, another
/// user's), lists nothing either. Any other failure leaves the caller in
/// doubt: `Err`.
pub(crate) fn live_names_now(
    dir: &StateDir,
    skip: &[&str],
) -> std::result::Result<HashSet<Vec<u8>>, String> {
    let names = dir.journal_names().map_err(|e| e.to_string())?;
    let mut live = HashSet::new();
    for name in names.iter().filter(|n| !skip.contains(&n.as_str())) {
        let file = match dir.open_journal(name) {
            Ok(file) => file,
            Err(e) if e.errno == Some(libc::ENOENT) || e.errno.is_none() => continue,
            Err(e) => return Err(e.to_string()),
        };
        let parsed = read_journal(&file).map_err(|e| format!("cannot read {name}: {e}"))?;
        match StateDir::try_lock(file) {
            Ok(Some(_dead)) => {}
            Ok(None) => live.extend(parsed.live.into_iter().map(|r| r.name)),
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(live)
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
struct DeadJournal {
    name: String,
    locked: LockedFile,
    parsed: Parsed,
    /// One for each of `parsed.live`.
    fates: Vec<Fate>,
}

/// Step 3: open, lock, check and read the dead journal `name`.
fn open_dead(dir: &StateDir, name: &str, report: &mut ReapReport) -> Option<DeadJournal> {
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
fn judge_journal(
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
fn recheck(dir: &StateDir, journals: &mut [DeadJournal], report: &mut ReapReport) {
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

/// The last look before step f: the object under the record's name must
/// still be the one found at step b. The re-read of the live journals (d)
/// shows that no live owner will unlink that object only while it is still
/// under the name: an owner frees its record after its unlink, so an owner
/// that unlinked it between b and d is not listed at d, and a creator that
/// records and creates the name after d holds the object now under it. On
/// Linux one `lstat` ([`ShmBackend::identity_by_name`]). `None`: the same
/// object, go on; otherwise the verdict: gone (the record is resolved),
/// another object (left alone, the record dropped: what the record named
/// is no longer under the name), or a failed look (kept for the next reap).
fn look_again(record: &Record, backend: &dyn ShmBackend, checked: &Identity) -> Option<Verdict> {
    let Ok(name) = CString::new(record.name.clone()) else {
        return Some(Verdict::LeaveAlone("the name holds a NUL byte"));
    };
    match backend.identity_by_name(&name) {
        Ok(found) if checked.same_object(&found) => None,
        Ok(_) => Some(Verdict::LeaveAlone(
            "another object took the name after it was checked",
        )),
        Err(libc::ENOENT) => Some(Verdict::Gone),
        Err(libc::EACCES | libc::EPERM) => Some(Verdict::LeaveAlone(
            "another user's object took the name after it was checked",
        )),
        Err(errno) => Some(Verdict::Retry(format!(
            "looking at the name again: {}",
            ErrnoText(errno)
        ))),
    }
}

/// Step f for the candidates left in `journal`, each looked at once more
/// right before its unlink ([`look_again`]).
fn unlink_candidates(
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
fn finish(dir: &StateDir, journal: &DeadJournal) {
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
fn remove_stale_temps(dir: &StateDir) {
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

/// [`reap_stale`] on the state directory `options` names, against the real
/// OS (journals are only kept for it). The Rust twin of
/// `triton_shm_reap_stale`.
pub fn reap(options: &crate::Options, dry_run: bool) -> Result<ReapReport> {
    reap_stale(&options.state_dir_path(), crate::os::system(), dry_run)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: u32 = 1000;

    fn ctx() -> Context {
        Context {
            euid: ME,
            page: 16384,
        }
    }

    fn record(kind: RecordKind, size: u64, since_ns: i64) -> Record {
        Record {
            name: b"/r".to_vec(),
            size,
            since: since_ns / 1_000_000_000,
            since_ns,
            kind,
            seq: 1,
            slot: Some(0),
        }
    }

    fn object(device: u64, inode: u64, size: u64, changed_ns: Option<i64>) -> Identity {
        Identity {
            device,
            inode,
            uid: ME,
            size,
            changed_ns,
        }
    }

    const CREATED: RecordKind = RecordKind::Created {
        device: 5,
        inode: 77,
        uid: ME,
    };

    #[test]
    fn a_created_record_unlinks_only_its_own_inode() {
        let r = record(CREATED, 4096, 0);
        assert_eq!(
            judge(&r, &object(5, 77, 4096, Some(1)), &ctx()),
            Verdict::Unlink
        );
        assert!(matches!(
            judge(&r, &object(5, 78, 4096, Some(1)), &ctx()),
            Verdict::LeaveAlone(_)
        ));
        assert!(matches!(
            judge(&r, &object(6, 77, 4096, Some(1)), &ctx()),
            Verdict::LeaveAlone(_)
        ));
    }

    #[test]
    fn a_created_object_sized_anew_is_left_alone() {
        let r = record(CREATED, 4096, 0);
        assert_eq!(
            judge(&r, &object(5, 77, 0, None), &ctx()),
            Verdict::Unlink,
            "never sized"
        );
        assert!(matches!(
            judge(&r, &object(5, 77, 8192, None), &ctx()),
            Verdict::LeaveAlone(_)
        ));
    }

    #[test]
    fn another_users_object_is_never_unlinked() {
        let r = record(CREATED, 4096, 0);
        let theirs = Identity {
            uid: ME + 1,
            ..object(5, 77, 4096, None)
        };
        assert!(matches!(judge(&r, &theirs, &ctx()), Verdict::LeaveAlone(_)));
        let legacy = record(RecordKind::Legacy, 4096, 0);
        assert!(matches!(
            judge(&legacy, &theirs, &ctx()),
            Verdict::LeaveAlone(_)
        ));
    }

    #[test]
    fn without_an_inode_the_rounded_size_decides() {
        let r = record(
            RecordKind::Created {
                device: 0,
                inode: 0,
                uid: ME,
            },
            100,
            0,
        );
        assert_eq!(
            judge(&r, &object(0, 0, 16384, None), &ctx()),
            Verdict::Unlink
        );
        assert!(matches!(
            judge(&r, &object(0, 0, 32768, None), &ctx()),
            Verdict::LeaveAlone(_)
        ));
    }

    #[test]
    fn an_intent_takes_only_an_unsized_object_no_older_than_itself() {
        let t = 50_000_000_000;
        let r = record(RecordKind::Intent, 4096, t);
        assert_eq!(
            judge(&r, &object(1, 2, 0, Some(t + 5)), &ctx()),
            Verdict::Unlink
        );
        assert!(matches!(
            judge(&r, &object(1, 2, 4096, Some(t + 5)), &ctx()),
            Verdict::LeaveAlone(_)
        ));
        assert!(matches!(
            judge(&r, &object(1, 2, 0, Some(t - 5_000_000_000)), &ctx()),
            Verdict::LeaveAlone(_)
        ));
    }

    #[test]
    fn a_registration_takes_its_users_object_even_written_since() {
        let t = 50_000_000_000;
        let r = record(RecordKind::Registered, 0, t);
        assert_eq!(
            judge(&r, &object(1, 2, 4096, Some(t + 1)), &ctx()),
            Verdict::Unlink
        );
    }

    #[test]
    fn a_text_record_takes_only_an_object_no_older_than_itself() {
        let r = record(RecordKind::Legacy, 4096, 90_000_000_000);
        assert_eq!(
            judge(&r, &object(1, 2, 4096, Some(101_000_000_000)), &ctx()),
            Verdict::Unlink
        );
        // Written since: the time moves on, the object is still the owner's.
        assert_eq!(
            judge(&r, &object(1, 2, 4096, Some(200_000_000_000)), &ctx()),
            Verdict::Unlink
        );
        // Older than its record: a record planted to name an existing object.
        assert!(matches!(
            judge(&r, &object(1, 2, 4096, Some(80_000_000_000)), &ctx()),
            Verdict::LeaveAlone(_)
        ));
    }
}
