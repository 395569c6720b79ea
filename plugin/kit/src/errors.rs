//! Constructors for the contract's `error` variant, so the providers read as prose, and the
//! clipping and redaction of what a storage says before it goes into one.

pub use crate::bindings::shared_folder::provider::types::{ConfigError, Error, RemoteError};
use crate::prelude::*;

/// Longest storage-side message passed on; the storages' own are far shorter.
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

/// What a refused request reports, from its HTTP status and the storage's message (if its
/// answer had one): 401 as refused credentials, 404 as not found, anything else as the
/// storage's own error. `storage` names the storage where it gave no message (`NextCloud`).
pub fn refusal(status: u16, message: Option<&str>, storage: &str) -> Error {
    match status {
        401 => Error::Unauthorized(clip(&match message {
            Some(message) => message.to_owned(),
            None => format!("{storage} refused the account's credentials"),
        })),
        404 => Error::NotFound(clip(message.unwrap_or("not found"))),
        status => remote(status, message.unwrap_or("no message")),
    }
}

/// What a create reports when its clean-up failed too, and so may have left a folder or link.
/// The original error — unless that one says nothing was made (credentials refused), which the
/// host takes at its word and forgets the room: a folder left then would answer every later
/// create of the room with "exists". Then it is the clean-up's failure, naming the original,
/// and the host purges the room (its `may_have_left_work`). A clean-up refused for the
/// credentials too is no exception: there was something to clean up, made with the same
/// account before the refusals (the credentials revoked midway), so it is reported as the
/// storage's 401, which the host purges later, not as a refusal that made nothing.
pub fn cleanup_failed(original: Error, cleanup: Error) -> Error {
    let Error::Unauthorized(first) = original else {
        return original;
    };
    let context = |message: String| clip(&format!("{message} (cleaning up after: {first})"));
    match cleanup {
        Error::Unauthorized(message) => Error::Remote(RemoteError {
            status: 401,
            message: context(message),
        }),
        Error::Remote(RemoteError { status, message }) => Error::Remote(RemoteError {
            status,
            message: context(message),
        }),
        Error::NotFound(message) => Error::NotFound(context(message)),
        Error::Transport(message) => Error::Transport(context(message)),
        Error::Timeout(message) => Error::Timeout(context(message)),
        Error::InvalidConfig(_)
        | Error::InvalidRoom(_)
        | Error::AlreadyExists(_)
        | Error::Protocol(_) => Error::Protocol(context(String::from("the clean-up failed"))),
    }
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
        Error::InvalidConfig(ConfigError { field, reason }) => Error::InvalidConfig(ConfigError {
            field,
            reason: scrub(reason),
        }),
        Error::InvalidRoom(m) => Error::InvalidRoom(scrub(m)),
        Error::Unauthorized(m) => Error::Unauthorized(scrub(m)),
        Error::NotFound(m) => Error::NotFound(scrub(m)),
        Error::AlreadyExists(m) => Error::AlreadyExists(scrub(m)),
        Error::Remote(RemoteError { status, message }) => Error::Remote(RemoteError {
            status,
            message: scrub(message),
        }),
        Error::Transport(m) => Error::Transport(scrub(m)),
        Error::Timeout(m) => Error::Timeout(scrub(m)),
        Error::Protocol(m) => Error::Protocol(scrub(m)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_are_clipped_on_a_character_boundary() {
        let long = "ä".repeat(MAX_MESSAGE + 10);
        let clipped = clip(&long);
        assert_eq!(clipped.chars().count(), MAX_MESSAGE + 1);
        assert!(clipped.ends_with('…'));
        assert_eq!(clip("  short\n"), "short");
    }

    #[test]
    fn a_clean_up_that_fails_after_a_refusal_is_never_a_refusal() {
        let refused = || Error::Unauthorized(String::from("share refused"));
        // A refusal says nothing was made; a failed clean-up says something was.
        for cleanup in [
            Error::Unauthorized(String::from("delete refused")),
            remote(409, "conflict"),
            Error::Transport(String::from("reset")),
            Error::NotFound(String::from("gone")),
            Error::Protocol(String::from("garbled")),
        ] {
            let reported = cleanup_failed(refused(), cleanup);
            assert!(!matches!(reported, Error::Unauthorized(_)), "{reported:?}");
        }
        let reported = cleanup_failed(refused(), Error::Unauthorized(String::from("again")));
        assert!(
            matches!(&reported, Error::Remote(r) if r.status == 401 && r.message == "again (cleaning up after: share refused)"),
            "{reported:?}"
        );
        // Any other first error is reported as it was.
        let reported = cleanup_failed(Error::Transport(String::from("t")), refused());
        assert!(matches!(reported, Error::Transport(m) if m == "t"));
    }

    #[test]
    fn refusals_are_typed_by_status() {
        assert!(
            matches!(refusal(401, None, "S"), Error::Unauthorized(m) if m == "S refused the account's credentials")
        );
        assert!(matches!(refusal(401, Some("no"), "S"), Error::Unauthorized(m) if m == "no"));
        assert!(matches!(refusal(404, None, "S"), Error::NotFound(m) if m == "not found"));
        assert!(
            matches!(refusal(409, Some("exists"), "S"), Error::Remote(r) if r.status == 409 && r.message == "exists")
        );
        assert!(
            matches!(refusal(500, None, "S"), Error::Remote(r) if r.status == 500 && r.message == "no message")
        );
    }

    #[test]
    fn a_secret_is_redacted_from_every_case() {
        let secret = "s3cr3t!Pw";
        let said = format!("refused {secret} because");
        let cases = [
            config("url", said.clone()),
            Error::InvalidRoom(said.clone()),
            Error::Unauthorized(said.clone()),
            Error::NotFound(said.clone()),
            Error::AlreadyExists(said.clone()),
            remote(400, &said),
            Error::Transport(said.clone()),
            Error::Timeout(said.clone()),
            Error::Protocol(said.clone()),
        ];
        for error in cases {
            let text = format!("{:?}", redact(error, secret));
            assert!(!text.contains(secret), "{text}");
            assert!(text.contains("refused *** because"), "{text}");
        }
        assert!(matches!(redact(Error::Protocol("x".into()), ""), Error::Protocol(m) if m == "x"));
    }
}
