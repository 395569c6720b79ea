//! ownCloud 10 through the NextCloud component, on the stand-in answering as ownCloud
//! (`Options::flavour = Flavour::OwnCloud`, docs/owncloud-behaviour.md): OCS asked for JSON in
//! the URL, links used at ownCloud's two public WebDAV paths, deleted folders taken out of
//! ownCloud's trash bin, and a folder DELETE that a busy ownCloud refuses with 403 asked again.

use shared_folder_harness::standin::Flavour;
use shared_folder_harness::{
    Fault, FaultRule, Options, Step, client, public_link, standin_and_host,
};
use shared_folder_host::public_links::PublicDav;

fn owncloud() -> Options {
    Options {
        flavour: Flavour::OwnCloud,
        ..Options::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_is_made_used_and_deleted_on_owncloud_leaving_nothing_in_its_trash_bin() {
    let (standin, host) = standin_and_host(owncloud(), "delete_from_trash = true").await;
    let record = host.create("room").await.unwrap().record;
    let (rw, ro) = (&record.read_write, &record.read);
    // Every OCS request asked for JSON in its URL: ownCloud ignores `Accept`.
    let ocs: Vec<String> = standin
        .seen()
        .into_iter()
        .filter(|r| r.target.contains("/ocs/"))
        .map(|r| r.target)
        .collect();
    assert_eq!(ocs.len(), 2, "{ocs:?}");
    assert!(ocs.iter().all(|t| t.contains("format=json")), "{ocs:?}");
    // The links keep the permissions asked for (no share bit on ownCloud).
    let shares = standin.storage().shares;
    let mut bits: Vec<u32> = shares.values().map(|s| s.permissions).collect();
    bits.sort();
    assert_eq!(bits, [1, 15]);

    // Both of ownCloud's public WebDAV paths: `/public.php/webdav/` (token as user) and
    // `/remote.php/dav/public-files/<token>/` (user `public`).
    let put = public_link::nextcloud(&rw.url, rw.password.expose(), "PUT", "a.txt", b"agenda")
        .await
        .unwrap();
    assert_eq!(put.0, 201);
    let token = ro.url.rsplit('/').next().unwrap();
    let base = standin.url();
    let url = format!("{base}remote.php/dav/public-files/{token}/a.txt");
    let read = client::send(
        "GET",
        &url,
        Some(("public", ro.password.expose())),
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!((read.status, read.body.as_slice()), (200, &b"agenda"[..]));
    let other_user = client::send(
        "GET",
        &url,
        Some(("anonymous", ro.password.expose())),
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(other_user.status, 401);
    let refused = public_link::request(
        PublicDav::PublicPhp,
        &ro.url,
        ro.password.expose(),
        "PUT",
        "b.txt",
        b"x",
    )
    .await
    .unwrap();
    assert_eq!(refused.0, 403);
    // A participant deletes a file: it lands in the trash bin too.
    public_link::nextcloud(&rw.url, rw.password.expose(), "DELETE", "a.txt", b"")
        .await
        .unwrap();
    assert_eq!(standin.trash().len(), 1);

    assert!(host.delete("room", false).await.unwrap().deleted());
    assert!(standin.storage().shares.is_empty());
    assert!(!standin.folder_exists(&record.path));
    assert!(
        standin.trash().is_empty(),
        "ownCloud's trash bin was not emptied: {:?}",
        standin.trash()
    );
    // NextCloud's trash path was asked first, answered 404, then ownCloud's.
    let trash: Vec<String> = standin
        .seen()
        .into_iter()
        .filter(|r| r.target.contains("trash"))
        .map(|r| format!("{} {}", r.method, r.target))
        .collect();
    assert!(trash[0].contains("/trashbin/"), "{trash:?}");
    assert!(trash[1].contains("/trash-bin/"), "{trash:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_delete_from_trash_the_folder_stays_in_owncloud_s_trash_bin() {
    let (standin, host) = standin_and_host(owncloud(), "").await;
    let record = host.create("room").await.unwrap().record;
    assert!(host.delete("room", false).await.unwrap().deleted());
    let trash = standin.trash();
    assert_eq!(trash.len(), 1);
    assert_eq!(trash[0].original_location, record.path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_delete_refused_with_403_by_a_busy_owncloud_is_asked_again() {
    let (standin, host) = standin_and_host(owncloud(), "").await;
    let record = host.create("room").await.unwrap().record;
    // ownCloud on a busy database: "database is locked" while releasing the folder's lock
    // becomes a 403 with an empty message (docs/owncloud-behaviour.md, "Concurrency").
    standin.inject(FaultRule::at(Step::DeleteFolder, Fault::Status(403)));
    assert!(host.delete("room", false).await.unwrap().deleted());
    assert!(!standin.folder_exists(&record.path));
    let deletes = standin
        .seen()
        .into_iter()
        .filter(|r| r.method == "DELETE" && r.target.contains("/remote.php/dav/files/"))
        .count();
    assert_eq!(deletes, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owncloud_stand_in_answers_as_owncloud_was_seen_to() {
    let (standin, _host) = standin_and_host(owncloud(), "").await;
    let base = standin.url();
    let account = Some(("opentalk", "stand-in-account-Passw0rd"));
    let ocs = [("ocs-apirequest", "true"), ("accept", "application/json")];
    // XML unless the URL asks for JSON; `Accept` is not enough.
    let capabilities = format!("{base}ocs/v2.php/cloud/capabilities");
    let xml = client::send("GET", &capabilities, account, &ocs, b"")
        .await
        .unwrap();
    assert!(xml.text().starts_with("<?xml"), "{}", xml.text());
    let json = client::send(
        "GET",
        &format!("{capabilities}?format=json"),
        account,
        &ocs,
        b"",
    )
    .await
    .unwrap()
    .json();
    assert_eq!(json["ocs"]["data"]["version"]["product"], "ownCloud");
    assert!(
        json["ocs"]["data"]["capabilities"]
            .get("bruteforce")
            .is_none()
    );
    let status = client::send("GET", &format!("{base}status.php"), None, &[], b"")
        .await
        .unwrap()
        .json();
    assert_eq!(status["productname"], "ownCloud");
    // NextCloud's newer public WebDAV is not there.
    let newer = client::send(
        "PROPFIND",
        &format!("{base}public.php/dav/files/abc/"),
        Some(("anonymous", "x")),
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(newer.status, 500);
    // NextCloud's trash path is not there either.
    let trash = client::send(
        "PROPFIND",
        &format!("{base}remote.php/dav/trashbin/opentalk/trash/"),
        account,
        &[("depth", "1")],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(trash.status, 404);
    // No password generator.
    let generate = client::send(
        "GET",
        &format!("{base}ocs/v2.php/apps/password_policy/api/v1/generate?format=json"),
        account,
        &ocs,
        b"",
    )
    .await
    .unwrap();
    assert_eq!(generate.status, 500);
}
