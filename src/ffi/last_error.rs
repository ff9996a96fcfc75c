//! The thread-local description of the last failed call.

use crate::status::Error;
use std::cell::RefCell;

thread_local! {
    static LAST: RefCell<Option<Error>> = const { RefCell::new(None) };
}

/// Forget the last error of this thread.
#[inline]
pub(crate) fn clear() {
    // try_with: during thread teardown (a C++ destructor running at thread
    // exit) the slot may be gone; there is then nothing to clear.
    let _ = LAST.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = None;
        }
    });
}

/// Record `error` as this thread's last error.
pub(crate) fn set(error: Error) {
    let _ = LAST.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = Some(error);
        }
    });
}

/// The last error's message, or `""`.
pub(crate) fn message() -> String {
    LAST.try_with(|slot| {
        slot.try_borrow()
            .ok()
            .and_then(|e| e.as_ref().map(|e| e.message().to_owned()))
            .unwrap_or_default()
    })
    .unwrap_or_default()
}

/// The last error's errno, or 0.
pub(crate) fn errno() -> i32 {
    LAST.try_with(|slot| {
        slot.try_borrow()
            .ok()
            .and_then(|e| e.as_ref().and_then(Error::errno))
            .unwrap_or(0)
    })
    .unwrap_or(0)
}
