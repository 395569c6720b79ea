//! `shared-folder-host preflight`: what an operator runs before the first meeting. It tells
//! which storage system answers (NextCloud, ownCloud or OpenCloud, and its version), creates and
//! deletes a probe folder through the configured provider, and looks at what the real servers
//! were seen to do that breaks or slows meetings — each finding with its fix
//! (docs/nextcloud-behaviour.md, docs/owncloud-behaviour.md and docs/opencloud-behaviour.md name
//! what each rests on):
//! - the credentials are refused;
//! - on NextCloud, the password is the account's login password (a check costs about 0.6 s,
//!   an app password's about 0.08 s), told by what NextCloud says, not by one timing;
//! - public links are not allowed, or an expiry is enforced that is shorter than `expiry`;
//! - on OpenCloud, the link password policy;
//! - the share links lead elsewhere than `url` (a proxy the storage was not told about), or do
//!   not open with their password as a participant's client opens them;
//! - on NextCloud, the share rate limit (20 shares, so 10 rooms, per 10 minutes) and how to
//!   lift it; with `--rate-limit`, measured by creating probe rooms until NextCloud refuses;
//! - deleted folders kept in the trash bin.
//!
//! It leaves nothing behind: its probe folders, their links and their trash entries go, also
//! when a check fails. It is part of the binary, not of the library: it knows the storage
//! systems the built-in providers speak to ([`nextcloud`] for NextCloud and ownCloud,
//! [`opencloud`]); for another provider it runs the probe alone.

mod nextcloud;
mod opencloud;

use shared_folder_host::components::Components;
use shared_folder_host::public_links::PublicDav;
use shared_folder_host::runtime::{ConnectionSettings, SettingValue};
use shared_folder_host::{
    ConfigError, ErrorKind, FolderRecord, HostConfig, HostError, Records, Runtime, SharedFolders,
    foreign_links,
};

use crate::participant::Participant;
use crate::probe::Probe;
use nextcloud::Flavour;

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
/// Probe rooms `--rate-limit` creates at most: one more than the 10 that 20 shares allow.
const RATE_PROBES: usize = 11;

/// The storage system that answers, as far as the preflight knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Storage {
    /// NextCloud or ownCloud 10, served by the NextCloud provider.
    NextCloudLike {
        flavour: Flavour,
        version: String,
    },
    OpenCloud {
        version: String,
    },
    /// A storage of another provider: only the probe folder and its links are checked.
    Other,
}

impl Storage {
    /// Asks the storage what it is: `status.php` (NextCloud, ownCloud, OpenCloud all serve it),
    /// within what the configured provider speaks to.
    async fn identify(probe: &Probe, provider: &str) -> Storage {
        let status = match probe.send("GET", "/status.php", &[], "").await {
            Ok(answer) if answer.status.is_success() => answer.json(),
            _ => serde_json::Value::Null,
        };
        let product = status["productname"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let version = status["versionstring"]
            .as_str()
            .or_else(|| status["productversion"].as_str())
            .unwrap_or("of unknown version")
            .to_owned();
        match provider {
            "nextcloud" | "owncloud" => {
                let flavour = if product.eq_ignore_ascii_case("owncloud") {
                    Flavour::OwnCloud
                } else if product.eq_ignore_ascii_case("nextcloud") || provider == "nextcloud" {
                    Flavour::NextCloud
                } else {
                    Flavour::OwnCloud
                };
                Storage::NextCloudLike { flavour, version }
            }
            "opencloud" => Storage::OpenCloud { version },
            _ => Storage::Other,
        }
    }

    fn describe(&self) -> Option<String> {
        match self {
            Storage::NextCloudLike { flavour, version } => {
                Some(format!("{} {version}", flavour.name()))
            }
            Storage::OpenCloud { version } => Some(format!("OpenCloud {version}")),
            Storage::Other => None,
        }
    }

    /// What the storage calls itself in a finding.
    fn name(&self) -> &'static str {
        match self {
            Storage::NextCloudLike { flavour, .. } => flavour.name(),
            Storage::OpenCloud { .. } => "OpenCloud",
            Storage::Other => "the storage",
        }
    }
}

/// Runs every check against the storage `config` names; `measure_rate_limit` also creates up
/// to [`RATE_PROBES`] probe rooms to see whether NextCloud's share rate limit is in force.
pub async fn run(config: &HostConfig, measure_rate_limit: bool) -> Result<Vec<Finding>, HostError> {
    let shared = &config.shared_folder;
    let options = config.host.runtime_options();
    let connections = options.connections.clone();
    let component = Components::new(config.host.components.clone())
        .initial(&shared.provider)
        .await
        .map_err(|e| ConfigError::field("provider", e.to_string()))?
        .bytes;
    // Records in memory: the service's database is none of the preflight's business.
    let host = SharedFolders::new(
        Runtime::new(shared.clone(), &component, options)?,
        Records::in_memory()?,
    );
    let probe = Probe::new(config)?;

    let mut findings = Vec::new();
    let storage = Storage::identify(&probe, &shared.provider).await;
    if let Some(what) = storage.describe() {
        findings.push(Finding::ok(format!("the storage is {what}")));
    }
    match &storage {
        Storage::NextCloudLike { flavour, .. } => {
            if !nextcloud::credentials(*flavour, &probe, &mut findings).await {
                return Ok(findings);
            }
            let capabilities = nextcloud::capabilities(&probe).await;
            findings.extend(nextcloud::settings(*flavour, config, capabilities.as_ref()));
        }
        Storage::OpenCloud { .. } => {
            if !opencloud::credentials(&probe, &mut findings).await {
                return Ok(findings);
            }
            findings.extend(opencloud::settings(&probe, config).await);
        }
        Storage::Other => {}
    }

    let suffix = random_suffix();
    let room = format!("{PROBE}-{suffix}");
    let made = host.create(&room).await.map(|creation| creation.record);
    match made {
        Err(error) => {
            findings.push(create_failed(&storage, &error));
            // What the failed create took away went to the trash bin.
            trash(&storage, &probe, config, &room_path(config, &room)).await;
        }
        Ok(record) => {
            findings.push(Finding::ok(format!(
                "a probe folder was created ({}) with both links{}",
                record.path,
                expiry_days(config).map_or(String::new(), |d| format!(
                    ", expiring in {d} days (accepted)"
                ))
            )));
            findings.push(link_origin(&storage, config, &record));
            if let Some(dav) = PublicDav::of_provider(&shared.provider) {
                findings.push(link_opens(dav, &record, &connections).await);
            }
            match host.delete(&room, false).await {
                Ok(_) => findings.push(Finding::ok("the probe folder was deleted, links first")),
                Err(error) => findings.push(Finding::problem(
                    format!("the probe folder could not be deleted: {error}"),
                    format!(
                        "delete {:?} on {} by hand; see the error",
                        record.path,
                        storage.name()
                    ),
                )),
            }
            if let Some(finding) = trash(&storage, &probe, config, &record.path).await {
                findings.push(finding);
            }
        }
    }
    if measure_rate_limit {
        findings.push(match &storage {
            Storage::NextCloudLike {
                flavour: Flavour::NextCloud,
                ..
            } => measure_rooms(&host, &probe, &storage, config, &suffix).await,
            _ => Finding::ok(format!(
                "--rate-limit: {} has no share rate limit to measure",
                storage.name()
            )),
        });
    }
    Ok(findings)
}

/// Whether a deleted probe is in the storage's trash bin (taking it out); `None` where the
/// preflight does not know the storage's trash bin.
async fn trash(
    storage: &Storage,
    probe: &Probe,
    config: &HostConfig,
    path: &str,
) -> Option<Finding> {
    match storage {
        Storage::NextCloudLike { flavour, .. } => {
            Some(nextcloud::trash(*flavour, probe, config, path).await)
        }
        Storage::OpenCloud { .. } => Some(opencloud::trash(probe, path).await),
        Storage::Other => None,
    }
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

/// Opens the read-only link as a participant's WebDAV client would, with its password.
async fn link_opens(
    dav: PublicDav,
    record: &FolderRecord,
    settings: &ConnectionSettings,
) -> Finding {
    let link = &record.read;
    if dav.request(&link.url, "").is_none() {
        return Finding::problem(
            format!("the read-only link {} is not a share link", link.url),
            "see the provider's log",
        );
    }
    let Ok(participant) = Participant::new(dav, settings) else {
        return Finding::warning("the links were not tried", "try one in a browser");
    };
    match participant
        .send(link, link.password.expose(), "PROPFIND", "", "")
        .await
    {
        Ok(answer) if answer.status.as_u16() == 207 => {
            Finding::ok("the read-only link opens with its password")
        }
        Ok(answer) => Finding::problem(
            format!(
                "the read-only link answered {} to its password",
                answer.status
            ),
            "check that public link sharing is allowed for the account",
        ),
        Err(error) => Finding::problem(
            format!("the read-only link could not be opened from here: {error}"),
            "participants' browsers must reach the links: see the link-origin finding",
        ),
    }
}

fn create_failed(storage: &Storage, error: &HostError) -> Finding {
    let name = storage.name();
    let fix = match error.kind() {
        ErrorKind::Remote(429) => {
            "the storage's share rate limit is in force and used up: see the rate-limit finding"
                .to_owned()
        }
        ErrorKind::Remote(403) => format!(
            "{name} refused a share: allow public link sharing and public upload for the account"
        ),
        ErrorKind::NotFound => format!(
            "a share was refused as not found: check that link sharing is enabled, and that an \
             expiry {name} enforces is not shorter than [shared_folder].expiry"
        ),
        _ => "see the error; the provider's log has more".to_owned(),
    };
    Finding::problem(
        format!("the probe folder could not be created: {error}"),
        fix,
    )
}

/// Whether the links lead where participants' browsers can follow (`18-…`).
fn link_origin(storage: &Storage, config: &HostConfig, record: &FolderRecord) -> Finding {
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
            match storage {
                Storage::OpenCloud { .. } => {
                    "OpenCloud builds links from its configured public URL: set OC_URL to the \
                     address participants use"
                }
                _ => {
                    "NextCloud and ownCloud build links from their own view of the request: \
                     behind a proxy set overwriteprotocol (e.g. https) and overwritehost or \
                     overwrite.cli.url in config.php (occ config:system:set overwriteprotocol \
                     --value=https)"
                }
            },
        ),
    }
}

/// Creates probe rooms until NextCloud refuses one with 429, or [`RATE_PROBES`] are made; then
/// deletes them (and their trash entries).
async fn measure_rooms(
    host: &SharedFolders,
    probe: &Probe,
    storage: &Storage,
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
        trash(storage, probe, config, &room_path(config, room)).await;
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
            nextcloud::RATE_LIMIT_FIX,
        ),
        Some(error) => Finding::warning(
            format!("the rate limit was not measured: a probe room failed: {error}"),
            "see the error",
        ),
    }
}
