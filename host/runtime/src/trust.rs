//! Whether a component may serve: signed by a trusted key, and the one pinned.
//!
//! Every request a provider makes to the storage carries the account's credentials (added by
//! the host), so a component acts with the account's full power. Before a component from
//! outside the binary is compiled or swapped in, its host asks [`verify`]:
//!
//! - **signature** — the WebAssembly signature convention `wasmsign2` implements: an Ed25519
//!   signature over the component's sections, in a `signature` custom section that comes
//!   first, or detached in a file of its own. With trusted keys given, a component must carry
//!   a valid signature by one of them; several keys may be trusted at once (rotation).
//! - **pin** — a SHA-256 of the whole file (`sha256:<64 hex digits>`, as OCI registries name
//!   content): the component must be exactly that file, signature section included.
//!
//! A refusal says which of them failed ([`Refusal`]), never guessing: an unsigned component,
//! one signed by a key that is not trusted, and one whose bytes changed after signing (or
//! that carries a signature taken from other bytes) are told apart by the hashes the
//! signature covers.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use crate::engine::hex;
use sha2::{Digest as _, Sha256};
use wasmsign2::{Module, PublicKey, PublicKeySet, Section, SectionLike, WSError};

/// The public keys a component's signature must come from.
#[derive(Clone)]
pub struct TrustedKeys {
    set: PublicKeySet,
}

impl fmt::Debug for TrustedKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<String> = self.set.items().iter().map(key_id).collect();
        f.debug_struct("TrustedKeys")
            .field("key_ids", &ids)
            .finish()
    }
}

/// A key file that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {problem}")]
pub struct KeyFileError {
    /// The file, as configured.
    pub file: String,
    /// What is wrong with it.
    pub problem: String,
}

impl TrustedKeys {
    /// Reads one public key per file, in any form `wasmsign2` reads (its own raw form as
    /// `shared-folder-host keygen` and `wasmsign2 keygen` write it, PEM, DER, or an OpenSSH
    /// `ssh-ed25519` line).
    pub fn from_files<P: AsRef<Path>>(files: &[P]) -> Result<Self, KeyFileError> {
        let mut set = PublicKeySet::empty();
        for file in files {
            let file = file.as_ref();
            let failed = |problem: String| KeyFileError {
                file: file.display().to_string(),
                problem,
            };
            let bytes = std::fs::read(file).map_err(|e| failed(e.to_string()))?;
            let key = PublicKey::from_any(&bytes).map_err(|_| {
                failed(
                    "not an Ed25519 public key (the .pub file of `shared-folder-host keygen` \
                     or `wasmsign2 keygen`, PEM, DER or ssh-ed25519)"
                        .into(),
                )
            })?;
            set.insert(key)
                .map_err(|_| failed("the same key is given twice".into()))?;
        }
        Ok(TrustedKeys { set })
    }

    /// The keys from their bytes, in any form `wasmsign2` reads.
    pub fn from_keys(keys: &[&[u8]]) -> Result<Self, WSError> {
        let mut set = PublicKeySet::empty();
        for key in keys {
            set.insert(PublicKey::from_any(key)?)?;
        }
        Ok(TrustedKeys { set })
    }

    /// How many keys are trusted.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// Whether no key is trusted.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

/// The short id a key is known by in logs and refusals: `wasmsign2`'s default key id (an
/// HMAC of the public key, 12 bytes), in hex. Never a secret.
pub fn key_id(key: &PublicKey) -> String {
    let with_id = key.clone().attach_default_key_id();
    with_id.key_id().map(|id| hex(id)).unwrap_or_default()
}

/// A SHA-256 a component is pinned to: `sha256:` and 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pin(String);

impl Pin {
    /// Reads `sha256:<64 hex digits>` (upper-case digits are taken as lower-case).
    pub fn parse(text: &str) -> Result<Pin, String> {
        let digits = text
            .trim()
            .strip_prefix("sha256:")
            .ok_or("is not a SHA-256 digest: write sha256:<64 hex digits>")?;
        if digits.len() != 64 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("is not a SHA-256 digest: sha256: takes 64 hex digits".into());
        }
        Ok(Pin(format!("sha256:{}", digits.to_ascii_lowercase())))
    }

    /// The pin a file's bytes have.
    pub fn of(bytes: &[u8]) -> Pin {
        Pin(format!("sha256:{}", hex(&Sha256::digest(bytes))))
    }

    /// `sha256:<hex>`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What [`verify`] found a component to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Signed by the trusted keys with these ids.
    Signed {
        /// [`key_id`]s, sorted.
        key_ids: Vec<String>,
    },
    /// No keys are trusted: nothing was checked but the pin.
    Unverified,
}

/// Why a component may not serve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The file is not the one pinned.
    #[error("its digest is {actual}, not the pinned {pinned}")]
    DigestMismatch {
        /// What the configuration pins.
        pinned: Pin,
        /// What the file is.
        actual: Pin,
    },
    /// No signature, while keys are trusted.
    #[error("it is not signed, and [host].trusted_keys requires a signature by one of its keys")]
    Unsigned,
    /// A genuine signature over these bytes, by keys that are not trusted.
    #[error(
        "it is signed, but by no trusted key{}",
        if .key_ids.is_empty() { String::new() } else { format!(" (signed by key id {})", .key_ids.join(", ")) }
    )]
    UntrustedSigner {
        /// The key ids the signatures name (signatures need not name one).
        key_ids: Vec<String>,
    },
    /// The signature covers other bytes.
    #[error(
        "its bytes are not the bytes that were signed: changed after signing, or a signature \
         taken from other bytes"
    )]
    Altered,
    /// The signature over these bytes names a trusted key, yet that key did not make it.
    #[error("its signature names a trusted key but does not verify: forged or damaged")]
    Forged,
    /// The signature section (or the component around it) cannot be read.
    #[error("its signature cannot be read: {0}")]
    Unreadable(String),
}

impl Refusal {
    /// One word per refusal, for a metric's label.
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::DigestMismatch { .. } => "digest_mismatch",
            Refusal::Unsigned => "unsigned",
            Refusal::UntrustedSigner { .. } => "untrusted_signer",
            Refusal::Altered => "altered",
            Refusal::Forged => "forged",
            Refusal::Unreadable(_) => "unreadable_signature",
        }
    }
}

/// Whether `component` carries an embedded signature (whoever made it).
pub fn is_signed(component: &[u8]) -> bool {
    Module::init_from_reader(&mut &component[..])
        .and_then(Module::iterate)
        .ok()
        .and_then(|mut sections| sections.next())
        .is_some_and(|first| first.is_ok_and(|section| section.is_signature_header()))
}

/// Checks `component` against `pin` (when given), then its signature — embedded, or the
/// `detached` one — against `keys` (when given; `None`: [`Verdict::Unverified`]).
pub fn verify(
    component: &[u8],
    detached: Option<&[u8]>,
    keys: Option<&TrustedKeys>,
    pin: Option<&Pin>,
) -> Result<Verdict, Refusal> {
    if let Some(pinned) = pin {
        let actual = Pin::of(component);
        if actual != *pinned {
            return Err(Refusal::DigestMismatch {
                pinned: pinned.clone(),
                actual,
            });
        }
    }
    let Some(keys) = keys else {
        return Ok(Verdict::Unverified);
    };
    match keys.set.verify(&mut &component[..], detached) {
        Ok(signers) => {
            let mut key_ids: Vec<String> = signers.into_iter().map(key_id).collect();
            key_ids.sort();
            Ok(Verdict::Signed { key_ids })
        }
        Err(WSError::NoSignatures) => Err(Refusal::Unsigned),
        Err(WSError::VerificationFailed) => Err(why_not_verified(component, detached, keys)),
        Err(other) => Err(Refusal::Unreadable(other.to_string())),
    }
}

/// Tells apart why no trusted key verified a signature, from the hashes it covers: when none
/// is this component's, its bytes are not those signed; when the sets that cover it name a
/// trusted key, that key's signature is forged or damaged; otherwise the signature is by a key
/// that is not trusted.
fn why_not_verified(component: &[u8], detached: Option<&[u8]>, keys: &TrustedKeys) -> Refusal {
    let unreadable = |e: WSError| Refusal::Unreadable(e.to_string());
    let module = match Module::deserialize(&mut &component[..]) {
        Ok(module) => module,
        Err(e) => return unreadable(e),
    };
    // An embedded signature covers every section after it; a detached one, every section.
    let (header, covered) = match detached {
        Some(bytes) => (bytes.to_vec(), &module.sections[..]),
        None => match module.sections.split_first() {
            Some((Section::Custom(custom), rest)) if custom.is_signature_header() => {
                (custom.payload().to_vec(), rest)
            }
            _ => return Refusal::Unsigned,
        },
    };
    let data = match wasmsign2::SignatureData::deserialize(&header) {
        Ok(data) => data,
        Err(e) => return unreadable(e),
    };
    let mut hasher = Sha256::new();
    for section in covered {
        if let Err(e) = section.serialize(&mut hasher) {
            return unreadable(e);
        }
    }
    let hash = hasher.finalize().to_vec();
    let covering: Vec<_> = data
        .signed_hashes_set
        .iter()
        .filter(|set| set.hashes.contains(&hash))
        .collect();
    if covering.is_empty() {
        return Refusal::Altered;
    }
    let named: HashSet<String> = covering
        .iter()
        .flat_map(|set| set.signatures.iter())
        .filter_map(|signature| signature.key_id.as_deref().map(hex))
        .collect();
    let trusted: HashSet<String> = keys.set.items().iter().map(key_id).collect();
    if named.iter().any(|id| trusted.contains(id)) {
        return Refusal::Forged;
    }
    let mut key_ids: Vec<String> = named.into_iter().collect();
    key_ids.sort();
    Refusal::UntrustedSigner { key_ids }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmsign2::KeyPair;

    /// The smallest component: the header and nothing else.
    const COMPONENT: &[u8] = &[0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

    fn with_custom_section(name: &str, payload: &[u8]) -> Vec<u8> {
        let mut bytes = COMPONENT.to_vec();
        let mut content = vec![name.len() as u8];
        content.extend_from_slice(name.as_bytes());
        content.extend_from_slice(payload);
        bytes.push(0);
        bytes.push(content.len() as u8);
        bytes.extend_from_slice(&content);
        bytes
    }

    fn signed(pair: &KeyPair, bytes: &[u8]) -> Vec<u8> {
        let module = Module::deserialize(&mut &bytes[..]).expect("a component");
        let id = pair.pk.clone().attach_default_key_id();
        let signed = pair.sk.sign(module, id.key_id()).expect("signed");
        let mut out = Vec::new();
        signed.serialize(&mut out).expect("serialized");
        out
    }

    fn trusting(pairs: &[&KeyPair]) -> TrustedKeys {
        let keys: Vec<Vec<u8>> = pairs.iter().map(|p| p.pk.to_bytes()).collect();
        let keys: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        TrustedKeys::from_keys(&keys).expect("keys")
    }

    #[test]
    fn a_component_signed_by_a_trusted_key_is_accepted_with_its_key_id() {
        let (ours, next) = (KeyPair::generate(), KeyPair::generate());
        let component = signed(&ours, &with_custom_section("x", b"payload"));
        let verdict = verify(&component, None, Some(&trusting(&[&next, &ours])), None);
        assert_eq!(
            verdict,
            Ok(Verdict::Signed {
                key_ids: vec![key_id(&ours.pk)]
            })
        );
    }

    #[test]
    fn each_refusal_names_what_is_wrong() {
        let (ours, theirs) = (KeyPair::generate(), KeyPair::generate());
        let keys = trusting(&[&ours]);
        let plain = with_custom_section("x", b"payload");
        assert_eq!(
            verify(&plain, None, Some(&keys), None),
            Err(Refusal::Unsigned)
        );
        let by_theirs = signed(&theirs, &plain);
        assert_eq!(
            verify(&by_theirs, None, Some(&keys), None),
            Err(Refusal::UntrustedSigner {
                key_ids: vec![key_id(&theirs.pk)]
            })
        );
        // A byte changed after signing.
        let mut changed = signed(&ours, &plain);
        let last = changed.len() - 1;
        changed[last] ^= 1;
        assert_eq!(
            verify(&changed, None, Some(&keys), None),
            Err(Refusal::Altered)
        );
        // Our signature section moved onto other bytes.
        let genuine = signed(&ours, &plain);
        let section = &genuine[COMPONENT.len()..genuine.len() - (plain.len() - COMPONENT.len())];
        let other = with_custom_section("x", b"another");
        let mut grafted = COMPONENT.to_vec();
        grafted.extend_from_slice(section);
        grafted.extend_from_slice(&other[COMPONENT.len()..]);
        assert_eq!(
            verify(&grafted, None, Some(&keys), None),
            Err(Refusal::Altered)
        );
    }

    #[test]
    fn a_signature_naming_a_trusted_key_that_did_not_make_it_is_forged() {
        let (ours, theirs) = (KeyPair::generate(), KeyPair::generate());
        let plain = with_custom_section("x", b"payload");
        // Signed by another key, but under our key's id.
        let module = Module::deserialize(&mut &plain[..]).expect("a component");
        let ours_id = ours.pk.clone().attach_default_key_id();
        let signed = theirs.sk.sign(module, ours_id.key_id()).expect("signed");
        let mut forged = Vec::new();
        signed.serialize(&mut forged).expect("serialized");
        assert_eq!(
            verify(&forged, None, Some(&trusting(&[&ours])), None),
            Err(Refusal::Forged)
        );
    }

    #[test]
    fn a_signature_section_is_seen_whoever_made_it() {
        let plain = with_custom_section("x", b"payload");
        assert!(!is_signed(&plain));
        assert!(is_signed(&signed(&KeyPair::generate(), &plain)));
        assert!(!is_signed(b"not wasm"));
    }

    #[test]
    fn a_pin_is_checked_before_the_signature_and_without_keys() {
        let component = with_custom_section("x", b"payload");
        let pin = Pin::of(&component);
        assert_eq!(
            verify(&component, None, None, Some(&pin)),
            Ok(Verdict::Unverified)
        );
        let other = Pin::of(b"other");
        assert_eq!(
            verify(&component, None, None, Some(&other)),
            Err(Refusal::DigestMismatch {
                pinned: other,
                actual: pin
            })
        );
    }

    #[test]
    fn pins_are_read_strictly() {
        let digest = "a".repeat(64);
        assert_eq!(
            Pin::parse(&format!("sha256:{}", digest.to_uppercase())).map(|p| p.to_string()),
            Ok(format!("sha256:{digest}"))
        );
        assert!(Pin::parse(&digest).is_err());
        assert!(Pin::parse("sha256:abc").is_err());
        assert!(Pin::parse(&format!("sha256:{}", "g".repeat(64))).is_err());
    }

    #[test]
    fn a_detached_signature_verifies_the_unchanged_file() {
        let ours = KeyPair::generate();
        let plain = with_custom_section("x", b"payload");
        let embedded = signed(&ours, &plain);
        // The detached form is the signature section's payload.
        let module = Module::deserialize(&mut &embedded[..]).expect("signed");
        let Some(Section::Custom(header)) = module.sections.first() else {
            panic!("no signature section");
        };
        let detached = header.payload().to_vec();
        let keys = trusting(&[&ours]);
        assert!(matches!(
            verify(&plain, Some(&detached), Some(&keys), None),
            Ok(Verdict::Signed { .. })
        ));
        let other = with_custom_section("x", b"another");
        assert_eq!(
            verify(&other, Some(&detached), Some(&keys), None),
            Err(Refusal::Altered)
        );
    }
}
