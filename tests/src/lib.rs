//! The harness of the shared-folder host: a NextCloud stand-in server ([`standin`]), the
//! fixture provider component, and helpers the tests and the demo share.

use std::time::Duration;

use shared_folder_host::connections::ConnectionSettings;
use shared_folder_host::{
    HostLimits, HostOptions, OutboundLimits, SharedFolderConfig, SharedFolders,
};

pub use shared_folder_test_support::{
    FIXTURE_PROVIDER, Fault, FaultRule, Options, StandIn, Step, TlsIdentity, client, public_link,
    standin,
};

/// The built-in NextCloud provider component.
pub const NEXTCLOUD_PROVIDER: &[u8] = shared_folder_host::NEXTCLOUD_PROVIDER;

/// A `[shared_folder]` section pointing at `standin`, with extra lines (e.g. `expiry = 7`).
pub fn config_toml(standin: &StandIn, extra: &str) -> String {
    let options = standin.options();
    format!(
        "[shared_folder]\nprovider = \"nextcloud\"\nurl = \"{}\"\nusername = \"{}\"\npassword = \"{}\"\ndirectory = \"opentalk/meetings\"\n{extra}\n",
        standin.url(),
        options.username,
        options.password,
    )
}

pub fn config(standin: &StandIn, extra: &str) -> SharedFolderConfig {
    SharedFolderConfig::from_toml(&config_toml(standin, extra))
        .unwrap_or_else(|e| panic!("test configuration: {e}"))
}

/// Limits for tests: short waits, so that injected slowness shows within seconds.
pub fn test_limits() -> HostLimits {
    HostLimits {
        outbound: OutboundLimits {
            connect_timeout: Duration::from_secs(2),
            first_byte_timeout: Duration::from_secs(2),
            between_bytes_timeout: Duration::from_secs(2),
            ..OutboundLimits::default()
        },
        call_deadline: Duration::from_secs(20),
        ..HostLimits::default()
    }
}

/// A stand-in started with `options`, and a host on it with the built-in NextCloud provider,
/// records in memory and [`test_limits`]; `extra` lines go into `[shared_folder]`.
pub async fn standin_and_host(options: Options, extra: &str) -> (StandIn, SharedFolders) {
    let standin = StandIn::start(options).await.expect("stand-in starts");
    let host = SharedFolders::new(config(&standin, extra), NEXTCLOUD_PROVIDER, test_limits())
        .expect("host starts");
    (standin, host)
}

/// A host on `standin` with the built-in NextCloud provider, [`test_limits`] and `connections`
/// (a CA bundle, the session kept or not).
pub fn host_with(standin: &StandIn, connections: ConnectionSettings) -> SharedFolders {
    SharedFolders::with_options(
        config(standin, ""),
        NEXTCLOUD_PROVIDER,
        HostOptions {
            limits: test_limits(),
            connections,
            ..HostOptions::default()
        },
    )
    .expect("host starts")
}
