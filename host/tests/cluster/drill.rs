//! The restore drill: the records' database goes back to a backup while the storage moved on.
//! `audit` names every difference, `repair` leaves records and storage in agreement, no file
//! uploaded through a link is lost, every participant holds a link and password that work,
//! and the open sessions of a serving host get their new view.
//!
//! The backup is a copy of the `folders` table taken with SQL and written back over it, as a
//! `pg_dump` of it restored would.

use std::time::Duration;

use serde_json::{Value, json};
use shared_folder_test_support::Options;
use shared_folder_test_support::public_link;

use super::fixture::{Cluster, folder, path};
use crate::common::Server;
use crate::common::sessions::{self, next};

/// A room's view for a moderator, created through `server`.
async fn create(server: &Server, room: &str) -> Value {
    let created = server.call("PUT", &folder(room), None).await;
    assert_eq!(created.status, 201, "{room}: {}", created.text());
    created.json()
}

/// Puts `file` into the folder of `view` through its read-write link.
async fn upload(view: &Value, file: &str, content: &[u8]) {
    let (status, _) = public_link::nextcloud(
        link(view, "read_write").0,
        link(view, "read_write").1,
        "PUT",
        file,
        content,
    )
    .await
    .unwrap();
    assert!(matches!(status, 201 | 204), "PUT {file}: {status}");
}

fn link<'a>(view: &'a Value, which: &str) -> (&'a str, &'a str) {
    (
        view[which]["url"].as_str().unwrap(),
        view[which]["password"].as_str().unwrap(),
    )
}

/// The status of `method` on `file` through a link, with its password.
async fn through(link: (&str, &str), method: &str, file: &str) -> (u16, Vec<u8>) {
    public_link::nextcloud(link.0, link.1, method, file, b"")
        .await
        .unwrap()
}

/// Whether the serving host's audit metric for `kind` reads `value` within 10 s.
async fn audit_metric_reads(server: &Server, kind: &str, value: &str) -> bool {
    let name = format!("shared_folder_audit_findings{{kind=\"{kind}\"}} ");
    for _ in 0..100 {
        let text = server.call_as(None, "GET", "/metrics", None).await.text();
        if text
            .lines()
            .any(|line| line.strip_prefix(&name) == Some(value))
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_database_is_audited_and_repaired_without_losing_a_file() {
    let cluster = Cluster::start("drill", Options::default(), "audit_interval = 1").await;
    let host = cluster.serve();

    // Before the backup.
    let files = create(&host, "files").await;
    upload(&files, "agenda.txt", b"before the backup").await;
    create(&host, "deleted-since").await;
    create(&host, "link-deleted").await;
    create(&host, "kept").await;
    cluster.sql("CREATE TABLE backup AS SELECT * FROM folders");

    // After it: rooms made (one with a file), one deleted, a link deleted by hand, a file added.
    let made = create(&host, "made-since").await;
    upload(&made, "minutes.txt", b"made after the backup").await;
    create(&host, "made-since-2").await;
    let deleted = host.call("DELETE", &folder("deleted-since"), None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text());
    cluster
        .standin
        .remove_shares(&path("link-deleted"), |share| !share.can(4));
    upload(&files, "notes.txt", b"after the backup").await;

    // The restore.
    cluster.sql("BEGIN; DELETE FROM folders; INSERT INTO folders SELECT * FROM backup; COMMIT;");
    assert_eq!(cluster.records(), 4);

    // Sessions that open on the restored records: one holds a dead link, one a folder that
    // is gone.
    let (mut moderator, welcome) = sessions::join(&host, "link-deleted", "mona", "moderator").await;
    let stale = welcome["payload"]["shared_folder"]["read"]["url"].clone();
    assert!(stale.is_string(), "{welcome}");
    let (mut participant, welcome) =
        sessions::join(&host, "deleted-since", "paul", "participant").await;
    assert!(
        welcome["payload"]["shared_folder"]["read"].is_object(),
        "{welcome}"
    );

    // `audit` names every difference, and changes nothing.
    let audit = cluster.run("audit", &["--json"]).await;
    assert_eq!(audit.code, Some(4), "{audit:?}");
    let findings: Vec<(String, String)> = audit.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["room"].as_str().unwrap().to_owned(),
                f["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("deleted-since", "record_without_folder"),
        ("link-deleted", "link_missing"),
        ("made-since", "folder_without_record"),
        ("made-since-2", "folder_without_record"),
    ];
    assert_eq!(
        findings,
        expected.map(|(room, kind)| (room.to_owned(), kind.to_owned()))
    );
    let table = cluster.run("audit", &[]).await;
    assert_eq!(table.code, Some(4));
    assert!(
        table
            .stdout
            .contains("2 folder without record, 1 link missing, 1 record without folder"),
        "{}",
        table.stdout
    );
    // The serving host counts the same on its schedule.
    assert!(audit_metric_reads(&host, "folder_without_record", "2").await);
    assert!(audit_metric_reads(&host, "record_without_folder", "1").await);

    // Without --apply, a dry run.
    let dry = cluster.run("repair", &[]).await;
    assert_eq!(dry.code, Some(4), "{dry:?}");
    assert_eq!(cluster.records(), 4);

    let repair = cluster.run("repair", &["--apply", "--json"]).await;
    assert_eq!(repair.code, Some(0), "{repair:?}");
    let outcomes: Vec<(String, String)> = repair.json()["repaired"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["room"].as_str().unwrap().to_owned(),
                r["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("deleted-since", "dropped"),
        ("link-deleted", "recovered"),
        ("made-since", "recovered"),
        ("made-since-2", "recovered"),
    ];
    assert_eq!(
        outcomes,
        expected.map(|(room, outcome)| (room.to_owned(), outcome.to_owned()))
    );
    assert_eq!(repair.json()["after"]["findings"], json!([]));
    assert_eq!(cluster.run("audit", &[]).await.code, Some(0));

    // The open sessions got their new view: the moderator a working read link, the
    // participant of the gone folder its end.
    let update = next(&mut moderator).await;
    assert_eq!(update["payload"]["message"], "updated", "{update}");
    assert_ne!(update["payload"]["read"]["url"], stale, "{update}");
    let fresh = (
        update["payload"]["read"]["url"].as_str().unwrap(),
        update["payload"]["read"]["password"].as_str().unwrap(),
    );
    assert_eq!(through(fresh, "PROPFIND", "").await.0, 207);
    let update = next(&mut participant).await;
    assert_eq!(update["payload"]["message"], "deleted", "{update}");

    // Every room on record: both links open with the passwords a participant is given now,
    // and no file was lost.
    assert_eq!(cluster.records(), 5);
    for room in [
        "files",
        "link-deleted",
        "kept",
        "made-since",
        "made-since-2",
    ] {
        let view = host
            .call("GET", &format!("{}?role=moderator", folder(room)), None)
            .await;
        assert_eq!(view.status, 200, "{room}: {}", view.text());
        let view = view.json();
        for which in ["read", "read_write"] {
            assert_eq!(
                through(link(&view, which), "PROPFIND", "").await.0,
                207,
                "{room}: {which}"
            );
        }
    }
    let files = host
        .call("GET", &format!("{}?role=moderator", folder("files")), None)
        .await
        .json();
    for (file, content) in [
        ("agenda.txt", &b"before the backup"[..]),
        ("notes.txt", b"after the backup"),
    ] {
        assert_eq!(
            through(link(&files, "read"), "GET", file).await,
            (200, content.to_vec())
        );
    }
    let made = host
        .call(
            "GET",
            &format!("{}?role=moderator", folder("made-since")),
            None,
        )
        .await
        .json();
    assert_eq!(
        through(link(&made, "read"), "GET", "minutes.txt").await,
        (200, b"made after the backup".to_vec())
    );
    assert!(!cluster.standin.folder_exists(&path("deleted-since")));
    assert!(audit_metric_reads(&host, "folder_without_record", "0").await);
}
