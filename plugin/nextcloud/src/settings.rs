//! The provider's part of OpenTalk's `[shared_folder]` table, validated.
//!
//! | field       | type    | meaning                                                    |
//! |-------------|---------|------------------------------------------------------------|
//! | `url`       | text    | NextCloud's base URL, may carry a sub-path (`https://h/nc/`); the host passes it in canonical form |
//! | `username`  | text    | the account that owns the folders                          |
//! | `directory` | text    | folder (relative to the account's root) holding the rooms; default `""` |
//! | `expiry`    | integer | days until the links expire; unset: they never expire      |
//! | `delete_from_trash` | boolean | after deleting a room's folder, also remove it (with its files) from the account's trash bin; default `false` |
//!
//! The account password is not among them: the host keeps it and authenticates each request.

use crate::bindings::shared_folder::provider::types::{Setting, SettingValue};
use crate::errors::{Error, config};
use crate::paths;
use crate::prelude::*;

/// Where NextCloud lives: the parts of `url` that a `wasi:http` request needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `http` or `https`.
    pub scheme: Scheme,
    /// `host[:port]`.
    pub authority: String,
    /// The sub-path NextCloud is served under, percent-encoded, without a trailing slash (`""`
    /// or `/nextcloud`).
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
    /// The directory's path segments (no empty, `.` or `..` ones).
    pub directory: Vec<String>,
    /// Days until the links expire.
    pub expiry_days: Option<u32>,
    /// Whether a deleted room folder is also removed from the account's trash bin, where
    /// NextCloud keeps it (and the files uploaded to it) by default.
    pub delete_from_trash: bool,
}

/// The longest expiry accepted: ten years. NextCloud itself would take more, but a meeting
/// link that outlives that is a configuration mistake.
const MAX_EXPIRY_DAYS: i64 = 3650;

impl Settings {
    pub fn from_wit(settings: &[Setting]) -> Result<Self, Error> {
        let mut url = None;
        let mut username = None;
        let mut directory = None;
        let mut expiry = None;
        let mut delete_from_trash = None;
        for setting in settings {
            let slot = match setting.name.as_str() {
                "url" => &mut url,
                "username" => &mut username,
                "directory" => &mut directory,
                "expiry" => &mut expiry,
                "delete_from_trash" => &mut delete_from_trash,
                other => {
                    return Err(config(
                        other,
                        "unknown field; expected url, username, directory, expiry or delete_from_trash",
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
        if username.is_empty() || username.chars().any(|c| c == '/' || c.is_control()) {
            return Err(config(
                "username",
                "must be a non-empty account name without '/' or control characters",
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
                    format!(
                        "must be between 1 and {MAX_EXPIRY_DAYS} days (NextCloud refuses an expiry of today)"
                    ),
                ));
            }
            Some(_) => return Err(config("expiry", "must be a whole number of days")),
        };

        let delete_from_trash = match delete_from_trash {
            None => false,
            Some(SettingValue::Boolean(value)) => *value,
            Some(_) => return Err(config("delete_from_trash", "must be true or false")),
        };

        Ok(Settings {
            origin,
            username: username.to_owned(),
            directory,
            expiry_days,
            delete_from_trash,
        })
    }
}

fn text<'a>(field: &str, value: &'a SettingValue) -> Result<&'a str, Error> {
    match value {
        SettingValue::Text(text) => Ok(text.trim()),
        _ => Err(config(field, "must be a string")),
    }
}

impl Origin {
    /// Splits `url` as the host passes it (see `settings` in `wit/provider.wit`):
    /// `http[s]://<host[:port]><path>/`, the path (empty or `/a/b`) percent-encoded and followed
    /// by one `/`. The host has parsed and checked it (no credentials, query or fragment, a valid
    /// port), and those checks are not repeated here. The trailing `/` may be missing or
    /// doubled, as a host that passes `url` as written leaves it; anything else not in that
    /// form is refused rather than guessed at.
    pub fn from_canonical(url: &str) -> Result<Self, Error> {
        let not_canonical = || {
            config(
                "url",
                "is not in the canonical form the host passes: http:// or https://, host[:port], \
                 then a path ending in '/' (https://cloud.example.com/, https://h/nextcloud/)",
            )
        };
        let (scheme, rest) = if let Some(rest) = url.strip_prefix("https://") {
            (Scheme::Https, rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            (Scheme::Http, rest)
        } else {
            return Err(not_canonical());
        };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let base_path = path.trim_end_matches('/');
        if authority.is_empty() {
            return Err(not_canonical());
        }
        Ok(Origin {
            scheme,
            authority: authority.to_owned(),
            base_path: base_path.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::ConfigError;

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
                SettingValue::Text("https://cloud.example.com/nextcloud/".into()),
            ),
            setting("username", SettingValue::Text("opentalk".into())),
        ]
    }

    fn field_of(error: Error) -> String {
        match error {
            Error::InvalidConfig(ConfigError { field, .. }) => field,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn minimal_settings_use_defaults() {
        let s = Settings::from_wit(&base()).unwrap();
        assert_eq!(s.origin.scheme, Scheme::Https);
        assert_eq!(s.origin.authority, "cloud.example.com");
        assert_eq!(s.origin.base_path, "/nextcloud");
        assert!(s.directory.is_empty());
        assert_eq!(s.expiry_days, None);
        assert!(!s.delete_from_trash);
    }

    #[test]
    fn directory_and_expiry_are_read() {
        let mut settings = base();
        settings.push(setting(
            "directory",
            SettingValue::Text("/opentalk/meetings/".into()),
        ));
        settings.push(setting("expiry", SettingValue::Integer(7)));
        settings.push(setting("delete_from_trash", SettingValue::Boolean(true)));
        let s = Settings::from_wit(&settings).unwrap();
        assert_eq!(s.directory, ["opentalk", "meetings"]);
        assert_eq!(s.expiry_days, Some(7));
        assert!(s.delete_from_trash);
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            ("url", SettingValue::Text("ftp://x".into())),
            ("url", SettingValue::Text("https:///path".into())),
            ("url", SettingValue::Text("host.example.com/".into())),
            ("url", SettingValue::Integer(1)),
            ("username", SettingValue::Text("".into())),
            ("directory", SettingValue::Text("a/../b".into())),
            ("expiry", SettingValue::Integer(0)),
            ("expiry", SettingValue::Text("7".into())),
            ("expirey", SettingValue::Integer(7)),
            ("delete_from_trash", SettingValue::Text("yes".into())),
        ];
        for (field, value) in cases {
            let mut settings: Vec<Setting> =
                base().into_iter().filter(|s| s.name != field).collect();
            settings.push(setting(field, value.clone()));
            let error = Settings::from_wit(&settings).unwrap_err();
            assert_eq!(field_of(error), field, "value {value:?}");
        }
    }

    #[test]
    fn missing_fields_are_named() {
        let error = Settings::from_wit(&base()[1..]).unwrap_err();
        assert_eq!(field_of(error), "url");
        let error = Settings::from_wit(&base()[..1]).unwrap_err();
        assert_eq!(field_of(error), "username");
    }

    #[test]
    fn ports_and_ipv6_hosts_parse() {
        let o = Origin::from_canonical("http://127.0.0.1:8080/").unwrap();
        assert_eq!(
            (o.scheme, o.authority.as_str(), o.base_path.as_str()),
            (Scheme::Http, "127.0.0.1:8080", "")
        );
        let o = Origin::from_canonical("https://[::1]:8443/nc/").unwrap();
        assert_eq!(
            (o.authority.as_str(), o.base_path.as_str()),
            ("[::1]:8443", "/nc")
        );
    }

    #[test]
    fn a_canonical_url_is_split_as_it_is() {
        for (url, scheme, authority, base_path) in [
            (
                "https://cloud.example.com/",
                Scheme::Https,
                "cloud.example.com",
                "",
            ),
            (
                "http://127.0.0.1:8090/nc/",
                Scheme::Http,
                "127.0.0.1:8090",
                "/nc",
            ),
            (
                "https://[2001:db8::1]/a/b/",
                Scheme::Https,
                "[2001:db8::1]",
                "/a/b",
            ),
            ("https://h/my%20cloud/", Scheme::Https, "h", "/my%20cloud"),
        ] {
            let origin = Origin::from_canonical(url).unwrap();
            assert_eq!(
                origin,
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
    fn the_hosts_checks_are_not_repeated() {
        // Credentials, ports, queries: the host refuses such a `url` before any call; the split
        // takes the pieces as they come.
        let o = Origin::from_canonical("https://user:pw@host:99999/nc/").unwrap();
        assert_eq!(
            (o.authority.as_str(), o.base_path.as_str()),
            ("user:pw@host:99999", "/nc")
        );
    }

    #[test]
    fn what_is_not_in_canonical_form_is_refused() {
        for url in [
            "",
            "cloud.example.com/",
            "ftp://cloud.example.com/",
            "HTTPS://cloud.example.com/",
            "https://",
            "https:///nc/",
        ] {
            let error = Origin::from_canonical(url).unwrap_err();
            assert_eq!(field_of(error), "url", "{url}");
        }
    }

    #[test]
    fn a_missing_or_doubled_trailing_slash_is_taken_as_one() {
        for (url, base_path) in [
            ("https://cloud.example.com", ""),
            ("https://cloud.example.com//", ""),
            ("https://cloud.example.com/nc", "/nc"),
            ("https://cloud.example.com/nc//", "/nc"),
        ] {
            let origin = Origin::from_canonical(url).unwrap();
            assert_eq!(origin.authority, "cloud.example.com", "{url}");
            assert_eq!(origin.base_path, base_path, "{url}");
        }
    }
}
