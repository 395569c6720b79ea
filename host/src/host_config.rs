//! The configuration file of the `shared-folder-host` binary: OpenTalk's `[shared_folder]`
//! section as it is, and an optional `[host]` section for the host itself.
//!
//! ```toml
//! [host]
//! plugins = "plugins"                 # <provider>.wasm here overrides the built-in; watched
//! database = "shared-folders.sqlite3" # the folder records
//! component_cache = "component-cache" # compiled components, by content digest
//! ca_bundle = "/etc/ssl/private-ca.pem" # more CAs for the storage's certificate
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
//! shutdown_grace = 30                 # seconds calls in flight get at shutdown
//! log_format = "text"                 # or "json"
//! ```
//!
//! Every `[host]` field has a default; relative paths are relative to the configuration
//! file's folder. An unknown or invalid field is an error that names it. Other sections are
//! left alone, so the host can read an OpenTalk controller's own configuration file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::{ConfigError, SharedFolderConfig};
use crate::folders::HostLimits;
use crate::outbound::OutboundLimits;
use crate::sandbox::SandboxLimits;
use crate::secret::Secret;

/// How the binary logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The `[host]` section.
#[derive(Debug, Clone)]
pub struct HostSection {
    /// Folder of provider components (`<provider>.wasm`); `None`: the built-in ones only.
    pub plugins: Option<PathBuf>,
    pub database: PathBuf,
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
    pub limits: HostLimits,
    pub ticket_ttl: Duration,
    /// How often `serve` purges creates whose clean-up failed (the storage was away).
    pub reconcile_interval: Duration,
    pub shutdown_grace: Duration,
    pub log_format: LogFormat,
}

/// A whole configuration file.
#[derive(Debug, Clone)]
pub struct HostConfig {
    pub shared_folder: SharedFolderConfig,
    pub host: HostSection,
}

/// The fields `[host]` knows; any other is an error.
pub const HOST_FIELDS: &[&str] = &[
    "plugins",
    "database",
    "component_cache",
    "ca_bundle",
    "allow_plain_http",
    "storage_session",
    "listen",
    "api_tokens",
    "password_file",
    "password_env",
    "call_timeout",
    "connect_timeout",
    "answer_timeout",
    "memory_limit_mib",
    "ticket_ttl",
    "reconcile_interval",
    "shutdown_grace",
    "log_format",
];

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
        let document: toml::Table =
            toml::from_str(text).map_err(|e| ConfigError::Syntax(e.message().to_owned()))?;
        let empty = toml::Table::new();
        let host = match document.get("host") {
            None => &empty,
            Some(toml::Value::Table(table)) => table,
            Some(_) => return Err(ConfigError::Syntax("`host` must be a table".into())),
        };
        let fields = Fields { table: host, base };
        fields.known()?;
        let password = fields.password(env)?;
        let shared_folder = match document.get("shared_folder") {
            Some(toml::Value::Table(table)) => {
                SharedFolderConfig::from_table_with(table, password)?
            }
            Some(_) => {
                return Err(ConfigError::Syntax(
                    "`shared_folder` must be a table".into(),
                ));
            }
            None => return Err(ConfigError::MissingSection),
        };
        let defaults = HostLimits::default();
        let answer_timeout = fields.seconds("answer_timeout", Duration::from_secs(30))?;
        let host = HostSection {
            plugins: fields.path("plugins")?,
            database: fields
                .path("database")?
                .unwrap_or_else(|| base.join("shared-folders.sqlite3")),
            component_cache: fields
                .path("component_cache")?
                .unwrap_or_else(|| base.join("component-cache")),
            ca_bundle: fields.path("ca_bundle")?,
            allow_plain_http: fields.flag("allow_plain_http", false)?,
            storage_session: fields.flag("storage_session", true)?,
            listen: fields.listen()?,
            api_tokens: fields.tokens()?,
            limits: HostLimits {
                sandbox: SandboxLimits {
                    memory_bytes: fields.mebibytes("memory_limit_mib", 64)?,
                    ..defaults.sandbox
                },
                outbound: OutboundLimits {
                    connect_timeout: fields.seconds("connect_timeout", Duration::from_secs(5))?,
                    first_byte_timeout: answer_timeout,
                    between_bytes_timeout: answer_timeout,
                    ..defaults.outbound
                },
                call_deadline: fields.seconds("call_timeout", defaults.call_deadline)?,
            },
            ticket_ttl: fields.seconds("ticket_ttl", Duration::from_secs(300))?,
            reconcile_interval: fields.seconds("reconcile_interval", Duration::from_secs(60))?,
            shutdown_grace: fields.seconds("shutdown_grace", Duration::from_secs(30))?,
            log_format: fields.log_format()?,
        };
        if !shared_folder.origin.https && !host.allow_plain_http {
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

/// The `[host]` table's fields, each read with its default and named in its error.
struct Fields<'a> {
    table: &'a toml::Table,
    base: &'a Path,
}

impl Fields<'_> {
    fn known(&self) -> Result<(), ConfigError> {
        match self
            .table
            .keys()
            .find(|k| !HOST_FIELDS.contains(&k.as_str()))
        {
            Some(unknown) => Err(error(
                unknown,
                format!("unknown field; known: {}", HOST_FIELDS.join(", ")),
            )),
            None => Ok(()),
        }
    }

    fn text(&self, field: &str) -> Result<Option<&str>, ConfigError> {
        match self.table.get(field) {
            None => Ok(None),
            Some(toml::Value::String(s)) if !s.trim().is_empty() => Ok(Some(s)),
            Some(toml::Value::String(_)) => Err(error(field, "must not be empty")),
            Some(_) => Err(error(field, "must be a string")),
        }
    }

    fn path(&self, field: &str) -> Result<Option<PathBuf>, ConfigError> {
        Ok(self.text(field)?.map(|p| self.base.join(p)))
    }

    fn listen(&self) -> Result<SocketAddr, ConfigError> {
        match self.text("listen")? {
            None => Ok(SocketAddr::from(([127, 0, 0, 1], 8080))),
            Some(text) => text
                .parse()
                .map_err(|_| error("listen", "must be an address and port, e.g. 127.0.0.1:8080")),
        }
    }

    fn tokens(&self) -> Result<Vec<Secret>, ConfigError> {
        let Some(value) = self.table.get("api_tokens") else {
            return Ok(Vec::new());
        };
        let toml::Value::Array(items) = value else {
            return Err(error("api_tokens", "must be a list of strings"));
        };
        items
            .iter()
            .map(|item| match item {
                toml::Value::String(s) if s.len() >= 16 => Ok(Secret::new(s.clone())),
                toml::Value::String(_) => Err(error(
                    "api_tokens",
                    "each token must have at least 16 characters",
                )),
                _ => Err(error("api_tokens", "must be a list of strings")),
            })
            .collect()
    }

    /// The account password from `password_file` or `password_env`, if one is named.
    fn password(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<Secret>, ConfigError> {
        let file = self.path("password_file")?;
        let variable = self.text("password_env")?;
        let secret = match (file, variable) {
            (Some(_), Some(_)) => {
                return Err(error(
                    "password_env",
                    "give password_file or password_env, not both",
                ));
            }
            (Some(file), None) => {
                let text = std::fs::read_to_string(&file).map_err(|e| {
                    error(
                        "password_file",
                        format!("cannot read {}: {}", file.display(), e.kind()),
                    )
                })?;
                // A file usually ends with a newline that is not part of the password.
                text.trim_end_matches(['\n', '\r']).to_owned()
            }
            (None, Some(name)) => env(name).ok_or_else(|| {
                error(
                    "password_env",
                    format!("environment variable {name} is not set"),
                )
            })?,
            (None, None) => return Ok(None),
        };
        if secret.is_empty() {
            let field = if self.table.contains_key("password_file") {
                "password_file"
            } else {
                "password_env"
            };
            return Err(error(field, "the password it gives is empty"));
        }
        Ok(Some(Secret::new(secret)))
    }

    fn positive(&self, field: &str) -> Result<Option<u64>, ConfigError> {
        match self.table.get(field) {
            None => Ok(None),
            Some(toml::Value::Integer(n)) if *n > 0 => Ok(Some(n.unsigned_abs())),
            Some(_) => Err(error(field, "must be a positive whole number")),
        }
    }

    fn flag(&self, field: &str, default: bool) -> Result<bool, ConfigError> {
        match self.table.get(field) {
            None => Ok(default),
            Some(toml::Value::Boolean(value)) => Ok(*value),
            Some(_) => Err(error(field, "must be true or false")),
        }
    }

    fn seconds(&self, field: &str, default: Duration) -> Result<Duration, ConfigError> {
        Ok(self.positive(field)?.map_or(default, Duration::from_secs))
    }

    fn mebibytes(&self, field: &str, default: u64) -> Result<usize, ConfigError> {
        let mib = self.positive(field)?.unwrap_or(default);
        if mib > 4096 {
            return Err(error(
                field,
                "at most 4096 (a component has a 32-bit memory)",
            ));
        }
        usize::try_from(mib << 20).map_err(|_| error(field, "too large for this machine"))
    }

    fn log_format(&self) -> Result<LogFormat, ConfigError> {
        match self.text("log_format")? {
            None | Some("text") => Ok(LogFormat::Text),
            Some("json") => Ok(LogFormat::Json),
            Some(_) => Err(error("log_format", "must be \"text\" or \"json\"")),
        }
    }
}

fn error(field: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::HostField {
        field: field.to_owned(),
        reason: reason.into(),
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
        HostConfig::parse(text, Path::new("/etc/sf"), &|name| {
            (name == "NC_PASSWORD").then(|| "from-env-Passw0rd".to_owned())
        })
    }

    #[test]
    fn every_host_field_has_a_default() {
        let config = parse(&format!("{SHARED_FOLDER}password = \"pw-in-config\"\n")).unwrap();
        let host = config.host;
        assert_eq!(host.plugins, None);
        assert_eq!(host.database, Path::new("/etc/sf/shared-folders.sqlite3"));
        assert_eq!(host.component_cache, Path::new("/etc/sf/component-cache"));
        assert_eq!(host.ca_bundle, None);
        assert!(!host.allow_plain_http);
        assert!(host.storage_session);
        assert_eq!(host.reconcile_interval, Duration::from_secs(60));
        assert_eq!(host.listen.to_string(), "127.0.0.1:8080");
        assert!(host.api_tokens.is_empty());
        assert_eq!(host.limits, HostLimits::default());
        assert_eq!(host.log_format, LogFormat::Text);
        assert_eq!(config.shared_folder.password.expose(), "pw-in-config");
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
        let host = config.host;
        assert_eq!(host.plugins.as_deref(), Some(Path::new("/etc/sf/plugins")));
        assert_eq!(host.database, Path::new("/var/lib/sf.db"));
        assert_eq!(host.listen.port(), 9000);
        assert_eq!(host.api_tokens[0].expose(), "0123456789abcdef");
        assert_eq!(host.limits.call_deadline, Duration::from_secs(10));
        assert_eq!(
            host.limits.outbound.first_byte_timeout,
            Duration::from_secs(3)
        );
        assert_eq!(host.limits.sandbox.memory_bytes, 32 << 20);
        assert_eq!(host.log_format, LogFormat::Json);
        assert_eq!(config.shared_folder.password.expose(), "from-env-Passw0rd");
    }

    #[test]
    fn the_password_can_come_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("nc-password"), "file-Passw0rd\n").unwrap();
        let text = format!("{SHARED_FOLDER}\n[host]\npassword_file = \"nc-password\"\n");
        let config = HostConfig::parse(&text, dir.path(), &|_| None).unwrap();
        assert_eq!(config.shared_folder.password.expose(), "file-Passw0rd");
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
                Err(ConfigError::HostField { field: f, .. }) if f == field => {}
                other => panic!("{host}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_password_has_exactly_one_source() {
        let both = format!(
            "{SHARED_FOLDER}password = \"pw-in-config\"\n[host]\npassword_env = \"NC_PASSWORD\"\n"
        );
        let error = parse(&both).unwrap_err();
        assert!(
            matches!(&error, ConfigError::Field { field, .. } if field == "password"),
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
        assert!(!allowed.shared_folder.origin.https);
    }

    fn error_names(error: &ConfigError, name: &str) -> bool {
        matches!(error, ConfigError::Field { field, .. } if field == name)
    }
}
