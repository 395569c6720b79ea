//! The real servers of a run, and what the target reads of their state behind the host's back:
//! the folders, links and trash entries of this run (for the `leftovers` expectations and the
//! clean-up at the end).
//!
//! `REAL_SERVERS` names a TOML file with one `[[server]]` table per server:
//!
//! | field | meaning |
//! |---|---|
//! | `name` | how the matrix names it (default: kind and port) |
//! | `kind` | `nextcloud`, `owncloud` or `opencloud`: which provider serves it, how its links open, how its state is read |
//! | `url` | its base URL |
//! | `username` | the account |
//! | `password`, `password_env` | the account's (app) password, or the variable that holds it |

use serde::Deserialize;
use serde_json::Value;
use shared_folder_test_support::client::{self, Reply};

/// A storage system the target knows how to read.
// The products' own names, which happen to share a suffix.
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    NextCloud,
    OwnCloud,
    OpenCloud,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::NextCloud => "NextCloud",
            Kind::OwnCloud => "ownCloud",
            Kind::OpenCloud => "OpenCloud",
        }
    }

    /// `[shared_folder].provider` for it.
    pub fn provider(self) -> &'static str {
        match self {
            Kind::NextCloud => "nextcloud",
            Kind::OwnCloud => "owncloud",
            Kind::OpenCloud => "opencloud",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerEntry {
    name: Option<String>,
    kind: Kind,
    url: String,
    username: String,
    password: Option<String>,
    password_env: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServersFile {
    server: Vec<ServerEntry>,
}

/// One real server, and this run's folder on it.
pub struct RealServer {
    pub name: String,
    pub kind: Kind,
    /// Its base URL, ending in `/`.
    pub url: String,
    pub user: String,
    pub password: String,
    /// This run's folder, below the account's root: `shared-folder-tests/run-<time>`.
    pub root: String,
}

/// The servers the environment names; `None` when it names none.
pub fn configured() -> Result<Option<Vec<RealServer>>, String> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let entries = if let Ok(file) = std::env::var("REAL_SERVERS") {
        let text = std::fs::read_to_string(&file).map_err(|e| format!("{file}: {e}"))?;
        let parsed: ServersFile = toml::from_str(&text).map_err(|e| format!("{file}: {e}"))?;
        parsed.server
    } else {
        let get = |name: &str| std::env::var(name).ok();
        let (Some(kind), Some(url), Some(username)) = (
            get("REAL_SERVER_KIND"),
            get("REAL_SERVER_URL"),
            get("REAL_SERVER_USER"),
        ) else {
            return Ok(None);
        };
        let kind = Kind::deserialize(serde_json::Value::String(kind.clone())).map_err(|_| {
            format!("REAL_SERVER_KIND: {kind:?} is not nextcloud, owncloud or opencloud")
        })?;
        vec![ServerEntry {
            name: None,
            kind,
            url,
            username,
            password: None,
            password_env: Some("REAL_SERVER_PASSWORD".into()),
        }]
    };
    let mut servers = Vec::new();
    for entry in entries {
        let password = match (entry.password, entry.password_env) {
            (Some(password), None) => password,
            (None, Some(variable)) => std::env::var(&variable)
                .map_err(|_| format!("{}: {variable} is not set", entry.url))?,
            _ => return Err(format!("{}: give one of password, password_env", entry.url)),
        };
        let url = entry.url.trim_end_matches('/').to_owned() + "/";
        let name = entry.name.unwrap_or_else(|| {
            let port = url.rsplit(':').next().unwrap_or("").trim_end_matches('/');
            format!("{}-{port}", entry.kind.provider())
        });
        servers.push(RealServer {
            name,
            kind: entry.kind,
            url,
            user: entry.username,
            password,
            root: format!("shared-folder-tests/run-{stamp}"),
        });
    }
    Ok(Some(servers))
}

/// Percent-encodes each segment of `path`.
pub fn encode_path(path: &str) -> String {
    path.split('/')
        .map(|s| {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
        })
        .collect::<Vec<_>>()
        .join("/")
}

impl RealServer {
    /// A request to the server as the account.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Reply, String> {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{}", self.url, path.trim_start_matches('/'))
        };
        client::send(
            method,
            &url,
            Some((&self.user, &self.password)),
            headers,
            body,
        )
        .await
        .map_err(|e| format!("{method} {url}: {e}"))
    }

    /// The server's version as it tells it (`status.php`; OpenCloud's capabilities).
    pub async fn version(&self) -> String {
        let answer = match self.kind {
            Kind::OpenCloud => {
                self.request(
                    "GET",
                    "ocs/v1.php/cloud/capabilities?format=json",
                    &[("ocs-apirequest", "true")],
                    b"",
                )
                .await
            }
            _ => self.request("GET", "status.php", &[], b"").await,
        };
        let Ok(reply) = answer else {
            return "unknown".into();
        };
        let json: Value = serde_json::from_slice(&reply.body).unwrap_or_default();
        let version = match self.kind {
            Kind::OpenCloud => &json["ocs"]["data"]["version"]["productversion"],
            _ => &json["versionstring"],
        };
        version.as_str().unwrap_or("unknown").to_owned()
    }

    /// The WebDAV path of `path` below the account's files.
    pub fn dav(&self, path: &str) -> String {
        format!(
            "remote.php/dav/files/{}/{}",
            encode_path(&self.user),
            encode_path(path)
        )
    }

    /// Whether `path` (below the account's root) exists.
    pub async fn exists(&self, path: &str) -> bool {
        matches!(
            self.request("PROPFIND", &self.dav(path), &[("depth", "0")], b"").await,
            Ok(reply) if reply.status == 207
        )
    }

    /// Makes the folder `path` and its parents, as a user would.
    pub async fn make_folder(&self, path: &str) -> Result<(), String> {
        let mut made = String::new();
        for segment in path.split('/') {
            if !made.is_empty() {
                made.push('/');
            }
            made.push_str(segment);
            let reply = self.request("MKCOL", &self.dav(&made), &[], b"").await?;
            if !matches!(reply.status, 201 | 405) {
                return Err(format!("MKCOL {made}: {}", reply.status));
            }
        }
        Ok(())
    }

    /// Folders and files directly inside `path` (none when it is missing).
    pub async fn children(&self, path: &str) -> Result<usize, String> {
        let reply = self
            .request("PROPFIND", &self.dav(path), &[("depth", "1")], b"")
            .await?;
        match reply.status {
            404 => Ok(0),
            207 => Ok(reply
                .text()
                .matches("<d:response>")
                .count()
                .saturating_sub(1)),
            status => Err(format!("PROPFIND {path}: {status} {}", reply.text())),
        }
    }

    /// The account's public links on folders below `prefix` (a path below the account's root).
    pub async fn links_below(&self, prefix: &str) -> Result<Vec<Value>, String> {
        match self.kind {
            Kind::NextCloud | Kind::OwnCloud => {
                let reply = self
                    .request(
                        "GET",
                        "ocs/v2.php/apps/files_sharing/api/v1/shares?format=json",
                        &[("ocs-apirequest", "true")],
                        b"",
                    )
                    .await?;
                let body = reply.json();
                let prefix = format!("/{prefix}/");
                let shares = body["ocs"]["data"].as_array().cloned().unwrap_or_default();
                Ok(shares
                    .into_iter()
                    .filter(|s| s["path"].as_str().is_some_and(|p| p.starts_with(&prefix)))
                    .collect())
            }
            Kind::OpenCloud => self.opencloud_links_below(prefix).await,
        }
    }

    /// The public links on the folder `path`, each as the server describes it (NextCloud's
    /// share, OpenCloud's permission).
    pub async fn links_on(&self, path: &str) -> Result<Vec<Value>, String> {
        match self.kind {
            Kind::NextCloud | Kind::OwnCloud => {
                let reply = self
                    .request(
                        "GET",
                        &format!(
                            "ocs/v2.php/apps/files_sharing/api/v1/shares?format=json&path={}",
                            encode_path(&format!("/{path}"))
                        ),
                        &[("ocs-apirequest", "true")],
                        b"",
                    )
                    .await?;
                Ok(reply.json()["ocs"]["data"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default())
            }
            Kind::OpenCloud => self.opencloud_links_on(path).await,
        }
    }

    /// Deletes the links of one kind (read-write when `writable`) on the folder `path`, as the
    /// account's owner would by hand.
    pub async fn remove_links(&self, path: &str, writable: bool) -> Result<(), String> {
        for link in self.links_on(path).await? {
            let target = match self.kind {
                Kind::NextCloud | Kind::OwnCloud => {
                    let write = link["permissions"].as_u64().unwrap_or(0) & 15 == 15;
                    if write != writable {
                        continue;
                    }
                    let id = link["id"].as_str().unwrap_or_default();
                    format!("ocs/v2.php/apps/files_sharing/api/v1/shares/{id}?format=json")
                }
                Kind::OpenCloud => {
                    if (link["link"]["type"] == "edit") != writable {
                        continue;
                    }
                    let item = self.opencloud_item(path).await?.unwrap_or_default();
                    format!(
                        "graph/v1beta1/drives/{}/items/{}/permissions/{}",
                        encode_path(&self.drive_id().await?),
                        encode_path(&item),
                        encode_path(link["id"].as_str().unwrap_or_default())
                    )
                }
            };
            let reply = self
                .request("DELETE", &target, &[("ocs-apirequest", "true")], b"")
                .await?;
            if !matches!(reply.status, 200 | 204) {
                return Err(format!("DELETE {target}: {}", reply.status));
            }
        }
        Ok(())
    }

    /// The expiry of a link as [`RealServer::links_on`] gave it, as `YYYY-MM-DD`.
    pub fn link_expiry(&self, link: &Value) -> Option<String> {
        let text = match self.kind {
            Kind::NextCloud | Kind::OwnCloud => link["expiration"].as_str()?,
            Kind::OpenCloud => link["expirationDateTime"].as_str()?,
        };
        text.get(..10).map(str::to_owned)
    }

    /// Trash entries that came from below `prefix`, as hrefs.
    pub async fn trash_below(&self, prefix: &str) -> Result<Vec<String>, String> {
        let (path, property) = match self.kind {
            Kind::NextCloud => (
                format!("remote.php/dav/trashbin/{}/trash/", encode_path(&self.user)),
                "nc:trashbin-original-location",
            ),
            Kind::OwnCloud => (
                format!("remote.php/dav/trash-bin/{}/", encode_path(&self.user)),
                "oc:trashbin-original-location",
            ),
            Kind::OpenCloud => (
                format!("remote.php/dav/spaces/trash-bin/{}", self.drive_id().await?),
                "oc:trashbin-original-location",
            ),
        };
        let (namespace, local) = property.split_once(':').unwrap_or_default();
        let uri = if namespace == "nc" {
            "http://nextcloud.org/ns"
        } else {
            "http://owncloud.org/ns"
        };
        let body = format!(
            "<?xml version=\"1.0\"?><d:propfind xmlns:d=\"DAV:\" xmlns:{namespace}=\"{uri}\">\
             <d:prop><{namespace}:{local}/></d:prop></d:propfind>"
        );
        let reply = self
            .request(
                "PROPFIND",
                &path,
                &[("depth", "1"), ("content-type", "application/xml")],
                body.as_bytes(),
            )
            .await?;
        match reply.status {
            404 => return Ok(Vec::new()),
            207 => {}
            status => return Err(format!("PROPFIND {path}: {status}")),
        }
        Ok(trash_entries(&reply.text(), local, prefix))
    }

    /// Removes what came from `path` from the trash bin.
    pub async fn empty_trash_of(&self, path: &str) {
        if let Ok(entries) = self.trash_below(path).await {
            for href in entries {
                let _ = self
                    .request("DELETE", &self.absolute(&href), &[], b"")
                    .await;
            }
        }
    }

    /// Removes this run's folder, whatever is left in the trash bin from it, and the tests'
    /// folder when it is empty.
    pub async fn remove_run(&self) {
        let _ = self
            .request("DELETE", &self.dav(&self.root), &[], b"")
            .await;
        self.empty_trash_of(&self.root).await;
        if self.children("shared-folder-tests").await == Ok(0) {
            let _ = self
                .request("DELETE", &self.dav("shared-folder-tests"), &[], b"")
                .await;
            self.empty_trash_of("shared-folder-tests").await;
        }
    }

    /// The URL of an href the server gave (a path from its root).
    pub fn absolute(&self, href: &str) -> String {
        if href.starts_with("http") {
            return href.to_owned();
        }
        let origin = self
            .url
            .splitn(4, '/')
            .take(3)
            .collect::<Vec<_>>()
            .join("/");
        format!("{origin}{href}")
    }

    /// OpenCloud: the id of the account's personal drive.
    pub async fn drive_id(&self) -> Result<String, String> {
        let reply = self.request("GET", "graph/v1.0/me/drive", &[], b"").await?;
        reply.json()["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("me/drive: {} {}", reply.status, reply.text()))
    }

    /// OpenCloud: the item id of `path` (from `OC-FileId` of a PROPFIND).
    async fn opencloud_item(&self, path: &str) -> Result<Option<String>, String> {
        let body = "<?xml version=\"1.0\"?><d:propfind xmlns:d=\"DAV:\" \
                    xmlns:oc=\"http://owncloud.org/ns\"><d:prop><oc:fileid/></d:prop></d:propfind>";
        let reply = self
            .request(
                "PROPFIND",
                &self.dav(path),
                &[("depth", "0"), ("content-type", "application/xml")],
                body.as_bytes(),
            )
            .await?;
        if reply.status == 404 {
            return Ok(None);
        }
        let text = reply.text();
        Ok(between(&text, "<oc:fileid>", "</oc:fileid>").map(str::to_owned))
    }

    async fn opencloud_links_on(&self, path: &str) -> Result<Vec<Value>, String> {
        let Some(item) = self.opencloud_item(path).await? else {
            return Ok(Vec::new());
        };
        let drive = self.drive_id().await?;
        let reply = self
            .request(
                "GET",
                &format!(
                    "graph/v1beta1/drives/{}/items/{}/permissions",
                    encode_path(&drive),
                    encode_path(&item)
                ),
                &[],
                b"",
            )
            .await?;
        Ok(reply.json()["value"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.get("link").is_some())
            .collect())
    }

    /// OpenCloud: the links the account made, on items below `prefix` (`sharedByMe`, each item
    /// with its permissions and its parent's path).
    async fn opencloud_links_below(&self, prefix: &str) -> Result<Vec<Value>, String> {
        let reply = self
            .request("GET", "graph/v1beta1/me/drive/sharedByMe", &[], b"")
            .await?;
        if reply.status != 200 {
            return Err(format!("sharedByMe: {} {}", reply.status, reply.text()));
        }
        let prefix = format!("/{prefix}");
        Ok(reply.json()["value"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|item| {
                item["parentReference"]["path"]
                    .as_str()
                    .is_some_and(|p| p.starts_with(&prefix) || p.starts_with(&prefix[1..]))
            })
            .collect())
    }
}

/// The text between the first `open` and the next `close`.
fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)?;
    Some(&text[start..start + end])
}

/// The hrefs of a trash listing's entries whose original location (the element `local`, with
/// any prefix) is `prefix` or below it.
fn trash_entries(listing: &str, local: &str, prefix: &str) -> Vec<String> {
    let mut entries = Vec::new();
    for response in listing.split("response>").filter(|r| r.contains("href>")) {
        let href = between(response, "href>", "</").unwrap_or_default();
        let origin = response
            .split(&format!("{local}>"))
            .nth(1)
            .and_then(|rest| rest.split("</").next())
            .unwrap_or_default()
            .trim_start_matches('/');
        if origin == prefix || origin.starts_with(&format!("{prefix}/")) {
            entries.push(href.to_owned());
        }
    }
    entries
}
