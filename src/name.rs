//! Shared-memory names: the seed's normalisation and the naming policies.
//!
//! Pure code: nothing here makes a system call. Names are byte strings, because
//! POSIX names are; bytes that are not UTF-8 are valid names, never an error.
//!
//! Two policies decide what name reaches `shm_open`:
//!
//! * [`NamingPolicy::Darwin`] normalises the key with [`normalize`] and then
//!   enforces XNU's `PSHMNAMLEN` limit of 31 bytes, leading slash included
//!   (xnu `bsd/sys/posix_shm.h`). The limit is the only rule the kernel
//!   checks: a name without a leading `/` or with inner ones is a valid XNU
//!   name. "One leading `/`, no other" is the seed's convention, which keeps
//!   names portable; it is not a kernel rule.
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

use std::borrow::Cow;
use std::ffi::CStr;
use std::fmt;
use std::mem::MaybeUninit;

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
        self.system_name_cow(key).map(Cow::into_owned)
    }

    /// [`NamingPolicy::system_name`] without a copy when the system name is
    /// the key itself (`posix`).
    pub fn system_name_cow(self, key: &[u8]) -> Result<Cow<'_, [u8]>, NameError> {
        match self {
            NamingPolicy::Darwin => {
                let name = Normalized::new(key)?;
                if name.len() > DARWIN_NAME_MAX {
                    return Err(NameError::TooLong {
                        len: name.len(),
                        max: DARWIN_NAME_MAX,
                    });
                }
                Ok(Cow::Owned(name.to_vec()))
            }
            NamingPolicy::Posix => {
                check_posix(key)?;
                Ok(Cow::Borrowed(key))
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

impl NameError {
    /// The library's error for this refusal of `key`: its status
    /// ([`Status::NAME_TOO_LONG`](crate::Status::NAME_TOO_LONG) or
    /// [`Status::INVALID_NAME`](crate::Status::INVALID_NAME)) and a message
    /// naming the key and `context` (the policy that refused it).
    pub(crate) fn for_key(self, key: &[u8], context: &str) -> crate::Error {
        let status = match self {
            NameError::TooLong { .. } => crate::Status::NAME_TOO_LONG,
            NameError::Empty | NameError::InteriorNul | NameError::InnerSlash => {
                crate::Status::INVALID_NAME
            }
        };
        crate::Error::new(
            status,
            format!(
                "invalid shared-memory name '{}' ({context}): {self}",
                key.escape_ascii()
            ),
        )
    }
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::Empty => f.write_str("the name is empty after its leading slashes"),
            NameError::InteriorNul => f.write_str("the name contains a NUL byte"),
            NameError::InnerSlash => {
                f.write_str("the name contains a '/' after its leading slashes")
            }
            NameError::TooLong { len, max } if *max == DARWIN_NAME_MAX => write!(
                f,
                "the name is {len} bytes long, the limit is {max} on macOS (PSHMNAMLEN, \
                 counting the leading '/'; Python's multiprocessing.shared_memory, which \
                 Triton's Python client uses, prepends '/' to every key, so a Python \
                 client's key is at most 30 bytes)"
            ),
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
    Ok(Normalized::new(name)?.to_vec())
}

/// A key checked for normalisation, not yet written anywhere: lets a caller
/// learn the length and write the result into its own buffer without an
/// allocation (the C ABI writes straight into the caller's buffer).
#[derive(Clone, Copy, Debug)]
pub struct Normalized<'a> {
    /// The key after its leading slashes; not empty, no NUL.
    rest: &'a [u8],
}

impl<'a> Normalized<'a> {
    /// Check `name` as [`normalize`] does.
    pub fn new(name: &'a [u8]) -> Result<Self, NameError> {
        let rest = strip_leading_slashes(name);
        if rest.is_empty() {
            return Err(NameError::Empty);
        }
        if has_byte(rest, 0) {
            return Err(NameError::InteriorNul);
        }
        Ok(Normalized { rest })
    }

    /// [`Normalized::new`] for a C string, which cannot hold a NUL byte, so
    /// only emptiness is checked.
    pub fn from_c_str(name: &'a std::ffi::CStr) -> Result<Self, NameError> {
        let rest = strip_leading_slashes(name.to_bytes());
        if rest.is_empty() {
            return Err(NameError::Empty);
        }
        Ok(Normalized { rest })
    }

    /// Length of the normalised name in bytes, its leading slash included.
    #[allow(clippy::len_without_is_empty)] // never empty: at least "/x"
    pub fn len(&self) -> usize {
        self.rest.len() + 1
    }

    /// Write the normalised name into the first [`Normalized::len`] bytes of
    /// `out`, which must hold at least that many (fewer is a bug: panics).
    /// Lets a caller fill a buffer of its own without an allocation.
    pub fn write_to(&self, out: &mut [MaybeUninit<u8>]) {
        let (slash, tail) = out[..self.len()].split_first_mut().expect("len() >= 1");
        slash.write(b'/');
        for_each_replaced(self.rest, |at, bytes| {
            for (dst, &b) in tail[at..at + bytes.len()].iter_mut().zip(bytes) {
                dst.write(b);
            }
        });
    }

    /// The normalised name as a new vector.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = vec![b'/'; self.len()];
        let tail = &mut out[1..];
        for_each_replaced(self.rest, |at, bytes| {
            tail[at..at + bytes.len()].copy_from_slice(bytes);
        });
        out
    }
}

/// Hand `emit` the bytes of `src` with every `/` turned into `_`, as
/// `(offset in src, bytes)` pieces that together cover `src` (they may
/// overlap, with the same bytes where they do). Eight bytes at a time:
/// names are mostly 8 to 40 bytes, too short for vector loops to pay off.
/// `src` is only read and the output only written, so the overlapping last
/// word never waits on a store.
fn for_each_replaced(src: &[u8], mut emit: impl FnMut(usize, &[u8])) {
    let len = src.len();
    if len < 8 {
        let mut short = [0u8; 8];
        for (dst, &b) in short.iter_mut().zip(src) {
            *dst = if b == b'/' { b'_' } else { b };
        }
        emit(0, &short[..len]);
        return;
    }
    let mut at = 0;
    loop {
        // The last word may overlap the one before it.
        let start = at.min(len - 8);
        let word: [u8; 8] = src[start..start + 8].try_into().expect("8 bytes");
        emit(
            start,
            &replace_slashes_in_word(u64::from_le_bytes(word)).to_le_bytes(),
        );
        at += 8;
        if at >= len {
            return;
        }
    }
}

/// Whether `bytes` holds `byte`.
fn has_byte(bytes: &[u8], byte: u8) -> bool {
    holds_bytes(bytes, [byte, byte])[0]
}

/// Whether `bytes` holds each of the two `wanted` bytes, in one pass: eight
/// bytes at a time, then the rest one by one. Names are short: a few word
/// operations cost less here than calls to `memchr`, and, unlike a
/// vectorised byte loop, stay few at the library's size-optimised level.
fn holds_bytes(bytes: &[u8], wanted: [u8; 2]) -> [bool; 2] {
    let patterns = wanted.map(|byte| u64::from_ne_bytes([byte; 8]));
    let mut marks = [0u64; 2];
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        // Always eight bytes: `chunks_exact` gives no other.
        let eight: [u8; 8] = word.try_into().unwrap_or([!wanted[0]; 8]);
        let word = u64::from_ne_bytes(eight);
        marks[0] |= marks_zero_bytes(word ^ patterns[0]);
        marks[1] |= marks_zero_bytes(word ^ patterns[1]);
    }
    let mut found = [marks[0] != 0, marks[1] != 0];
    for &b in words.remainder() {
        found[0] |= b == wanted[0];
        found[1] |= b == wanted[1];
    }
    found
}

/// 0x80 in exactly the bytes of `word` that are zero, 0 in the others (no
/// borrow crosses bytes, unlike the usual zero test).
fn marks_zero_bytes(word: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    !(((word & LOW7) + LOW7) | word | LOW7)
}

/// Every `/` among the eight bytes of `word` turned into `_`, without a
/// branch.
fn replace_slashes_in_word(word: u64) -> u64 {
    const SLASHES: u64 = 0x2f2f_2f2f_2f2f_2f2f;
    // Zero bytes of `word ^ SLASHES` are the slashes.
    let high = marks_zero_bytes(word ^ SLASHES);
    // '/' + 0x30 = '_', and no byte carries into the next.
    word + (high >> 7) * u64::from(b'_' - b'/')
}

/// Whether the C string `key`, under the `posix` policy, is a system name
/// as it stands and can name no region reserved for Triton's backends:
/// after its leading slashes it is not empty, at most [`POSIX_NAME_MAX`]
/// bytes long, holds no `/` (a C string holds no NUL), and does not start
/// with `triton`. One pass, for the open path, which then skips the checks
/// that give each refusal its reason; a key this answers `false` for goes
/// through them. It implies that [`NamingPolicy::Posix`] accepts `key` as
/// its own system name and that [`is_reserved`] without host prefixes is
/// false (pinned by a test).
pub(crate) fn is_plain_posix_name(key: &CStr) -> bool {
    let rest = strip_leading_slashes(key.to_bytes());
    !rest.is_empty()
        && rest.len() <= POSIX_NAME_MAX
        && !rest.starts_with(b"triton")
        && !rest.contains(&b'/')
}

/// `name` without its leading slashes.
pub fn strip_leading_slashes(name: &[u8]) -> &[u8] {
    let start = name.iter().position(|&b| b != b'/').unwrap_or(name.len());
    &name[start..]
}

/// Whether `key` names a region reserved for Triton's own backends, in any
/// slash spelling: its canonical form (leading slashes stripped), or that of
/// its normalisation (which turns inner `/` into `_`), starts with
/// `triton_<word>_backend_shm_region_` (the Python backend's prefix and
/// those of other Python-based backends) or with one of `extra` (whose own
/// leading slashes are ignored). Needs no naming policy, so it can run
/// before any other check.
pub fn is_reserved(key: &[u8], extra: &[Vec<u8>]) -> bool {
    let canonical = strip_leading_slashes(key);
    // Without prefixes of the host's, only a name that starts with
    // `triton` can be reserved, in either form (those six bytes hold no
    // `/`): most names stop here.
    if extra.is_empty() && !canonical.starts_with(b"triton") {
        return false;
    }
    let reserved = |map: fn(u8) -> u8| {
        has_backend_prefix(canonical, map)
            || extra.iter().any(|p| {
                let p = strip_leading_slashes(p);
                !p.is_empty() && starts_with_mapped(canonical, p, map)
            })
    };
    // The normalised form differs from the canonical one only where the
    // canonical form has a `/`; it is read through `slash_to_underscore`
    // rather than built, so the check allocates nothing.
    reserved(std::convert::identity) || (has_byte(canonical, b'/') && reserved(slash_to_underscore))
}

fn slash_to_underscore(b: u8) -> u8 {
    if b == b'/' {
        b'_'
    } else {
        b
    }
}

/// Whether `name`, each byte passed through `map`, starts with `prefix`.
fn starts_with_mapped(name: &[u8], prefix: &[u8], map: fn(u8) -> u8) -> bool {
    name.len() >= prefix.len() && name.iter().zip(prefix).all(|(&n, &p)| map(n) == p)
}

/// `triton_<word>_backend_shm_region_` with a non-empty word, in `canonical`
/// read through `map`.
fn has_backend_prefix(canonical: &[u8], map: fn(u8) -> u8) -> bool {
    const HEAD: &[u8] = b"triton_";
    const TAIL: &[u8] = b"_backend_shm_region_";
    if !starts_with_mapped(canonical, HEAD, map) {
        return false;
    }
    // Any occurrence after at least one byte of word: the first occurrence
    // may follow an empty word while a later one does not.
    let rest = &canonical[HEAD.len()..];
    rest.windows(TAIL.len())
        .skip(1)
        .any(|w| starts_with_mapped(w, TAIL, map))
}

fn check_posix(key: &[u8]) -> Result<(), NameError> {
    let rest = strip_leading_slashes(key);
    if rest.is_empty() {
        return Err(NameError::Empty);
    }
    let [nul, slash] = holds_bytes(rest, [0, b'/']);
    if nul {
        return Err(NameError::InteriorNul);
    }
    if slash {
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

/// A name as the NUL-terminated string `shm_open` and `shm_unlink` take,
/// built without an allocation when it is short: every name a policy
/// accepts without a run of leading slashes fits on the stack.
pub(crate) struct CName {
    buf: CNameBuf,
}

/// Bytes of a [`CName`] kept inline: a `posix` name (255 bytes after its
/// slashes) with a leading slash and the NUL.
const CNAME_INLINE: usize = POSIX_NAME_MAX + 2;

// The inline variant is the point: a name on the stack, no allocation.
#[allow(clippy::large_enum_variant)]
enum CNameBuf {
    Inline([u8; CNAME_INLINE], usize),
    Heap(std::ffi::CString),
}

impl CName {
    /// `name` with a NUL after it; `None` when `name` holds a NUL itself.
    pub(crate) fn new(name: &[u8]) -> Option<CName> {
        if has_byte(name, 0) {
            return None;
        }
        if name.len() < CNAME_INLINE {
            let mut bytes = [0u8; CNAME_INLINE];
            bytes[..name.len()].copy_from_slice(name);
            return Some(CName {
                buf: CNameBuf::Inline(bytes, name.len() + 1),
            });
        }
        std::ffi::CString::new(name).ok().map(|c| CName {
            buf: CNameBuf::Heap(c),
        })
    }

    /// The name as a C string.
    pub(crate) fn as_c_str(&self) -> &std::ffi::CStr {
        match &self.buf {
            // The bytes up to `len` are the name (no NUL, checked in `new`)
            // and its NUL, so the conversion cannot fail; the fallback is
            // never taken.
            CNameBuf::Inline(bytes, len) => {
                std::ffi::CStr::from_bytes_with_nul(&bytes[..*len]).unwrap_or_default()
            }
            CNameBuf::Heap(c) => c,
        }
    }

    /// The name without its NUL.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.as_c_str().to_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_byte_finds_a_byte_at_every_place_and_only_that_byte() {
        // Miri runs the bytes that matter to the word trick (0x80 and its
        // neighbours) and the names' own; natively, more.
        let bytes: &[u8] = if cfg!(miri) {
            &[0, b'/', 0x7f, 0x80]
        } else {
            &[0, b'/', 0x7f, 0x80, 0x81, 0xfe, 0xff, b'a']
        };
        for len in 0..=17 {
            for &byte in bytes {
                for &filler in bytes {
                    let mut name = vec![filler; len];
                    assert_eq!(has_byte(&name, byte), len > 0 && filler == byte);
                    for at in 0..len {
                        name.fill(filler);
                        name[at] = byte;
                        assert!(has_byte(&name, byte), "{byte:#x} at {at} of {len}");
                        let other = if byte == 0 { b'/' } else { 0 };
                        let expected = [true, len > 1 && filler == other];
                        assert_eq!(holds_bytes(&name, [byte, other]), expected);
                    }
                }
            }
        }
    }

    #[test]
    fn a_plain_posix_name_passes_the_posix_checks_and_is_never_reserved() {
        // Every key of up to four bytes (two under miri) from the bytes the
        // checks look at, and keys at the length limit and the prefixes.
        let alphabet: &[u8] = &[b'/', b't', b'r', b'i', b'o', b'n', b'_', b'a', 0, 0x80];
        let longest = if cfg!(miri) { 2 } else { 4 };
        let mut keys: Vec<Vec<u8>> = vec![Vec::new()];
        let mut last: Vec<Vec<u8>> = vec![Vec::new()];
        for _ in 0..longest {
            last = last
                .iter()
                .flat_map(|k| alphabet.iter().map(move |&b| [&k[..], &[b]].concat()))
                .collect();
            keys.extend(last.iter().cloned());
        }
        for special in [
            &b"triton"[..],
            b"/tritonx",
            b"/triton_python_backend_shm_region_1",
            b"//triton_x_backend_shm_region_",
            b"/tritox",
            b"/input0",
        ] {
            keys.push(special.to_vec());
        }
        for len in [POSIX_NAME_MAX - 1, POSIX_NAME_MAX, POSIX_NAME_MAX + 1] {
            keys.push(vec![b'a'; len]);
            keys.push([&b"//"[..], &vec![b'a'; len]].concat());
        }
        let mut plain_keys = 0;
        for key in &keys {
            let accepted = NamingPolicy::Posix
                .system_name_cow(key)
                .is_ok_and(|system| system[..] == key[..]);
            let reserved = is_reserved(key, &[]);
            // A key with a NUL cannot come as a C string (nor be accepted).
            let Ok(c_key) = std::ffi::CString::new(key.clone()) else {
                assert!(!accepted);
                continue;
            };
            if is_plain_posix_name(&c_key) {
                plain_keys += 1;
                assert!(
                    accepted && !reserved,
                    "{:?}",
                    key.escape_ascii().to_string()
                );
            } else if accepted && !strip_leading_slashes(key).starts_with(b"triton") {
                panic!(
                    "{:?} is an ordinary key: it should take the direct path",
                    key.escape_ascii().to_string()
                );
            }
        }
        // Not vacuous: a good share of the keys take the direct path.
        assert!(
            plain_keys >= keys.len() / 4,
            "{plain_keys} of {}",
            keys.len()
        );
    }

    #[test]
    fn a_c_name_is_the_name_and_a_nul_inline_or_on_the_heap() {
        let short = CName::new(b"/input0").unwrap();
        assert!(matches!(short.buf, CNameBuf::Inline(..)));
        assert_eq!(short.as_c_str().to_bytes_with_nul(), b"/input0\0");
        assert_eq!(short.as_bytes(), b"/input0");
        let longest_inline = vec![b'a'; CNAME_INLINE - 1];
        let inline = CName::new(&longest_inline).unwrap();
        assert!(matches!(inline.buf, CNameBuf::Inline(..)));
        assert_eq!(inline.as_bytes(), &longest_inline[..]);
        let long = vec![b'/'; CNAME_INLINE];
        let heap = CName::new(&long).unwrap();
        assert!(matches!(heap.buf, CNameBuf::Heap(_)));
        assert_eq!(heap.as_bytes(), &long[..]);
        assert!(CName::new(b"in\0put").is_none());
        assert_eq!(CName::new(b"").unwrap().as_bytes(), b"");
    }

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
    fn every_way_to_normalise_gives_the_same_bytes() {
        // Writing into a caller's buffer (write_to) is checked through the C
        // ABI in tests/ffi_names.rs and ctest/, where the buffer is C's.
        for key in [
            "/simple_name",
            "//double_slash",
            "/a/b/c",
            "x",
            "///m///s///",
            "/caf\u{e9}/x",
        ] {
            let n = Normalized::new(key.as_bytes()).unwrap();
            assert_eq!(n.to_vec(), normalize(key.as_bytes()).unwrap(), "{key}");
            assert_eq!(n.len(), n.to_vec().len());
            let c_key = std::ffi::CString::new(key).unwrap();
            assert_eq!(Normalized::from_c_str(&c_key).unwrap().to_vec(), n.to_vec());
        }
        assert_eq!(
            Normalized::from_c_str(c"///").unwrap_err(),
            NameError::Empty
        );
    }

    #[test]
    fn slashes_are_replaced_at_every_length_and_position() {
        for len in 1..40 {
            for slash_every in 1..5 {
                let key: Vec<u8> = (0..len)
                    .map(|i| {
                        if i % slash_every == 0 {
                            b'/'
                        } else {
                            b'.' + (i % 7) as u8
                        }
                    })
                    .chain(*b"x")
                    .collect();
                let rest = strip_leading_slashes(&key);
                let expected: Vec<u8> = std::iter::once(b'/')
                    .chain(rest.iter().map(|&b| if b == b'/' { b'_' } else { b }))
                    .collect();
                assert_eq!(
                    normalize(&key).unwrap(),
                    expected,
                    "len {len}, slash every {slash_every}"
                );
            }
        }
        // Every byte value next to a slash is left alone.
        for b in 1..=255u8 {
            let key = [b'x', b, b'/', b, b'/', b, b, b'/', b, b];
            let keep = if b == b'/' { b'_' } else { b };
            assert_eq!(
                normalize(&key).unwrap(),
                [b'/', b'x', keep, b'_', keep, b'_', keep, keep, b'_', keep, keep]
            );
        }
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
        assert_eq!(
            NamingPolicy::Darwin.system_name(ok.as_bytes()).unwrap(),
            ok.as_bytes()
        );
        let long = format!("/{}", "x".repeat(31));
        assert_eq!(
            NamingPolicy::Darwin.system_name(long.as_bytes()),
            Err(NameError::TooLong { len: 32, max: 31 })
        );
    }

    #[test]
    fn a_31_byte_key_is_refused_saying_that_python_prepends_a_slash() {
        let key = "k".repeat(31);
        let e = NamingPolicy::Darwin
            .system_name(key.as_bytes())
            .unwrap_err();
        assert_eq!(e, NameError::TooLong { len: 32, max: 31 });
        let text = e.to_string();
        assert!(text.contains("32 bytes long, the limit is 31"), "{text}");
        assert!(
            text.contains("prepends '/'") && text.contains("at most 30 bytes"),
            "{text}"
        );
    }

    #[test]
    fn the_posix_limit_says_nothing_about_python() {
        let e = NameError::TooLong {
            len: 256,
            max: POSIX_NAME_MAX,
        };
        assert_eq!(
            e.to_string(),
            "the name is 256 bytes long, the limit is 255"
        );
    }

    #[test]
    fn darwin_limit_counts_the_normalised_name() {
        // 30 bytes after many slashes still fits once the slashes collapse.
        let key = format!("////{}", "x".repeat(30));
        assert_eq!(
            NamingPolicy::Darwin
                .system_name(key.as_bytes())
                .unwrap()
                .len(),
            31
        );
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
        for fine in [
            "/triton__backend_shm_region_",
            "/my_triton_python_backend_shm_region_",
            "/input0",
        ] {
            assert!(!is_reserved(fine.as_bytes(), &[]), "{fine}");
        }
        // The word is "_backend_shm_region_x": a later occurrence counts even
        // when the first one follows an empty word, in every slash spelling.
        assert!(is_reserved(
            b"triton__backend_shm_region_x_backend_shm_region_",
            &[]
        ));
        assert!(is_reserved(
            b"/triton_/backend_shm_region_x/_backend_shm_region_",
            &[]
        ));
        assert!(!is_reserved(b"/triton__backend_shm_region_", &[]));
        let extra = vec![b"/host_private_".to_vec()];
        assert!(is_reserved(b"//host_private_7", &extra));
        assert!(!is_reserved(b"//host_public_7", &extra));
    }

    #[test]
    fn platform_policy_matches_target() {
        let expected = if cfg!(target_vendor = "apple") {
            "darwin"
        } else {
            "posix"
        };
        assert_eq!(NamingPolicy::platform().as_str(), expected);
    }
}
