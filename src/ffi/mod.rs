//! The C ABI: every `triton_shm_*` export, one file per concept.
//!
//! No logic lives here. Each export checks its pointers (NULL gives
//! `TRITON_SHM_NULL_ARGUMENT`), runs inside the panic boundary, calls the
//! safe Rust API, and writes its outputs only on success. The doc comments
//! are the C documentation: cbindgen copies them into `triton_shm.h`.
//!
//! Conventions: the object comes first, inputs next, outputs last; every
//! output buffer is followed by its length, and every struct the caller
//! allocates by its size (`sized`); strings are NUL-terminated bytes and
//! need not be UTF-8.

mod boundary;
pub mod errors;
mod last_error;
pub mod log;
pub mod mapping;
pub mod names;
pub mod options;
mod pointers;
pub mod reaper;
pub mod region;
pub mod registry;
mod sized;
pub mod stats;
pub mod version;
