//! The registry's table of entries, split over independently locked shards
//! so that threads working on different names rarely touch the same memory.

use super::hashing::KeyHashing;
use super::Entry;
use parking_lot::{Mutex, MutexGuard};
use std::borrow::Borrow;
use std::cell::Cell;
use std::collections::{hash_map, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Number of shards.
const SHARDS: usize = 16;

/// The entries that share one identity (reach one object). Nearly always
/// one; more only for keys whose entries no unlink of the registry can
/// reach (see `Registry::may_share`), so the second costs an allocation and
/// the first none.
pub(super) struct Group {
    first: Entry,
    more: Vec<Entry>,
}

impl Group {
    pub(super) fn new(first: Entry) -> Self {
        Group {
            first,
            more: Vec::new(),
        }
    }

    /// Every entry of the group.
    pub(super) fn iter(&self) -> impl Iterator<Item = &Entry> {
        std::iter::once(&self.first).chain(&self.more)
    }

    /// The entry of `key`, if it is in the group.
    pub(super) fn find_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        std::iter::once(&mut self.first)
            .chain(&mut self.more)
            .find(|entry| *entry.original == *key)
    }

    pub(super) fn push(&mut self, entry: Entry) {
        self.more.push(entry);
    }

    /// Take the entry of `key` out; `None` as the group when it was the
    /// last one.
    fn remove(mut self, key: &[u8]) -> (Option<Group>, Option<Entry>) {
        if *self.first.original == *key {
            if self.more.is_empty() {
                return (None, Some(self.first));
            }
            let first = self.more.remove(0);
            let removed = std::mem::replace(&mut self.first, first);
            return (Some(self), Some(removed));
        }
        let removed = self
            .more
            .iter()
            .position(|entry| *entry.original == *key)
            .map(|index| self.more.remove(index));
        (Some(self), removed)
    }
}

/// A table's key: the identity of the object a group's entries reach.
/// Kept without a copy when it is the tail of the first entry's key, as
/// under `posix` (the key without its leading slashes); under `darwin` the
/// identity is the normalised name, a buffer of its own. Hashes and
/// compares as its bytes, so the table is looked up with a plain `&[u8]`.
#[derive(Clone)]
pub(super) enum IdentityKey {
    /// The bytes of `key` from `start` on.
    Tail { key: Arc<[u8]>, start: usize },
    /// Bytes of its own.
    Own(Box<[u8]>),
}

impl IdentityKey {
    /// `identity`, taken from the tail of `key` when it is one, else copied.
    pub(super) fn new(identity: &[u8], key: &Arc<[u8]>) -> IdentityKey {
        match key.len().checked_sub(identity.len()) {
            Some(start) if key[start..] == *identity => IdentityKey::Tail {
                key: Arc::clone(key),
                start,
            },
            _ => IdentityKey::Own(identity.into()),
        }
    }

    /// The identity's bytes.
    pub(super) fn bytes(&self) -> &[u8] {
        match self {
            IdentityKey::Tail { key, start } => key.get(*start..).unwrap_or_default(),
            IdentityKey::Own(bytes) => bytes,
        }
    }
}

impl Borrow<[u8]> for IdentityKey {
    fn borrow(&self) -> &[u8] {
        self.bytes()
    }
}

// As the bytes hash and compare, which `Borrow` requires.
impl Hash for IdentityKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bytes().hash(state);
    }
}

impl PartialEq for IdentityKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes() == other.bytes()
    }
}

impl Eq for IdentityKey {}

/// One shard: identity -> the entries that reach that object, plus the
/// shard's registration counter.
pub(super) struct Table {
    map: HashMap<IdentityKey, Group, KeyHashing>,
    /// Entries past the first of their group.
    shared: usize,
    /// Names this shard has registered, ever.
    registered: u64,
}

impl Table {
    /// Count a registration into this shard; `shared` when its entry joined
    /// a group that was there (through [`Table::group_entry`]).
    pub(super) fn count_registration(&mut self, shared: bool) {
        self.registered += 1;
        self.shared += usize::from(shared);
    }

    /// Names this shard has registered, ever.
    pub(super) fn registered(&self) -> u64 {
        self.registered
    }

    /// The group of `identity`, for inserting into it.
    pub(super) fn group_entry(
        &mut self,
        identity: IdentityKey,
    ) -> hash_map::Entry<'_, IdentityKey, Group> {
        self.map.entry(identity)
    }

    /// The entries reaching the object `identity`.
    pub(super) fn group(&self, identity: &[u8]) -> Option<&Group> {
        self.map.get(identity)
    }

    /// The entry of `key` among those reaching `identity`.
    pub(super) fn find(&self, identity: &[u8], key: &[u8]) -> Option<&Entry> {
        self.map
            .get(identity)?
            .iter()
            .find(|entry| *entry.original == *key)
    }

    /// [`Table::find`], for changing the entry.
    pub(super) fn find_mut(&mut self, identity: &[u8], key: &[u8]) -> Option<&mut Entry> {
        self.map.get_mut(identity)?.find_mut(key)
    }

    /// Take the entry of `key` among those reaching `identity` out.
    pub(super) fn remove(&mut self, identity: &[u8], key: &[u8]) -> Option<Entry> {
        let (identity, group) = self.map.remove_entry(identity)?;
        let (rest, removed) = group.remove(key);
        if let Some(rest) = rest {
            self.shared -= usize::from(removed.is_some());
            self.map.insert(identity, rest);
        }
        removed
    }

    /// Put an entry (back) in.
    pub(super) fn insert(&mut self, identity: IdentityKey, entry: Entry) {
        match self.map.entry(identity) {
            hash_map::Entry::Occupied(mut group) => {
                group.get_mut().push(entry);
                self.shared += 1;
            }
            hash_map::Entry::Vacant(vacant) => {
                vacant.insert(Group::new(entry));
            }
        }
    }

    /// Every entry with its identity.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&[u8], &Entry)> {
        self.map
            .iter()
            .flat_map(|(identity, group)| group.iter().map(move |entry| (identity.bytes(), entry)))
    }

    /// Take every entry out, each with its identity.
    pub(super) fn drain(&mut self) -> impl Iterator<Item = (IdentityKey, Entry)> + '_ {
        self.shared = 0;
        self.map.drain().flat_map(|(identity, group)| {
            let more = group.more.into_iter().map({
                let identity = identity.clone();
                move |entry| (identity.clone(), entry)
            });
            std::iter::once((identity, group.first)).chain(more)
        })
    }

    /// Number of entries.
    pub(super) fn len(&self) -> usize {
        self.map.len() + self.shared
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
                        shared: 0,
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
        let mixed = self
            .chooser
            .mix_word(u64::from_le_bytes(word) ^ identity.len() as u64);
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
        self.tables
            .iter()
            .map(|table| table.0.lock().registered())
            .sum()
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
            shards
                .lock_index(i as usize % SHARDS)
                .count_registration(false);
        }
        assert_eq!(shards.registered(), 3 * SHARDS as u64 - 1);
    }

    #[test]
    fn an_identity_key_hashes_and_compares_as_its_bytes() {
        use std::hash::BuildHasher;
        let key: Arc<[u8]> = b"//input0".as_slice().into();
        let tail = IdentityKey::new(b"input0", &key);
        assert!(matches!(tail, IdentityKey::Tail { start: 2, .. }));
        let own = IdentityKey::new(b"/input0_x", &key);
        assert!(matches!(own, IdentityKey::Own(_)));
        assert_eq!(own.bytes(), b"/input0_x");
        // The table is looked up by `&[u8]`: equal bytes, equal hashes.
        let hashing = KeyHashing::new();
        assert_eq!(
            hashing.hash_one(&tail),
            hashing.hash_one(b"input0".as_slice())
        );
        assert!(tail == IdentityKey::Own(b"input0".as_slice().into()));
        let mut map: HashMap<IdentityKey, u8, KeyHashing> = HashMap::with_hasher(hashing);
        map.insert(tail, 1);
        assert_eq!(map.get(b"input0".as_slice()), Some(&1));
        assert_eq!(map.get(b"/input0".as_slice()), None);
    }
}
