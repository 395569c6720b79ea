//! What can go wrong, named by what went wrong. No variant carries a secret.

use std::time::Duration;

use crate::bindings::{RemoteError, WitConfigError, WitError};
use crate::config::ConfigError;
use crate::connections::TlsError;
use crate::records::RecordsError;

/// A component could not become a provider.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LoadError {
    #[error("the wasmtime engine could not be set up: {0}")]
    Engine(String),
    #[error("cannot read the component {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("not a valid WebAssembly component: {0}")]
    NotAComponent(String),
    #[error("the component does not fit the shared-folder-provider world: {0}")]
    WrongWorld(String),
}

/// A provider call did not return a shared folder (or a completed delete).
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// The provider ran and reported an error of the contract.
    #[error("{}", describe(.0))]
    Provider(WitError),
    /// The provider trapped (panicked, ran out of memory or stack, …); its instance is gone.
    #[error("provider trapped: {0}")]
    Trapped(String),
    /// The provider did not finish within the call's deadline; it was stopped.
    #[error("provider did not finish within {0:?} and was stopped")]
    TimedOut(Duration),
    /// The provider returned a shared folder the host cannot use (a path leaving its
    /// directory, a link that is not http(s), an empty password, …); it is purged.
    #[error("provider returned an unusable shared folder: {0}")]
    Unusable(String),
    /// A fresh instance could not be made (e.g. its memory is above the limit).
    #[error("provider could not be instantiated: {0}")]
    Instantiation(String),
}

/// An error of the host's API.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HostError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("provider {provider:?}: {source}")]
    Load { provider: String, source: LoadError },
    #[error("provider {provider:?}, room {room:?}: {source}")]
    Call {
        provider: String,
        room: String,
        source: CallError,
    },
    #[error("room {0:?} has no shared folder")]
    NoFolder(String),
    /// The room id cannot name a folder (see `room_id`); nothing was done.
    #[error("invalid room: {0}")]
    InvalidRoom(String),
    #[error(transparent)]
    Records(#[from] RecordsError),
    #[error(transparent)]
    Tls(#[from] TlsError),
}

impl HostError {
    /// The contract error the provider returned, if that is what this is.
    pub fn provider_error(&self) -> Option<&WitError> {
        match self {
            HostError::Call {
                source: CallError::Provider(error),
                ..
            } => Some(error),
            _ => None,
        }
    }
}

/// An error chain on one line: wasmtime's parser errors spread over several.
pub(crate) fn one_line(error: &wasmtime::Error) -> String {
    format!("{error:#}")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Words for a contract error.
pub fn describe(error: &WitError) -> String {
    match error {
        WitError::InvalidConfig(WitConfigError { field, reason }) => {
            format!("[shared_folder].{field}: {reason}")
        }
        WitError::InvalidRoom(m) => format!("invalid room: {m}"),
        WitError::Unauthorized(m) => format!("storage refused the credentials: {m}"),
        WitError::NotFound(m) => format!("not found on the storage: {m}"),
        WitError::AlreadyExists(m) => format!("already exists on the storage: {m}"),
        WitError::Remote(RemoteError { status, message }) => {
            format!("storage answered {status}: {message}")
        }
        WitError::Transport(m) => format!("storage unreachable: {m}"),
        WitError::Timeout(m) => format!("storage did not answer in time: {m}"),
        WitError::Protocol(m) => format!("unreadable answer from the storage: {m}"),
    }
}
