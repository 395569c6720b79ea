//! What the shared-folder tests share, with no dependency on the host (so the host's own
//! tests can use it too): a NextCloud stand-in server ([`standin`]), an HTTP client for
//! tests, public-link access as a participant, and the fixture provider component.

pub mod client;
pub mod public_link;
pub mod standin;

pub use standin::{Fault, FaultRule, Options, StandIn, Step};

/// The fixture provider component (`tests/providers/fixture`), built with this crate.
pub const FIXTURE_PROVIDER: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/fixture_provider.wasm"));
