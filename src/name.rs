//! Shared-memory names: the seed's normalisation and the naming policies.
//!
//! Pure code: nothing here makes a system call. Names are byte strings, because
//! POSIX names are; bytes that are not UTF-8 are valid names, never an error.
//!
//! Two policies decide what name reaches `shm_open`:
//!
//! * [`NamingPolicy::Darwin`] normalises the key with [`normalize`] and then
//!   enforces XNU's `PSHMNAMLEN` limit of 31 bytes, leading slash included
//!   (xnu `bsd/sys/posix_shm.h`).
//! * [`NamingPolicy::Posix`] hands the key to the OS as given, after checking it
//!   against the rules glibc's `shm_open` applies (glibc `posix/shm-directory.c`):
//!   something after the leading slashes, no other `/`, at most `NAME_MAX` (255)
//!   bytes after the leading slashes.
//!
//! Besides the system name, each policy defines a name's *identity*: two keys
//! with the same identity reach the same kernel object. Under `darwin` XNU
//! compares names byte for byte, so the identity is the system name. glibc
//! strips leading slashes, so under `posix` `/x`, `//x` and `x` share the
//! identity `x`. The registry uses identities to refuse collisions.

use std::fmt;

/// Longest `darwin` system name in bytes, leading slash included (`PSHMNAMLEN`).
pub const DARWIN_NAME_MAX: usize = 31;

/// Longest `posix` name in bytes after the leading slashes (`NAME_MAX`).
pub const POSIX_NAME_MAX: usize = 255;

/// Which rules turn a caller's key into the name handed to the OS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NamingPolicy {
    /// Normalise (one leading `/`, inner `/` become `_`), at most 31 bytes.
    Darwin,
    /// The key as given, checked against glibc's rules.
    Posix,
}

impl NamingPolicy {
    /// The policy of the platform this library was built for: `Darwin` on
    /// Apple targets, `Posix` elsewhere.
    pub const fn platform() -> Self {
        if cfg!(target_vendor = "apple") {
            NamingPolicy::Darwin
        } else {
            NamingPolicy::Posix
        }
    }

    /// Lower-case name of the policy, as used in options and messages.
    pub const fn as_str(self) -> &'static str {
        match self {
            NamingPolicy::Darwin => "darwin",
            NamingPolicy::Posix => "posix",
        }
    }

    /// The name this policy hands to `shm_open` for `key`.
    pub fn system_name(self, key: &[u8]) -> Result<Vec<u8>, NameError> {
        match self {
            NamingPolicy::Darwin => {
                let name = normalize(key)?;
                if name.len() > DARWIN_NAME_MAX {
                    return Err(NameError::TooLong {
                        len: name.len(),
                        max: DARWIN_NAME_MAX,
                    });
                }
                Ok(name)
            }
            NamingPolicy::Posix => {
                check_posix(key)?;
                Ok(key.to_vec())
            }
        }
    }

    /// The identity of the object `system_name` reaches: two names with the
    /// same identity open the same object. `system_name` must come from
    /// [`NamingPolicy::system_name`] under the same policy.
    pub fn identity(self, system_name: &[u8]) -> &[u8] {
        match self {
            NamingPolicy::Darwin => system_name,
            NamingPolicy::Posix => strip_leading_slashes(system_name),
        }
    }
}

impl fmt::Display for NamingPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a key cannot be turned into a system name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameError {
    /// Nothing is left after the leading slashes (`""`, `"/"`, `"///"`).
    Empty,
    /// The name holds a NUL byte, which no C string can carry.
    InteriorNul,
    /// A `/` after the leading ones, which glibc refuses (`posix` only).
    InnerSlash,
    /// Longer than the policy allows; `len` and `max` count the same way
    /// (`darwin`: whole name with its slash; `posix`: bytes after the slashes).
    TooLong {
        /// Length of the offending name.
        len: usize,
        /// The policy's limit.
        max: usize,
    },
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::Empty => f.write_str("the name is empty after its leading slashes"),
            NameError::InteriorNul => f.write_str("the name contains a NUL byte"),
            NameError::InnerSlash => {
                f.write_str("the name contains a '/' after its leading slashes")
            }
            NameError::TooLong { len, max } => {
                write!(f, "the name is {len} bytes long, the limit is {max}")
            }
        }
    }
}

impl std::error::Error for NameError {}

/// The seed's `NormalizeSharedMemoryName`: strip every leading `/`, replace
/// every other `/` with `_`, prepend one `/`.
///
/// Refuses with [`NameError::Empty`] when nothing is left after the leading
/// slashes, so that `""`, `"/"` and `"///"` never become the name `/`, and
/// with [`NameError::InteriorNul`] for a NUL byte. No length limit applies
/// here; [`NamingPolicy::Darwin`] adds it.
pub fn normalize(name: &[u8]) -> Result<Vec<u8>, NameError> {
    let rest = strip_leading_slashes(name);
    if rest.is_empty() {
        return Err(NameError::Empty);
    }
    if rest.contains(&0) {
        return Err(NameError::InteriorNul);
    }
    let mut out = Vec::with_capacity(rest.len() + 1);
    out.push(b'/');
    out.extend(rest.iter().map(|&b| if b == b'/' { b'_' } else { b }));
    Ok(out)
}

/// `name` without its leading slashes.
pub fn strip_leading_slashes(name: &[u8]) -> &[u8] {
    let start = name.iter().position(|&b| b != b'/').unwrap_or(name.len());
    &name[start..]
}

/// The prefix of the regions Triton's Python backend creates for itself.
pub const PYTHON_BACKEND_PREFIX: &[u8] = b"triton_python_backend_shm_region_";

/// Whether `key` names a region reserved for Triton's own backends, in any
/// slash spelling: its canonical form (leading slashes stripped), or that of
/// its normalisation (which turns inner `/` into `_`), starts with
/// `triton_<word>_backend_shm_region_` (the Python backend's prefix and
/// those of other Python-based backends) or with one of `extra` (whose own
/// leading slashes are ignored). Needs no naming policy, so it can run
/// before any other check.
pub fn is_reserved(key: &[u8], extra: &[Vec<u8>]) -> bool {
    let canonical = strip_leading_slashes(key);
    let normalized = normalize(key).unwrap_or_default();
    [canonical, strip_leading_slashes(&normalized)].iter().any(|name| {
        has_backend_prefix(name)
            || extra.iter().any(|p| {
                let p = strip_leading_slashes(p);
                !p.is_empty() && name.starts_with(p)
            })
    })
}

/// `triton_<word>_backend_shm_region_` with a non-empty word.
fn has_backend_prefix(canonical: &[u8]) -> bool {
    const HEAD: &[u8] = b"triton_";
    const TAIL: &[u8] = b"_backend_shm_region_";
    let Some(rest) = canonical.strip_prefix(HEAD) else {
        return false;
    };
    rest.windows(TAIL.len())
        .position(|w| w == TAIL)
        .is_some_and(|at| at > 0)
}

fn check_posix(key: &[u8]) -> Result<(), NameError> {
    let rest = strip_leading_slashes(key);
    if rest.is_empty() {
        return Err(NameError::Empty);
    }
    if rest.contains(&0) {
        return Err(NameError::InteriorNul);
    }
    if rest.contains(&b'/') {
        return Err(NameError::InnerSlash);
    }
    if rest.len() > POSIX_NAME_MAX {
        return Err(NameError::TooLong {
            len: rest.len(),
            max: POSIX_NAME_MAX,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        String::from_utf8(normalize(s.as_bytes()).unwrap()).unwrap()
    }

    #[test]
    fn seed_examples_normalise_byte_for_byte() {
        assert_eq!(norm("/simple_name"), "/simple_name");
        assert_eq!(norm("//double_slash"), "/double_slash");
        assert_eq!(norm("/path/with/slashes"), "/path_with_slashes");
        assert_eq!(norm("no_leading_slash"), "/no_leading_slash");
        assert_eq!(norm("///multiple///slashes///"), "/multiple___slashes___");
    }

    #[test]
    fn empty_results_are_refused_never_slash() {
        for bad in ["", "/", "///"] {
            assert_eq!(normalize(bad.as_bytes()), Err(NameError::Empty), "{bad:?}");
            for policy in [NamingPolicy::Darwin, NamingPolicy::Posix] {
                assert_eq!(policy.system_name(bad.as_bytes()), Err(NameError::Empty));
            }
        }
    }

    #[test]
    fn non_utf8_bytes_are_valid_names() {
        let key = b"/caf\xe9/\xff";
        assert_eq!(normalize(key).unwrap(), b"/caf\xe9_\xff");
        assert_eq!(
            NamingPolicy::Posix.system_name(b"/caf\xe9\xff").unwrap(),
            b"/caf\xe9\xff"
        );
    }

    #[test]
    fn nul_bytes_are_refused() {
        assert_eq!(normalize(b"/a\0b"), Err(NameError::InteriorNul));
        assert_eq!(
            NamingPolicy::Posix.system_name(b"/a\0b"),
            Err(NameError::InteriorNul)
        );
    }

    #[test]
    fn darwin_allows_31_bytes_and_refuses_32() {
        let ok = format!("/{}", "x".repeat(30));
        assert_eq!(NamingPolicy::Darwin.system_name(ok.as_bytes()).unwrap(), ok.as_bytes());
        let long = format!("/{}", "x".repeat(31));
        assert_eq!(
            NamingPolicy::Darwin.system_name(long.as_bytes()),
            Err(NameError::TooLong { len: 32, max: 31 })
        );
    }

    #[test]
    fn darwin_limit_counts_the_normalised_name() {
        // 30 bytes after many slashes still fits once the slashes collapse.
        let key = format!("////{}", "x".repeat(30));
        assert_eq!(NamingPolicy::Darwin.system_name(key.as_bytes()).unwrap().len(), 31);
    }

    #[test]
    fn posix_keeps_the_key_as_given() {
        assert_eq!(NamingPolicy::Posix.system_name(b"//x").unwrap(), b"//x");
        assert_eq!(NamingPolicy::Posix.system_name(b"x").unwrap(), b"x");
    }

    #[test]
    fn posix_refuses_inner_slash() {
        assert_eq!(
            NamingPolicy::Posix.system_name(b"/path/with/slash"),
            Err(NameError::InnerSlash)
        );
    }

    #[test]
    fn posix_allows_255_bytes_after_slashes_and_refuses_256() {
        let ok = format!("//{}", "y".repeat(255));
        assert!(NamingPolicy::Posix.system_name(ok.as_bytes()).is_ok());
        let long = format!("/{}", "y".repeat(256));
        assert_eq!(
            NamingPolicy::Posix.system_name(long.as_bytes()),
            Err(NameError::TooLong { len: 256, max: 255 })
        );
    }

    #[test]
    fn identities_follow_each_kernel() {
        let p = NamingPolicy::Posix;
        assert_eq!(p.identity(b"//x"), p.identity(b"/x"));
        assert_eq!(p.identity(b"x"), b"x");
        let d = NamingPolicy::Darwin;
        let a = d.system_name(b"/a/b").unwrap();
        let b = d.system_name(b"/a_b").unwrap();
        assert_eq!(d.identity(&a), d.identity(&b));
    }

    #[test]
    fn reserved_prefixes_are_found_in_every_slash_spelling() {
        for key in [
            "triton_python_backend_shm_region_1",
            "/triton_python_backend_shm_region_1",
            "//triton_python_backend_shm_region_1",
            "///triton_pytorch_backend_shm_region_x",
        ] {
            assert!(is_reserved(key.as_bytes(), &[]), "{key}");
        }
        // Inner slashes that normalisation turns into the prefix.
        assert!(is_reserved(b"/triton/python/backend/shm/region/1", &[]));
        for fine in ["/triton__backend_shm_region_", "/my_triton_python_backend_shm_region_", "/input0"] {
            assert!(!is_reserved(fine.as_bytes(), &[]), "{fine}");
        }
        let extra = vec![b"/host_private_".to_vec()];
        assert!(is_reserved(b"//host_private_7", &extra));
        assert!(!is_reserved(b"//host_public_7", &extra));
    }

    #[test]
    fn platform_policy_matches_target() {
        let expected = if cfg!(target_vendor = "apple") { "darwin" } else { "posix" };
        assert_eq!(NamingPolicy::platform().as_str(), expected);
    }
}
