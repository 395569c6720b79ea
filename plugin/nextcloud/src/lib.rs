//! The NextCloud shared-folder provider.
//!
//! A WebAssembly component (world `shared-folder-provider` of contract 0.4, see `wit/provider.wit`) that creates
//! a meeting room's folder over WebDAV and its two public links over the OCS share API, and
//! deletes them again. It talks to NextCloud only through `wasi:http`; the host adds the
//! account's credentials to each request, so the password never enters this component.
//!
//! Modules, in the order data flows through them:
//! - [`settings`]: the `[shared_folder]` table → validated [`settings::Settings`];
//! - [`paths`]: room id and directory → the folder's path and its encoded URLs;
//! - [`password`]: share passwords from the host's CSPRNG (`wasi:random`);
//! - [`webdav`] and [`ocs`]: NextCloud's two APIs, answers turned into typed errors;
//! - [`trash`]: the trash bin, where deleted folders land, and their removal from it;
//! - [`nextcloud`]: the create, delete and purge procedures, with clean-up on failure, and
//!   the listing and recovery of the rooms' folders;
//! - [`handle`]: what `delete` gets back to find the folder and its links (path, share ids).
//!
//! What is not NextCloud's comes from `plugin/kit` (crate `provider-kit`), shared with the
//! other providers and re-exported here under the same names: [`http`] (requests over raw
//! `wasi:http`, several in flight at once), [`retry`] (which failed requests are sent again),
//! [`errors`] (the contract's error type), and the generic parts of settings, paths, passwords,
//! expiry dates, JSON, WebDAV and OCS.
//!
//! The component is `no_std` (with `alloc`, see `tools/guest-runtime`): Rust's `std` on
//! wasm32-wasip2 would import `wasi:cli` (environment, exit, stdio), which the provider world
//! does not grant. Natively, for the unit tests, it links `std` as usual.

#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

// Allocator, `cabi_realloc`, panic = trap: what `std` would have brought.
use guest_runtime as _;

/// The provider's export; every import is the kit's (see `provider_kit::bindings`), so its
/// types are the kit's too.
mod bindings {
    provider_kit::provider_bindings!();
}

use provider_kit::prelude;
pub use provider_kit::{errors, http, retry};

pub mod handle;
pub mod nextcloud;
pub mod ocs;
pub mod password;
pub mod paths;
pub mod settings;
pub mod trash;
pub mod webdav;

use alloc::string::String;
use alloc::vec::Vec;
use bindings::exports::shared_folder::provider::provider::Guest;
use errors::{ConfigError, Error};
use handle::Handle;
use provider_kit::bindings::shared_folder::provider::types::{
    Access, FoundFolder, Settings, SharedFolder,
};
use provider_kit::created::{self, JsonHandle};

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct NextcloudProvider;

impl Guest for NextcloudProvider {
    fn validate(settings: Settings) -> Result<(), ConfigError> {
        created::validation(settings::Settings::from_wit(&settings))
    }

    fn create(settings: Settings, room: String) -> Result<SharedFolder, Error> {
        let settings = settings::Settings::from_wit(&settings)?;
        Ok(shared_folder(nextcloud::create(&settings, &room)?))
    }

    fn delete(settings: Settings, room: String, handle: String) -> Result<(), Error> {
        let settings = settings::Settings::from_wit(&settings)?;
        let (handle, folder) = Handle::read(&settings, &room, &handle)?;
        nextcloud::delete(&settings, &folder, &handle.read, &handle.read_write)
    }

    fn purge(settings: Settings, room: String) -> Result<(), Error> {
        let settings = settings::Settings::from_wit(&settings)?;
        nextcloud::purge(&settings, &room)
    }

    fn list_folders(settings: Settings) -> Result<Vec<FoundFolder>, Error> {
        let settings = settings::Settings::from_wit(&settings)?;
        Ok(nextcloud::list(&settings)?
            .into_iter()
            .map(|found| {
                let links = found.links.into_iter().map(|link| {
                    let access = if link.permissions == ocs::READ_WRITE {
                        Access::ReadWrite
                    } else {
                        Access::Read
                    };
                    (access, link.url)
                });
                created::found_folder(&found.folder, links)
            })
            .collect())
    }

    fn recover(settings: Settings, room: String) -> Result<SharedFolder, Error> {
        let settings = settings::Settings::from_wit(&settings)?;
        Ok(shared_folder(nextcloud::recover(&settings, &room)?))
    }
}

/// What `create` and `recover` return: the folder, its links, and the handle `delete` reads.
fn shared_folder(made: nextcloud::Created) -> SharedFolder {
    let handle = Handle::of(&made).encode();
    created::shared_folder(&made.folder, made.read, made.read_write, handle)
}

// Exported only in the component; the native build exists for the unit tests.
#[cfg(target_arch = "wasm32")]
bindings::export!(NextcloudProvider with_types_in bindings);
