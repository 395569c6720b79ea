//! Constructors for the WIT `error` variant, so the other modules read as prose.

pub use crate::bindings::shared_folder::provider::types::{ConfigError, Error, RemoteError};
use crate::prelude::*;

/// Longest storage-side message passed on; NextCloud's own are far shorter.
const MAX_MESSAGE: usize = 300;

pub fn config(field: &str, reason: impl Into<String>) -> Error {
    Error::InvalidConfig(ConfigError {
        field: field.to_owned(),
        reason: reason.into(),
    })
}

pub fn remote(status: u16, message: &str) -> Error {
    Error::Remote(RemoteError {
        status,
        message: clip(message),
    })
}

/// Cuts a message from the server down to a readable length, on a character boundary.
pub fn clip(message: &str) -> String {
    let message = message.trim();
    match message.char_indices().nth(MAX_MESSAGE) {
        Some((end, _)) => format!("{}…", &message[..end]),
        None => message.to_owned(),
    }
}

/// Replaces every occurrence of `secret` in the error's text, in case a server echoes a
/// password it was sent back in its message.
pub fn redact(error: Error, secret: &str) -> Error {
    let scrub = |text: String| {
        if secret.is_empty() {
            text
        } else {
            text.replace(secret, "***")
        }
    };
    match error {
        Error::Remote(RemoteError { status, message }) => Error::Remote(RemoteError {
            status,
            message: scrub(message),
        }),
        Error::NotFound(m) => Error::NotFound(scrub(m)),
        Error::Unauthorized(m) => Error::Unauthorized(scrub(m)),
        Error::Protocol(m) => Error::Protocol(scrub(m)),
        other => other,
    }
}
