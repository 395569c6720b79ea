//! The storages the benchmark compares on: for each, its stand-in, our host on it (the
//! storage's component) and OpenTalk's native client on it.

use std::time::Duration;

use shared_folder_host::Limits;
use shared_folder_host::runtime::{NEXTCLOUD_PROVIDER, OPENCLOUD_PROVIDER};
use shared_folder_test_support::opencloud::{self, OpenCloudStandIn};
use shared_folder_test_support::standin::SeenRequest;
use shared_folder_test_support::{StandIn, TestHost};

use crate::Failure;
use crate::baseline::Baseline;
use crate::native::{Account, Native};
use crate::opencloud_baseline::OpenCloudBaseline;

/// Where both sides keep the rooms' folders on a stand-in.
pub const DIRECTORY: &str = "opentalk/meetings";

/// A storage both sides are measured on.
pub trait Storage {
    /// Its name in the progress lines, e.g. `NextCloud`.
    const NAME: &str;
    /// `[shared_folder].provider`, and the name of the plugins folder's file.
    const PROVIDER: &str;
    /// Our side's built-in component.
    const COMPONENT: &[u8];
    /// The header of the baseline's column.
    const BASELINE: &str;

    type StandIn;
    type Native: Native;

    /// A stand-in with `latency` per request and the rooms' parent folder made (a deployment
    /// has it; the controller's create of a NextCloud folder makes only the room's).
    async fn stand_in(latency: Duration) -> Result<Self::StandIn, Failure>;

    /// Our side on `stand_in`, as the tests set a host up, with the limits a deployment has.
    fn host(stand_in: &Self::StandIn) -> TestHost;

    /// The native client's account on `stand_in`.
    fn account(stand_in: &Self::StandIn) -> Result<Account, Failure>;

    /// The requests `stand_in` has seen so far.
    fn seen(stand_in: &Self::StandIn) -> Vec<SeenRequest>;

    fn native(stand_in: &Self::StandIn) -> Result<Self::Native, Failure> {
        Ok(Self::Native::new(Self::account(stand_in)?))
    }

    /// Our side on the storage `account` names (a stand-in in another process), set up as
    /// [`Storage::host`] sets it up.
    fn host_at(account: &Account) -> TestHost {
        let host = TestHost::at(account.url.as_str(), &account.username, &account.password)
            .provider(Self::PROVIDER)
            .component(Self::COMPONENT);
        with_deployment_settings(host)
    }
}

/// The NextCloud component against `opentalk-nextcloud-client` (`baseline.rs`).
pub struct NextCloud;

impl Storage for NextCloud {
    const NAME: &str = "NextCloud";
    const PROVIDER: &str = "nextcloud";
    const COMPONENT: &[u8] = NEXTCLOUD_PROVIDER;
    const BASELINE: &str = "baseline (opentalk-nextcloud-client)";

    type StandIn = StandIn;
    type Native = Baseline;

    async fn stand_in(latency: Duration) -> Result<StandIn, Failure> {
        let standin = StandIn::start(shared_folder_test_support::Options {
            latency,
            share_rate_limit: None,
            // A DELETE takes the latency given here, not the stand-in's own hold of a lock.
            lock_hold: Duration::ZERO,
            ..Default::default()
        })
        .await?;
        standin.make_folder(DIRECTORY);
        Ok(standin)
    }

    fn host(standin: &StandIn) -> TestHost {
        with_deployment_settings(TestHost::on(standin))
    }

    fn account(standin: &StandIn) -> Result<Account, Failure> {
        let options = standin.options();
        account(&standin.url(), &options.username, &options.password)
    }

    fn seen(standin: &StandIn) -> Vec<SeenRequest> {
        standin.seen()
    }
}

/// The OpenCloud component against `opentalk-opencloud-client` (`opencloud_baseline.rs`).
pub struct OpenCloud;

impl Storage for OpenCloud {
    const NAME: &str = "OpenCloud";
    const PROVIDER: &str = "opencloud";
    const COMPONENT: &[u8] = OPENCLOUD_PROVIDER;
    const BASELINE: &str = "baseline (opentalk-opencloud-client)";

    type StandIn = OpenCloudStandIn;
    type Native = OpenCloudBaseline;

    async fn stand_in(latency: Duration) -> Result<OpenCloudStandIn, Failure> {
        let standin = OpenCloudStandIn::start(opencloud::Options {
            latency,
            ..Default::default()
        })
        .await?;
        standin.make_folder(DIRECTORY);
        Ok(standin)
    }

    fn host(standin: &OpenCloudStandIn) -> TestHost {
        with_deployment_settings(TestHost::on_opencloud(standin))
    }

    fn account(standin: &OpenCloudStandIn) -> Result<Account, Failure> {
        let options = standin.options();
        account(&standin.url(), &options.username, &options.app_token)
    }

    fn seen(standin: &OpenCloudStandIn) -> Vec<SeenRequest> {
        standin.seen()
    }
}

/// The directory, links that expire in 7 days, and the limits a deployment has; no compile
/// cache (the hot swap measures compiling a component new to the host).
fn with_deployment_settings(host: TestHost) -> TestHost {
    host.directory(DIRECTORY)
        .line("expiry = 7")
        .limits(Limits::default())
        .without_compile_cache()
}

/// The account `username`/`password` on the storage at `url`, with the rooms' directory.
pub fn account(url: &str, username: &str, password: &str) -> Result<Account, Failure> {
    Ok(Account {
        url: url::Url::parse(url)?,
        username: username.to_owned(),
        password: password.to_owned(),
        directory: DIRECTORY.to_owned(),
        expiry_days: 7,
    })
}
