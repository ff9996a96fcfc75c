//! How a registry behaves: naming, unlinking, backend and reserved names.

use crate::name::NamingPolicy;
use crate::os::BackendKind;

/// Which tracked regions `unlink`, `cleanup_all` and closing a region remove
/// from the system.
///
/// A region is *owned* when this process created it (registered with
/// `owned = true`, or made by [`Registry::create_region`](crate::Registry::create_region));
/// otherwise another process, such as a Triton client, created it and this
/// process only opened it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum UnlinkPolicy {
    /// Only owned regions are unlinked; a region someone else created is
    /// untracked but left in place, so its creator can still use and destroy
    /// it. The default, and what Triton's server needs: its clients create
    /// the regions it maps.
    #[default]
    OwnedOnly,
    /// Every tracked region is unlinked, owned or not: the seed design's
    /// macOS behaviour. Use it only when this process is responsible for
    /// every region it tracks; it breaks clients that destroy their own
    /// regions.
    All,
}

impl UnlinkPolicy {
    /// Lower-case name of the policy, as used in messages.
    pub const fn as_str(self) -> &'static str {
        match self {
            UnlinkPolicy::OwnedOnly => "owned-only",
            UnlinkPolicy::All => "all",
        }
    }
}

/// Settings of a [`Registry`](crate::Registry).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// How keys become system names. Default: [`NamingPolicy::platform`].
    pub naming: NamingPolicy,
    /// Which regions unlink and cleanup remove. Default: owned only.
    pub unlink: UnlinkPolicy,
    /// Which system-call backend to use. Default: the environment decides.
    pub backend: BackendKind,
    /// Key prefixes refused in addition to the built-in ones
    /// (`triton_python_backend_shm_region_` and every
    /// `triton_<word>_backend_shm_region_`), compared after leading slashes.
    pub reserved_prefixes: Vec<Vec<u8>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            naming: NamingPolicy::platform(),
            unlink: UnlinkPolicy::default(),
            backend: BackendKind::default(),
            reserved_prefixes: Vec::new(),
        }
    }
}
