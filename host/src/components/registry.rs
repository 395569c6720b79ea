//! Components from an OCI registry, in the layout `wkg oci push` writes for a Wasm component
//! (the CNCF Wasm OCI artifact: an image manifest whose config is
//! `application/vnd.wasm.config.v0+json` and whose one layer is `application/wasm`), through
//! `oci-client`; pushed in the same layout (`oci-wasm`).
//!
//! What a pull trusts of the registry is nothing but the bytes' digests: the manifest must be
//! a Wasm component's, its one layer at most `[host].component_limit_mib` (refused from the
//! manifest before a byte of it is fetched, and cut off while fetching), and the layer's
//! bytes must hash to the digest the manifest names. The client reaches the registry's
//! `host:port` and the `registry_hosts` listed, nothing else: it goes through a gate
//! (`gate.rs`), so a redirect to another host is refused, not followed. Credentials come
//! from a file and appear in no log or error.
//!
//! Which source applies, admission and the cache are the parent's (`mod.rs`, `cache.rs`):
//! this module only speaks to a registry.

use std::path::Path;
use std::pin::Pin as Pinned;
use std::task::{Context, Poll};

use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::manifest::{OciDescriptor, OciManifest};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use oci_wasm::{WASM_LAYER_MEDIA_TYPE, WASM_MANIFEST_CONFIG_MEDIA_TYPE, WASM_MANIFEST_MEDIA_TYPE};
use shared_folder_runtime::{Secret, content_digest};

use super::gate::Gate;

/// How long the registry may take to accept a connection, and between bytes of an answer.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// `oci://REGISTRY/REPOSITORY:TAG` or `oci://REGISTRY/REPOSITORY@sha256:…`.
#[derive(Clone)]
pub struct RegistryReference {
    text: String,
    reference: Reference,
}

impl std::fmt::Debug for RegistryReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::fmt::Display for RegistryReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl RegistryReference {
    /// Reads `oci://REGISTRY/REPOSITORY:TAG` (or `@sha256:…`); the registry must be named
    /// (a host with a dot or a port, or `localhost`), never implied.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let rest = text
            .strip_prefix("oci://")
            .ok_or("must be an oci:// reference: oci://REGISTRY/REPOSITORY:TAG or @sha256:…")?;
        let named = rest.split('/').next().unwrap_or_default();
        let reference =
            Reference::try_from(rest).map_err(|e| format!("is not a registry reference ({e})"))?;
        if reference.registry() != named || !rest.contains('/') {
            return Err(
                "must name its registry: oci://HOST[:PORT]/REPOSITORY:TAG (a host with a dot \
                 or a port, or localhost)"
                    .into(),
            );
        }
        if reference.tag().is_none() && reference.digest().is_none() {
            return Err("must name a tag (:TAG) or a digest (@sha256:…)".into());
        }
        Ok(RegistryReference {
            text: text.to_owned(),
            reference,
        })
    }

    /// Whether it names a digest: content that cannot change, so nothing to follow.
    pub fn is_digest(&self) -> bool {
        self.reference.digest().is_some()
    }

    /// The registry's `host:port` (443 when the reference names no port): where the
    /// client connects (`docker.io` is `index.docker.io`).
    pub fn authority(&self) -> String {
        with_port(self.reference.resolve_registry())
    }

    /// The same repository at the manifest `digest`: what a tag named when it was resolved,
    /// pulled as such even if the tag moves on meanwhile.
    pub fn at(&self, digest: &str) -> RegistryReference {
        RegistryReference {
            text: self.text.clone(),
            reference: self.reference.clone_with_digest(digest.to_owned()),
        }
    }
}

/// Checks a `registry_hosts` entry: `host` or `host:port` (an IPv6 address in brackets),
/// nothing more; returns it with its port (443 by default).
pub fn registry_host(text: &str) -> Result<String, String> {
    let text = text.trim();
    let plain = !text.is_empty()
        && !text.contains(['/', '@', '?', '#', ' '])
        && !text.contains("://")
        && (text.starts_with('[') || text.matches(':').count() <= 1);
    if !plain {
        return Err(format!(
            "{text:?} is not a host: write host or host:port (an IPv6 address in brackets), no scheme or path"
        ));
    }
    Ok(with_port(text))
}

/// `host:port`, 443 when none is given.
fn with_port(host: &str) -> String {
    let has_port = match host.rsplit_once(':') {
        // An IPv6 address in brackets has colons of its own.
        Some((before, port)) => {
            !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && (!before.contains(':') || before.ends_with(']'))
        }
        None => false,
    };
    if has_port {
        host.to_owned()
    } else {
        format!("{host}:443")
    }
}

/// A registry's user and password, from `registry_credentials_file` (`user:password` on one
/// line). The password is never shown.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistryCredentials {
    user: String,
    password: Secret,
}

impl std::fmt::Debug for RegistryCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryCredentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl RegistryCredentials {
    /// Reads `user:password` from `file` (a final newline is not part of the password).
    pub fn read(file: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("the file it names cannot be read: {}", e.kind()))?;
        let line = text.trim_end_matches(['\n', '\r']);
        if line.contains(['\n', '\r']) {
            return Err("the file must hold user:password on one line, and nothing else".into());
        }
        match line.split_once(':') {
            Some((user, password)) if !user.is_empty() && !password.is_empty() => {
                Ok(RegistryCredentials {
                    user: user.to_owned(),
                    password: Secret::new(password.to_owned()),
                })
            }
            _ => Err("the file must hold user:password on one line".into()),
        }
    }

    fn auth(&self) -> RegistryAuth {
        RegistryAuth::Basic(self.user.clone(), self.password.expose().to_owned())
    }
}

/// Why a registry's answer was not used. Nothing of it is kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// Not reached, or an answer that may not be the registry's last word (a 5xx, a 429, a
    /// connection broken mid-answer): tried again later, what serves keeps serving.
    #[error("the registry cannot be reached: {0}")]
    Unreachable(String),
    #[error(
        "the registry's certificate is not trusted ({0}): give its CA in [host].ca_bundle \
         (push: --ca-bundle)"
    )]
    Certificate(String),
    #[error("the registry refused the credentials (registry_credentials_file)")]
    Denied,
    #[error("the registry has no such tag or digest")]
    NotFound,
    #[error(
        "not a Wasm component's artifact: {0} (expected an image manifest with config \
         {WASM_MANIFEST_CONFIG_MEDIA_TYPE} and one {WASM_LAYER_MEDIA_TYPE} layer, as `wkg oci push` writes)"
    )]
    Layout(String),
    #[error(
        "its layer is {size} bytes, above the limit of {limit} bytes ([host].component_limit_mib)"
    )]
    TooLarge { size: u64, limit: u64 },
    #[error("its layer's bytes are not those the manifest names ({0}): truncated or changed")]
    Digest(String),
    #[error(
        "the registry sent the client to {0}, which is neither the registry nor one of its \
         registry_hosts: refused"
    )]
    OtherHost(String),
    #[error("the registry answered what cannot be used: {0}")]
    Protocol(String),
}

impl FetchError {
    /// One word for the refusals metric: `None` when the registry was not reached (that is
    /// no refusal of a component).
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            FetchError::Unreachable(_)
            | FetchError::Certificate(_)
            | FetchError::Denied
            | FetchError::NotFound => None,
            FetchError::Layout(_) => Some("media_type"),
            FetchError::TooLarge { .. } => Some("too_large"),
            FetchError::Digest(_) => Some("blob_digest"),
            FetchError::OtherHost(_) => Some("other_host"),
            FetchError::Protocol(_) => Some("protocol"),
        }
    }
}

/// A component's bytes as a registry gave them, checked against their manifest.
#[derive(Debug, Clone)]
pub struct Pulled {
    pub bytes: Vec<u8>,
    /// The manifest's digest (`sha256:…`).
    pub manifest: String,
}

/// A client of one registry, confined to it. No `Debug`: `auth` holds the password.
pub struct Registry {
    client: Client,
    auth: RegistryAuth,
    gate: Gate,
    limit: u64,
}

impl Registry {
    /// A client for `reference`'s registry: the CAs of `ca_bundle` trusted besides the
    /// system's, `credentials` if any, reaching only the registry and `other_hosts`.
    pub async fn connect(
        reference: &RegistryReference,
        ca_bundle: Option<&Path>,
        credentials: Option<&RegistryCredentials>,
        other_hosts: &[String],
        limit: u64,
    ) -> Result<Registry, FetchError> {
        // reqwest's rustls takes the process's provider; the host uses ring everywhere.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut allowed = vec![reference.authority()];
        allowed.extend(other_hosts.iter().map(|h| with_port(h)));
        let gate = Gate::start(allowed)
            .await
            .map_err(|e| FetchError::Unreachable(format!("cannot start the client's gate: {e}")))?;
        let extra_root_certificates = match ca_bundle {
            Some(file) => vec![Certificate {
                encoding: CertificateEncoding::Pem,
                data: std::fs::read(file).map_err(|e| {
                    FetchError::Unreachable(format!("cannot read {}: {e}", file.display()))
                })?,
            }],
            None => Vec::new(),
        };
        let client = Client::try_from(ClientConfig {
            protocol: ClientProtocol::Https,
            extra_root_certificates,
            https_proxy: Some(gate.proxy_url()),
            http_proxy: Some(gate.proxy_url()),
            connect_timeout: Some(CONNECT_TIMEOUT),
            read_timeout: Some(READ_TIMEOUT),
            ..ClientConfig::default()
        })
        .map_err(|e| FetchError::Unreachable(format!("cannot set up the client: {e}")))?;
        Ok(Registry {
            client,
            auth: credentials.map_or(RegistryAuth::Anonymous, RegistryCredentials::auth),
            gate,
            limit,
        })
    }

    /// The digest of the manifest `reference` names now.
    pub async fn resolve(&self, reference: &RegistryReference) -> Result<String, FetchError> {
        self.gate.forget();
        self.client
            .fetch_manifest_digest(&reference.reference, &self.auth)
            .await
            .map_err(|e| self.classify(e))
    }

    /// Pulls the component `reference` names, checking the manifest before the layer and the
    /// layer's size and digest while and after it is read.
    pub async fn pull(&self, reference: &RegistryReference) -> Result<Pulled, FetchError> {
        self.gate.forget();
        let (manifest, digest) = self
            .client
            .pull_manifest(&reference.reference, &self.auth)
            .await
            .map_err(|e| self.classify(e))?;
        let layer = component_layer(&manifest)?;
        let size = u64::try_from(layer.size).unwrap_or(u64::MAX);
        if size > self.limit {
            return Err(FetchError::TooLarge {
                size,
                limit: self.limit,
            });
        }
        // Not a byte more than the manifest said: a registry that sends more is cut off.
        let mut sink = Capped {
            bytes: Vec::with_capacity(usize::try_from(size).unwrap_or(0)),
            limit: size,
        };
        self.client
            .pull_blob(&reference.reference, layer, &mut sink)
            .await
            .map_err(|e| match e {
                OciDistributionError::IoError(io)
                    if io.kind() == std::io::ErrorKind::FileTooLarge =>
                {
                    FetchError::TooLarge {
                        size: sink.bytes.len() as u64,
                        limit: self.limit,
                    }
                }
                other => self.classify(other),
            })?;
        let bytes = sink.bytes;
        let actual = format!("sha256:{}", content_digest(&bytes));
        if actual != layer.digest || bytes.len() as u64 != size {
            return Err(FetchError::Digest(format!(
                "{} bytes with digest {actual}; the manifest names {size} bytes with digest {}",
                bytes.len(),
                layer.digest
            )));
        }
        Ok(Pulled {
            bytes,
            manifest: digest,
        })
    }

    /// Pushes `component` as `reference`, in the layout `wkg oci push` writes; returns the
    /// manifest's digest.
    pub async fn push(
        &self,
        reference: &RegistryReference,
        component: &[u8],
    ) -> Result<String, FetchError> {
        self.gate.forget();
        let (config, layer) = oci_wasm::WasmConfig::from_raw_component(component.to_vec(), None)
            .map_err(|e| FetchError::Layout(format!("not a component to push: {e}")))?;
        let client = oci_wasm::WasmClient::new(self.client.clone());
        let pushed = client
            .push(&reference.reference, &self.auth, layer, config, None)
            .await
            .map_err(|e| match e.downcast::<OciDistributionError>() {
                Ok(e) => self.classify(e),
                Err(e) => FetchError::Protocol(e.to_string()),
            })?;
        let manifest = pushed
            .manifest_url
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        Ok(manifest)
    }

    /// What an error of the client means; a host the gate refused first. What may pass (a
    /// 5xx, a 429, a connection lost or broken mid-answer) is `Unreachable`: tried again,
    /// never counted as a refused component.
    fn classify(&self, error: OciDistributionError) -> FetchError {
        use oci_client::errors::OciErrorCode as Code;
        if let Some(host) = self.gate.refused() {
            return FetchError::OtherHost(host);
        }
        match error {
            OciDistributionError::AuthenticationFailure(_)
            | OciDistributionError::UnauthorizedError { .. } => FetchError::Denied,
            OciDistributionError::ImageManifestNotFoundError(_) => FetchError::NotFound,
            OciDistributionError::ServerError { code: 404, .. } => FetchError::NotFound,
            OciDistributionError::ServerError {
                code: 401 | 403, ..
            } => FetchError::Denied,
            OciDistributionError::ServerError { code, .. } if code == 429 || code >= 500 => {
                FetchError::Unreachable(format!("it answered {code}"))
            }
            OciDistributionError::RegistryError { envelope, .. } => {
                let codes: Vec<&Code> = envelope.errors.iter().map(|e| &e.code).collect();
                let any = |wanted: &[Code]| codes.iter().any(|c| wanted.contains(c));
                if any(&[
                    Code::ManifestUnknown,
                    Code::NameUnknown,
                    Code::BlobUnknown,
                    Code::NotFound,
                ]) {
                    FetchError::NotFound
                } else if any(&[Code::Unauthorized, Code::Denied]) {
                    FetchError::Denied
                } else if any(&[Code::Toomanyrequests]) || codes.is_empty() {
                    FetchError::Unreachable("it answered an error that may pass".into())
                } else {
                    FetchError::Protocol(format!("the registry answered {codes:?}"))
                }
            }
            OciDistributionError::DigestError(e) => FetchError::Digest(e.to_string()),
            OciDistributionError::RequestError(e) if certificate_problem(&e).is_some() => {
                FetchError::Certificate(certificate_problem(&e).unwrap_or_default())
            }
            OciDistributionError::RequestError(e) => match e.status() {
                Some(status) if status.as_u16() == 404 => FetchError::NotFound,
                Some(status) if matches!(status.as_u16(), 401 | 403) => FetchError::Denied,
                Some(status) if status.is_client_error() && status.as_u16() != 429 => {
                    FetchError::Protocol(format!("it answered {status}"))
                }
                // 5xx, 429, and no answer at all (connect, timeout, broken off mid-body).
                _ => FetchError::Unreachable(e.to_string()),
            },
            OciDistributionError::IoError(e) => FetchError::Unreachable(e.to_string()),
            OciDistributionError::ManifestParsingError(e) => FetchError::Layout(e),
            OciDistributionError::UnsupportedMediaTypeError(e)
            | OciDistributionError::IncompatibleLayerMediaTypeError(e) => FetchError::Layout(e),
            OciDistributionError::ImageIndexParsingNoPlatformResolverError => {
                FetchError::Layout("an image index, not an image manifest".into())
            }
            other => FetchError::Protocol(other.to_string()),
        }
    }
}

/// The TLS refusal of the registry's certificate in `error`'s chain, if that is what failed
/// (the client says only that the request could not be sent).
fn certificate_problem(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut next = Some(error);
    while let Some(error) = next {
        let tls = error.downcast_ref::<rustls::Error>().or_else(|| {
            error
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if let Some(rustls::Error::InvalidCertificate(why)) = tls {
            return Some(format!("{why:?}"));
        }
        next = error.source();
    }
    None
}

/// The one `application/wasm` layer of a Wasm component's manifest.
fn component_layer(manifest: &OciManifest) -> Result<&OciDescriptor, FetchError> {
    let OciManifest::Image(image) = manifest else {
        return Err(FetchError::Layout(
            "an image index, not an image manifest".into(),
        ));
    };
    if let Some(media_type) = &image.media_type
        && media_type != WASM_MANIFEST_MEDIA_TYPE
    {
        return Err(FetchError::Layout(format!(
            "manifest media type {media_type}"
        )));
    }
    if image.config.media_type != WASM_MANIFEST_CONFIG_MEDIA_TYPE {
        return Err(FetchError::Layout(format!(
            "config media type {}",
            image.config.media_type
        )));
    }
    match image.layers.as_slice() {
        [layer] if layer.media_type == WASM_LAYER_MEDIA_TYPE => Ok(layer),
        [layer] => Err(FetchError::Layout(format!(
            "layer media type {}",
            layer.media_type
        ))),
        layers => Err(FetchError::Layout(format!("{} layers", layers.len()))),
    }
}

/// Where the bytes of a layer go while they arrive: refused past `limit`.
struct Capped {
    bytes: Vec<u8>,
    limit: u64,
}

impl tokio::io::AsyncWrite for Capped {
    fn poll_write(
        mut self: Pinned<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if (self.bytes.len() + buf.len()) as u64 > self.limit {
            return Poll::Ready(Err(std::io::Error::from(std::io::ErrorKind::FileTooLarge)));
        }
        self.bytes.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pinned<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pinned<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_name_their_registry_and_a_tag_or_digest() {
        let tag = RegistryReference::parse("oci://registry.example.com/providers/acme:1.2")
            .expect("a tag");
        assert_eq!(tag.authority(), "registry.example.com:443");
        assert!(!tag.is_digest());
        let digest = format!("oci://127.0.0.1:5000/acme@sha256:{}", "a".repeat(64));
        let digest = RegistryReference::parse(&digest).expect("a digest");
        assert_eq!(digest.authority(), "127.0.0.1:5000");
        assert!(digest.is_digest());
        assert_eq!(
            registry_host("auth.example.com").as_deref(),
            Ok("auth.example.com:443")
        );
        assert_eq!(registry_host("[::1]:5000").as_deref(), Ok("[::1]:5000"));
        for wrong in ["https://auth.example.com", "::1", "host/path", ""] {
            assert!(registry_host(wrong).is_err(), "{wrong}");
        }
        for wrong in [
            "registry.example.com/acme:1",
            "oci://acme:1",
            "oci://registry/acme:1",
            "oci://registry.example.com/acme@sha256:abc",
        ] {
            assert!(RegistryReference::parse(wrong).is_err(), "{wrong}");
        }
    }

    #[test]
    fn credentials_are_read_whole_and_never_shown() {
        let dir = tempfile::tempdir().expect("a folder");
        let file = dir.path().join("registry");
        std::fs::write(&file, "robot:s3cret-Passw0rd\n").expect("written");
        let credentials = RegistryCredentials::read(&file).expect("read");
        assert_eq!(credentials.user, "robot");
        assert_eq!(credentials.password.expose(), "s3cret-Passw0rd");
        assert!(!format!("{credentials:?}").contains("s3cret"));
        std::fs::write(&file, "robot:one\ntwo\n").expect("written");
        assert!(RegistryCredentials::read(&file).is_err());
        std::fs::write(&file, "no-colon\n").expect("written");
        let refused = RegistryCredentials::read(&file).expect_err("refused");
        assert!(!refused.contains("no-colon"), "{refused}");
    }
}
