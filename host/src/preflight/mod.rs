//! `shared-folder-host preflight`: what an operator runs before the first meeting. It creates
//! and deletes a probe folder on the configured NextCloud through the configured provider, and
//! looks at what a real NextCloud does that breaks or slows meetings — each finding with its
//! fix (docs/nextcloud-behaviour.md names the recordings behind each):
//! - the credentials are refused;
//! - the share links lead elsewhere than `url` (a proxy NextCloud was not told about:
//!   `overwriteprotocol`, `overwritehost`);
//! - the password is the account's login password, whose check costs about 0.6 s, where an
//!   app password costs about 0.08 s;
//! - the share rate limit (20 shares, so 10 rooms, per 10 minutes) and how to lift it; with
//!   `--rate-limit`, measured by creating probe rooms until NextCloud refuses;
//! - the configured expiry accepted, and an expiry NextCloud enforces;
//! - deleted folders kept in the trash bin (`delete_from_trash`).
//!
//! It leaves nothing behind: its probe folders, their links and their trash entries go, also
//! when a check fails. It is part of the binary, not of the library: it knows NextCloud.

use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use serde_json::Value;
use shared_folder_host::runtime::{
    ConnectionSettings, Connections, Outbound, SettingValue, WasiBody,
};
use shared_folder_host::{
    ConfigError, ErrorKind, FolderRecord, HostConfig, HostError, Records, Runtime, SharedFolders,
    foreign_links, plugins,
};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Ok,
    Warning,
    Problem,
}

/// One thing the preflight found, and what to do about it.
#[derive(Debug, Clone)]
pub struct Finding {
    pub level: Level,
    pub what: String,
    pub fix: Option<String>,
}

impl Finding {
    fn ok(what: impl Into<String>) -> Self {
        Finding {
            level: Level::Ok,
            what: what.into(),
            fix: None,
        }
    }

    fn warning(what: impl Into<String>, fix: impl Into<String>) -> Self {
        Finding {
            level: Level::Warning,
            what: what.into(),
            fix: Some(fix.into()),
        }
    }

    fn problem(what: impl Into<String>, fix: impl Into<String>) -> Self {
        Finding {
            level: Level::Problem,
            what: what.into(),
            fix: Some(fix.into()),
        }
    }
}

/// The rooms the preflight creates are named so, with a random suffix.
const PROBE: &str = "preflight-probe";
/// A login password's check costs about 0.6 s, an app password's about 0.08 s
/// (docs/nextcloud-behaviour.md, "Authentication cost and sessions"); a first request slower than this is worth a word.
const SLOW_LOGIN: Duration = Duration::from_millis(300);
/// Probe rooms `--rate-limit` creates at most: one more than the 10 that 20 shares allow.
const RATE_PROBES: usize = 11;

/// Runs every check against the storage `config` names; `measure_rate_limit` also creates up
/// to [`RATE_PROBES`] probe rooms to see whether the share rate limit is in force.
pub async fn run(config: &HostConfig, measure_rate_limit: bool) -> Result<Vec<Finding>, HostError> {
    let shared = &config.shared_folder;
    let options = config.host.runtime_options();
    let connections = options.connections.clone();
    let component = plugins::initial_component(config.host.plugins.as_deref(), &shared.provider)
        .map_err(|e| ConfigError::field("provider", e.to_string()))?;
    // Records in memory: the service's database is none of the preflight's business.
    let host = SharedFolders::new(
        Runtime::new(shared.clone(), &component, options)?,
        Records::in_memory()?,
    );
    // The host's own requests, on a session of their own (a fresh one: its first answer tells
    // what kind of password this is).
    let direct = Outbound::new(
        shared.url.origin().clone(),
        &shared.credentials,
        config.host.limits.outbound,
        Connections::new(&connections, config.host.limits.outbound.connect_timeout)?,
        true,
    );
    let probe = Probe {
        base: shared.url.origin().to_string(),
        base_path: base_path(config),
        username: shared.username.clone(),
        direct,
    };

    let mut findings = Vec::new();
    if !probe.credentials(&mut findings).await {
        return Ok(findings);
    }
    let capabilities = probe.capabilities().await;
    findings.extend(expiry(config, capabilities.as_ref()));
    findings.push(rate_limit(capabilities.as_ref()));

    let suffix = random_suffix();
    let room = format!("{PROBE}-{suffix}");
    let made = host.create(&room).await.map(|creation| creation.record);
    match made {
        Err(error) => {
            findings.push(create_failed(&error));
            // What the failed create took away went to the trash bin.
            probe.trash(config, &room_path(config, &room)).await;
        }
        Ok(record) => {
            findings.push(Finding::ok(format!(
                "a probe folder was created ({}) with both links{}",
                record.path,
                expiry_days(config).map_or(String::new(), |d| format!(
                    ", expiring in {d} days (accepted)"
                ))
            )));
            findings.push(link_origin(config, &record));
            findings.push(probe.link_opens(&record, &connections).await);
            match host.delete(&room, false).await {
                Ok(_) => findings.push(Finding::ok("the probe folder was deleted, links first")),
                Err(error) => findings.push(Finding::problem(
                    format!("the probe folder could not be deleted: {error}"),
                    format!(
                        "delete {:?} on NextCloud by hand; see the error",
                        record.path
                    ),
                )),
            }
            findings.push(probe.trash(config, &record.path).await);
        }
    }
    if measure_rate_limit {
        findings.push(measure_rooms(&host, &probe, config, &suffix).await);
    }
    Ok(findings)
}

/// The sub-path NextCloud is served under, from `url` (`""` or `/nextcloud`).
fn base_path(config: &HostConfig) -> String {
    config.shared_folder.url.base_path().to_owned()
}

/// Where the provider puts `room`'s folder: `<directory>/<room>`.
fn room_path(config: &HostConfig, room: &str) -> String {
    let directory = config.shared_folder.text_setting("directory").unwrap_or("");
    directory
        .split('/')
        .filter(|s| !s.is_empty())
        .chain([room])
        .collect::<Vec<_>>()
        .join("/")
}

fn expiry_days(config: &HostConfig) -> Option<i64> {
    match config.shared_folder.setting("expiry")? {
        SettingValue::Integer(days) => Some(*days),
        _ => None,
    }
}

fn deletes_from_trash(config: &HostConfig) -> bool {
    matches!(
        config.shared_folder.setting("delete_from_trash"),
        Some(SettingValue::Boolean(true))
    )
}

fn random_suffix() -> String {
    let mut bytes = [0u8; 6];
    // A suffix only needs to differ from another run's; a failure leaves zeros.
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The host's own requests to the storage, through the same confinement as a provider's.
struct Probe {
    /// `scheme://host:port`.
    base: String,
    base_path: String,
    username: String,
    direct: Outbound,
}

struct Answer {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Bytes,
    took: Duration,
}

impl Probe {
    async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &'static str,
    ) -> Result<Answer, String> {
        let mut request = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?)
            .uri(format!("{}{}{path}", self.base, self.base_path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body: WasiBody = Full::new(Bytes::from_static(body.as_bytes()))
            .map_err(|never| match never {})
            .boxed_unsync();
        let request = request.body(body).map_err(|e| e.to_string())?;
        let started = Instant::now();
        let response = self
            .direct
            .send(request, None)
            .await
            .map_err(|e| format!("{e:?}"))?;
        let took = started.elapsed();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("{e:?}"))?
            .to_bytes();
        Ok(Answer {
            status,
            headers,
            body,
            took,
        })
    }

    fn files(&self) -> String {
        format!("/remote.php/dav/files/{}/", encode(&self.username))
    }

    /// Reaches the storage with the credentials; tells a login password from an app password.
    /// Returns whether the credentials were accepted.
    async fn credentials(&self, findings: &mut Vec<Finding>) -> bool {
        let first = self
            .send("PROPFIND", &self.files(), &[("depth", "0")], "")
            .await;
        let first = match first {
            Ok(answer) => answer,
            Err(error) => {
                findings.push(Finding::problem(
                    format!("the storage at {} cannot be reached: {error}", self.base),
                    "check [shared_folder].url, the network, and for a private CA [host].ca_bundle",
                ));
                return false;
            }
        };
        match first.status.as_u16() {
            207 => {}
            401 => {
                findings.push(Finding::problem(
                    format!(
                        "NextCloud refused the credentials of {:?} (401)",
                        self.username
                    ),
                    "check [shared_folder].username and the password; an app password is made \
                     under Settings → Security → Devices & sessions",
                ));
                return false;
            }
            429 => {
                findings.push(Finding::problem(
                    "NextCloud throttles this address after failed logins (429)",
                    "fix the credentials, then reset the brute-force attempts: occ security:bruteforce:reset <ip>",
                ));
                return false;
            }
            status => {
                findings.push(Finding::problem(
                    format!(
                        "NextCloud answered {status} to a WebDAV request of the account's files"
                    ),
                    "check [shared_folder].url (a sub-path?) and the account",
                ));
                return false;
            }
        }
        // The second request of a login-password session is slow too (NextCloud makes it a
        // browser session then, `20-…` [1]); the third shows what the session saves.
        let mut later = None;
        for _ in 0..2 {
            later = self
                .send("PROPFIND", &self.files(), &[("depth", "0")], "")
                .await
                .ok();
        }
        let login = first
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|c| c.as_bytes().starts_with(b"cookie_test="));
        findings.push(Finding::ok(format!(
            "NextCloud accepted the credentials of {:?} ({} ms)",
            self.username,
            first.took.as_millis()
        )));
        if login || first.took >= SLOW_LOGIN {
            let later = later.map_or(String::new(), |s| {
                format!(
                    " (a request of the session after that: {} ms)",
                    s.took.as_millis()
                )
            });
            findings.push(Finding::warning(
                format!(
                    "the password is the account's login password: checking it cost {} ms at \
                     the start of a session{later}, and each session leaves a browser token in \
                     the account's device list",
                    first.took.as_millis()
                ),
                "make an app password (Settings → Security → Devices & sessions, or occ \
                 user:auth-tokens:add) and configure it: about 0.08 s a check instead of 0.6 s, \
                 and it survives a change of the login password",
            ));
        } else {
            findings.push(Finding::ok("the password is an app password"));
        }
        true
    }

    async fn capabilities(&self) -> Option<Value> {
        let answer = self
            .send(
                "GET",
                "/ocs/v2.php/cloud/capabilities",
                &[("ocs-apirequest", "true"), ("accept", "application/json")],
                "",
            )
            .await
            .ok()?;
        let value: Value = serde_json::from_slice(&answer.body).ok()?;
        Some(value["ocs"]["data"]["capabilities"].clone())
    }

    /// Opens the read-only link as a participant would, with its password.
    async fn link_opens(&self, record: &FolderRecord, settings: &ConnectionSettings) -> Finding {
        let link = &record.read;
        let Some((base, token)) = link.url.rsplit_once("/s/") else {
            return Finding::problem(
                format!("the read-only link {} is not a share link", link.url),
                "see the provider's log",
            );
        };
        let base = base.strip_suffix("/index.php").unwrap_or(base);
        let url = format!("{base}/public.php/dav/files/{token}/");
        let Ok(connections) = Connections::new(settings, Duration::from_secs(5)) else {
            return Finding::warning("the links were not tried", "try one in a browser");
        };
        let credentials = base64::engine::general_purpose::STANDARD
            .encode(format!("anonymous:{}", link.password.expose()));
        let body: WasiBody = Full::new(Bytes::new())
            .map_err(|never| match never {})
            .boxed_unsync();
        let request = Request::builder()
            .method("PROPFIND")
            .uri(&url)
            .header("depth", "0")
            .header(header::AUTHORIZATION, format!("Basic {credentials}"))
            .body(body);
        let Ok(request) = request else {
            return Finding::problem(format!("the link {} is not a URL", link.url), "see above");
        };
        match connections.send(request, Duration::from_secs(10)).await {
            Ok(response) if response.status().as_u16() == 207 => {
                Finding::ok("the read-only link opens with its password")
            }
            Ok(response) => Finding::problem(
                format!(
                    "the read-only link answered {} to its password",
                    response.status()
                ),
                "check that public link sharing is allowed for the account",
            ),
            Err(error) => Finding::problem(
                format!("the read-only link could not be opened from here: {error:?}"),
                "participants' browsers must reach the links: see the link-origin finding",
            ),
        }
    }

    /// Whether the deleted probe is in the trash bin; takes it out if so.
    async fn trash(&self, config: &HostConfig, path: &str) -> Finding {
        let listing = self
            .send(
                "PROPFIND",
                &format!("/remote.php/dav/trashbin/{}/trash/", encode(&self.username)),
                &[("depth", "1"), ("content-type", "application/xml")],
                TRASH_LISTING,
            )
            .await;
        let listing = match listing {
            Ok(answer) if answer.status.as_u16() == 404 => {
                return Finding::ok("NextCloud has no trash bin here: a deleted folder is gone");
            }
            Ok(answer) if answer.status.as_u16() == 207 => answer,
            Ok(answer) => {
                return Finding::warning(
                    format!("the trash bin could not be listed ({})", answer.status),
                    "look in NextCloud's trash bin for the probe folder",
                );
            }
            Err(error) => {
                return Finding::warning(
                    format!("the trash bin could not be listed: {error}"),
                    "look in NextCloud's trash bin for the probe folder",
                );
            }
        };
        let entries = trash_entries(&String::from_utf8_lossy(&listing.body), path);
        if entries.is_empty() {
            return Finding::ok(if deletes_from_trash(config) {
                "deleted folders are removed from the trash bin too (delete_from_trash = true)"
            } else {
                "the deleted probe is not in the trash bin"
            });
        }
        for href in &entries {
            let _ = self.send_absolute("DELETE", href).await;
        }
        Finding::warning(
            "deleted folders stay in NextCloud's trash bin, with the files participants \
             uploaded, until the trash bin's retention removes them (the probe's entry was \
             removed)",
            "set [shared_folder].delete_from_trash = true to remove them from the trash bin too",
        )
    }

    async fn send_absolute(&self, method: &str, href: &str) -> Result<Answer, String> {
        // NextCloud escapes in lower case, the canonical `url` in capitals: compared without
        // regard to ASCII case.
        let base = self.base_path.len();
        let path = match href.get(..base) {
            Some(prefix) if prefix.eq_ignore_ascii_case(&self.base_path) => &href[base..],
            _ => href,
        };
        self.send(method, path, &[], "").await
    }
}

const TRASH_LISTING: &str = "<?xml version=\"1.0\"?><d:propfind xmlns:d=\"DAV:\" \
     xmlns:nc=\"http://nextcloud.org/ns\"><d:prop><nc:trashbin-original-location/></d:prop></d:propfind>";

/// The hrefs of the trash entries whose original location is `path` or below it, read from a
/// PROPFIND listing of the trash bin (docs/nextcloud-behaviour.md, "Trash bin").
fn trash_entries(listing: &str, path: &str) -> Vec<String> {
    let mut reader = quick_xml::Reader::from_str(listing);
    let (mut href, mut origin, mut reading) = (String::new(), String::new(), 0);
    let mut entries = Vec::new();
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e)) => {
                reading = match e.local_name().as_ref() {
                    b"response" => {
                        href.clear();
                        origin.clear();
                        0
                    }
                    b"href" => 1,
                    b"trashbin-original-location" => 2,
                    _ => 0,
                }
            }
            Ok(quick_xml::events::Event::Text(text)) => {
                let text = text.decode().map(|t| t.into_owned()).unwrap_or_default();
                let text = quick_xml::escape::unescape(&text)
                    .map(|t| t.into_owned())
                    .unwrap_or(text);
                match reading {
                    1 => href.push_str(&text),
                    2 => origin.push_str(&text),
                    _ => {}
                }
            }
            Ok(quick_xml::events::Event::End(e)) => {
                if e.local_name().as_ref() == b"response"
                    && (origin == path || origin.starts_with(&format!("{path}/")))
                {
                    entries.push(href.clone());
                }
                reading = 0;
            }
            Ok(quick_xml::events::Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    entries
}

fn encode(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn create_failed(error: &HostError) -> Finding {
    let fix = match error.kind() {
        ErrorKind::Remote(429) => {
            "NextCloud's share rate limit is in force and used up: see the rate-limit finding"
        }
        ErrorKind::Remote(403) => {
            "NextCloud refused a share: allow public link sharing and public upload for the account"
        }
        ErrorKind::NotFound => {
            "a share was refused as not found: check that link sharing is enabled, and that an expiry NextCloud enforces is not shorter than [shared_folder].expiry"
        }
        _ => "see the error; the provider's log has more",
    };
    Finding::problem(
        format!("the probe folder could not be created: {error}"),
        fix,
    )
}

/// Whether the links lead where participants' browsers can follow (`18-…`).
fn link_origin(config: &HostConfig, record: &FolderRecord) -> Finding {
    let configured = config.shared_folder.url.origin();
    match foreign_links(configured, record) {
        None => Finding::ok(format!(
            "the share links point at the configured url ({configured})"
        )),
        Some(links) => Finding::problem(
            format!(
                "the share links point at {links}, not at the configured url {configured}: \
                 participants may not be able to open them"
            ),
            "NextCloud builds links from its own view of the request: behind a proxy set \
             overwriteprotocol (e.g. https) and overwritehost or overwrite.cli.url in its \
             config.php (occ config:system:set overwriteprotocol --value=https)",
        ),
    }
}

/// What the capabilities say of expiry.
fn expiry(config: &HostConfig, capabilities: Option<&Value>) -> Option<Finding> {
    let public = &capabilities?["files_sharing"]["public"];
    let enforced = public["expire_date"]["enforced"].as_bool() == Some(true);
    if !enforced {
        return None;
    }
    let days = public["expire_date"]["days"].as_i64()?;
    match expiry_days(config) {
        Some(ours) if ours <= days => Some(Finding::ok(format!(
            "NextCloud enforces link expiry within {days} days; expiry = {ours} fits"
        ))),
        ours => Some(Finding::problem(
            format!(
                "NextCloud enforces link expiry within {days} days, but [shared_folder].expiry is {}",
                ours.map_or("not set".to_owned(), |d| d.to_string())
            ),
            format!("set [shared_folder].expiry to at most {days}"),
        )),
    }
}

/// What can be told of the share rate limit without using it up (`22-…`).
fn rate_limit(capabilities: Option<&Value>) -> Finding {
    let allow_listed = capabilities.and_then(|c| c["bruteforce"]["allow-listed"].as_bool());
    let lift = "to lift it for this host: occ config:app:set bruteForce whitelist_1 \
                --value=<this host's address>/32, then occ config:app:set bruteforcesettings \
                apply_allowlist_to_ratelimit --value=true --type=boolean; `preflight --rate-limit` \
                measures it (using up to 22 shares of the 10-minute quota)";
    match allow_listed {
        Some(true) => Finding::ok(
            "this host's address is on NextCloud's brute-force allowlist: the share rate limit is \
             lifted for it if bruteforcesettings apply_allowlist_to_ratelimit is true (not visible \
             to clients)",
        ),
        _ => Finding::warning(
            "NextCloud lets one account create 20 shares per 10 minutes, that is 10 rooms, unless \
             its administrator lifted the limit; this host's address is not on the brute-force \
             allowlist",
            lift,
        ),
    }
}

/// Creates probe rooms until NextCloud refuses one with 429, or [`RATE_PROBES`] are made; then
/// deletes them (and their trash entries).
async fn measure_rooms(
    host: &SharedFolders,
    probe: &Probe,
    config: &HostConfig,
    suffix: &str,
) -> Finding {
    let mut made = Vec::new();
    let mut limited = None;
    for n in 0..RATE_PROBES {
        let room = format!("{PROBE}-{suffix}-rate-{n}");
        match host.create(&room).await {
            Ok(_) => made.push(room),
            Err(error) => {
                // Its clean-up put the folder in the trash bin: taken out below.
                limited = Some(error);
                made.push(room);
                break;
            }
        }
    }
    for room in &made {
        let _ = host.delete(room, false).await;
        probe.trash(config, &room_path(config, room)).await;
    }
    match limited {
        None => Finding::ok(format!(
            "{RATE_PROBES} probe rooms ({} shares) were created at once: the share rate limit is \
             not in force for this host",
            RATE_PROBES * 2
        )),
        Some(error) if error.kind() == ErrorKind::Remote(429) => Finding::problem(
            format!(
                "the share rate limit is in force: NextCloud refused the probe room after {} \
                     rooms; the next rooms can be created as the 10-minute window moves on",
                made.len() - 1
            ),
            "lift it for this host: occ config:app:set bruteForce whitelist_1 --value=<this \
                 host's address>/32, and occ config:app:set bruteforcesettings \
                 apply_allowlist_to_ratelimit --value=true --type=boolean",
        ),
        Some(error) => Finding::warning(
            format!("the rate limit was not measured: a probe room failed: {error}"),
            "see the error",
        ),
    }
}
