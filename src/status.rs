//! Status codes and the library's error type.
//!
//! [`Status`] is the one set of outcomes shared by the Rust API and the C ABI
//! (where it is `triton_shm_status`). Values are explicit, grouped in ranges
//! (1xx caller input, 2xx registry state, 3xx operating system, 9xx internal)
//! and never renumbered; a retired value stays reserved.

use std::ffi::CStr;
use std::fmt;

/// Outcome of a library call. Each outcome has one name, the same in every
/// language but for the `TRITON_SHM_` prefix that C's constants carry
/// (`TRITON_SHM_NOT_FOUND`).
///
/// cbindgen:prefix-with-name=false
/// cbindgen:rename-all=prefix:TRITON_SHM_
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Success.
    OK = 0,
    /// A required pointer argument was NULL.
    NULL_ARGUMENT = 100,
    /// An argument other than a name is out of range (an unknown policy
    /// value, a malformed options struct).
    INVALID_ARGUMENT = 101,
    /// The name is empty after its leading slashes, holds a NUL byte, or
    /// holds a `/` the naming policy refuses.
    INVALID_NAME = 102,
    /// The name is longer than the naming policy allows.
    NAME_TOO_LONG = 103,
    /// The output buffer cannot hold the result and its NUL terminator.
    BUFFER_TOO_SMALL = 104,
    /// The offset and size do not fit in the object, or their sum overflows.
    OUT_OF_BOUNDS = 105,
    /// The key names a region reserved for Triton's own backends
    /// (`triton_<word>_backend_shm_region_...`) or a prefix the host reserved.
    RESERVED_NAME = 106,
    /// The name is not tracked by the registry, or no shared-memory object
    /// has that name.
    NOT_FOUND = 200,
    /// A different name that reaches the same shared-memory object is
    /// already tracked, and the registry could unlink the object through
    /// either name.
    NAME_COLLISION = 201,
    /// A shared-memory object with that name already exists; it was left
    /// untouched.
    ALREADY_EXISTS = 202,
    /// A system call failed; `triton_shm_last_errno()` has its errno.
    OS_ERROR = 300,
    /// A system call failed with `EACCES` or `EPERM`.
    PERMISSION_DENIED = 301,
    /// The library caught a panic at the C boundary; this is a bug in the
    /// library. The call had no effect beyond what the message says.
    INTERNAL = 900,
}

impl Status {
    /// Every status, in numeric order.
    pub fn all() -> &'static [Status] {
        ALL
    }

    /// The C name of the status, e.g. `"TRITON_SHM_NOT_FOUND"`.
    pub fn name(self) -> &'static str {
        // All names are ASCII, so the conversion cannot fail.
        self.c_name()
            .to_str()
            .unwrap_or("TRITON_SHM_UNKNOWN_STATUS")
    }

    /// The C name of the status as a NUL-terminated string.
    pub const fn c_name(self) -> &'static CStr {
        status_table::c_name(self)
    }

    /// The status with numeric value `code`, if there is one.
    pub fn from_code(code: u32) -> Option<Status> {
        ALL.iter().copied().find(|s| *s as u32 == code)
    }
}

/// The one list of statuses besides the enum itself (which cbindgen must
/// read as written): every other table is generated from it, and the
/// generated `match` fails to compile when a variant is missing.
macro_rules! status_table {
    ($($variant:ident),* $(,)?) => {
        mod status_table {
            use super::Status;
            use std::ffi::CStr;

            pub(super) const ALL: &[Status] = &[$(Status::$variant),*];

            pub(super) const fn c_name(status: Status) -> &'static CStr {
                match status {
                    $(Status::$variant => {
                        match CStr::from_bytes_with_nul(
                            concat!("TRITON_SHM_", stringify!($variant), "\0").as_bytes(),
                        ) {
                            Ok(name) => name,
                            Err(_) => c"TRITON_SHM_UNKNOWN_STATUS",
                        }
                    })*
                }
            }
        }
        use status_table::ALL;
    };
}

status_table!(
    OK,
    NULL_ARGUMENT,
    INVALID_ARGUMENT,
    INVALID_NAME,
    NAME_TOO_LONG,
    BUFFER_TOO_SMALL,
    OUT_OF_BOUNDS,
    RESERVED_NAME,
    NOT_FOUND,
    NAME_COLLISION,
    ALREADY_EXISTS,
    OS_ERROR,
    PERMISSION_DENIED,
    INTERNAL,
);

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A failed call: its status, a message for people, and the errno of the
/// system call that failed, if one did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    status: Status,
    message: String,
    errno: Option<i32>,
}

impl Error {
    /// An error with `status` and `message` and no errno.
    pub fn new(status: Status, message: impl Into<String>) -> Self {
        Error {
            status,
            message: message.into(),
            errno: None,
        }
    }

    /// An error from a failed system call: the status follows the errno
    /// (`EACCES`/`EPERM` give [`Status::PERMISSION_DENIED`], `ENOENT`
    /// [`Status::NOT_FOUND`], `EEXIST` [`Status::ALREADY_EXISTS`], any other
    /// [`Status::OS_ERROR`]) and the message ends with the errno's text.
    pub fn from_errno(errno: i32, context: impl fmt::Display) -> Self {
        let status = match errno {
            libc::EACCES | libc::EPERM => Status::PERMISSION_DENIED,
            libc::ENOENT => Status::NOT_FOUND,
            libc::EEXIST => Status::ALREADY_EXISTS,
            _ => Status::OS_ERROR,
        };
        Error {
            status,
            message: format!("{context}: {}", ErrnoText(errno)),
            errno: Some(errno),
        }
    }

    /// The status of this error; never [`Status::OK`].
    pub fn status(&self) -> Status {
        self.status
    }

    /// The message, naming the names and the errno involved.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The errno of the failed system call, if one failed.
    pub fn errno(&self) -> Option<i32> {
        self.errno
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status.name(), self.message)
    }
}

impl std::error::Error for Error {}

/// How every message of the library shows an errno: `errno 2 (No such file
/// or directory)`, the number and its text once each (io::Error's Display
/// would repeat the number as " (os error 2)").
#[derive(Clone, Copy, Debug)]
pub(crate) struct ErrnoText(pub(crate) i32);

impl fmt::Display for ErrnoText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = nix::errno::Errno::from_raw(self.0).desc();
        write!(f, "errno {} ({text})", self.0)
    }
}

/// Result type of the library's fallible calls.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_never_change() {
        let pinned: Vec<(Status, u32)> = vec![
            (Status::OK, 0),
            (Status::NULL_ARGUMENT, 100),
            (Status::INVALID_ARGUMENT, 101),
            (Status::INVALID_NAME, 102),
            (Status::NAME_TOO_LONG, 103),
            (Status::BUFFER_TOO_SMALL, 104),
            (Status::OUT_OF_BOUNDS, 105),
            (Status::RESERVED_NAME, 106),
            (Status::NOT_FOUND, 200),
            (Status::NAME_COLLISION, 201),
            (Status::ALREADY_EXISTS, 202),
            (Status::OS_ERROR, 300),
            (Status::PERMISSION_DENIED, 301),
            (Status::INTERNAL, 900),
        ];
        assert_eq!(pinned.len(), ALL.len());
        for (status, code) in pinned {
            assert_eq!(status as u32, code, "{status}");
            assert_eq!(Status::from_code(code), Some(status));
        }
        assert_eq!(Status::from_code(1), None);
    }

    #[test]
    fn errno_maps_to_status_and_text() {
        let e = Error::from_errno(libc::EACCES, "shm_unlink '/x'");
        assert_eq!(e.status(), Status::PERMISSION_DENIED);
        assert_eq!(e.errno(), Some(libc::EACCES));
        assert!(
            e.message().starts_with("shm_unlink '/x': errno 13 ("),
            "{}",
            e.message()
        );
        assert!(e.message().ends_with(')'), "{}", e.message());
        assert_eq!(
            Error::from_errno(libc::EINVAL, "x").status(),
            Status::OS_ERROR
        );
    }

    #[test]
    fn errno_text_appears_once() {
        let e = Error::from_errno(libc::ENOENT, "shm_open '/x'");
        assert_eq!(
            e.message(),
            "shm_open '/x': errno 2 (No such file or directory)"
        );
        assert!(!e.message().contains("os error"), "{}", e.message());
    }
}
