//! A journal file mapped `MAP_SHARED`, seen as 64-bit words.
//!
//! The owner stores its records into the mapping; the page cache holds them
//! the instant the store retires, so a reaper reads them after a SIGKILL
//! with no `write(2)` ever made. Every access is an atomic load or store,
//! so a reader in another process racing the owner gets whole words, never
//! a data race.

use std::ffi::c_void;
use std::num::NonZeroUsize;
use std::os::fd::BorrowedFd;
use std::ptr::NonNull;
use std::sync::atomic::AtomicU64;

/// A read-write shared mapping of the first `len` words of a file. The
/// mapping may reach past the end of the file, to leave room for it to
/// grow without mapping it again; touching a word past the end raises
/// SIGBUS, so the caller touches only words inside the file.
#[derive(Debug)]
pub struct SharedWords {
    base: NonNull<c_void>,
    words: usize,
}

// SAFETY: the mapping is only ever reached through `&[AtomicU64]`, which is
// Send and Sync; the struct itself is an address range and the right to
// unmap it.
unsafe impl Send for SharedWords {}
// SAFETY: as above: shared access goes through atomics only.
unsafe impl Sync for SharedWords {}

impl SharedWords {
    /// Map the first `bytes` bytes of `fd` read-write and shared. `bytes`
    /// must be a non-zero multiple of 8; it may pass the file's size (see
    /// the type's docs).
    pub fn map(fd: BorrowedFd<'_>, bytes: usize) -> Result<SharedWords, i32> {
        if bytes % 8 != 0 {
            return Err(libc::EINVAL);
        }
        let len = NonZeroUsize::new(bytes).ok_or(libc::EINVAL)?;
        // SAFETY: a fresh shared mapping of a descriptor we were handed; it
        // overlaps no Rust object and is unmapped only by our Drop.
        let base = unsafe {
            nix::sys::mman::mmap(
                None,
                len,
                nix::sys::mman::ProtFlags::PROT_READ | nix::sys::mman::ProtFlags::PROT_WRITE,
                nix::sys::mman::MapFlags::MAP_SHARED,
                fd,
                0,
            )
        }
        .map_err(|e| e as i32)?;
        Ok(SharedWords {
            base,
            words: bytes / 8,
        })
    }

    /// The mapped words.
    pub fn words(&self) -> &[AtomicU64] {
        // SAFETY: base is page-aligned (so 8-aligned), valid for `words`
        // words for as long as self lives, and only accessed atomically;
        // AtomicU64 has the layout of u64.
        unsafe { std::slice::from_raw_parts(self.base.as_ptr().cast::<AtomicU64>(), self.words) }
    }
}

impl Drop for SharedWords {
    fn drop(&mut self) {
        // SAFETY: base/len are those of our own successful mmap, and no
        // borrow of `words()` outlives self.
        let _ = unsafe { nix::sys::mman::munmap(self.base, self.words * 8) };
    }
}
