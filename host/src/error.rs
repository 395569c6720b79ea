//! What can go wrong in the host, named by what went wrong. No variant carries a secret.

use shared_folder_runtime::{ConfigError, Error, ErrorKind};

use crate::records::RecordsError;

/// An error of the host's API: the runtime's, or one of the records.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HostError {
    /// Loading, configuring or calling the provider failed (see [`Error`]).
    #[error(transparent)]
    Runtime(#[from] Error),
    #[error("room {0:?} has no shared folder")]
    NoFolder(String),
    #[error(transparent)]
    Records(#[from] RecordsError),
    /// The storage holds the room's folder, and the records do not: the provider refused to
    /// adopt it.
    #[error(
        "{source} — the storage holds a folder for room {room:?} that no record here knows of \
         (left by an older database, or made by hand): `shared-folder-host audit` names it and \
         `repair --apply` takes it over, files and links kept; if no meeting owns it, \
         `shared-folder-host purge --config FILE --room {room}` removes it with its files"
    )]
    FolderWithoutRecord { room: String, source: Error },
    /// A repair found the records changed since its audit; nothing was done.
    #[error("room {room:?}: the records hold {holds} now, not what the audit found; audit again")]
    RecordChanged { room: String, holds: &'static str },
    /// A purge of a room that has a record (`--force` purges it anyway).
    #[error(
        "room {0:?} has a shared folder on record: delete it, or purge with --force to remove \
         it from the storage and drop the record"
    )]
    RoomHasRecord(String),
}

impl HostError {
    /// What kind of failure this is: the one classification exit codes, HTTP statuses and
    /// reports use.
    pub fn kind(&self) -> ErrorKind {
        match self {
            HostError::Runtime(error) | HostError::FolderWithoutRecord { source: error, .. } => {
                error.kind()
            }
            HostError::RoomHasRecord(_) | HostError::RecordChanged { .. } => {
                ErrorKind::AlreadyExists
            }
            HostError::NoFolder(_) => ErrorKind::NoFolder,
            HostError::Records(error) if error.unavailable() => ErrorKind::RecordsUnavailable,
            HostError::Records(_) => ErrorKind::Records,
        }
    }
}

impl HostError {
    /// The contract error the provider returned, if that is what this is (its message, and
    /// for a storage's error answer, the status).
    pub fn provider_error(&self) -> Option<&shared_folder_runtime::ProviderError> {
        match self {
            HostError::Runtime(error) | HostError::FolderWithoutRecord { source: error, .. } => {
                error.provider_error()
            }
            _ => None,
        }
    }
}

impl From<ConfigError> for HostError {
    fn from(error: ConfigError) -> Self {
        HostError::Runtime(error.into())
    }
}

impl From<shared_folder_runtime::TlsError> for HostError {
    fn from(error: shared_folder_runtime::TlsError) -> Self {
        HostError::Runtime(error.into())
    }
}
