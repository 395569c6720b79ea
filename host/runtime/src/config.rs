//! OpenTalk's `[shared_folder]` configuration section, and the one TOML reader the host uses.
//!
//! ```toml
//! [shared_folder]
//! provider = "nextcloud"
//! url = "https://cloud.example.com/"
//! username = "opentalk"
//! password = "app-password"
//! directory = "opentalk/meetings"   # optional, default ""
//! expiry = 30                        # optional, days; unset: links never expire
//! # auth = "bearer"                  # instead of the password: a Bearer token from
//! # token_file = "/run/secrets/token" #   a file (read again when it changes)
//! # token_env = "STORAGE_TOKEN"       #   or an environment variable
//! ```
//!
//! The host reads what it needs itself — `provider` (which component), `url` (the one origin
//! the component may reach), and the credentials it adds to that origin's requests (`auth`:
//! `basic`, the default, with `username` and `password` — or an app token in its place — or
//! `bearer` with `token_file` or `token_env`; see [`Credentials`]) — and passes every other
//! field, with `url` and `username`, through to the component, which validates its own fields
//! and names the bad one. `url` is parsed here,
//! once: the component receives it in the canonical form [`StorageUrl`] describes.
//!
//! Every error names the field (`[shared_folder].url: …`); the value of a secret field
//! (`password`, `[host].api_tokens`) is never part of an error.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer};

use crate::contract::{Setting, SettingValue};
use crate::credentials::{Credentials, TokenSource};
use crate::error::ConfigError;
use crate::secret::Secret;

/// The `[shared_folder]` section, as far as the host understands it.
#[derive(Debug, Clone)]
pub struct SharedFolderConfig {
    /// The provider's name, e.g. `nextcloud`.
    pub provider: String,
    /// The storage's base URL; its origin is the only destination the provider may reach.
    pub url: StorageUrl,
    /// The storage account.
    pub username: String,
    /// How the host authenticates as that account; the component never sees the credentials.
    pub credentials: Credentials,
    /// The fields passed to the provider: `url` (canonical), `username` and the section's
    /// other fields, by name.
    pub settings: Vec<Setting>,
}

/// Scheme, host and port: where a provider may send requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `https` (or plain `http`).
    pub https: bool,
    /// Lower-case host name or IP literal (IPv6 in brackets).
    pub host: String,
    /// The port, the scheme's default when the URL names none.
    pub port: u16,
}

impl Origin {
    /// The origin of an `http://` or `https://` URL, read as [`StorageUrl::parse`] reads the
    /// configured one (the one URL parser of the runtime).
    pub fn parse(url: &str) -> Result<Origin, String> {
        StorageUrl::parse(url).map(|url| url.origin().clone())
    }

    /// Whether `uri` points at this origin.
    pub fn matches(&self, uri: &http::Uri) -> bool {
        let https = match uri.scheme() {
            Some(s) if *s == http::uri::Scheme::HTTPS => true,
            Some(s) if *s == http::uri::Scheme::HTTP => false,
            _ => return false,
        };
        let Some(authority) = uri.authority() else {
            return false;
        };
        https == self.https
            && authority.host().eq_ignore_ascii_case(&self.host)
            && authority.port_u16().unwrap_or(if https { 443 } else { 80 }) == self.port
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        write!(f, "{scheme}://{}:{}", self.host, self.port)
    }
}

/// The storage's base URL, parsed once (here, with the `url` crate).
///
/// The component receives it as the setting `url` in this canonical form, and may rely on it:
/// `http://` or `https://`, the host in lower case (an IPv6 address in brackets), a port only
/// when it is not the scheme's default, the sub-path the storage is served under followed by
/// exactly one `/` (`https://cloud.example.com/`, `http://127.0.0.1:8090/nc/`); never
/// credentials, a query or a fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageUrl {
    origin: Origin,
    /// `""`, or the sub-path without its trailing `/` (`/nextcloud`), percent-encoded.
    base_path: String,
}

impl StorageUrl {
    /// Parses an `http://` or `https://` base URL; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        // The `url` crate repairs what browsers repair (`https:/host`, `https:\\host`); a
        // configuration that needs repairing is refused instead, so that what was written is
        // what is used.
        let violation = std::cell::Cell::new(None);
        let url = url::Url::options()
            .syntax_violation_callback(Some(&|v| {
                if matches!(
                    v,
                    url::SyntaxViolation::ExpectedDoubleSlash | url::SyntaxViolation::Backslash
                ) {
                    violation.set(Some(v));
                }
            }))
            .parse(text.trim())
            .map_err(|e| format!("not a URL: {e}"))?;
        if let Some(v) = violation.get() {
            return Err(format!("not a URL as written ({})", v.description()));
        }
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            _ => return Err("must start with https:// or http://".into()),
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not carry credentials; use `username` and `password`".into());
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err("must not carry a query or fragment".into());
        }
        let host = match url.host() {
            Some(url::Host::Domain(name)) if !name.is_empty() => name.to_ascii_lowercase(),
            Some(url::Host::Ipv4(address)) => address.to_string(),
            Some(url::Host::Ipv6(address)) => format!("[{address}]"),
            _ => return Err("has no host".into()),
        };
        let port = url
            .port_or_known_default()
            .ok_or("has no port and no default one")?;
        Ok(StorageUrl {
            origin: Origin { https, host, port },
            base_path: url.path().trim_end_matches('/').to_owned(),
        })
    }

    /// Scheme, host and port.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The sub-path the storage is served under: `""` or e.g. `/nextcloud` (no trailing `/`).
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// Whether the storage is reached over TLS.
    pub fn https(&self) -> bool {
        self.origin.https
    }
}

/// The canonical form (see [`StorageUrl`]).
impl fmt::Display for StorageUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Origin { https, host, port } = &self.origin;
        let (scheme, default_port) = if *https { ("https", 443) } else { ("http", 80) };
        write!(f, "{scheme}://{host}")?;
        if *port != default_port {
            write!(f, ":{port}")?;
        }
        write!(f, "{}/", self.base_path)
    }
}

impl<'de> Deserialize<'de> for StorageUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        StorageUrl::parse(&text).map_err(de::Error::custom)
    }
}

/// A provider's name: letters, digits, `-` and `_` (it names the plugin file too).
struct ProviderName(String);

impl<'de> Deserialize<'de> for ProviderName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        let name = name.trim();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(de::Error::custom(
                "must be a name of letters, digits, '-' and '_'",
            ));
        }
        Ok(ProviderName(name.to_owned()))
    }
}

/// Text that must not be empty once trimmed.
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.trim() {
            "" => Err(de::Error::custom("must not be empty")),
            trimmed => Ok(Text(trimmed.to_owned())),
        }
    }
}

/// The section as written.
#[derive(Deserialize)]
struct Section {
    provider: ProviderName,
    url: StorageUrl,
    username: Text,
    /// Kept as given: leading or trailing spaces may be part of it.
    password: Option<Secret>,
    #[serde(default)]
    auth: Auth,
    token_file: Option<Text>,
    token_env: Option<Text>,
    /// The provider's own fields.
    #[serde(flatten)]
    provider_fields: BTreeMap<String, toml::Value>,
}

/// A whole file, as far as `[shared_folder]` goes: other sections are left alone.
#[derive(Deserialize)]
struct File {
    shared_folder: Option<Section>,
}

impl SharedFolderConfig {
    /// Reads the `[shared_folder]` table of a whole configuration file.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        Self::from_toml_with(text, None)
    }

    /// As [`SharedFolderConfig::from_toml`], with the account password from elsewhere when
    /// `password` is given (a file or an environment variable, see `[host]`): then the table
    /// must not have one too.
    pub fn from_toml_with(text: &str, password: Option<Secret>) -> Result<Self, ConfigError> {
        let file: File = from_toml(text)?;
        let section = file.shared_folder.ok_or(ConfigError::MissingSection)?;
        Self::from_section(section, password)
    }

    fn from_section(section: Section, password: Option<Secret>) -> Result<Self, ConfigError> {
        let credentials = credentials(&section, password)?;
        if let Err(reason) = credentials.check() {
            let field = match &credentials {
                Credentials::Basic { .. } => "password",
                Credentials::Bearer(TokenSource::File(_)) => "token_file",
                Credentials::Bearer(TokenSource::Env { .. }) => "token_env",
            };
            return Err(ConfigError::field(field, reason));
        }
        let mut settings = vec![
            Setting {
                name: "url".into(),
                value: SettingValue::Text(section.url.to_string()),
            },
            Setting {
                name: "username".into(),
                value: SettingValue::Text(section.username.0.clone()),
            },
        ];
        for (name, value) in section.provider_fields {
            let value = match value {
                toml::Value::String(s) => SettingValue::Text(s),
                toml::Value::Integer(i) => SettingValue::Integer(i),
                toml::Value::Float(f) => SettingValue::Float(f),
                toml::Value::Boolean(b) => SettingValue::Boolean(b),
                toml::Value::Datetime(d) => SettingValue::Text(d.to_string()),
                toml::Value::Array(_) | toml::Value::Table(_) => {
                    return Err(ConfigError::field(
                        &name,
                        "must be a string, number or boolean",
                    ));
                }
            };
            settings.push(Setting { name, value });
        }
        Ok(SharedFolderConfig {
            provider: section.provider.0,
            url: section.url,
            username: section.username.0,
            credentials,
            settings,
        })
    }

    /// The storage account these settings reach, for people and for matching: the canonical
    /// `url` and the user name (`opentalk at https://cloud.example.com/`); no secret.
    pub fn account(&self) -> String {
        format!("{} at {}", self.username, self.url)
    }

    /// Names these storage settings: the same text for the same provider, URL, account,
    /// credential source and settings, whatever their order; another for any other. A record
    /// keeps it, so that its folder is deleted with the settings that made it.
    pub fn storage_id(&self) -> String {
        use sha2::Digest as _;
        let mut hasher = sha2::Sha256::new();
        let credential_source = match &self.credentials {
            Credentials::Basic { .. } => "basic".to_owned(),
            Credentials::Bearer(TokenSource::File(path)) => {
                format!("bearer-file:{}", path.display())
            }
            Credentials::Bearer(TokenSource::Env { name, .. }) => format!("bearer-env:{name}"),
        };
        let mut settings: Vec<String> = self
            .settings
            .iter()
            .map(|setting| format!("{}={:?}", setting.name, setting.value))
            .collect();
        settings.sort();
        for part in [
            &self.provider,
            &self.url.to_string(),
            &self.username,
            &credential_source,
        ]
        .into_iter()
        .chain(&settings)
        {
            hasher.update(part.len().to_le_bytes());
            hasher.update(part.as_bytes());
        }
        let digest = hasher.finalize();
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The value of the provider's field `name`, as passed to the component.
    pub fn setting(&self, name: &str) -> Option<&SettingValue> {
        self.settings
            .iter()
            .find(|s| s.name == name)
            .map(|s| &s.value)
    }

    /// The text of the provider's field `name`, if it is text.
    pub fn text_setting(&self, name: &str) -> Option<&str> {
        match self.setting(name)? {
            SettingValue::Text(text) => Some(text),
            _ => None,
        }
    }
}

/// `[shared_folder].auth`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Auth {
    /// `username` with `password` (or an app token) as HTTP Basic.
    #[default]
    Basic,
    /// A Bearer token from `token_file` or `token_env`.
    Bearer,
}

/// The credentials `section` asks for; `password` is one given by `[host]` instead.
fn credentials(section: &Section, password: Option<Secret>) -> Result<Credentials, ConfigError> {
    let only_bearer = |field: &str| {
        ConfigError::field(
            field,
            "is only read with auth = \"bearer\"; give password instead",
        )
    };
    match section.auth {
        Auth::Basic => {
            if section.token_file.is_some() {
                return Err(only_bearer("token_file"));
            }
            if section.token_env.is_some() {
                return Err(only_bearer("token_env"));
            }
            let password = match (&section.password, password) {
                (Some(_), Some(_)) => {
                    return Err(ConfigError::field(
                        "password",
                        "given here and by [host].password_file or password_env; keep one",
                    ));
                }
                (Some(password), None) => password.clone(),
                (None, Some(password)) => password,
                (None, None) => {
                    return Err(ConfigError::field(
                        "password",
                        "missing (or give [host].password_file or password_env)",
                    ));
                }
            };
            if password.expose().is_empty() {
                return Err(ConfigError::field("password", "must not be empty"));
            }
            Ok(Credentials::Basic {
                username: section.username.0.clone(),
                password,
            })
        }
        Auth::Bearer => {
            if section.password.is_some() || password.is_some() {
                return Err(ConfigError::field(
                    "password",
                    "is not used with auth = \"bearer\" (the token is); remove it",
                ));
            }
            match (&section.token_file, &section.token_env) {
                (Some(file), None) => Ok(Credentials::Bearer(TokenSource::File(
                    file.0.clone().into(),
                ))),
                (None, Some(name)) => match std::env::var(&name.0) {
                    Ok(token) => Ok(Credentials::Bearer(TokenSource::Env {
                        name: name.0.clone(),
                        token: Secret::new(token),
                    })),
                    Err(_) => Err(ConfigError::field(
                        "token_env",
                        format!(
                            "the environment variable {} is not set (or not UTF-8)",
                            name.0
                        ),
                    )),
                },
                (Some(_), Some(_)) => Err(ConfigError::field(
                    "token_env",
                    "give token_file or token_env, not both",
                )),
                (None, None) => Err(ConfigError::field(
                    "token_file",
                    "missing: auth = \"bearer\" needs token_file or token_env",
                )),
            }
        }
    }
}

/// Reads a TOML document into `T`, with the field of any error named (`[section].field: …`).
/// The one TOML reader of the host: `[shared_folder]` here, the binary's `[host]` on top.
///
/// serde's messages quote what was written for some errors ("invalid type: string "…""); a
/// secret field keeps its value out of them by its type ([`Secret`] refuses what is not text
/// without quoting it), and a section that is not a table is not quoted either.
pub fn from_toml<T: DeserializeOwned>(text: &str) -> Result<T, ConfigError> {
    let deserializer = toml::de::Deserializer::parse(text).map_err(syntax_error(text))?;
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        // The tables and keys; a list's index adds nothing to a field's name.
        let mut path: Vec<String> = error
            .path()
            .iter()
            .filter_map(|segment| match segment {
                serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                _ => None,
            })
            .collect();
        let message = error.inner().message().to_owned();
        // A missing field is reported at its table (an unknown one may be, too): name the
        // field itself.
        if let Some(name) = quoted_after(&message, "unknown field `")
            .or_else(|| quoted_after(&message, "missing field `"))
            && path.last().map(String::as_str) != Some(name)
        {
            path.push(name.to_owned());
        }
        match path.as_slice() {
            [] => ConfigError::Syntax(reason_of(&message)),
            [section] => ConfigError::Syntax(format!("`{section}` must be a table")),
            [section, rest @ ..] => {
                ConfigError::in_section(section, &rest.join("."), reason_of(&message))
            }
        }
    })
}

/// A TOML syntax error, with its line: not the line's text, which may hold a password.
fn syntax_error(text: &str) -> impl Fn(toml::de::Error) -> ConfigError + '_ {
    move |error| {
        let line = error.span().map(|span| {
            let before = &text.as_bytes()[..span.start.min(text.len())];
            before.iter().filter(|&&b| b == b'\n').count() + 1
        });
        ConfigError::Syntax(match line {
            Some(line) => format!("line {line}: {}", error.message().trim()),
            None => error.message().trim().to_owned(),
        })
    }
}

/// serde's words, shortened where they are only noise: "unknown field `x`, expected one of
/// …" becomes "unknown field; known: …", "missing field `x`" becomes "missing".
fn reason_of(message: &str) -> String {
    let message = message.trim();
    if let Some((_, known)) = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once("`, expected one of "))
    {
        return format!("unknown field; known: {}", known.replace('`', ""));
    }
    if message.starts_with("missing field `") {
        return "missing".into();
    }
    message.to_owned()
}

/// The text between `prefix` and the next backquote.
fn quoted_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = message.strip_prefix(prefix)?;
    rest.split_once('`').map(|(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
        [shared_folder]
        provider = "nextcloud"
        url = "https://Cloud.Example.com:443/nc"
        username = "opentalk"
        password = "s3cret-Passw0rd"
        directory = "meetings"
        expiry = 7
    "#;

    #[test]
    fn reads_opentalks_section() {
        let config = SharedFolderConfig::from_toml(GOOD).unwrap();
        assert_eq!(config.provider, "nextcloud");
        assert_eq!(
            config.url.origin().to_string(),
            "https://cloud.example.com:443"
        );
        assert!(matches!(
            &config.credentials,
            Credentials::Basic { username, password }
                if username == "opentalk" && password.expose() == "s3cret-Passw0rd"
        ));
        let names: Vec<&str> = config.settings.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["url", "username", "directory", "expiry"]);
        assert_eq!(
            config.text_setting("url"),
            Some("https://cloud.example.com/nc/")
        );
        assert!(!format!("{config:?}").contains("s3cret"));
    }

    #[test]
    fn the_component_gets_the_url_in_one_canonical_form() {
        for (written, canonical) in [
            ("https://cloud.example.com", "https://cloud.example.com/"),
            (
                "https://CLOUD.example.com:443/",
                "https://cloud.example.com/",
            ),
            ("http://127.0.0.1:8090/nc//", "http://127.0.0.1:8090/nc/"),
            ("http://[::1]:80/", "http://[::1]/"),
            ("https://[0:0::1]:8443/a b/", "https://[::1]:8443/a%20b/"),
            (
                " https://h.example/next/cloud/ ",
                "https://h.example/next/cloud/",
            ),
        ] {
            let url = StorageUrl::parse(written).unwrap();
            assert_eq!(url.to_string(), canonical, "{written}");
            // The canonical form reads back as itself.
            assert_eq!(StorageUrl::parse(canonical).unwrap(), url);
        }
        for refused in [
            "ftp://x/",
            "https://user:pw@h/",
            "https://user@h/",
            "https://h/?q=1",
            "https://h/#f",
            "https:///nothing",
            "h.example.com",
            "https://h:99999/",
        ] {
            assert!(StorageUrl::parse(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn bad_fields_are_named() {
        for (field, replacement) in [
            ("provider", "provider = \"../x\""),
            ("url", "url = \"ftp://x\""),
            ("url", "url = 5"),
            ("username", "username = \"\""),
            ("password", "password = 1"),
            ("password", "password = \"\""),
            ("directory", "directory = [\"a\"]"),
        ] {
            let text: String = GOOD
                .lines()
                .map(|l| {
                    if l.trim_start().starts_with(&format!("{field} =")) {
                        replacement
                    } else {
                        l
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
            let error = SharedFolderConfig::from_toml(&text).unwrap_err();
            assert!(
                matches!(&error, ConfigError::Field { section, field: f, .. }
                    if section == "shared_folder" && f == field),
                "{field}: {error}"
            );
            assert!(!error.to_string().contains("s3cret"));
        }
        let missing = GOOD.replace("username = \"opentalk\"", "");
        assert!(matches!(
            SharedFolderConfig::from_toml(&missing).unwrap_err(),
            ConfigError::Field { field, .. } if field == "username"
        ));
        assert_eq!(
            SharedFolderConfig::from_toml("[other]\n").unwrap_err(),
            ConfigError::MissingSection
        );
        assert!(matches!(
            SharedFolderConfig::from_toml("[shared_folder"),
            Err(ConfigError::Syntax(_))
        ));
    }

    #[test]
    fn a_syntax_error_names_its_line_and_not_its_text() {
        let text = "[shared_folder]\nprovider = \"nextcloud\"\nprovider = \"s3cret\"\n";
        let error = SharedFolderConfig::from_toml(text).unwrap_err().to_string();
        assert!(error.contains("line 3"), "{error}");
        assert!(!error.contains("s3cret"), "{error}");
    }

    #[test]
    fn a_password_is_never_quoted_in_an_error() {
        for text in [
            "[shared_folder]\nprovider = \"nextcloud\"\nurl = \"https://h/\"\nusername = \"u\"\npassword = 1234567890\n",
            "[shared_folder]\nprovider = \"nextcloud\"\nurl = \"https://h/\"\nusername = \"u\"\npassword = [\"1234567890\"]\n",
            "[shared_folder]\nprovider = \"nextcloud\"\nurl = \"https://h/\"\nusername = \"u\"\npassword = \"1234567890\n",
        ] {
            let error = SharedFolderConfig::from_toml(text).unwrap_err().to_string();
            assert!(!error.contains("1234567890"), "{error}");
        }
    }
}
