//! Both stand-ins behind one face, for the tests that run against every provider: start the
//! storage of a [`Kind`], set a host up on it with its provider, read what it holds, inject a
//! fault at a step every provider takes, and use a link as a participant would.

use shared_folder_host::ShareLink;
use shared_folder_host::public_links::PublicDav;

use crate::opencloud::{self, LinkType, OpenCloudStandIn};
use crate::standin::{self, Fault, StandIn};
use crate::test_host::TestHost;

/// A provider with its storage's stand-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The NextCloud provider on the NextCloud stand-in.
    NextCloud,
    /// The NextCloud provider, named `owncloud`, on the NextCloud stand-in answering as
    /// ownCloud 10 (`standin::Flavour::OwnCloud`).
    OwnCloud,
    /// The OpenCloud provider on the OpenCloud stand-in.
    OpenCloud,
}

impl Kind {
    /// Every provider the tests run against.
    pub const ALL: [Kind; 3] = [Kind::NextCloud, Kind::OwnCloud, Kind::OpenCloud];

    /// The provider's name (`[shared_folder].provider`).
    pub fn provider(self) -> &'static str {
        match self {
            Kind::NextCloud => "nextcloud",
            Kind::OwnCloud => "owncloud",
            Kind::OpenCloud => "opencloud",
        }
    }
}

/// A step every provider's create or delete takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Making the room's folder (its first MKCOL).
    MakeFolder,
    /// Making the read-only link.
    CreateReadLink,
    /// Making the read-write link.
    CreateReadWriteLink,
    /// Deleting a link (the `nth` in order).
    DeleteLink,
    /// Deleting the folder.
    DeleteFolder,
}

/// A running stand-in of either kind; stops when dropped.
pub enum AnyStandIn {
    /// NextCloud's, answering as NextCloud or as ownCloud (its `flavour`).
    NextCloud(StandIn),
    /// OpenCloud's.
    OpenCloud(OpenCloudStandIn),
}

/// One link as the stand-in holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLink {
    /// The token, the last segment of its URL.
    pub token: String,
    /// The password the provider set.
    pub password: Option<String>,
    /// Whether participants may write through it.
    pub writable: bool,
}

impl AnyStandIn {
    /// Starts the stand-in of `kind` with its default options.
    pub async fn start(kind: Kind) -> AnyStandIn {
        match kind {
            Kind::NextCloud => AnyStandIn::NextCloud(
                StandIn::start(standin::Options::default())
                    .await
                    .expect("the NextCloud stand-in starts"),
            ),
            Kind::OwnCloud => AnyStandIn::NextCloud(
                StandIn::start(standin::Options {
                    flavour: standin::Flavour::OwnCloud,
                    ..standin::Options::default()
                })
                .await
                .expect("the ownCloud stand-in starts"),
            ),
            Kind::OpenCloud => AnyStandIn::OpenCloud(
                OpenCloudStandIn::start(opencloud::Options::default())
                    .await
                    .expect("the OpenCloud stand-in starts"),
            ),
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            AnyStandIn::NextCloud(s) if s.options().flavour == standin::Flavour::OwnCloud => {
                Kind::OwnCloud
            }
            AnyStandIn::NextCloud(_) => Kind::NextCloud,
            AnyStandIn::OpenCloud(_) => Kind::OpenCloud,
        }
    }

    pub fn url(&self) -> String {
        match self {
            AnyStandIn::NextCloud(s) => s.url(),
            AnyStandIn::OpenCloud(s) => s.url(),
        }
    }

    /// A host on it with its provider ([`TestHost::on`] / [`TestHost::on_opencloud`]).
    pub fn host(&self) -> TestHost {
        match self {
            AnyStandIn::NextCloud(s) => TestHost::on(s).provider(self.kind().provider()),
            AnyStandIn::OpenCloud(s) => TestHost::on_opencloud(s),
        }
    }

    pub fn folder_exists(&self, path: &str) -> bool {
        match self {
            AnyStandIn::NextCloud(s) => s.folder_exists(path),
            AnyStandIn::OpenCloud(s) => s.folder_exists(path),
        }
    }

    /// The links on the folder at `path`.
    pub fn links_on(&self, path: &str) -> Vec<StoredLink> {
        match self {
            AnyStandIn::NextCloud(s) => s
                .shares_on(path)
                .into_iter()
                .map(|share| StoredLink {
                    writable: share.can(4),
                    token: share.token,
                    password: share.password,
                })
                .collect(),
            AnyStandIn::OpenCloud(s) => s
                .links_on(path)
                .into_iter()
                .map(|link| StoredLink {
                    writable: link.link_type == "edit",
                    token: link.token,
                    password: link.password,
                })
                .collect(),
        }
    }

    /// Every link it holds, on any folder (one a provider left behind included).
    pub fn link_count(&self) -> usize {
        match self {
            AnyStandIn::NextCloud(s) => s.storage().shares.len(),
            AnyStandIn::OpenCloud(s) => s.link_count(),
        }
    }

    /// The tokens of every link it holds.
    pub fn link_tokens(&self) -> Vec<String> {
        match self {
            AnyStandIn::NextCloud(s) => s.storage().shares.into_values().map(|l| l.token).collect(),
            AnyStandIn::OpenCloud(s) => s.links().into_iter().map(|l| l.token).collect(),
        }
    }

    /// The names of the folders directly inside the folder `path`.
    pub fn folders_in(&self, path: &str) -> Vec<String> {
        match self {
            AnyStandIn::NextCloud(s) => s.folders_in(path),
            AnyStandIn::OpenCloud(s) => s.folders_in(path),
        }
    }

    /// Makes the folder `path` (with its parents), as the account's owner would.
    /// Where each entry of the account's trash bin came from.
    pub fn trash_locations(&self) -> Vec<String> {
        match self {
            AnyStandIn::NextCloud(s) => {
                s.trash().into_iter().map(|e| e.original_location).collect()
            }
            AnyStandIn::OpenCloud(s) => {
                s.trash().into_iter().map(|e| e.original_location).collect()
            }
        }
    }

    /// Deletes a folder or file into the trash bin directly, as a user would.
    pub fn move_to_trash(&self, path: &str) {
        match self {
            AnyStandIn::NextCloud(s) => s.move_to_trash(path),
            AnyStandIn::OpenCloud(s) => s.move_to_trash(path),
        }
    }

    pub fn make_folder(&self, path: &str) {
        match self {
            AnyStandIn::NextCloud(s) => s.make_folder(path),
            AnyStandIn::OpenCloud(s) => s.make_folder(path),
        }
    }

    /// Deletes the links of one kind (read-write when `writable`) on the folder at `path`, as
    /// the account's owner would by hand.
    pub fn remove_links(&self, path: &str, writable: bool) {
        let path = path.trim_matches('/');
        match self {
            AnyStandIn::NextCloud(s) => s.remove_shares(path, |share| share.can(4) == writable),
            AnyStandIn::OpenCloud(s) => {
                s.remove_links(path, |link| (link.link_type == "edit") == writable)
            }
        }
    }

    /// Removes what is at `path` for good.
    pub fn remove(&self, path: &str) {
        match self {
            AnyStandIn::NextCloud(s) => s.remove(path),
            AnyStandIn::OpenCloud(s) => s.remove(path),
        }
    }

    /// How many requests it has seen, with how many of them carrying the account's
    /// credentials.
    pub fn requests(&self) -> (usize, usize) {
        let seen = match self {
            AnyStandIn::NextCloud(s) => s.seen(),
            AnyStandIn::OpenCloud(s) => s.seen(),
        };
        (seen.len(), seen.iter().filter(|r| r.authenticated).count())
    }

    pub fn forget_seen(&self) {
        match self {
            AnyStandIn::NextCloud(s) => s.forget_seen(),
            AnyStandIn::OpenCloud(s) => s.forget_seen(),
        }
    }

    /// Injects `fault` at the `nth` (0-based) time `action` happens from now on.
    pub fn inject(&self, action: Action, nth: usize, fault: Fault) {
        match self {
            AnyStandIn::NextCloud(s) => {
                let step = match action {
                    Action::MakeFolder => standin::Step::Mkcol,
                    Action::CreateReadLink => standin::Step::CreateShare { permissions: 1 },
                    Action::CreateReadWriteLink => standin::Step::CreateShare { permissions: 15 },
                    Action::DeleteLink => standin::Step::DeleteShare,
                    Action::DeleteFolder => standin::Step::DeleteFolder,
                };
                s.inject(standin::FaultRule { step, nth, fault });
            }
            AnyStandIn::OpenCloud(s) => {
                let step = match action {
                    // The room's folder is made first (its parents only on a 409), as the
                    // NextCloud provider does.
                    Action::MakeFolder => opencloud::Step::Mkcol,
                    Action::CreateReadLink => opencloud::Step::CreateLink {
                        link_type: LinkType::View,
                    },
                    Action::CreateReadWriteLink => opencloud::Step::CreateLink {
                        link_type: LinkType::Edit,
                    },
                    Action::DeleteLink => opencloud::Step::DeleteLink,
                    Action::DeleteFolder => opencloud::Step::DeleteFolder,
                };
                s.inject(opencloud::FaultRule { step, nth, fault });
            }
        }
    }

    pub fn clear_faults(&self) {
        match self {
            AnyStandIn::NextCloud(s) => s.clear_faults(),
            AnyStandIn::OpenCloud(s) => s.clear_faults(),
        }
    }

    /// Sends `method` to `file` inside the folder `link` shares, with the link's password, as
    /// a participant's WebDAV client would. Returns the status.
    pub async fn use_link(
        &self,
        link: &ShareLink,
        method: &str,
        file: &str,
        body: &[u8],
    ) -> Result<u16, String> {
        let dav = PublicDav::of_provider(self.kind().provider()).ok_or("no public WebDAV")?;
        let (status, _) =
            crate::public_link::request(dav, &link.url, link.password.expose(), method, file, body)
                .await?;
        Ok(status)
    }
}
