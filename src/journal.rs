//! The crash-safe record of the regions a registry owns, and the reaper that
//! removes the regions of owners that died.
//!
//! A registry that owns regions keeps one journal file in the state
//! directory and holds an exclusive `flock` on it for as long as it lives.
//! A `+` record is appended *before* a region is created, and a `-` record
//! *after* it is gone, each in one `write`: a crash at any instant leaves at
//! worst a record of a region that may already be gone, never a region
//! without a record. The kernel releases the lock when the owner dies, which
//! is how the reaper tells dead owners from live ones, whatever their pid.
//!
//! No `fsync`: POSIX shared memory does not survive a reboot, and neither
//! needs its record to. The file format is text, one record a line:
//!
//! ```text
//! triton-shm-journal 1 pid=4242 backend=posix started=1764316800
//! + 2f696e70757430 65536 1764316801
//! - 2f696e70757430
//! ```
//!
//! Names are hex-encoded bytes (they need not be UTF-8). A last line
//! without its newline (a write torn by a crash) is ignored; so are lines
//! that do not parse, which are counted.

use crate::log::{log_at, Level};
use crate::os::state_dir::{self, LockedFile, StateDir};
use crate::os::ShmBackend;
use crate::status::{Error, Result, Status};
use std::ffi::CString;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// First word of every journal.
pub const MAGIC: &str = "triton-shm-journal 1";

/// What a journal's first line says about its owner.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// Pid of the owner when it created the journal.
    pub pid: u32,
    /// Backend the owner used (`posix`; a model's objects die with it).
    pub backend: String,
    /// Seconds since the epoch when the journal was created.
    pub started: i64,
}

/// A region a journal lists as possibly existing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The system name handed to `shm_open`.
    pub name: Vec<u8>,
    /// Its size in bytes (0 when registered rather than created here).
    pub size: u64,
    /// Seconds since the epoch when it was recorded.
    pub since: i64,
}

/// The content of a journal, folded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// The header, if the first line is one.
    pub header: Option<Header>,
    /// Regions recorded as created and not recorded as gone, by name.
    pub live: Vec<Record>,
    /// Lines that did not parse.
    pub bad_lines: usize,
    /// Whether the last line was torn (no newline).
    pub torn: bool,
}

#[cfg(test)]
fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    push_hex(&mut out, bytes);
    out
}

/// Append `bytes` to `out` as lower-case hex, two digits a byte.
fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.is_empty() || text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The header line for a journal.
pub fn header_line(pid: u32, backend: &str, started: i64) -> String {
    format!("{MAGIC} pid={pid} backend={backend} started={started}\n")
}

/// The record written before `name` is created.
pub fn created_line(name: &[u8], size: u64, now: i64) -> String {
    use std::fmt::Write;
    let mut line = String::with_capacity(name.len() * 2 + 48);
    line.push_str("+ ");
    push_hex(&mut line, name);
    let _ = writeln!(line, " {size} {now}");
    line
}

/// The record written after `name` is gone.
pub fn removed_line(name: &[u8]) -> String {
    let mut line = String::with_capacity(name.len() * 2 + 3);
    line.push_str("- ");
    push_hex(&mut line, name);
    line.push('\n');
    line
}

fn parse_header(line: &str) -> Option<Header> {
    let rest = line.strip_prefix(MAGIC)?.strip_prefix(' ')?;
    let mut header = Header::default();
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

/// Fold a journal's bytes into its live records. Never fails: what does not
/// parse is counted in `bad_lines` and skipped.
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
            ["+", name, size, since] => {
                match (unhex(name), size.parse(), since.parse()) {
                    (Some(name), Ok(size), Ok(since)) => {
                        latest.push((name.clone(), Some(Record { name, size, since })));
                    }
                    _ => parsed.bad_lines += 1,
                }
            }
            ["-", name] => match unhex(name) {
                Some(name) => latest.push((name, None)),
                None => parsed.bad_lines += 1,
            },
            _ => parsed.bad_lines += 1,
        }
    }
    // Stable by name, so the last operation on each name comes last.
    latest.sort_by(|a, b| a.0.cmp(&b.0));
    let mut live = Vec::new();
    for (i, (name, record)) in latest.iter().enumerate() {
        let last = latest.get(i + 1).is_none_or(|next| next.0 != *name);
        if let (true, Some(record)) = (last, record) {
            live.push(record.clone());
        }
    }
    parsed.live = live;
    parsed
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// An open, locked journal owned by one registry.
pub(crate) struct Journal {
    dir: StateDir,
    name: String,
    file: LockedFile,
    /// Records written as created and not yet as removed.
    live: usize,
    /// Bytes of records written since the file was last emptied.
    appended: usize,
}

/// A journal with no live record is emptied back to its header once its
/// records pass this size: it never grows without bound, and a process that
/// creates and closes one region at a time does not pay two more system
/// calls (`ftruncate`, `write`) on every close.
const COMPACT_AFTER: usize = 64 * 1024;

static JOURNAL_SEQ: AtomicU64 = AtomicU64::new(0);

impl Journal {
    /// Create and lock a new journal in `dir`.
    /// On failure the directory comes back with the error, so the caller
    /// can try again on the next region instead of losing its journal.
    pub(crate) fn create(dir: StateDir) -> std::result::Result<Journal, (StateDir, Error)> {
        let pid = crate::os::current_pid();
        let seq = JOURNAL_SEQ.fetch_add(1, Ordering::Relaxed);
        let started = now();
        let stem = format!("{pid}-{started}-{seq}");
        let created = dir.create_locked(
            &format!(".{stem}.tmp"),
            &format!("{stem}.journal"),
            header_line(pid, "posix", started).as_bytes(),
        );
        let file = match created {
            Ok(file) => file,
            Err(e) => return Err((dir, Error::new(Status::OS_ERROR, e.0))),
        };
        Ok(Journal {
            dir,
            name: format!("{stem}.journal"),
            file,
            live: 0,
            appended: 0,
        })
    }

    fn append(&mut self, line: &str) -> Result<()> {
        self.appended = self.appended.saturating_add(line.len());
        state_dir::append(&self.file, line.as_bytes()).map_err(|errno| {
            Error::from_errno(
                errno,
                format_args!(
                    "cannot write journal {}",
                    self.dir.path().join(&self.name).display()
                ),
            )
        })
    }

    /// Record that `name` is about to be created (or was registered as
    /// owned). Must succeed before the region may exist.
    pub(crate) fn record_created(&mut self, name: &[u8], size: u64) -> Result<()> {
        self.append(&created_line(name, size, now()))?;
        self.live += 1;
        Ok(())
    }

    /// Record that `name` is gone. When no live record remains and the
    /// records have passed [`COMPACT_AFTER`] bytes, the file is emptied back
    /// to its header so it does not grow without bound.
    pub(crate) fn record_removed(&mut self, name: &[u8]) {
        if let Err(e) = self.append(&removed_line(name)) {
            // The stale record only makes a future reaper try an unlink that
            // finds nothing: harmless, so log and go on.
            log_at!(Level::Warn, "{}", e.message());
        }
        self.live = self.live.saturating_sub(1);
        if self.live == 0 && self.appended >= COMPACT_AFTER {
            let header = header_line(crate::os::current_pid(), "posix", now());
            if state_dir::truncate(&self.file).is_ok() {
                let _ = state_dir::append(&self.file, header.as_bytes());
                self.appended = 0;
            }
        }
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        // A journal with live records stays, so a reaper removes those
        // regions once this process is gone; an empty one is removed.
        if self.live == 0 {
            let _ = self.dir.remove(&self.name);
        }
    }
}

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
    /// Lines that did not parse.
    pub bad_lines: usize,
    /// Why it could not be read, if it could not.
    pub error: Option<String>,
}

/// Counts from a reap (`reap_stale`; in C, `triton_shm_reap_stale` and
/// `triton_shm_reap_report`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReapReport {
    /// Journals whose owner was dead and which were processed.
    pub journals_reaped: usize,
    /// Journals held by a live owner, left alone.
    pub journals_live: usize,
    /// Journals that could not be used (a symlink, another owner, unreadable).
    pub journals_skipped: usize,
    /// Regions unlinked (or, in a dry run, that would be tried).
    pub regions_unlinked: usize,
    /// Regions listed but already gone.
    pub regions_already_gone: usize,
    /// Regions whose unlink failed; their journal is kept for a retry.
    pub regions_failed: usize,
}

fn read_all(mut file: &std::fs::File) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn open_dir(path: &Path, create: bool) -> Result<StateDir> {
    StateDir::open(path, create).map_err(|e| Error::new(Status::PERMISSION_DENIED, e.0))
}

/// Describe every journal in the state directory `path` without changing
/// anything. A missing directory lists nothing.
pub fn list_journals(path: &Path) -> Result<Vec<JournalInfo>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let dir = open_dir(path, false)?;
    let names = dir.journal_names().map_err(|e| Error::new(Status::OS_ERROR, e.0))?;
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
            let opened = dir.open_journal(&file).and_then(|f| {
                let bytes = read_all(&f).map_err(|e| state_dir::StateDirError(e.to_string()))?;
                Ok((StateDir::try_lock(f)?, bytes))
            });
            match opened {
                Ok((lock, bytes)) => {
                    info.alive = lock.is_none();
                    let parsed = parse(&bytes);
                    info.header = parsed.header;
                    info.regions = parsed.live;
                    info.bad_lines = parsed.bad_lines;
                }
                Err(e) => info.error = Some(e.0),
            }
            info
        })
        .collect())
}

/// For each journal in the state directory `path` whose lock can be taken
/// (its owner is dead), unlink every region it lists that still exists and
/// remove the journal. Journals of live owners are never touched. With
/// `dry_run`, nothing is changed and `regions_unlinked` counts the regions
/// that would be tried. A missing directory reaps nothing.
pub fn reap_stale(path: &Path, backend: &dyn ShmBackend, dry_run: bool) -> Result<ReapReport> {
    let mut report = ReapReport::default();
    if !path.exists() {
        return Ok(report);
    }
    let dir = open_dir(path, false)?;
    let names = dir.journal_names().map_err(|e| Error::new(Status::OS_ERROR, e.0))?;
    for name in names {
        let file = match dir.open_journal(&name) {
            Ok(file) => file,
            Err(e) => {
                log_at!(Level::Warn, "reaper: {e}");
                report.journals_skipped += 1;
                continue;
            }
        };
        let locked = match StateDir::try_lock(file) {
            Ok(Some(locked)) => locked,
            Ok(None) => {
                report.journals_live += 1;
                continue;
            }
            Err(e) => {
                log_at!(Level::Warn, "reaper: {name}: {e}");
                report.journals_skipped += 1;
                continue;
            }
        };
        let bytes = match read_all(&locked) {
            Ok(bytes) => bytes,
            Err(e) => {
                log_at!(Level::Warn, "reaper: cannot read {name}: {e}");
                report.journals_skipped += 1;
                continue;
            }
        };
        let parsed = parse(&bytes);
        report.journals_reaped += 1;
        // A model's objects lived in its dead process: nothing to unlink.
        let real = parsed.header.as_ref().is_none_or(|h| h.backend == "posix");
        let mut failed = 0;
        for record in parsed.live.iter().filter(|_| real) {
            if dry_run {
                report.regions_unlinked += 1;
                continue;
            }
            let Ok(c_name) = CString::new(record.name.clone()) else {
                continue;
            };
            match backend.unlink(&c_name) {
                Ok(()) => {
                    report.regions_unlinked += 1;
                    log_at!(Level::Info, "reaper: unlinked '{}' from {name}", record.name.escape_ascii());
                }
                Err(libc::ENOENT) => report.regions_already_gone += 1,
                Err(errno) => {
                    failed += 1;
                    log_at!(
                        Level::Error,
                        "reaper: shm_unlink '{}' from {name} failed: errno {errno}",
                        record.name.escape_ascii()
                    );
                }
            }
        }
        report.regions_failed += failed;
        if !dry_run && failed == 0 {
            if let Err(e) = dir.remove(&name) {
                log_at!(Level::Warn, "reaper: {e}");
            }
        }
        drop(locked);
    }
    Ok(report)
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

    #[test]
    fn records_fold_into_the_live_set() {
        let mut text = header_line(7, "posix", 100);
        text += &created_line(b"/a", 10, 101);
        text += &created_line(b"/b\xff", 20, 102);
        text += &removed_line(b"/a");
        let parsed = parse(text.as_bytes());
        assert_eq!(
            parsed.header,
            Some(Header { pid: 7, backend: "posix".into(), started: 100 })
        );
        assert_eq!(parsed.live, vec![Record { name: b"/b\xff".to_vec(), size: 20, since: 102 }]);
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
        let live = parse(text.as_bytes()).live;
        assert_eq!(
            live,
            vec![
                Record { name: b"/a".to_vec(), size: 2, since: 12 },
                Record { name: b"/b".to_vec(), size: 3, since: 13 },
            ]
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
    fn empty_input_is_an_empty_journal() {
        assert_eq!(parse(b""), Parsed::default());
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
