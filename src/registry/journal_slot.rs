//! The registry's journal of owned regions: created on first use, written
//! before a region is created and after it is gone.

use super::Registry;
use crate::journal::Journal;
use crate::os::state_dir::StateDir;
use crate::status::Result;

/// The journal of owned regions: off, ready to be created on first use, or
/// open and locked.
pub(super) enum JournalSlot {
    Off,
    Idle(StateDir),
    Open(Journal),
}

impl Registry {
    /// Record in the journal, before it can exist, that `system` is ours.
    /// Without a journal this does nothing.
    pub(crate) fn journal_created(&self, system: &[u8], size: u64) -> Result<()> {
        if !self.inner.journaled {
            return Ok(());
        }
        let mut slot = self.inner.journal.lock();
        // The journal file is made on the first owned region. If that fails
        // (a full disk), the slot stays Idle and the next region tries again:
        // the region is refused, never created without a record.
        if matches!(*slot, JournalSlot::Idle(_)) {
            let JournalSlot::Idle(dir) = std::mem::replace(&mut *slot, JournalSlot::Off) else {
                return Ok(());
            };
            match Journal::create(dir) {
                Ok(journal) => *slot = JournalSlot::Open(journal),
                Err((dir, error)) => {
                    *slot = JournalSlot::Idle(dir);
                    return Err(error);
                }
            }
        }
        match &mut *slot {
            JournalSlot::Open(journal) => journal.record_created(system, size),
            _ => Ok(()),
        }
    }

    /// Record in the journal that `system` is no longer ours to clean up.
    pub(crate) fn journal_removed(&self, system: &[u8]) {
        if !self.inner.journaled {
            return;
        }
        if let JournalSlot::Open(journal) = &mut *self.inner.journal.lock() {
            journal.record_removed(system);
        }
    }

}
