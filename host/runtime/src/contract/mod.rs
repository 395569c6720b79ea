//! The contract versions this host serves, one bindings module each, and the values of the
//! contract in the host's own terms so that nothing above this module depends on a version.
//!
//! A component is served by the version of `shared-folder:provider/provider` it exports
//! ([`Contract::of`]), as Zed's extension host picks a bindings module per extension API
//! version: [`v0_4`] (the current contract, `wit/provider.wit`), [`v0_3`]
//! (`wit/v0.3.0/provider.wit`) and [`v0_2`] (`wit/v0.2.0/provider.wit`), for components built
//! before. Each module converts between its generated types and the ones below.

pub(crate) mod v0_2;
pub(crate) mod v0_3;
pub(crate) mod v0_4;

use std::fmt;

use wasmtime::Engine;
use wasmtime::component::Component;

/// The interface a provider component exports, without its version.
const PROVIDER_INTERFACE: &str = "shared-folder:provider/provider";

/// Why a component's exports name no contract version this host serves ([`Contract::of`]);
/// a `LoadError` once the component is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportProblem {
    /// It exports the provider interface in a version not served here.
    Unsupported(String),
    /// It exports the provider interface not at all, or in several versions.
    WrongWorld(String),
}

/// A version of the contract this host serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Contract {
    /// `shared-folder:provider@0.2.x`: `delete` gets the whole created folder back, shares
    /// carry ids, there is no `validate`.
    V0_2,
    /// `shared-folder:provider@0.3.x`: `create` returns a handle that `delete` gets back,
    /// and `validate` checks settings without contacting the storage.
    V0_3,
    /// `shared-folder:provider@0.4.x`: `list` names the rooms' folders on the storage and
    /// `recover` takes one over (audit and repair).
    V0_4,
}

impl Contract {
    /// Every version served, oldest first.
    pub const ALL: [Contract; 3] = [Contract::V0_2, Contract::V0_3, Contract::V0_4];

    /// Whether components of this version can be asked what is on the storage (`list`) and
    /// to take a folder over (`recover`): from 0.4 on.
    pub fn lists_and_recovers(self) -> bool {
        self >= Contract::V0_4
    }

    /// The version `component` exports the provider interface of.
    pub fn of(engine: &Engine, component: &Component) -> Result<Contract, ExportProblem> {
        let exported: Vec<String> = component
            .component_type()
            .exports(engine)
            .map(|(name, _)| name.to_owned())
            .collect();
        let versions: Vec<&str> = exported
            .iter()
            .filter_map(|name| name.strip_prefix(PROVIDER_INTERFACE)?.strip_prefix('@'))
            .collect();
        match versions.as_slice() {
            [version] => Contract::parse(version).ok_or_else(|| {
                ExportProblem::Unsupported(format!(
                    "it exports contract {version}; this host serves {}",
                    Contract::served()
                ))
            }),
            [] => Err(ExportProblem::WrongWorld(format!(
                "it exports no {PROVIDER_INTERFACE} interface (exports: {})",
                if exported.is_empty() {
                    "none".to_owned()
                } else {
                    exported.join(", ")
                }
            ))),
            several => Err(ExportProblem::WrongWorld(format!(
                "it exports {PROVIDER_INTERFACE} in several versions ({})",
                several.join(", ")
            ))),
        }
    }

    /// The version of `0.2.x`, `0.3.x` or `0.4.x` text; `None` for any other.
    pub fn parse(version: &str) -> Option<Contract> {
        let mut parts = version.split('.');
        let (major, minor) = (parts.next()?, parts.next()?);
        let patch = parts.next()?;
        let plain = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if parts.next().is_some() || !plain(patch) {
            return None;
        }
        match (major, minor) {
            ("0", "2") => Some(Contract::V0_2),
            ("0", "3") => Some(Contract::V0_3),
            ("0", "4") => Some(Contract::V0_4),
            _ => None,
        }
    }

    /// The versions served, for messages: `0.2, 0.3, 0.4`.
    pub fn served() -> String {
        Contract::ALL
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Contract {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Contract::V0_2 => "0.2",
            Contract::V0_3 => "0.3",
            Contract::V0_4 => "0.4",
        })
    }
}

/// A setting of `[shared_folder]` as the component receives it (the contract's
/// `setting-value`, the same in every version).
#[derive(Debug, Clone, PartialEq)]
pub enum SettingValue {
    /// A TOML string (a date or time as its text).
    Text(String),
    /// A TOML integer.
    Integer(i64),
    /// A TOML float.
    Float(f64),
    /// A TOML boolean.
    Boolean(bool),
}

/// A named setting.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// The field's name in `[shared_folder]`.
    pub name: String,
    /// Its value.
    pub value: SettingValue,
}

/// One public link of a created folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedLink {
    /// The public URL.
    pub url: String,
    /// Its password.
    pub password: String,
}

/// What a provider's `create` returned, in any version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// Where the folder is on the storage, for people.
    pub location: String,
    /// The read-only link.
    pub read: CreatedLink,
    /// The read-write link.
    pub read_write: CreatedLink,
    /// What `delete` gets back: the provider's handle (0.3), or what the host keeps for a 0.2
    /// provider ([`v0_2::Handle`]).
    pub handle: String,
}

/// What a public link lets its holder do (the contract's `access`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkAccess {
    /// Read only: the link every participant sees.
    Read,
    /// Read and write: the link moderators see.
    ReadWrite,
}

/// A password-protected public link `list` found on a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundLink {
    /// Its public URL.
    pub url: String,
    /// What it lets its holder do.
    pub access: LinkAccess,
}

/// A folder `list` found under `directory`, with its links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundFolder {
    /// The room it is for: the folder's name.
    pub room: String,
    /// Where it is, for people.
    pub location: String,
    /// Its password-protected public links of either kind.
    pub links: Vec<FoundLink>,
}

/// A problem with one field of `[shared_folder]`, as a provider reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// The field's name.
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

/// The contract's `error` variant (the same cases in every version served).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderError {
    /// A field of `[shared_folder]` is missing or invalid.
    InvalidConfig(FieldProblem),
    /// The room id cannot name a folder.
    InvalidRoom(String),
    /// The storage refused the account's credentials.
    Unauthorized(String),
    /// Something the call needs does not exist on the storage.
    NotFound(String),
    /// The room's folder exists already.
    AlreadyExists(String),
    /// The storage answered with an error of its own: its status and message.
    Remote {
        /// The status code.
        status: u16,
        /// The storage's message.
        message: String,
    },
    /// The request got no answer.
    Transport(String),
    /// The storage did not answer in time.
    Timeout(String),
    /// The storage's answer could not be read.
    Protocol(String),
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProviderError::InvalidConfig(FieldProblem { field, reason }) => {
                write!(f, "[shared_folder].{field}: {reason}")
            }
            ProviderError::InvalidRoom(m) => write!(f, "invalid room: {m}"),
            ProviderError::Unauthorized(m) => write!(f, "storage refused the credentials: {m}"),
            ProviderError::NotFound(m) => write!(f, "not found on the storage: {m}"),
            ProviderError::AlreadyExists(m) => write!(f, "already exists on the storage: {m}"),
            ProviderError::Remote { status, message } => {
                write!(f, "storage answered {status}: {message}")
            }
            ProviderError::Transport(m) => write!(f, "storage unreachable: {m}"),
            ProviderError::Timeout(m) => write!(f, "storage did not answer in time: {m}"),
            ProviderError::Protocol(m) => write!(f, "unreadable answer from the storage: {m}"),
        }
    }
}

/// The conversions every version's generated types have, written once per version by
/// [`convert_values`].
macro_rules! convert_values {
    ($types:path) => {
        use $types as wit;

        pub(crate) fn settings(settings: &[$crate::contract::Setting]) -> Vec<wit::Setting> {
            settings
                .iter()
                .map(|setting| wit::Setting {
                    name: setting.name.clone(),
                    value: match &setting.value {
                        $crate::contract::SettingValue::Text(t) => {
                            wit::SettingValue::Text(t.clone())
                        }
                        $crate::contract::SettingValue::Integer(i) => {
                            wit::SettingValue::Integer(*i)
                        }
                        $crate::contract::SettingValue::Float(x) => wit::SettingValue::Float(*x),
                        $crate::contract::SettingValue::Boolean(b) => {
                            wit::SettingValue::Boolean(*b)
                        }
                    },
                })
                .collect()
        }

        impl From<wit::ConfigError> for $crate::contract::FieldProblem {
            fn from(e: wit::ConfigError) -> Self {
                $crate::contract::FieldProblem {
                    field: e.field,
                    reason: e.reason,
                }
            }
        }

        impl From<wit::Error> for $crate::contract::ProviderError {
            fn from(error: wit::Error) -> Self {
                use $crate::contract::ProviderError as E;
                match error {
                    wit::Error::InvalidConfig(e) => E::InvalidConfig(e.into()),
                    wit::Error::InvalidRoom(m) => E::InvalidRoom(m),
                    wit::Error::Unauthorized(m) => E::Unauthorized(m),
                    wit::Error::NotFound(m) => E::NotFound(m),
                    wit::Error::AlreadyExists(m) => E::AlreadyExists(m),
                    wit::Error::Remote(r) => E::Remote {
                        status: r.status,
                        message: r.message,
                    },
                    wit::Error::Transport(m) => E::Transport(m),
                    wit::Error::Timeout(m) => E::Timeout(m),
                    wit::Error::Protocol(m) => E::Protocol(m),
                }
            }
        }
    };
}
pub(crate) use convert_values;

/// `create`'s result of the versions with a handle (0.3 on), in the host's terms; written once
/// per version by [`convert_handled_folder`].
macro_rules! convert_handled_folder {
    () => {
        /// What `create` (or `recover`) returned, in the host's terms.
        pub(crate) fn created(folder: wit::SharedFolder) -> $crate::contract::Created {
            let link = |share: wit::Share| $crate::contract::CreatedLink {
                url: share.url,
                password: share.password,
            };
            $crate::contract::Created {
                location: folder.location,
                read: link(folder.read),
                read_write: link(folder.read_write),
                handle: folder.handle,
            }
        }
    };
}
pub(crate) use convert_handled_folder;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_as_semver_minor_versions() {
        assert_eq!(Contract::parse("0.2.0"), Some(Contract::V0_2));
        assert_eq!(Contract::parse("0.2.7"), Some(Contract::V0_2));
        assert_eq!(Contract::parse("0.3.0"), Some(Contract::V0_3));
        assert_eq!(Contract::parse("0.4.2"), Some(Contract::V0_4));
        for other in [
            "0.1.0",
            "0.5.0",
            "1.3.0",
            "0.3",
            "0.3.x",
            "0.3.0.1",
            "0.3.0-rc1",
            "",
        ] {
            assert_eq!(Contract::parse(other), None, "{other}");
        }
        assert_eq!(Contract::served(), "0.2, 0.3, 0.4");
    }
}
