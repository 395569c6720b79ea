//! What every shared-folder provider component needs, whatever storage it speaks to.
//!
//! A provider (contract `shared-folder:provider@0.4.0`, `wit/provider.wit`) is a `no_std`
//! WebAssembly component that reaches its storage only through `wasi:http`, makes passwords
//! from `wasi:random` and reads the time from `wasi:clocks`. This crate holds the code that does
//! not depend on which storage it is:
//! - [`bindings`]: the imports every provider uses, generated once here. A provider's own
//!   `wit_bindgen::generate!` maps them onto these modules with `with: {…}` (see
//!   [`bindings`]'s doc), so the contract's [`errors::Error`] and the `wasi:http` resources are
//!   one type in the kit and in the provider;
//! - [`settings`]: the `[shared_folder]` fields every provider reads (`url`, `username`,
//!   `directory`, `expiry`), errors naming the field;
//! - [`paths`]: room id and directory → the folder's path, percent-encoded segments;
//! - [`http`]: requests over raw `wasi:http`, several in flight at once, bounded answers;
//! - [`retry`]: which failed requests are sent again, and after what wait;
//! - [`password`]: passwords from the host's CSPRNG, for a set of character classes;
//! - [`expiry`]: today (UTC) plus a number of days;
//! - [`json`]: reading and writing JSON without `std`;
//! - [`dav`]: WebDAV's answers to MKCOL and DELETE, and Sabre-style error bodies;
//! - [`ocs`]: the OCS envelope (`{"ocs":{"meta":…,"data":…}}`);
//! - [`created`]: what `create` returns (links, the shared folder, a JSON handle) and
//!   `validate`'s answer;
//! - [`errors`]: constructors for the contract's `error` variant, clipping and redaction.
//!
//! Like the providers it is `no_std` with `alloc` on wasm32 (see `tools/guest-runtime`), and
//! links `std` natively, for the unit tests.

#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

/// Bindings for a world that imports what every provider imports: outbound HTTP, randomness,
/// both clocks, and the contract's `types` interface.
///
/// A provider generates its own world (`shared-folder-provider`, which exports `provider`) and
/// points each of these interfaces here instead of generating them again (`with: {…}`), which
/// [`provider_bindings!`] writes out:
///
/// ```ignore
/// mod bindings {
///     provider_kit::provider_bindings!();
/// }
/// ```
///
/// The world is written inline; its dependencies are the contract's own (`wit/` and
/// `wit/deps/`), so there is one copy of every WIT file.
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        inline: "
            package provider-kit:kit;

            world kit {
                import wasi:http/outgoing-handler@0.2.12;
                import wasi:random/random@0.2.12;
                import wasi:clocks/wall-clock@0.2.12;
                import wasi:clocks/monotonic-clock@0.2.12;
                import shared-folder:provider/types@0.4.0;
            }
        ",
        world: "provider-kit:kit/kit",
        generate_all,
    });
}

/// A provider's bindings: the world `shared-folder-provider` of `wit/provider.wit`, whose
/// imports are all the kit's ([`bindings`]), so that only the export, `provider`, is generated
/// in the provider. Expanded inside the provider's `mod bindings { … }`, in a crate at
/// `plugin/<name>/` (the WIT path is relative to it) that depends on `wit-bindgen` and on this
/// crate as `provider_kit`.
#[macro_export]
macro_rules! provider_bindings {
    () => {
        wit_bindgen::generate!({
            path: "../../wit",
            world: "shared-folder-provider",
            with: {
                "wasi:http/outgoing-handler@0.2.12": provider_kit::bindings::wasi::http::outgoing_handler,
                "wasi:http/types@0.2.12": provider_kit::bindings::wasi::http::types,
                "wasi:io/poll@0.2.12": provider_kit::bindings::wasi::io::poll,
                "wasi:io/streams@0.2.12": provider_kit::bindings::wasi::io::streams,
                "wasi:io/error@0.2.12": provider_kit::bindings::wasi::io::error,
                "wasi:random/random@0.2.12": provider_kit::bindings::wasi::random::random,
                "wasi:clocks/wall-clock@0.2.12": provider_kit::bindings::wasi::clocks::wall_clock,
                "wasi:clocks/monotonic-clock@0.2.12": provider_kit::bindings::wasi::clocks::monotonic_clock,
                "shared-folder:provider/types@0.4.0": provider_kit::bindings::shared_folder::provider::types,
            },
        });
    };
}

/// What `std`'s prelude would bring, from `alloc`, for the `no_std` build: `use
/// provider_kit::prelude::*;` in each module that needs it.
pub mod prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::format;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec;
    pub use alloc::vec::Vec;
}

pub mod created;
pub mod dav;
pub mod errors;
pub mod expiry;
pub mod http;
pub mod json;
pub mod multistatus;
pub mod ocs;
pub mod password;
pub mod paths;
pub mod retry;
pub mod settings;
pub mod trash;

/// Helpers for the providers' native unit tests; not in the component.
#[cfg(not(target_arch = "wasm32"))]
pub mod testing {
    use core::cell::RefCell;

    use crate::bindings::shared_folder::provider::types::{Setting, SettingValue};
    use crate::errors::{ConfigError, Error};
    use crate::http::{Request, Response};
    use crate::prelude::*;

    /// What answers a request in a native test: a stand-in for the storage, in the test.
    type Storage = Box<dyn FnMut(&Request) -> Result<Response, Error>>;

    std::thread_local! {
        static STORAGE: RefCell<Option<Storage>> = RefCell::new(None);
    }

    /// Runs `body` with `storage` answering every request `http` sends on this thread, one
    /// after the other in the order given (natively there is no `wasi:http`; without a
    /// storage a request traps as in a component without the import). An `Err` is what the
    /// sender would have met: `Transport` a broken connection (retried as one), `Timeout` no
    /// answer in time.
    pub fn with_storage<T>(
        storage: impl FnMut(&Request) -> Result<Response, Error> + 'static,
        body: impl FnOnce() -> T,
    ) -> T {
        STORAGE.with(|slot| *slot.borrow_mut() = Some(Box::new(storage)));
        let result = body();
        STORAGE.with(|slot| *slot.borrow_mut() = None);
        result
    }

    /// The answers of the test's storage, if one is set (see [`with_storage`]).
    pub(crate) fn answer(requests: &[&Request]) -> Option<Vec<Result<Response, Error>>> {
        STORAGE.with(|slot| {
            let mut slot = slot.borrow_mut();
            let storage = slot.as_mut()?;
            Some(requests.iter().map(|request| storage(request)).collect())
        })
    }

    std::thread_local! {
        static RANDOM: RefCell<Box<dyn FnMut(usize) -> Vec<u8>>> = RefCell::new(Box::new(xorshift({
            use core::hash::{BuildHasher, Hasher};
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u8(0);
            hasher.finish() | 1
        })));
    }

    /// Random bytes where natively there is no `wasi:random`: [`xorshift`] from a seed that
    /// differs between runs. For tests only — never a source of real passwords.
    pub(crate) fn random_bytes(n: usize) -> Vec<u8> {
        RANDOM.with(|random| (random.borrow_mut())(n))
    }

    /// One setting, as the host passes it.
    pub fn setting(name: &str, value: SettingValue) -> Setting {
        Setting {
            name: name.into(),
            value,
        }
    }

    /// A text setting.
    pub fn text(name: &str, value: &str) -> Setting {
        setting(name, SettingValue::Text(value.into()))
    }

    /// The least settings a provider accepts: `url` and `username` (`opentalk`).
    pub fn minimal(url: &str) -> Vec<Setting> {
        vec![text("url", url), text("username", "opentalk")]
    }

    /// The field a configuration error names; panics on any other error.
    pub fn field_of(error: Error) -> String {
        match error {
            Error::InvalidConfig(ConfigError { field, .. }) => field,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    /// A deterministic stand-in for the CSPRNG (xorshift), enough to check a password's shape.
    /// Never a source of real passwords.
    pub fn xorshift(seed: u64) -> impl FnMut(usize) -> Vec<u8> {
        let mut state = seed;
        move |n| {
            (0..n)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 32) as u8
                })
                .collect()
        }
    }
}
