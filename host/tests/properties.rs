//! Property tests of the configuration parsers: any text, and any value in any field, gives a
//! configuration or an error that names what is wrong — never a panic, never a secret in the
//! message.

use std::path::Path;

use proptest::prelude::*;
use shared_folder_host::{ConfigError, HostConfig, SharedFolderConfig};

const PASSWORD: &str = "Recognisable-Secret-4711";

/// A TOML value of any kind.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<String>().prop_map(|s| toml::Value::String(s).to_string()),
        "(https?|ftp)://[a-z0-9.:@/-]{0,30}".prop_map(|s| format!("{s:?}")),
        Just("[]".to_owned()),
        Just("[\"0123456789abcdef\", 1]".to_owned()),
        Just("{ a = 1 }".to_owned()),
        Just("1.5".to_owned()),
        Just("1979-05-27".to_owned()),
    ]
}

/// The fields of `[host]` (README, "Configuration").
const HOST_FIELDS: &[&str] = &[
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

const SHARED_FOLDER_FIELDS: &[&str] = &[
    "provider",
    "url",
    "username",
    "password",
    "directory",
    "expiry",
];

fn base() -> String {
    format!(
        "[shared_folder]\nprovider = \"nextcloud\"\nurl = \"https://cloud.example.com/\"\n\
         username = \"opentalk\"\npassword = \"{PASSWORD}\"\n"
    )
}

fn parse(text: &str) -> Result<HostConfig, ConfigError> {
    HostConfig::parse(text, Path::new("/nonexistent"), &|_| None)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn any_text_is_a_configuration_or_an_error(text in any::<String>()) {
        let _ = parse(&text);
        let _ = SharedFolderConfig::from_toml(&text);
    }

    #[test]
    fn a_bad_shared_folder_field_is_named(
        field in proptest::sample::select(SHARED_FOLDER_FIELDS),
        value in value(),
    ) {
        let text = base()
            .lines()
            .filter(|line| !line.starts_with(&format!("{field} =")))
            .chain([format!("{field} = {value}").as_str()])
            .collect::<Vec<_>>()
            .join("\n");
        if let Err(error) = parse(&text) {
            let message = error.to_string();
            prop_assert!(
                message.contains(&format!("[shared_folder].{field}")) || message.contains("TOML"),
                "{field} = {value}: {message}"
            );
            let debug = format!("{error:?}");
            prop_assert!(!message.contains(PASSWORD) && !debug.contains(PASSWORD));
        }
    }

    #[test]
    fn a_bad_host_field_is_named(
        field in proptest::sample::select(HOST_FIELDS),
        value in value(),
    ) {
        let text = format!("{}[host]\n{field} = {value}\n", base());
        if let Err(error) = parse(&text) {
            let message = error.to_string();
            let named = message.contains(&format!("[host].{field}"))
                // A second password source is an error of the password itself.
                || (field.starts_with("password") && message.contains("[shared_folder].password"))
                || message.contains("TOML");
            prop_assert!(named, "{field} = {value}: {message}");
            let debug = format!("{error:?}");
            prop_assert!(!message.contains(PASSWORD) && !debug.contains(PASSWORD));
        }
    }
}
