//! The HTTP client that carries providers' requests to the storage: one pool of keep-alive
//! connections shared by all calls (and kept across provider swaps), `TCP_NODELAY` on every
//! socket, and TLS that trusts the system's certificate store plus an optional CA bundle —
//! so an on-premises NextCloud with its own CA is reachable.
//!
//! wasmtime's stock sender opens a new TCP (and TLS) connection for every request and trusts
//! only a bundled copy of the web PKI roots; this replaces it.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use wasmtime_wasi_http::{Error as HttpError, WasiBody};

/// How long an idle connection stays in the pool.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The trust settings could not be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TlsError {
    /// The CA bundle could not be read.
    #[error("[host].ca_bundle: cannot read {path}: {reason}")]
    Bundle {
        /// The bundle's file.
        path: PathBuf,
        /// Why it could not be read.
        reason: String,
    },
    /// The CA bundle holds no certificate rustls can use.
    #[error("[host].ca_bundle: {path} holds no usable certificate")]
    EmptyBundle {
        /// The bundle's file.
        path: PathBuf,
    },
    /// rustls refused the set-up.
    #[error("TLS set-up failed: {0}")]
    Setup(String),
}

/// How the client connects to the storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionSettings {
    /// PEM file with more CA certificates (a private CA), besides the system's store.
    pub ca_bundle: Option<PathBuf>,
    /// Keep connections open for later requests. Off, every request opens its own (and does
    /// its own TLS handshake), as wasmtime's stock sender does: for comparison, or for a
    /// storage behind a proxy that mishandles idle connections.
    pub reuse: bool,
    /// Keep the storage's session cookies, so that its password check is paid once per
    /// session rather than per request (see `outbound::Session`). Off: every request is
    /// authenticated by its password alone.
    pub session: bool,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        ConnectionSettings {
            ca_bundle: None,
            reuse: true,
            session: true,
        }
    }
}

/// The pooled client.
#[derive(Clone)]
pub struct Connections {
    client: Client<HttpsConnector<HttpConnector>, WasiBody>,
}

impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connections").finish_non_exhaustive()
    }
}

impl Connections {
    /// A pool trusting the system's roots and `settings.ca_bundle`, connecting within
    /// `connect_timeout`.
    pub fn new(settings: &ConnectionSettings, connect_timeout: Duration) -> Result<Self, TlsError> {
        let tls = tls_config(settings.ca_bundle.as_deref())?;
        let mut tcp = HttpConnector::new();
        // Without it, a request written in two parts waits ~40 ms for the peer's delayed ACK.
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(connect_timeout));
        tcp.enforce_http(false);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        let mut builder = Client::builder(TokioExecutor::new());
        builder
            .pool_idle_timeout(IDLE_TIMEOUT)
            .pool_timer(hyper_util::rt::TokioTimer::new());
        if !settings.reuse {
            builder.pool_max_idle_per_host(0);
        }
        let client = builder.build(connector);
        Ok(Connections { client })
    }

    /// Sends `request` (an absolute URI) on a pooled connection; the answer's body fails with
    /// `ConnectionReadTimeout` when no data comes for `between_bytes`.
    pub async fn send(
        &self,
        request: http::Request<WasiBody>,
        between_bytes: Duration,
    ) -> Result<http::Response<WasiBody>, HttpError> {
        let response = self.client.request(request).await.map_err(request_error)?;
        Ok(response.map(|incoming| {
            BetweenBytes {
                incoming,
                limit: between_bytes,
                timer: Box::pin(tokio::time::sleep(between_bytes)),
            }
            .boxed_unsync()
        }))
    }
}

/// The TLS set-up of the host's clients: the system's trusted roots plus `bundle`'s, with
/// rustls' safe defaults (the host's database connection uses it too).
pub fn tls_config(bundle: Option<&Path>) -> Result<rustls::ClientConfig, TlsError> {
    let roots = roots(bundle)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Setup(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The system's trusted roots, plus the bundle's.
fn roots(bundle: Option<&Path>) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for error in &native.errors {
        tracing::warn!(%error, "a system certificate could not be loaded");
    }
    let (added, _ignored) = roots.add_parsable_certificates(native.certs);
    if let Some(path) = bundle {
        let unreadable = |reason: String| TlsError::Bundle {
            path: path.to_owned(),
            reason,
        };
        let certificates = CertificateDer::pem_file_iter(path)
            .map_err(|e| unreadable(e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| unreadable(e.to_string()))?;
        let (bundled, _) = roots.add_parsable_certificates(certificates);
        if bundled == 0 {
            return Err(TlsError::EmptyBundle {
                path: path.to_owned(),
            });
        }
        tracing::info!(bundled, path = %path.display(), "CA bundle added to the trusted roots");
    }
    if added == 0 && bundle.is_none() {
        tracing::warn!("no system certificates found: https to the storage will fail");
    }
    Ok(roots)
}

/// The wasi-http error for a failed request.
fn request_error(error: hyper_util::client::legacy::Error) -> HttpError {
    use std::error::Error as _;
    if let Some(tls) = error.source().and_then(tls_failure) {
        // e.g. "invalid peer certificate: UnknownIssuer": what an operator of a NextCloud on
        // a private CA needs to read (see `[host].ca_bundle`).
        tracing::warn!(reason = %tls, "TLS handshake with the storage failed");
        return match tls {
            rustls::Error::InvalidCertificate(_) => HttpError::TlsCertificateError,
            _ => HttpError::TlsProtocolError,
        };
    }
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::ConnectionRefused => HttpError::ConnectionRefused,
                std::io::ErrorKind::TimedOut => HttpError::ConnectionTimeout,
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe => {
                    HttpError::ConnectionTerminated
                }
                _ if error.is_connect() => HttpError::ConnectionRefused,
                _ => HttpError::ConnectionTerminated,
            };
        }
        if let Some(hyper) = cause.downcast_ref::<hyper::Error>() {
            if hyper.is_incomplete_message() || hyper.is_canceled() {
                return HttpError::HttpResponseIncomplete;
            }
            return HttpError::HttpProtocolError;
        }
        source = cause.source();
    }
    if error.is_connect() {
        HttpError::ConnectionRefused
    } else {
        HttpError::HttpProtocolError
    }
}

/// The TLS error somewhere in `cause`'s chain. An `io::Error` wrapping another error hides it
/// from `source()` (it returns the wrapped error's source), so its inner error is looked at too.
fn tls_failure<'a>(cause: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let inner = cause
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
        .map(|inner| inner as &(dyn std::error::Error + 'static));
    inner
        .and_then(tls_failure)
        .or_else(|| cause.source().and_then(tls_failure))
}

/// An answer's body that fails when the storage stops sending for too long.
struct BetweenBytes {
    incoming: hyper::body::Incoming,
    limit: Duration,
    timer: Pin<Box<tokio::time::Sleep>>,
}

impl http_body::Body for BetweenBytes {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, HttpError>>> {
        match Pin::new(&mut self.incoming).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let deadline = tokio::time::Instant::now() + self.limit;
                self.timer.as_mut().reset(deadline);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(if error.is_timeout() {
                HttpError::HttpResponseTimeout
            } else {
                HttpError::HttpResponseIncomplete
            }))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                ready!(self.timer.as_mut().poll(cx));
                Poll::Ready(Some(Err(HttpError::ConnectionReadTimeout)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.incoming.size_hint()
    }
}
