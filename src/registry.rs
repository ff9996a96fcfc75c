//! The registry of tracked shared-memory regions: ownership, collisions,
//! unlink and cleanup-all.
//!
//! One [`Registry`] per `SharedMemoryManager`; [`default_registry`] is the
//! process-wide instance behind the seed's free functions.

use crate::log::{log_at, Level};
use crate::name::{self, NameError, NamingPolicy};
use crate::options::{Options, UnlinkPolicy};
use crate::os::{self, ShmBackend};
use crate::status::{Error, Result, Status};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::borrow::Cow;
use std::collections::hash_map;
use std::ffi::{CStr, CString};
use crate::journal::{self, Journal};
use crate::os::state_dir::StateDir;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

/// What keeps an entry tracked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hold {
    /// An explicit registration: tracked until unlinked or cleaned up.
    Pin,
    /// One open region: tracked until the last region closes.
    Region,
}

/// A tracked region, keyed in the registry by its identity.
#[derive(Debug)]
struct Entry {
    /// The key as the caller gave it.
    original: Box<[u8]>,
    /// Pid of the process that registered it.
    owner_pid: u32,
    /// Created by this process, so ours to unlink.
    owned: bool,
    /// Registered by name (`register`), not only by opening a region: such
    /// an entry stays tracked when its regions close.
    pinned: bool,
    /// Open regions of this entry; the last one to close releases it.
    regions: u32,
    /// Order of registration in this registry: cleanup unlinks in this order.
    seq: u64,
}

/// How the table of entries hashes its keys (system names of at most a few
/// hundred bytes): a folded 64x64->128-bit multiply per 8 bytes, the
/// construction of foldhash (hashbrown's default hasher), keyed per registry
/// from the standard library's random keys so that collisions cannot be
/// precomputed. SipHash-1-3, the standard default, was a quarter of the
/// cost of a registration; this is a few instructions per word.
#[derive(Clone)]
struct KeyHashing {
    seed: u64,
    multiplier: u64,
}

impl KeyHashing {
    fn new() -> Self {
        use std::hash::{BuildHasher, RandomState};
        let random = RandomState::new();
        KeyHashing {
            seed: random.hash_one(0x7472_6974_6f6e_u64),
            // Odd, so that the multiply never loses the low bit.
            multiplier: random.hash_one(0x73_686d_u64) | 1,
        }
    }
}

impl std::hash::BuildHasher for KeyHashing {
    type Hasher = KeyHasher;

    fn build_hasher(&self) -> KeyHasher {
        KeyHasher {
            state: self.seed,
            multiplier: self.multiplier,
        }
    }
}

struct KeyHasher {
    state: u64,
    multiplier: u64,
}

impl KeyHasher {
    fn mix(&mut self, word: u64) {
        let product = u128::from(self.state ^ word) * u128::from(self.multiplier);
        // Truncations on purpose: fold the two halves of the product.
        self.state = (product as u64) ^ ((product >> 64) as u64);
    }
}

impl std::hash::Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut le = [0u8; 8];
            le.copy_from_slice(word);
            self.mix(u64::from_le_bytes(le));
        }
        let tail = words.remainder();
        if !tail.is_empty() {
            let mut le = [0u8; 8];
            le[..tail.len()].copy_from_slice(tail);
            // The length in the top byte keeps "a" and "a\0" apart.
            self.mix(u64::from_le_bytes(le) ^ ((tail.len() as u64) << 56));
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.mix(n as u64);
    }

    fn finish(&self) -> u64 {
        // One more round so the last word reaches every bit.
        let product = u128::from(self.state.rotate_left(23)) * u128::from(self.multiplier);
        (product as u64) ^ ((product >> 64) as u64)
    }
}

/// What [`Registry::register`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Registration {
    /// The name is now tracked.
    Added,
    /// The same name was already tracked; nothing changed.
    AlreadyTracked,
}

/// What [`Registry::unlink`] did. In every case the name is no longer tracked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unlinked {
    /// `shm_unlink` removed the object.
    Removed,
    /// The object was already gone (`ENOENT`).
    AlreadyGone,
    /// Not owned and the unlink policy keeps such regions: untracked only.
    Released,
}

/// Counts from [`Registry::cleanup_all`]. In C: `triton_shm_cleanup_report`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CleanupReport {
    /// Objects removed by `shm_unlink`.
    pub unlinked: usize,
    /// Objects that were already gone; their entries were dropped.
    pub already_gone: usize,
    /// `shm_unlink` failed otherwise; these entries stay tracked.
    pub failed: usize,
    /// Entries registered by another process (the parent of a forked
    /// child); left alone and still tracked.
    pub skipped: usize,
    /// Entries not owned, untracked without unlink under
    /// [`UnlinkPolicy::OwnedOnly`].
    pub released: usize,
}

/// A thread-safe set of tracked regions under one naming and unlink policy.
///
/// Cloning gives another handle to the same registry; open regions hold one,
/// so a registry lives as long as its last region.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

struct Inner {
    options: Options,
    backend: &'static dyn ShmBackend,
    /// Keyed by identity (see [`crate::name::NamingPolicy::identity`]), so two
    /// keys that reach one object cannot both be tracked.
    entries: Mutex<HashMap<Box<[u8]>, Entry, KeyHashing>>,
    /// Lock order: `entries` before `journal`, never the reverse.
    journal: Mutex<JournalSlot>,
    /// Whether `journal` started other than `Off` (it never becomes `Off`
    /// later): without a journal, registrations and unlinks skip its lock.
    journaled: bool,
    counters: Counters,
}

/// The journal of owned regions: off, ready to be created on first use, or
/// open and locked.
enum JournalSlot {
    Off,
    Idle(StateDir),
    Open(Journal),
}

/// Running totals behind [`Registry::stats`].
#[derive(Default)]
struct Counters {
    mapped_bytes: AtomicU64,
    registered: AtomicU64,
    unlinked: AtomicU64,
    already_gone: AtomicU64,
    failed: AtomicU64,
    collisions_refused: AtomicU64,
    reserved_refused: AtomicU64,
    reaped: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// A registry's statistics. In C: `triton_shm_stats`.
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
}

impl std::fmt::Display for Stats {
    /// One line for logs: `tracked=2 mapped_bytes=65536 registered=5 ...`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "tracked={} mapped_bytes={} registered={} unlinked={} already_gone={} failed={} \
             collisions_refused={} reserved_refused={} reaped={}",
            self.tracked,
            self.mapped_bytes,
            self.registered,
            self.unlinked,
            self.already_gone,
            self.failed,
            self.collisions_refused,
            self.reserved_refused,
            self.reaped
        )
    }
}

/// A key checked against the registry's policies: its system name as the C
/// string the system calls take.
pub(crate) struct Resolved {
    pub(crate) c_system: CString,
}

impl Resolved {
    /// The system name without its NUL.
    pub(crate) fn system(&self) -> &[u8] {
        self.c_system.as_bytes()
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("options", &self.inner.options)
            .field("backend", &self.inner.backend.name())
            .field("count", &self.count())
            .finish()
    }
}

static DEFAULT: LazyLock<Registry> = LazyLock::new(|| {
    let options = Options::from_env().unwrap_or_else(|e| {
        log_at!(Level::Error, "default registry: {}; using the defaults", e.message());
        Options::default()
    });
    let backend = os::backend(options.backend).unwrap_or_else(|why| {
        log_at!(Level::Error, "default registry: {why}; using the real OS");
        os::system()
    });
    Registry::with_backend(options.clone(), backend).unwrap_or_else(|e| {
        log_at!(Level::Error, "default registry: {}; journaling disabled", e.message());
        Registry::assemble(Options { journal: false, ..options }, backend, JournalSlot::Off)
    })
});

/// The process-wide registry behind the seed's free functions, with default
/// options. It lives until the process exits and is never dropped.
pub fn default_registry() -> &'static Registry {
    &DEFAULT
}

impl Registry {
    /// An empty registry using the backend `options.backend` names.
    ///
    /// Errors: [`Status::INVALID_ARGUMENT`] when that backend is not
    /// available (an unknown `TRITON_SHM_BACKEND`, or the XNU model in a
    /// build without the `xnu-model` feature).
    pub fn new(options: Options) -> Result<Self> {
        let backend =
            os::backend(options.backend).map_err(|why| Error::new(Status::INVALID_ARGUMENT, why))?;
        Registry::with_backend(options, backend)
    }

    /// An empty registry that makes its system calls through `backend`.
    ///
    /// With `options.journal` and the real OS backend, the state directory
    /// is opened (created 0700 if missing) and checked now, and, with
    /// `options.reap_on_create`, the regions of dead owners are reaped.
    /// Errors: [`Status::PERMISSION_DENIED`] when the state directory is
    /// refused (a symlink, owned by someone else, writable by others), with
    /// a message that names it and the fix.
    pub fn with_backend(options: Options, backend: &'static dyn ShmBackend) -> Result<Self> {
        let journaled = options.journal && backend.name() == os::system().name();
        if !journaled {
            return Ok(Registry::assemble(options, backend, JournalSlot::Off));
        }
        let path = options.state_dir_path();
        let dir = StateDir::open(&path, true).map_err(|e| Error::new(Status::PERMISSION_DENIED, e.0))?;
        let reap = options.reap_on_create;
        let registry = Registry::assemble(options, backend, JournalSlot::Idle(dir));
        if reap {
            match journal::reap_stale(&path, backend, false) {
                Ok(report) => {
                    let reaped = u64::try_from(report.regions_unlinked).unwrap_or(u64::MAX);
                    registry.inner.counters.reaped.store(reaped, Ordering::Relaxed);
                    if report.journals_reaped > 0 {
                        log_at!(
                            Level::Info,
                            "reaped {} journal(s) of dead owners: {} region(s) unlinked, {} already gone, {} failed",
                            report.journals_reaped,
                            report.regions_unlinked,
                            report.regions_already_gone,
                            report.regions_failed
                        );
                    }
                }
                Err(e) => log_at!(Level::Warn, "reap on create: {}", e.message()),
            }
        }
        Ok(registry)
    }

    fn assemble(options: Options, backend: &'static dyn ShmBackend, journal: JournalSlot) -> Self {
        Registry {
            inner: Arc::new(Inner {
                options,
                backend,
                entries: Mutex::new(HashMap::with_hasher(KeyHashing::new())),
                journaled: !matches!(journal, JournalSlot::Off),
                journal: Mutex::new(journal),
                counters: Counters::default(),
            }),
        }
    }

    /// Record in the journal, before it can exist, that `system` is ours.
    /// Without a journal this does nothing.
    pub(crate) fn journal_created(&self, system: &[u8], size: u64) -> Result<()> {
        if !self.inner.journaled {
            return Ok(());
        }
        let mut slot = self.inner.journal.lock();
        if let JournalSlot::Idle(_) = &*slot {
            let JournalSlot::Idle(dir) = std::mem::replace(&mut *slot, JournalSlot::Off) else {
                unreachable!("matched Idle just above");
            };
            *slot = JournalSlot::Open(Journal::create(dir)?);
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
            registered: get(&c.registered),
            unlinked: get(&c.unlinked),
            already_gone: get(&c.already_gone),
            failed: get(&c.failed),
            collisions_refused: get(&c.collisions_refused),
            reserved_refused: get(&c.reserved_refused),
            reaped: get(&c.reaped),
        }
    }

    /// The options this registry was created with.
    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    /// The backend this registry makes its system calls through.
    pub fn backend(&self) -> &'static dyn ShmBackend {
        self.inner.backend
    }

    /// The name the naming policy hands the OS for `key`.
    ///
    /// Errors: [`Status::INVALID_NAME`] (empty, NUL byte, inner `/` under
    /// `posix`), [`Status::NAME_TOO_LONG`].
    pub fn system_name(&self, key: &[u8]) -> Result<Vec<u8>> {
        self.system_name_cow(key).map(Cow::into_owned)
    }

    /// [`Registry::system_name`], borrowing `key` when it is the system name.
    fn system_name_cow<'k>(&self, key: &'k [u8]) -> Result<Cow<'k, [u8]>> {
        let policy = self.inner.options.naming;
        policy
            .system_name_cow(key)
            .map_err(|e| name_error(e, key, &format!("{policy} naming policy")))
    }

    /// Track `key`. `owned` says this process created the region, which makes
    /// it ours to unlink.
    ///
    /// Registering the same key again changes nothing and returns
    /// [`Registration::AlreadyTracked`]. Errors: those of
    /// [`Registry::system_name`], and [`Status::NAME_COLLISION`] when a
    /// different key that reaches the same object is tracked.
    pub fn register(&self, key: &[u8], owned: bool) -> Result<Registration> {
        let system = self.checked_system_name(key)?;
        self.track(key, system, owned, Hold::Pin, owned)
    }

    /// Check `key` against the reserved prefixes and the naming policy, and
    /// make the C string the system calls take.
    ///
    /// Errors: those of [`Registry::checked_system_name`].
    pub(crate) fn resolve(&self, key: &[u8]) -> Result<Resolved> {
        let system = self.checked_system_name(key)?.into_owned();
        let c_system = CString::new(system).map_err(|_| {
            // Unreachable: the naming policies refuse NUL bytes.
            Error::new(Status::INVALID_NAME, "system name contains a NUL byte")
        })?;
        Ok(Resolved { c_system })
    }

    /// Check `key` against the reserved prefixes, then the naming policy.
    ///
    /// Errors: [`Status::RESERVED_NAME`] first, then those of
    /// [`Registry::system_name`].
    fn checked_system_name<'k>(&self, key: &'k [u8]) -> Result<Cow<'k, [u8]>> {
        if name::is_reserved(key, &self.inner.options.reserved_prefixes) {
            bump(&self.inner.counters.reserved_refused);
            return Err(Error::new(
                Status::RESERVED_NAME,
                format!(
                    "'{}' is reserved for Triton's own backends (triton_<word>_backend_shm_region_) \
                     or by the host's reserved prefixes; choose another key",
                    key.escape_ascii()
                ),
            ));
        }
        self.system_name_cow(key)
    }

    /// Fail with [`Status::NAME_COLLISION`] if a different key that reaches
    /// the same object is tracked. Checked before any system call; `track`
    /// checks again under the lock.
    pub(crate) fn check_collision(&self, key: &[u8], resolved: &Resolved) -> Result<()> {
        let identity = self.inner.options.naming.identity(resolved.system());
        match self.inner.entries.lock().get(identity) {
            Some(entry) if *entry.original != *key => {
                Err(self.collision(key, &entry.original, resolved.system()))
            }
            _ => Ok(()),
        }
    }

    /// Track `key` for a registration (`Hold::Pin`) or an open region
    /// (`Hold::Region`). With `journal`, a new entry is first recorded in the
    /// journal (for owned names registered rather than created here).
    pub(crate) fn track(
        &self,
        key: &[u8],
        system: Cow<'_, [u8]>,
        owned: bool,
        hold: Hold,
        journal: bool,
    ) -> Result<Registration> {
        let policy = self.inner.options.naming;
        // Everything that allocates happens before the lock, so the critical
        // section only hashes once and inserts. Under `darwin` the identity is
        // the system name, whose buffer becomes the key without a copy.
        let identity: Box<[u8]> = match (policy, system) {
            (NamingPolicy::Darwin, Cow::Owned(system)) => system.into_boxed_slice(),
            (_, system) => policy.identity(&system).into(),
        };
        let original: Box<[u8]> = key.into();
        let owner_pid = os::current_pid();
        let mut entries = self.inner.entries.lock();
        let vacant = match entries.entry(identity) {
            hash_map::Entry::Occupied(mut occupied) => {
                let entry = occupied.get_mut();
                if *entry.original != *key {
                    let system = self.stored_system_name(occupied.key(), &original);
                    return Err(self.collision(key, &occupied.get().original, system));
                }
                match hold {
                    Hold::Pin => entry.pinned = true,
                    Hold::Region => entry.regions = entry.regions.saturating_add(1),
                }
                return Ok(Registration::AlreadyTracked);
            }
            hash_map::Entry::Vacant(vacant) => vacant,
        };
        let system = self.stored_system_name(vacant.key(), &original);
        if journal {
            self.journal_created(system, 0)?;
        }
        let seq = self.inner.counters.registered.fetch_add(1, Ordering::Relaxed);
        vacant.insert(Entry {
            original,
            owner_pid,
            owned,
            pinned: hold == Hold::Pin,
            regions: u32::from(hold == Hold::Region),
            seq,
        });
        drop(entries);
        log_at!(
            Level::Debug,
            "tracking '{}' as '{}' ({})",
            key.escape_ascii(),
            policy.system_name_cow(key).unwrap_or_default().escape_ascii(),
            if owned { "owned" } else { "not owned" }
        );
        Ok(Registration::Added)
    }

    /// A region of `key` closed: drop its hold, and when it was the last
    /// hold on an entry not pinned by `register`, untrack the entry and
    /// unlink it as the unlink policy says. An entry already untracked (by
    /// `unlink` or `cleanup_all`) is left alone.
    pub(crate) fn release_region(&self, key: &[u8], resolved: &Resolved) -> Result<()> {
        let policy = self.inner.options.naming;
        let identity = policy.identity(resolved.system());
        let mut entries = self.inner.entries.lock();
        let Some(entry) = entries.get_mut(identity).filter(|e| *e.original == *key) else {
            return Ok(());
        };
        entry.regions = entry.regions.saturating_sub(1);
        if entry.regions > 0 || entry.pinned {
            return Ok(());
        }
        self.remove_from_system(entry, resolved.system())?;
        entries.remove(identity);
        Ok(())
    }

    /// Stop tracking `key` and, if the unlink policy says so, `shm_unlink` its
    /// system name.
    ///
    /// An object already gone is not an error ([`Unlinked::AlreadyGone`]).
    /// Errors: those of [`Registry::system_name`]; [`Status::NOT_FOUND`] when
    /// `key` is not tracked (no system call is made);
    /// [`Status::OS_ERROR`] or [`Status::PERMISSION_DENIED`] when `shm_unlink`
    /// fails otherwise, in which case the entry stays tracked.
    pub fn unlink(&self, key: &[u8]) -> Result<Unlinked> {
        let system = self.system_name_cow(key)?;
        let policy = self.inner.options.naming;
        let identity = policy.identity(&system);
        let mut entries = self.inner.entries.lock();
        // The entry stays in the table until its unlink succeeds, so a panic
        // in a log sink while the lock is held leaves it tracked.
        let entry = match entries.get(identity) {
            Some(entry) if *entry.original == *key => entry,
            Some(entry) => {
                return Err(Error::new(
                    Status::NOT_FOUND,
                    format!(
                        "'{}' is not tracked; '{}' is, and reaches the same object '{}'",
                        key.escape_ascii(),
                        entry.original.escape_ascii(),
                        system.escape_ascii()
                    ),
                ))
            }
            None => {
                return Err(Error::new(
                    Status::NOT_FOUND,
                    format!(
                        "'{}' (system name '{}') is not tracked",
                        key.escape_ascii(),
                        system.escape_ascii()
                    ),
                ))
            }
        };
        let outcome = self.remove_from_system(entry, &system)?;
        entries.remove(identity);
        Ok(outcome)
    }

    /// Unlink every region this process registered, as the unlink policy
    /// says, and report what happened.
    ///
    /// Entries registered by another pid are skipped and kept (a forked
    /// child never unlinks its parent's regions); entries whose unlink fails
    /// are kept so a later call can retry. Never panics; calling it again is
    /// harmless.
    pub fn cleanup_all(&self) -> CleanupReport {
        let me = os::current_pid();
        let policy = self.inner.options.naming;
        let mut report = CleanupReport::default();
        let mut entries = self.inner.entries.lock();
        // Unlink in the order of registration, not in hash order: the kernel
        // removes names from a directory (tmpfs, for /dev/shm) much faster in
        // the order they were created; at 100k regions, hash order made
        // cleanup-all 1.7x slower than a plain shm_unlink loop.
        let all = in_registration_order(entries.drain().collect());
        // Entries go back into the table when kept, and, through the guard,
        // when a log sink panics mid-way: none is ever lost.
        let mut pass = CleanupPass {
            table: &mut entries,
            pending: all.into_iter(),
            current: None,
        };
        for item in pass.pending.by_ref() {
            let (identity, entry) = &*pass.current.insert(item);
            let keep = if entry.owner_pid != me {
                report.skipped += 1;
                true
            } else {
                let system = self.stored_system_name(identity, &entry.original);
                let (counter, keep) = match self.remove_from_system(entry, system) {
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
                    pass.table.insert(identity, entry);
                }
            }
        }
        drop(pass);
        drop(entries);
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

    /// Number of tracked regions.
    pub fn count(&self) -> usize {
        self.inner.entries.lock().len()
    }

    /// Whether `key` itself is tracked (not merely a key with the same
    /// system name). Invalid names are never tracked.
    pub fn contains(&self, key: &[u8]) -> bool {
        let naming = self.inner.options.naming;
        let Ok(system) = naming.system_name(key) else {
            return false;
        };
        let entries = self.inner.entries.lock();
        entries
            .get(naming.identity(&system))
            .is_some_and(|e| *e.original == *key)
    }

    /// The system names of every tracked region, in no particular order.
    pub fn system_names(&self) -> Vec<Vec<u8>> {
        let entries = self.inner.entries.lock();
        entries
            .iter()
            .map(|(identity, entry)| self.stored_system_name(identity, &entry.original).to_vec())
            .collect()
    }

    /// The system name of a stored entry: under `darwin` the identity is the
    /// system name; under `posix` the key itself is.
    fn stored_system_name<'a>(&self, identity: &'a [u8], original: &'a [u8]) -> &'a [u8] {
        match self.inner.options.naming {
            NamingPolicy::Darwin => identity,
            NamingPolicy::Posix => original,
        }
    }

    /// Apply the unlink policy to one entry; the caller drops the entry on
    /// `Ok` and keeps it on `Err`. An owned entry that leaves on `Ok` gets its
    /// journal record removed.
    fn remove_from_system(&self, entry: &Entry, system: &[u8]) -> Result<Unlinked> {
        let outcome = self.apply_unlink_policy(entry, system);
        let counters = &self.inner.counters;
        match &outcome {
            Ok(Unlinked::Removed) => bump(&counters.unlinked),
            Ok(Unlinked::AlreadyGone) => bump(&counters.already_gone),
            Ok(Unlinked::Released) => {}
            Err(_) => bump(&counters.failed),
        }
        if outcome.is_ok() && entry.owned {
            self.journal_removed(system);
        }
        outcome
    }

    fn apply_unlink_policy(&self, entry: &Entry, system: &[u8]) -> Result<Unlinked> {
        let unlink_policy = self.inner.options.unlink;
        let keep = match unlink_policy {
            UnlinkPolicy::OwnedOnly => !entry.owned,
            UnlinkPolicy::All => false,
            UnlinkPolicy::Never => true,
        };
        if keep {
            log_at!(
                Level::Debug,
                "released '{}' without unlinking it (unlink policy {}, {})",
                entry.original.escape_ascii(),
                unlink_policy.as_str(),
                if entry.owned { "owned" } else { "not created here" }
            );
            return Ok(Unlinked::Released);
        }
        match with_c_name(system, |c_name| self.inner.backend.unlink(c_name))? {
            Ok(()) => {
                log_at!(
                    Level::Info,
                    "unlinked '{}' (original: '{}')",
                    system.escape_ascii(),
                    entry.original.escape_ascii()
                );
                Ok(Unlinked::Removed)
            }
            Err(libc::ENOENT) => {
                log_at!(
                    Level::Warn,
                    "'{}' (original: '{}') was already gone",
                    system.escape_ascii(),
                    entry.original.escape_ascii()
                );
                Ok(Unlinked::AlreadyGone)
            }
            Err(errno) => {
                let error = Error::from_errno(
                    errno,
                    format_args!(
                        "shm_unlink failed for '{}' (original: '{}')",
                        system.escape_ascii(),
                        entry.original.escape_ascii()
                    ),
                );
                log_at!(Level::Error, "{}", error.message());
                Err(error)
            }
        }
    }

    fn collision(&self, key: &[u8], tracked: &[u8], system: &[u8]) -> Error {
        bump(&self.inner.counters.collisions_refused);
        Error::new(
            Status::NAME_COLLISION,
            format!(
                "'{}' and the tracked '{}' both reach the shared-memory object '{}' \
                 under the {} naming policy; refusing to track both",
                key.escape_ascii(),
                tracked.escape_ascii(),
                system.escape_ascii(),
                self.inner.options.naming
            ),
        )
    }
}

/// `items` in the order they were registered. A radix sort on the
/// registration number, least significant byte first, skipping the bytes no
/// number uses: linear, and a fraction of the code the general sort brings
/// into the shared library.
fn in_registration_order(items: Vec<(Box<[u8]>, Entry)>) -> Vec<(Box<[u8]>, Entry)> {
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
    let mut slots: Vec<Option<(Box<[u8]>, Entry)>> = items.into_iter().map(Some).collect();
    keys.iter().filter_map(|&(_, index)| slots[index].take()).collect()
}

/// The entries a cleanup-all has taken out of the table; whatever it has
/// not finished with goes back when this is dropped, even by a panic.
struct CleanupPass<'t> {
    table: &'t mut HashMap<Box<[u8]>, Entry, KeyHashing>,
    pending: std::vec::IntoIter<(Box<[u8]>, Entry)>,
    /// The entry being unlinked.
    current: Option<(Box<[u8]>, Entry)>,
}

impl Drop for CleanupPass<'_> {
    fn drop(&mut self) {
        for (identity, entry) in self.current.take().into_iter().chain(&mut self.pending) {
            self.table.insert(identity, entry);
        }
    }
}

/// Run `f` on `name` as a C string, built on the stack when it is short (as
/// system names are), so an unlink costs no allocation.
///
/// Errors: [`Status::INVALID_NAME`] if `name` holds a NUL byte, which the
/// naming policies never let through.
fn with_c_name<R>(name: &[u8], f: impl FnOnce(&CStr) -> R) -> Result<R> {
    let nul = || Error::new(Status::INVALID_NAME, "system name contains a NUL byte");
    let mut buf = [0u8; 256];
    if let Some(with_nul) = buf.get_mut(..=name.len()) {
        with_nul[..name.len()].copy_from_slice(name);
        return Ok(f(CStr::from_bytes_with_nul(with_nul).map_err(|_| nul())?));
    }
    Ok(f(&CString::new(name).map_err(|_| nul())?))
}

/// Turn a policy's refusal into an [`Error`] that names the key.
pub(crate) fn name_error(e: NameError, key: &[u8], context: &str) -> Error {
    let status = match e {
        NameError::TooLong { .. } => Status::NAME_TOO_LONG,
        NameError::Empty | NameError::InteriorNul | NameError::InnerSlash => Status::INVALID_NAME,
    };
    Error::new(
        status,
        format!("invalid shared-memory name '{}' ({context}): {e}", key.escape_ascii()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64) -> (Box<[u8]>, Entry) {
        let name: Box<[u8]> = seq.to_string().into_bytes().into();
        let entry = Entry {
            original: name.clone(),
            owner_pid: 1,
            owned: true,
            pinned: true,
            regions: 0,
            seq,
        };
        (name, entry)
    }

    #[test]
    fn cleanup_order_is_registration_order() {
        // Scrambled, with gaps, repeats of low bytes and numbers past 2^32.
        let mut seqs: Vec<u64> = (0..2000u64).map(|i| i * 7919 % 2003).collect();
        seqs.extend([1 << 40, (1 << 40) + 3, u64::MAX, 256, 65536]);
        let items: Vec<_> = seqs.iter().rev().map(|&s| entry(s)).collect();
        let ordered: Vec<u64> = in_registration_order(items).iter().map(|(_, e)| e.seq).collect();
        let mut expected = seqs.clone();
        expected.sort_unstable();
        assert_eq!(ordered, expected);
        assert!(in_registration_order(Vec::new()).is_empty());
    }
}
