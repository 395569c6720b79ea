//! What can go wrong, named by what went wrong. No variant carries a secret.

use std::fmt;
use std::time::Duration;

use crate::connections::TlsError;
use crate::contract::ProviderError;

/// What is wrong with a configuration. The value of a secret field is never part of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Not TOML (the line is named, its text is not shown), or a section of the wrong type.
    #[error("configuration is not valid TOML: {0}")]
    Syntax(String),
    /// No `[shared_folder]` table.
    #[error("configuration has no [shared_folder] table")]
    MissingSection,
    /// A field is missing, unknown or invalid.
    #[error("[{section}].{field}: {reason}")]
    Field {
        /// The section (table) it is in, e.g. `shared_folder`.
        section: String,
        /// The field's name.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The configuration file could not be read.
    #[error("cannot read {path}: {reason}")]
    Unreadable {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

impl ConfigError {
    /// An error about `[shared_folder].field`.
    pub fn field(field: &str, reason: impl Into<String>) -> Self {
        Self::in_section("shared_folder", field, reason)
    }

    /// An error about `[section].field`.
    pub fn in_section(section: &str, field: &str, reason: impl Into<String>) -> Self {
        ConfigError::Field {
            section: section.to_owned(),
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}

/// A component could not become a provider.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LoadError {
    /// The wasmtime engine could not be set up (not a fault of the component).
    #[error("the wasmtime engine could not be set up: {0}")]
    Engine(String),
    /// The bytes are not a WebAssembly component.
    #[error("not a valid WebAssembly component: {0}")]
    NotAComponent(String),
    /// The component imports what the world does not grant, or does not export `provider`.
    #[error("the component does not fit the shared-folder-provider world: {0}")]
    WrongWorld(String),
    /// The component exports a version of the contract this host does not serve.
    #[error("the component's contract is not served here: {0}")]
    UnsupportedContract(String),
}

impl From<crate::contract::ExportProblem> for LoadError {
    fn from(problem: crate::contract::ExportProblem) -> Self {
        match problem {
            crate::contract::ExportProblem::Unsupported(m) => LoadError::UnsupportedContract(m),
            crate::contract::ExportProblem::WrongWorld(m) => LoadError::WrongWorld(m),
        }
    }
}

/// A provider call did not return a shared folder (or a completed delete).
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// The provider ran and reported an error of the contract.
    #[error("{0}")]
    Provider(ProviderError),
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
    /// The component's contract version has no such function (`list-folders` and `recover` came in
    /// 0.4); nothing was called.
    #[error(
        "the provider's contract {contract} has no `{function}` (it came in 0.4): update the provider to a build of contract 0.4"
    )]
    NotOffered {
        /// The function asked for.
        function: &'static str,
        /// The component's version.
        contract: crate::contract::Contract,
    },
}

/// An error of the runtime's API: which provider, which room, and what went wrong.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The configuration is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A component could not become the provider; the one before it (if any) keeps serving.
    #[error("provider {provider:?}: {source}")]
    Load {
        /// The provider's name.
        provider: String,
        /// What went wrong.
        source: LoadError,
    },
    /// A call of the provider failed.
    #[error("provider {provider:?}, room {room:?}: {source}")]
    Call {
        /// The provider's name.
        provider: String,
        /// The room the call was about.
        room: String,
        /// What went wrong.
        source: CallError,
    },
    /// The room id cannot name a folder (see [`crate::check_room_id`]); nothing was done.
    #[error("invalid room: {0}")]
    InvalidRoom(String),
    /// The provider or storage settings that made a room's folder are not available to
    /// delete it with; nothing was done.
    #[error("room {room:?}: {reason}")]
    MakerGone {
        /// The room.
        room: String,
        /// What is missing.
        reason: String,
    },
    /// The trust settings for the storage's certificate could not be used.
    #[error(transparent)]
    Tls(#[from] TlsError),
}

impl Error {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Config(_) | Error::Tls(_) | Error::MakerGone { .. } => ErrorKind::Configuration,
            // The engine could not be set up (e.g. the pooling allocator's reservation): not a
            // fault of the component.
            Error::Load {
                source: LoadError::Engine(_),
                ..
            } => ErrorKind::Instantiation,
            Error::Load { .. } => ErrorKind::RefusedAtLoad,
            Error::Call { source, .. } => source.kind(),
            Error::InvalidRoom(_) => ErrorKind::InvalidRoom,
        }
    }

    /// The contract error the provider returned, if that is what this is.
    pub fn provider_error(&self) -> Option<&ProviderError> {
        match self {
            Error::Call {
                source: CallError::Provider(error),
                ..
            } => Some(error),
            _ => None,
        }
    }
}

/// The one classification of failures: exit codes (the binary), HTTP statuses (the service),
/// whether a failed create is purged (`SharedFolders`) and the reliability tables all decide
/// from it. [`fmt::Display`] gives its word for a report (`remote 500`, `trapped`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The room id cannot name a folder (the host's rule, or a stricter one of the provider).
    InvalidRoom,
    /// The room has no shared folder.
    NoFolder,
    /// The configuration is wrong: the host's fields, the provider's (it said so), or the TLS
    /// settings.
    Configuration,
    /// The component could not be loaded: not a component, or not of the provider world.
    RefusedAtLoad,
    /// The provider trapped (panicked, ran out of memory or stack).
    Trapped,
    /// The provider did not finish within the call's deadline and was stopped.
    Deadline,
    /// The provider returned a shared folder the host cannot use.
    Unusable,
    /// A fresh instance of the provider could not be made.
    Instantiation,
    /// The storage refused the account's credentials.
    Unauthorized,
    /// The storage has something of that name already.
    AlreadyExists,
    /// The storage does not know what was asked for.
    NotFound,
    /// The storage answered with an error status (429: its rate limit).
    Remote(u16),
    /// The storage could not be reached, or the connection broke.
    Transport,
    /// The storage did not answer in time.
    Timeout,
    /// The storage's answer could not be read.
    Protocol,
    /// The host's folder records could not be read or written.
    Records,
    /// The host's folder records could not be reached (the database is down, restarting, or
    /// has no connection free now): the same call may succeed later.
    RecordsUnavailable,
    /// The provider's contract version does not offer what was asked (`list-folders`, `recover`).
    NotOffered,
}

impl ErrorKind {
    /// Whether a create that failed this way may have left a folder or share on the storage
    /// that the provider could not take away: it was stopped, or the storage failed in a way
    /// that may also have failed the provider's clean-up. A refusal (bad settings or room,
    /// credentials refused, the folder exists already) made nothing, and a folder that exists
    /// already is not ours to purge.
    pub fn may_have_left_work(self) -> bool {
        match self {
            ErrorKind::Trapped | ErrorKind::Deadline | ErrorKind::Unusable => true,
            ErrorKind::Remote(_)
            | ErrorKind::Transport
            | ErrorKind::Timeout
            | ErrorKind::Protocol
            | ErrorKind::NotFound => true,
            ErrorKind::InvalidRoom
            | ErrorKind::NoFolder
            | ErrorKind::Configuration
            | ErrorKind::RefusedAtLoad
            | ErrorKind::Instantiation
            | ErrorKind::Unauthorized
            | ErrorKind::AlreadyExists
            | ErrorKind::Records
            | ErrorKind::RecordsUnavailable
            | ErrorKind::NotOffered => false,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = match self {
            ErrorKind::InvalidRoom => "invalid room",
            ErrorKind::NoFolder => "no folder",
            ErrorKind::Configuration => "config",
            ErrorKind::RefusedAtLoad => "refused at load",
            ErrorKind::Trapped => "trapped",
            ErrorKind::Deadline => "deadline",
            ErrorKind::Unusable => "unusable",
            ErrorKind::Instantiation => "instantiation",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::AlreadyExists => "exists",
            ErrorKind::NotFound => "not found",
            ErrorKind::Remote(status) => return write!(f, "remote {status}"),
            ErrorKind::Transport => "transport",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Records => "records",
            ErrorKind::RecordsUnavailable => "records unavailable",
            ErrorKind::NotOffered => "not offered",
        };
        f.write_str(word)
    }
}

impl CallError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            CallError::Provider(error) => match error {
                ProviderError::InvalidConfig(_) => ErrorKind::Configuration,
                ProviderError::InvalidRoom(_) => ErrorKind::InvalidRoom,
                ProviderError::Unauthorized(_) => ErrorKind::Unauthorized,
                ProviderError::NotFound(_) => ErrorKind::NotFound,
                ProviderError::AlreadyExists(_) => ErrorKind::AlreadyExists,
                ProviderError::Remote { status, .. } => ErrorKind::Remote(*status),
                ProviderError::Transport(_) => ErrorKind::Transport,
                ProviderError::Timeout(_) => ErrorKind::Timeout,
                ProviderError::Protocol(_) => ErrorKind::Protocol,
            },
            CallError::Trapped(_) => ErrorKind::Trapped,
            CallError::TimedOut(_) => ErrorKind::Deadline,
            CallError::Unusable(_) => ErrorKind::Unusable,
            CallError::Instantiation(_) => ErrorKind::Instantiation,
            CallError::NotOffered { .. } => ErrorKind::NotOffered,
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
