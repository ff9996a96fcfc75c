//! A registry's statistics: gauges and running totals.

use super::Registry;
use std::sync::atomic::{AtomicU64, Ordering};

/// Running totals behind [`Registry::stats`].
#[derive(Default)]
pub(super) struct Counters {
    pub(super) mapped_bytes: AtomicU64,
    pub(super) unlinked: AtomicU64,
    pub(super) already_gone: AtomicU64,
    pub(super) failed: AtomicU64,
    pub(super) collisions_refused: AtomicU64,
    pub(super) reserved_refused: AtomicU64,
    pub(super) reaped: AtomicU64,
    pub(super) replaced: AtomicU64,
}

pub(super) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// A registry's statistics (in C, `triton_shm_stats`): gauges now, and
/// totals since the registry was created.
///
/// Fields are only ever appended. C fills it with
/// `triton_shm_registry_stats_sized(reg, &stats, sizeof stats)`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Regions tracked now.
    pub tracked: u64,
    /// Bytes mapped by this registry's open regions now.
    pub mapped_bytes: u64,
    /// Names that became tracked, in total.
    pub registered: u64,
    /// Objects removed by `shm_unlink`, in total.
    pub unlinked: u64,
    /// Unlinks that found the object already gone, in total.
    pub already_gone: u64,
    /// Unlinks that failed, in total.
    pub failed: u64,
    /// Names refused because another tracked name reaches the same object.
    pub collisions_refused: u64,
    /// Names refused because they are reserved.
    pub reserved_refused: u64,
    /// Regions of dead owners this registry reaped when it was created.
    pub reaped: u64,
    /// Owned regions whose object was found replaced when this registry
    /// came to unlink it (another object under the name, or for a
    /// registration without identity, one another process holds or
    /// another live journal lists): left alone, in total. The name no longer led to this
    /// registry's object, so nothing of its own was left to remove.
    pub regions_replaced: u64,
}

impl std::fmt::Display for Stats {
    /// One line for logs: `tracked=2 mapped_bytes=65536 registered=5 ...`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "tracked={} mapped_bytes={} registered={} unlinked={} already_gone={} failed={} \
             collisions_refused={} reserved_refused={} reaped={} regions_replaced={}",
            self.tracked,
            self.mapped_bytes,
            self.registered,
            self.unlinked,
            self.already_gone,
            self.failed,
            self.collisions_refused,
            self.reserved_refused,
            self.reaped,
            self.regions_replaced
        )
    }
}

impl Registry {
    /// Add (`grow`) or remove mapped bytes from the statistics.
    pub(crate) fn account_mapping(&self, bytes: usize, grow: bool) {
        let bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
        let gauge = &self.inner.counters.mapped_bytes;
        if grow {
            gauge.fetch_add(bytes, Ordering::Relaxed);
        } else {
            gauge.fetch_sub(bytes, Ordering::Relaxed);
        }
    }

    /// A snapshot of this registry's statistics.
    pub fn stats(&self) -> Stats {
        let c = &self.inner.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Stats {
            tracked: u64::try_from(self.count()).unwrap_or(u64::MAX),
            mapped_bytes: get(&c.mapped_bytes),
            registered: self.inner.entries.registered(),
            unlinked: get(&c.unlinked),
            already_gone: get(&c.already_gone),
            failed: get(&c.failed),
            collisions_refused: get(&c.collisions_refused),
            reserved_refused: get(&c.reserved_refused),
            reaped: get(&c.reaped),
            regions_replaced: get(&c.replaced),
        }
    }
}
