//! The provider's part of the operator's `[shared_folder]` table, validated.
//!
//! | field       | type    | meaning                                                         |
//! |-------------|---------|-----------------------------------------------------------------|
//! | `url`       | text    | the storage's base URL, in the canonical form the host passes   |
//! | `username`  | text    | the account that owns the folders                               |
//! | `directory` | text    | the folder holding the rooms' folders; absent or `""`: the account's root |
//! | `expiry`    | integer | days the links stay valid, 1 to 3650; absent: no expiry         |
//!
//! The host passes the table without `provider` and without any credential (it adds those to
//! each request itself), and without knowing what this provider expects: a field of your
//! own is read here, next to these (see "Your own fields" in [`Settings::from_wit`]). A field
//! this provider does not know is refused, so that a misspelt one (`expirey`) does not pass
//! silently.
//!
//! [`Settings::from_wit`] sends no request: `validate` calls it, and no request is allowed
//! during `validate`.

use crate::bindings::shared_folder::provider::types::{Setting, SettingValue};
use crate::errors::{ConfigError, config};
use crate::paths;
use crate::prelude::*;

/// Where the storage lives: the parts of `url` a `wasi:http` request needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `http` or `https`.
    pub scheme: Scheme,
    /// `host[:port]`, as the host wrote it (an IPv6 address in brackets).
    pub authority: String,
    /// The path the storage is served under, percent-encoded, without the trailing slash:
    /// `""` or `/cloud`. Request paths start with it.
    pub base_path: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

/// The validated settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub origin: Origin,
    pub username: String,
    /// The directory's segments (none empty, `.` or `..`).
    pub directory: Vec<String>,
    /// Days until the links expire.
    pub expiry_days: Option<u32>,
}

/// The longest expiry accepted: ten years. A meeting link that outlives that is a
/// configuration mistake. Lower it if the storage enforces a shorter maximum.
pub const MAX_EXPIRY_DAYS: i64 = 3650;

/// The fields this provider reads, for the message about an unknown one.
const KNOWN: &str = "url, username, directory or expiry";

impl Settings {
    /// Reads and checks `settings`; a problem names its field.
    pub fn from_wit(settings: &[Setting]) -> Result<Self, ConfigError> {
        let mut url = None;
        let mut username = None;
        let mut directory = None;
        let mut expiry = None;
        for setting in settings {
            let slot = match setting.name.as_str() {
                "url" => &mut url,
                "username" => &mut username,
                "directory" => &mut directory,
                "expiry" => &mut expiry,
                // Your own fields: add a slot for each here, and read it below.
                other => {
                    return Err(config(
                        other,
                        format!("unknown field; this provider reads {KNOWN}"),
                    ));
                }
            };
            if slot.replace(&setting.value).is_some() {
                return Err(config(&setting.name, "given more than once"));
            }
        }

        let url = text("url", url.ok_or_else(|| config("url", "missing"))?)?;
        let origin = Origin::from_canonical(url)?;

        let username = text(
            "username",
            username.ok_or_else(|| config("username", "missing"))?,
        )?;
        // Add what the storage forbids in an account name (NextCloud's provider refuses '/',
        // since the name is part of its WebDAV paths).
        if username.trim().is_empty() || username.chars().any(char::is_control) {
            return Err(config(
                "username",
                "must be a non-empty account name without control characters",
            ));
        }

        let directory = match directory {
            None => Vec::new(),
            Some(value) => paths::directory_segments(text("directory", value)?)
                .map_err(|reason| config("directory", reason))?,
        };

        let expiry_days = match expiry {
            None => None,
            Some(SettingValue::Integer(days)) if (1..=MAX_EXPIRY_DAYS).contains(days) => {
                u32::try_from(*days).ok()
            }
            Some(SettingValue::Integer(_)) => {
                return Err(config(
                    "expiry",
                    format!("must be between 1 and {MAX_EXPIRY_DAYS} days"),
                ));
            }
            Some(_) => return Err(config("expiry", "must be a whole number of days")),
        };

        Ok(Settings {
            origin,
            username: username.to_owned(),
            directory,
            expiry_days,
        })
    }
}

/// The text of a `text` setting; any other type is refused, naming `field`.
fn text<'a>(field: &str, value: &'a SettingValue) -> Result<&'a str, ConfigError> {
    match value {
        SettingValue::Text(text) => Ok(text),
        _ => Err(config(field, "must be a string")),
    }
}

impl Origin {
    /// Splits `url` as the host passes it (`settings` in `wit/provider.wit`): `http://` or
    /// `https://`, `host[:port]`, then a percent-encoded path ending in exactly one `/`
    /// (`https://storage.example.com/`, `http://127.0.0.1:8090/cloud/`), without credentials,
    /// query or fragment. The host has parsed and checked it; what is not in that form is
    /// refused here rather than guessed at.
    pub fn from_canonical(url: &str) -> Result<Self, ConfigError> {
        let not_canonical = || {
            config(
                "url",
                "is not in the canonical form the host passes: http:// or https://, \
                 host[:port], then a path ending in one '/' (https://storage.example.com/)",
            )
        };
        let (scheme, rest) = if let Some(rest) = url.strip_prefix("https://") {
            (Scheme::Https, rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            (Scheme::Http, rest)
        } else {
            return Err(not_canonical());
        };
        let (authority, path) = rest.split_at(rest.find('/').ok_or_else(not_canonical)?);
        let unusable = |c: char| c.is_whitespace() || c.is_control();
        if authority.is_empty()
            || authority.contains(['@', '?', '#'])
            || authority.contains(unusable)
            || path.contains(['?', '#'])
            || path.contains(unusable)
            || !path.ends_with('/')
            || path.ends_with("//")
        {
            return Err(not_canonical());
        }
        Ok(Origin {
            scheme,
            authority: authority.to_owned(),
            base_path: path.trim_end_matches('/').to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(name: &str, value: SettingValue) -> Setting {
        Setting {
            name: name.into(),
            value,
        }
    }

    fn base() -> Vec<Setting> {
        vec![
            setting(
                "url",
                SettingValue::Text("https://storage.example.com/cloud/".into()),
            ),
            setting("username", SettingValue::Text("meetings-bot".into())),
        ]
    }

    #[test]
    fn minimal_settings_use_the_defaults() {
        let s = Settings::from_wit(&base()).unwrap();
        assert_eq!(
            s.origin,
            Origin {
                scheme: Scheme::Https,
                authority: "storage.example.com".into(),
                base_path: "/cloud".into(),
            }
        );
        assert_eq!(s.username, "meetings-bot");
        assert!(s.directory.is_empty());
        assert_eq!(s.expiry_days, None);
    }

    #[test]
    fn directory_and_expiry_are_read() {
        let mut settings = base();
        settings.push(setting(
            "directory",
            SettingValue::Text("/meetings/rooms/".into()),
        ));
        settings.push(setting("expiry", SettingValue::Integer(30)));
        let s = Settings::from_wit(&settings).unwrap();
        assert_eq!(s.directory, ["meetings", "rooms"]);
        assert_eq!(s.expiry_days, Some(30));
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            (
                "url",
                SettingValue::Text("ftp://storage.example.com/".into()),
            ),
            ("url", SettingValue::Text("storage.example.com/".into())),
            ("url", SettingValue::Integer(443)),
            ("username", SettingValue::Text("".into())),
            ("username", SettingValue::Text("a\nb".into())),
            ("username", SettingValue::Boolean(true)),
            ("directory", SettingValue::Text("a/../b".into())),
            ("directory", SettingValue::Integer(1)),
            ("expiry", SettingValue::Integer(0)),
            ("expiry", SettingValue::Integer(MAX_EXPIRY_DAYS + 1)),
            ("expiry", SettingValue::Integer(-1)),
            ("expiry", SettingValue::Float(7.0)),
            ("expiry", SettingValue::Text("7".into())),
            ("expirey", SettingValue::Integer(7)),
        ];
        for (field, value) in cases {
            let mut settings: Vec<Setting> =
                base().into_iter().filter(|s| s.name != field).collect();
            settings.push(setting(field, value.clone()));
            let error = Settings::from_wit(&settings).unwrap_err();
            assert_eq!(error.field, field, "value {value:?}: {}", error.reason);
            assert!(!error.reason.is_empty());
        }
    }

    #[test]
    fn missing_and_repeated_fields_are_named() {
        assert_eq!(Settings::from_wit(&base()[1..]).unwrap_err().field, "url");
        assert_eq!(
            Settings::from_wit(&base()[..1]).unwrap_err().field,
            "username"
        );
        let mut twice = base();
        twice.push(setting("username", SettingValue::Text("other".into())));
        let error = Settings::from_wit(&twice).unwrap_err();
        assert_eq!(error.field, "username");
        assert!(error.reason.contains("more than once"), "{}", error.reason);
    }

    #[test]
    fn canonical_urls_are_split() {
        for (url, scheme, authority, base_path) in [
            (
                "https://storage.example.com/",
                Scheme::Https,
                "storage.example.com",
                "",
            ),
            (
                "http://127.0.0.1:8090/cloud/",
                Scheme::Http,
                "127.0.0.1:8090",
                "/cloud",
            ),
            (
                "https://[2001:db8::1]/a/b/",
                Scheme::Https,
                "[2001:db8::1]",
                "/a/b",
            ),
            ("https://h/my%20cloud/", Scheme::Https, "h", "/my%20cloud"),
        ] {
            assert_eq!(
                Origin::from_canonical(url).unwrap(),
                Origin {
                    scheme,
                    authority: authority.into(),
                    base_path: base_path.into(),
                },
                "{url}"
            );
        }
    }

    #[test]
    fn what_is_not_canonical_is_refused() {
        for url in [
            "",
            "storage.example.com/",
            "HTTPS://storage.example.com/",
            "https://",
            "https:///cloud/",
            "https://storage.example.com",
            "https://storage.example.com/cloud",
            "https://storage.example.com//",
            "https://user:pw@storage.example.com/",
            "https://storage.example.com/?q=1/",
            "https://storage.example.com/#top/",
            "https://storage.example.com/a b/",
        ] {
            assert_eq!(
                Origin::from_canonical(url).unwrap_err().field,
                "url",
                "{url}"
            );
        }
    }
}
