//! The runtime of a `no_std` provider component on `wasm32-wasip2`.
//!
//! Rust's `std` on wasm32-wasip2 imports `wasi:cli` (environment, exit, stdio), which the
//! `shared-folder-provider` world does not grant; a provider therefore builds `no_std` with
//! `alloc`, and takes from here what `std` would have brought:
//! - a global allocator (dlmalloc over `memory.grow`);
//! - `cabi_realloc`, the canonical ABI's allocation entry point, over that same allocator
//!   (wit-bindgen frees with Rust's allocator, so the two must agree);
//! - a panic handler that traps: the host reports a failed call;
//! - `memcpy`, `memcmp` and friends from wasi-libc's `libc.a` (only those self-contained
//!   routines, none of libc's WASI imports).
//!
//! A guest links it with `use guest_runtime as _;`. On other targets it is empty, so the
//! guest's unit tests run natively with `std`.

#![no_std]

#[cfg(target_arch = "wasm32")]
mod wasm;
