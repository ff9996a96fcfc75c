//! Routing the library's messages to the host's logger.

use super::boundary;
use crate::log::{set_sink, Level};
use crate::status::Status;
use std::ffi::{c_char, c_void, CString};
use std::sync::Arc;

/// A log callback: `level` is a `triton_shm_log_level`, `message` a
/// NUL-terminated string valid only during the call, `user_data` the pointer
/// given to `triton_shm_set_log_callback`.
#[allow(non_camel_case_types)]
pub type triton_shm_log_callback =
    Option<unsafe extern "C" fn(level: Level, message: *const c_char, user_data: *mut c_void)>;

/// The host's callback and its context pointer.
struct HostLogger {
    callback: unsafe extern "C" fn(Level, *const c_char, *mut c_void),
    user_data: *mut c_void,
}

// SAFETY: `triton_shm_set_log_callback` documents that the callback and
// `user_data` must be usable from any thread, concurrently; the library only
// passes `user_data` back to the callback and never dereferences it.
unsafe impl Send for HostLogger {}
// SAFETY: as above.
unsafe impl Sync for HostLogger {}

impl HostLogger {
    fn log(&self, level: Level, message: &str) {
        // Messages escape the names they quote, so a NUL is not expected;
        // cut at one rather than lose the message.
        let text = match CString::new(message) {
            Ok(text) => text,
            Err(e) => {
                let cut = e.nul_position();
                let mut bytes = e.into_vec();
                bytes.truncate(cut);
                CString::new(bytes).unwrap_or_default()
            }
        };
        // SAFETY: the host promised a callback that accepts these arguments;
        // `text` outlives the call.
        unsafe { (self.callback)(level, text.as_ptr(), self.user_data) };
    }
}

/// Route the library's messages to `callback`, or silence them with NULL
/// (the default). Triton can forward them to `LOG_VERBOSE` and `LOG_ERROR`.
///
/// The callback may run on any thread that calls the library, concurrently,
/// and while the library holds a registry's lock: it must be thread-safe,
/// return normally (no C++ exception, no `longjmp`), and must not call back
/// into triton-shm except to set the callback again. Setting a new callback
/// takes effect for messages emitted after this call returns.
///
/// Returns `TRITON_SHM_OK`.
///
/// # Safety
/// `callback` is NULL or a function that satisfies the rules above for as
/// long as it is installed; `user_data` is whatever that function expects.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_set_log_callback(
    callback: triton_shm_log_callback,
    user_data: *mut c_void,
) -> Status {
    boundary::status(|| {
        let sink = callback.map(|callback| {
            let logger = HostLogger {
                callback,
                user_data,
            };
            Arc::new(move |level: Level, message: &str| logger.log(level, message))
                as crate::log::Sink
        });
        set_sink(sink);
        Ok(())
    })
}
