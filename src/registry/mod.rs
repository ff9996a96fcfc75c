//! The registry of tracked shared-memory regions: ownership, collisions,
//! unlink and cleanup-all.
//!
//! One [`Registry`] per `SharedMemoryManager`; [`default_registry`] is the
//! process-wide instance behind the seed's free functions.

mod cleanup;
mod hashing;
mod journal_slot;
mod shards;
mod stats;

pub use cleanup::CleanupReport;
pub use stats::Stats;

use crate::journal::SlotRef;
use crate::log::{log_at, Level};
use crate::name::{self, CName, NamingPolicy};
use crate::options::{Options, UnlinkPolicy};
use crate::os::{self, Identity, ShmBackend};
use crate::status::{Error, Result, Status};
use journal_slot::JournalSlot;
use parking_lot::Mutex;
use shards::{Shards, Table};
use stats::{bump, Counters};
use std::borrow::Cow;
use std::collections::hash_map;
use std::sync::atomic::{AtomicPtr, Ordering};
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
    original: Arc<[u8]>,
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
    /// Which entry of this key this is: a region releases only the entry it
    /// joined, never a newer one made after an unlink or a cleanup.
    generation: u64,
    /// Its record in the owner's journal, if it has one.
    slot: Option<SlotRef>,
    /// What `fstat` said of the object when this process created or opened
    /// it (a region), or what one look at the name found when it was
    /// registered (a sized object, for an entry this registry may unlink);
    /// `None` for a registration of a name with no sized object. An unlink
    /// first checks that the object under the name is still this one (see
    /// [`Registry::unlink`]).
    identity: Option<Identity>,
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
    /// The object was already gone (`ENOENT`), or another object (or, for
    /// a registration without identity, one another holds) has the name
    /// now and was left alone (counted in [`Stats::regions_replaced`]).
    AlreadyGone,
    /// Not owned and the unlink policy keeps such regions: untracked only.
    Released,
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
    /// `backend.is_system()`, asked once: opening a region then calls
    /// [`os::Posix`] directly (see [`Registry::opens_through_the_system`]).
    system_backend: bool,
    /// Keyed by identity (see [`crate::name::NamingPolicy::identity`]), so two
    /// keys that reach one object cannot both be tracked.
    entries: Shards,
    /// Lock order: `entries` (shards in index order) before `journal`, never
    /// the reverse.
    journal: Mutex<JournalSlot>,
    /// Whether `journal` started other than `Off` (it never becomes `Off`
    /// later): without a journal, registrations and unlinks skip its lock.
    journaled: bool,
    counters: Counters,
}

/// How [`Registry::track`] journals an entry.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Journaling {
    /// Not at all (a region opened, not created).
    No,
    /// A new owned entry gets a registration record (`register`).
    RecordIfNew,
    /// The object was just created here; this is its creation record.
    Created(Option<SlotRef>),
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
        log_at!(
            Level::Error,
            "default registry: {}; using the defaults",
            e.message()
        );
        Options::default()
    });
    let backend = os::backend(options.backend).unwrap_or_else(|why| {
        log_at!(Level::Error, "default registry: {why}; using the real OS");
        os::system()
    });
    Registry::build(options, backend)
});

/// The process-wide registry behind the seed's free functions, with default
/// options. It lives until the process exits and is never dropped.
pub fn default_registry() -> &'static Registry {
    let registry: &'static Registry = &DEFAULT;
    DEFAULT_ADDRESS.store(std::ptr::from_ref(registry).cast_mut(), Ordering::Relaxed);
    registry
}

/// Where the default registry lives once something has asked for it; NULL
/// before. Lets [`is_default_registry`] answer without making it.
static DEFAULT_ADDRESS: AtomicPtr<Registry> = AtomicPtr::new(std::ptr::null_mut());

/// Whether `registry` is the default registry, without creating it (so
/// without reading the environment) when nothing has used it yet.
pub(crate) fn is_default_registry(registry: *const Registry) -> bool {
    std::ptr::eq(registry, DEFAULT_ADDRESS.load(Ordering::Relaxed))
}

impl Registry {
    /// An empty registry using the backend `options.backend` names.
    ///
    /// Errors: [`Status::INVALID_ARGUMENT`] when that backend is not
    /// available (the XNU model in a build without the `xnu-model` feature,
    /// or, in a build with it, an unknown `TRITON_SHM_BACKEND`).
    pub fn new(options: Options) -> Result<Self> {
        let backend = os::backend(options.backend)
            .map_err(|why| Error::new(Status::INVALID_ARGUMENT, why))?;
        Registry::with_backend(options, backend)
    }

    /// An empty registry that makes its system calls through `backend`.
    ///
    /// No system call is made here. With `options.journal` and the real OS
    /// backend, the state directory is opened (created 0700 if missing) and
    /// checked when the registry first needs a journal: when it creates, or
    /// registers as owned, its first region; with `options.reap_on_create`
    /// the regions of dead owners are reaped at that moment. A state
    /// directory that is refused then fails that call, never this one, so
    /// a registry that only maps regions others created cannot fail
    /// because of it. Never fails today; the `Result` is kept for backends
    /// that may.
    pub fn with_backend(options: Options, backend: &'static dyn ShmBackend) -> Result<Self> {
        Ok(Registry::build(options, backend))
    }

    fn build(options: Options, backend: &'static dyn ShmBackend) -> Self {
        let journaled = options.journal && backend.name() == os::system().name();
        let slot = if journaled {
            JournalSlot::Unopened
        } else {
            JournalSlot::Off
        };
        Registry::assemble(options, backend, slot)
    }

    fn assemble(options: Options, backend: &'static dyn ShmBackend, journal: JournalSlot) -> Self {
        Registry {
            inner: Arc::new(Inner {
                options,
                backend,
                system_backend: backend.is_system(),
                entries: Shards::new(),
                journaled: !matches!(journal, JournalSlot::Off),
                journal: Mutex::new(journal),
                counters: Counters::default(),
            }),
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

    /// Whether the backend is the real operating system's ([`os::Posix`]),
    /// which the open path then calls without the trait object.
    pub(crate) fn opens_through_the_system(&self) -> bool {
        self.inner.system_backend
    }

    /// The name the naming policy hands the OS for `key`.
    ///
    /// Errors: [`Status::INVALID_NAME`] (empty, NUL byte, inner `/` under
    /// `posix`), [`Status::NAME_TOO_LONG`].
    pub fn system_name(&self, key: &[u8]) -> Result<Vec<u8>> {
        self.system_name_cow(key).map(Cow::into_owned)
    }

    /// [`Registry::system_name`], borrowing `key` when it is the system name.
    pub(crate) fn system_name_cow<'k>(&self, key: &'k [u8]) -> Result<Cow<'k, [u8]>> {
        let policy = self.inner.options.naming;
        policy
            .system_name_cow(key)
            .map_err(|e| e.for_key(key, &format!("{policy} naming policy")))
    }

    /// Track `key`. `owned` says this process created the region, which makes
    /// it ours to unlink. An entry this registry may unlink (owned, or any
    /// under [`UnlinkPolicy::All`]) looks at the name once (on Linux one
    /// `lstat` in `/dev/shm`; elsewhere `shm_open` and `fstat`): a sized
    /// object there is taken for the caller's, and the entry keeps its
    /// identity, as a created region does; its journal record is then a
    /// creation record with that identity and size. No object, one not
    /// sized yet (its owner may still size it; macOS compares the rounded
    /// size), or a failed look: no identity, and the journal record is a
    /// registration by name. See [`Registry::unlink`] for what unlinking
    /// either then checks. Other entries make no system call.
    ///
    /// Registering the same key again changes nothing and returns
    /// [`Registration::AlreadyTracked`]. Errors: those of
    /// [`Registry::system_name`], and [`Status::NAME_COLLISION`] when a
    /// different tracked key reaches the same object and this registry
    /// could unlink it through either (one is owned under `OwnedOnly`, or
    /// the policy is `All`). Two keys of one object that neither may
    /// unlink (regions of clients under `OwnedOnly` or `Never`) are both
    /// tracked, as upstream Triton accepts them.
    pub fn register(&self, key: &[u8], owned: bool) -> Result<Registration> {
        let system = self.checked_system_name(key)?;
        let found = self.identity_at_registration(&system, owned);
        self.track(
            &key.into(),
            system,
            owned,
            Hold::Pin,
            Journaling::RecordIfNew,
            found,
        )
        .map(|(r, _)| r)
    }

    /// The identity a registration keeps, when taking it is cheap and
    /// sound: only for an entry this registry may unlink (owned, or the
    /// policy is unlink-all), one look at the name
    /// ([`ShmBackend::identity_by_name`]: on Linux one `lstat`). The
    /// object under the name now is the one the caller means: it says it
    /// made it (or, under unlink-all, that it is the one to remove). An
    /// object not sized yet gives none: its owner may still size it, and
    /// macOS compares the rounded size. No object, an unsized one or a
    /// failed look: `None`, and the unlink follows the rule for an entry
    /// without identity.
    fn identity_at_registration(&self, system: &[u8], owned: bool) -> Option<Identity> {
        let may_unlink = match self.inner.options.unlink {
            UnlinkPolicy::OwnedOnly => owned,
            UnlinkPolicy::All => true,
            UnlinkPolicy::Never => false,
        };
        if !may_unlink {
            return None;
        }
        match self.look(system) {
            Ok(Look::Found(found)) if found.size > 0 => Some(found),
            _ => None,
        }
    }

    /// Check `key` against the reserved prefixes, then the naming policy.
    ///
    /// Errors: [`Status::RESERVED_NAME`] first, then those of
    /// [`Registry::system_name`].
    pub(crate) fn checked_system_name<'k>(&self, key: &'k [u8]) -> Result<Cow<'k, [u8]>> {
        self.check_reserved(key)?;
        self.system_name_cow(key)
    }

    /// Fail with [`Status::RESERVED_NAME`] when `key` is reserved for
    /// Triton's own backends or by the host's reserved prefixes.
    pub(crate) fn check_reserved(&self, key: &[u8]) -> Result<()> {
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
        Ok(())
    }

    /// Fail with [`Status::NAME_COLLISION`] if a different key that reaches
    /// the same object (`system`, `key`'s system name) is tracked and may
    /// not share it with `key` (see [`Registry::may_share`]), `key` being
    /// tracked as `owned`. Checked before any system call; `track` checks
    /// again under the lock. Under [`UnlinkPolicy::Never`] any two keys may
    /// share an object, and nothing is looked at.
    pub(crate) fn check_collision(&self, key: &[u8], system: &[u8], owned: bool) -> Result<()> {
        if self.inner.options.unlink == UnlinkPolicy::Never {
            return Ok(());
        }
        let identity = self.inner.options.naming.identity(system);
        let entries = self.inner.entries.lock(identity);
        let Some(group) = entries.group(identity) else {
            return Ok(());
        };
        let refused = group
            .iter()
            .find(|other| *other.original != *key && !self.may_share(other.owned, owned));
        match refused {
            Some(other) => Err(self.collision(key, &other.original, system)),
            None => Ok(()),
        }
    }

    /// Track `key` for a registration (`Hold::Pin`) or an open region
    /// (`Hold::Region`), journaled as `journaling` says. Returns what
    /// happened and the generation of the entry, which a region keeps to
    /// release exactly that entry.
    pub(crate) fn track(
        &self,
        original: &Arc<[u8]>,
        system: Cow<'_, [u8]>,
        owned: bool,
        hold: Hold,
        journaling: Journaling,
        identity_found: Option<Identity>,
    ) -> Result<(Registration, u64)> {
        let policy = self.inner.options.naming;
        // Everything that allocates happens before the lock, so the critical
        // section only hashes once and inserts. The key is kept once, shared
        // by the entry, the caller's region and (under `posix`, where the
        // identity is its tail) the table's key.
        let key: &[u8] = original;
        let identity = shards::IdentityKey::new(policy.identity(&system), original);
        let shard = self.inner.entries.index(identity.bytes());
        let mut entries = self.inner.entries.lock_index(shard);
        let generation = entries.registered() + 1;
        let fresh = FreshEntry {
            original,
            owned,
            hold,
            generation,
            journaling,
            found: identity_found,
        };
        let shared = match entries.group_entry(identity) {
            hash_map::Entry::Vacant(vacant) => {
                let entry = self.new_entry(&fresh, vacant.key().bytes())?;
                vacant.insert(shards::Group::new(entry));
                false
            }
            hash_map::Entry::Occupied(mut occupied) => {
                if let Some(entry) = occupied.get_mut().find_mut(key) {
                    let (generation, replaced) = rejoin(entry, hold, journaling, identity_found);
                    drop(entries);
                    self.journal_release(replaced);
                    return Ok((Registration::AlreadyTracked, generation));
                }
                // Another key reaches the same object.
                let group = occupied.get();
                if let Some(other) = group
                    .iter()
                    .find(|other| !self.may_share(other.owned, owned))
                {
                    let system = self.stored_system_name(occupied.key().bytes(), original);
                    return Err(self.collision(key, &other.original, system));
                }
                let entry = self.new_entry(&fresh, occupied.key().bytes())?;
                occupied.get_mut().push(entry);
                true
            }
        };
        entries.count_registration(shared);
        drop(entries);
        log_tracking(policy, key, owned);
        Ok((Registration::Added, generation))
    }

    /// A new entry made of `fresh`, in the group of `identity`, with the
    /// journal record its journaling asks for: none, the creation's, or
    /// (an owned registration) a new registration record.
    fn new_entry(&self, fresh: &FreshEntry<'_>, identity: &[u8]) -> Result<Entry> {
        let slot = match fresh.journaling {
            Journaling::RecordIfNew if fresh.owned => self.journal_registered(
                self.stored_system_name(identity, fresh.original),
                fresh.found.as_ref(),
            )?,
            Journaling::Created(slot) => slot,
            _ => None,
        };
        Ok(Entry {
            identity: fresh.found,
            original: Arc::clone(fresh.original),
            owner_pid: os::current_pid(),
            owned: fresh.owned,
            pinned: fresh.hold == Hold::Pin,
            regions: u32::from(fresh.hold == Hold::Region),
            seq: self.inner.entries.next_seq(),
            generation: fresh.generation,
            slot,
        })
    }

    /// Whether two keys that reach one object may both be tracked, given
    /// whether each was created here: only when no unlink of this registry
    /// can reach the object through either, so untracking one never removes
    /// what the other still names. (Two such keys are what upstream Triton
    /// accepts for client regions, e.g. `/k` and `k` on Linux.)
    fn may_share(&self, owned: bool, other_owned: bool) -> bool {
        match self.inner.options.unlink {
            UnlinkPolicy::Never => true,
            UnlinkPolicy::OwnedOnly => !owned && !other_owned,
            UnlinkPolicy::All => false,
        }
    }

    /// A region of `key` closed: drop its hold, and when it was the last
    /// hold on an entry not pinned by `register`, untrack the entry and
    /// unlink it as the unlink policy says. An entry already untracked (by
    /// `unlink` or `cleanup_all`) is left alone.
    ///
    /// `generation` is the entry the region joined: an entry made anew
    /// after that one was untracked is not this region's to release. In a
    /// forked child, the last region of an entry the parent registered
    /// untracks it without unlinking: the object is the parent's.
    pub(crate) fn release_region(&self, key: &[u8], system: &[u8], generation: u64) -> Result<()> {
        let policy = self.inner.options.naming;
        let identity = policy.identity(system);
        let mut entries = self.inner.entries.lock(identity);
        let Some(entry) = entries
            .find_mut(identity, key)
            .filter(|e| e.generation == generation)
        else {
            return Ok(());
        };
        entry.regions = entry.regions.saturating_sub(1);
        if entry.regions > 0 || entry.pinned {
            return Ok(());
        }
        if entry.owner_pid == os::current_pid() {
            self.remove_from_system(entry, system)?;
        }
        entries.remove(identity, key);
        Ok(())
    }

    /// Stop tracking `key` and, if the unlink policy says so, `shm_unlink` its
    /// system name.
    ///
    /// Never by name alone (DESIGN, owner unlink): the name is opened and
    /// `fstat`ed first. An entry of a region keeps the identity of the
    /// object it created or opened and unlinks only that object (Linux:
    /// device and inode; macOS, which has neither for a shared-memory
    /// object: owner and size in 16 KiB granules, so a replacement of the
    /// same owner and rounded size is not told apart there); so does a
    /// registration ([`Registry::register`]) that found a sized object
    /// under the name and kept its identity. A registration without
    /// identity (no sized object was under the name then): its object is
    /// unlinked only if no live journal other than this registry's lists
    /// the name and no live process other than this one has the object
    /// open or mapped, the reaper's rule for a record without identity (it
    /// costs a look at the state directory's journals and a scan of this
    /// user's processes). An object that fails
    /// the check is left alone, logged at warn and counted in
    /// [`Stats::regions_replaced`]; the call then returns
    /// [`Unlinked::AlreadyGone`]: this registry's object is no longer
    /// under the name. The journal record is freed after the unlink.
    ///
    /// An object already gone is not an error ([`Unlinked::AlreadyGone`]).
    /// Errors: those of [`Registry::system_name`]; [`Status::NOT_FOUND`] when
    /// `key` is not tracked (no system call is made);
    /// [`Status::OS_ERROR`] or [`Status::PERMISSION_DENIED`] when the check or
    /// `shm_unlink` fails otherwise (for a registration without identity,
    /// also when it cannot be told whether another process holds the
    /// object), in which
    /// case the entry stays tracked.
    pub fn unlink(&self, key: &[u8]) -> Result<Unlinked> {
        let system = self.system_name_cow(key)?;
        let policy = self.inner.options.naming;
        let identity = policy.identity(&system);
        let mut entries = self.inner.entries.lock(identity);
        // The entry stays in the table until its unlink succeeds, so a panic
        // in a log sink while the lock is held leaves it tracked.
        let entry = match entries.find(identity, key) {
            Some(entry) => entry,
            None => {
                let other = entries
                    .group(identity)
                    .and_then(|group| group.iter().next());
                return Err(Error::new(
                    Status::NOT_FOUND,
                    match other {
                        Some(other) => format!(
                            "'{}' is not tracked; '{}' is, and reaches the same object '{}'",
                            key.escape_ascii(),
                            other.original.escape_ascii(),
                            system.escape_ascii()
                        ),
                        None => format!(
                            "'{}' (system name '{}') is not tracked",
                            key.escape_ascii(),
                            system.escape_ascii()
                        ),
                    },
                ));
            }
        };
        let outcome = self.remove_from_system(entry, &system)?;
        entries.remove(identity, key);
        Ok(outcome)
    }

    /// Number of tracked regions.
    pub fn count(&self) -> usize {
        self.inner.entries.len()
    }

    /// Whether `key` itself is tracked (not merely a key with the same
    /// system name). Invalid names are never tracked.
    pub fn contains(&self, key: &[u8]) -> bool {
        let naming = self.inner.options.naming;
        let Ok(system) = naming.system_name(key) else {
            return false;
        };
        let identity = naming.identity(&system);
        self.inner
            .entries
            .lock(identity)
            .find(identity, key)
            .is_some()
    }

    /// The system names of every tracked region, in no particular order.
    pub fn system_names(&self) -> Vec<Vec<u8>> {
        let tables = self.inner.entries.lock_all();
        tables
            .iter()
            .flat_map(|table| table.iter())
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
    /// journal record removed, after the unlink (DESIGN, owner unlink step
    /// 4: while the object exists, its record lists it).
    fn remove_from_system(&self, entry: &Entry, system: &[u8]) -> Result<Unlinked> {
        self.remove_judged(entry, system, None)
    }

    /// [`Registry::remove_from_system`] with the verdict on the object
    /// already reached (`cleanup_all` judges the entries without identity
    /// in one batch).
    fn remove_judged(
        &self,
        entry: &Entry,
        system: &[u8],
        judged: Option<Verdict>,
    ) -> Result<Unlinked> {
        let outcome = self.apply_unlink_policy(entry, system, judged);
        let counters = &self.inner.counters;
        match &outcome {
            Ok(Removal::Removed) => bump(&counters.unlinked),
            Ok(Removal::AlreadyGone) => bump(&counters.already_gone),
            Ok(Removal::Replaced) => bump(&counters.replaced),
            Ok(Removal::Released) => {}
            Err(_) => bump(&counters.failed),
        }
        if outcome.is_ok() && entry.owned && entry.owner_pid == os::current_pid() {
            self.journal_release(entry.slot);
        }
        outcome.map(Removal::unlinked)
    }

    /// Whether the unlink policy keeps `entry`'s object.
    fn policy_keeps(&self, entry: &Entry) -> bool {
        match self.inner.options.unlink {
            UnlinkPolicy::OwnedOnly => !entry.owned,
            UnlinkPolicy::All => false,
            UnlinkPolicy::Never => true,
        }
    }

    fn apply_unlink_policy(
        &self,
        entry: &Entry,
        system: &[u8],
        judged: Option<Verdict>,
    ) -> Result<Removal> {
        if self.policy_keeps(entry) {
            log_at!(
                Level::Debug,
                "released '{}' without unlinking it (unlink policy {}, {})",
                entry.original.escape_ascii(),
                self.inner.options.unlink.as_str(),
                if entry.owned {
                    "owned"
                } else {
                    "not created here"
                }
            );
            return Ok(Removal::Released);
        }
        let verdict = match judged {
            Some(verdict) => verdict,
            None => match entry.identity {
                Some(mine) => self.judge_identified(system, &mine),
                None => self
                    .judge_unidentified(&[system])
                    .pop()
                    .unwrap_or(Verdict::Failed(Error::new(Status::INTERNAL, "no verdict"))),
            },
        };
        self.finish_unlink(system, &entry.original, verdict)
    }

    /// Owner unlink steps 1–2: the identity of what is under the name now
    /// (open and `fstat`; on Linux one `lstat`, see
    /// [`ShmBackend::identity_by_name`]).
    fn look(&self, system: &[u8]) -> Result<Look> {
        let backend = self.inner.backend;
        match backend.identity_by_name(c_name(system)?.as_c_str()) {
            Ok(found) => Ok(Look::Found(found)),
            Err(libc::ENOENT) => Ok(Look::Gone),
            // A backend with no objects to open (a test double): nothing to
            // compare, and nothing another process could have put there.
            Err(libc::ENOSYS) => Ok(Look::Unchecked),
            Err(errno) => Err(Error::from_errno(
                errno,
                format_args!(
                    "cannot check '{}' before unlinking it",
                    system.escape_ascii()
                ),
            )),
        }
    }

    /// Owner unlink step 2 for an entry with an identity of its own: the
    /// object under the name must be that one. Linux compares device and
    /// inode; macOS, which gives a shared-memory object neither, only its
    /// owner and its size in 16 KiB granules (the largest page), so a
    /// replacement of the same owner and rounded size is taken for the
    /// original there.
    fn judge_identified(&self, system: &[u8], mine: &Identity) -> Verdict {
        match self.look(system) {
            Ok(Look::Gone) => Verdict::Gone,
            Ok(Look::Unchecked) => Verdict::Unlink,
            Ok(Look::Found(found)) if mine.same_object(&found) => Verdict::Unlink,
            Ok(Look::Found(_)) => Verdict::Replaced("another object now has the name".to_owned()),
            Err(e) if e.status() == Status::PERMISSION_DENIED => {
                Verdict::Replaced("the object under the name is another user's".to_owned())
            }
            Err(e) => Verdict::Failed(e),
        }
    }

    /// Owner unlink steps 1–2 for entries without an identity of their own
    /// (registrations by name, which make no system call): the object under
    /// each name is unlinked only if no live journal other than this
    /// registry's lists the name and no live process other than this one
    /// holds the object, the reaper's rule for a record without identity;
    /// otherwise it is left alone and the log says why. One re-read of the
    /// journals and one process scan serve all of `systems`.
    fn judge_unidentified(&self, systems: &[&[u8]]) -> Vec<Verdict> {
        let mut verdicts: Vec<Verdict> = Vec::with_capacity(systems.len());
        let mut found: Vec<(usize, Identity)> = Vec::new();
        for (i, system) in systems.iter().enumerate() {
            verdicts.push(match self.look(system) {
                Ok(Look::Gone) => Verdict::Gone,
                Ok(Look::Unchecked) => Verdict::Unlink,
                Ok(Look::Found(identity)) => {
                    found.push((i, identity));
                    Verdict::Unlink
                }
                Err(e) => Verdict::Failed(e),
            });
        }
        if found.is_empty() {
            return verdicts;
        }
        match self.others_hold(systems, &found) {
            Ok(held) => {
                for ((i, _), why) in found.iter().zip(held) {
                    if let Some(why) = why {
                        verdicts[*i] = Verdict::Replaced(why.to_owned());
                    }
                }
            }
            Err(e) => {
                for (i, _) in &found {
                    verdicts[*i] = Verdict::Failed(e.clone());
                }
            }
        }
        verdicts
    }

    /// For each found object, why another holds it, if one does: a live
    /// journal other than this registry's lists its name, or a live
    /// process other than this one has it open or mapped. `Err` when that
    /// cannot be told (then nothing is unlinked).
    fn others_hold(
        &self,
        systems: &[&[u8]],
        found: &[(usize, Identity)],
    ) -> Result<Vec<Option<&'static str>>> {
        if self.inner.backend.name() != os::system().name() {
            // A model's objects live in this process alone.
            return Ok(vec![None; found.len()]);
        }
        let doubt = |why: String| {
            Error::new(
                Status::OS_ERROR,
                format!("cannot tell whether another process holds the object: {why}"),
            )
        };
        let path = self.inner.options.state_dir_path();
        let listed = if path.exists() {
            let dir = crate::os::state_dir::StateDir::open(&path, false)
                .map_err(|e| doubt(e.to_string()))?;
            let own = self.journal_name();
            let skip: Vec<&str> = own.iter().map(String::as_str).collect();
            crate::journal::live_names_now(&dir, &skip).map_err(doubt)?
        } else {
            std::collections::HashSet::new()
        };
        let wanted: Vec<os::holders::Wanted<'_>> = found
            .iter()
            .map(|(i, identity)| os::holders::Wanted {
                name: systems[*i],
                identity: *identity,
            })
            .collect();
        let held = os::holders::held_by_others(&wanted).map_err(doubt)?;
        Ok(found
            .iter()
            .zip(held)
            .map(|((i, _), held)| {
                if listed.contains(systems[*i]) {
                    Some("another live journal lists the name")
                } else if held {
                    Some("another live process holds the object")
                } else {
                    None
                }
            })
            .collect())
    }

    /// Owner unlink steps 3–4 (the journal record is freed by the caller).
    fn finish_unlink(&self, system: &[u8], original: &[u8], verdict: Verdict) -> Result<Removal> {
        #[cfg(feature = "crash-points")]
        if matches!(verdict, Verdict::Unlink | Verdict::Replaced(_)) {
            crate::os::crash_point::hit("close-checked");
        }
        match verdict {
            Verdict::Gone => {
                log_at!(
                    Level::Warn,
                    "'{}' (original: '{}') was already gone",
                    system.escape_ascii(),
                    original.escape_ascii()
                );
                return Ok(Removal::AlreadyGone);
            }
            Verdict::Replaced(why) => {
                log_at!(
                    Level::Warn,
                    "'{}' (original: '{}') was replaced or is held by another: {why}; left alone",
                    system.escape_ascii(),
                    original.escape_ascii()
                );
                return Ok(Removal::Replaced);
            }
            Verdict::Failed(error) => {
                log_at!(Level::Error, "{}", error.message());
                return Err(error);
            }
            Verdict::Unlink => {}
        }
        match self.inner.backend.unlink(c_name(system)?.as_c_str()) {
            Ok(()) => {
                #[cfg(feature = "crash-points")]
                crate::os::crash_point::hit("close-unlinked");
                log_at!(
                    Level::Info,
                    "unlinked '{}' (original: '{}')",
                    system.escape_ascii(),
                    original.escape_ascii()
                );
                Ok(Removal::Removed)
            }
            Err(libc::ENOENT) => {
                log_at!(
                    Level::Warn,
                    "'{}' (original: '{}') was already gone",
                    system.escape_ascii(),
                    original.escape_ascii()
                );
                Ok(Removal::AlreadyGone)
            }
            Err(errno) => {
                let error = Error::from_errno(
                    errno,
                    format_args!(
                        "shm_unlink failed for '{}' (original: '{}')",
                        system.escape_ascii(),
                        original.escape_ascii()
                    ),
                );
                log_at!(Level::Error, "{}", error.message());
                Err(error)
            }
        }
    }

    /// Remove an object this process has just created and failed to set
    /// up, by the owner's unlink (its identity is `own`, from the new
    /// descriptor). Whether its record may be freed: only once the object
    /// is gone. Without an identity the object is left to the reaper,
    /// which finds it through the record kept.
    pub(crate) fn remove_failed_create(&self, system: &[u8], own: Option<Identity>) -> bool {
        let Some(own) = own else {
            log_at!(
                Level::Error,
                "'{}' was created but could not be identified: left for a reap",
                system.escape_ascii()
            );
            return false;
        };
        let verdict = self.judge_identified(system, &own);
        match self.finish_unlink(system, system, verdict) {
            Ok(Removal::Replaced) => {
                bump(&self.inner.counters.replaced);
                true
            }
            Ok(_) => true,
            Err(e) => {
                log_at!(
                    Level::Error,
                    "could not remove '{}' after a failed create: {}",
                    system.escape_ascii(),
                    e.message()
                );
                false
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

/// What an unlink did, as the statistics count it.
enum Removal {
    Removed,
    AlreadyGone,
    /// Another object had the name, or another held it: left alone.
    Replaced,
    Released,
}

impl Removal {
    /// What the caller is told: a replaced object means this registry's own
    /// is gone from the name.
    fn unlinked(self) -> Unlinked {
        match self {
            Removal::Removed => Unlinked::Removed,
            Removal::AlreadyGone | Removal::Replaced => Unlinked::AlreadyGone,
            Removal::Released => Unlinked::Released,
        }
    }
}

/// What is under a name an owner is about to unlink.
enum Look {
    Gone,
    /// The backend cannot tell (a test double without objects).
    Unchecked,
    Found(Identity),
}

/// What an owner's unlink does with the object under the name.
pub(super) enum Verdict {
    /// It is this owner's (or cannot be another's): unlink it.
    Unlink,
    Gone,
    /// Another object, or held by another: leave it, saying why.
    Replaced(String),
    /// Cannot tell: keep the entry.
    Failed(Error),
}

/// What [`Registry::track`] makes a new entry of.
struct FreshEntry<'a> {
    original: &'a Arc<[u8]>,
    owned: bool,
    hold: Hold,
    generation: u64,
    journaling: Journaling,
    found: Option<Identity>,
}

/// The debug line of a key that became tracked.
fn log_tracking(policy: NamingPolicy, key: &[u8], owned: bool) {
    log_at!(
        Level::Debug,
        "tracking '{}' as '{}' ({})",
        key.escape_ascii(),
        policy
            .system_name_cow(key)
            .unwrap_or_default()
            .escape_ascii(),
        if owned { "owned" } else { "not owned" }
    );
}

/// `key`'s entry, tracked already, joined again by `hold`. A creation
/// (`Journaling::Created`: this process just created the object with
/// `O_EXCL` under a key it tracked as not owned, or registered by name)
/// makes the object ours: the entry becomes owned by this process, with the
/// creation's record and identity. Returns the entry's generation and the
/// record replaced, which the caller frees once the shard's lock is let go.
fn rejoin(
    entry: &mut Entry,
    hold: Hold,
    journaling: Journaling,
    identity_found: Option<Identity>,
) -> (u64, Option<SlotRef>) {
    match hold {
        Hold::Pin => entry.pinned = true,
        Hold::Region => entry.regions = entry.regions.saturating_add(1),
    }
    let Journaling::Created(slot) = journaling else {
        return (entry.generation, None);
    };
    let owner_pid = os::current_pid();
    let replaced = if entry.owner_pid == owner_pid {
        entry.slot.take()
    } else {
        None
    };
    entry.owned = true;
    entry.owner_pid = owner_pid;
    entry.slot = slot;
    entry.identity = identity_found;
    (entry.generation, replaced)
}

/// `name` as the C string a system call takes, on the stack when it is
/// short (as system names are), so an open or unlink costs no allocation.
///
/// Errors: [`Status::INVALID_NAME`] if `name` holds a NUL byte, which the
/// naming policies never let through.
pub(crate) fn c_name(name: &[u8]) -> Result<CName> {
    CName::new(name)
        .ok_or_else(|| Error::new(Status::INVALID_NAME, "system name contains a NUL byte"))
}
