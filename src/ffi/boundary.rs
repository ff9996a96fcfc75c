//! The panic boundary every export runs inside.
//!
//! Nothing may unwind into C or C++: since Rust 1.81 a panic that reaches an
//! `extern "C"` frame aborts the host process. Each export hands its body to
//! one of these functions, which catch any panic and turn it into
//! `TRITON_SHM_INTERNAL` (or the export's neutral value) plus a last-error
//! message.

use super::last_error;
use crate::status::{Error, Result, Status};
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

fn panic_message(payload: &(dyn Any + Send)) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message");
    format!("internal error (a bug in triton-shm, please report it): {what}")
}

/// Run a status-returning export body. The thread's last error is cleared
/// first and set from the error the body returns, so it always describes the
/// most recent status-returning call.
pub(crate) fn status(body: impl FnOnce() -> Result<()>) -> Status {
    last_error::clear();
    // AssertUnwindSafe: on a panic the body's partial state is discarded;
    // shared state lives behind parking_lot locks, which do not poison and
    // are released while unwinding, so nothing is observed half-updated.
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => Status::OK,
        Ok(Err(error)) => {
            let status = error.status();
            last_error::set(error);
            status
        }
        Err(payload) => {
            last_error::set(Error::new(Status::INTERNAL, panic_message(&*payload)));
            Status::INTERNAL
        }
    }
}

/// Run the body of an export that reads the library's state (the last
/// error, a version, a count): like [`status`], but the thread's last error
/// is left untouched, so that reading it, or retrying with a larger buffer,
/// does not erase it.
pub(crate) fn query(body: impl FnOnce() -> Result<()>) -> Status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => Status::OK,
        Ok(Err(error)) => error.status(),
        Err(_) => Status::INTERNAL,
    }
}

/// Run an export body that returns a plain value; a panic yields `fallback`.
pub(crate) fn value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_internal_with_a_message() {
        let s = status(|| panic!("boom"));
        assert_eq!(s, Status::INTERNAL);
        let msg = last_error::message();
        assert!(msg.contains("boom"), "{msg}");
    }

    #[test]
    fn an_error_sets_and_a_success_clears_the_last_error() {
        assert_eq!(
            status(|| Err(Error::new(Status::NOT_FOUND, "gone"))),
            Status::NOT_FOUND
        );
        assert_eq!(last_error::message(), "gone");
        assert_eq!(status(|| Ok(())), Status::OK);
        assert_eq!(last_error::message(), "");
    }

    #[test]
    fn value_returns_fallback_on_panic() {
        assert_eq!(value(7, || panic!("x")), 7);
        assert_eq!(value(7, || 3), 3);
    }
}
