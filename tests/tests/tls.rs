//! https to the storage: the certificate is verified against the system's trust store plus the
//! configured CA bundle. A NextCloud on a private CA (the stand-in, serving a certificate the
//! test's own CA signed) is reached only with that CA in the bundle, and only under the name
//! its certificate carries.

use std::path::PathBuf;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use shared_folder_harness::{Options, StandIn, TestHost, TlsIdentity};
use shared_folder_host::SharedFolders;
use shared_folder_host::runtime::ConnectionSettings;
use shared_folder_host::runtime::ProviderError;

/// A private CA, and a server certificate it issued for `name`.
struct PrivateCa {
    ca_pem: String,
    server: TlsIdentity,
}

fn private_ca(name: &str) -> PrivateCa {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Test Private CA");
    let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().expect("server key");
    let server = CertificateParams::new(vec![name.to_owned()])
        .expect("server parameters")
        .signed_by(&server_key, &issuer)
        .expect("server certificate");
    PrivateCa {
        ca_pem: ca.pem(),
        server: TlsIdentity {
            certificate_chain_pem: server.pem(),
            private_key_pem: server_key.serialize_pem(),
        },
    }
}

async fn https_standin(identity: TlsIdentity) -> StandIn {
    StandIn::start(Options {
        tls: Some(identity),
        ..Options::default()
    })
    .await
    .expect("stand-in")
}

fn host(standin: &StandIn, ca_bundle: Option<PathBuf>) -> SharedFolders {
    TestHost::on(standin)
        .connections(ConnectionSettings {
            ca_bundle,
            ..ConnectionSettings::default()
        })
        .build()
}

fn bundle(dir: &tempfile::TempDir, pem: &str) -> PathBuf {
    let path = dir.path().join("private-ca.pem");
    std::fs::write(&path, pem).expect("bundle written");
    path
}

fn is_certificate_error(error: &shared_folder_host::HostError) -> bool {
    matches!(error.provider_error(), Some(ProviderError::Transport(m)) if m.contains("TlsCertificateError"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_ca_is_trusted_only_from_the_bundle() {
    let ca = private_ca("localhost");
    let standin = https_standin(ca.server.clone()).await;
    assert!(standin.url().starts_with("https://localhost:"));

    // The system's store does not know the private CA.
    let error = host(&standin, None).create("room").await.unwrap_err();
    assert!(is_certificate_error(&error), "{error}");
    assert!(
        standin.seen().is_empty(),
        "nothing was sent without a trusted certificate"
    );

    let dir = tempfile::tempdir().expect("temporary folder");
    let trusting = host(&standin, Some(bundle(&dir, &ca.ca_pem)));
    let record = trusting
        .create("room")
        .await
        .expect("create over https")
        .record;
    assert!(standin.folder_exists(&record.path));
    assert_eq!(standin.shares_on(&record.path).len(), 2);
    assert!(
        trusting
            .delete("room", false)
            .await
            .expect("delete over https")
            .deleted()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_for_another_name_or_from_another_ca_is_refused() {
    let dir = tempfile::tempdir().expect("temporary folder");
    // Signed by the trusted CA, but for another name than the URL's.
    let ca = private_ca("cloud.example.com");
    let standin = https_standin(ca.server.clone()).await;
    let error = host(&standin, Some(bundle(&dir, &ca.ca_pem)))
        .create("room")
        .await
        .unwrap_err();
    assert!(is_certificate_error(&error), "{error}");

    // For the right name, but from a CA that is not the one in the bundle.
    let other = private_ca("localhost");
    let standin = https_standin(other.server).await;
    let error = host(&standin, Some(bundle(&dir, &ca.ca_pem)))
        .create("room")
        .await
        .unwrap_err();
    assert!(is_certificate_error(&error), "{error}");
    assert!(standin.seen().is_empty());
}
