//! The owner's side of a slot journal: the file, its lock, its mapping and
//! the free slots. Only the registry that created it writes it, under the
//! registry's journal lock.

use super::slots::{self, SlotHeader, HEADER_BYTES, SLOT_BYTES, SLOT_WORDS};
use crate::os::journal_map::SharedWords;
use crate::os::state_dir::{self, LockedFile, StateDir, StateDirError};
use crate::os::{now_ns, Identity};
use crate::status::{Error, Result, Status};
use std::sync::atomic::{fence, AtomicU64, Ordering};

/// Slots in a new journal: the header and these fill one page.
const INITIAL_SLOTS: usize = (4096 - HEADER_BYTES) / SLOT_BYTES;
/// Slots the first mapping leaves room for, so that growing the file does
/// not map it again (address space only: the file grows as needed).
const RESERVED_SLOTS: usize = 1 << 16;
const HEADER_WORDS: usize = HEADER_BYTES / 8;

/// A record this journal holds: its slot and its number. A release names
/// both, so it frees only its own record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SlotRef {
    journal: u64,
    index: u32,
    seq: u64,
}

/// An open, locked, mapped journal owned by one registry of one process.
pub(crate) struct Journal {
    dir: StateDir,
    name: String,
    /// `None` only while being dropped.
    file: Option<LockedFile>,
    map: SharedWords,
    /// Slots in the file.
    capacity: usize,
    /// Slots the mapping reaches.
    reserved: usize,
    free: Vec<u32>,
    next_seq: u64,
    live: usize,
    /// The process that created the journal; in a forked child it is the
    /// parent's, and the child leaves it alone.
    owner_pid: u32,
    nonce: u64,
}

/// Convert a state-directory failure into the library's error: a refusal
/// is `PERMISSION_DENIED`, a failed call has its errno's status.
pub(crate) fn state_dir_error(e: StateDirError) -> Error {
    match e.errno {
        Some(errno) => Error::from_errno(errno, &e.message),
        None => Error::new(Status::PERMISSION_DENIED, e.message),
    }
}

/// A number no other journal's name is likely to share, even from a
/// process with the same pid in another pid namespace.
fn nonce() -> u64 {
    use std::io::Read;
    let mut bytes = [0u8; 8];
    let random = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    // The clock ticks coarsely: a count of draws makes each draw of this
    // process differ, so a retry without /dev/urandom draws another number.
    static DRAWS: AtomicU64 = AtomicU64::new(0);
    let time = now_ns() as u64 ^ DRAWS.fetch_add(1, Ordering::Relaxed);
    match random {
        Ok(()) => u64::from_ne_bytes(bytes) ^ time.rotate_left(17),
        Err(_) => {
            time ^ u64::from(std::process::id()).rotate_left(40) ^ (&bytes as *const _ as u64)
        }
    }
}

impl Journal {
    /// Create, lock and map a new journal in `dir`.
    pub(crate) fn create(dir: &StateDir) -> Result<Journal> {
        let dir = dir.try_clone().map_err(state_dir_error)?;
        let pid = crate::os::current_pid();
        let started_ns = now_ns();
        let capacity = INITIAL_SLOTS;
        let len = HEADER_BYTES + capacity * SLOT_BYTES;
        let mut last = None;
        // A name another journal holds is never replaced; draw another.
        for _ in 0..3 {
            let nonce = nonce();
            let header = SlotHeader {
                pid,
                uid: nix::unistd::geteuid().as_raw(),
                started_ns,
                nonce,
                backend: "posix".to_owned(),
                boot_id: crate::os::boot_id().map(str::to_owned),
            };
            let mut content = vec![0u8; len];
            content[..HEADER_BYTES].copy_from_slice(&slots::encode_header(&header));
            let stem = format!("{pid}-{}-{nonce:016x}", started_ns / 1_000_000_000);
            // `.slots`, not `.journal`: a reaper of an earlier version
            // lists only `*.journal`, and cannot read this format.
            let name = format!("{stem}.slots");
            match dir.create_locked(&format!(".{stem}.tmp"), &name, &content) {
                Ok(file) => {
                    let reserved = RESERVED_SLOTS;
                    let map_len = HEADER_BYTES + reserved * SLOT_BYTES;
                    let map = SharedWords::map(std::os::fd::AsFd::as_fd(&file), map_len).map_err(
                        |errno| {
                            let _ = dir.remove(&name);
                            Error::from_errno(errno, format_args!("cannot map journal {name}"))
                        },
                    )?;
                    return Ok(Journal {
                        dir,
                        name,
                        file: Some(file),
                        map,
                        capacity,
                        reserved,
                        free: (0..capacity as u32).rev().collect(),
                        next_seq: 1,
                        live: 0,
                        owner_pid: pid,
                        nonce,
                    });
                }
                Err(e) if e.errno == Some(libc::EEXIST) => last = Some(e),
                Err(e) => return Err(state_dir_error(e)),
            }
        }
        Err(last.map_or_else(
            || Error::new(Status::INTERNAL, "no journal name"),
            state_dir_error,
        ))
    }

    /// The pid of the process that created this journal.
    pub(crate) fn owner_pid(&self) -> u32 {
        self.owner_pid
    }

    /// The journal's file name in its state directory.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The state directory this journal lives in.
    pub(crate) fn dir(&self) -> &StateDir {
        &self.dir
    }

    fn slot(&self, index: u32) -> &[AtomicU64] {
        let start = HEADER_WORDS + index as usize * SLOT_WORDS;
        &self.map.words()[start..start + SLOT_WORDS]
    }

    /// Double the table: allocate the space past the end (so every page
    /// exists now: a store into a hole of a full tmpfs would raise SIGBUS),
    /// then map the larger file. Fails, changing nothing, when the disk is
    /// full.
    fn grow(&mut self) -> Result<()> {
        let old_len = HEADER_BYTES + self.capacity * SLOT_BYTES;
        let capacity = self.capacity * 2;
        let len = HEADER_BYTES + capacity * SLOT_BYTES;
        let Some(file) = &self.file else {
            return Err(Error::new(Status::INTERNAL, "journal closed"));
        };
        let fail = |errno| {
            Error::from_errno(
                errno,
                format_args!(
                    "cannot grow journal {} to {len} bytes",
                    self.dir.path().join(&self.name).display()
                ),
            )
        };
        if let Err(errno) = state_dir::extend_allocated(file, old_len as u64, len as u64) {
            // Give back what was written: the table stays as it was.
            let _ = state_dir::truncate(file, old_len as u64);
            return Err(fail(errno));
        }
        if capacity > self.reserved {
            let reserved = capacity * 2;
            let map_len = HEADER_BYTES + reserved * SLOT_BYTES;
            self.map = SharedWords::map(std::os::fd::AsFd::as_fd(file), map_len).map_err(fail)?;
            self.reserved = reserved;
        }
        self.free
            .extend((self.capacity as u32..capacity as u32).rev());
        self.capacity = capacity;
        Ok(())
    }

    fn take_slot(&mut self) -> Result<(u32, u64)> {
        if self.free.is_empty() {
            self.grow()?;
        }
        let index = self
            .free
            .pop()
            .ok_or_else(|| Error::new(Status::INTERNAL, "no free journal slot"))?;
        let seq = self.next_seq;
        self.next_seq += 1;
        Ok((index, seq))
    }

    fn put(
        &mut self,
        phase: slots::Phase,
        name: &[u8],
        size: u64,
        identity: Option<&Identity>,
    ) -> Result<SlotRef> {
        if name.len() > slots::NAME_CAPACITY {
            return Err(Error::new(
                Status::NAME_TOO_LONG,
                format!(
                    "'{}' is longer than a journal record holds ({} bytes)",
                    name.escape_ascii(),
                    slots::NAME_CAPACITY
                ),
            ));
        }
        let (index, seq) = self.take_slot()?;
        let Some(mut words) = slots::encode_record(seq, phase, name, size, now_ns()) else {
            self.free.push(index);
            return Err(Error::new(
                Status::INVALID_NAME,
                "an empty name cannot be journaled",
            ));
        };
        if let Some(id) = identity {
            let uid = u64::from(id.uid);
            words[slots::W_DEVICE] = id.device;
            words[slots::W_INODE] = id.inode;
            words[slots::W_UID] = uid;
            words[slots::W_CHECK_IDENTITY] =
                slots::check_identity(words[slots::W_CHECK_BASE], id.device, id.inode, uid);
        }
        let slot = self.slot(index);
        // Everything but the state first; the state last makes it a record.
        for (cell, word) in slot.iter().zip(words.iter()).skip(1) {
            cell.store(*word, Ordering::Relaxed);
        }
        slot[slots::W_STATE].store(words[slots::W_STATE], Ordering::Release);
        self.live += 1;
        Ok(SlotRef {
            journal: self.nonce,
            index,
            seq,
        })
    }

    /// Record that `name` is about to be created with `size` bytes.
    pub(crate) fn record_intent(&mut self, name: &[u8], size: u64) -> Result<SlotRef> {
        self.put(slots::Phase::Intent, name, size, None)
    }

    /// Record that `name` was registered as owned. With the identity of the
    /// object found under the name at registration, the record is a
    /// creation record with that identity and size, written at once (the
    /// reaper then judges it by identity, as a region created here);
    /// without, a registration record, which has none.
    pub(crate) fn record_registered(
        &mut self,
        name: &[u8],
        identity: Option<&Identity>,
    ) -> Result<SlotRef> {
        match identity {
            Some(id) => self.put(slots::Phase::Created, name, id.size, Some(id)),
            None => self.put(slots::Phase::Registered, name, 0, None),
        }
    }

    fn holds(&self, r: SlotRef) -> bool {
        r.journal == self.nonce
            && (r.index as usize) < self.capacity
            && self.slot(r.index)[slots::W_STATE].load(Ordering::Relaxed) >> 8 == r.seq
    }

    /// Complete the intent `r` with the identity of the object just created.
    pub(crate) fn record_identity(&mut self, r: SlotRef, id: &Identity) {
        if !self.holds(r) {
            return;
        }
        let slot = self.slot(r.index);
        let base = slot[slots::W_CHECK_BASE].load(Ordering::Relaxed);
        let uid = u64::from(id.uid);
        // The intent's checksum does not cover these words: until the state
        // changes, the slot stays a valid intent.
        slot[slots::W_DEVICE].store(id.device, Ordering::Relaxed);
        slot[slots::W_INODE].store(id.inode, Ordering::Relaxed);
        slot[slots::W_UID].store(uid, Ordering::Relaxed);
        slot[slots::W_CHECK_IDENTITY].store(
            slots::check_identity(base, id.device, id.inode, uid),
            Ordering::Relaxed,
        );
        slot[slots::W_STATE].store(r.seq << 8 | slots::Phase::Created as u64, Ordering::Release);
    }

    /// Free the record `r`; a record this journal does not hold (any more)
    /// is left alone.
    pub(crate) fn release(&mut self, r: SlotRef) {
        if !self.holds(r) {
            return;
        }
        let slot = self.slot(r.index);
        slot[slots::W_STATE].store(0, Ordering::Release);
        fence(Ordering::Release);
        self.free.push(r.index);
        self.live = self.live.saturating_sub(1);
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        let Some(file) = self.file.take() else { return };
        if self.owner_pid != crate::os::current_pid() {
            // A forked child's copy: the journal is the parent's. Closing
            // this descriptor neither unlocks nor removes it.
            return;
        }
        if self.live == 0 {
            // Unlinked before the lock goes: a reaper that opened the file
            // meanwhile finds it no longer linked and leaves it alone.
            let _ = self.dir.remove(&self.name);
        } else {
            // Records remain (regions registered as owned outlive the
            // registry): keep the lock until the process exits, then the
            // reaper removes them. Releasing it now would let the next
            // registry of this process reap regions it still uses.
            file.hold_until_exit();
        }
    }
}
