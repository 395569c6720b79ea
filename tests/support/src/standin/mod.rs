//! A local NextCloud stand-in: the slice of NextCloud's HTTP API a shared-folder provider uses,
//! answering as a real NextCloud 32 was measured to (docs/nextcloud-behaviour.md, whose sections
//! each rule cites).
//!
//! It is a test double, not NextCloud: one account, state in memory, on 127.0.0.1. What it
//! serves (below its optional base path, like a NextCloud in a sub-directory), and which module
//! answers it:
//! - WebDAV `/remote.php/dav/files/<user>/…`: MKCOL, PROPFIND, PUT, GET, DELETE (basic auth):
//!   `webdav`;
//! - OCS v2 `/ocs/v2.php/apps/files_sharing/api/v1/shares`: create (JSON or form), list by
//!   path, get, update, delete: `shares`; every OCS call needs credentials and
//!   `OCS-APIRequest` (`ocs`);
//! - OCS v2 `/ocs/v2.php/apps/password_policy/api/v1/generate` (`password_policy`) and
//!   `/ocs/v2.php/cloud/capabilities` (`ocs`);
//! - the trash bin `/remote.php/dav/trashbin/<user>/trash/`: PROPFIND, DELETE (`trash`, which
//!   also puts what a WebDAV DELETE removes into it);
//! - public links `/public.php/dav/files/<token>/…` with the share password, enforcing the
//!   share's permissions: `public_link`.
//!
//! `server` accepts the connections (and closes them all for an injected outage). A request
//! goes through `dispatch`: read (`call`), authenticated by its session cookie or its
//! password (`sessions`), holding what it locks while it runs (`locks`), given the fault due
//! at its step ([`faults`]), then answered by its protocol's module. [`answers`] writes the
//! bodies as NextCloud does; [`storage`] keeps the files, folders, shares and trash bin.
//!
//! Tests read its state, count the requests it saw, and inject faults ([`faults`]).

pub mod answers;
pub mod faults;
pub mod storage;

pub(crate) mod call;
pub(crate) mod dispatch;
mod locks;
mod ocs;
mod owncloud;
mod password_policy;
mod public_link;
pub(crate) mod server;
mod sessions;
mod shares;
mod trash;
mod webdav;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use faults::{Fault, FaultRule, Step};
pub use owncloud::Flavour;
pub use storage::{LinkShare, Node, Storage, TrashEntry};

/// How the stand-in is set up.
#[derive(Debug, Clone)]
pub struct Options {
    pub username: String,
    pub password: String,
    /// Sub-path NextCloud is served under, e.g. `/nextcloud` (empty: the root).
    pub base_path: String,
    /// Added to every answer, as a network round trip would.
    pub latency: Duration,
    /// NextCloud allows 20 new shares per user per 10 minutes, then answers 429
    /// (docs/nextcloud-behaviour.md, "Share rate limit"; recording `14`). `None` switches the limit
    /// off for tests that create many rooms.
    pub share_rate_limit: Option<usize>,
    /// Minimum share password length of the password policy (NextCloud's default: 10,
    /// docs/nextcloud-behaviour.md, "Password policy"; recording `11`).
    pub password_min_length: usize,
    /// Port on 127.0.0.1 to listen on; 0: any free one.
    pub port: u16,
    /// Serve HTTPS with this certificate instead of plain HTTP; the URL then names
    /// `localhost`.
    pub tls: Option<TlsIdentity>,
    /// How long a share's DELETE holds the lock of its folder: a DELETE of the folder meanwhile
    /// answers 423 Locked, and a share DELETE while its folder's DELETE runs answers NextCloud's
    /// HTML 404 (docs/nextcloud-behaviour.md, "Locking"; recordings `15`, `23 (d)`).
    pub lock_hold: Duration,
    /// The share of folder DELETEs answered 423 Locked as if another request held the lock; on the
    /// real server 5 of 43 to 13 of 40 when requests on one folder overlap
    /// (docs/nextcloud-behaviour.md, "Locking"; recordings `15`, `23`).
    pub lock_rate: f64,
    /// Whether deleted files and folders go to the trash bin (NextCloud's default) or are gone for
    /// good (the trash bin app disabled) (docs/nextcloud-behaviour.md, "Trash bin"; recording
    /// `19`).
    pub trash_bin: bool,
    /// The origin (and path) share links are built with, as a NextCloud behind a proxy that was not
    /// told the public address does (docs/nextcloud-behaviour.md, "Links behind a proxy"; recording
    /// `18`); `None`: the stand-in's own scheme and the request's `Host`.
    pub link_base: Option<String>,
    /// Whether the account password is an app password. A login password's answers set
    /// `cookie_test`, an app password's do not (docs/nextcloud-behaviour.md, "Authentication cost
    /// and sessions"; recording `21`).
    pub app_password: bool,
    /// Which server to answer as: NextCloud 32, or ownCloud 10 (`owncloud`).
    pub flavour: Flavour,
    /// What the capabilities say of the caller's address: on the brute-force allowlist or not
    /// (docs/nextcloud-behaviour.md, "Capabilities"; recording `22 [4]`).
    pub allow_listed: bool,
}

/// A server certificate (chain) and its private key, PEM-encoded.
#[derive(Clone)]
pub struct TlsIdentity {
    pub certificate_chain_pem: String,
    pub private_key_pem: String,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity").finish_non_exhaustive()
    }
}

impl TlsIdentity {
    fn acceptor(&self) -> std::io::Result<tokio_rustls::TlsAcceptor> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let invalid = |e: rustls::pki_types::pem::Error| std::io::Error::other(e.to_string());
        let chain = CertificateDer::pem_slice_iter(self.certificate_chain_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(invalid)?;
        let key =
            PrivateKeyDer::from_pem_slice(self.private_key_pem.as_bytes()).map_err(invalid)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|builder| builder.with_no_client_auth().with_single_cert(chain, key))
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            username: "opentalk".into(),
            password: "stand-in-account-Passw0rd".into(),
            base_path: String::new(),
            latency: Duration::ZERO,
            share_rate_limit: None,
            password_min_length: 10,
            port: 0,
            tls: None,
            lock_hold: Duration::from_millis(5),
            lock_rate: 0.0,
            trash_bin: true,
            link_base: None,
            app_password: false,
            allow_listed: false,
            flavour: Flavour::NextCloud,
        }
    }
}

/// A request as the stand-in saw it, for tests to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    pub method: String,
    /// Path and query as sent (percent-encoded).
    pub target: String,
    /// Whether the account's credentials came with it.
    pub authenticated: bool,
    /// Bytes of body received.
    pub body_len: usize,
}

pub(crate) struct World {
    pub storage: Storage,
    pub faults: faults::Faults,
    pub seen: Vec<SeenRequest>,
    pub shares_created: usize,
    /// When recent shares were created, for the rate limit.
    pub share_times: Vec<std::time::Instant>,
    pub locks: locks::Locks,
    pub sessions: sessions::Sessions,
}

pub(crate) struct Shared {
    pub options: Options,
    pub world: Mutex<World>,
    /// Tells the server to go away for a while ([`Fault::Outage`]).
    pub outages: tokio::sync::mpsc::UnboundedSender<Duration>,
}

impl Shared {
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running stand-in; stops when dropped.
pub struct StandIn {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl StandIn {
    pub async fn start(options: Options) -> std::io::Result<StandIn> {
        let listener = TcpListener::bind(("127.0.0.1", options.port)).await?;
        let addr = listener.local_addr()?;
        let (outages, outage_requests) = tokio::sync::mpsc::unbounded_channel();
        let tls = options
            .tls
            .as_ref()
            .map(TlsIdentity::acceptor)
            .transpose()?;
        let shared = Arc::new(Shared {
            outages,
            options,
            world: Mutex::new(World {
                storage: Storage::new(),
                faults: faults::Faults::default(),
                seen: Vec::new(),
                shares_created: 0,
                share_times: Vec::new(),
                locks: locks::Locks::default(),
                sessions: sessions::Sessions::default(),
            }),
        });
        let handled = Arc::clone(&shared);
        let server = tokio::spawn(server::serve(
            listener,
            move |request| dispatch::handle(Arc::clone(&handled), request),
            tls,
            outage_requests,
        ));
        Ok(StandIn {
            addr,
            shared,
            server,
        })
    }

    /// `http://127.0.0.1:<port><base_path>/` (`https://localhost:…` with TLS): what goes into
    /// `[shared_folder].url`.
    pub fn url(&self) -> String {
        let base = &self.shared.options.base_path;
        match self.shared.options.tls {
            None => format!("http://{}{base}/", self.addr),
            Some(_) => format!("https://localhost:{}{base}/", self.addr.port()),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn options(&self) -> &Options {
        &self.shared.options
    }

    /// A copy of the stored files, folders and shares.
    pub fn storage(&self) -> Storage {
        self.shared.world().storage.clone()
    }

    /// The names of what lies directly inside the folder `path` (no leading slash), folders
    /// and files alike.
    pub fn entries_in(&self, path: &str) -> Vec<String> {
        let prefix = format!("{}/", path.trim_matches('/'));
        self.storage()
            .nodes
            .keys()
            .filter_map(|p| p.strip_prefix(&prefix))
            .filter(|rest| !rest.contains('/'))
            .map(str::to_owned)
            .collect()
    }

    /// The names of the folders directly inside the folder `path` (no leading slash).
    pub fn folders_in(&self, path: &str) -> Vec<String> {
        let parent = path.trim_matches('/');
        self.entries_in(parent)
            .into_iter()
            .filter(|name| self.folder_exists(&format!("{parent}/{name}")))
            .collect()
    }

    pub fn folder_exists(&self, path: &str) -> bool {
        self.shared
            .world()
            .storage
            .is_folder(path.trim_matches('/'))
    }

    /// The shares on `path` (no leading slash).
    pub fn shares_on(&self, path: &str) -> Vec<LinkShare> {
        let path = path.trim_matches('/');
        self.shared
            .world()
            .storage
            .shares
            .values()
            .filter(|s| s.path == path)
            .cloned()
            .collect()
    }

    /// Deletes the shares on `path` that `which` picks, as the account's owner would.
    pub fn remove_shares(&self, path: &str, which: impl Fn(&LinkShare) -> bool) {
        let path = path.trim_matches('/');
        self.shared
            .world()
            .storage
            .shares
            .retain(|_, share| share.path != path || !which(share));
    }

    /// Creates a folder directly (as a user of NextCloud would), for tests of conflicts.
    pub fn make_folder(&self, path: &str) {
        let mut world = self.shared.world();
        let mut prefix = String::new();
        for segment in path.trim_matches('/').split('/') {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(segment);
            let _ = world.storage.mkcol(&prefix);
        }
    }

    /// Removes a node directly (as a user of NextCloud would), with its shares.
    pub fn remove(&self, path: &str) {
        let _ = self.shared.world().storage.delete(path.trim_matches('/'));
    }

    /// Deletes a node into the trash bin directly (as a user of NextCloud would).
    pub fn move_to_trash(&self, path: &str) {
        let _ = self
            .shared
            .world()
            .storage
            .move_to_trash(path.trim_matches('/'), trash::now_unix());
    }

    pub fn inject(&self, rule: FaultRule) {
        self.shared.world().faults.add(rule);
    }

    pub fn clear_faults(&self) {
        self.shared.world().faults.clear();
    }

    /// How many answers were 423 Locked.
    pub fn locked_answers(&self) -> usize {
        self.shared.world().locks.locked_answers
    }

    /// How many times a request's password was checked (each costs a real NextCloud about 0.6 s
    /// with a login password: docs/nextcloud-behaviour.md, "Authentication cost and sessions");
    /// requests with a valid session cookie are not checked.
    pub fn password_checks(&self) -> usize {
        self.shared.world().sessions.password_checks
    }

    /// The live sessions' ids (a session authenticates by itself: a secret).
    pub fn session_ids(&self) -> Vec<String> {
        self.shared.world().sessions.ids()
    }

    /// Ends every session, as their expiry or a changed password does.
    pub fn end_sessions(&self) {
        self.shared.world().sessions.end_all();
    }

    /// The trash bin, newest entry first.
    pub fn trash(&self) -> Vec<TrashEntry> {
        self.shared.world().storage.trash.clone()
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<SeenRequest> {
        self.shared.world().seen.clone()
    }

    pub fn forget_seen(&self) {
        self.shared.world().seen.clear();
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Returned by the service to make hyper close the connection without an answer.
#[derive(Debug)]
pub(crate) struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for DropConnection {}
