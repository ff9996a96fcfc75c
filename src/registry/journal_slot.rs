//! The registry's journal of owned regions. The state directory is opened
//! (and the dead owners' regions reaped, with `reap_on_create`) only when
//! the registry first needs a journal: when it creates, or registers as
//! owned, its first region. A registry that only maps regions others
//! created never touches it, so a refused state directory cannot stop it.

use super::Registry;
use crate::journal::{self, Journal, SlotRef};
use crate::log::{log_at, Level};
use crate::os::state_dir::StateDir;
use crate::os::Identity;
use crate::status::Result;
use std::sync::atomic::Ordering;

/// The journal of owned regions, from off to open.
pub(super) enum JournalSlot {
    /// Journaling is off (an option, or a backend whose objects die with
    /// the process).
    Off,
    /// Not needed yet: the state directory has not been touched.
    Unopened,
    /// The state directory is open and checked; no journal file yet (or
    /// the last attempt to make one failed, and the next region retries).
    Ready(StateDir),
    /// Open and locked.
    Open(Journal),
}

impl Registry {
    /// The open journal, making it first if needed. `None` without one.
    fn with_journal<R>(&self, f: impl FnOnce(&mut Journal) -> Result<R>) -> Result<Option<R>> {
        if !self.inner.journaled {
            return Ok(None);
        }
        let mut slot = self.inner.journal.lock();
        loop {
            match &mut *slot {
                JournalSlot::Off => return Ok(None),
                JournalSlot::Unopened => {
                    let path = self.inner.options.state_dir_path();
                    let dir = StateDir::open(&path, true).map_err(journal::state_dir_error)?;
                    if self.inner.options.reap_on_create {
                        self.reap_now(&path);
                    }
                    *slot = JournalSlot::Ready(dir);
                }
                JournalSlot::Ready(dir) => {
                    let journal = Journal::create(dir)?;
                    *slot = JournalSlot::Open(journal);
                }
                JournalSlot::Open(journal) if journal.owner_pid() != crate::os::current_pid() => {
                    // A forked child: the journal is the parent's. The child's
                    // own regions go to a journal of its own; dropping the
                    // parent's copy here neither unlocks nor removes it.
                    let dir = journal
                        .dir()
                        .try_clone()
                        .map_err(journal::state_dir_error)?;
                    *slot = JournalSlot::Ready(dir);
                }
                JournalSlot::Open(journal) => return f(journal).map(Some),
            }
        }
    }

    fn reap_now(&self, path: &std::path::Path) {
        match journal::reap_stale(path, self.inner.backend, false) {
            Ok(report) => {
                let reaped = u64::try_from(report.regions_unlinked).unwrap_or(u64::MAX);
                self.inner.counters.reaped.store(reaped, Ordering::Relaxed);
                if report.journals_reaped > 0 {
                    log_at!(
                        Level::Info,
                        "reaped {} journal(s) of dead owners: {} region(s) unlinked, {} already gone, \
                         {} left alone, {} failed, {} deferred, {} in use",
                        report.journals_reaped,
                        report.regions_unlinked,
                        report.regions_already_gone,
                        report.regions_left_alone,
                        report.regions_failed,
                        report.regions_deferred,
                        report.regions_in_use
                    );
                }
            }
            Err(e) => log_at!(Level::Warn, "reap on first journal use: {}", e.message()),
        }
    }

    /// Record in the journal, before it can exist, that `system` is about
    /// to be created with `size` bytes. Without a journal this does nothing.
    pub(crate) fn journal_intent(&self, system: &[u8], size: u64) -> Result<Option<SlotRef>> {
        self.with_journal(|j| j.record_intent(system, size))
    }

    /// Record that `system` is owned; with the identity of the object
    /// found under it at registration, if one was taken.
    pub(crate) fn journal_registered(
        &self,
        system: &[u8],
        identity: Option<&Identity>,
    ) -> Result<Option<SlotRef>> {
        self.with_journal(|j| j.record_registered(system, identity))
    }

    /// Complete an intent with the identity of the object just created.
    pub(crate) fn journal_identity(&self, slot: Option<SlotRef>, identity: &Identity) {
        let Some(slot) = slot else { return };
        if let JournalSlot::Open(journal) = &mut *self.inner.journal.lock() {
            if journal.owner_pid() == crate::os::current_pid() {
                journal.record_identity(slot, identity);
            }
        }
    }

    /// The file name of this registry's own journal, if it has one open.
    pub(crate) fn journal_name(&self) -> Option<String> {
        if !self.inner.journaled {
            return None;
        }
        match &*self.inner.journal.lock() {
            JournalSlot::Open(journal) if journal.owner_pid() == crate::os::current_pid() => {
                Some(journal.name().to_owned())
            }
            _ => None,
        }
    }

    /// Free the record `slot`: its region is gone or no longer ours. Only
    /// the journal's own process frees its records.
    pub(crate) fn journal_release(&self, slot: Option<SlotRef>) {
        let Some(slot) = slot else { return };
        if let JournalSlot::Open(journal) = &mut *self.inner.journal.lock() {
            if journal.owner_pid() == crate::os::current_pid() {
                journal.release(slot);
            }
        }
    }
}
