//! Properties, checked on generated inputs:
//!
//! * the seed's normalisation and the two naming policies (pure; they also
//!   run under miri, with fewer cases);
//! * the `posix` policy accepts exactly what glibc's `shm_open` accepts,
//!   checked against the real call (system calls: not under miri; glibc's
//!   rules: Linux with glibc only, ignored with that reason elsewhere, e.g.
//!   on macOS, whose kernel checks only the length);
//! * the registry's bookkeeping agrees with a small model of it, through a
//!   fake backend that stands in for the kernel (pure: runs under miri).
//!
//! Names are generated from an alphabet weighted towards `/`, `.` and `_`,
//! with lengths clustered around the limits (31 bytes for `darwin`, 255
//! after the slashes for `posix`) and any non-NUL byte mixed in.

mod common;

use common::UnlinkOnly;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::CStr;
use std::sync::Mutex;
use triton_shm::name::{self, NameError, NamingPolicy, DARWIN_NAME_MAX, POSIX_NAME_MAX};
use triton_shm::{CleanupReport, Options, Registration, Registry, Status, UnlinkPolicy, Unlinked};

/// `cases` natively, failures kept in `tests/props.regressions` (commit
/// it to replay them first); far fewer cases under miri, which interprets
/// every step and, isolated from the file system, keeps no file.
fn config(cases: u32) -> Config {
    if cfg!(miri) {
        Config {
            cases: (cases / 512).max(2),
            failure_persistence: None,
            ..Config::default()
        }
    } else {
        Config {
            cases,
            failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
            ..Config::default()
        }
    }
}

// ---------------------------------------------------------------------------
// Generators

/// Bytes of a name, never NUL: about a third `/`, some `.` and `_`, some
/// letters and digits, and a quarter any byte at all. Drawn as `u16`s and
/// mapped, which generates far faster than a union per byte; they shrink
/// towards `a`.
fn name_bytes(len: impl Into<prop::collection::SizeRange>) -> impl Strategy<Value = Vec<u8>> {
    const PLAIN: &[u8] = b"abcxyz0189-";
    prop::collection::vec(any::<u16>(), len).prop_map(|draws| {
        draws
            .into_iter()
            .map(|draw| {
                let [class, low] = draw.to_be_bytes();
                match class {
                    0..=79 => PLAIN[usize::from(low) % PLAIN.len()],
                    80..=159 => b'/',
                    160..=175 => b'.',
                    176..=191 => b'_',
                    _ => low.max(1),
                }
            })
            .collect()
    })
}

/// How many leading slashes: usually none or one, sometimes many.
fn leading_slashes() -> impl Strategy<Value = usize> {
    prop_oneof![3 => Just(0usize), 4 => Just(1usize), 2 => 2usize..4, 1 => 4usize..40]
}

/// A length after the leading slashes, clustered around the limits.
fn rest_len() -> impl Strategy<Value = usize> {
    prop_oneof![
        3 => 0usize..8,
        3 => (DARWIN_NAME_MAX - 4)..(DARWIN_NAME_MAX + 4),
        3 => (POSIX_NAME_MAX - 3)..(POSIX_NAME_MAX + 4),
        1 => 0usize..600,
    ]
}

/// What follows the leading slashes: `rest_len` bytes of `name_bytes`.
/// Long runs of those nearly always hold a `/`, so two keys in five have
/// every inner slash taken out and one in five gets a single one back, at
/// a random place: the length limits are reached without a slash too.
fn rest() -> impl Strategy<Value = Vec<u8>> {
    (rest_len(), 0u8..5, any::<prop::sample::Index>()).prop_flat_map(|(len, mode, at)| {
        name_bytes(len).prop_map(move |mut rest| {
            if mode >= 2 {
                for b in rest.iter_mut().filter(|b| **b == b'/') {
                    *b = b'x';
                }
                if mode == 4 && !rest.is_empty() {
                    let at = at.index(rest.len());
                    rest[at] = b'/';
                }
            }
            rest
        })
    })
}

/// A key: leading slashes, then `rest`.
fn key() -> impl Strategy<Value = Vec<u8>> {
    (leading_slashes(), rest()).prop_map(|(lead, rest)| slashes_then(lead, &rest))
}

/// A key built from the pieces of Triton's reserved prefixes, slashes
/// included, so that reserved and almost-reserved keys are common.
fn reservedish_key() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop::sample::select(vec![
        &b"/"[..],
        b"//",
        b"triton",
        b"_",
        b"python",
        b"pytorch",
        b"backend",
        b"shm",
        b"region",
        b"triton_python_backend_shm_region_",
        b"x",
        b"1",
    ]);
    prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

fn slashes_then(lead: usize, rest: &[u8]) -> Vec<u8> {
    let mut key = vec![b'/'; lead];
    key.extend_from_slice(rest);
    key
}

fn leading_slash_count(key: &[u8]) -> usize {
    key.iter().take_while(|&&b| b == b'/').count()
}

// ---------------------------------------------------------------------------
// Normalisation

proptest! {
    #![proptest_config(config(4096))]

    #[test]
    fn normalisation_refuses_exactly_the_keys_with_nothing_after_the_slashes(key in key()) {
        let nothing_left = leading_slash_count(&key) == key.len();
        match name::normalize(&key) {
            Ok(_) => prop_assert!(!nothing_left),
            Err(e) => {
                prop_assert!(nothing_left);
                prop_assert_eq!(e, NameError::Empty);
            }
        }
    }

    #[test]
    fn normalisation_is_idempotent(key in key()) {
        if let Ok(once) = name::normalize(&key) {
            prop_assert_eq!(name::normalize(&once), Ok(once.clone()));
        }
    }

    #[test]
    fn normalised_names_start_with_exactly_one_slash_and_hold_no_other(key in key()) {
        if let Ok(normalized) = name::normalize(&key) {
            prop_assert_eq!(normalized[0], b'/');
            prop_assert!(!normalized[1..].contains(&b'/'), "{:?}", normalized.escape_ascii().to_string());
        }
    }

    #[test]
    fn normalised_length_is_the_key_without_its_leading_slashes_plus_one(key in key()) {
        if let Ok(normalized) = name::normalize(&key) {
            prop_assert_eq!(normalized.len(), key.len() - leading_slash_count(&key) + 1);
        }
    }

    #[test]
    fn normalisation_turns_inner_slashes_into_underscores_and_keeps_every_other_byte(key in key()) {
        if let Ok(normalized) = name::normalize(&key) {
            let rest = &key[leading_slash_count(&key)..];
            for (&was, &is) in rest.iter().zip(&normalized[1..]) {
                prop_assert_eq!(is, if was == b'/' { b'_' } else { was });
            }
        }
    }

    #[test]
    fn a_nul_byte_is_refused_by_normalisation_and_both_policies(
        key in key(),
        at in any::<prop::sample::Index>(),
    ) {
        let lead = leading_slash_count(&key);
        let mut key = if key.len() == lead { slashes_then(lead, b"k") } else { key };
        // Anywhere after the leading slashes, the end included.
        key.insert(lead + at.index(key.len() - lead + 1), 0);
        prop_assert_eq!(name::normalize(&key), Err(NameError::InteriorNul));
        prop_assert_eq!(NamingPolicy::Darwin.system_name(&key), Err(NameError::InteriorNul));
        prop_assert_eq!(NamingPolicy::Posix.system_name(&key), Err(NameError::InteriorNul));
    }
}

// ---------------------------------------------------------------------------
// Naming policies

proptest! {
    #![proptest_config(config(4096))]

    #[test]
    fn darwin_is_normalisation_refused_exactly_above_31_bytes(key in key()) {
        let got = NamingPolicy::Darwin.system_name(&key);
        match name::normalize(&key) {
            Ok(normalized) if normalized.len() > DARWIN_NAME_MAX => prop_assert_eq!(
                got,
                Err(NameError::TooLong { len: normalized.len(), max: DARWIN_NAME_MAX })
            ),
            Ok(normalized) => prop_assert_eq!(got, Ok(normalized)),
            Err(e) => prop_assert_eq!(got, Err(e)),
        }
    }

    #[test]
    fn darwin_system_names_fit_in_31_bytes(key in key()) {
        if let Ok(system) = NamingPolicy::Darwin.system_name(&key) {
            prop_assert!(system.len() <= DARWIN_NAME_MAX);
        }
    }

    #[test]
    fn posix_hands_accepted_keys_to_the_os_unchanged(key in key()) {
        if let Ok(system) = NamingPolicy::Posix.system_name(&key) {
            prop_assert_eq!(system, key);
        }
    }

    #[test]
    fn identities_follow_each_kernel(key in key()) {
        let darwin = NamingPolicy::Darwin.system_name(&key);
        if let Ok(system) = &darwin {
            // XNU compares names byte for byte.
            prop_assert_eq!(NamingPolicy::Darwin.identity(system), &system[..]);
        }
        if let Ok(system) = NamingPolicy::Posix.system_name(&key) {
            // glibc strips the leading slashes; what is left has no slash.
            let identity = NamingPolicy::Posix.identity(&system);
            prop_assert_eq!(identity, &key[leading_slash_count(&key)..]);
            prop_assert!(!identity.is_empty() && !identity.contains(&b'/'));
            if let Ok(darwin) = &darwin {
                prop_assert_eq!(identity, &darwin[1..]);
            }
        }
    }

    #[test]
    fn more_leading_slashes_change_no_verdict_but_posix_length_counts_none_of_them(
        key in key(),
        more in 1usize..4,
    ) {
        let longer = slashes_then(more, &key);
        prop_assert_eq!(
            NamingPolicy::Darwin.system_name(&key),
            NamingPolicy::Darwin.system_name(&longer)
        );
        prop_assert_eq!(
            NamingPolicy::Posix.system_name(&key).map(|_| ()),
            NamingPolicy::Posix.system_name(&longer).map(|_| ())
        );
    }
}

// ---------------------------------------------------------------------------
// Reserved names

proptest! {
    #![proptest_config(config(4096))]

    #[test]
    fn reservation_ignores_leading_slashes(key in reservedish_key(), more in 1usize..4) {
        prop_assert_eq!(name::is_reserved(&key, &[]), name::is_reserved(&slashes_then(more, &key), &[]));
    }

    #[test]
    fn a_key_and_its_normalisation_are_reserved_alike(key in reservedish_key()) {
        if let Ok(normalized) = name::normalize(&key) {
            prop_assert_eq!(name::is_reserved(&key, &[]), name::is_reserved(&normalized, &[]));
        }
    }

    #[test]
    fn a_host_prefix_reserves_every_key_that_starts_with_it(
        prefix in name_bytes(1..12),
        rest in name_bytes(0..12),
        lead in 0usize..3,
    ) {
        let key = slashes_then(lead, &[&prefix[..], &rest[..]].concat());
        let canonical_prefix = &prefix[leading_slash_count(&prefix)..];
        let canonical_key = &key[leading_slash_count(&key)..];
        if !canonical_prefix.is_empty() && canonical_key.starts_with(canonical_prefix) {
            prop_assert!(name::is_reserved(&key, std::slice::from_ref(&prefix)));
            prop_assert!(name::is_reserved(&key, &[slashes_then(2, &prefix)]));
        }
    }
}

// ---------------------------------------------------------------------------
// The `posix` policy against glibc

/// What glibc's `shm_open` did with a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    /// The name passed glibc's checks (the call may still have failed in
    /// the kernel, e.g. `EEXIST` for `.`).
    Accepted,
    /// `EINVAL`: empty, or a `/` after the leading ones.
    Invalid,
    /// `ENAMETOOLONG`.
    TooLong,
}

fn policy_verdict(key: &[u8]) -> Verdict {
    match NamingPolicy::Posix.system_name(key) {
        Ok(_) => Verdict::Accepted,
        Err(NameError::TooLong { .. }) => Verdict::TooLong,
        Err(NameError::Empty | NameError::InnerSlash | NameError::InteriorNul) => Verdict::Invalid,
    }
}

/// Ask glibc: `shm_open(O_CREAT | O_EXCL | O_RDWR, 0600)`, and `shm_unlink`
/// at once what it created. `O_EXCL` means an object this creates is ours,
/// so nothing that existed before is ever unlinked.
fn glibc_verdict(key: &[u8]) -> Verdict {
    use nix::errno::Errno;
    use nix::fcntl::OFlag;
    use nix::sys::mman::{shm_open, shm_unlink};
    use nix::sys::stat::Mode;
    let name = std::ffi::CString::new(key).expect("generated names hold no NUL");
    let flags = OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDWR;
    match shm_open(name.as_c_str(), flags, Mode::S_IRUSR | Mode::S_IWUSR) {
        Ok(fd) => {
            drop(fd);
            shm_unlink(name.as_c_str()).expect("unlink the object just created");
            Verdict::Accepted
        }
        Err(Errno::EINVAL) => Verdict::Invalid,
        Err(Errno::ENAMETOOLONG) => Verdict::TooLong,
        // The name got past glibc's checks: EEXIST (`.`, `..`, or an object
        // someone else made), EACCES, EISDIR all come from the kernel.
        Err(_) => Verdict::Accepted,
    }
}

/// A marker unique to this process and call, so that a generated name long
/// enough to hold it never meets an object of another test or process.
fn unique_marker() -> Vec<u8> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "tsmprop{}x{}x",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
    .into_bytes()
}

proptest! {
    #![proptest_config(config(8192))]

    #[test]
    #[cfg_attr(miri, ignore = "calls shm_open and shm_unlink")]
    #[cfg_attr(
        not(all(target_os = "linux", target_env = "gnu")),
        ignore = "compares with glibc's shm_open: Linux (glibc) only"
    )]
    fn posix_accepts_exactly_what_glibc_accepts(lead in leading_slashes(), mut rest in rest()) {
        // Names with room for it start with a unique marker; shorter ones
        // are left as generated (O_EXCL keeps them from touching others').
        let marker = unique_marker();
        if rest.len() >= marker.len() {
            rest[..marker.len()].copy_from_slice(&marker);
        }
        let key = slashes_then(lead, &rest);
        let (policy, glibc) = (policy_verdict(&key), glibc_verdict(&key));
        let shown = format!("{:?} ({} bytes after {lead} slashes)", key.escape_ascii().to_string(), rest.len());
        if policy == Verdict::TooLong && rest.len() > POSIX_NAME_MAX + 1 {
            // Refused either way, but the errno depends on glibc's version:
            // 2.36 (measured here) gives ENAMETOOLONG, from the kernel, only
            // up to 259 bytes; longer names overflow glibc's own path buffer
            // first and get EINVAL.
            prop_assert_ne!(glibc, Verdict::Accepted, "{}", shown);
        } else {
            prop_assert_eq!(policy, glibc, "{}", shown);
        }
    }
}

// ---------------------------------------------------------------------------
// The registry's bookkeeping against a model

/// A kernel of shared-memory names and nothing else: the names that exist,
/// and the names whose `shm_unlink` is refused with `EACCES`. Under `posix`
/// it aliases leading slashes as glibc does; under `darwin` it compares
/// bytes as XNU does.
struct FakeKernel {
    state: Mutex<KernelState>,
}

#[derive(Default)]
struct KernelState {
    glibc_aliases: bool,
    objects: BTreeSet<Vec<u8>>,
    refused: BTreeSet<Vec<u8>>,
}

impl KernelState {
    fn object_of(&self, system: &[u8]) -> Vec<u8> {
        if self.glibc_aliases {
            system[leading_slash_count(system)..].to_vec()
        } else {
            system.to_vec()
        }
    }
}

impl FakeKernel {
    fn unlink(&self, name: &CStr) -> Result<(), i32> {
        let mut state = self.state.lock().unwrap();
        let object = state.object_of(name.to_bytes());
        if state.refused.contains(&object) {
            Err(libc::EACCES)
        } else if state.objects.remove(&object) {
            Ok(())
        } else {
            Err(libc::ENOENT)
        }
    }
}

/// The registry's view of [`KERNEL`].
static KERNEL_BACKEND: UnlinkOnly = UnlinkOnly(|name| KERNEL.unlink(name));

/// Only `registry_bookkeeping_agrees_with_the_model` uses it, one case at a
/// time, resetting it first.
static KERNEL: FakeKernel = FakeKernel {
    state: Mutex::new(KernelState {
        glibc_aliases: false,
        objects: BTreeSet::new(),
        refused: BTreeSet::new(),
    }),
};

/// Keys that meet every rule: aliases under each policy, refusals of each
/// kind, a reserved key, bytes that are not UTF-8.
fn model_keys() -> Vec<Vec<u8>> {
    let mut keys: Vec<Vec<u8>> = [
        &b"/a"[..],
        b"//a",
        b"a",
        b"/a/b",
        b"/a_b",
        b"a/b",
        b"/b",
        b"",
        b"///",
        b"/triton_python_backend_shm_region_1",
        b"/\xff\xfe",
    ]
    .iter()
    .map(|k| k.to_vec())
    .collect();
    keys.push(slashes_then(1, &[b'd'; DARWIN_NAME_MAX])); // 32 bytes: too long for darwin
    keys.push(slashes_then(2, &[b'p'; POSIX_NAME_MAX])); // the longest posix name
    keys.push(slashes_then(1, &[b'p'; POSIX_NAME_MAX + 1])); // too long everywhere
    keys
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Register {
        key: usize,
        owned: bool,
    },
    Unlink {
        key: usize,
    },
    CleanupAll,
    /// A client creates the object `key` reaches.
    ClientCreates {
        key: usize,
    },
    /// From now on the kernel refuses (or allows) unlinking that object.
    RefuseUnlink {
        key: usize,
        refuse: bool,
    },
}

fn op(keys: usize) -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..keys, any::<bool>()).prop_map(|(key, owned)| Op::Register { key, owned }),
        3 => (0..keys).prop_map(|key| Op::Unlink { key }),
        1 => Just(Op::CleanupAll),
        3 => (0..keys).prop_map(|key| Op::ClientCreates { key }),
        1 => (0..keys, any::<bool>()).prop_map(|(key, refuse)| Op::RefuseUnlink { key, refuse }),
    ]
}

/// What DESIGN.md says the registry does, written out plainly.
struct Model {
    naming: NamingPolicy,
    unlink: UnlinkPolicy,
    /// Object name (what the kernel compares) → the keys tracked for it, as
    /// given, each with whether it is owned.
    tracked: BTreeMap<Vec<u8>, Vec<(Vec<u8>, bool)>>,
    objects: BTreeSet<Vec<u8>>,
    refused: BTreeSet<Vec<u8>>,
    registered: u64,
    unlinked: u64,
    already_gone: u64,
    failed: u64,
    collisions_refused: u64,
    reserved_refused: u64,
}

impl Model {
    fn new(naming: NamingPolicy, unlink: UnlinkPolicy) -> Model {
        Model {
            naming,
            unlink,
            tracked: BTreeMap::new(),
            objects: BTreeSet::new(),
            refused: BTreeSet::new(),
            registered: 0,
            unlinked: 0,
            already_gone: 0,
            failed: 0,
            collisions_refused: 0,
            reserved_refused: 0,
        }
    }

    /// The name the OS sees for `key`, or the status that refuses it.
    fn system(&self, key: &[u8]) -> Result<Vec<u8>, Status> {
        self.naming.system_name(key).map_err(|e| match e {
            NameError::TooLong { .. } => Status::NAME_TOO_LONG,
            _ => Status::INVALID_NAME,
        })
    }

    /// The object `system` reaches: glibc strips leading slashes, XNU
    /// compares bytes.
    fn object(&self, system: &[u8]) -> Vec<u8> {
        match self.naming {
            NamingPolicy::Posix => system[leading_slash_count(system)..].to_vec(),
            NamingPolicy::Darwin => system.to_vec(),
        }
    }

    fn register(&mut self, key: &[u8], owned: bool) -> Result<Registration, Status> {
        if name::is_reserved(key, &[]) {
            self.reserved_refused += 1;
            return Err(Status::RESERVED_NAME);
        }
        let object = self.object(&self.system(key)?);
        let unlink = self.unlink;
        let group = self.tracked.entry(object).or_default();
        if group.iter().any(|(original, _)| original == key) {
            return Ok(Registration::AlreadyTracked);
        }
        // Two keys of one object only where no unlink can reach it.
        let may_share = |other_owned: bool| match unlink {
            UnlinkPolicy::Never => true,
            UnlinkPolicy::OwnedOnly => !owned && !other_owned,
            UnlinkPolicy::All => false,
        };
        if group
            .iter()
            .any(|(_, other_owned)| !may_share(*other_owned))
        {
            self.collisions_refused += 1;
            return Err(Status::NAME_COLLISION);
        }
        self.registered += 1;
        group.push((key.to_vec(), owned));
        Ok(Registration::Added)
    }

    /// Number of keys tracked.
    fn count(&self) -> usize {
        self.tracked.values().map(Vec::len).sum()
    }

    /// Drop `key` from the keys tracked for `object`.
    fn untrack(&mut self, object: &[u8], key: &[u8]) {
        if let Some(group) = self.tracked.get_mut(object) {
            group.retain(|(original, _)| original != key);
            if group.is_empty() {
                self.tracked.remove(object);
            }
        }
    }

    /// Apply the unlink policy to the tracked `object`; `Err` keeps it.
    fn remove(&mut self, object: &[u8], owned: bool) -> Result<Unlinked, Status> {
        let keep = match self.unlink {
            UnlinkPolicy::OwnedOnly => !owned,
            UnlinkPolicy::All => false,
            UnlinkPolicy::Never => true,
        };
        if keep {
            return Ok(Unlinked::Released);
        }
        if self.refused.contains(object) {
            self.failed += 1;
            Err(Status::PERMISSION_DENIED)
        } else if self.objects.remove(object) {
            self.unlinked += 1;
            Ok(Unlinked::Removed)
        } else {
            self.already_gone += 1;
            Ok(Unlinked::AlreadyGone)
        }
    }

    fn unlink(&mut self, key: &[u8]) -> Result<Unlinked, Status> {
        let object = self.object(&self.system(key)?);
        let owned = match self
            .tracked
            .get(&object)
            .and_then(|g| g.iter().find(|(k, _)| k == key))
        {
            Some((_, owned)) => *owned,
            None => return Err(Status::NOT_FOUND),
        };
        let outcome = self.remove(&object, owned)?;
        self.untrack(&object, key);
        Ok(outcome)
    }

    fn cleanup_all(&mut self) -> CleanupReport {
        let mut report = CleanupReport::default();
        let entries: Vec<(Vec<u8>, Vec<u8>, bool)> = self
            .tracked
            .iter()
            .flat_map(|(object, group)| {
                group
                    .iter()
                    .map(move |(key, owned)| (object.clone(), key.clone(), *owned))
            })
            .collect();
        for (object, key, owned) in entries {
            match self.remove(&object, owned) {
                Ok(Unlinked::Removed) => report.unlinked += 1,
                Ok(Unlinked::AlreadyGone) => report.already_gone += 1,
                Ok(Unlinked::Released) => report.released += 1,
                Err(_) => {
                    report.failed += 1;
                    continue;
                }
            }
            self.untrack(&object, &key);
        }
        report
    }

    /// The system names of the tracked keys, sorted.
    fn system_names(&self) -> Vec<Vec<u8>> {
        let mut names: Vec<Vec<u8>> = self
            .tracked
            .values()
            .flatten()
            .map(|(key, _)| self.system(key).expect("tracked keys are valid"))
            .collect();
        names.sort();
        names
    }
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn registry_bookkeeping_agrees_with_the_model(
        darwin in any::<bool>(),
        unlink in prop::sample::select(vec![UnlinkPolicy::OwnedOnly, UnlinkPolicy::All, UnlinkPolicy::Never]),
        ops in prop::collection::vec(op(model_keys().len()), 1..40),
    ) {
        let keys = model_keys();
        let naming = if darwin { NamingPolicy::Darwin } else { NamingPolicy::Posix };
        *KERNEL.state.lock().unwrap() = KernelState { glibc_aliases: !darwin, ..KernelState::default() };
        let options = Options { naming, unlink, journal: false, reap_on_create: false, ..Options::default() };
        let registry = Registry::with_backend(options, &KERNEL_BACKEND).expect("no journal, nothing to fail");
        let mut model = Model::new(naming, unlink);

        for op in ops {
            match op {
                Op::Register { key, owned } => prop_assert_eq!(
                    registry.register(&keys[key], owned).map_err(|e| e.status()),
                    model.register(&keys[key], owned),
                    "{:?} of {:?}", op, keys[key].escape_ascii().to_string()
                ),
                Op::Unlink { key } => prop_assert_eq!(
                    registry.unlink(&keys[key]).map_err(|e| e.status()),
                    model.unlink(&keys[key]),
                    "{:?} of {:?}", op, keys[key].escape_ascii().to_string()
                ),
                Op::CleanupAll => prop_assert_eq!(registry.cleanup_all(), model.cleanup_all()),
                Op::ClientCreates { key } => {
                    if let Ok(system) = model.system(&keys[key]) {
                        let object = model.object(&system);
                        KERNEL.state.lock().unwrap().objects.insert(object.clone());
                        model.objects.insert(object);
                    }
                }
                Op::RefuseUnlink { key, refuse } => {
                    if let Ok(system) = model.system(&keys[key]) {
                        let object = model.object(&system);
                        let mut kernel = KERNEL.state.lock().unwrap();
                        if refuse {
                            kernel.refused.insert(object.clone());
                            model.refused.insert(object);
                        } else {
                            kernel.refused.remove(&object);
                            model.refused.remove(&object);
                        }
                    }
                }
            }

            prop_assert_eq!(registry.count(), model.count());
            for key in &keys {
                let tracked = model
                    .system(key)
                    .ok()
                    .and_then(|system| model.tracked.get(&model.object(&system)))
                    .is_some_and(|group| group.iter().any(|(original, _)| original == key));
                prop_assert_eq!(registry.contains(key), tracked, "{:?}", key.escape_ascii().to_string());
            }
            let mut names = registry.system_names();
            names.sort();
            prop_assert_eq!(names, model.system_names());
            prop_assert_eq!(&KERNEL.state.lock().unwrap().objects, &model.objects);
            let stats = registry.stats();
            prop_assert_eq!(
                (stats.tracked, stats.registered, stats.unlinked, stats.already_gone, stats.failed),
                (model.count() as u64, model.registered, model.unlinked, model.already_gone, model.failed)
            );
            prop_assert_eq!(
                (stats.collisions_refused, stats.reserved_refused),
                (model.collisions_refused, model.reserved_refused)
            );
        }
    }
}
