//! The registry's table of entries, split over independently locked shards
//! so that threads working on different names rarely touch the same memory.

use super::hashing::KeyHashing;
use super::Entry;
use parking_lot::{Mutex, MutexGuard};
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::cell::Cell;

/// Number of shards.
const SHARDS: usize = 16;

/// One shard: identity -> entry, plus the shard's registration counter.
pub(super) struct Table {
    map: HashMap<Box<[u8]>, Entry, KeyHashing>,
    /// Names this shard has registered, ever.
    registered: u64,
}

impl Table {
    /// Count a registration into this shard.
    pub(super) fn count_registration(&mut self) {
        self.registered += 1;
    }

    /// Names this shard has registered, ever.
    pub(super) fn registered(&self) -> u64 {
        self.registered
    }
}

impl Deref for Table {
    type Target = HashMap<Box<[u8]>, Entry, KeyHashing>;
    fn deref(&self) -> &Self::Target {
        &self.map
    }
}

impl DerefMut for Table {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.map
    }
}

/// A shard on a cache line of its own, so that two threads locking
/// different shards do not write the same line.
#[repr(align(128))]
struct Padded(Mutex<Table>);

thread_local! {
    /// Registrations made by this thread, in any registry. A const-initialised
    /// `Cell` has no destructor, so it stays usable while a thread (or the
    /// process, from a C++ static destructor) is exiting.
    static THREAD_SEQUENCE: Cell<u64> = const { Cell::new(0) };
}

pub(super) struct Shards {
    /// Picks a shard. Keyed independently of the tables' own hashing, so the
    /// keys of one shard still spread over all of its buckets.
    chooser: KeyHashing,
    tables: Box<[Padded]>,
}

impl Shards {
    pub(super) fn new() -> Self {
        let hashing = KeyHashing::new();
        Shards {
            chooser: KeyHashing::new(),
            tables: (0..SHARDS)
                .map(|_| {
                    Padded(Mutex::new(Table {
                        map: HashMap::with_hasher(hashing.clone()),
                        registered: 0,
                    }))
                })
                .collect(),
        }
    }

    /// The registration number of a new entry: the registering thread's own
    /// count. Cleanup-all unlinks in this order, because tmpfs removes names
    /// much faster in the order they were created (measured: hash order made
    /// cleanup of 100k regions 1.7x slower, an order approximated per shard
    /// 1.3x). Regions are created and registered by the same thread, so each
    /// thread's regions go in their creation order, and no counter is
    /// written by two threads.
    pub(super) fn next_seq(&self) -> u64 {
        THREAD_SEQUENCE.with(|n| {
            let seq = n.get();
            n.set(seq.wrapping_add(1));
            seq
        })
    }

    /// The index of the shard that holds `identity`: a keyed hash of its
    /// length and last eight bytes, where names differ (counters, ids), so
    /// picking a shard costs one multiply, not a pass over the name. A
    /// caller who makes every name land in one shard only gets the single
    /// lock back; the tables' own hashing covers the whole name.
    pub(super) fn index(&self, identity: &[u8]) -> usize {
        let tail = &identity[identity.len().saturating_sub(8)..];
        let mut word = [0u8; 8];
        word[..tail.len()].copy_from_slice(tail);
        let mixed = self.chooser.mix_word(u64::from_le_bytes(word) ^ identity.len() as u64);
        // Truncation on purpose: the top bits of the product pick the shard.
        (mixed >> 60) as usize % SHARDS
    }

    /// Lock the shard that holds `identity`.
    pub(super) fn lock(&self, identity: &[u8]) -> MutexGuard<'_, Table> {
        self.lock_index(self.index(identity))
    }

    /// Lock shard `index`.
    pub(super) fn lock_index(&self, index: usize) -> MutexGuard<'_, Table> {
        self.tables[index].0.lock()
    }

    /// Lock every shard, in index order (the only order in which more than
    /// one is ever held).
    pub(super) fn lock_all(&self) -> Vec<MutexGuard<'_, Table>> {
        self.tables.iter().map(|table| table.0.lock()).collect()
    }

    /// Number of entries in all shards.
    pub(super) fn len(&self) -> usize {
        self.tables.iter().map(|table| table.0.lock().len()).sum()
    }

    /// Names registered in all shards, ever.
    pub(super) fn registered(&self) -> u64 {
        self.tables.iter().map(|table| table.0.lock().registered()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_threads_registrations_are_numbered_in_order_and_counted_per_shard() {
        let shards = Shards::new();
        let first = shards.next_seq();
        for i in 1..3 * SHARDS as u64 {
            assert_eq!(shards.next_seq(), first + i);
            shards.lock_index(i as usize % SHARDS).count_registration();
        }
        assert_eq!(shards.registered(), 3 * SHARDS as u64 - 1);
    }
}
