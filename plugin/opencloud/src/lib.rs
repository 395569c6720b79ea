//! The OpenCloud shared-folder provider.
//!
//! A WebAssembly component (world `shared-folder-provider` of contract 0.3, see
//! `wit/provider.wit`) that makes a meeting room's folder in the account's personal space over
//! WebDAV and its two public links over the libre-graph API, and deletes them again. It talks
//! to OpenCloud only through `wasi:http`; the host adds the account's credentials (an app token,
//! say) to each request, so no secret enters this component.
//!
//! No OpenCloud server runs where this was written: what it expects of one rests on
//! `/work/shared/opencloud/API-NOTES.md` (read in OpenCloud's, reva's and OpenTalk's source;
//! its §6, "Corrections", wins) and on docs/opencloud-behaviour.md, which the OpenCloud
//! stand-in follows. Comments cite both: `API-NOTES §3.5 [V]` (verified in source) or `[I]`
//! (inferred), and the behaviour doc's section names in quotes.
//!
//! Modules, in the order data flows through them:
//! - [`settings`]: the `[shared_folder]` table → validated [`settings::Settings`];
//! - [`ids`]: drive, item and link ids as OpenCloud writes them, and in URL paths;
//! - [`policy`]: the password policy from the capabilities, and passwords that meet it;
//! - [`spaces`]: the personal space over WebDAV — folders made, found (their item id) and
//!   deleted;
//! - [`graph`]: the libre-graph API — the personal drive, links made, listed and deleted;
//! - [`opencloud`]: the create, delete and purge procedures, with clean-up on failure;
//! - [`handle`]: what `delete` gets back (drive, item, path and both link ids).
//!
//! What is not OpenCloud's — `wasi:http` with several requests in flight, retries, CSPRNG
//! passwords, expiry dates, the common settings, paths, JSON and the contract's error type —
//! comes from `plugin/kit` (crate `provider-kit`), shared with the NextCloud provider.
//!
//! The component is `no_std` (with `alloc`, see `tools/guest-runtime`): Rust's `std` on
//! wasm32-wasip2 would import `wasi:cli`, which the provider world does not grant. Natively,
//! for the unit tests, it links `std` as usual.

#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

// Allocator, `cabi_realloc`, panic = trap: what `std` would have brought.
use guest_runtime as _;

/// The provider's export; every import is the kit's.
mod bindings {
    provider_kit::provider_bindings!();
}

use provider_kit::prelude;
pub use provider_kit::{errors, http};

pub mod graph;
pub mod handle;
pub mod ids;
pub mod opencloud;
pub mod policy;
pub mod settings;
pub mod spaces;

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
struct OpencloudProvider;

impl Guest for OpencloudProvider {
    fn validate(settings: Settings) -> Result<(), ConfigError> {
        // Exactly what `create` reads, and no request.
        created::validation(settings::read(&settings))
    }

    fn create(settings: Settings, room: String) -> Result<SharedFolder, Error> {
        let settings = settings::read(&settings)?;
        Ok(shared_folder(opencloud::create(&settings, &room)?))
    }

    fn delete(settings: Settings, room: String, handle: String) -> Result<(), Error> {
        let settings = settings::read(&settings)?;
        let (handle, folder) = Handle::read(&settings, &room, &handle)?;
        opencloud::delete(&settings, &folder, &handle)
    }

    fn purge(settings: Settings, room: String) -> Result<(), Error> {
        let settings = settings::read(&settings)?;
        opencloud::purge(&settings, &room)
    }

    fn list_folders(settings: Settings) -> Result<Vec<FoundFolder>, Error> {
        let settings = settings::read(&settings)?;
        Ok(opencloud::list(&settings)?
            .into_iter()
            .map(|found| {
                let links = found.links.into_iter().map(|(kind, url)| {
                    let access = match kind {
                        graph::Kind::Edit => Access::ReadWrite,
                        graph::Kind::View => Access::Read,
                    };
                    (access, url)
                });
                created::found_folder(&found.folder, links)
            })
            .collect())
    }

    fn recover(settings: Settings, room: String) -> Result<SharedFolder, Error> {
        let settings = settings::read(&settings)?;
        Ok(shared_folder(opencloud::recover(&settings, &room)?))
    }
}

/// What `create` and `recover` return: the folder, its links, and the handle `delete` reads.
fn shared_folder(made: opencloud::Created) -> SharedFolder {
    let handle = Handle::of(&made).encode();
    created::shared_folder(&made.folder, made.read, made.read_write, handle)
}

// Exported only in the component; the native build exists for the unit tests.
#[cfg(target_arch = "wasm32")]
bindings::export!(OpencloudProvider with_types_in bindings);
