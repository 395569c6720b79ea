//! The harness of the shared-folder host: what the demo and the harness tests share. The
//! stand-ins, the test-host builder and the fixture component live in
//! `shared-folder-test-support` (re-exported here), so that the host's own tests and the
//! benchmark use the same ones.

pub use shared_folder_test_support::{
    ConnectionCounter, FIXTURE_PROVIDER, Fault, FaultRule, NEXTCLOUD_PROVIDER_0_2, Options,
    StandIn, Step, TEMPLATE_PROVIDER, TestHost, TlsIdentity, client, opencloud, public_link,
    stand_ins, standin, standin_and_host, test_limits,
};

/// The built-in NextCloud provider component.
pub const NEXTCLOUD_PROVIDER: &[u8] = shared_folder_host::NEXTCLOUD_PROVIDER;
