//! A real OCI registry for tests, private to the test that starts it: Debian's
//! `docker-registry` (CNCF distribution 2.8) serving TLS on a free loopback port, its storage
//! in a temporary folder, optionally behind HTTP basic authentication. Killed and removed on
//! drop.
//!
//! Why a real registry rather than a mock: what the host needs from a registry (the upload
//! protocol, which media types and manifests it accepts, the digests it checks, the errors it
//! answers) is exactly what a mock would get wrong. The registry starts in well under a second,
//! so each test has one of its own and no state outlives it.
//!
//! Also here: [`RedirectingFront`], a TLS front that answers blob downloads with a redirect to
//! another address, as registries behind a CDN do; and [`push_raw`], which pushes artifacts a
//! well-behaved client would never push, for tests of bad inputs.
//!
//! The registry's program is installed the first time when we may, as
//! [`crate::postgres`] installs PostgreSQL: as root, with apt-get, one process at a time.

use std::fs::File;
use std::io::Write as _;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

use crate::local::{free_port, new_password, temporary_root};

/// Debian's package holding the registry.
const PACKAGE: &str = "docker-registry";

/// The program, as Debian installs it (found on `PATH` too, for other systems).
const PROGRAM: &str = "/usr/bin/docker-registry";

/// Serialises installs between test processes (see [`crate::postgres`]).
const INSTALL_LOCK: &str = "/tmp/shared-folder-tests-docker-registry-install.lock";

/// How long a registry may take to listen: generous, since every test binary's tests start
/// theirs at once on a small machine.
const READY_WITHIN: Duration = Duration::from_secs(60);

/// How many ports are tried: another process may take the free port we found before the
/// registry binds it.
const PORT_ATTEMPTS: usize = 10;

/// The user name in the registry's `htpasswd` when [`RegistryOptions::basic_auth`] is set.
pub const USER: &str = "tester";

/// The bcrypt cost of the password's hash: the least bcrypt allows, since the registry checks
/// the hash on every request (distribution 2.8 caches nothing) and nothing here is secret.
const BCRYPT_COST: u32 = 4;

/// How a [`Registry`] is set up.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Whether every request needs HTTP basic authentication as [`USER`] with a random
    /// password (see [`Registry::credentials`]); `false` (the default): anonymous access to
    /// everything.
    pub basic_auth: bool,
}

/// A running `docker-registry` (see the module's documentation). Killed and its folder
/// removed on drop.
pub struct Registry {
    /// Dropped after `server` was killed (see `Drop`).
    folder: tempfile::TempDir,
    /// `None` after [`Registry::stop`].
    server: Option<Child>,
    port: u16,
    tls: TlsFiles,
    credentials: Option<(String, String)>,
}

/// The registry's TLS material, PEM-encoded, and where it was written.
struct TlsFiles {
    ca_pem: String,
    ca_file: PathBuf,
    /// The registry's certificate (SANs `127.0.0.1` and `localhost`), signed by the CA; the
    /// [`RedirectingFront`] presents it too.
    certificate_pem: String,
    key_pem: String,
}

impl Registry {
    /// Starts a registry: TLS on `127.0.0.1` on a free port, with a certificate for
    /// `127.0.0.1` and `localhost` signed by a new CA ([`Registry::ca_pem`]); filesystem
    /// storage in a new temporary folder, deletes enabled; its log (level info) in that folder.
    /// Installs `docker-registry` first if needed and allowed.
    ///
    /// Panics when it cannot, with the registry's log.
    pub fn start(options: RegistryOptions) -> Registry {
        let folder = tempfile::Builder::new()
            .prefix("shared-folder-registry-")
            .tempdir_in(temporary_root())
            .expect("a temporary folder for the registry");
        let tls = write_tls(folder.path());
        let credentials = options.basic_auth.then(|| {
            let password = new_password();
            write_htpasswd(folder.path(), &password);
            (USER.to_string(), password)
        });
        let program = program();
        let mut registry = Registry {
            folder,
            server: None,
            port: 0,
            tls,
            credentials,
        };
        let mut logs = Vec::new();
        for _ in 0..PORT_ATTEMPTS {
            registry.port = free_port();
            write_config(registry.folder(), registry.port, options.basic_auth);
            match registry.spawn_and_wait(program) {
                Ready::Yes => return registry,
                Ready::PortTaken(log) => logs.push(log),
            }
        }
        panic!(
            "the registry found no free port in {PORT_ATTEMPTS} attempts:\n{}",
            logs.join("\n---\n")
        );
    }

    /// `127.0.0.1:<port>`: the registry's address, as an image reference's registry part.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The loopback TCP port the registry listens on (the same after [`Registry::restart`]).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The PEM of the CA that signed the registry's certificate (SANs `127.0.0.1` and
    /// `localhost`): the one root a client needs.
    pub fn ca_pem(&self) -> &str {
        &self.tls.ca_pem
    }

    /// The file holding [`Registry::ca_pem`], in the registry's folder.
    pub fn ca_file(&self) -> &Path {
        &self.tls.ca_file
    }

    /// [`USER`] and its random password when [`RegistryOptions::basic_auth`] was set.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(user, password)| (user.as_str(), password.as_str()))
    }

    /// The registry's folder: its configuration, TLS files, log and storage (`storage/`).
    pub fn folder(&self) -> &Path {
        self.folder.path()
    }

    /// The on-disk data file of the blob `digest` (`sha256:<hex>`):
    /// `storage/docker/registry/v2/blobs/sha256/<first two hex>/<hex>/data`, for a test to
    /// damage. The registry serves it as it is on disk (no cache is configured), so a
    /// truncated file reaches the client as a body that does not match its digest.
    ///
    /// Panics when `digest` is not `<algorithm>:<hex>` with at least two hex digits.
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let (algorithm, hex) = digest
            .split_once(':')
            .filter(|(algorithm, hex)| {
                !algorithm.is_empty()
                    && hex.len() >= 2
                    && hex.bytes().all(|b| b.is_ascii_hexdigit())
            })
            .unwrap_or_else(|| panic!("a blob digest is <algorithm>:<hex>, not {digest:?}"));
        storage(self.folder.path())
            .join("docker/registry/v2/blobs")
            .join(algorithm)
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// Takes the registry away: killed and waited for; its storage is kept for
    /// [`Registry::restart`]. Connections to [`Registry::address`] are refused after.
    pub fn stop(&mut self) {
        if let Some(mut server) = self.server.take() {
            let _ = server.kill();
            let _ = server.wait();
        }
    }

    /// Starts the registry again (stopping it first if it runs) on the same port, with the
    /// same storage, certificate and credentials; returns once it listens.
    ///
    /// Panics, with the log, when it does not come back (e.g. another process took the port
    /// meanwhile).
    pub fn restart(&mut self) {
        self.stop();
        match self.spawn_and_wait(program()) {
            Ready::Yes => {}
            Ready::PortTaken(log) => panic!(
                "the registry cannot listen on its port {} again: another process took it:\n{log}",
                self.port
            ),
        }
    }

    /// The registry's log (all its runs), for panic messages.
    pub fn log(&self) -> String {
        read(&log_file(self.folder.path()))
    }

    /// Spawns the registry on `self.port` with the configuration in the folder, its output
    /// appended to the log; waits until it listens.
    fn spawn_and_wait(&mut self, program: &Path) -> Ready {
        let folder = self.folder.path();
        let log = log_file(folder);
        // Only what this run writes tells whether it listens: the log keeps earlier runs.
        let offset = std::fs::metadata(&log).map_or(0, |m| m.len());
        let log_writer = File::options()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap_or_else(|e| panic!("the registry's log file {}: {e}", log.display()));
        let log_writer_too = log_writer
            .try_clone()
            .unwrap_or_else(|e| panic!("the registry's log file {}: {e}", log.display()));
        let server = Command::new(program)
            .arg("serve")
            .arg(config_file(folder))
            .current_dir(folder)
            .stdin(Stdio::null())
            .stdout(log_writer)
            .stderr(log_writer_too)
            .spawn()
            .unwrap_or_else(|e| panic!("the registry ({}) does not start: {e}", program.display()));
        self.server = Some(server);
        let server = self.server.as_mut().expect("the server just spawned");
        let ready = wait_until_ready(server, self.port, &log, offset);
        if !matches!(ready, Ready::Yes) {
            self.server = None;
        }
        ready
    }
}

impl Drop for Registry {
    /// Killed (nothing in it is worth a graceful shutdown) and waited for; the folder is
    /// removed after, by `TempDir`'s own drop.
    fn drop(&mut self) {
        self.stop();
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("address", &self.address())
            .field("folder", &self.folder.path())
            .field("running", &self.server.is_some())
            .finish_non_exhaustive()
    }
}

enum Ready {
    Yes,
    /// The registry exited because its port was taken; its log of this run.
    PortTaken(String),
}

/// Waits until the registry says it listens on `port` and accepts a connection there; a
/// registry that exited because its port was taken is told apart from any other failure,
/// which panics with the log.
fn wait_until_ready(server: &mut Child, port: u16, log: &Path, offset: u64) -> Ready {
    let listening = format!("listening on 127.0.0.1:{port}");
    let this_run = || {
        let text = read(log);
        text.get(usize::try_from(offset).unwrap_or(usize::MAX)..)
            .unwrap_or_default()
            .to_string()
    };
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = server.try_wait() {
            let text = this_run();
            if text.contains("address already in use") {
                return Ready::PortTaken(text);
            }
            panic!("the registry stopped ({status}) before it was ready:\n{text}");
        }
        if this_run().contains(&listening)
            && TcpStream::connect_timeout(
                &SocketAddr::from(([127, 0, 0, 1], port)),
                Duration::from_secs(1),
            )
            .is_ok()
        {
            return Ready::Yes;
        }
        if start.elapsed() > READY_WITHIN {
            let _ = server.kill();
            let _ = server.wait();
            panic!(
                "the registry was not ready within {READY_WITHIN:?}:\n{}",
                this_run()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn config_file(folder: &Path) -> PathBuf {
    folder.join("config.yml")
}

fn log_file(folder: &Path) -> PathBuf {
    folder.join("registry.log")
}

fn storage(folder: &Path) -> PathBuf {
    folder.join("storage")
}

/// The registry's configuration (distribution's `version: 0.1` format). No blob descriptor
/// cache, so what is on disk is what is served; no upload purging, no health checks: nothing
/// runs in the background of a test. JSON strings are valid YAML scalars, which quotes the
/// paths whatever they hold.
fn write_config(folder: &Path, port: u16, basic_auth: bool) {
    let quoted = |path: PathBuf| format!("{:?}", path.display().to_string());
    let auth = if basic_auth {
        format!(
            "auth:\n  htpasswd:\n    realm: test-registry\n    path: {}\n",
            quoted(folder.join("htpasswd"))
        )
    } else {
        String::new()
    };
    let config = format!(
        "version: 0.1\n\
         log:\n  level: info\n  formatter: text\n\
         storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n  \
         maintenance:\n    uploadpurging:\n      enabled: false\n\
         http:\n  addr: 127.0.0.1:{port}\n  secret: {secret}\n  \
         tls:\n    certificate: {certificate}\n    key: {key}\n\
         {auth}",
        storage = quoted(storage(folder)),
        secret = new_password(),
        certificate = quoted(folder.join("registry.crt")),
        key = quoted(folder.join("registry.key")),
    );
    write(&config_file(folder), &config);
}

/// `htpasswd` with [`USER`] and `password`, bcrypt-hashed (the only hash distribution takes).
fn write_htpasswd(folder: &Path, password: &str) {
    let hash = bcrypt::hash(password, BCRYPT_COST).expect("a bcrypt hash of the password");
    write(&folder.join("htpasswd"), &format!("{USER}:{hash}\n"));
}

/// A new CA and a certificate for `127.0.0.1` and `localhost` signed by it, written to the
/// folder (`ca.crt`, `registry.crt`, `registry.key`).
fn write_tls(folder: &Path) -> TlsFiles {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "shared-folder tests' registry CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().expect("a key pair for the CA");
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).expect("the CA's certificate");

    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .expect("the registry's certificate parameters");
    params
        .distinguished_name
        .push(DnType::CommonName, "127.0.0.1");
    let key = KeyPair::generate().expect("a key pair for the registry");
    let certificate = params
        .signed_by(&key, &ca)
        .expect("the registry's certificate, signed by the CA");

    let tls = TlsFiles {
        ca_pem: ca.pem(),
        ca_file: folder.join("ca.crt"),
        certificate_pem: certificate.pem(),
        key_pem: key.serialize_pem(),
    };
    write(&tls.ca_file, &tls.ca_pem);
    write(&folder.join("registry.crt"), &tls.certificate_pem);
    write(&folder.join("registry.key"), &tls.key_pem);
    tls
}

fn write(path: &Path, contents: &str) {
    File::create(path)
        .and_then(|mut file| file.write_all(contents.as_bytes()))
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

fn read(log: &Path) -> String {
    std::fs::read_to_string(log)
        .unwrap_or_else(|e| format!("(the log {} is unreadable: {e})", log.display()))
}

/// The registry program; installed once per machine if missing.
///
/// Panics, naming the package to install, when it is missing and cannot be installed here.
fn program() -> &'static Path {
    static FOUND: OnceLock<PathBuf> = OnceLock::new();
    FOUND.get_or_init(|| find().unwrap_or_else(install))
}

/// [`PROGRAM`], else a `docker-registry` on `PATH`.
fn find() -> Option<PathBuf> {
    let debian = Path::new(PROGRAM);
    if debian.is_file() {
        return Some(debian.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(PACKAGE))
        .find(|program| program.is_file())
}

/// Installs Debian's `docker-registry` with apt-get, as root only, one process at a time.
///
/// The package's postinst adds a `docker-registry` system user and asks the init system to
/// start its service (`:5000`, `/etc/docker/registry/config.yml`); in a container without
/// systemd that start is normally refused (`policy-rc.d`) or fails harmlessly. The tests
/// never use that service: each runs its own registry, as whoever runs the tests.
fn install() -> PathBuf {
    let package = crate::debian::Package {
        name: PACKAGE,
        purpose: "OCI registry for the tests",
        advice: "the OCI registry `docker-registry` (CNCF distribution) was not found at \
                 /usr/bin/docker-registry nor on PATH; install it, e.g. Debian's package \
                 `docker-registry` (apt-get install docker-registry)",
        lock: INSTALL_LOCK,
    };
    crate::debian::install(&package, find)
}

/// A TLS front to a [`Registry`], on a free loopback port with the registry's certificate
/// (so the registry's CA is the one root a client needs): every request is forwarded to the
/// registry unchanged (method, path, query, headers including `Host`, body; the answer
/// streamed back), except `GET /v2/<repository>/blobs/<digest>`, answered
/// `307 Temporary Redirect` to `https://<to>/v2/<repository>/blobs/<digest>`, as registries
/// behind a CDN do. Stops (with its connections) on drop.
pub struct RedirectingFront {
    address: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl RedirectingFront {
    /// Starts the front of `registry`, redirecting blob downloads to `to` (which need not
    /// be a registry: a test may point it at anything). Needs a Tokio runtime.
    ///
    /// Panics when it cannot listen or the registry's TLS material is unusable.
    pub async fn start(registry: &Registry, to: SocketAddr) -> RedirectingFront {
        let acceptor = acceptor(&registry.tls.certificate_pem, &registry.tls.key_pem);
        let connector = connector(&registry.tls.ca_pem);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("a loopback port for the redirecting front");
        let address = listener
            .local_addr()
            .expect("the redirecting front's address");
        let forward = Arc::new(Forward {
            registry: SocketAddr::from(([127, 0, 0, 1], registry.port)),
            to,
            connector,
        });
        let task = tokio::spawn(async move {
            // Owned here, so that aborting this task ends every connection too.
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                let forward = Arc::clone(&forward);
                connections.spawn(async move {
                    let Ok(stream) = acceptor.accept(stream).await else {
                        return;
                    };
                    let service = hyper::service::service_fn(move |request| {
                        let forward = Arc::clone(&forward);
                        async move { forward.answer(request).await }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
                // Reap the finished ones.
                while connections.try_join_next().is_some() {}
            }
        });
        RedirectingFront { address, task }
    }

    /// `127.0.0.1:<port>`: the front's address, as an image reference's registry part.
    pub fn address(&self) -> String {
        self.address.to_string()
    }
}

impl Drop for RedirectingFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::fmt::Debug for RedirectingFront {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedirectingFront")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

type AnswerBody = BoxBody<Bytes, hyper::Error>;

/// What a [`RedirectingFront`]'s connections share.
struct Forward {
    registry: SocketAddr,
    to: SocketAddr,
    connector: tokio_rustls::TlsConnector,
}

impl Forward {
    async fn answer(
        &self,
        request: http::Request<Incoming>,
    ) -> Result<http::Response<AnswerBody>, std::convert::Infallible> {
        if let Some(location) = self.redirect(&request) {
            return Ok(plain(
                http::StatusCode::TEMPORARY_REDIRECT,
                Some(location),
                Bytes::new(),
            ));
        }
        Ok(match self.forward(request).await {
            Ok(response) => response.map(BodyExt::boxed),
            Err(e) => plain(
                http::StatusCode::BAD_GATEWAY,
                None,
                Bytes::from(format!(
                    "the redirecting front cannot reach the registry: {e}\n"
                )),
            ),
        })
    }

    /// `https://<to>/v2/<repository>/blobs/<digest>` for a `GET` of a blob.
    fn redirect(&self, request: &http::Request<Incoming>) -> Option<String> {
        if request.method() != http::Method::GET {
            return None;
        }
        let path = request.uri().path();
        let (repository, digest) = path.strip_prefix("/v2/")?.rsplit_once("/blobs/")?;
        let blob = !repository.is_empty()
            && repository != "/"
            && !digest.is_empty()
            && !digest.contains('/')
            && digest.contains(':');
        blob.then(|| format!("https://{}/v2/{repository}/blobs/{digest}", self.to))
    }

    /// The request sent to the registry on a connection of its own, its answer.
    async fn forward(
        &self,
        request: http::Request<Incoming>,
    ) -> Result<http::Response<Incoming>, Box<dyn std::error::Error + Send + Sync>> {
        let stream = tokio::net::TcpStream::connect(self.registry).await?;
        let server_name = rustls::pki_types::ServerName::IpAddress(self.registry.ip().into());
        let stream = self.connector.connect(server_name, stream).await?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        // Origin-form (path and query), as the client sent it; the headers as they were.
        let (mut parts, body) = request.into_parts();
        if let Some(target) = parts.uri.path_and_query().cloned() {
            parts.uri = http::Uri::from(target);
        }
        Ok(sender
            .send_request(http::Request::from_parts(parts, body))
            .await?)
    }
}

fn plain(
    status: http::StatusCode,
    location: Option<String>,
    body: Bytes,
) -> http::Response<AnswerBody> {
    let mut response = http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_LENGTH, body.len());
    if let Some(location) = location {
        response = response.header(http::header::LOCATION, location);
    }
    response
        .body(Full::new(body).map_err(|never| match never {}).boxed())
        .expect("a plain answer from valid parts")
}

/// A TLS server configuration with `certificate_pem` and `key_pem` (ring).
fn acceptor(certificate_pem: &str, key_pem: &str) -> tokio_rustls::TlsAcceptor {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_slice_iter(certificate_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .expect("the registry's certificate, PEM");
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).expect("the registry's key, PEM");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_no_client_auth().with_single_cert(chain, key))
        .expect("a TLS server configuration with the registry's certificate");
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// A TLS client configuration trusting `ca_pem` only (ring).
fn connector(ca_pem: &str) -> tokio_rustls::TlsConnector {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots
            .add(certificate.expect("the registry's CA, PEM"))
            .expect("the registry's CA as a root");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS client defaults")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// An artifact for [`push_raw`]: any config and layers, under any media types.
#[derive(Debug, Clone, Copy)]
pub struct RawArtifact<'a> {
    /// The repository, e.g. `plugins/echo`.
    pub repository: &'a str,
    /// The tag the manifest is pushed under.
    pub tag: &'a str,
    /// The config descriptor's media type, e.g. `application/vnd.wasm.config.v0+json`.
    pub config_media_type: &'a str,
    /// The config blob.
    pub config: &'a [u8],
    /// Each layer's media type and bytes, in order.
    pub layers: &'a [(&'a str, Vec<u8>)],
    /// The manifest's `mediaType` and the `Content-Type` it is pushed with; `None`:
    /// `application/vnd.oci.image.manifest.v1+json`, as `wkg oci push` (oci-wasm) writes.
    pub manifest_media_type: Option<&'a str>,
}

/// The layout `wkg oci push` writes for a Wasm component (oci-wasm 0.6): an OCI image
/// manifest, config `application/vnd.wasm.config.v0+json`, one layer `application/wasm`.
pub mod wasm_layout {
    /// The manifest's media type.
    pub const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    /// The config's media type.
    pub const CONFIG: &str = "application/vnd.wasm.config.v0+json";
    /// The (one) layer's media type.
    pub const LAYER: &str = "application/wasm";
}

/// Pushes `artifact` to the registry at `registry_address` (TLS, trusting `ca_pem`, with
/// `credentials` for basic authentication if any): the layers and config as blobs, then an
/// OCI image manifest describing them; the manifest's digest (`sha256:<hex>`).
///
/// Panics with the registry's error when it refuses (see [`try_push_raw`] to see it).
pub async fn push_raw(
    registry_address: &str,
    ca_pem: &str,
    credentials: Option<(&str, &str)>,
    artifact: &RawArtifact<'_>,
) -> String {
    try_push_raw(registry_address, ca_pem, credentials, artifact)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "push of {}:{} to {registry_address}: {e}",
                artifact.repository, artifact.tag
            )
        })
}

/// [`push_raw`], the registry's refusal an error: which step failed and what the registry
/// said.
pub async fn try_push_raw(
    registry_address: &str,
    ca_pem: &str,
    credentials: Option<(&str, &str)>,
    artifact: &RawArtifact<'_>,
) -> Result<String, String> {
    use oci_client::client::{Config, ImageLayer};
    use oci_client::manifest::OciImageManifest;

    let client = oci_client(ca_pem);
    let reference: oci_client::Reference = format!(
        "{registry_address}/{}:{}",
        artifact.repository, artifact.tag
    )
    .parse()
    .map_err(|e| format!("not an image reference: {e}"))?;
    let auth = registry_auth(credentials);
    client
        .store_auth_if_needed(reference.resolve_registry(), &auth)
        .await;

    let layers: Vec<ImageLayer> = artifact
        .layers
        .iter()
        .map(|(media_type, data)| ImageLayer::new(data.clone(), (*media_type).to_string(), None))
        .collect();
    let config = Config::new(
        artifact.config.to_vec(),
        artifact.config_media_type.to_string(),
        None,
    );
    for layer in &layers {
        client
            .push_blob(&reference, layer.data.clone(), &layer.sha256_digest())
            .await
            .map_err(|e| {
                format!(
                    "layer {} ({}): {e}",
                    layer.sha256_digest(),
                    layer.media_type
                )
            })?;
    }
    client
        .push_blob(&reference, config.data.clone(), &config.sha256_digest())
        .await
        .map_err(|e| format!("config {}: {e}", config.sha256_digest()))?;

    let media_type = artifact
        .manifest_media_type
        .unwrap_or(wasm_layout::MANIFEST);
    let mut manifest = OciImageManifest::build(&layers, &config, None);
    manifest.media_type = Some(media_type.to_string());
    let body = serde_json::to_vec(&manifest).map_err(|e| format!("the manifest: {e}"))?;
    // The digest of exactly these bytes, as the registry computes it.
    let digest = Config::new(body.clone(), String::new(), None).sha256_digest();
    let content_type = http::HeaderValue::from_str(media_type)
        .map_err(|e| format!("manifest media type {media_type:?}: {e}"))?;
    client
        .push_manifest_raw(&reference, body, content_type)
        .await
        .map_err(|e| format!("manifest {digest} ({media_type}): {e}"))?;
    Ok(digest)
}

/// An oci-client client for a TLS registry whose certificate `ca_pem` signed (the machine's
/// roots are trusted too). Installs ring as the process's rustls provider if none is yet.
pub fn oci_client(ca_pem: &str) -> oci_client::Client {
    use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
    let _ = rustls::crypto::ring::default_provider().install_default();
    oci_client::Client::new(ClientConfig {
        protocol: ClientProtocol::Https,
        extra_root_certificates: vec![Certificate {
            encoding: CertificateEncoding::Pem,
            data: ca_pem.as_bytes().to_vec(),
        }],
        ..ClientConfig::default()
    })
}

/// oci-client's authentication for `credentials`: basic, or anonymous when `None`.
pub fn registry_auth(credentials: Option<(&str, &str)>) -> oci_client::secrets::RegistryAuth {
    match credentials {
        Some((user, password)) => {
            oci_client::secrets::RegistryAuth::Basic(user.to_string(), password.to_string())
        }
        None => oci_client::secrets::RegistryAuth::Anonymous,
    }
}
