//! A template for a shared-folder provider: `shared-folder-host new-provider NAME DIR` writes
//! it out as a crate of its own, renamed; then fill in the storage calls.
//!
//! **This template makes no folders and no links.** It has no storage calls yet: every place
//! where a storage system's own API would be called is in [`storage`], and each of those
//! functions returns the contract's `remote` error with status 501 and the message "the
//! template provider has no storage calls yet: …". So `validate` works as it is, while
//! `create`, `delete`, `purge`, `list-folders` and `recover` fail with that error until the
//! storage calls are written.
//!
//! Everything around those calls is real and meant to be kept:
//! - [`settings`]: the `[shared_folder]` table → [`settings::Settings`], every problem naming
//!   its field (`url` as the canonical text the host passes, `username`, `directory`,
//!   `expiry`);
//! - [`paths`]: room id and directory → the room's folder, the room id checked;
//! - [`password`]: the links' passwords, from the host's CSPRNG (`wasi:random`);
//! - [`expiry`]: the links' expiry time, from `wasi:clocks/wall-clock`;
//! - [`http`]: one request over raw `wasi:http`, its status and body read;
//! - [`handle`]: what `create` hands the host for `delete` (JSON), read back and checked
//!   against the room;
//! - [`procedures`]: `create` (all or nothing), `delete` (links before the folder, already
//!   gone counts as deleted), `purge`, `list-folders` (the folders under the directory with
//!   their links) and `recover` (a room's folder taken over: new passwords in place, a missing
//!   link made, a handle as `create`'s), written against [`storage`];
//! - [`errors`]: constructors of the contract's `error`, redaction of secrets.
//!
//! The contract is `wit/provider.wit` (package `shared-folder:provider@0.4.0`); the guide is
//! `docs/writing-a-provider.md`; a complete provider is `plugin/nextcloud/`.
//!
//! The component is `no_std` (with `alloc`, see `guest_runtime.rs`): Rust's `std` on
//! wasm32-wasip2 would import `wasi:cli` (environment, exit, stdio), which the provider world
//! does not grant, and the host would refuse the component. Natively, for the unit tests, it
//! links `std` as usual.

#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

// Allocator, `cabi_realloc`, panic = trap: what `std` would have brought (the component only).
#[cfg(target_arch = "wasm32")]
mod guest_runtime;

mod bindings {
    wit_bindgen::generate!({
        path: "wit",
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
pub mod handle;
pub mod http;
pub mod password;
pub mod paths;
pub mod procedures;
pub mod settings;
pub mod storage;

use alloc::string::String;
use alloc::vec::Vec;
use bindings::exports::shared_folder::provider::provider::Guest;
use bindings::shared_folder::provider::types::{
    Access, ConfigError, Error, FoundFolder, FoundLink, Settings, Share, SharedFolder,
};

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct TemplateProvider;

impl Guest for TemplateProvider {
    fn validate(settings: Settings) -> Result<(), ConfigError> {
        // No request may be sent here: the settings are only read.
        settings::Settings::from_wit(&settings).map(|_| ())
    }

    fn create(settings: Settings, room: String) -> Result<SharedFolder, Error> {
        let settings = settings::Settings::from_wit(&settings).map_err(Error::InvalidConfig)?;
        procedures::create(&settings, &room).map(shared_folder)
    }

    fn delete(settings: Settings, room: String, handle: String) -> Result<(), Error> {
        let settings = settings::Settings::from_wit(&settings).map_err(Error::InvalidConfig)?;
        procedures::delete(&settings, &room, &handle)
    }

    fn purge(settings: Settings, room: String) -> Result<(), Error> {
        let settings = settings::Settings::from_wit(&settings).map_err(Error::InvalidConfig)?;
        procedures::purge(&settings, &room)
    }

    fn list_folders(settings: Settings) -> Result<Vec<FoundFolder>, Error> {
        let settings = settings::Settings::from_wit(&settings).map_err(Error::InvalidConfig)?;
        let found = procedures::list_folders(&settings)?;
        Ok(found
            .into_iter()
            .map(|listed| FoundFolder {
                room: listed.room,
                location: listed.folder.display(),
                links: listed
                    .links
                    .into_iter()
                    .map(|link| FoundLink {
                        url: link.url,
                        access: match link.access {
                            storage::Access::Read => Access::Read,
                            storage::Access::ReadWrite => Access::ReadWrite,
                        },
                    })
                    .collect(),
            })
            .collect())
    }

    fn recover(settings: Settings, room: String) -> Result<SharedFolder, Error> {
        let settings = settings::Settings::from_wit(&settings).map_err(Error::InvalidConfig)?;
        procedures::recover(&settings, &room).map(shared_folder)
    }
}

/// What `create` made, or `recover` took over, as the contract returns it.
fn shared_folder(created: procedures::Created) -> SharedFolder {
    let share = |link: procedures::Link| Share {
        url: link.url,
        password: link.password,
    };
    SharedFolder {
        location: created.folder.display(),
        handle: created.handle,
        read: share(created.read),
        read_write: share(created.read_write),
    }
}

// Exported only in the component; the native build exists for the unit tests.
#[cfg(target_arch = "wasm32")]
bindings::export!(TemplateProvider with_types_in bindings);
