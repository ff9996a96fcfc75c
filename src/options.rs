//! How a registry behaves: its naming policy and its unlink policy.

use crate::name::NamingPolicy;

/// Which tracked regions `unlink` and `cleanup_all` remove from the system.
///
/// A region is *owned* when this process created it (registered with
/// `owned = true`); otherwise another process, such as a Triton client,
/// created it and this process only opened it.
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
}

impl Default for Options {
    fn default() -> Self {
        Options {
            naming: NamingPolicy::platform(),
            unlink: UnlinkPolicy::default(),
        }
    }
}
