//! A mapped range of a shared-memory object, unmapped on drop.

use std::ffi::c_void;
use std::ptr::NonNull;

/// A `MAP_SHARED` read-write mapping. It records the base and length that
/// `mmap` returned, which is what `munmap` needs (macOS refuses to unmap an
/// unaligned address), and where the caller's data starts inside it.
#[derive(Debug)]
pub struct Mapping {
    base: NonNull<c_void>,
    len: usize,
    data_offset: usize,
}

// SAFETY: a Mapping is an address range plus the right to unmap it; the
// memory is shared memory, meant to be touched from any thread, and Mapping
// itself has no thread-affine state.
unsafe impl Send for Mapping {}
// SAFETY: &Mapping only hands out the raw address and copies bytes; callers
// that share the memory synchronise as they would across processes.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Take ownership of a mapping of `len` bytes at `base`, whose data
    /// starts `data_offset` bytes in.
    ///
    /// # Safety
    /// `base`/`len` were returned by a successful `mmap` and are unmapped by
    /// nobody else; `data_offset < len`.
    pub(crate) unsafe fn from_raw(base: NonNull<c_void>, len: usize, data_offset: usize) -> Self {
        Mapping {
            base,
            len,
            data_offset,
        }
    }

    /// The caller's data: the byte at the offset asked for.
    pub fn data(&self) -> *mut u8 {
        // SAFETY: data_offset < len, so the result stays inside the mapping.
        unsafe { self.base.as_ptr().cast::<u8>().add(self.data_offset) }
    }

    /// Bytes from [`Mapping::data`] to the end of the mapping.
    pub fn data_len(&self) -> usize {
        self.len - self.data_offset
    }

    /// Copy `bytes` into the data at `at`. Returns false, copying nothing,
    /// if the range does not fit.
    pub fn write_at(&self, at: usize, bytes: &[u8]) -> bool {
        if at
            .checked_add(bytes.len())
            .is_none_or(|end| end > self.data_len())
        {
            return false;
        }
        // SAFETY: the range was checked to lie inside the mapping, which is
        // writable; the source is a Rust slice, not the mapping (`copy`
        // tolerates overlap anyway).
        unsafe { std::ptr::copy(bytes.as_ptr(), self.data().add(at), bytes.len()) };
        true
    }

    /// Copy the data at `at` into `out`. Returns false, copying nothing, if
    /// the range does not fit.
    pub fn read_at(&self, at: usize, out: &mut [u8]) -> bool {
        if at
            .checked_add(out.len())
            .is_none_or(|end| end > self.data_len())
        {
            return false;
        }
        // SAFETY: the range was checked to lie inside the readable mapping.
        unsafe { std::ptr::copy(self.data().add(at), out.as_mut_ptr(), out.len()) };
        true
    }
}

impl Mapping {
    /// Give up ownership without unmapping: the base `mmap` returned, the
    /// length mapped, and where the data starts in it, as
    /// [`Mapping::from_raw`] takes them back. Whoever holds them now
    /// unmaps the range.
    pub(crate) fn into_raw(self) -> (NonNull<c_void>, usize, usize) {
        let this = std::mem::ManuallyDrop::new(self);
        (this.base, this.len, this.data_offset)
    }

    /// Unmap now, reporting a failure. On failure the mapping is still in
    /// place and comes back with the errno, so the caller can keep it (and
    /// try again) instead of losing track of mapped memory.
    pub fn unmap(self) -> Result<(), (Mapping, i32)> {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: base/len came from a successful mmap that this value owns
        // exclusively (see from_raw); `this` is never dropped, so the range
        // is unmapped at most once, here, or handed back on failure.
        match unsafe { nix::sys::mman::munmap(this.base, this.len) } {
            Ok(()) => Ok(()),
            Err(errno) => Err((std::mem::ManuallyDrop::into_inner(this), errno as i32)),
        }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: base/len came from a successful mmap that this value owns
        // exclusively (see from_raw), so nothing else unmaps it. A failure
        // here (EINVAL) would mean the invariant is broken; there is nothing
        // useful to do with it in a destructor.
        let _ = unsafe { nix::sys::mman::munmap(self.base, self.len) };
    }
}
