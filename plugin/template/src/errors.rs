//! Constructors for the contract's `error` variant, and what keeps secrets out of it.
//!
//! Which case for what (`wit/provider.wit`, `variant error`):
//! - `invalid-config`: a field of `[shared_folder]` is missing or wrong ([`config`]);
//! - `invalid-room`: the room id cannot name one folder, or a handle is not the room's;
//! - `unauthorized`: the storage refused the account's credentials (or throttles them);
//! - `not-found`: something the call needs does not exist on the storage;
//! - `already-exists`: the room's folder existed before this create;
//! - `remote`: the storage answered with an error of its own ([`remote`], [`from_status`]);
//! - `transport` / `timeout`: no answer, or none in time (see [`crate::http`]);
//! - `protocol`: an answer (or a handle) this provider cannot read.
//!
//! No message may carry a secret: not a link's password, not a credential the storage echoes.
//! [`redact`] takes a password out of a message that might quote it.

pub use crate::bindings::shared_folder::provider::types::{ConfigError, Error, RemoteError};
use crate::prelude::*;

/// The longest storage-side message passed on, in characters.
const MAX_MESSAGE: usize = 300;

/// A problem with the field `field` of `[shared_folder]`.
pub fn config(field: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// The storage answered `status` with an error of its own.
pub fn remote(status: u16, message: &str) -> Error {
    Error::Remote(RemoteError {
        status,
        message: clip(message),
    })
}

/// The error for an answer whose status is not a success: 401 as refused credentials, 404 as
/// not found, anything else as the storage's own error. `body` is the answer's body, kept as
/// the message when it is short text.
///
/// Adjust it to the storage's API: some report errors in the body with a 200 status, some
/// use 403 for refused credentials, some answer a throttled account with 429 (kept as
/// `remote` 429 here, which a host can tell apart).
pub fn from_status(status: u16, body: &[u8]) -> Error {
    let message = core::str::from_utf8(body).unwrap_or("").trim();
    match status {
        401 => Error::Unauthorized(if message.is_empty() {
            "the storage refused the account's credentials".into()
        } else {
            clip(message)
        }),
        404 => Error::NotFound(if message.is_empty() {
            "not found".into()
        } else {
            clip(message)
        }),
        _ => remote(status, message),
    }
}

/// What a storage call that the template does not have yet returns: `remote` 501.
pub fn not_yet(what: &str) -> Error {
    remote(
        501,
        &format!("the template provider has no storage calls yet: {what} is not implemented"),
    )
}

/// Cuts a message from the storage down to a readable length, on a character boundary.
pub fn clip(message: &str) -> String {
    let message = message.trim();
    match message.char_indices().nth(MAX_MESSAGE) {
        Some((end, _)) => format!("{}…", &message[..end]),
        None => message.to_owned(),
    }
}

/// Replaces every occurrence of `secret` in the error's text, in case the storage echoes a
/// password it was sent in its message.
pub fn redact(error: Error, secret: &str) -> Error {
    if secret.is_empty() {
        return error;
    }
    let scrub = |text: String| text.replace(secret, "***");
    match error {
        Error::Remote(RemoteError { status, message }) => Error::Remote(RemoteError {
            status,
            message: scrub(message),
        }),
        Error::InvalidRoom(m) => Error::InvalidRoom(scrub(m)),
        Error::Unauthorized(m) => Error::Unauthorized(scrub(m)),
        Error::NotFound(m) => Error::NotFound(scrub(m)),
        Error::AlreadyExists(m) => Error::AlreadyExists(scrub(m)),
        Error::Transport(m) => Error::Transport(scrub(m)),
        Error::Timeout(m) => Error::Timeout(scrub(m)),
        Error::Protocol(m) => Error::Protocol(scrub(m)),
        Error::InvalidConfig(ConfigError { field, reason }) => Error::InvalidConfig(ConfigError {
            field,
            reason: scrub(reason),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_the_contracts_cases() {
        assert!(matches!(from_status(401, b""), Error::Unauthorized(_)));
        assert!(
            matches!(from_status(404, b"no such folder"), Error::NotFound(m) if m == "no such folder")
        );
        assert!(matches!(
            from_status(507, b" full "),
            Error::Remote(RemoteError { status: 507, message }) if message == "full"
        ));
        assert!(matches!(
            from_status(429, b""),
            Error::Remote(RemoteError { status: 429, .. })
        ));
    }

    #[test]
    fn the_missing_storage_calls_say_so() {
        match not_yet("creating the folder") {
            Error::Remote(RemoteError { status, message }) => {
                assert_eq!(status, 501);
                assert!(message.contains("no storage calls yet"), "{message}");
                assert!(message.contains("creating the folder"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn long_messages_are_clipped_on_a_character_boundary() {
        let long = "ä".repeat(400);
        let clipped = clip(&long);
        assert_eq!(clipped.chars().count(), MAX_MESSAGE + 1);
        assert!(clipped.ends_with('…'));
    }

    #[test]
    fn a_password_is_redacted_from_every_case() {
        let secret = "s3cret-Pass";
        let echoed = format!("password {secret} is too common");
        for error in [
            remote(400, &echoed),
            Error::Protocol(echoed.clone()),
            Error::NotFound(echoed.clone()),
            Error::Transport(echoed.clone()),
        ] {
            let text = format!("{:?}", redact(error, secret));
            assert!(!text.contains(secret), "{text}");
            assert!(text.contains("***"), "{text}");
        }
    }
}
