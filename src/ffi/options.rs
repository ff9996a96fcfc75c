//! `triton_shm_options`: how a registry behaves, as C sets it.

use super::{boundary, pointers};
use crate::name::NamingPolicy;
use crate::options::{Options, UnlinkPolicy};
use crate::os::BackendKind;
use crate::status::{Error, Result, Status};
use std::ffi::c_char;
use std::mem::{offset_of, size_of};
use std::os::unix::ffi::OsStrExt;

/// `naming_policy`: Darwin on Apple platforms, POSIX elsewhere.
pub const TRITON_SHM_NAMING_PLATFORM: u32 = 0;
/// `naming_policy`: normalise names (one leading `/`, inner `/` become
/// `_`) and enforce macOS's 31-byte limit, on any platform.
pub const TRITON_SHM_NAMING_DARWIN: u32 = 1;
/// `naming_policy`: hand names to the OS as given, checked against glibc's
/// rules (something after the leading slashes, no other `/`, at most 255
/// bytes after the slashes).
pub const TRITON_SHM_NAMING_POSIX: u32 = 2;

/// `unlink_policy`: unlink and cleanup remove only regions this process
/// created (registered as owned); others are untracked but left in place.
/// The default.
pub const TRITON_SHM_UNLINK_OWNED_ONLY: u32 = 0;
/// `unlink_policy`: unlink and cleanup remove every tracked region, owned or
/// not (the seed design's macOS behaviour).
pub const TRITON_SHM_UNLINK_ALL: u32 = 1;
/// `unlink_policy`: nothing is ever unlinked; unlink and cleanup only
/// untrack (the seed's proposed option to disable automatic unlinking).
pub const TRITON_SHM_UNLINK_NEVER: u32 = 2;

/// `backend`: the `TRITON_SHM_BACKEND` environment variable decides
/// (`system` or `xnu-model`); unset means the real OS. The default. Only a
/// library built with the `xnu-model` feature (a test build, on Linux)
/// reads the variable; a library built as it ships ignores it and uses the
/// real OS.
pub const TRITON_SHM_BACKEND_FROM_ENV: u32 = 0;
/// `backend`: the real operating system.
pub const TRITON_SHM_BACKEND_SYSTEM: u32 = 1;
/// `backend`: the model of macOS semantics, for tests on Linux; only in
/// libraries built with the `xnu-model` feature.
pub const TRITON_SHM_BACKEND_XNU_MODEL: u32 = 2;

/// A `u32` field of `triton_shm_options` and the codes it takes: the one
/// list that reading the caller's struct and filling it both go through.
struct Codes<T: 'static> {
    /// The field's name, for messages.
    field: &'static str,
    /// The constants it takes, for messages.
    family: &'static str,
    /// Each code and what it stands for. Where two codes stand for one value
    /// (`TRITON_SHM_NAMING_PLATFORM` and the platform's own policy), filling
    /// writes the first listed.
    table: &'static [(u32, T)],
}

/// One `Codes` constant for each `NAME: type, "field", "family" { code =>
/// value, ... }`.
macro_rules! codes {
    ($($name:ident: $t:ty, $field:literal, $family:literal {
        $($code:ident => $value:expr),+ $(,)?
    })+) => {
        $(const $name: Codes<$t> = Codes {
            field: $field,
            family: $family,
            table: &[$(($code, $value)),+],
        };)+
    };
}

codes! {
    NAMING: NamingPolicy, "naming_policy", "TRITON_SHM_NAMING_*" {
        TRITON_SHM_NAMING_PLATFORM => NamingPolicy::platform(),
        TRITON_SHM_NAMING_DARWIN => NamingPolicy::Darwin,
        TRITON_SHM_NAMING_POSIX => NamingPolicy::Posix,
    }
    UNLINK: UnlinkPolicy, "unlink_policy", "TRITON_SHM_UNLINK_*" {
        TRITON_SHM_UNLINK_OWNED_ONLY => UnlinkPolicy::OwnedOnly,
        TRITON_SHM_UNLINK_ALL => UnlinkPolicy::All,
        TRITON_SHM_UNLINK_NEVER => UnlinkPolicy::Never,
    }
    BACKEND: BackendKind, "backend", "TRITON_SHM_BACKEND_*" {
        TRITON_SHM_BACKEND_FROM_ENV => BackendKind::FromEnvironment,
        TRITON_SHM_BACKEND_SYSTEM => BackendKind::System,
        TRITON_SHM_BACKEND_XNU_MODEL => BackendKind::XnuModel,
    }
}

impl<T: Copy + PartialEq + std::fmt::Debug> Codes<T> {
    /// What the caller's `code` stands for.
    fn value(&self, code: u32) -> Result<T> {
        let message = || format!("{} {code} is not one of {}", self.field, self.family);
        let (_, value) = self.find(|&(c, _)| c == code, Status::INVALID_ARGUMENT, message)?;
        Ok(value)
    }

    /// The code the caller reads for `value`: the first listed for it.
    fn code(&self, value: T) -> Result<u32> {
        let message = || format!("{} has no code for {value:?}", self.field);
        let (code, _) = self.find(|&(_, v)| v == value, Status::INTERNAL, message)?;
        Ok(code)
    }

    /// The first entry that `matches`, or an error with `status`.
    fn find(
        &self,
        matches: impl Fn(&(u32, T)) -> bool,
        status: Status,
        message: impl FnOnce() -> String,
    ) -> Result<(u32, T)> {
        let found = self.table.iter().copied().find(matches);
        found.ok_or_else(|| Error::new(status, message()))
    }
}

/// Settings for `triton_shm_registry_new`. Always fill it with
/// `triton_shm_options_init` first, then change the fields you need: fields
/// may be appended in later minor versions, and `struct_size` tells the
/// library which ones the caller knows.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(non_camel_case_types)]
pub struct triton_shm_options {
    /// `sizeof(triton_shm_options)` as the caller compiled it; set by
    /// `triton_shm_options_init`.
    pub struct_size: usize,
    /// One of `TRITON_SHM_NAMING_*`. Default: `TRITON_SHM_NAMING_PLATFORM`.
    pub naming_policy: u32,
    /// One of `TRITON_SHM_UNLINK_*`. Default: `TRITON_SHM_UNLINK_OWNED_ONLY`.
    pub unlink_policy: u32,
    /// One of `TRITON_SHM_BACKEND_*`. Default: `TRITON_SHM_BACKEND_FROM_ENV`.
    pub backend: u32,
    /// Extra key prefixes to refuse with `TRITON_SHM_RESERVED_NAME`, besides
    /// the built-in `triton_<word>_backend_shm_region_`; compared after
    /// leading slashes. An array of `reserved_prefix_count` NUL-terminated
    /// strings, copied by `triton_shm_registry_new`. Default: NULL.
    pub reserved_prefixes: *const *const c_char,
    /// Number of entries in `reserved_prefixes`. Default: 0.
    pub reserved_prefix_count: usize,
    /// 1: keep a crash-safe journal of owned regions in `state_dir` (real
    /// OS backend only); 0: don't. Default: 1 (`triton_shm_options_from_env`:
    /// `TRITON_SHM_JOURNAL`).
    pub journal: u32,
    /// 1: when the registry first needs a journal (its first owned
    /// region), reap the regions listed in the journals of dead owners;
    /// 0: don't. Default: 1
    /// (`triton_shm_options_from_env`: `TRITON_SHM_REAP_ON_CREATE`).
    pub reap_on_create: u32,
    /// The state directory for journals, a NUL-terminated path copied by
    /// `triton_shm_registry_new`. NULL (the default): `triton-shm-<uid>`
    /// under the temporary directory (`triton_shm_options_from_env` points it
    /// at `TRITON_SHM_STATE_DIR` when that is set).
    pub state_dir: *const c_char,
}

impl Default for triton_shm_options {
    fn default() -> Self {
        triton_shm_options {
            struct_size: size_of::<triton_shm_options>(),
            naming_policy: TRITON_SHM_NAMING_PLATFORM,
            unlink_policy: TRITON_SHM_UNLINK_OWNED_ONLY,
            backend: TRITON_SHM_BACKEND_FROM_ENV,
            reserved_prefixes: std::ptr::null(),
            reserved_prefix_count: 0,
            journal: 1,
            reap_on_create: 1,
            state_dir: std::ptr::null(),
        }
    }
}

impl triton_shm_options {
    /// The C defaults with the environment's choices folded in.
    fn from_env() -> Result<Self> {
        let env = Options::from_env()?;
        Ok(triton_shm_options {
            // The platform's own policy stays "platform", whether the
            // variable named it or left it unset: NAMING lists it first.
            naming_policy: NAMING.code(env.naming)?,
            unlink_policy: UNLINK.code(env.unlink)?,
            journal: u32::from(env.journal),
            reap_on_create: u32::from(env.reap_on_create),
            state_dir: match env.state_dir {
                Some(dir) => interned_state_dir(dir.as_os_str().as_bytes())?,
                None => std::ptr::null(),
            },
            ..triton_shm_options::default()
        })
    }
}

/// A NUL-terminated copy of `dir` that lives as long as the process, so
/// that `triton_shm_options_from_env` can hand the caller a pointer it never
/// frees. Each distinct directory is stored once, so the memory kept is
/// bounded by the directories the environment named, not by the calls.
fn interned_state_dir(dir: &[u8]) -> Result<*const c_char> {
    use std::ffi::CString;
    static INTERNED: parking_lot::Mutex<Vec<&'static std::ffi::CStr>> =
        parking_lot::Mutex::new(Vec::new());
    let owned = CString::new(dir).map_err(|_| {
        Error::new(
            Status::INVALID_ARGUMENT,
            "TRITON_SHM_STATE_DIR holds a NUL byte",
        )
    })?;
    let mut interned = INTERNED.lock();
    if let Some(found) = interned.iter().find(|c| c.to_bytes() == dir) {
        return Ok(found.as_ptr());
    }
    let leaked: &'static std::ffi::CStr = Box::leak(owned.into_boxed_c_str());
    interned.push(leaked);
    Ok(leaked.as_ptr())
}

fn flag(name: &str, value: u32) -> Result<bool> {
    match value {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(Error::new(
            Status::INVALID_ARGUMENT,
            format!("{name} is {other}; use 0 or 1"),
        )),
    }
}

/// The size of the first published layout. Later minor versions append
/// fields and keep accepting callers compiled against this one.
const MIN_STRUCT_SIZE: usize =
    offset_of!(triton_shm_options, state_dir) + size_of::<*const c_char>();

impl triton_shm_options {
    /// # Safety
    /// `reserved_prefixes` is NULL or points to `reserved_prefix_count`
    /// pointers, each NULL or a NUL-terminated string.
    unsafe fn to_options(self) -> Result<Options> {
        let naming = NAMING.value(self.naming_policy)?;
        let unlink = UNLINK.value(self.unlink_policy)?;
        let backend = BACKEND.value(self.backend)?;
        // SAFETY: the array holds reserved_prefix_count pointers per this
        // function's contract.
        let items = unsafe {
            pointers::slice(
                self.reserved_prefixes,
                self.reserved_prefix_count,
                "reserved_prefixes",
                "reserved_prefix_count",
            )
        }?;
        let mut reserved_prefixes = Vec::with_capacity(items.len());
        for &item in items {
            // SAFETY: each entry is NULL or a NUL-terminated string.
            let prefix = unsafe { pointers::c_bytes(item, "reserved_prefixes[i]") }?;
            reserved_prefixes.push(prefix.to_vec());
        }
        let state_dir = if self.state_dir.is_null() {
            None
        } else {
            // SAFETY: non-NULL, and a NUL-terminated string per the contract.
            let bytes = unsafe { pointers::c_bytes(self.state_dir, "state_dir") }?;
            Some(std::path::PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
        };
        Ok(Options {
            naming,
            unlink,
            backend,
            reserved_prefixes,
            journal: flag("journal", self.journal)?,
            state_dir,
            reap_on_create: flag("reap_on_create", self.reap_on_create)?,
        })
    }
}

/// Read the caller's options, honouring its `struct_size`; NULL gives the
/// defaults.
///
/// # Safety
/// `opts` is NULL or points to at least `opts->struct_size` readable bytes
/// that start with a `size_t`, and its pointer fields are valid as their
/// docs say.
pub(crate) unsafe fn read(opts: *const triton_shm_options) -> Result<Options> {
    if opts.is_null() {
        // SAFETY: the defaults hold no pointers.
        return unsafe { triton_shm_options::default().to_options() };
    }
    // SAFETY: non-NULL, and the struct starts with its size per the contract.
    let caller_size = unsafe { pointers::leading_size(opts) };
    if caller_size < MIN_STRUCT_SIZE || caller_size > size_of::<triton_shm_options>() {
        return Err(Error::new(
            Status::INVALID_ARGUMENT,
            format!(
                "options struct_size is {caller_size}; this library accepts {MIN_STRUCT_SIZE} to {} \
                 (fill the struct with triton_shm_options_init)",
                size_of::<triton_shm_options>()
            ),
        ));
    }
    let mut copy = triton_shm_options::default();
    // SAFETY: the caller's struct has `caller_size` readable bytes per the
    // contract; its fields are integers and raw pointers, valid whatever
    // their bytes (the pointers are checked when they are read).
    unsafe { pointers::read_sized(opts, caller_size, &mut copy) };
    // SAFETY: the pointer fields are as the caller's contract promises.
    unsafe { copy.to_options() }
}

/// Fill the caller's options struct with the library's defaults and set
/// `struct_size`. No environment variable is read: a host that wants the
/// `TRITON_SHM_*` variables calls `triton_shm_options_from_env` instead.
/// (Only `backend`'s default, `TRITON_SHM_BACKEND_FROM_ENV`, consults
/// `TRITON_SHM_BACKEND` when the registry is created, and only in test
/// builds with the `xnu-model` feature, where it chooses between the real OS
/// and the model of macOS; it unlinks nothing.)
///
/// Arguments: `opts` the struct; `opts_size` must be `sizeof *opts` as the
/// caller compiled it (`TRITON_SHM_OPTIONS_INIT(&opts)` passes it), so a
/// caller built against an older, smaller struct is never written past its
/// end; a caller built against a newer, larger one gets zeroes in the
/// fields this library does not know, and `struct_size` says how many
/// bytes it does.
///
/// Returns `TRITON_SHM_OK`; `TRITON_SHM_NULL_ARGUMENT` if `opts` is NULL;
/// `TRITON_SHM_INVALID_ARGUMENT` if `opts_size` is smaller than the first
/// published layout. `*opts` is written only on success.
///
/// # Safety
/// `opts` is NULL or writable for `opts_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_options_init(
    opts: *mut triton_shm_options,
    opts_size: usize,
) -> Status {
    // SAFETY: forwarded from this function's contract.
    boundary::status(|| unsafe { fill(opts, opts_size, triton_shm_options::default()) })
}

/// Fill the caller's options struct like `triton_shm_options_init`, then
/// apply the `TRITON_SHM_*` environment variables that are set: the host
/// opts in to letting its environment choose. `TRITON_SHM_NAMING`
/// (`platform`, `darwin`, `posix`), `TRITON_SHM_UNLINK_POLICY`
/// (`owned-only`, `never`; `all` is refused, so the environment can never
/// make a registry unlink regions it did not create), `TRITON_SHM_JOURNAL`
/// and `TRITON_SHM_REAP_ON_CREATE` (`on`/`off`), `TRITON_SHM_STATE_DIR` (a
/// directory; `state_dir` then points to a copy the library keeps for the
/// life of the process, never to be freed).
///
/// Arguments: as for `triton_shm_options_init`.
///
/// Returns `TRITON_SHM_OK`; `TRITON_SHM_NULL_ARGUMENT` if `opts` is NULL;
/// `TRITON_SHM_INVALID_ARGUMENT` if `opts_size` is too small, or a variable
/// holds a value that is not allowed (the message names the variable and
/// the values it takes). `*opts` is written only on success, so a host can
/// report the message and carry on with `triton_shm_options_init`'s
/// defaults.
///
/// # Safety
/// `opts` is NULL or writable for `opts_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_options_from_env(
    opts: *mut triton_shm_options,
    opts_size: usize,
) -> Status {
    boundary::status(|| {
        pointers::require_out(opts, "opts")?;
        check_size(opts_size)?;
        let filled = triton_shm_options::from_env()?;
        // SAFETY: forwarded from this function's contract.
        unsafe { fill(opts, opts_size, filled) }
    })
}

fn check_size(opts_size: usize) -> Result<()> {
    if opts_size < MIN_STRUCT_SIZE {
        return Err(Error::new(
            Status::INVALID_ARGUMENT,
            format!(
                "opts_size is {opts_size}; the options struct has at least {MIN_STRUCT_SIZE} \
                 bytes (pass sizeof *opts, or use TRITON_SHM_OPTIONS_INIT)"
            ),
        ));
    }
    Ok(())
}

/// Copy `filled`, with `struct_size` set, into the caller's struct, and zero
/// what a larger caller struct (a newer header's) has after it.
///
/// # Safety
/// `opts` is NULL or writable for `opts_size` bytes.
unsafe fn fill(
    opts: *mut triton_shm_options,
    opts_size: usize,
    filled: triton_shm_options,
) -> Result<()> {
    pointers::require_out(opts, "opts")?;
    check_size(opts_size)?;
    let filled = triton_shm_options {
        struct_size: opts_size.min(size_of::<triton_shm_options>()),
        ..filled
    };
    // SAFETY: `opts` is writable for `opts_size` bytes per the contract.
    unsafe { pointers::write_sized(opts, opts_size, &filled) };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads_back<T: Copy + PartialEq + std::fmt::Debug>(codes: &Codes<T>, values: &[T]) {
        for &value in values {
            let code = codes.code(value).unwrap();
            assert_eq!(codes.value(code).unwrap(), value, "{}", codes.field);
        }
    }

    #[test]
    fn every_value_has_a_code_that_reads_back_as_it() {
        reads_back(&NAMING, &[NamingPolicy::Darwin, NamingPolicy::Posix]);
        reads_back(
            &UNLINK,
            &[
                UnlinkPolicy::OwnedOnly,
                UnlinkPolicy::All,
                UnlinkPolicy::Never,
            ],
        );
        reads_back(
            &BACKEND,
            &[
                BackendKind::FromEnvironment,
                BackendKind::System,
                BackendKind::XnuModel,
            ],
        );
    }

    #[test]
    fn the_platform_policy_is_filled_in_as_platform() {
        assert_eq!(
            NAMING.code(NamingPolicy::platform()).unwrap(),
            TRITON_SHM_NAMING_PLATFORM
        );
    }

    #[test]
    fn an_unknown_code_names_the_field_and_its_constants() {
        let err = UNLINK.value(7).unwrap_err();
        assert_eq!(err.status(), Status::INVALID_ARGUMENT);
        assert_eq!(
            err.message(),
            "unlink_policy 7 is not one of TRITON_SHM_UNLINK_*"
        );
    }
}
