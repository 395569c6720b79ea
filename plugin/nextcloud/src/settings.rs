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
//! The first four are read as every provider reads them (`provider_kit::settings`); a field
//! not in the table is refused, named. The account password is not among them: the host keeps
//! it and authenticates each request.

use crate::errors::Error;
use crate::prelude::*;
use provider_kit::bindings::shared_folder::provider::types::Setting;
use provider_kit::settings::{COMMON, Common, Fields};
pub use provider_kit::settings::{Origin, Scheme};

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

/// Every field this provider reads.
const FIELDS: [&str; 5] = [
    COMMON[0],
    COMMON[1],
    COMMON[2],
    COMMON[3],
    "delete_from_trash",
];

impl Settings {
    pub fn from_wit(settings: &[Setting]) -> Result<Self, Error> {
        let fields = Fields::read(settings, &FIELDS)?;
        let Common {
            origin,
            username,
            directory,
            expiry_days,
        } = Common::read(&fields, " (NextCloud refuses an expiry of today)")?;
        let delete_from_trash = fields.boolean("delete_from_trash", false)?;
        Ok(Settings {
            origin,
            username,
            directory,
            expiry_days,
            delete_from_trash,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use provider_kit::bindings::shared_folder::provider::types::SettingValue;
    use provider_kit::testing::{field_of, minimal, setting};

    fn base() -> Vec<Setting> {
        minimal("https://cloud.example.com/nextcloud/")
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
    fn the_reasons_name_nextcloud_and_its_fields() {
        let mut settings = base();
        settings.push(setting("expirey", SettingValue::Integer(7)));
        let Err(Error::InvalidConfig(problem)) = Settings::from_wit(&settings) else {
            panic!("an unknown field was accepted");
        };
        assert_eq!(
            problem.reason,
            "unknown field; expected url, username, directory, expiry or delete_from_trash"
        );
        let mut settings = base();
        settings.push(setting("expiry", SettingValue::Integer(0)));
        let Err(Error::InvalidConfig(problem)) = Settings::from_wit(&settings) else {
            panic!("an expiry of 0 days was accepted");
        };
        assert_eq!(
            problem.reason,
            "must be between 1 and 3650 days (NextCloud refuses an expiry of today)"
        );
    }

    #[test]
    fn missing_fields_are_named() {
        let error = Settings::from_wit(&base()[1..]).unwrap_err();
        assert_eq!(field_of(error), "url");
        let error = Settings::from_wit(&base()[..1]).unwrap_err();
        assert_eq!(field_of(error), "username");
    }
}
