//! Regions: opening a region a client created (the server side), creating
//! one (the client or test side), and closing it.
//!
//! Every check that needs no system call (size, overflow, name, reserved
//! prefix, collision) runs before the first one. Descriptors are `OwnedFd`s,
//! closed on every path; mappings unmap themselves.

use crate::journal::SlotRef;
use crate::log::{log_at, Level};
use crate::name::{self, CName, NamingPolicy, DARWIN_NAME_MAX};
use crate::os::{self, Identity, Mapping, OpenFlags, ShmBackend};
use crate::registry::{c_name, Hold, Journaling, Registry};
use crate::status::{Error, Result, Status};
use std::borrow::Cow;
use std::ffi::CStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;

/// A mapped shared-memory region, opened or created through a registry and
/// tracked by it, unless opened untracked (`TRITON_SHM_OPEN_UNTRACKED`; in
/// Rust, `Registry::open_region_untracked`). Closing it (or dropping it)
/// unmaps it and releases its registry entry; the object is unlinked only
/// if this process created it or the unlink policy says so, and never for
/// an untracked region.
#[derive(Debug)]
pub struct Region {
    registry: Registry,
    /// The key, shared with its registry entry when tracked.
    key: RegionKey,
    /// The name of the object opened or created; under `darwin` it may be
    /// a spelling other than the normalised name (see
    /// [`Registry::open_region`]).
    system: SystemName,
    mapping: Option<Mapping>,
    size: usize,
    /// Whether this region's hold on its registry entry was released.
    released: bool,
    /// The generation of the registry entry this region joined; `None` for
    /// an untracked region ([`Registry::open_region_untracked`]).
    entry: Option<u64>,
}

/// Whether `a` and `b` hold the same bytes: at once when they are one slice.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    std::ptr::eq(a, b) || a == b
}

/// Bytes of an untracked region's key kept in the region itself.
const INLINE_KEY: usize = 62;

/// The key a region keeps: one copy shared with the registry entry it
/// joined, or, for an untracked region, its own, inline when short, so that
/// opening one allocates nothing but the region.
#[derive(Debug)]
enum RegionKey {
    Shared(Arc<[u8]>),
    Inline { len: u8, bytes: [u8; INLINE_KEY] },
    Own(Box<[u8]>),
}

impl RegionKey {
    /// An untracked region's copy of `key`.
    fn own(key: &[u8]) -> RegionKey {
        match u8::try_from(key.len()) {
            Ok(len) if key.len() <= INLINE_KEY => {
                let mut bytes = [0u8; INLINE_KEY];
                bytes[..key.len()].copy_from_slice(key);
                RegionKey::Inline { len, bytes }
            }
            _ => RegionKey::Own(key.into()),
        }
    }
}

impl std::ops::Deref for RegionKey {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            RegionKey::Shared(key) => key,
            RegionKey::Inline { len, bytes } => &bytes[..usize::from(*len)],
            RegionKey::Own(key) => key,
        }
    }
}

/// Whether a region a client created joins its registry's table when it is
/// opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tracking {
    /// Tracked as not owned (an entry, counted, listed, unlinked if the
    /// unlink policy says so).
    Tracked,
    /// Not tracked at all: only its mapped bytes are counted.
    Untracked,
}

fn check_size(byte_size: usize) -> Result<()> {
    if byte_size == 0 {
        return Err(Error::new(
            Status::INVALID_ARGUMENT,
            "byte_size is 0; a region needs at least one byte",
        ));
    }
    Ok(())
}

impl Registry {
    /// Open and map `byte_size` bytes at `offset` of the region a client
    /// created under `key`: the server side of Triton's system shared memory.
    ///
    /// Under `posix` the object is opened by its system name (glibc makes
    /// every leading-slash spelling one object). Under `darwin`, where XNU
    /// checks only a name's length and compares names byte for byte, the
    /// names real clients use are tried in this order, each once: the
    /// normalised name (the seed's convention), the key as given (Triton's
    /// C++ client hands its key to `shm_open` verbatim), and `/` + key
    /// (CPython's `multiprocessing.shared_memory`, which Triton's Python
    /// client uses, prepends `/`). [`Region::system_name`] says which one
    /// opened; closing never unlinks another. `offset` need not be
    /// page-aligned. The region is tracked as not owned.
    ///
    /// The name checks come first, then the object is looked for, then the
    /// size: a missing object is [`Status::NOT_FOUND`] even when `byte_size`
    /// is 0 or `offset + byte_size` overflows.
    ///
    /// Errors: [`Status::INVALID_ARGUMENT`] (`byte_size` 0),
    /// [`Status::OUT_OF_BOUNDS`] (`offset + byte_size` overflows or passes the
    /// object's size, which on macOS is the size rounded up to a page),
    /// [`Status::INVALID_NAME`], [`Status::RESERVED_NAME`],
    /// [`Status::NAME_COLLISION`], [`Status::NOT_FOUND`] (no such object
    /// under any name tried), [`Status::NAME_TOO_LONG`] (no object found and
    /// a name to try was too long for the OS: the message names it and
    /// says which client could not have created it), and the statuses of
    /// failed system calls.
    pub fn open_region(&self, key: &[u8], offset: usize, byte_size: usize) -> Result<Region> {
        self.open_region_named(key, None, offset, byte_size, Tracking::Tracked)
    }

    /// [`Registry::open_region`] without tracking: the region gets no entry
    /// in this registry. It is not counted in [`Stats::tracked`] or
    /// [`Stats::registered`], not listed, never refused as a collision and
    /// never unlinked through this registry (closing it only unmaps it,
    /// whatever the unlink policy); its mapped bytes count in
    /// [`Stats::mapped_bytes`] while it is mapped. For a server that never
    /// unlinks what clients created (Triton's, whose own table knows every
    /// region it opened), it leaves out the registry's bookkeeping on each
    /// registration and unregistration.
    ///
    /// Errors: those of [`Registry::open_region`] but
    /// [`Status::NAME_COLLISION`].
    ///
    /// [`Stats::tracked`]: crate::registry::Stats::tracked
    /// [`Stats::registered`]: crate::registry::Stats::registered
    /// [`Stats::mapped_bytes`]: crate::registry::Stats::mapped_bytes
    pub fn open_region_untracked(
        &self,
        key: &[u8],
        offset: usize,
        byte_size: usize,
    ) -> Result<Region> {
        self.open_region_named(key, None, offset, byte_size, Tracking::Untracked)
    }

    /// Map `byte_size` bytes at `offset` of the region a client created
    /// under `key`, and keep nothing of it: the checks, names tried, order
    /// and errors of [`Registry::open_region_untracked`], but the result is
    /// the bare [`Mapping`] (unmapped when dropped or by [`Mapping::unmap`]),
    /// not a [`Region`]. The registry neither tracks nor counts it (not in
    /// [`Stats::mapped_bytes`] either), and no region handle is allocated.
    /// For a server that keeps its own table of what it mapped and unlinks
    /// nothing: Triton's, whose registration and unregistration then cost
    /// little more than their system calls.
    ///
    /// Errors: those of [`Registry::open_region_untracked`].
    ///
    /// [`Stats::mapped_bytes`]: crate::registry::Stats::mapped_bytes
    pub fn map_client_region(
        &self,
        key: &[u8],
        offset: usize,
        byte_size: usize,
    ) -> Result<Mapping> {
        self.map_client_region_named(key, None, offset, byte_size)
    }

    /// [`Registry::map_client_region`] for a key that came as a C string
    /// (see [`Registry::open_region_c`]).
    pub(crate) fn map_client_region_c(
        &self,
        key: &CStr,
        offset: usize,
        byte_size: usize,
    ) -> Result<Mapping> {
        self.map_client_region_named(key.to_bytes(), Some(key), offset, byte_size)
    }

    fn map_client_region_named(
        &self,
        key: &[u8],
        c_key: Option<&CStr>,
        offset: usize,
        byte_size: usize,
    ) -> Result<Mapping> {
        let opened = self.open_and_map(key, c_key, offset, byte_size, Tracking::Untracked)?;
        log_at!(
            Level::Debug,
            "mapped '{}' as '{}' for the caller",
            key.escape_ascii(),
            opened.name.of_key(key).escape_ascii()
        );
        Ok(opened.mapping)
    }

    /// [`Registry::open_region`] (or, `Untracked`,
    /// [`Registry::open_region_untracked`]) for a key that came as a C
    /// string (the C ABI): under `posix`, where the system name is the key,
    /// `shm_open` takes the caller's string itself.
    pub(crate) fn open_region_c(
        &self,
        key: &CStr,
        offset: usize,
        byte_size: usize,
        tracking: Tracking,
    ) -> Result<Region> {
        self.open_region_named(key.to_bytes(), Some(key), offset, byte_size, tracking)
    }

    /// [`Registry::open_region`]; `c_key` is `key` as a C string, when the
    /// caller has one.
    fn open_region_named(
        &self,
        key: &[u8],
        c_key: Option<&CStr>,
        offset: usize,
        byte_size: usize,
        tracking: Tracking,
    ) -> Result<Region> {
        let opened = self.open_and_map(key, c_key, offset, byte_size, tracking)?;
        let opened_name = opened.name.of_key(key);
        let (kept, entry) = match tracking {
            Tracking::Tracked => {
                let shared: Arc<[u8]> = key.into();
                let (_, generation) = self.track(
                    &shared,
                    Cow::Borrowed(opened_name),
                    false,
                    Hold::Region,
                    Journaling::No,
                    opened.identity,
                )?;
                (RegionKey::Shared(shared), Some(generation))
            }
            Tracking::Untracked => {
                log_at!(
                    Level::Debug,
                    "mapped '{}' as '{}', untracked",
                    key.escape_ascii(),
                    opened_name.escape_ascii()
                );
                (RegionKey::own(key), None)
            }
        };
        Ok(self.new_region(kept, opened.name, opened.mapping, byte_size, entry))
    }

    /// The checks, the open and the map of [`Registry::open_region`].
    ///
    /// The common case of a server's registration goes straight to the
    /// system first ([`Registry::map_directly`]); if that does not apply or
    /// a system call fails, the general path below repeats the steps and
    /// gives the reason. Either way the result is the one the general path
    /// gives for the object as it is at the time.
    ///
    /// Inlined into its callers, with the general path kept out of line:
    /// the direct path's code then stays small and together (BENCHMARKS.md,
    /// row 7: 1.030x with the general path inlined, 1.022x without).
    #[inline]
    fn open_and_map(
        &self,
        key: &[u8],
        c_key: Option<&CStr>,
        offset: usize,
        byte_size: usize,
        tracking: Tracking,
    ) -> Result<OpenedMapping> {
        if let Some(mapping) = self.map_directly(c_key, offset, byte_size, tracking) {
            return Ok(OpenedMapping {
                mapping,
                name: SystemName::Key,
                identity: None,
            });
        }
        self.open_and_map_generally(key, c_key, offset, byte_size, tracking)
    }

    /// [`Registry::open_and_map`] through the registry's backend, every
    /// step checked and every refusal explained.
    #[inline(never)]
    fn open_and_map_generally(
        &self,
        key: &[u8],
        c_key: Option<&CStr>,
        offset: usize,
        byte_size: usize,
        tracking: Tracking,
    ) -> Result<OpenedMapping> {
        let backend = self.backend();
        // The object is looked for before the size is judged: a key that
        // names nothing is NOT_FOUND whatever the size, as Triton's server
        // reports a missing key before its size.
        self.check_reserved(key)?;
        let (fd, opened) = match self.options().naming {
            NamingPolicy::Posix => self.open_system_name(key, c_key, tracking)?,
            NamingPolicy::Darwin => self.open_client_spelling(key)?,
        };
        let opened_name = opened.of_key(key);
        check_size(byte_size)?;
        let end = offset.checked_add(byte_size).ok_or_else(|| {
            Error::new(
                Status::OUT_OF_BOUNDS,
                format!("offset {offset} + byte_size {byte_size} overflows"),
            )
        })?;
        let (size, identity) = object_size(backend, fd.as_fd(), tracking, opened_name, key)?;
        if u64::try_from(end).map_or(true, |end| end > size) {
            return Err(Error::new(
                Status::OUT_OF_BOUNDS,
                format!(
                    "offset {offset} + byte_size {byte_size} = {end} passes the end of '{}' \
                     (original: '{}'), which is {size} bytes",
                    opened_name.escape_ascii(),
                    key.escape_ascii()
                ),
            ));
        }
        let offset64 = u64::try_from(offset).map_err(|_| {
            Error::new(
                Status::OUT_OF_BOUNDS,
                format!("offset {offset} does not fit a file offset"),
            )
        })?;
        let mapping = backend
            .map(fd.as_fd(), offset64, byte_size)
            .map_err(|errno| os_error(errno, "mmap", opened_name, key))?;
        drop(fd);
        Ok(OpenedMapping {
            mapping,
            name: opened,
            identity,
        })
    }

    /// [`os::map_existing`] (the system calls with nothing between them)
    /// for the common case of a server's registration, where none of the
    /// general path's steps has anything to decide: an untracked region
    /// (nothing to collide with, no identity to keep), the real system,
    /// `posix` naming without host-reserved prefixes, a plain key (its own
    /// system name and never a reserved one: [`name::is_plain_posix_name`])
    /// that came as a C string, `byte_size` > 0 and an end that does not
    /// overflow. `None` in any other case, or when a system call failed.
    #[inline]
    fn map_directly(
        &self,
        c_key: Option<&CStr>,
        offset: usize,
        byte_size: usize,
        tracking: Tracking,
    ) -> Option<Mapping> {
        let c_key = c_key?;
        let options = self.options();
        let applies = tracking == Tracking::Untracked
            && self.opens_through_the_system()
            && options.naming == NamingPolicy::Posix
            && options.reserved_prefixes.is_empty()
            && byte_size > 0
            && offset.checked_add(byte_size).is_some()
            && name::is_plain_posix_name(c_key);
        if !applies {
            return None;
        }
        os::map_existing(c_key, offset, byte_size)
    }

    /// `posix`: open the object of `key`'s system name, the one name there
    /// is to try. A collision shows before
    /// the system call. The system name is the key itself: `c_key` when the
    /// caller has it as a C string, else built on the stack. An untracked
    /// region cannot collide.
    fn open_system_name(
        &self,
        key: &[u8],
        c_key: Option<&CStr>,
        tracking: Tracking,
    ) -> Result<(OwnedFd, SystemName)> {
        let system = self.system_name_cow(key)?;
        if tracking == Tracking::Tracked {
            self.check_collision(key, &system, false)?;
        }
        let built;
        // Under `posix` the system name is `key` itself, borrowed: the same
        // bytes as `c_key`, which a pointer comparison shows without reading
        // them.
        let c_system = match c_key {
            Some(c_key) if same_bytes(c_key.to_bytes(), &system) => c_key,
            _ => {
                built = c_name(&system)?;
                built.as_c_str()
            }
        };
        match self.backend().open(c_system, OpenFlags::EXISTING) {
            Ok(fd) => Ok((fd, SystemName::of(key, &system))),
            Err(libc::ENOENT) => Err(not_found(key, &[quoted(&system)], &[])),
            Err(errno) => Err(os_error(errno, "shm_open", &system, key)),
        }
    }

    /// `darwin`: open the first of the names real clients use for `key`
    /// (see [`Registry::open_region`]) that names an object.
    fn open_client_spelling(&self, key: &[u8]) -> Result<(OwnedFd, SystemName)> {
        let candidates = self.client_names(key)?;
        let backend = self.backend();
        let mut tried: Vec<String> = Vec::new();
        for (index, candidate) in candidates.iter().enumerate() {
            let ClientName::Valid(name) = candidate else {
                continue;
            };
            match backend.open(name.as_c_str(), OpenFlags::EXISTING) {
                Ok(fd) => {
                    if index > 0 {
                        log_at!(
                            Level::Info,
                            "'{}' found as '{}' (a client that does not normalise names), \
                             not under its normalised name",
                            key.escape_ascii(),
                            name.as_bytes().escape_ascii()
                        );
                    }
                    return Ok((fd, SystemName::of(key, name.as_bytes())));
                }
                Err(libc::ENOENT) => tried.push(quoted(name.as_bytes())),
                // A spelling this OS cannot name (glibc refuses an inner
                // '/', so darwin naming on Linux meets it): no object has it.
                Err(libc::EINVAL | libc::ENAMETOOLONG) if index > 0 => {
                    tried.push(quoted(name.as_bytes()));
                }
                Err(errno) => return Err(os_error(errno, "shm_open", name.as_bytes(), key)),
            }
        }
        Err(not_found(key, &tried, &candidates))
    }

    /// Create, size and map a new region of `byte_size` bytes under `key`:
    /// the client side, also handy in tests. The object is created with
    /// `O_CREAT | O_EXCL` and mode 0600 and sized with exactly one
    /// `ftruncate` (macOS allows only one, and no `O_TRUNC`). It is tracked
    /// as owned, so closing the region unlinks it, even when the key was
    /// already tracked as not owned. With a journal, the creation is
    /// recorded before the object exists and completed with its identity
    /// (`fstat`) right after `shm_open`.
    ///
    /// Errors: [`Status::INVALID_ARGUMENT`] (`byte_size` 0),
    /// [`Status::INVALID_NAME`], [`Status::NAME_TOO_LONG`],
    /// [`Status::RESERVED_NAME`], [`Status::NAME_COLLISION`],
    /// [`Status::ALREADY_EXISTS`] (the object exists; it is left untouched),
    /// and the statuses of failed system calls. After a failure past the
    /// creation, the object is removed again.
    pub fn create_region(&self, key: &[u8], byte_size: usize) -> Result<Region> {
        let size64 = creatable_size(byte_size)?;
        let system = self.checked_system_name(key)?;
        self.check_collision(key, &system, true)?;
        let c_system = c_name(&system)?;
        // The record comes first, so a crash can never leave the object
        // without one.
        let slot = self.journal_intent(&system, size64)?;
        #[cfg(feature = "crash-points")]
        crate::os::crash_point::hit("after-record");
        let fd = match self
            .backend()
            .open(c_system.as_c_str(), OpenFlags::CREATE_NEW)
        {
            Ok(fd) => fd,
            Err(errno) => {
                // Not created (an existing object is someone else's): drop
                // the record so no reaper ever removes it.
                self.journal_release(slot);
                return Err(os_error(errno, "shm_open(O_CREAT|O_EXCL)", &system, key));
            }
        };
        #[cfg(feature = "crash-points")]
        crate::os::crash_point::hit("after-create");
        let identified = self.identify_created(fd.as_fd(), slot, size64, &system, key);
        #[cfg(feature = "crash-points")]
        crate::os::crash_point::hit("after-identity");
        // The identity the owner's unlink checks, should the setup fail.
        let own = identified.as_ref().ok().copied().flatten();
        let shared: Arc<[u8]> = key.into();
        let built = identified.and_then(|identity| {
            self.size_map_and_track(
                fd.as_fd(),
                &shared,
                &system,
                size64,
                byte_size,
                slot,
                identity,
            )
        });
        drop(fd);
        match built {
            Ok((mapping, generation)) => {
                let name = SystemName::of(key, &system);
                let kept = RegionKey::Shared(shared);
                Ok(self.new_region(kept, name, mapping, byte_size, Some(generation)))
            }
            Err(error) => {
                // Never leave behind an object we created, and never remove
                // another by its name: the owner's unlink, with the identity
                // of the descriptor just created. The record goes only once
                // the object has.
                if self.remove_failed_create(&system, own) {
                    self.journal_release(slot);
                }
                Err(error)
            }
        }
    }

    /// DESIGN, creator step 3: the identity of the object just created is
    /// recorded before it is sized (until then a reaper knows it only as
    /// "never sized"), and the registry entry keeps it, so that closing
    /// the region unlinks this object and never another that took the name
    /// meanwhile. The size kept is the one asked for: the object's own
    /// once sized. `None`: a backend that keeps no identity (a test double).
    fn identify_created(
        &self,
        fd: BorrowedFd<'_>,
        slot: Option<SlotRef>,
        size: u64,
        system: &[u8],
        key: &[u8],
    ) -> Result<Option<Identity>> {
        match self.backend().identity(fd) {
            Ok(found) => {
                self.journal_identity(slot, &found);
                Ok(Some(Identity { size, ..found }))
            }
            Err(libc::ENOSYS) if slot.is_none() => Ok(None),
            Err(errno) => Err(os_error(errno, "fstat", system, key)),
        }
    }

    /// The rest of a creation: one `ftruncate`, the mapping, and the
    /// registry entry (owned, with the creation's journal record).
    #[allow(clippy::too_many_arguments)]
    fn size_map_and_track(
        &self,
        fd: BorrowedFd<'_>,
        key: &Arc<[u8]>,
        system: &[u8],
        size64: u64,
        byte_size: usize,
        slot: Option<SlotRef>,
        identity: Option<Identity>,
    ) -> Result<(Mapping, u64)> {
        let backend = self.backend();
        backend
            .set_size(fd, size64)
            .map_err(|errno| os_error(errno, "ftruncate", system, key))?;
        #[cfg(feature = "crash-points")]
        crate::os::crash_point::hit("after-size");
        let mapping = backend
            .map(fd, 0, byte_size)
            .map_err(|errno| os_error(errno, "mmap", system, key))?;
        let (_, generation) = self.track(
            key,
            Cow::Borrowed(system),
            true,
            Hold::Region,
            Journaling::Created(slot),
            identity,
        )?;
        Ok((mapping, generation))
    }
}

/// `byte_size` as the `off_t` `ftruncate` takes: refuse 0 and what it
/// cannot express before any object exists.
fn creatable_size(byte_size: usize) -> Result<u64> {
    check_size(byte_size)?;
    u64::try_from(byte_size)
        .ok()
        .filter(|&size| i64::try_from(size).is_ok())
        .ok_or_else(|| {
            Error::new(
                Status::INVALID_ARGUMENT,
                format!(
                    "byte_size {byte_size} is larger than a file offset can express ({})",
                    i64::MAX
                ),
            )
        })
}

/// The name of the object a region opened or created, kept without a copy
/// when it is the key itself (always under `posix`).
#[derive(Debug)]
enum SystemName {
    /// The key is the system name.
    Key,
    /// Another spelling (`darwin`: the normalised name, or `/` + key).
    Other(Box<[u8]>),
}

impl SystemName {
    fn of(key: &[u8], system: &[u8]) -> SystemName {
        if same_bytes(system, key) {
            SystemName::Key
        } else {
            SystemName::Other(system.into())
        }
    }

    /// The name, given the region's key.
    fn of_key<'a>(&'a self, key: &'a [u8]) -> &'a [u8] {
        match self {
            SystemName::Key => key,
            SystemName::Other(name) => name,
        }
    }
}

impl Registry {
    /// A region of `size` bytes mapped by `mapping`, tracked as entry
    /// `generation` of `key` (`None`: untracked), counted in the registry's
    /// mapped bytes.
    fn new_region(
        &self,
        key: RegionKey,
        system: SystemName,
        mapping: Mapping,
        size: usize,
        entry: Option<u64>,
    ) -> Region {
        self.account_mapping(size, true);
        Region {
            registry: self.clone(),
            key,
            system,
            mapping: Some(mapping),
            size,
            released: false,
            entry,
        }
    }
}

/// What [`Registry::open_and_map`] opened: the mapping, the name it was
/// found under, and the object's identity where the backend keeps one.
struct OpenedMapping {
    mapping: Mapping,
    name: SystemName,
    identity: Option<Identity>,
}

/// The size of the object open as `fd`, and, for a tracked region, its
/// identity, which an unlink checks later (policy `All`), from one `fstat`;
/// a backend that keeps no identity gives the size alone, and so does an
/// untracked region, which nothing unlinks.
fn object_size(
    backend: &dyn ShmBackend,
    fd: BorrowedFd<'_>,
    tracking: Tracking,
    system: &[u8],
    key: &[u8],
) -> Result<(u64, Option<Identity>)> {
    let identity = match tracking {
        Tracking::Tracked => backend.identity(fd),
        Tracking::Untracked => Err(libc::ENOSYS),
    };
    match identity {
        Ok(identity) => Ok((identity.size, Some(identity))),
        Err(libc::ENOSYS) => backend
            .size(fd)
            .map(|size| (size, None))
            .map_err(|errno| os_error(errno, "fstat", system, key)),
        Err(errno) => Err(os_error(errno, "fstat", system, key)),
    }
}

/// A name [`Registry::open_region`] may try for a key. At most three live
/// at a time, each a short name kept inline.
#[allow(clippy::large_enum_variant)]
enum ClientName {
    /// A name the OS accepts.
    Valid(CName),
    /// A name a client would use that is longer than the OS allows, and the
    /// client that would use it.
    TooLong { name: Vec<u8>, client: &'static str },
}

impl Registry {
    /// `darwin`: the names to try for a client's `key`, in order, without
    /// repeats.
    ///
    /// Errors: [`Status::INVALID_NAME`] for a key with nothing after its
    /// leading slashes.
    fn client_names(&self, key: &[u8]) -> Result<Vec<ClientName>> {
        let naming = self.options().naming;
        let normalised =
            name::normalize(key).map_err(|e| e.for_key(key, &format!("{naming} naming policy")))?;
        let mut python = Vec::with_capacity(key.len() + 1);
        python.push(b'/');
        python.extend_from_slice(key);
        let spellings = [
            (normalised, "a client that normalises names"),
            (
                key.to_vec(),
                "Triton's C++ client, which uses the key as given",
            ),
            (
                python,
                "a Python client (multiprocessing.shared_memory prepends '/')",
            ),
        ];
        let mut names: Vec<ClientName> = Vec::with_capacity(spellings.len());
        let mut seen: Vec<Vec<u8>> = Vec::with_capacity(spellings.len());
        for (spelling, client) in spellings {
            if seen.contains(&spelling) {
                continue;
            }
            seen.push(spelling.clone());
            names.push(if spelling.len() > DARWIN_NAME_MAX {
                ClientName::TooLong {
                    name: spelling,
                    client,
                }
            } else {
                ClientName::Valid(c_name(&spelling)?)
            });
        }
        Ok(names)
    }
}

/// `name` in quotes, escaped, for a message.
fn quoted(name: &[u8]) -> String {
    format!("'{}'", name.escape_ascii())
}

/// Why no name of `candidates` opened: [`Status::NAME_TOO_LONG`] when a name
/// a client would use is too long for the OS (so no such client can have
/// created it), [`Status::NOT_FOUND`] otherwise.
fn not_found(key: &[u8], tried: &[String], candidates: &[ClientName]) -> Error {
    let too_long: Vec<String> = candidates
        .iter()
        .filter_map(|candidate| match candidate {
            ClientName::TooLong { name, client } => Some(format!(
                "'{}' ({} bytes, for {client}) is longer than macOS allows ({DARWIN_NAME_MAX} \
                 bytes with its '/'), so no such client can have created it",
                name.escape_ascii(),
                name.len()
            )),
            ClientName::Valid(_) => None,
        })
        .collect();
    let searched = if tried.is_empty() {
        String::new()
    } else {
        format!("no shared-memory object {} exists", tried.join(" or "))
    };
    if too_long.is_empty() {
        return Error::from_errno(
            libc::ENOENT,
            format_args!(
                "cannot open the region '{}': {searched}",
                key.escape_ascii()
            ),
        );
    }
    let reason = [searched, too_long.join("; ")]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    Error::new(
        Status::NAME_TOO_LONG,
        format!("cannot open the region '{}': {reason}", key.escape_ascii()),
    )
}

fn os_error(errno: i32, call: &str, system: &[u8], key: &[u8]) -> Error {
    Error::from_errno(
        errno,
        format_args!(
            "{call} failed for '{}' (original: '{}')",
            system.escape_ascii(),
            key.escape_ascii()
        ),
    )
}

impl Region {
    /// The first byte of the region: the byte at the offset it was opened
    /// at. Valid until the region is closed.
    pub fn data(&self) -> *mut u8 {
        self.mapping
            .as_ref()
            .map_or(std::ptr::null_mut(), Mapping::data)
    }

    /// The size asked for when the region was opened or created.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The key as the caller gave it.
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// The name of the object actually opened.
    pub fn system_name(&self) -> &[u8] {
        self.system.of_key(&self.key)
    }

    /// Copy `bytes` into the region at `at`; false (nothing copied) if the
    /// range passes the region's size.
    pub fn write_at(&self, at: usize, bytes: &[u8]) -> bool {
        let fits = at
            .checked_add(bytes.len())
            .is_some_and(|end| end <= self.size);
        fits && self.mapping.as_ref().is_some_and(|m| m.write_at(at, bytes))
    }

    /// Copy the region's bytes at `at` into `out`; false (nothing copied) if
    /// the range passes the region's size.
    pub fn read_at(&self, at: usize, out: &mut [u8]) -> bool {
        let fits = at
            .checked_add(out.len())
            .is_some_and(|end| end <= self.size);
        fits && self.mapping.as_ref().is_some_and(|m| m.read_at(at, out))
    }

    /// Unmap the region (if [`Region::unmap`] has not) and release its
    /// registry entry; when that was the entry's last region and nothing
    /// pinned it, the entry is untracked and the object unlinked if owned
    /// (or if the unlink policy is `All`). An untracked region has no entry:
    /// closing it only unmaps it.
    ///
    /// Errors: a failed `munmap` ([`Status::OS_ERROR`]): the mapping is then
    /// left in place and the entry released anyway, since nothing can use
    /// the region again; call [`Region::unmap`] first to keep a region whose
    /// unmap fails. A failed `shm_unlink`: the entry stays tracked for
    /// `cleanup_all`.
    pub fn close(mut self) -> Result<()> {
        let unmapped = self.unmap();
        let released = self.release();
        unmapped.and(released)
    }

    /// Unmap the region now, keeping it (and its registry entry) otherwise:
    /// afterwards [`Region::data`] is NULL and [`Region::close`] only
    /// releases the entry. Unmapping an unmapped region does nothing.
    ///
    /// Errors: [`Status::OS_ERROR`] when `munmap` fails; the region is then
    /// still mapped and usable, exactly as before the call.
    pub fn unmap(&mut self) -> Result<()> {
        let Some(mapping) = self.mapping.take() else {
            return Ok(());
        };
        if let Err((mapping, errno)) = self.registry.backend().unmap(mapping) {
            self.mapping = Some(mapping);
            return Err(os_error(
                errno,
                "munmap",
                self.system.of_key(&self.key),
                &self.key,
            ));
        }
        self.registry.account_mapping(self.size, false);
        Ok(())
    }

    /// Whether the region is still mapped: true until it is unmapped.
    pub fn is_mapped(&self) -> bool {
        self.mapping.is_some()
    }

    /// Release this region's hold on its registry entry, once.
    fn release(&mut self) -> Result<()> {
        if std::mem::replace(&mut self.released, true) {
            return Ok(());
        }
        if let Some(mapping) = self.mapping.take() {
            // munmap refused it: the memory stays mapped, unreachable.
            std::mem::forget(mapping);
            self.registry.account_mapping(self.size, false);
        }
        match self.entry {
            Some(generation) => {
                self.registry
                    .release_region(&self.key, self.system.of_key(&self.key), generation)
            }
            None => Ok(()),
        }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // Errors were logged by the registry; a destructor cannot report them.
        let _ = self.unmap();
        let _ = self.release();
    }
}
