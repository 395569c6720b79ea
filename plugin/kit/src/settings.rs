//! The `[shared_folder]` fields every provider reads, validated; the host passes the table as
//! it is (see `settings` in `wit/provider.wit`).
//!
//! | field       | type    | meaning                                                    |
//! |-------------|---------|------------------------------------------------------------|
//! | `url`       | text    | the storage's base URL, may carry a sub-path (`https://h/nc/`); the host passes it in canonical form |
//! | `username`  | text    | the account that owns the folders                          |
//! | `directory` | text    | folder (relative to the account's root) holding the rooms; default `""` |
//! | `expiry`    | integer | days until the links expire; unset: they never expire      |
//!
//! A provider reads the table with [`Fields::read`], naming every field it knows (these and its
//! own), then [`Common::read`] and its own fields. A field it does not know is refused, named,
//! rather than ignored: a misspelt `expirey` would otherwise leave links that never expire.
//! The account's password or token is not among the fields: the host keeps it and
//! authenticates each request.

use crate::bindings::shared_folder::provider::types::{Setting, SettingValue};
use crate::errors::{Error, config};
use crate::paths;
use crate::prelude::*;

/// Where the storage lives: the parts of `url` that a `wasi:http` request needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `http` or `https`.
    pub scheme: Scheme,
    /// `host[:port]`.
    pub authority: String,
    /// The sub-path the storage is served under, percent-encoded, without a trailing slash
    /// (`""` or `/nextcloud`).
    pub base_path: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

/// The fields every provider reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Common {
    pub origin: Origin,
    pub username: String,
    /// The directory's path segments (no empty, `.` or `..` ones).
    pub directory: Vec<String>,
    /// Days until the links expire.
    pub expiry_days: Option<u32>,
}

/// The names of [`Common`]'s fields, for [`Fields::read`].
pub const COMMON: [&str; 4] = ["url", "username", "directory", "expiry"];

/// The longest expiry accepted: ten years. A meeting link that outlives that is a
/// configuration mistake.
pub const MAX_EXPIRY_DAYS: i64 = 3650;

/// The settings' values by name, each field given at most once, none unknown.
#[derive(Debug)]
pub struct Fields<'a> {
    values: Vec<(&'a str, &'a SettingValue)>,
}

impl<'a> Fields<'a> {
    /// Reads `settings`, refusing a field not in `known` or one given twice.
    pub fn read(settings: &'a [Setting], known: &[&str]) -> Result<Self, Error> {
        let mut values: Vec<(&str, &SettingValue)> = Vec::new();
        for setting in settings {
            let name = setting.name.as_str();
            if !known.contains(&name) {
                return Err(config(
                    name,
                    format!("unknown field; expected {}", one_of(known)),
                ));
            }
            if values.iter().any(|(seen, _)| *seen == name) {
                return Err(config(name, "given more than once"));
            }
            values.push((name, &setting.value));
        }
        Ok(Fields { values })
    }

    /// The value of `name`, if it was given.
    pub fn get(&self, name: &str) -> Option<&'a SettingValue> {
        self.values
            .iter()
            .find(|(given, _)| *given == name)
            .map(|(_, value)| *value)
    }

    /// The text of `name`, trimmed, if it was given; an error if it is not text.
    pub fn text(&self, name: &str) -> Result<Option<&'a str>, Error> {
        self.get(name).map(|value| text(name, value)).transpose()
    }

    /// The boolean `name`, `default` if it was not given.
    pub fn boolean(&self, name: &str, default: bool) -> Result<bool, Error> {
        match self.get(name) {
            None => Ok(default),
            Some(SettingValue::Boolean(value)) => Ok(*value),
            Some(_) => Err(config(name, "must be true or false")),
        }
    }
}

/// `a, b, c or d`.
fn one_of(names: &[&str]) -> String {
    let mut text = String::new();
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            text.push_str(if i + 1 == names.len() { " or " } else { ", " });
        }
        text.push_str(name);
    }
    text
}

fn text<'a>(field: &str, value: &'a SettingValue) -> Result<&'a str, Error> {
    match value {
        SettingValue::Text(text) => Ok(text.trim()),
        _ => Err(config(field, "must be a string")),
    }
}

impl Common {
    /// `url`, `username`, `directory` and `expiry`, checked in that order. `expiry_note` ends
    /// the reason given for an expiry out of range (why the storage refuses 0 days, say).
    pub fn read(fields: &Fields<'_>, expiry_note: &str) -> Result<Self, Error> {
        let url = fields
            .text("url")?
            .ok_or_else(|| config("url", "missing"))?;
        let origin = Origin::from_canonical(url)?;

        let username = fields
            .text("username")?
            .ok_or_else(|| config("username", "missing"))?;
        if username.is_empty() || username.chars().any(|c| c == '/' || c.is_control()) {
            return Err(config(
                "username",
                "must be a non-empty account name without '/' or control characters",
            ));
        }

        let directory = match fields.text("directory")? {
            None => Vec::new(),
            Some(directory) => paths::directory_segments(directory)
                .map_err(|reason| config("directory", reason))?,
        };

        let expiry_days = match fields.get("expiry") {
            None => None,
            Some(SettingValue::Integer(days)) if (1..=MAX_EXPIRY_DAYS).contains(days) => {
                u32::try_from(*days).ok()
            }
            Some(SettingValue::Integer(_)) => {
                return Err(config(
                    "expiry",
                    format!("must be between 1 and {MAX_EXPIRY_DAYS} days{expiry_note}"),
                ));
            }
            Some(_) => return Err(config("expiry", "must be a whole number of days")),
        };

        Ok(Common {
            origin,
            username: username.to_owned(),
            directory,
            expiry_days,
        })
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
    use crate::testing::{field_of, minimal, setting, text};

    fn base() -> Vec<Setting> {
        minimal("https://cloud.example.com/nextcloud/")
    }

    fn read(settings: &[Setting]) -> Result<Common, Error> {
        Common::read(&Fields::read(settings, &COMMON)?, " (a note)")
    }

    #[test]
    fn the_common_fields_are_read_with_their_defaults() {
        let origin = Origin {
            scheme: Scheme::Https,
            authority: "cloud.example.com".into(),
            base_path: "/nextcloud".into(),
        };
        let minimal = Common {
            origin,
            username: "opentalk".into(),
            directory: Vec::new(),
            expiry_days: None,
        };
        assert_eq!(read(&base()).unwrap(), minimal);
        let mut settings = base();
        settings.push(text("directory", "//opentalk/meetings/"));
        settings.push(setting("expiry", SettingValue::Integer(3650)));
        let full = read(&settings).unwrap();
        assert_eq!(full.directory, ["opentalk", "meetings"]);
        assert_eq!(full.expiry_days, Some(3650));
    }

    #[test]
    fn unknown_and_repeated_fields_are_named() {
        let mut settings = base();
        settings.push(setting("expirey", SettingValue::Integer(7)));
        let Err(Error::InvalidConfig(problem)) = Fields::read(&settings, &COMMON) else {
            panic!("an unknown field was accepted");
        };
        assert_eq!(problem.field, "expirey");
        assert_eq!(
            problem.reason,
            "unknown field; expected url, username, directory or expiry"
        );
        let mut settings = base();
        settings.push(setting("username", SettingValue::Text("again".into())));
        assert_eq!(
            field_of(Fields::read(&settings, &COMMON).unwrap_err()),
            "username"
        );
    }

    #[test]
    fn the_expiry_note_ends_its_reason() {
        let mut settings = base();
        settings.push(setting("expiry", SettingValue::Integer(0)));
        let Err(Error::InvalidConfig(problem)) = read(&settings) else {
            panic!("an expiry of 0 days was accepted");
        };
        assert_eq!(problem.reason, "must be between 1 and 3650 days (a note)");
    }

    #[test]
    fn booleans_are_read_or_refused() {
        let mut settings = base();
        settings.push(setting("flag", SettingValue::Boolean(true)));
        settings.push(setting("other", SettingValue::Text("yes".into())));
        let fields = Fields::read(&settings, &["url", "username", "flag", "other"]).unwrap();
        assert!(fields.boolean("flag", false).unwrap());
        assert!(fields.boolean("missing", true).unwrap());
        assert_eq!(
            field_of(fields.boolean("other", false).unwrap_err()),
            "other"
        );
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
