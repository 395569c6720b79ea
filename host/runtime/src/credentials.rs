//! The storage account's credentials and the `Authorization` header the host adds to every
//! request of a provider (a component never sees them, and cannot set the header itself).
//!
//! - **Basic**: the account's user name and its password or app token (NextCloud's app
//!   passwords, OpenCloud's app tokens).
//! - **Bearer**: a token read from a file or an environment variable. A file is read again
//!   whenever it changes (its modification time or size), so a refresher outside the host
//!   (a sidecar renewing an OIDC access token, say) can rotate it while the host serves; a file
//!   that cannot be read or is empty at that moment leaves the token before it in use, with a
//!   warning. An environment variable is read when the configuration is (at start and at each
//!   reload): a process's environment does not change from outside.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use base64::Engine as _;
use http::HeaderValue;

use crate::secret::Secret;

/// How the host authenticates to the storage (`[shared_folder].auth`).
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// HTTP Basic with the account's password or app token.
    Basic {
        /// The account's user name.
        username: String,
        /// Its password or app token.
        password: Secret,
    },
    /// A Bearer token.
    Bearer(TokenSource),
}

/// Where a Bearer token comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// A file holding the token (surrounding whitespace is ignored), read again when it changes.
    File(PathBuf),
    /// An environment variable holding the token, with the value it had when the
    /// configuration was read.
    Env {
        /// The variable's name.
        name: String,
        /// Its value.
        token: Secret,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"***")
                .finish(),
            Credentials::Bearer(TokenSource::File(path)) => {
                f.debug_tuple("BearerFromFile").field(path).finish()
            }
            Credentials::Bearer(TokenSource::Env { name, .. }) => {
                f.debug_tuple("BearerFromEnv").field(name).finish()
            }
        }
    }
}

impl Credentials {
    /// Reads a Bearer token's file once, for the configuration check: the reason it cannot
    /// be used, never its content.
    pub fn check(&self) -> Result<(), String> {
        match self {
            Credentials::Basic { password, .. } if password.expose().is_empty() => {
                Err("the password is empty".into())
            }
            Credentials::Bearer(TokenSource::File(path)) => read_token(path).map(drop),
            Credentials::Bearer(TokenSource::Env { name, token }) => {
                usable(token.expose()).map_err(|reason| format!("${name}: {reason}"))
            }
            Credentials::Basic { .. } => Ok(()),
        }
    }
}

/// Makes the `Authorization` header of each request.
pub(crate) struct Authorization {
    kind: Kind,
}

enum Kind {
    Fixed(HeaderValue),
    File {
        path: PathBuf,
        /// The file's state when last read, and the header made from it.
        last: Mutex<Option<(FileStamp, HeaderValue)>>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
}

impl Authorization {
    pub(crate) fn new(credentials: &Credentials) -> Self {
        let kind = match credentials {
            Credentials::Basic { username, password } => {
                let encoded = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{}", password.expose()));
                Kind::Fixed(sensitive(&format!("Basic {encoded}")))
            }
            Credentials::Bearer(TokenSource::Env { token, .. }) => {
                Kind::Fixed(sensitive(&format!("Bearer {}", token.expose().trim())))
            }
            Credentials::Bearer(TokenSource::File(path)) => Kind::File {
                path: path.clone(),
                last: Mutex::new(None),
            },
        };
        Authorization { kind }
    }

    /// The header for a request sent now; `None` when a token file has never been readable.
    pub(crate) fn header(&self) -> Option<HeaderValue> {
        match &self.kind {
            Kind::Fixed(value) => Some(value.clone()),
            Kind::File { path, last } => {
                let mut last = last.lock().unwrap_or_else(|p| p.into_inner());
                let stamp = std::fs::metadata(path).ok().map(|m| FileStamp {
                    modified: m.modified().ok(),
                    len: m.len(),
                });
                let changed = match (&*last, stamp) {
                    (Some((seen, _)), Some(now)) => *seen != now,
                    (None, _) => true,
                    (Some(_), None) => false,
                };
                if changed {
                    match read_token(path) {
                        Ok(token) => {
                            let value = sensitive(&format!("Bearer {}", token.expose()));
                            if last.is_some() {
                                tracing::info!(file = %path.display(), "bearer token changed; using the new one");
                            }
                            *last = stamp.map(|stamp| (stamp, value));
                        }
                        Err(reason) => {
                            tracing::warn!(file = %path.display(), %reason, "bearer token file unusable; keeping the token before it");
                            // Not read again (nor warned about) until it changes once more.
                            if let (Some(stamp), Some((_, value))) = (stamp, last.take()) {
                                *last = Some((stamp, value));
                            }
                        }
                    }
                }
                last.as_ref().map(|(_, value)| value.clone())
            }
        }
    }
}

fn read_token(path: &Path) -> Result<Secret, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let token = text.trim();
    usable(token).map_err(|reason| format!("{}: {reason}", path.display()))?;
    Ok(Secret::new(token.to_owned()))
}

/// Whether `token` can go into a header: not empty, visible ASCII only.
fn usable(token: &str) -> Result<(), String> {
    let token = token.trim();
    if token.is_empty() {
        Err("the token is empty".into())
    } else if !token.bytes().all(|b| b.is_ascii_graphic()) {
        Err("the token holds characters a header cannot carry".into())
    } else {
        Ok(())
    }
}

fn sensitive(text: &str) -> HeaderValue {
    let mut value = HeaderValue::from_str(text)
        .unwrap_or_else(|_| HeaderValue::from_static("invalid-credentials"));
    value.set_sensitive(true);
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_file_is_read_again_when_it_changes() {
        let folder = std::env::temp_dir().join(format!("sf-token-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        let file = folder.join("token");
        std::fs::write(&file, "first-token\n").unwrap();
        let authorization =
            Authorization::new(&Credentials::Bearer(TokenSource::File(file.clone())));
        assert_eq!(authorization.header().unwrap(), "Bearer first-token");
        // A different size: a change whatever the clock's resolution.
        std::fs::write(&file, "second-token-longer").unwrap();
        assert_eq!(
            authorization.header().unwrap(),
            "Bearer second-token-longer"
        );
        // Emptied mid-rotation: the token before it stays in use.
        std::fs::write(&file, "").unwrap();
        assert_eq!(
            authorization.header().unwrap(),
            "Bearer second-token-longer"
        );
        std::fs::remove_dir_all(&folder).unwrap();
    }

    #[test]
    fn basic_credentials_are_encoded_and_never_shown() {
        let credentials = Credentials::Basic {
            username: "opentalk".into(),
            password: Secret::new("s3cret-Passw0rd"),
        };
        let header = Authorization::new(&credentials).header().unwrap();
        assert_eq!(header, "Basic b3BlbnRhbGs6czNjcmV0LVBhc3N3MHJk");
        assert!(header.is_sensitive());
        assert!(!format!("{credentials:?}").contains("s3cret"));
    }

    #[test]
    fn an_unusable_token_is_refused_without_being_shown() {
        let credentials = Credentials::Bearer(TokenSource::Env {
            name: "TOKEN".into(),
            token: Secret::new("two words"),
        });
        let reason = credentials.check().unwrap_err();
        assert!(reason.starts_with("$TOKEN:"), "{reason}");
        assert!(!reason.contains("two words"));
    }
}
