//! Cleanup-all: unlink every region this process registered.

use super::shards::IdentityKey;
use super::{Entry, Registry, Table, Unlinked, Verdict};
use crate::log::{log_at, Level};
use crate::os;
use parking_lot::MutexGuard;
use std::collections::HashMap;

/// Counts from a cleanup-all of a registry. Every field counts tracked
/// regions.
///
/// Fields are only ever appended. C passes it with its size to
/// `triton_shm_registry_cleanup_all_sized`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CleanupReport {
    /// Objects removed by `shm_unlink`.
    pub unlinked: usize,
    /// Objects that were already gone, or whose name now leads to another
    /// object (or, for a registration without identity, to one another
    /// process holds or another live journal lists), which is left alone
    /// and counted in the
    /// statistics' `regions_replaced`; their entries were dropped.
    pub already_gone: usize,
    /// `shm_unlink` failed otherwise; these entries stay tracked.
    pub failed: usize,
    /// Entries registered by another process (the parent of a forked
    /// child); left alone and still tracked.
    pub skipped: usize,
    /// Entries kept by the unlink policy (not owned under owned-only, or any
    /// under never): untracked, not unlinked.
    pub released: usize,
}

impl Registry {
    /// Unlink every region this process registered, as the unlink policy
    /// says, each checked as [`Registry::unlink`] checks it (the
    /// registrations without identity all in one batch: one look at the
    /// journals and one scan of the processes), and report what happened.
    ///
    /// Entries registered by another pid are skipped and kept (a forked
    /// child never unlinks its parent's regions); entries whose unlink fails
    /// are kept so a later call can retry. Never panics; calling it again is
    /// harmless.
    pub fn cleanup_all(&self) -> CleanupReport {
        let me = os::current_pid();
        let policy = self.inner.options.naming;
        let mut report = CleanupReport::default();
        let mut tables = self.inner.entries.lock_all();
        // Unlink in the order of registration, not in hash order: the kernel
        // removes names from a directory (tmpfs, for /dev/shm) much faster in
        // the order they were created; at 100k regions, hash order made
        // cleanup-all 1.7x slower than a plain shm_unlink loop.
        let all = in_registration_order(tables.iter_mut().flat_map(|t| t.drain()).collect());
        // Entries without an identity of their own (registrations) are
        // judged together: one re-read of the journals and one process scan
        // for all of them, not one each.
        let unidentified: Vec<(u64, &[u8])> = all
            .iter()
            .filter(|(_, e)| e.owner_pid == me && e.identity.is_none() && !self.policy_keeps(e))
            .map(|(identity, e)| {
                (
                    e.seq,
                    self.stored_system_name(identity.bytes(), &e.original),
                )
            })
            .collect();
        let systems: Vec<&[u8]> = unidentified.iter().map(|(_, s)| *s).collect();
        let mut judged: HashMap<u64, Verdict> = unidentified
            .iter()
            .map(|(seq, _)| *seq)
            .zip(self.judge_unidentified(&systems))
            .collect();
        drop(systems);
        drop(unidentified);
        // Entries go back into their shard when kept, and, through the
        // guard, when a log sink panics mid-way: none is ever lost.
        let mut pass = CleanupPass {
            registry: self,
            tables: &mut tables,
            pending: all.into_iter(),
            current: None,
        };
        while let Some(item) = pass.pending.next() {
            let (identity, entry) = &*pass.current.insert(item);
            let keep = if entry.owner_pid != me {
                report.skipped += 1;
                true
            } else {
                let system = self.stored_system_name(identity.bytes(), &entry.original);
                let verdict = judged.remove(&entry.seq);
                let (counter, keep) = match self.remove_judged(entry, system, verdict) {
                    Ok(Unlinked::Removed) => (&mut report.unlinked, false),
                    Ok(Unlinked::AlreadyGone) => (&mut report.already_gone, false),
                    Ok(Unlinked::Released) => (&mut report.released, false),
                    // A failed unlink stays tracked for a retry.
                    Err(_) => (&mut report.failed, true),
                };
                *counter += 1;
                keep
            };
            if let Some((identity, entry)) = pass.current.take() {
                if keep {
                    pass.put_back(identity, entry);
                }
            }
        }
        drop(pass);
        drop(tables);
        log_at!(
            Level::Info,
            "cleanup ({} naming): {} unlinked, {} already gone, {} failed, {} skipped, {} released",
            policy,
            report.unlinked,
            report.already_gone,
            report.failed,
            report.skipped,
            report.released
        );
        report
    }
}

/// `items` in the order they were registered. A radix sort on the
/// registration number, least significant byte first, skipping the bytes no
/// number uses: linear, and a fraction of the code the general sort brings
/// into the shared library.
fn in_registration_order(items: Vec<(IdentityKey, Entry)>) -> Vec<(IdentityKey, Entry)> {
    let mut keys: Vec<(u64, usize)> = items.iter().map(|(_, e)| e.seq).zip(0..).collect();
    let mut scratch = vec![(0, 0); keys.len()];
    let max = keys.iter().map(|&(seq, _)| seq).max().unwrap_or(0);
    let mut shift = 0;
    while shift < 64 && max >> shift != 0 {
        let digit = |seq: u64| ((seq >> shift) & 0xff) as usize;
        let mut next = [0usize; 256];
        for &(seq, _) in &keys {
            next[digit(seq)] += 1;
        }
        let mut start = 0;
        for slot in &mut next {
            let count = *slot;
            *slot = start;
            start += count;
        }
        for &key in &keys {
            let slot = &mut next[digit(key.0)];
            scratch[*slot] = key;
            *slot += 1;
        }
        std::mem::swap(&mut keys, &mut scratch);
        shift += 8;
    }
    let mut slots: Vec<Option<(IdentityKey, Entry)>> = items.into_iter().map(Some).collect();
    keys.iter()
        .filter_map(|&(_, index)| slots[index].take())
        .collect()
}

/// The entries a cleanup-all has taken out of the table; whatever it has
/// not finished with goes back when this is dropped, even by a panic.
struct CleanupPass<'r, 't, 'g> {
    registry: &'r Registry,
    /// Every shard, locked.
    tables: &'t mut [MutexGuard<'g, Table>],
    pending: std::vec::IntoIter<(IdentityKey, Entry)>,
    /// The entry being unlinked.
    current: Option<(IdentityKey, Entry)>,
}

impl CleanupPass<'_, '_, '_> {
    fn put_back(&mut self, identity: IdentityKey, entry: Entry) {
        let shard = self.registry.inner.entries.index(identity.bytes());
        self.tables[shard].insert(identity, entry);
    }
}

impl Drop for CleanupPass<'_, '_, '_> {
    fn drop(&mut self) {
        let current = self.current.take();
        let rest: Vec<_> = self.pending.by_ref().collect();
        for (identity, entry) in current.into_iter().chain(rest) {
            self.put_back(identity, entry);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64) -> (IdentityKey, Entry) {
        let name: std::sync::Arc<[u8]> = seq.to_string().into_bytes().into();
        let entry = Entry {
            original: name.clone(),
            owner_pid: 1,
            owned: true,
            pinned: true,
            regions: 0,
            seq,
            generation: seq,
            slot: None,
            identity: None,
        };
        (IdentityKey::new(&name, &name), entry)
    }

    #[test]
    fn cleanup_order_is_registration_order() {
        // Scrambled, with gaps, repeats of low bytes and numbers past 2^32.
        let mut seqs: Vec<u64> = (0..2000u64).map(|i| i * 7919 % 2003).collect();
        seqs.extend([1 << 40, (1 << 40) + 3, u64::MAX, 256, 65536]);
        let items: Vec<_> = seqs.iter().rev().map(|&s| entry(s)).collect();
        let ordered: Vec<u64> = in_registration_order(items)
            .iter()
            .map(|(_, e)| e.seq)
            .collect();
        let mut expected = seqs.clone();
        expected.sort_unstable();
        assert_eq!(ordered, expected);
        assert!(in_registration_order(Vec::new()).is_empty());
    }
}
