//! A call's outcome in a word or two, as the tables print it.

use shared_folder_host::HostError;
use shared_folder_host::bindings::WitError;
use shared_folder_host::{CallError, LoadError};

/// `ok`, or the kind of error: `remote 500`, `transport`, `timeout`, `trapped`, …
pub fn kind<T>(result: &Result<T, HostError>) -> String {
    let Err(error) = result else {
        return "ok".into();
    };
    match error {
        HostError::Call { source, .. } => match source {
            CallError::Provider(error) => match error {
                WitError::Remote(remote) => format!("remote {}", remote.status),
                WitError::Transport(_) => "transport".into(),
                WitError::Timeout(_) => "timeout".into(),
                WitError::Protocol(_) => "protocol".into(),
                WitError::NotFound(_) => "not found".into(),
                WitError::Unauthorized(_) => "unauthorized".into(),
                WitError::AlreadyExists(_) => "exists".into(),
                WitError::InvalidConfig(_) => "config".into(),
                WitError::InvalidRoom(_) => "invalid room".into(),
            },
            CallError::Trapped(_) => "trapped".into(),
            CallError::TimedOut(_) => "deadline".into(),
            CallError::Unusable(_) => "unusable".into(),
            CallError::Instantiation(_) => "instantiation".into(),
        },
        HostError::Load { source, .. } => match source {
            LoadError::WrongWorld(_) => "refused at load".into(),
            other => format!("load: {other}"),
        },
        other => format!("host: {other}"),
    }
}
