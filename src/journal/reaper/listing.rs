//! Reading the state directory's journals without changing them: what each
//! lists and whether its owner lives ([`list_journals`]), the reap's survey
//! (step 2), and the names the live journals list now (the re-read of
//! step d).

use super::ReapReport;
use crate::journal::table::state_dir_error;
use crate::journal::{parse, slots, Header, Parsed, Record};
use crate::log::{log_at, Level};
use crate::os::state_dir::StateDir;
use crate::status::Result;
use std::collections::HashSet;
use std::fs::File;
use std::io::Read;
use std::path::Path;

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

/// Read a journal's bytes. A live journal may be written while it is read:
/// a slot that does not decode is read again (a few times) before it counts
/// as bad.
pub(super) fn read_journal(file: &File) -> std::io::Result<Parsed> {
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

pub(super) fn open_dir(path: &Path) -> Result<StateDir> {
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

/// What a first pass over the journals found: the names live journals
/// list, the journals whose owner is dead, and how many journals could not
/// be read (their names are unknown, so then nothing may be unlinked).
pub(super) struct Survey {
    pub(super) live_names: HashSet<Vec<u8>>,
    pub(super) dead: Vec<String>,
    pub(super) unreadable: usize,
}

pub(super) fn survey(dir: &StateDir, names: &[String], report: &mut ReapReport) -> Survey {
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
