//! The one way the tests and the benchmark set up a host on a stand-in: the `[shared_folder]`
//! section pointing at it, the limits tests use, and the host built from them.
//!
//! ```no_run
//! # async fn example() {
//! use shared_folder_test_support::{Options, StandIn, TestHost};
//! let standin = StandIn::start(Options::default()).await.expect("stand-in starts");
//! let host = TestHost::on(&standin).line("expiry = 7").build();
//! host.create("room-1").await.expect("created");
//! # }
//! ```

use std::collections::BTreeSet;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use shared_folder_host::runtime::{
    ConnectionSettings, OPENCLOUD_PROVIDER, OutboundLimits, content_digest,
};
use shared_folder_host::{
    ConfigError, Error, HostError, Limits, NEXTCLOUD_PROVIDER, Options, Records, Runtime,
    SharedFolderConfig, SharedFolders,
};

use crate::opencloud::OpenCloudStandIn;
use crate::standin::StandIn;

/// A host's set-up, built step by step; [`TestHost::build`] makes it.
#[derive(Debug)]
pub struct TestHost {
    provider: String,
    url: String,
    username: String,
    password: String,
    directory: String,
    /// More lines of `[shared_folder]` (e.g. `expiry = 7`).
    lines: Vec<String>,
    options: Options,
    component: Vec<u8>,
    records: Option<Records>,
    /// A `[shared_folder]` section written out, instead of the one made of the fields above.
    section: Option<String>,
}

impl TestHost {
    /// A host on `standin`, with its account, the directory `opentalk/meetings`,
    /// [`test_limits`], the built-in NextCloud provider and records in memory.
    pub fn on(standin: &StandIn) -> Self {
        let options = standin.options();
        Self::at(&standin.url(), &options.username, &options.password)
    }

    /// A host on the OpenCloud stand-in `standin`, with its account (the app token as the
    /// password), the OpenCloud provider and otherwise as [`TestHost::on`].
    pub fn on_opencloud(standin: &OpenCloudStandIn) -> Self {
        let options = standin.options();
        Self::at(&standin.url(), &options.username, &options.app_token)
            .provider("opencloud")
            .component(OPENCLOUD_PROVIDER)
    }

    /// As [`TestHost::on`], for the storage at `url` with the account `username`/`password`.
    pub fn at(url: &str, username: &str, password: &str) -> Self {
        TestHost {
            provider: "nextcloud".to_owned(),
            url: url.to_owned(),
            username: username.to_owned(),
            password: password.to_owned(),
            directory: "opentalk/meetings".to_owned(),
            lines: Vec::new(),
            options: Options {
                limits: test_limits(),
                // The stand-in speaks plain http (`StandIn::start_tls` for https).
                allow_plain_http: true,
                // Compiled once for all tests; `without_compile_cache` to compile anew.
                cache_dir: Some(crate::COMPILED_COMPONENTS.into()),
                ..Options::default()
            },
            component: NEXTCLOUD_PROVIDER.to_vec(),
            records: None,
            section: None,
        }
    }

    /// Another `provider` name in `[shared_folder]` (the component stays what
    /// [`TestHost::component`] says).
    pub fn provider(mut self, provider: &str) -> Self {
        self.provider = provider.to_owned();
        self
    }

    /// Another `directory`.
    pub fn directory(mut self, directory: &str) -> Self {
        self.directory = directory.to_owned();
        self
    }

    /// One more line of `[shared_folder]`, e.g. `expiry = 7` (an empty one adds nothing).
    pub fn line(mut self, line: &str) -> Self {
        if !line.is_empty() {
            self.lines.push(line.to_owned());
        }
        self
    }

    /// Other limits than [`test_limits`].
    pub fn limits(mut self, limits: Limits) -> Self {
        self.options.limits = limits;
        self
    }

    /// Other connection settings (a CA bundle, the session kept or not, no reuse).
    pub fn connections(mut self, connections: ConnectionSettings) -> Self {
        self.options.connections = connections;
        self
    }

    /// Another instance allocator (`false`: on demand instead of pooling).
    pub fn pooling(mut self, pooling: bool) -> Self {
        self.options.pooling = pooling;
        self
    }

    /// Compiled components kept in `folder` (by content digest).
    pub fn cache_dir(mut self, folder: &std::path::Path) -> Self {
        self.options.cache_dir = Some(folder.to_owned());
        self
    }

    /// No compile cache at all (the tests' shared one, [`crate::COMPILED_COMPONENTS`], is the
    /// default): every component new to the runtime is compiled, as the benchmark's compile
    /// and swap measures need.
    pub fn without_compile_cache(mut self) -> Self {
        self.options.cache_dir = None;
        self
    }

    /// Another provider component than the built-in NextCloud one.
    pub fn component(mut self, component: &[u8]) -> Self {
        self.component = component.to_vec();
        self
    }

    /// Records kept there instead of in memory (e.g. [`Records::open`]ed from a file).
    pub fn records(mut self, records: Records) -> Self {
        self.records = Some(records);
        self
    }

    /// This `[shared_folder]` section as it is, instead of the one the other settings make
    /// (e.g. with `auth = "bearer"`).
    pub fn config_text(mut self, section: &str) -> Self {
        self.section = Some(section.to_owned());
        self
    }

    /// The `[shared_folder]` section, as a configuration file holds it.
    pub fn shared_folder_toml(&self) -> String {
        if let Some(section) = &self.section {
            return section.clone();
        }
        // Each value written as TOML writes a string, escapes included.
        let quoted = |text: &str| toml::Value::String(text.to_owned()).to_string();
        let mut text = format!(
            "[shared_folder]\nprovider = {}\nurl = {}\nusername = {}\npassword = {}\ndirectory = {}\n",
            quoted(&self.provider),
            quoted(&self.url),
            quoted(&self.username),
            quoted(&self.password),
            quoted(&self.directory)
        );
        for line in &self.lines {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// The section, read as the host reads it.
    pub fn try_config(&self) -> Result<SharedFolderConfig, ConfigError> {
        SharedFolderConfig::from_toml(&self.shared_folder_toml())
    }

    /// The runtime alone (no records).
    pub fn try_runtime(&self) -> Result<Runtime, Error> {
        let _first = self.first_of_its_component();
        Runtime::new(self.try_config()?, &self.component, self.options.clone())
    }

    /// The tests of a binary start together and mostly with the same components: the first
    /// runtime of a component (in this process) is made alone, so that it compiles the
    /// component into the cache and the others load it, rather than each compiling it at once.
    fn first_of_its_component(&self) -> Option<MutexGuard<'static, BTreeSet<String>>> {
        static STARTED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
        self.options.cache_dir.as_ref()?;
        let mut started = STARTED.lock().unwrap_or_else(PoisonError::into_inner);
        started
            .insert(content_digest(&self.component))
            .then_some(started)
    }

    /// The host.
    pub fn try_build(self) -> Result<SharedFolders, HostError> {
        let runtime = self.try_runtime()?;
        let records = match self.records {
            Some(records) => records,
            None => Records::in_memory()?,
        };
        Ok(SharedFolders::new(runtime, records))
    }

    /// [`TestHost::try_config`], for tests: a set-up that does not read is a broken test.
    pub fn config(&self) -> SharedFolderConfig {
        self.try_config()
            .unwrap_or_else(|e| panic!("test configuration: {e}"))
    }

    /// [`TestHost::try_runtime`], for tests.
    pub fn runtime(&self) -> Runtime {
        self.try_runtime()
            .unwrap_or_else(|e| panic!("runtime starts: {e}"))
    }

    /// [`TestHost::try_build`], for tests.
    pub fn build(self) -> SharedFolders {
        self.try_build()
            .unwrap_or_else(|e| panic!("host starts: {e}"))
    }
}

/// Limits for tests: short waits, so that injected slowness shows within seconds.
pub fn test_limits() -> Limits {
    Limits {
        outbound: OutboundLimits {
            connect_timeout: Duration::from_secs(2),
            first_byte_timeout: Duration::from_secs(2),
            between_bytes_timeout: Duration::from_secs(2),
            ..OutboundLimits::default()
        },
        call_deadline: Duration::from_secs(20),
        ..Limits::default()
    }
}

/// A stand-in started with `options`, and a host on it ([`TestHost::on`]) with `extra` lines
/// in `[shared_folder]`.
pub async fn standin_and_host(options: crate::Options, extra: &str) -> (StandIn, SharedFolders) {
    let standin = StandIn::start(options).await.expect("stand-in starts");
    let host = TestHost::on(&standin).line(extra).build();
    (standin, host)
}
