//! Keys and signatures for provider components (`shared-folder-host keygen` and `sign`), in
//! the WebAssembly signature convention `wasmsign2` implements: the files are interchangeable
//! with the `wasmsign2` command's (`wasmsign2 keygen`, `sign`, `verify`).
//!
//! A secret key never leaves its file: it is written with mode 0600, refused when the file
//! exists already, and no error or log line shows its bytes.

use std::io::Write;
use std::path::{Path, PathBuf};

use shared_folder_runtime::trust::key_id;
use wasmsign2::{KeyPair, Module, SecretKey};

/// A key file or component that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("{0} exists already: a key is never overwritten")]
    Exists(PathBuf),
    #[error("cannot write {file}: {reason}")]
    Write { file: PathBuf, reason: String },
    #[error("cannot read {file}: {reason}")]
    Read { file: PathBuf, reason: String },
    #[error("{0} is not an Ed25519 secret key (the .key file of `keygen`)")]
    NotASecretKey(PathBuf),
    #[error("not a WebAssembly component or module: {0}")]
    NotWasm(String),
    #[error("{0} is signed already; sign the unsigned build")]
    AlreadySigned(String),
}

/// Makes a key pair: the secret key in `secret` (mode 0600), the public key — what hosts
/// list in `[host].trusted_keys` — in `public`. Returns the key's id.
pub fn keygen(secret: &Path, public: &Path) -> Result<String, SigningError> {
    for file in [secret, public] {
        if file.exists() {
            return Err(SigningError::Exists(file.to_owned()));
        }
    }
    let pair = KeyPair::generate();
    write_new(secret, &pair.sk.to_bytes(), 0o600)?;
    write_new(public, &pair.pk.to_bytes(), 0o644)?;
    Ok(key_id(&pair.pk))
}

/// A signed component.
pub struct Signed {
    /// The component: with its signature section first, or unchanged when detached.
    pub component: Vec<u8>,
    /// The detached signature, when asked for.
    pub signature: Option<Vec<u8>>,
    /// The id of the key that signed.
    pub key_id: String,
}

/// Signs `component` with the secret key in `secret`: the signature embedded in a custom
/// section, or `detached`.
pub fn sign(
    component: &[u8],
    name: &str,
    secret: &Path,
    detached: bool,
) -> Result<Signed, SigningError> {
    let bytes = std::fs::read(secret).map_err(|e| SigningError::Read {
        file: secret.to_owned(),
        reason: e.kind().to_string(),
    })?;
    let key =
        SecretKey::from_any(&bytes).map_err(|_| SigningError::NotASecretKey(secret.to_owned()))?;
    let public = wasmsign2::PublicKey {
        pk: key.sk.public_key(),
        key_id: None,
    }
    .attach_default_key_id();
    let module = Module::deserialize(&mut &component[..])
        .map_err(|e| SigningError::NotWasm(e.to_string()))?;
    if module
        .sections
        .first()
        .is_some_and(wasmsign2::Section::is_signature_header)
    {
        return Err(SigningError::AlreadySigned(name.to_owned()));
    }
    let (module, signature) = key
        .sign_multi(module, public.key_id(), detached, false)
        .map_err(|e| SigningError::NotWasm(e.to_string()))?;
    let mut out = Vec::with_capacity(component.len() + 128);
    module
        .serialize(&mut out)
        .map_err(|e| SigningError::NotWasm(e.to_string()))?;
    Ok(Signed {
        component: out,
        signature: detached.then_some(signature),
        key_id: key_id(&public),
    })
}

/// Writes a new file with `mode` (on Unix), refusing one that exists.
pub fn write_new(file: &Path, bytes: &[u8], mode: u32) -> Result<(), SigningError> {
    let failed = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            SigningError::Exists(file.to_owned())
        } else {
            SigningError::Write {
                file: file.to_owned(),
                reason: e.to_string(),
            }
        }
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut out = options.open(file).map_err(failed)?;
    out.write_all(bytes).map_err(failed)?;
    out.sync_all().map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared_folder_runtime::trust::{Refusal, TrustedKeys, Verdict, verify};

    #[test]
    fn a_key_made_by_keygen_signs_what_its_public_key_verifies() {
        let dir = tempfile::tempdir().expect("a folder");
        let (secret, public) = (dir.path().join("a.key"), dir.path().join("a.pub"));
        let id = keygen(&secret, &public).expect("keys");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&secret)
                .expect("the key")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(
            keygen(&secret, &public),
            Err(SigningError::Exists(_))
        ));
        let keys = TrustedKeys::from_files(&[&public]).expect("the public key");
        let component = shared_folder_runtime::NEXTCLOUD_PROVIDER;
        let signed = sign(component, "nextcloud", &secret, false).expect("signed");
        assert_eq!(signed.key_id, id);
        assert_eq!(
            verify(&signed.component, None, Some(&keys), None),
            Ok(Verdict::Signed { key_ids: vec![id] })
        );
        assert!(matches!(
            sign(&signed.component, "it", &secret, false),
            Err(SigningError::AlreadySigned(_))
        ));
        let detached = sign(component, "nextcloud", &secret, true).expect("signed");
        assert_eq!(detached.component, component);
        let signature = detached.signature.expect("a detached signature");
        assert!(verify(component, Some(&signature), Some(&keys), None).is_ok());
        assert_eq!(
            verify(component, None, Some(&keys), None),
            Err(Refusal::Unsigned)
        );
    }

    #[test]
    fn a_public_key_is_no_secret_key() {
        let dir = tempfile::tempdir().expect("a folder");
        let (secret, public) = (dir.path().join("a.key"), dir.path().join("a.pub"));
        keygen(&secret, &public).expect("keys");
        let error = sign(b"\0asm\x0d\0\x01\0", "it", &public, false)
            .err()
            .expect("refused");
        assert!(
            error.to_string().contains("not an Ed25519 secret key"),
            "{error}"
        );
    }
}
