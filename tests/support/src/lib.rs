//! What the shared-folder tests and the benchmark share: a NextCloud stand-in server
//! ([`standin`]) and an OpenCloud one ([`opencloud`]), both behind one face for the tests that
//! run against every provider ([`stand_ins`]), the one way to set up a host on them
//! ([`TestHost`]), an HTTP client for tests, public-link access as a participant, a private
//! PostgreSQL server per test ([`postgres`]), and the fixture provider component.
//!
//! The host's own integration tests use it too (a dev-dependency of the host on a crate that
//! depends on the host: Cargo allows that cycle for tests).

pub mod client;
mod debian;
mod local;
pub mod opencloud;
pub mod postgres;
pub mod public_link;
pub mod registry;
pub mod stand_ins;
pub mod standin;
mod test_host;

pub use standin::{Fault, FaultRule, Options, StandIn, Step, TlsIdentity};
pub use test_host::{TestHost, standin_and_host, test_limits};

/// A TCP listener that only counts the connections made to it: the forbidden destination
/// of a confinement check, which must stay at 0.
pub struct ConnectionCounter {
    pub addr: std::net::SocketAddr,
    count: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl ConnectionCounter {
    /// Listens on `ip`, on a free port.
    pub async fn start(ip: &str) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind((ip, 0)).await?;
        let addr = listener.local_addr()?;
        let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = std::sync::Arc::clone(&count);
        tokio::spawn(async move {
            while let Ok((_stream, _)) = listener.accept().await {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        });
        Ok(ConnectionCounter { addr, count })
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.count.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The NextCloud provider as built against contract 0.2.0, before 0.3 existed: kept as it was
/// deployed (`tests/artifacts/README.md` says from which commit), to prove that the host still
/// serves it.
pub const NEXTCLOUD_PROVIDER_0_2: &[u8] =
    include_bytes!("../../artifacts/nextcloud-provider-0.2.0.wasm");

/// The provider template (`plugin/template`), built as a newcomer would start from it.
pub const TEMPLATE_PROVIDER: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/template_provider.wasm"));

/// The fixture provider component (`tests/providers/fixture`), built with this crate.
pub const FIXTURE_PROVIDER: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/fixture_provider.wasm"));

/// Where [`TestHost`] keeps the components it compiled, by content digest (as a host's
/// `component_cache`), shared by every test of this build: each component is compiled once per
/// build of the tests and then loaded in about a millisecond, where compiling it takes a
/// second in the tests' unoptimised build. In this crate's build folder (`cargo clean`
/// empties it).
pub const COMPILED_COMPONENTS: &str = env!("SHARED_FOLDER_TEST_COMPILED");

/// `component` with a custom section added: the same code under another content digest, as a
/// rebuild of the component would look to the host.
pub fn rebuilt_component(component: &[u8], note: &str) -> Vec<u8> {
    use wasm_encoder::ComponentSection as _;
    let mut bytes = component.to_vec();
    wasm_encoder::CustomSection {
        name: "build-note".into(),
        data: note.as_bytes().into(),
    }
    .append_to_component(&mut bytes);
    bytes
}
