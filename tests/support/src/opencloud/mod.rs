//! A local OpenCloud stand-in: the slice of OpenCloud's HTTP API (LibreGraph, WebDAV, OCS) that a
//! shared-folder provider uses, answering as a real OpenCloud 0.1.0 was seen to answer and, where
//! nothing was seen, as `/work/shared/opencloud/API-NOTES.md` records OpenCloud's source to
//! answer (its §6, "Corrections", where it corrects itself), in the words of
//! docs/opencloud-behaviour.md, whose sections each rule cites.
//!
//! It is a test double, not OpenCloud: one account with one personal drive, state in memory, on
//! 127.0.0.1, authenticated by HTTP Basic with the account's user name and app token. What it
//! serves (below its optional base path, like an OpenCloud behind a sub-path), and which module
//! answers it:
//! - Graph `GET /graph/v1.0/me/drive`, `me/drives`, an item's `children` and
//!   `me/drive/root/children`, and the item's DELETE (refused): `graph`;
//! - Graph `POST /graph/v1beta1/drives/{d}/items/{i}/createLink` and the item's `permissions`
//!   (list, delete): `links` (with `password_policy` and `expiry`);
//! - WebDAV `/dav/spaces/{driveId}/…` (also under `/remote.php`): MKCOL, HEAD, PROPFIND, PUT,
//!   GET, DELETE into the trash bin: `dav`;
//! - the trash bin, `/remote.php/dav/spaces/trash-bin/{driveId}/…`: listed, an entry purged, the
//!   bin emptied: `trash_bin`;
//! - `GET /ocs/v1.php/cloud/capabilities` (no credentials needed) and `/ocs/v2.php/…`:
//!   `capabilities`; `/status.php`: `answers`;
//! - public links: WebDAV `/remote.php/dav/public-files/{token}/…` with the link's password,
//!   within the link's type (without `/remote.php`: 401 to everything), and the web page
//!   `/s/{token}`: `public_link`.
//!
//! `crate::standin`'s accept loop serves the connections (and goes away for an injected outage).
//! A request goes through `dispatch`: read and routed (`call`), counted, delayed by the latency,
//! given the fault due at its step ([`faults`]), then answered by its module. `answers` writes
//! the bodies as OpenCloud does; `drive` keeps the folders, files, links and trash bin; `ids`
//! makes and reads OpenCloud's identifiers.
//!
//! Tests read its state, count the requests it saw, and inject faults.

mod answers;
mod call;
mod capabilities;
mod dav;
mod dispatch;
mod drive;
mod expiry;
mod faults;
mod graph;
mod ids;
mod links;
mod password_policy;
mod public_link;
mod trash_bin;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use crate::standin::SeenRequest;
pub use drive::{Link, Node, TrashEntry};
pub use faults::{Fault, FaultRule, LinkType, Step};
pub use password_policy::PasswordPolicy;

/// How the stand-in is set up.
#[derive(Debug, Clone)]
pub struct Options {
    /// The account's user name, the Basic user.
    pub username: String,
    /// The account's display name: the personal drive's `name` (docs/opencloud-behaviour.md,
    /// "The personal drive").
    pub display_name: String,
    /// The account's app token, the Basic password (API-NOTES §2 "App tokens").
    pub app_token: String,
    /// Sub-path OpenCloud is served under, e.g. `/opencloud` (empty: the root).
    pub base_path: String,
    /// Added to every answer, as a network round trip would.
    pub latency: Duration,
    /// Port on 127.0.0.1 to listen on; 0: any free one.
    pub port: u16,
    /// The policy link passwords are checked against, and the capabilities publish (API-NOTES
    /// §4; docs/opencloud-behaviour.md, "Password rules").
    pub password_policy: PasswordPolicy,
    /// Whether the account's role allows public links; without, creating one answers 403 "no
    /// permission to create public links" (API-NOTES §2; docs/opencloud-behaviour.md, "Creating
    /// a link").
    pub may_create_links: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            username: "opentalk".into(),
            display_name: "OpenTalk".into(),
            app_token: "stand-in-app-token-3s2K7816M4vuSpd5".into(),
            base_path: String::new(),
            latency: Duration::ZERO,
            port: 0,
            password_policy: PasswordPolicy::default(),
            may_create_links: true,
        }
    }
}

pub(crate) struct World {
    pub drive: drive::Drive,
    pub faults: faults::Faults,
    pub seen: Vec<SeenRequest>,
}

pub(crate) struct Shared {
    pub options: Options,
    /// `OC_URL`: `http://127.0.0.1:<port><base_path>`, without a trailing slash; links and
    /// `webDavUrl`s are built on it (API-NOTES §3.1, §3.5).
    pub base_url: String,
    pub world: Mutex<World>,
    /// The access token a Bearer request of the account must carry now, if any
    /// ([`OpenCloudStandIn::accept_bearer`]).
    pub bearer: Mutex<Option<String>>,
    /// Tells the server to go away for a while ([`Fault::Outage`]).
    pub outages: tokio::sync::mpsc::UnboundedSender<Duration>,
}

impl Shared {
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running OpenCloud stand-in; stops when dropped.
pub struct OpenCloudStandIn {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl OpenCloudStandIn {
    pub async fn start(options: Options) -> std::io::Result<OpenCloudStandIn> {
        let listener = TcpListener::bind(("127.0.0.1", options.port)).await?;
        let addr = listener.local_addr()?;
        let (outages, outage_requests) = tokio::sync::mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            base_url: format!("http://{addr}{}", options.base_path.trim_end_matches('/')),
            options,
            world: Mutex::new(World {
                drive: drive::Drive::new(),
                faults: faults::Faults::default(),
                seen: Vec::new(),
            }),
            bearer: Mutex::new(None),
            outages,
        });
        let handled = Arc::clone(&shared);
        let server = tokio::spawn(crate::standin::server::serve(
            listener,
            move |request| dispatch::handle(Arc::clone(&handled), request),
            None,
            outage_requests,
        ));
        Ok(OpenCloudStandIn {
            addr,
            shared,
            server,
        })
    }

    /// `http://127.0.0.1:<port><base_path>/`: what goes into `[shared_folder].url`.
    pub fn url(&self) -> String {
        format!("{}/", self.shared.base_url)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn options(&self) -> &Options {
        &self.shared.options
    }

    /// The personal drive's id, `<storage uuid>$<space uuid>`, both UUIDs made for this stand-in
    /// (docs/opencloud-behaviour.md, "IDs").
    pub fn drive_id(&self) -> String {
        self.shared.world().drive.drive_id()
    }

    /// The item id (`<drive id>!<opaque>`) of what is at `path`, as HEAD reports it.
    pub fn item_id(&self, path: &str) -> Option<String> {
        self.shared.world().drive.item_id(path.trim_matches('/'))
    }

    pub fn folder_exists(&self, path: &str) -> bool {
        self.shared.world().drive.is_folder(path.trim_matches('/'))
    }

    /// From now on, `Authorization: Bearer <token>` authenticates as the account too, and the
    /// token accepted before does not: an identity provider's access token, rotated (API-NOTES
    /// §2 "OIDC Bearer"; docs/opencloud-behaviour.md, "What the stand-in leaves out": the token
    /// is compared as text, not verified as a JWT).
    pub fn accept_bearer(&self, token: &str) {
        *self.shared.bearer.lock().unwrap_or_else(|p| p.into_inner()) = Some(token.to_owned());
    }

    /// The names of the folders directly inside the folder `path`.
    pub fn folders_in(&self, path: &str) -> Vec<String> {
        let world = self.shared.world();
        let path = path.trim_matches('/');
        world
            .drive
            .children(path)
            .into_iter()
            .filter(|(child, _)| world.drive.is_folder(child))
            .filter_map(|(child, _)| child.rsplit('/').next().map(str::to_owned))
            .collect()
    }

    /// The files at and below the folder `path`, by path relative to it, sorted.
    pub fn files_in(&self, path: &str) -> Vec<String> {
        self.shared.world().drive.files_in(path.trim_matches('/'))
    }

    /// The content of the file at `path`.
    pub fn file(&self, path: &str) -> Option<Vec<u8>> {
        match self.shared.world().drive.get(path.trim_matches('/')) {
            Some(drive::Entry {
                node: Node::File(content),
                ..
            }) => Some(content.clone()),
            _ => None,
        }
    }

    /// The links on what is at `path` now (no leading slash needed).
    pub fn links_on(&self, path: &str) -> Vec<Link> {
        let world = self.shared.world();
        let Some(entry) = world.drive.get(path.trim_matches('/')) else {
            return Vec::new();
        };
        world
            .drive
            .links_on(&entry.opaque)
            .into_iter()
            .cloned()
            .collect()
    }

    /// Deletes the links on what is at `path` that `which` picks, as the account's owner would.
    pub fn remove_links(&self, path: &str, which: impl Fn(&Link) -> bool) {
        let Some(item) = self.item_id(path) else {
            return;
        };
        self.shared
            .world()
            .drive
            .links
            .retain(|link| link.item_id != item || !which(link));
    }

    /// Every link stored, in the order they were made, including those whose folder was deleted
    /// (docs/opencloud-behaviour.md, "Deleting the folder").
    pub fn links(&self) -> Vec<Link> {
        self.shared.world().drive.links.clone()
    }

    pub fn link_count(&self) -> usize {
        self.shared.world().drive.links.len()
    }

    /// The drive's trash bin, newest entry first (API-NOTES §3.8); each entry's
    /// [`TrashEntry::key`] is what `…/trash-bin/<drive>/<key>` names (docs/opencloud-behaviour.md,
    /// "Trash bin").
    pub fn trash(&self) -> Vec<TrashEntry> {
        self.shared.world().drive.trash.clone()
    }

    /// Creates a folder and any missing parents directly (as a user of OpenCloud would).
    pub fn make_folder(&self, path: &str) {
        let mut world = self.shared.world();
        let mut prefix = String::new();
        for segment in path.trim_matches('/').split('/').filter(|s| !s.is_empty()) {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(segment);
            let _ = world.drive.mkcol(&prefix);
        }
    }

    /// Writes a file directly (its parents created as needed).
    pub fn put_file(&self, path: &str, content: &[u8]) {
        let path = path.trim_matches('/');
        if let Some((parent, _)) = path.rsplit_once('/') {
            self.make_folder(parent);
        }
        let _ = self.shared.world().drive.put(path, content.to_vec());
    }

    /// Removes a folder or file and everything below it for good, not into the trash bin (as an
    /// administrator purging it would); links on it stay.
    pub fn remove(&self, path: &str) {
        let _ = self.shared.world().drive.purge(path.trim_matches('/'));
    }

    /// Deletes a folder or file into the trash bin directly (as a user of OpenCloud would).
    pub fn move_to_trash(&self, path: &str) {
        let _ = self
            .shared
            .world()
            .drive
            .trash_path(path.trim_matches('/'), expiry::now_unix());
    }

    pub fn inject(&self, rule: FaultRule) {
        self.shared.world().faults.add(rule);
    }

    pub fn clear_faults(&self) {
        self.shared.world().faults.clear();
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<SeenRequest> {
        self.shared.world().seen.clone()
    }

    pub fn forget_seen(&self) {
        self.shared.world().seen.clear();
    }
}

impl Drop for OpenCloudStandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}
