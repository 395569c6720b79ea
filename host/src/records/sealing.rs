//! Share passwords at rest: sealed with XChaCha20-Poly1305 (an AEAD) before they are written,
//! so that a dump or a backup of the database does not hand out the links.
//!
//! A sealed password is stored as `sealed:v1:<key id>:<base64url(nonce ‖ ciphertext)>`. The
//! key id (the first 8 hex digits of the key's SHA-256) names which key sealed it; the
//! associated data is the room and which link it is, so a sealed password copied onto another
//! row or link does not open. Text without the `sealed:` prefix is a password written by a host
//! from before sealing; it is read as it is, and `shared-folder-host rekey` seals it.
//!
//! Keys come from `[host].records_key_file` or `records_key_env`: one base64 key of 32 bytes
//! per line, the first seals and every one opens. Rotation: put the new key first and keep the
//! old one below it, restart the hosts, run `rekey` (which seals every password with
//! the first key again), then drop the old key (README, "Share passwords at rest").
//!
//! What it protects: the passwords' confidentiality in a dump or backup. Whoever can write to
//! the database can still change a record's URLs or write a password in clear.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

const PREFIX: &str = "sealed:v1:";
const NONCE_BYTES: usize = 24;

/// Which of a folder's two links a password belongs to (part of what the seal binds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Read,
    ReadWrite,
}

impl Link {
    fn name(self) -> &'static str {
        match self {
            Link::Read => "read",
            Link::ReadWrite => "read_write",
        }
    }
}

/// One key: its id and cipher. Its bytes are never shown.
struct Key {
    id: String,
    cipher: XChaCha20Poly1305,
}

/// The keys share passwords are sealed and opened with: the first seals, every one opens.
pub struct Keys {
    keys: Vec<Key>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        f.debug_struct("Keys").field("ids", &ids).finish()
    }
}

/// Keys that could not be read; names where they came from, never their bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {problem}")]
pub struct KeyError {
    /// `records_key_file (…)` or `records_key_env (…)`.
    pub origin: String,
    pub problem: String,
}

/// A sealed password that does not open (no configured key sealed it, or it was altered).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a share password in the records does not open with the configured keys (sealed with key \
     {key_id}): is the key that sealed it still in records_key_file / records_key_env?"
)]
pub struct OpenError {
    pub key_id: String,
}

impl Keys {
    /// Reads keys from `text`: base64 keys, one per line or separated by commas or spaces;
    /// blank lines and `#` comment lines skipped. `source` names where the text came from, for errors.
    pub fn parse(text: &str, source: &str) -> Result<Self, KeyError> {
        let fail = |problem: String| KeyError {
            origin: source.to_owned(),
            problem,
        };
        let mut keys = Vec::new();
        // Keys are separated by lines (a file), or by commas or spaces (an environment
        // variable); `#` starts a comment line.
        let words = text
            .lines()
            .filter(|line| !line.trim_start().starts_with('#'))
            .flat_map(|line| line.split([',', ' ', '\t']))
            .filter(|word| !word.is_empty());
        for (number, word) in words.enumerate() {
            let bytes = STANDARD
                .decode(word)
                .map_err(|_| fail(format!("key {} is not base64", number + 1)))?;
            let bytes: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
                fail(format!(
                    "key {} is {} bytes; a key is 32 (`head -c 32 /dev/urandom | base64`)",
                    number + 1,
                    b.len()
                ))
            })?;
            keys.push(Key::new(&bytes));
        }
        if keys.is_empty() {
            return Err(fail(
                "no key in it; a key is 32 random bytes in base64 (`head -c 32 /dev/urandom | base64`)"
                    .into(),
            ));
        }
        Ok(Keys { keys })
    }

    /// Reads the key file at `path`.
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        let source = format!("records_key_file ({})", path.display());
        let text = std::fs::read_to_string(path).map_err(|e| KeyError {
            origin: source.clone(),
            problem: e.to_string(),
        })?;
        Self::parse(&text, &source)
    }

    /// The key file at `path`, made with a new random key first if there is none (readable by
    /// its owner only). For the embedded database, which needs no set-up.
    pub fn from_file_or_new(path: &Path) -> Result<Self, KeyError> {
        if !path.exists() {
            let mut key = [0u8; 32];
            getrandom::fill(&mut key).map_err(|e| KeyError {
                origin: format!("records_key_file ({})", path.display()),
                problem: format!("no random source: {e}"),
            })?;
            write_private(path, &format!("{}\n", STANDARD.encode(key))).map_err(|e| KeyError {
                origin: format!("records_key_file ({})", path.display()),
                problem: e.to_string(),
            })?;
            tracing::info!(path = %path.display(), "a key for the share passwords in the records is there");
        }
        Self::from_file(path)
    }

    /// A new random key that lives as long as this value (records in memory).
    pub fn ephemeral() -> Result<Self, KeyError> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| KeyError {
            origin: "random key".into(),
            problem: e.to_string(),
        })?;
        Ok(Keys {
            keys: vec![Key::new(&key)],
        })
    }

    /// The id of the key that seals.
    pub fn sealing_id(&self) -> &str {
        &self.keys[0].id
    }

    /// Seals `password`, the `link` password of `room`'s folder.
    pub fn seal(&self, room: &str, link: Link, password: &str) -> String {
        let key = &self.keys[0];
        let mut nonce = [0u8; NONCE_BYTES];
        // The operating system's CSPRNG; without it there is no safe nonce (nor share
        // password), and the host could not have made one either.
        if let Err(error) = getrandom::fill(&mut nonce) {
            panic!("no random source for a nonce: {error}");
        }
        let aad = associated_data(room, link);
        let sealed = key
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: password.as_bytes(),
                    aad: &aad,
                },
            )
            .unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{PREFIX}{}:{}", key.id, URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Opens what [`Keys::seal`] made for the same room and link; text that is not sealed is
    /// returned as it is.
    pub fn open(&self, room: &str, link: Link, stored: &str) -> Result<String, OpenError> {
        let Some(rest) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_owned());
        };
        let (key_id, body) = rest.split_once(':').unwrap_or((rest, ""));
        let fail = || OpenError {
            key_id: key_id.to_owned(),
        };
        let key = self.keys.iter().find(|k| k.id == key_id).ok_or_else(fail)?;
        let bytes = URL_SAFE_NO_PAD.decode(body).map_err(|_| fail())?;
        if bytes.len() < NONCE_BYTES {
            return Err(fail());
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| fail())?;
        let aad = associated_data(room, link);
        let plain = key
            .cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .map_err(|_| fail())?;
        String::from_utf8(plain).map_err(|_| fail())
    }

    /// Whether `stored` is sealed with the key that seals now (`records rekey` leaves it).
    pub fn is_current(&self, stored: &str) -> bool {
        stored
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once(':'))
            .is_some_and(|(id, _)| id == self.sealing_id())
    }
}

impl Key {
    fn new(bytes: &[u8; 32]) -> Self {
        let digest = Sha256::digest(bytes);
        let id = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        Key {
            id,
            cipher: XChaCha20Poly1305::new(&(*bytes).into()),
        }
    }
}

fn associated_data(room: &str, link: Link) -> Vec<u8> {
    let mut aad = b"shared-folder share password\0".to_vec();
    aad.extend_from_slice(room.as_bytes());
    aad.push(0);
    aad.extend_from_slice(link.name().as_bytes());
    aad
}

/// Writes `text` to a new file at `path`, readable by its owner only, all at once: it is
/// written aside and linked into place, so another process making the same file at the same
/// moment either wins (and this one reads its key) or finds this one's complete.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let aside = PathBuf::from(format!("{}.{}.new", path.display(), std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&aside).and_then(|mut file| {
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
    });
    let linked = written.and_then(|()| std::fs::hard_link(&aside, path));
    let _ = std::fs::remove_file(&aside);
    match linked {
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(lines: &[[u8; 32]]) -> Keys {
        let text: Vec<String> = lines.iter().map(|k| STANDARD.encode(k)).collect();
        Keys::parse(&text.join("\n"), "test").unwrap()
    }

    #[test]
    fn a_sealed_password_opens_for_its_room_and_link_only() {
        let keys = keys(&[[7; 32]]);
        let sealed = keys.seal("room-a", Link::Read, "Secret-Passw0rd");
        assert!(sealed.starts_with("sealed:v1:"), "{sealed}");
        assert!(!sealed.contains("Secret-Passw0rd"));
        assert_eq!(
            keys.open("room-a", Link::Read, &sealed).unwrap(),
            "Secret-Passw0rd"
        );
        assert!(keys.open("room-b", Link::Read, &sealed).is_err());
        assert!(keys.open("room-a", Link::ReadWrite, &sealed).is_err());
        // Two seals of one password differ (a fresh nonce each time).
        assert_ne!(sealed, keys.seal("room-a", Link::Read, "Secret-Passw0rd"));
    }

    #[test]
    fn an_old_key_below_the_new_one_still_opens() {
        let old = keys(&[[1; 32]]);
        let sealed = old.seal("r", Link::ReadWrite, "pw");
        let rotated = keys(&[[2; 32], [1; 32]]);
        assert_eq!(rotated.open("r", Link::ReadWrite, &sealed).unwrap(), "pw");
        assert!(!rotated.is_current(&sealed));
        assert!(rotated.is_current(&rotated.seal("r", Link::ReadWrite, "pw")));
        let error = keys(&[[2; 32]])
            .open("r", Link::ReadWrite, &sealed)
            .unwrap_err();
        assert_eq!(error.key_id, old.sealing_id());
    }

    #[test]
    fn altered_text_does_not_open_and_plain_text_is_read_as_it_is() {
        let keys = keys(&[[3; 32]]);
        let mut sealed = keys.seal("r", Link::Read, "pw").into_bytes();
        let last = sealed.len() - 1;
        sealed[last] = if sealed[last] == b'A' { b'B' } else { b'A' };
        let sealed = String::from_utf8(sealed).unwrap();
        assert!(keys.open("r", Link::Read, &sealed).is_err());
        assert_eq!(
            keys.open("r", Link::Read, "legacy-pw").unwrap(),
            "legacy-pw"
        );
    }

    #[test]
    fn bad_key_text_is_named_without_showing_it() {
        let error = Keys::parse("# comment\nbm90IGEga2V5\n", "records_key_env (K)").unwrap_err();
        assert_eq!(error.origin, "records_key_env (K)");
        assert!(error.problem.contains("key 1 is 9 bytes"), "{error}");
        assert!(!error.to_string().contains("bm90IGEga2V5"));
        assert!(Keys::parse("\n\n", "x").is_err());
        assert!(Keys::parse("not base64!", "x").is_err());
        let two = format!(
            "{}, {}",
            STANDARD.encode([1u8; 32]),
            STANDARD.encode([2u8; 32])
        );
        assert_eq!(Keys::parse(&two, "env").unwrap().keys.len(), 2);
        let debug = format!("{:?}", keys(&[[9; 32]]));
        assert!(!debug.contains(&STANDARD.encode([9u8; 32])), "{debug}");
    }
}
