//! The configuration file of the `shared-folder-host` binary: OpenTalk's `[shared_folder]`
//! section as it is, and an optional `[host]` section for the host itself.
//!
//! ```toml
//! [host]
//! plugins = "plugins"                 # <provider>.wasm here overrides the built-in; watched
//! database = "shared-folders.sqlite3" # the folder records: an SQLite file, or a
//! #   "postgres://user@host:5432/db" URL shared by several hosts (no password in it; below)
//! # database_password_file = "/run/secrets/db"  # PostgreSQL's password (or database_password_env)
//! # database_listen_url = "postgres://user@db-server:5432/db" # when `database` is a PgBouncer
//! #   (transaction mode): the server itself, for the one LISTEN connection of each host
//! # room_lease = 30                   # seconds a dead host's rooms stay held (renewed every third)
//! # records_key_file = "/run/secrets/records-key" # keys sealing share passwords at rest (or
//! #   records_key_env): base64 32-byte keys, one per line, the first seals. Required with
//! #   PostgreSQL; an SQLite file without one gets `<database>.key` beside it
//! component_cache = "component-cache" # compiled components, by content digest (and pulled ones)
//! # trusted_keys = ["keys/providers.pub"] # Ed25519 public keys (`keygen`); with any, every
//! #   component from outside the binary must be signed by one of them (several: rotation)
//! # component_limit_mib = 32           # the largest component accepted (file or registry layer)
//! # registry_poll = 60                 # seconds between looks at a followed registry tag
//! ca_bundle = "/etc/ssl/private-ca.pem" # more CAs for the storage's (and database's) certificate
//! allow_plain_http = false            # true: accept an http:// `url` (with a warning)
//! storage_session = true              # keep the storage's session cookies (see outbound.rs)
//! listen = "127.0.0.1:8080"           # `serve`
//! api_tokens = ["…"]                  # bearer tokens of the controller (needed by `serve`)
//! password_file = "/run/secrets/nc"   # the NextCloud password, instead of [shared_folder]
//! # password_env = "NEXTCLOUD_PASSWORD"
//! call_timeout = 120                  # seconds, one whole provider call
//! connect_timeout = 5                 # seconds, to the storage
//! answer_timeout = 30                 # seconds, waiting for the storage's answer
//! memory_limit_mib = 64               # per provider instance
//! ticket_ttl = 300                    # seconds a signaling ticket stays valid
//! reconcile_interval = 60             # seconds between clean-ups of lost creates (serve)
//! audit_interval = 3600               # seconds between audits of records against the storage
//! #   (serve; the metric shared_folder_audit_findings); 0: none
//! shutdown_grace = 30                 # seconds calls in flight get at shutdown
//! log_format = "text"                 # or "json"
//!
//! # [host.components.acme]            # one provider's component: where from, what it must be
//! # source = "oci://registry.example.com/providers/acme:1"  # pulled, and followed (a tag)
//! # digest = "sha256:…"               # pinned: any other file or artifact is refused
//! # registry_credentials_file = "/run/secrets/registry" # user:password
//! # registry_hosts = ["auth.example.com"] # other hosts the registry may send the client to
//! ```
//!
//! Every `[host]` field has a default; relative paths are relative to the configuration
//! file's folder. An unknown or invalid field is an error that names it (the file is read
//! with serde, through the runtime's one TOML reader). Other sections are left alone, so the
//! host can read an OpenTalk controller's own configuration file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::components::registry::registry_host;
use crate::components::{
    ComponentSettings, DEFAULT_SIZE_LIMIT, RegistryCredentials, RegistryReference, Source,
};
use crate::records::sealing::{KeyError, Keys};
use crate::records::{Database, LeaseTiming};
use serde::de::{self, Deserializer};
use shared_folder_runtime::trust::{Pin, TrustedKeys};
use shared_folder_runtime::{
    ConfigError, ConnectionSettings, Limits, Options, OutboundLimits, SandboxLimits, Secret,
    SharedFolderConfig, from_toml,
};

/// How the binary logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// The `[host]` section.
#[derive(Debug, Clone)]
pub struct HostSection {
    /// Where provider components come from (plugins folder, registries) and what they must
    /// be (signed, pinned, of a size).
    pub components: ComponentSettings,
    /// Where the folder records are kept.
    pub database: Database,
    /// The keys that seal share passwords in the records (`None`: an SQLite file's own key
    /// file beside it).
    pub records_key: Option<RecordsKey>,
    /// Folder of compiled components, so that a restart loads instead of compiling.
    pub component_cache: PathBuf,
    /// PEM file of CA certificates trusted besides the system's store.
    pub ca_bundle: Option<PathBuf>,
    /// Whether `[shared_folder].url` may be plain `http://`: the account's and the shares'
    /// passwords then cross the network unencrypted. Off unless the file says so.
    pub allow_plain_http: bool,
    /// Whether the storage's session cookies are kept (its password is then checked once per
    /// session, not per request).
    pub storage_session: bool,
    pub listen: SocketAddr,
    /// Bearer tokens the controller-facing API accepts.
    pub api_tokens: Vec<Secret>,
    pub limits: Limits,
    pub ticket_ttl: Duration,
    /// How often `serve` purges creates whose clean-up failed (the storage was away).
    pub reconcile_interval: Duration,
    /// Between two audits of the records against the storage while serving (`audit`'s
    /// metric); `None`: no audits.
    pub audit_interval: Option<Duration>,
    pub shutdown_grace: Duration,
    pub log_format: LogFormat,
}

/// A whole configuration file.
#[derive(Debug, Clone)]
pub struct HostConfig {
    pub shared_folder: SharedFolderConfig,
    pub host: HostSection,
}

/// The `[host]` table as written: typed, every field optional, any other field refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostTable {
    plugins: Option<NonEmpty>,
    database: Option<NonEmpty>,
    database_password_file: Option<NonEmpty>,
    database_password_env: Option<NonEmpty>,
    database_listen_url: Option<NonEmpty>,
    room_lease: Option<Positive>,
    records_key_file: Option<NonEmpty>,
    records_key_env: Option<NonEmpty>,
    component_cache: Option<NonEmpty>,
    ca_bundle: Option<NonEmpty>,
    allow_plain_http: Option<bool>,
    storage_session: Option<bool>,
    listen: Option<Listen>,
    api_tokens: Option<Tokens>,
    password_file: Option<NonEmpty>,
    password_env: Option<NonEmpty>,
    call_timeout: Option<Positive>,
    connect_timeout: Option<Positive>,
    answer_timeout: Option<Positive>,
    memory_limit_mib: Option<Mebibytes>,
    ticket_ttl: Option<Positive>,
    reconcile_interval: Option<Positive>,
    audit_interval: Option<u64>,
    shutdown_grace: Option<Positive>,
    log_format: Option<LogFormat>,
    trusted_keys: Option<Vec<NonEmpty>>,
    component_limit_mib: Option<Mebibytes>,
    registry_poll: Option<Positive>,
    components: Option<std::collections::BTreeMap<String, ComponentTable>>,
}

/// `[host.components.<provider>]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ComponentTable {
    source: Option<NonEmpty>,
    digest: Option<NonEmpty>,
    registry_credentials_file: Option<NonEmpty>,
    registry_hosts: Option<Vec<NonEmpty>>,
}

/// The file as far as `[host]` goes: other sections (an OpenTalk controller's own) are left
/// alone; `[shared_folder]` is read by [`SharedFolderConfig`].
#[derive(Deserialize)]
struct File {
    #[serde(default)]
    host: HostTable,
}

impl HostConfig {
    /// Reads the configuration file at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Unreadable {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::parse(&text, base, &|name| std::env::var(name).ok())
    }

    /// Reads a configuration's text; relative paths are taken from `base`, environment
    /// variables from `env`.
    pub fn parse(
        text: &str,
        base: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let File { host: table } = from_toml(text)?;
        let password = secret(
            ("password_file", &table.password_file),
            ("password_env", &table.password_env),
            base,
            env,
        )?;
        let database = table.database(base, env)?;
        let records_key = table.records_key(base, env, &database)?;
        let shared_folder = SharedFolderConfig::from_toml_with(text, password)?;
        let path = |field: &Option<NonEmpty>| field.as_ref().map(|p| base.join(&p.0));
        let seconds = |field: &Option<Positive>, default: u64| {
            Duration::from_secs(field.as_ref().map_or(default, |n| n.0))
        };
        let defaults = Limits::default();
        let answer_timeout = seconds(&table.answer_timeout, 30);
        let component_cache =
            path(&table.component_cache).unwrap_or_else(|| base.join("component-cache"));
        let components = ComponentSettings {
            plugins: path(&table.plugins),
            trusted_keys: table.trusted_keys(base)?,
            sources: table.sources(base)?,
            cache: component_cache.clone(),
            poll: seconds(&table.registry_poll, 60),
            size_limit: table
                .component_limit_mib
                .as_ref()
                .map_or(DEFAULT_SIZE_LIMIT, |m| m.0 as u64),
            ca_bundle: path(&table.ca_bundle),
        };
        let host = HostSection {
            components,
            database,
            records_key,
            component_cache,
            ca_bundle: path(&table.ca_bundle),
            allow_plain_http: table.allow_plain_http.unwrap_or(false),
            storage_session: table.storage_session.unwrap_or(true),
            listen: table
                .listen
                .map_or(SocketAddr::from(([127, 0, 0, 1], 8080)), |l| l.0),
            api_tokens: table.api_tokens.map(|t| t.0).unwrap_or_default(),
            limits: Limits {
                sandbox: SandboxLimits {
                    memory_bytes: table
                        .memory_limit_mib
                        .map_or(defaults.sandbox.memory_bytes, |m| m.0),
                    ..defaults.sandbox
                },
                outbound: OutboundLimits {
                    connect_timeout: seconds(&table.connect_timeout, 5),
                    first_byte_timeout: answer_timeout,
                    between_bytes_timeout: answer_timeout,
                    ..defaults.outbound
                },
                call_deadline: table
                    .call_timeout
                    .map_or(defaults.call_deadline, |n| Duration::from_secs(n.0)),
            },
            ticket_ttl: seconds(&table.ticket_ttl, 300),
            reconcile_interval: seconds(&table.reconcile_interval, 60),
            audit_interval: match table.audit_interval {
                None => Some(Duration::from_secs(3600)),
                Some(0) => None,
                Some(n) => Some(Duration::from_secs(n)),
            },
            shutdown_grace: seconds(&table.shutdown_grace, 30),
            log_format: table.log_format.unwrap_or(LogFormat::Text),
        };
        if !shared_folder.url.https() && !host.allow_plain_http {
            return Err(ConfigError::field(
                "url",
                "is plain http, which sends the account's password and the shares' passwords \
                 unencrypted; use https, or set [host].allow_plain_http = true",
            ));
        }
        Ok(HostConfig {
            shared_folder,
            host,
        })
    }
}

impl HostSection {
    /// How the runtime is set up for this file: its limits, the component cache, and how the
    /// storage is reached.
    pub fn runtime_options(&self) -> Options {
        Options {
            limits: self.limits,
            cache_dir: Some(self.component_cache.clone()),
            connections: ConnectionSettings {
                ca_bundle: self.ca_bundle.clone(),
                session: self.storage_session,
                ..ConnectionSettings::default()
            },
            allow_plain_http: self.allow_plain_http,
            ..Options::default()
        }
    }
}

impl HostTable {
    /// `trusted_keys`: the public keys, read now (a key that does not read is an error
    /// naming the field and the file).
    fn trusted_keys(&self, base: &Path) -> Result<Option<TrustedKeys>, ConfigError> {
        let Some(files) = &self.trusted_keys else {
            return Ok(None);
        };
        if files.is_empty() {
            return Err(host_error(
                "trusted_keys",
                "lists no key: leave it out to serve unverified components, or list the \
                 public keys whose signatures are trusted",
            ));
        }
        let files: Vec<PathBuf> = files.iter().map(|f| base.join(&f.0)).collect();
        TrustedKeys::from_files(&files)
            .map(Some)
            .map_err(|e| host_error("trusted_keys", e.to_string()))
    }

    /// `[host.components.<provider>]`, each field checked.
    fn sources(
        &self,
        base: &Path,
    ) -> Result<std::collections::BTreeMap<String, Source>, ConfigError> {
        let mut sources = std::collections::BTreeMap::new();
        for (provider, table) in self.components.iter().flatten() {
            let field = |name: &str| format!("components.{provider}.{name}");
            let registry = match &table.source {
                Some(text) => Some(
                    RegistryReference::parse(&text.0)
                        .map_err(|e| host_error(&field("source"), e))?,
                ),
                None => None,
            };
            let pin = match &table.digest {
                Some(text) => {
                    Some(Pin::parse(&text.0).map_err(|e| host_error(&field("digest"), e))?)
                }
                None => None,
            };
            let credentials = match &table.registry_credentials_file {
                Some(file) => Some(
                    RegistryCredentials::read(&base.join(&file.0))
                        .map_err(|e| host_error(&field("registry_credentials_file"), e))?,
                ),
                None => None,
            };
            if registry.is_none() && (credentials.is_some() || table.registry_hosts.is_some()) {
                return Err(host_error(
                    &field("source"),
                    "registry settings are given, but no oci:// source",
                ));
            }
            let other_hosts = table
                .registry_hosts
                .iter()
                .flatten()
                .map(|h| registry_host(&h.0))
                .collect::<Result<Vec<String>, String>>()
                .map_err(|e| host_error(&field("registry_hosts"), e))?;
            sources.insert(
                provider.clone(),
                Source {
                    registry,
                    pin,
                    credentials,
                    other_hosts,
                },
            );
        }
        Ok(sources)
    }

    /// The folder records' database: a `postgres://` URL, else an SQLite file.
    fn database(
        &self,
        base: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Database, ConfigError> {
        let password = secret(
            ("database_password_file", &self.database_password_file),
            ("database_password_env", &self.database_password_env),
            base,
            env,
        )?;
        let is_postgres = self.database.as_ref().is_some_and(|d| {
            let url = d.0.trim();
            url.starts_with("postgres://") || url.starts_with("postgresql://")
        });
        let postgres_only = [
            ("database_listen_url", self.database_listen_url.is_some()),
            ("room_lease", self.room_lease.is_some()),
        ];
        if let Some((field, _)) = postgres_only.iter().find(|(_, given)| *given)
            && !is_postgres
        {
            return Err(host_error(field, "is for a postgres:// database only"));
        }
        let Some(NonEmpty(database)) = &self.database else {
            if password.is_some() {
                return Err(host_error(
                    "database",
                    "a database password is given, but no postgres:// database",
                ));
            }
            return Ok(Database::File(base.join("shared-folders.sqlite3")));
        };
        let url = database.trim();
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            if password.is_some() {
                return Err(host_error(
                    "database",
                    "is a file, which takes no password; a PostgreSQL database is a \
                     postgres:// URL",
                ));
            }
            return Ok(Database::File(base.join(url)));
        }
        // The URL is shown in logs and errors: its password would be too. Read as the
        // database client reads it, so that no spelling of a password slips through.
        if let Err(problem) = crate::records::postgres::check_url(url) {
            return Err(host_error("database", problem));
        }
        let listen_url = match &self.database_listen_url {
            Some(NonEmpty(listen)) => {
                let listen = listen.trim();
                if let Err(problem) = crate::records::postgres::check_url(listen) {
                    return Err(host_error("database_listen_url", problem));
                }
                Some(listen.to_owned())
            }
            None => None,
        };
        let lease = Duration::from_secs(self.room_lease.as_ref().map_or(30, |n| n.0));
        Ok(Database::Postgres {
            url: url.to_owned(),
            listen_url,
            password,
            ca_bundle: self.ca_bundle.as_ref().map(|p| base.join(&p.0)),
            leases: LeaseTiming::lasting(lease),
        })
    }

    /// The keys sealing share passwords, from `records_key_file` or `records_key_env`
    /// (checked here, so that a bad key is a configuration error naming its field).
    fn records_key(
        &self,
        base: &Path,
        env: &dyn Fn(&str) -> Option<String>,
        database: &Database,
    ) -> Result<Option<RecordsKey>, ConfigError> {
        let (field, origin) = match (&self.records_key_file, &self.records_key_env) {
            (Some(_), Some(_)) => {
                return Err(host_error(
                    "records_key_env",
                    "give records_key_file or records_key_env, not both",
                ));
            }
            (Some(file), None) => ("records_key_file", base.join(&file.0).display().to_string()),
            (None, Some(name)) => ("records_key_env", name.0.clone()),
            (None, None) => {
                if matches!(database, Database::Postgres { .. }) {
                    return Err(host_error(
                        "records_key_file",
                        "PostgreSQL records need a key to seal share passwords with: set \
                         records_key_file or records_key_env (a key: \
                         `head -c 32 /dev/urandom | base64`)",
                    ));
                }
                return Ok(None);
            }
        };
        let text = secret(
            ("records_key_file", &self.records_key_file),
            ("records_key_env", &self.records_key_env),
            base,
            env,
        )?
        .ok_or_else(|| host_error(field, "gives no key"))?;
        let source = format!("{field} ({origin})");
        Keys::parse(text.expose(), &source).map_err(|e| host_error(field, e.problem))?;
        Ok(Some(RecordsKey { source, text }))
    }
}

/// The keys that seal share passwords, as configured: where they came from and their text.
#[derive(Debug, Clone)]
pub struct RecordsKey {
    /// `records_key_file (path)` or `records_key_env (NAME)`.
    pub source: String,
    text: Secret,
}

impl RecordsKey {
    pub fn keys(&self) -> Result<Keys, KeyError> {
        Keys::parse(self.text.expose(), &self.source)
    }
}

/// A secret from a file (`file.0` names that field) or an environment variable, if one is
/// named: the storage account's password, the database's, the records' keys.
fn secret(
    file: (&str, &Option<NonEmpty>),
    env_var: (&str, &Option<NonEmpty>),
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Secret>, ConfigError> {
    let (field, secret) = match (file.1, env_var.1) {
        (Some(_), Some(_)) => {
            return Err(host_error(
                env_var.0,
                format!("give {} or {}, not both", file.0, env_var.0),
            ));
        }
        (Some(path), None) => {
            let path = base.join(&path.0);
            // The path is not quoted: a password written here by mistake would be.
            let text = std::fs::read_to_string(&path).map_err(|e| {
                host_error(
                    file.0,
                    format!("the file it names cannot be read: {}", e.kind()),
                )
            })?;
            // A file usually ends with a newline that is not part of the password.
            let text = text.trim_end_matches(['\n', '\r']).to_owned();
            (file.0, text)
        }
        (None, Some(name)) => {
            let name = name.0.as_str();
            let value = env(name).ok_or_else(|| {
                // Quoted only when it looks like a variable's name: a password written
                // here by mistake is not repeated.
                let looks_like_a_name = name
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                let reason = if looks_like_a_name {
                    format!("environment variable {name} is not set")
                } else {
                    "must name an environment variable (letters, digits and '_')".to_owned()
                };
                host_error(env_var.0, reason)
            })?;
            (env_var.0, value)
        }
        (None, None) => return Ok(None),
    };
    if secret.is_empty() {
        let what = if field.starts_with("records_key") {
            "key"
        } else {
            "password"
        };
        return Err(host_error(field, format!("the {what} it gives is empty")));
    }
    Ok(Some(Secret::new(secret)))
}

/// An error about `[host].field`.
fn host_error(field: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::in_section("host", field, reason)
}

/// A non-empty text: a file's path (relative to the configuration file) or a variable's name.
#[derive(Debug)]
struct NonEmpty(String);

impl<'de> Deserialize<'de> for NonEmpty {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text.trim().is_empty() {
            return Err(de::Error::custom("must not be empty"));
        }
        Ok(NonEmpty(text))
    }
}

/// An address and port to listen on.
#[derive(Debug)]
struct Listen(SocketAddr);

impl<'de> Deserialize<'de> for Listen {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.trim()
            .parse()
            .map(Listen)
            .map_err(|_| de::Error::custom("must be an address and port, e.g. 127.0.0.1:8080"))
    }
}

/// The controller's bearer tokens: a list of strings of at least 16 characters. What was
/// written is never quoted in an error.
#[derive(Debug)]
struct Tokens(Vec<Secret>);

impl<'de> Deserialize<'de> for Tokens {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let tokens = Vec::<Secret>::deserialize(deserializer)
            .map_err(|_| de::Error::custom("must be a list of strings"))?;
        if tokens.iter().any(|t| t.expose().chars().count() < 16) {
            return Err(de::Error::custom(
                "each token must have at least 16 characters",
            ));
        }
        Ok(Tokens(tokens))
    }
}

/// A whole number above zero (seconds).
#[derive(Debug)]
struct Positive(u64);

impl<'de> Deserialize<'de> for Positive {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match i64::deserialize(deserializer) {
            Ok(n) if n > 0 => Ok(Positive(n.unsigned_abs())),
            _ => Err(de::Error::custom("must be a positive whole number")),
        }
    }
}

/// A memory size in MiB, at most 4096 (a component has a 32-bit memory), as bytes.
#[derive(Debug)]
struct Mebibytes(usize);

impl<'de> Deserialize<'de> for Mebibytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let Positive(mib) = Positive::deserialize(deserializer)?;
        if mib > 4096 {
            return Err(de::Error::custom(
                "at most 4096 (a component has a 32-bit memory)",
            ));
        }
        usize::try_from(mib << 20)
            .map(Mebibytes)
            .map_err(|_| de::Error::custom("too large for this machine"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHARED_FOLDER: &str = r#"
        [shared_folder]
        provider = "nextcloud"
        url = "https://cloud.example.com/"
        username = "opentalk"
        directory = "meetings"
    "#;

    fn parse(text: &str) -> Result<HostConfig, ConfigError> {
        HostConfig::parse(text, Path::new("/etc/sf"), &|name| match name {
            "NC_PASSWORD" => Some("from-env-Passw0rd".to_owned()),
            "DB_PASSWORD" => Some("db-Passw0rd".to_owned()),
            "RECORDS_KEY" => Some(format!("{}\n", "A".repeat(43) + "=")),
            "SHORT_KEY" => Some("c2hvcnQ=".to_owned()),
            _ => None,
        })
    }

    fn with_host(lines: &str) -> Result<HostConfig, ConfigError> {
        parse(&format!(
            "{SHARED_FOLDER}\n[host]\npassword_env = \"NC_PASSWORD\"\n{lines}\n"
        ))
    }

    #[test]
    fn component_sources_name_the_field_that_is_wrong() {
        let wrong = |lines: &str| with_host(lines).expect_err(lines).to_string();
        assert!(wrong("trusted_keys = []").contains("[host].trusted_keys"));
        assert!(wrong("trusted_keys = [\"missing.pub\"]").contains("missing.pub"));
        let table = "[host.components.acme]\n";
        assert!(
            wrong(&format!("{table}source = \"https://r.example.com/acme:1\""))
                .contains("[host].components.acme.source")
        );
        assert!(
            wrong(&format!("{table}digest = \"md5:0\"")).contains("[host].components.acme.digest")
        );
        assert!(
            wrong(&format!(
                "{table}source = \"oci://r.example.com/acme:1\"\nregistry_hosts = [\"https://cdn.example.com\"]"
            ))
            .contains("[host].components.acme.registry_hosts")
        );
        assert!(
            wrong(&format!("{table}registry_hosts = [\"cdn.example.com\"]"))
                .contains("no oci:// source")
        );
        assert!(wrong(&format!("{table}sorce = \"oci://r.example.com/acme:1\"")).contains("sorce"));
        let config = with_host(&format!(
            "registry_poll = 5\ncomponent_limit_mib = 8\n{table}source = \"oci://r.example.com/acme:1\"\n\
             registry_hosts = [\"cdn.example.com\"]\ndigest = \"sha256:{}\"",
            "A".repeat(64)
        ))
        .expect("a configuration");
        let components = &config.host.components;
        assert_eq!(components.poll, Duration::from_secs(5));
        assert_eq!(components.size_limit, 8 << 20);
        let source = &components.sources["acme"];
        assert_eq!(source.other_hosts, ["cdn.example.com:443"]);
        assert_eq!(
            source.pin.as_ref().map(ToString::to_string),
            Some(format!("sha256:{}", "a".repeat(64)))
        );
    }

    #[test]
    fn a_postgresql_database_takes_its_password_and_key_from_outside_the_url() {
        let config = with_host(
            "database = \"postgres://sf@db:5432/folders\"\n\
             database_password_env = \"DB_PASSWORD\"\nrecords_key_env = \"RECORDS_KEY\"",
        )
        .unwrap();
        let Database::Postgres { url, password, .. } = &config.host.database else {
            panic!("not PostgreSQL: {:?}", config.host.database);
        };
        assert_eq!(url, "postgres://sf@db:5432/folders");
        assert_eq!(password.as_ref().map(Secret::expose), Some("db-Passw0rd"));
        let key = config.host.records_key.as_ref().expect("a key");
        assert_eq!(key.source, "records_key_env (RECORDS_KEY)");
        assert!(key.keys().is_ok());
        assert!(!format!("{config:?}").contains("db-Passw0rd"));
    }

    #[test]
    fn behind_pgbouncer_listen_goes_to_the_server_and_leases_last_as_set() {
        let config = with_host(
            "database = \"postgres://sf@pgbouncer:6432/folders\"\n\
             database_listen_url = \"postgres://sf@db:5432/folders\"\n\
             database_password_env = \"DB_PASSWORD\"\nrecords_key_env = \"RECORDS_KEY\"\n\
             room_lease = 12",
        )
        .unwrap();
        let Database::Postgres {
            url,
            listen_url,
            leases,
            ..
        } = &config.host.database
        else {
            panic!("not PostgreSQL: {:?}", config.host.database);
        };
        assert_eq!(url, "postgres://sf@pgbouncer:6432/folders");
        assert_eq!(listen_url.as_deref(), Some("postgres://sf@db:5432/folders"));
        assert_eq!(*leases, LeaseTiming::lasting(Duration::from_secs(12)));
        assert_eq!(leases.renew_every, Duration::from_secs(4));
        // By default: LISTEN on `database`, 30 s leases renewed every 10 s.
        let config = with_host(
            "database = \"postgres://sf@db:5432/folders\"\nrecords_key_env = \"RECORDS_KEY\"",
        )
        .unwrap();
        let Database::Postgres {
            listen_url, leases, ..
        } = &config.host.database
        else {
            panic!("not PostgreSQL");
        };
        assert_eq!(*listen_url, None);
        assert_eq!(leases.renew_every, Duration::from_secs(10));
    }

    #[test]
    fn database_mistakes_name_their_field_and_show_no_secret() {
        let cases = [
            (
                "database = \"postgres://sf:hunter2-Passw0rd@db/folders\"\nrecords_key_env = \"RECORDS_KEY\"",
                "[host].database",
            ),
            (
                "database = \"postgres://sf@db/folders?password=hunter2-Passw0rd\"\nrecords_key_env = \"RECORDS_KEY\"",
                "[host].database",
            ),
            (
                "database = \"postgres://sf:hunter2/Passw0rd@db/folders\"\nrecords_key_env = \"RECORDS_KEY\"",
                "[host].database",
            ),
            (
                "database = \"postgres://sf@db/folders?pass%77ord=hunter2-Passw0rd\"\nrecords_key_env = \"RECORDS_KEY\"",
                "[host].database",
            ),
            (
                "database = \"postgres://sf@db/folders\"",
                "[host].records_key_file",
            ),
            (
                "database = \"postgres://sf@db/folders\"\nrecords_key_env = \"SHORT_KEY\"",
                "[host].records_key_env",
            ),
            (
                "database = \"postgres://sf@db/folders\"\nrecords_key_env = \"UNSET_KEY\"",
                "[host].records_key_env",
            ),
            ("database_password_env = \"DB_PASSWORD\"", "[host].database"),
            (
                "database = \"folders.sqlite3\"\ndatabase_password_env = \"DB_PASSWORD\"",
                "[host].database",
            ),
            (
                "database = \"folders.sqlite3\"\ndatabase_listen_url = \"postgres://sf@db/f\"",
                "[host].database_listen_url",
            ),
            ("room_lease = 10", "[host].room_lease"),
            (
                "database = \"postgres://sf@pgbouncer/folders\"\nrecords_key_env = \"RECORDS_KEY\"\n\
                 database_listen_url = \"postgres://sf:hunter2-Passw0rd@db/folders\"",
                "[host].database_listen_url",
            ),
        ];
        for (lines, field) in cases {
            let error = with_host(lines).unwrap_err().to_string();
            assert!(error.contains(field), "{lines}: {error}");
            assert!(
                !error.contains("hunter2") && !error.contains("c2hvcnQ"),
                "{error}"
            );
        }
        // An SQLite file needs no key named: it gets its own beside it.
        let config = with_host("database = \"folders.sqlite3\"").unwrap();
        assert!(config.host.records_key.is_none());
    }

    #[test]
    fn every_host_field_has_a_default() {
        let config = parse(&format!("{SHARED_FOLDER}password = \"pw-in-config\"\n")).unwrap();
        let host = &config.host;
        assert_eq!(host.components.plugins, None);
        assert!(
            matches!(&host.database, Database::File(p) if p == Path::new("/etc/sf/shared-folders.sqlite3"))
        );
        assert_eq!(host.component_cache, Path::new("/etc/sf/component-cache"));
        assert_eq!(host.ca_bundle, None);
        assert!(!host.allow_plain_http);
        assert!(host.storage_session);
        assert_eq!(host.reconcile_interval, Duration::from_secs(60));
        assert_eq!(host.audit_interval, Some(Duration::from_secs(3600)));
        assert_eq!(host.listen.to_string(), "127.0.0.1:8080");
        assert!(host.api_tokens.is_empty());
        assert_eq!(host.limits, Limits::default());
        assert_eq!(host.log_format, LogFormat::Text);
        assert_eq!(password(&config), "pw-in-config");
    }

    fn password(config: &HostConfig) -> &str {
        match &config.shared_folder.credentials {
            shared_folder_runtime::Credentials::Basic { password, .. } => password.expose(),
            other => panic!("not a password: {other:?}"),
        }
    }

    #[test]
    fn host_fields_are_read_and_paths_are_relative_to_the_file() {
        let config = parse(&format!(
            "{SHARED_FOLDER}\n[host]\nplugins = \"plugins\"\ndatabase = \"/var/lib/sf.db\"\n\
             listen = \"0.0.0.0:9000\"\napi_tokens = [\"0123456789abcdef\"]\n\
             password_env = \"NC_PASSWORD\"\ncall_timeout = 10\nanswer_timeout = 3\n\
             memory_limit_mib = 32\nlog_format = \"json\"\n"
        ))
        .unwrap();
        let host = &config.host;
        assert_eq!(
            host.components.plugins.as_deref(),
            Some(Path::new("/etc/sf/plugins"))
        );
        assert!(matches!(&host.database, Database::File(p) if p == Path::new("/var/lib/sf.db")));
        assert_eq!(host.listen.port(), 9000);
        assert_eq!(host.api_tokens[0].expose(), "0123456789abcdef");
        assert_eq!(host.limits.call_deadline, Duration::from_secs(10));
        assert_eq!(
            host.limits.outbound.first_byte_timeout,
            Duration::from_secs(3)
        );
        assert_eq!(host.limits.sandbox.memory_bytes, 32 << 20);
        assert_eq!(host.log_format, LogFormat::Json);
        assert_eq!(password(&config), "from-env-Passw0rd");
    }

    #[test]
    fn the_password_can_come_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("nc-password"), "file-Passw0rd\n").unwrap();
        let text = format!("{SHARED_FOLDER}\n[host]\npassword_file = \"nc-password\"\n");
        let config = HostConfig::parse(&text, dir.path(), &|_| None).unwrap();
        assert_eq!(password(&config), "file-Passw0rd");
    }

    #[test]
    fn bad_fields_are_named() {
        for (host, field) in [
            ("colour = 1", "colour"),
            ("listen = \"everywhere\"", "listen"),
            ("api_tokens = \"one\"", "api_tokens"),
            ("api_tokens = [\"short\"]", "api_tokens"),
            ("call_timeout = 0", "call_timeout"),
            ("call_timeout = \"10s\"", "call_timeout"),
            ("memory_limit_mib = 100000", "memory_limit_mib"),
            ("log_format = \"xml\"", "log_format"),
            ("allow_plain_http = \"yes\"", "allow_plain_http"),
            ("storage_session = 1", "storage_session"),
            ("password_env = \"UNSET_VARIABLE\"", "password_env"),
            ("password_file = \"/nonexistent/pw\"", "password_file"),
        ] {
            let text = format!("{SHARED_FOLDER}password = \"pw\"\n[host]\n{host}\n");
            let text = if field.starts_with("password") {
                text.replace("password = \"pw\"\n", "")
            } else {
                text
            };
            match parse(&text) {
                Err(ConfigError::Field {
                    section, field: f, ..
                }) if section == "host" && f == field => {}
                other => panic!("{host}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_password_written_where_its_source_belongs_is_not_repeated() {
        for host in [
            "password_env = \"hunter2 Secret!\"",
            "password_file = \"hunter2-Secret\"",
            "password = \"hunter2-Secret\"",
        ] {
            let text = format!("{SHARED_FOLDER}\n[host]\n{host}\n");
            let error = parse(&text).unwrap_err();
            assert!(
                matches!(&error, ConfigError::Field { section, .. } if section == "host"),
                "{error}"
            );
            assert!(!format!("{error} {error:?}").contains("hunter2"), "{error}");
        }
        let unknown = parse(&format!("{SHARED_FOLDER}\n[host]\npassword = \"pw\"\n")).unwrap_err();
        assert!(unknown.to_string().contains("unknown field"), "{unknown}");
    }

    #[test]
    fn the_password_has_exactly_one_source() {
        let both = format!(
            "{SHARED_FOLDER}password = \"pw-in-config\"\n[host]\npassword_env = \"NC_PASSWORD\"\n"
        );
        let error = parse(&both).unwrap_err();
        assert!(
            matches!(&error, ConfigError::Field { section, field, .. }
                if section == "shared_folder" && field == "password"),
            "{error}"
        );
        assert!(!error.to_string().contains("Passw0rd"));
        let none = parse(SHARED_FOLDER).unwrap_err();
        assert!(error_names(&none, "password"), "{none}");
    }

    #[test]
    fn plain_http_needs_the_host_to_allow_it() {
        let plain = SHARED_FOLDER.replace("https://", "http://") + "password = \"pw\"\n";
        let error = parse(&plain).unwrap_err();
        assert!(error_names(&error, "url"), "{error}");
        assert!(error.to_string().contains("allow_plain_http"), "{error}");
        let allowed = parse(&format!("{plain}[host]\nallow_plain_http = true\n")).unwrap();
        assert!(allowed.host.allow_plain_http);
        assert!(!allowed.shared_folder.url.https());
    }

    fn error_names(error: &ConfigError, name: &str) -> bool {
        matches!(error, ConfigError::Field { section, field, .. }
            if section == "shared_folder" && field == name)
    }
}
