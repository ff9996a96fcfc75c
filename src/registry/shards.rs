//! The registry's table of entries, split over independently locked shards
//! so that threads working on different names rarely wait for each other.

use super::hashing::KeyHashing;
use super::Entry;
use parking_lot::{Mutex, MutexGuard};
use std::collections::HashMap;
use std::hash::BuildHasher;

/// One shard: identity -> entry.
pub(super) type Table = HashMap<Box<[u8]>, Entry, KeyHashing>;

/// Number of shards; a power of two.
const SHARDS: usize = 16;

pub(super) struct Shards {
    /// Picks a shard. Keyed independently of the tables' own hashing, so the
    /// keys of one shard still spread over all of its buckets.
    chooser: KeyHashing,
    tables: Box<[Mutex<Table>]>,
}

impl Shards {
    pub(super) fn new() -> Self {
        let hashing = KeyHashing::new();
        Shards {
            chooser: KeyHashing::new(),
            tables: (0..SHARDS)
                .map(|_| Mutex::new(HashMap::with_hasher(hashing.clone())))
                .collect(),
        }
    }

    /// The index of the shard that holds `identity`.
    pub(super) fn index(&self, identity: &[u8]) -> usize {
        // Truncation on purpose: the low bits pick the shard.
        self.chooser.hash_one(identity) as usize % SHARDS
    }

    /// Lock the shard that holds `identity`.
    pub(super) fn lock(&self, identity: &[u8]) -> MutexGuard<'_, Table> {
        self.tables[self.index(identity)].lock()
    }

    /// Lock every shard, in index order (the only order in which more than
    /// one is ever held).
    pub(super) fn lock_all(&self) -> Vec<MutexGuard<'_, Table>> {
        self.tables.iter().map(|table| table.lock()).collect()
    }

    /// Number of entries in all shards.
    pub(super) fn len(&self) -> usize {
        self.tables.iter().map(|table| table.lock().len()).sum()
    }
}
