//! The storage's session cookies, kept by the host: NextCloud checks the password of the first
//! request of a session only (a login password costs it about 0.6 s a check,
//! docs/nextcloud-behaviour.md, "Authentication cost and sessions"); a session the storage refuses is dropped.

use shared_folder_harness::{Fault, FaultRule, Options, StandIn, Step, TestHost};
use shared_folder_host::SharedFolders;
use shared_folder_host::runtime::ConnectionSettings;

fn host(standin: &StandIn, session: bool) -> SharedFolders {
    TestHost::on(standin)
        .connections(ConnectionSettings {
            session,
            ..ConnectionSettings::default()
        })
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_is_checked_once_per_session() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let host = host(&standin, true);
    for room in 0..5 {
        host.create(&format!("room-{room}")).await.unwrap();
    }
    assert!(host.delete("room-0", false).await.unwrap().deleted());
    let requests = standin.seen().len();
    assert!(requests >= 18, "{requests} requests");
    assert_eq!(standin.password_checks(), 1, "only the first request's");
    assert!(standin.seen().iter().all(|r| r.authenticated));

    // The session ends on the storage's side (expiry, a changed password): the next request is
    // authenticated by its password again, and a new session begins.
    standin.end_sessions();
    host.create("room-5").await.unwrap();
    host.create("room-6").await.unwrap();
    assert_eq!(standin.password_checks(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_session_every_request_has_its_password_checked() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let host = host(&standin, false);
    for room in 0..3 {
        host.create(&format!("room-{room}")).await.unwrap();
    }
    assert_eq!(standin.password_checks(), standin.seen().len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_the_storage_refuses_is_dropped() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let host = host(&standin, true);
    host.create("room-1").await.unwrap();
    assert_eq!(standin.password_checks(), 1);
    // The storage answers 401 once: the host forgets the session, so the next request is
    // authenticated by the password (and starts a new session).
    standin.inject(FaultRule::at(Step::Mkcol, Fault::Status(401)));
    assert!(host.create("room-2").await.is_err());
    host.create("room-3").await.unwrap();
    host.create("room-4").await.unwrap();
    assert_eq!(standin.password_checks(), 2);
}
