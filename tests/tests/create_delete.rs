//! The NextCloud component through the host against the stand-in: create, links, roles, delete.

use shared_folder_harness::{Fault, FaultRule, Options, Step, public_link, standin_and_host};
use shared_folder_host::runtime::ProviderError;
use shared_folder_host::{Error, HostError, Role};

fn today_plus(days: i64) -> String {
    let date = time::OffsetDateTime::now_utc().date() + time::Duration::days(days);
    format!(
        "{:04}-{:02}-{:02} 00:00:00",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_makes_the_folder_and_two_password_protected_shares() {
    let (standin, host) = standin_and_host(Options::default(), "expiry = 7").await;
    let record = host.create("room-1").await.expect("create succeeds").record;

    assert_eq!(record.path, "opentalk/meetings/room-1");
    assert!(standin.folder_exists("opentalk/meetings/room-1"));
    let shares = standin.shares_on("opentalk/meetings/room-1");
    assert_eq!(shares.len(), 2, "exactly two shares");

    let read = shares
        .iter()
        .find(|s| record.read.url.ends_with(&format!("/s/{}", s.token)))
        .expect("read share");
    let write = shares
        .iter()
        .find(|s| record.read_write.url.ends_with(&format!("/s/{}", s.token)))
        .expect("rw share");
    // Returned with the share bit added (docs/nextcloud-behaviour.md, "Creating a public link").
    assert_eq!(read.permissions, 17);
    assert_eq!(write.permissions, 31);
    assert_eq!(
        read.password.as_deref(),
        Some(record.read.password.expose())
    );
    assert_eq!(
        write.password.as_deref(),
        Some(record.read_write.password.expose())
    );
    assert_ne!(record.read.password, record.read_write.password);
    assert_eq!(record.read.password.expose().len(), 24);
    for share in [read, write] {
        assert_eq!(share.expiration.as_deref(), Some(today_plus(7).as_str()));
    }
    assert!(
        record
            .read
            .url
            .ends_with(&format!("/index.php/s/{}", read.token))
    );
    assert!(
        record
            .read_write
            .url
            .ends_with(&format!("/index.php/s/{}", write.token))
    );

    // Passwords stay out of `Debug` (and so out of logs).
    let debug = format!(
        "{record:?} {:?}",
        host.access("room-1", Role::Moderator).await
    );
    assert!(!debug.contains(record.read.password.expose()), "{debug}");
    assert!(
        !debug.contains(record.read_write.password.expose()),
        "{debug}"
    );

    // Creating again returns the same folder, without asking the provider.
    let requests = standin.seen().len();
    assert_eq!(host.create("room-1").await.unwrap().record, record);
    assert_eq!(standin.seen().len(), requests);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_authenticated_by_the_host_and_bodyless_ones_carry_no_body() {
    let (standin, host) = standin_and_host(Options::default(), "").await;
    host.create("room-auth").await.unwrap();
    let seen = standin.seen();
    // First MKCOL gets 409 (parents missing), then one per level, then the two shares.
    let methods: Vec<&str> = seen.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(
        methods,
        ["MKCOL", "MKCOL", "MKCOL", "MKCOL", "POST", "POST"]
    );
    assert!(seen.iter().all(|r| r.authenticated), "{seen:?}");
    assert!(
        seen.iter()
            .filter(|r| r.method == "MKCOL")
            .all(|r| r.body_len == 0)
    );
    // A second room needs no parents: one MKCOL, two shares.
    standin.forget_seen();
    let record = host.create("room-auth-2").await.unwrap().record;
    let methods: Vec<String> = standin.seen().into_iter().map(|r| r.method).collect();
    assert_eq!(methods, ["MKCOL", "POST", "POST"]);
    // The share passwords travel in request bodies, never in a URL.
    assert!(
        standin
            .seen()
            .iter()
            .all(|r| !r.target.contains(record.read.password.expose()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_links_grant_what_their_role_allows() {
    let (standin, host) = standin_and_host(Options::default(), "").await;
    let record = host.create("room-links").await.unwrap().record;
    let ro = (&record.read.url, record.read.password.expose());
    let rw = (&record.read_write.url, record.read_write.password.expose());

    // docs/nextcloud-behaviour.md, "Public links over WebDAV": writes through the read-write link succeed, the read-only
    // link can read but not write, and each link wants its own password.
    let steps = [
        (rw, "PUT", "agenda.txt", &b"1. shared folders"[..], 201),
        (rw, "MKCOL", "minutes", b"", 201),
        (ro, "PUT", "evil.txt", b"x", 403),
        (ro, "DELETE", "agenda.txt", b"", 403),
        (ro, "MKCOL", "x", b"", 403),
        (ro, "GET", "agenda.txt", b"", 200),
        ((ro.0, rw.1), "GET", "agenda.txt", b"", 401),
        ((rw.0, ro.1), "PUT", "y.txt", b"y", 401),
    ];
    for ((url, password), method, file, body, status) in steps {
        let (got, content) = public_link::nextcloud(url, password, method, file, body)
            .await
            .unwrap();
        assert_eq!(got, status, "{method} {file} via {url}");
        if method == "GET" && status == 200 {
            assert_eq!(content, b"1. shared folders");
        }
    }
    let nodes = standin.storage().nodes;
    assert!(nodes.contains_key("opentalk/meetings/room-links/agenda.txt"));
    assert!(!nodes.contains_key("opentalk/meetings/room-links/evil.txt"));
    assert!(!nodes.contains_key("opentalk/meetings/room-links/y.txt"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_follows_the_role_and_its_changes() {
    let (_standin, host) = standin_and_host(Options::default(), "").await;
    let record = host.create("room-roles").await.unwrap().record;

    let moderator = host.access("room-roles", Role::Moderator).await.unwrap();
    assert_eq!(moderator.read.url, record.read.url);
    assert_eq!(
        moderator.read_write.as_ref().map(|l| &l.url),
        Some(&record.read_write.url)
    );
    let participant = host.access("room-roles", Role::Participant).await.unwrap();
    assert_eq!(participant.read.password, record.read.password);
    assert!(participant.read_write.is_none());
    let json = serde_json::to_value(&participant).unwrap();
    assert!(json.get("read_write").is_none(), "{json}");
    assert!(
        !json
            .to_string()
            .contains(record.read_write.password.expose())
    );

    let granted = host
        .role_changed("room-roles", Role::Participant, Role::Moderator)
        .await
        .unwrap();
    assert_eq!(
        granted.and_then(|a| a.read_write).map(|l| l.url),
        Some(record.read_write.url.clone())
    );
    let revoked = host
        .role_changed("room-roles", Role::Moderator, Role::Participant)
        .await
        .unwrap()
        .unwrap();
    assert!(revoked.read_write.is_none());
    assert_eq!(revoked.read.url, record.read.url);
    assert!(
        host.role_changed("room-roles", Role::Moderator, Role::Moderator)
            .await
            .unwrap()
            .is_none()
    );
    assert!(host.access("no-such-room", Role::Moderator).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_removes_the_shares_and_the_folder_with_its_files() {
    let (standin, host) = standin_and_host(Options::default(), "").await;
    let record = host.create("room-del").await.unwrap().record;
    let rw = &record.read_write;
    public_link::nextcloud(&rw.url, rw.password.expose(), "PUT", "notes.txt", b"n")
        .await
        .unwrap();
    standin.forget_seen();

    assert!(host.delete("room-del", false).await.unwrap().deleted());
    let methods: Vec<String> = standin.seen().into_iter().map(|r| r.method).collect();
    assert_eq!(
        methods,
        ["DELETE", "DELETE", "DELETE"],
        "two shares and the folder (sent together)"
    );
    let storage = standin.storage();
    assert!(storage.shares.is_empty());
    assert!(
        !storage
            .nodes
            .keys()
            .any(|p| p.starts_with("opentalk/meetings/room-del"))
    );
    assert!(
        standin.folder_exists("opentalk/meetings"),
        "the configured directory stays"
    );
    assert!(host.folder("room-del").await.unwrap().is_none());
    // A room without a folder: nothing to do.
    assert!(!host.delete("room-del", false).await.unwrap().deleted());
    // Old links are dead.
    let dead = public_link::nextcloud(&rw.url, rw.password.expose(), "GET", "notes.txt", b"")
        .await
        .unwrap();
    assert_eq!(dead.0, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_of_an_already_missing_folder_succeeds() {
    let (standin, host) = standin_and_host(Options::default(), "").await;
    host.create("room-gone").await.unwrap();
    // Someone removed the folder on NextCloud; its shares went with it (`12-…` [9]).
    standin.remove("opentalk/meetings/room-gone");
    assert!(standin.storage().shares.is_empty());
    assert!(
        host.delete("room-gone", false)
            .await
            .expect("missing counts as deleted")
            .deleted()
    );
    assert!(host.folder("room-gone").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sub_path_url_and_unusual_room_names_work() {
    let options = Options {
        base_path: "/nextcloud".into(),
        ..Options::default()
    };
    let (standin, host) = standin_and_host(options, "").await;
    assert!(standin.url().ends_with("/nextcloud/"));
    let room = "Übung #1 & co?";
    let record = host
        .create(room)
        .await
        .expect("create below a sub-path")
        .record;
    assert_eq!(record.path, format!("opentalk/meetings/{room}"));
    assert!(standin.folder_exists(&record.path));
    assert!(record.read.url.contains("/nextcloud/index.php/s/"));
    assert!(
        standin
            .seen()
            .iter()
            .any(|r| r.target.contains("%C3%9Cbung%20%231%20%26%20co%3F"))
    );
    assert!(host.delete(room, false).await.unwrap().deleted());
    assert!(!standin.folder_exists(&record.path));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_ids_that_could_escape_the_directory_are_refused() {
    let (standin, host) = standin_and_host(Options::default(), "").await;
    // The host refuses them before any provider runs (the provider refuses them too: its unit
    // tests in `plugin/kit/src/paths.rs` and `plugin/nextcloud/src/paths.rs`).
    for room in ["..", "../../etc", "a/b", "a\\b", "tab\there", ""] {
        let error = host.create(room).await.unwrap_err();
        // The host's own refusal, not the provider's.
        assert!(
            matches!(error, HostError::Runtime(Error::InvalidRoom(_))),
            "{room:?}: {error}"
        );
    }
    assert!(standin.seen().is_empty(), "nothing was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stricter_password_policy_gets_a_password_from_the_server() {
    let options = Options {
        password_min_length: 30,
        ..Options::default()
    };
    let (standin, host) = standin_and_host(options, "").await;
    let record = host
        .create("room-policy")
        .await
        .expect("retry with a generated password")
        .record;
    assert!(record.read.password.expose().len() >= 30);
    assert!(record.read_write.password.expose().len() >= 30);
    let generated = standin
        .seen()
        .iter()
        .filter(|r| r.target.contains("/generate?"))
        .count();
    assert_eq!(generated, 2);
    assert_eq!(standin.shares_on("opentalk/meetings/room-policy").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_folder_is_not_adopted_nor_touched() {
    let (standin, host) = standin_and_host(Options::default(), "").await;
    standin.make_folder("opentalk/meetings/taken");
    let error = host.create("taken").await.unwrap_err();
    assert!(
        matches!(
            error.provider_error(),
            Some(ProviderError::AlreadyExists(_))
        ),
        "{error}"
    );
    assert!(standin.folder_exists("opentalk/meetings/taken"));
    assert!(standin.storage().shares.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_of_one_room_make_one_folder() {
    let (standin, host) = standin_and_host(Options::default(), "").await;
    let (a, b, c) = tokio::join!(
        host.create("busy"),
        host.create("busy"),
        host.create("busy")
    );
    let (a, b, c) = (a.unwrap(), b.unwrap(), c.unwrap());
    assert_eq!(a.record, b.record);
    assert_eq!(b.record, c.record);
    assert_eq!([&a, &b, &c].iter().filter(|c| c.created).count(), 1);
    assert_eq!(standin.shares_on("opentalk/meetings/busy").len(), 2);
    let (d1, d2) = tokio::join!(host.delete("busy", false), host.delete("busy", false));
    assert_eq!(
        [d1.unwrap(), d2.unwrap()]
            .iter()
            .filter(|d| d.deleted())
            .count(),
        1
    );
    assert!(!standin.folder_exists("opentalk/meetings/busy"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parent_folder_another_create_is_making_is_asked_for_again() {
    // NextCloud may refuse one of two MKCOLs of the same new parent with 403 "Could not create
    // directory" (docs/nextcloud-behaviour.md, "Concurrent creates"): the first room of a new directory MKCOLs
    // the room (409), then `opentalk` — refused here once — then `opentalk/meetings`.
    let (standin, host) = standin_and_host(Options::default(), "").await;
    standin.inject(FaultRule {
        step: Step::Mkcol,
        nth: 1,
        fault: Fault::Status(403),
    });
    let record = host
        .create("room")
        .await
        .expect("the parent is asked for again")
        .record;
    assert!(standin.folder_exists(&record.path));
    // The room's own folder refused is a refusal.
    standin.inject(FaultRule::at(Step::Mkcol, Fault::Status(403)));
    let error = host.create("other").await.unwrap_err();
    assert!(
        matches!(
            error.provider_error(),
            Some(ProviderError::Remote { status: 403, .. })
        ),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_share_whose_creation_failed_or_lost_its_answer_is_found_or_made_once() {
    let (standin, host) = standin_and_host(Options::default(), "").await;
    // The server fails the read-only link's creation (a busy database: `24-…` [3]).
    standin.inject(FaultRule::at(
        Step::CreateShare { permissions: 1 },
        Fault::Status(500),
    ));
    // The read-write link is made, but its answer is lost.
    standin.inject(FaultRule::at(
        Step::CreateShare { permissions: 15 },
        Fault::ResetMidBody,
    ));
    let record = host
        .create("room")
        .await
        .expect("both links in the end")
        .record;
    let shares = standin.shares_on(&record.path);
    assert_eq!(shares.len(), 2, "no second link: {shares:?}");
    for (link, bits) in [(&record.read, 17), (&record.read_write, 31)] {
        let share = shares
            .iter()
            .find(|s| link.url.ends_with(&format!("/s/{}", s.token)))
            .expect("the recorded link is the one on the storage");
        assert_eq!(share.permissions, bits);
        assert_eq!(share.password.as_deref(), Some(link.password.expose()));
    }
}
