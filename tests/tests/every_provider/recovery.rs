//! Contract 0.4's `list-folders` and `recover`, and the host's audit and repair on top, against
//! every provider's stand-in: what is on the storage is found with its links; a folder is taken
//! over with its links' URLs and files kept and new passwords that work (the old ones no
//! longer do); the records and the storage are brought to agreement without losing a file.

use shared_folder_harness::stand_ins::{AnyStandIn, Kind};
use shared_folder_host::audit::{self, Access, Finding, Outcome};
use shared_folder_host::runtime::LinkAccess;
use shared_folder_host::{ErrorKind, Expected, Records};

const DIRECTORY: &str = "opentalk/meetings";

fn path(room: &str) -> String {
    format!("{DIRECTORY}/{room}")
}

every_provider!(
    list_names_each_folder_with_its_links,
    recover_keeps_urls_and_files_and_changes_passwords,
    repair_brings_records_and_storage_to_agreement,
);

async fn list_names_each_folder_with_its_links(kind: Kind) {
    let standin = AnyStandIn::start(kind).await;
    let host = standin.host().build();
    let runtime = host.runtime();
    // No room made yet: the directory does not exist, and nothing is there.
    assert_eq!(runtime.list_folders().await.unwrap(), Vec::new());

    let a = host.create("room-a").await.unwrap().record;
    let b = host.create("room b & ü").await.unwrap().record;
    standin.make_folder(&path("by-hand"));
    let mut found = runtime.list_folders().await.unwrap();
    found.sort_by(|x, y| x.room.cmp(&y.room));
    let rooms: Vec<&str> = found.iter().map(|f| f.room.as_str()).collect();
    assert_eq!(rooms, ["by-hand", "room b & ü", "room-a"]);
    assert!(found[0].links.is_empty(), "{:?}", found[0]);
    for (folder, record) in [(&found[2], &a), (&found[1], &b)] {
        assert_eq!(folder.location, record.path);
        let url = |access| {
            let urls: Vec<&str> = folder
                .links
                .iter()
                .filter(|l| l.access == access)
                .map(|l| l.url.as_str())
                .collect();
            urls
        };
        assert_eq!(url(LinkAccess::Read), [record.read.url.as_str()]);
        assert_eq!(url(LinkAccess::ReadWrite), [record.read_write.url.as_str()]);
    }
}

async fn recover_keeps_urls_and_files_and_changes_passwords(kind: Kind) {
    let standin = AnyStandIn::start(kind).await;
    let host = standin.host().build();
    let runtime = host.runtime();
    let before = host.create("room-1").await.unwrap().record;
    let put = standin
        .use_link(&before.read_write, "PUT", "notes.txt", b"kept")
        .await
        .unwrap();
    assert!(matches!(put, 201 | 204), "{put}");

    let after = runtime.recover("room-1").await.unwrap();
    assert_eq!(after.read.url, before.read.url);
    assert_eq!(after.read_write.url, before.read_write.url);
    assert_eq!(after.path, before.path);
    assert_ne!(after.read.password, before.read.password);
    assert_ne!(after.read_write.password, before.read_write.password);
    // The old passwords open nothing; the new ones open the folder, its file still there.
    for old in [&before.read, &before.read_write] {
        let status = standin
            .use_link(old, "GET", "notes.txt", b"")
            .await
            .unwrap();
        assert_eq!(status, 401, "the old password still opens {}", old.url);
    }
    for new in [&after.read, &after.read_write] {
        let status = standin
            .use_link(new, "GET", "notes.txt", b"")
            .await
            .unwrap();
        assert_eq!(
            status, 200,
            "the new password of {} does not open it",
            new.url
        );
    }
    assert_eq!(standin.links_on(&before.path).len(), 2);

    // A link deleted by hand is made again; the other keeps its URL.
    standin.remove_links(&before.path, false);
    let remade = runtime.recover("room-1").await.unwrap();
    assert_ne!(remade.read.url, before.read.url);
    assert_eq!(remade.read_write.url, before.read_write.url);
    assert_eq!(standin.links_on(&before.path).len(), 2);
    let status = standin
        .use_link(&remade.read, "GET", "notes.txt", b"")
        .await
        .unwrap();
    assert_eq!(status, 200);
    // The recovered record deletes the folder as a created one would.
    host.records().adopt(&remade).await.unwrap();
    assert!(host.delete("room-1", false).await.unwrap().deleted());
    assert!(!standin.folder_exists(&before.path));
    assert_eq!(standin.link_count(), 0);

    // No folder: not found, and nothing made.
    let missing = runtime.recover("room-1").await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound, "{missing}");
    assert!(!standin.folder_exists(&before.path));
}

async fn repair_brings_records_and_storage_to_agreement(kind: Kind) {
    let standin = AnyStandIn::start(kind).await;
    let host = standin
        .host()
        .records(Records::in_memory().unwrap())
        .build();
    for room in ["kept", "unrecorded", "gone", "lost-link", "replaced-link"] {
        host.create(room).await.unwrap();
    }
    standin.make_folder(&path("by-hand"));
    let unrecorded = host.folder("unrecorded").await.unwrap().unwrap();
    let put = standin
        .use_link(&unrecorded.read_write, "PUT", "minutes.txt", b"ours")
        .await
        .unwrap();
    assert!(matches!(put, 201 | 204), "{put}");
    // What a restored backup and hands on the storage leave:
    host.records().remove("unrecorded").await.unwrap();
    standin.remove(&path("gone"));
    standin.remove_links(&path("lost-link"), false);
    let replaced = host.folder("replaced-link").await.unwrap().unwrap();
    let mut stale = replaced.clone();
    stale.read_write.url = format!("{}-old", replaced.read_write.url);
    host.records().adopt(&stale).await.unwrap();

    let found = audit::audit(&host).await.unwrap();
    assert_eq!(
        found.findings,
        vec![
            Finding::FolderWithoutRecord {
                room: "by-hand".into(),
                location: path("by-hand"),
                links: 0,
                complete: false,
            },
            Finding::RecordWithoutFolder {
                room: "gone".into(),
                location: path("gone")
            },
            Finding::LinkMissing {
                room: "lost-link".into(),
                access: Access::Read
            },
            Finding::LinkDead {
                room: "replaced-link".into(),
                access: Access::ReadWrite
            },
            Finding::FolderWithoutRecord {
                room: "unrecorded".into(),
                location: path("unrecorded"),
                links: 2,
                complete: true,
            },
        ]
    );
    assert_eq!((found.folders, found.records), (5, 4));

    let repaired = audit::repair(&host, &found).await;
    let outcomes: Vec<(&str, &Outcome)> = repaired
        .iter()
        .map(|r| (r.room.as_str(), &r.outcome))
        .collect();
    assert!(
        matches!(outcomes[0], ("by-hand", Outcome::Left(_))),
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes[1..],
        [
            ("gone", &Outcome::Dropped),
            ("lost-link", &Outcome::Recovered),
            ("replaced-link", &Outcome::Recovered),
            ("unrecorded", &Outcome::Recovered),
        ]
    );
    let after = audit::audit(&host).await.unwrap();
    // Only the folder nothing shows a create made is left, as it was.
    assert_eq!(after.findings.len(), 1, "{:?}", after.findings);
    assert!(standin.folder_exists(&path("by-hand")));
    assert_eq!(host.folder("gone").await.unwrap(), None);
    // Every recorded link opens its folder with its recorded password, and no file was lost.
    for room in ["kept", "unrecorded", "lost-link", "replaced-link"] {
        let record = host.folder(room).await.unwrap().unwrap();
        for link in [&record.read, &record.read_write] {
            let status = standin.use_link(link, "PROPFIND", "", b"").await.unwrap();
            assert_eq!(status, 207, "{room}: {}", link.url);
        }
    }
    let unrecorded = host.folder("unrecorded").await.unwrap().unwrap();
    let status = standin
        .use_link(&unrecorded.read, "GET", "minutes.txt", b"")
        .await
        .unwrap();
    assert_eq!(status, 200);
    // The `recover` command's path: a folder without links taken over on request.
    let adopted = host.recover("by-hand", Expected::Either).await.unwrap();
    assert_eq!(adopted.path, path("by-hand"));
    assert!(audit::audit(&host).await.unwrap().agrees());
}

every_provider!(repair_never_touches_the_storage_for_what_it_cannot_be_sure_of);

/// What repair leaves alone: a folder in the trash bin (its files and links stay there, to be
/// restored), a folder without a link of each kind, and any room whose records changed since
/// the audit — a room made again meanwhile, a record written by a create finishing.
async fn repair_never_touches_the_storage_for_what_it_cannot_be_sure_of(kind: Kind) {
    let standin = AnyStandIn::start(kind).await;
    let host = standin
        .host()
        .line("delete_from_trash = true")
        .records(Records::in_memory().unwrap())
        .build();
    for room in ["trashed", "one-link", "made-again", "finished-meanwhile"] {
        host.create(room).await.unwrap();
    }
    let trashed = host.folder("trashed").await.unwrap().unwrap();
    let put = standin
        .use_link(&trashed.read_write, "PUT", "keep.txt", b"restorable")
        .await
        .unwrap();
    assert!(matches!(put, 201 | 204), "{put}");
    standin.move_to_trash(&path("trashed"));
    standin.remove_links(&path("one-link"), true);
    host.records().remove("one-link").await.unwrap();
    standin.remove(&path("made-again"));
    let finishing = host.folder("finished-meanwhile").await.unwrap().unwrap();
    host.records().remove("finished-meanwhile").await.unwrap();

    let found = audit::audit(&host).await.unwrap();
    let kinds: Vec<(&str, &str)> = found
        .findings
        .iter()
        .map(|f| (f.room(), f.kind()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("finished-meanwhile", "folder_without_record"),
            ("made-again", "record_without_folder"),
            ("one-link", "folder_without_record"),
            ("trashed", "record_without_folder"),
        ]
    );
    // Between the audit and the repair: the room is made again, and a create finishes.
    assert!(host.delete("made-again", false).await.unwrap().deleted());
    let again = host.create("made-again").await.unwrap().record;
    host.records().adopt(&finishing).await.unwrap();

    let repaired = audit::repair(&host, &found).await;
    let outcomes: Vec<(&str, bool)> = repaired
        .iter()
        .map(|r| (r.room.as_str(), matches!(r.outcome, Outcome::Left(_))))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("finished-meanwhile", true),
            ("made-again", true),
            ("one-link", true),
            ("trashed", false),
        ],
        "{repaired:?}"
    );
    assert!(matches!(repaired[3].outcome, Outcome::Dropped));
    // The trash bin still holds the folder, and nothing of it was purged.
    assert!(
        standin
            .trash_locations()
            .iter()
            .any(|l| l.trim_matches('/') == path("trashed")),
        "{:?}",
        standin.trash_locations()
    );
    assert_eq!(host.folder("trashed").await.unwrap(), None);
    // The room made again and the create that finished kept their folders, links and passwords.
    for record in [&again, &finishing] {
        assert!(standin.folder_exists(&record.path));
        for link in [&record.read, &record.read_write] {
            let status = standin.use_link(link, "PROPFIND", "", b"").await.unwrap();
            assert_eq!(status, 207, "{}: {}", record.room, link.url);
        }
    }
    assert!(standin.folder_exists(&path("one-link")));
}
