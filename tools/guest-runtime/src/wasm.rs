//! What a `no_std` provider component needs on wasm32 in place of `std` (Rust's `std` on
//! wasm32-wasip2 imports `wasi:cli`, which the provider world does not grant):
//! - a global allocator (dlmalloc over `memory.grow`);
//! - `cabi_realloc`, the canonical ABI's allocation entry point, over that same allocator
//!   (wit-bindgen frees with Rust's allocator, so the two must agree);
//! - a panic handler that traps: the host reports a failed call;
//! - `memcpy`, `memcmp` and friends from wasi-libc's `libc.a` (only those self-contained
//!   routines, none of libc's WASI imports).
//!
//! A plain module file, without inner attributes: the crate `guest-runtime`
//! (`tools/guest-runtime`) is `mod wasm;` around it, and a standalone provider crate (the
//! template, and what `shared-folder-host new-provider` writes) declares it as its own module,
//! `#[cfg(target_arch = "wasm32")] mod guest_runtime;`, with
//! `dlmalloc = { version = "0.2", features = ["global"] }` among its wasm32 dependencies.
//! Compiled for wasm32 only; the crate that includes it must be `no_std` there.

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
