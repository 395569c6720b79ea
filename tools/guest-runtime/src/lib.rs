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
mod wasm {
    extern crate alloc;

    use alloc::alloc::{Layout, alloc, realloc};

    #[global_allocator]
    static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

    #[link(name = "c")]
    unsafe extern "C" {}

    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
        core::arch::wasm32::unreachable()
    }

    /// # Safety
    /// Called by the component model's canonical ABI only, with a pointer, size and alignment
    /// it got from an earlier call (or null and 0).
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn cabi_realloc(
        old_ptr: *mut u8,
        old_len: usize,
        align: usize,
        new_len: usize,
    ) -> *mut u8 {
        let ptr = unsafe {
            if old_len == 0 {
                if new_len == 0 {
                    return align as *mut u8;
                }
                alloc(Layout::from_size_align_unchecked(new_len, align))
            } else {
                realloc(
                    old_ptr,
                    Layout::from_size_align_unchecked(old_len, align),
                    new_len,
                )
            }
        };
        if ptr.is_null() {
            core::arch::wasm32::unreachable();
        }
        ptr
    }
}
