//! The NextCloud shared-folder provider.
//!
//! A WebAssembly component (world `shared-folder-provider`, see `wit/provider.wit`) that creates
//! a meeting room's folder over WebDAV and its two public links over the OCS share API, and
//! deletes them again. It talks to NextCloud only through `wasi:http`; the host adds the
//! account's credentials to each request, so the password never enters this component.
//!
//! Modules, in the order data flows through them:
//! - [`settings`]: the `[shared_folder]` table → validated [`settings::Settings`];
//! - [`paths`]: room id and directory → the folder's path and its encoded URLs;
//! - [`password`]: share passwords from the host's CSPRNG (`wasi:random`);
//! - [`http`]: requests over raw `wasi:http`, several in flight at once;
//! - [`webdav`] and [`ocs`]: NextCloud's two APIs, answers turned into typed errors;
//! - [`nextcloud`]: the create and delete procedures, with clean-up on failure.
//!
//! The component is `no_std` (with `alloc`): Rust's `std` on wasm32-wasip2 would import
//! `wasi:cli` (environment, exit, stdio), which the provider world does not grant. Natively,
//! for the unit tests, it links `std` as usual.

#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

// `memcpy`, `memcmp` and friends come from wasi-libc's `libc.a` (which `std` would have
// linked); only those self-contained routines are used, none of libc's WASI imports.
#[cfg(target_arch = "wasm32")]
#[link(name = "c")]
unsafe extern "C" {}

/// The canonical ABI's allocation entry point, over Rust's allocator. (With `std`, wasi-libc
/// would export one over its own `malloc`; wit-bindgen frees with Rust's allocator, so the
/// two must be the same.)
#[cfg(target_arch = "wasm32")]
#[unsafe(no_mangle)]
unsafe extern "C" fn cabi_realloc(
    old_ptr: *mut u8,
    old_len: usize,
    align: usize,
    new_len: usize,
) -> *mut u8 {
    use alloc::alloc::{Layout, alloc, realloc};
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

/// A panic is a bug in the provider: trap, and let the host report a failed call.
#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "shared-folder-provider",
        generate_all,
    });
}

/// What `std`'s prelude would bring, from `alloc`, for the `no_std` build.
mod prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::format;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec;
    pub use alloc::vec::Vec;
}

pub mod errors;
pub mod expiry;
pub mod http;
pub mod nextcloud;
pub mod ocs;
pub mod password;
pub mod paths;
pub mod settings;
pub mod webdav;

use alloc::string::String;
use bindings::exports::shared_folder::provider::provider::Guest;
use bindings::shared_folder::provider::types::{Error, Settings, SharedFolder};

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct NextcloudProvider;

impl Guest for NextcloudProvider {
    fn create(settings: Settings, room: String) -> Result<SharedFolder, Error> {
        let settings = settings::Settings::from_wit(&settings)?;
        nextcloud::create(&settings, &room)
    }

    fn delete(settings: Settings, folder: SharedFolder) -> Result<(), Error> {
        let settings = settings::Settings::from_wit(&settings)?;
        nextcloud::delete(&settings, &folder)
    }
}

// Exported only in the component; the native build exists for the unit tests.
#[cfg(target_arch = "wasm32")]
bindings::export!(NextcloudProvider with_types_in bindings);
