//! OpenTalk's `[shared_folder]` configuration section.
//!
//! ```toml
//! [shared_folder]
//! provider = "nextcloud"
//! url = "https://cloud.example.com/"
//! username = "opentalk"
//! password = "app-password"
//! directory = "opentalk/meetings"   # optional, default ""
//! expiry = 30                        # optional, days; unset: links never expire
//! ```
//!
//! The host reads what it needs itself — `provider` (which component), `url` (the one origin
//! the component may reach), `username` and `password` (the credentials it adds to that
//! origin's requests) — and passes every field but `provider` and `password` through to the
//! component, which validates its own fields and names the bad one.

use crate::bindings::{Setting, SettingValue};
use crate::outbound::Origin;
use crate::secret::Secret;

/// What is wrong with a configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration is not valid TOML: {0}")]
    Syntax(String),
    #[error("configuration has no [shared_folder] table")]
    MissingSection,
    #[error("[shared_folder].{field}: {reason}")]
    Field { field: String, reason: String },
    #[error("[host].{field}: {reason}")]
    HostField { field: String, reason: String },
    #[error("cannot read {path}: {reason}")]
    Unreadable { path: String, reason: String },
}

impl ConfigError {
    pub fn field(field: &str, reason: impl Into<String>) -> Self {
        ConfigError::Field {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}

/// The `[shared_folder]` section, as far as the host understands it.
#[derive(Debug, Clone)]
pub struct SharedFolderConfig {
    /// The provider's name, e.g. `nextcloud`.
    pub provider: String,
    /// The origin of `url`: the only destination the provider may reach.
    pub origin: Origin,
    pub username: String,
    pub password: Secret,
    /// The fields passed to the provider (all but `provider` and `password`).
    pub settings: Vec<Setting>,
}

impl SharedFolderConfig {
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

    /// Reads the `[shared_folder]` table of a whole configuration file.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let document: toml::Table =
            toml::from_str(text).map_err(|e| ConfigError::Syntax(e.message().to_owned()))?;
        match document.get("shared_folder") {
            Some(toml::Value::Table(table)) => Self::from_table(table),
            Some(_) => Err(ConfigError::Syntax(
                "`shared_folder` must be a table".into(),
            )),
            None => Err(ConfigError::MissingSection),
        }
    }

    /// Reads the `[shared_folder]` table itself.
    pub fn from_table(table: &toml::Table) -> Result<Self, ConfigError> {
        Self::from_table_with(table, None)
    }

    /// Reads the `[shared_folder]` table, with the account password from elsewhere when
    /// `password` is given (a file or an environment variable, see `[host]`): then the table
    /// must not have one too.
    pub fn from_table_with(
        table: &toml::Table,
        password: Option<Secret>,
    ) -> Result<Self, ConfigError> {
        let text = |field: &str| -> Result<String, ConfigError> {
            match table.get(field) {
                Some(toml::Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
                Some(toml::Value::String(_)) => Err(ConfigError::field(field, "must not be empty")),
                Some(_) => Err(ConfigError::field(field, "must be a string")),
                None => Err(ConfigError::field(field, "missing")),
            }
        };
        let provider = text("provider")?;
        if !provider
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ConfigError::field(
                "provider",
                "must be a name of letters, digits, '-' and '_'",
            ));
        }
        let origin =
            Origin::parse(&text("url")?).map_err(|reason| ConfigError::field("url", reason))?;
        let username = text("username")?;
        // The password is kept as given: leading or trailing spaces may be part of it.
        let password = match (table.get("password"), password) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::field(
                    "password",
                    "given here and by [host].password_file or password_env; keep one",
                ));
            }
            (None, Some(password)) => password,
            (Some(toml::Value::String(s)), None) if !s.is_empty() => Secret::new(s.clone()),
            (Some(toml::Value::String(_)), None) => {
                return Err(ConfigError::field("password", "must not be empty"));
            }
            (Some(_), None) => return Err(ConfigError::field("password", "must be a string")),
            (None, None) => {
                return Err(ConfigError::field(
                    "password",
                    "missing (or give [host].password_file or password_env)",
                ));
            }
        };

        let mut settings = Vec::with_capacity(table.len());
        for (name, value) in table {
            if name == "provider" || name == "password" {
                continue;
            }
            let value = match value {
                toml::Value::String(s) => SettingValue::Text(s.clone()),
                toml::Value::Integer(i) => SettingValue::Integer(*i),
                toml::Value::Float(f) => SettingValue::Float(*f),
                toml::Value::Boolean(b) => SettingValue::Boolean(*b),
                toml::Value::Datetime(d) => SettingValue::Text(d.to_string()),
                toml::Value::Array(_) | toml::Value::Table(_) => {
                    return Err(ConfigError::field(
                        name,
                        "must be a string, number or boolean",
                    ));
                }
            };
            settings.push(Setting {
                name: name.clone(),
                value,
            });
        }
        Ok(SharedFolderConfig {
            provider,
            origin,
            username,
            password,
            settings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
        [shared_folder]
        provider = "nextcloud"
        url = "https://cloud.example.com/nc/"
        username = "opentalk"
        password = "s3cret-Passw0rd"
        directory = "meetings"
        expiry = 7
    "#;

    #[test]
    fn reads_opentalks_section() {
        let config = SharedFolderConfig::from_toml(GOOD).unwrap();
        assert_eq!(config.provider, "nextcloud");
        assert_eq!(config.origin.to_string(), "https://cloud.example.com:443");
        assert_eq!(config.password.expose(), "s3cret-Passw0rd");
        let names: Vec<&str> = config.settings.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["directory", "expiry", "url", "username"]);
        assert!(!format!("{config:?}").contains("s3cret"));
    }

    #[test]
    fn bad_fields_are_named() {
        for (field, replacement) in [
            ("provider", "provider = \"../x\""),
            ("url", "url = \"ftp://x\""),
            ("url", "url = 5"),
            ("username", "username = \"\""),
            ("password", "password = 1"),
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
                matches!(&error, ConfigError::Field { field: f, .. } if f == field),
                "{field}: {error}"
            );
            assert!(!error.to_string().contains("s3cret"));
        }
        assert_eq!(
            SharedFolderConfig::from_toml("[other]\n").unwrap_err(),
            ConfigError::MissingSection
        );
        assert!(matches!(
            SharedFolderConfig::from_toml("[shared_folder"),
            Err(ConfigError::Syntax(_))
        ));
    }
}
