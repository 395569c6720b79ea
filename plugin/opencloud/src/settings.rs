//! The provider's part of the `[shared_folder]` table, validated: the shape OpenTalk gives an
//! OpenCloud provider (API-NOTES §0 [V]), less the password, which the host keeps.
//!
//! | field       | type    | meaning                                                    |
//! |-------------|---------|------------------------------------------------------------|
//! | `url`       | text    | OpenCloud's base URL (`OC_URL`), may carry a sub-path; the host passes it in canonical form |
//! | `username`  | text    | the account whose personal space holds the folders (the host authenticates as it, with an app token: API-NOTES §2, "Authentication") |
//! | `directory` | text    | folder (relative to the personal space's root) holding the rooms; default `""` |
//! | `expiry`    | integer | days until the links expire (1 to 3650); unset: they never expire |
//! | `delete_from_trash` | boolean | after deleting a room's folder, also remove it (with its files) from the personal space's trash bin, where OpenCloud keeps it until an operator purges it; default `false` |
//!
//! The first four are the fields every provider reads (`provider_kit::settings`); any other
//! field is refused, named, as the NextCloud provider refuses one it does not know. [`read`] checks
//! exactly what `create` uses, and sends no request.

use crate::errors::Error;
use crate::prelude::*;
use provider_kit::bindings::shared_folder::provider::types::Setting;
pub use provider_kit::settings::Origin;
use provider_kit::settings::{COMMON, Common, Fields};

/// The validated settings: `url` split into its origin, `username`, the directory's segments,
/// the expiry in days, and whether deleted folders leave the trash bin too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub origin: Origin,
    pub username: String,
    /// The directory's path segments (no empty, `.` or `..` ones).
    pub directory: Vec<String>,
    /// Days until the links expire.
    pub expiry_days: Option<u32>,
    /// Whether a deleted room folder is also removed from the personal space's trash bin
    /// (docs/opencloud-behaviour.md, "Trash bin").
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

/// Reads the settings as the host passes them.
pub fn read(settings: &[Setting]) -> Result<Settings, Error> {
    let fields = Fields::read(settings, &FIELDS)?;
    // An expiry of 0 days would be "today, 23:59:59": accepted by OpenCloud (API-NOTES §3.5
    // [V], "Expiry"), but a link that dies the evening it is made is a mistake.
    let Common {
        origin,
        username,
        directory,
        expiry_days,
    } = Common::read(&fields, " (a link must outlive the day it is made)")?;
    Ok(Settings {
        origin,
        username,
        directory,
        expiry_days,
        delete_from_trash: fields.boolean("delete_from_trash", false)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use provider_kit::bindings::shared_folder::provider::types::SettingValue;
    use provider_kit::settings::{Origin, Scheme};
    use provider_kit::testing::{field_of, minimal, setting, text};

    const URL: &str = "https://cloud.example.org/";

    #[test]
    fn the_opentalk_shape_is_read() {
        let mut settings = minimal("http://127.0.0.1:9200/opencloud/");
        settings.push(text("directory", "opentalk/meetings"));
        settings.push(setting("expiry", SettingValue::Integer(30)));
        let read = read(&settings).unwrap();
        assert_eq!(
            read.origin,
            Origin {
                scheme: Scheme::Http,
                authority: "127.0.0.1:9200".into(),
                base_path: "/opencloud".into(),
            }
        );
        assert_eq!(read.username, "opentalk");
        assert_eq!(read.directory, ["opentalk", "meetings"]);
        assert_eq!(read.expiry_days, Some(30));
        let minimal = super::read(&minimal(URL)).unwrap();
        assert!(minimal.directory.is_empty());
        assert_eq!(minimal.expiry_days, None);
    }

    #[test]
    fn each_bad_field_is_named() {
        for (field, value) in [
            ("url", SettingValue::Text("cloud.example.org".into())),
            ("url", SettingValue::Boolean(true)),
            ("username", SettingValue::Text(" ".into())),
            ("username", SettingValue::Text("a/b".into())),
            ("directory", SettingValue::Text("meetings/..".into())),
            ("directory", SettingValue::Integer(1)),
            ("expiry", SettingValue::Integer(0)),
            ("expiry", SettingValue::Integer(3651)),
            ("expiry", SettingValue::Float(7.0)),
            ("password", SettingValue::Text("secret".into())),
            ("delete_from_trash", SettingValue::Text("yes".into())),
        ] {
            let mut settings: Vec<Setting> = minimal(URL)
                .into_iter()
                .filter(|s| s.name != field)
                .collect();
            settings.push(setting(field, value.clone()));
            assert_eq!(field_of(read(&settings).unwrap_err()), field, "{value:?}");
        }
        assert_eq!(field_of(read(&minimal(URL)[1..]).unwrap_err()), "url");
        assert_eq!(field_of(read(&minimal(URL)[..1]).unwrap_err()), "username");
        let mut twice = minimal(URL);
        twice.push(text("url", URL));
        assert_eq!(field_of(read(&twice).unwrap_err()), "url");
    }

    #[test]
    fn the_reasons_say_what_is_expected() {
        let mut settings = minimal(URL);
        settings.push(setting("expiry", SettingValue::Integer(0)));
        let Err(Error::InvalidConfig(problem)) = read(&settings) else {
            panic!("an expiry of 0 days was accepted");
        };
        assert_eq!(
            problem.reason,
            "must be between 1 and 3650 days (a link must outlive the day it is made)"
        );
        let mut settings = minimal(URL);
        settings.push(text("expirey", "7"));
        let Err(Error::InvalidConfig(problem)) = read(&settings) else {
            panic!("an unknown field was accepted");
        };
        assert_eq!(
            problem.reason,
            "unknown field; expected url, username, directory, expiry or delete_from_trash"
        );
    }
}
