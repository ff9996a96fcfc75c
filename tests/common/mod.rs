//! Helpers shared by the integration tests: unique names, real objects,
//! scratch state directories and what removes them, the C ABI fixture
//! ([`ffi`]).
#![allow(dead_code)]

pub mod ffi;

use std::ffi::CString;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use triton_shm::name::NamingPolicy;
use triton_shm::{journal, Options};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// Held by each test of a binary whose tests start processes, or whose
/// verdicts depend on which processes hold an object or a journal lock:
/// one such test at a time. A process started by one test holds copies of
/// every descriptor of the test process until it execs (Rust's `Command`
/// forks, or clones, then execs), so an object another test has open at
/// that moment counts as held by a live process, and a `flock` it has just
/// dropped as still locked; the reaper then, rightly, leaves that object or
/// journal alone, and the other test's count is off.
static PROCESS_TESTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Take [`PROCESS_TESTS`] for the rest of the calling test.
pub fn one_process_test_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    // A test that failed while holding it leaves nothing to repair.
    PROCESS_TESTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A word unique to this process and call, e.g. `tsm1234_7`: short enough
/// for any spelling of a name under any policy.
pub fn unique_word(tag: &str) -> String {
    format!(
        "tsm{}{}_{}",
        tag,
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A short key unique to this process and call, e.g. `/tsm1234_7`.
pub fn unique_key(tag: &str) -> String {
    format!("/{}", unique_word(tag))
}

/// `s` as a C string.
pub fn cs(s: &str) -> CString {
    CString::new(s).expect("test names have no NUL")
}

/// xorshift: a deterministic stream of choices from one seed.
pub fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Open or create the object `name` (as the OS names it) read-write, as a
/// plain client does (Triton's C++ client: `O_RDWR | O_CREAT`, which reuses
/// an object that exists; no journal, no `O_EXCL`).
pub fn open_or_create_object(name: &str) -> OwnedFd {
    use nix::fcntl::OFlag;
    use nix::sys::stat::Mode;
    nix::sys::mman::shm_open(
        cs(name).as_c_str(),
        OFlag::O_CREAT | OFlag::O_RDWR,
        Mode::from_bits_truncate(0o600),
    )
    .unwrap_or_else(|e| panic!("shm_open({name}) failed: {e}"))
}

/// Create the shared-memory object `name` (as the OS names it) with 4 KiB.
pub fn create_object(name: &str) {
    create_object_sized(name, 4096);
}

/// Create (or reuse) the object `name` and give it `size` bytes, as a plain
/// client does: `shm_open(O_RDWR | O_CREAT)`, then `ftruncate`.
pub fn create_object_sized(name: &str, size: i64) {
    let fd = open_or_create_object(name);
    nix::unistd::ftruncate(&fd, size).expect("ftruncate");
}

/// The object `name` opened read-only, or `None` when no object has the
/// name.
pub fn open_object(name: &str) -> Option<OwnedFd> {
    use nix::fcntl::OFlag;
    use nix::sys::stat::Mode;
    match nix::sys::mman::shm_open(cs(name).as_c_str(), OFlag::O_RDONLY, Mode::empty()) {
        Ok(fd) => Some(fd),
        Err(nix::errno::Errno::ENOENT) => None,
        Err(e) => panic!("shm_open({name}) failed unexpectedly: {e}"),
    }
}

/// Whether the object `name` exists.
pub fn object_exists(name: &str) -> bool {
    open_object(name).is_some()
}

/// Remove the object `name` if it exists.
pub fn remove_object(name: &str) {
    let _ = nix::sys::mman::shm_unlink(cs(name).as_c_str());
}

/// A directory of this test alone under the temporary directory,
/// `tsm-<tag>-<pid>`; whatever an earlier run left there is removed, and
/// the directory itself is not made.
pub fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tsm-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The options of a registry that journals into `dir`, under the posix
/// naming policy.
pub fn options(dir: &Path) -> Options {
    Options {
        naming: NamingPolicy::Posix,
        state_dir: Some(dir.to_owned()),
        ..Options::default()
    }
}

/// One reap of the stale journals in `dir`, by this process, on the real
/// OS.
pub fn reap(dir: &Path) -> journal::ReapReport {
    journal::reap_stale(dir, triton_shm::os::system(), false).unwrap()
}

/// Removes the objects `names` and the directory `dir` when dropped: what a
/// test leaves goes, when it passes and when an assertion fails alike.
pub struct Sweep {
    pub names: Vec<String>,
    pub dir: PathBuf,
}

impl Sweep {
    pub fn new(dir: &Path, names: &[String]) -> Sweep {
        Sweep {
            names: names.to_vec(),
            dir: dir.to_owned(),
        }
    }

    /// Only the objects `names`, no directory.
    pub fn objects(names: &[String]) -> Sweep {
        Sweep::new(Path::new(""), names)
    }
}

impl Drop for Sweep {
    fn drop(&mut self) {
        for name in &self.names {
            remove_object(name);
        }
        if !self.dir.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A backend that answers only `shm_unlink`, through the function it holds;
/// every other call fails with `ENOSYS`. For registry tests that need no
/// real object.
pub struct UnlinkOnly(pub fn(&std::ffi::CStr) -> Result<(), i32>);

impl triton_shm::os::ShmBackend for UnlinkOnly {
    fn name(&self) -> &'static str {
        "unlink-only"
    }
    fn open(
        &self,
        _: &std::ffi::CStr,
        _: triton_shm::os::OpenFlags,
    ) -> Result<std::os::fd::OwnedFd, i32> {
        Err(libc::ENOSYS)
    }
    fn set_size(&self, _: std::os::fd::BorrowedFd<'_>, _: u64) -> Result<(), i32> {
        Err(libc::ENOSYS)
    }
    fn size(&self, _: std::os::fd::BorrowedFd<'_>) -> Result<u64, i32> {
        Err(libc::ENOSYS)
    }
    fn map(
        &self,
        _: std::os::fd::BorrowedFd<'_>,
        _: u64,
        _: usize,
    ) -> Result<triton_shm::os::Mapping, i32> {
        Err(libc::ENOSYS)
    }
    fn unlink(&self, name: &std::ffi::CStr) -> Result<(), i32> {
        (self.0)(name)
    }
}
