//! The stand-in answers as a real NextCloud 32 was measured to (docs/nextcloud-behaviour.md),
//! so that what the component is tested against is what it will meet.

use serde_json::Value;
use shared_folder_harness::client::{Reply, send};
use shared_folder_harness::{Options, StandIn};

struct Account<'a> {
    standin: &'a StandIn,
}

impl Account<'_> {
    fn creds(&self) -> Option<(&str, &str)> {
        let o = self.standin.options();
        Some((o.username.as_str(), o.password.as_str()))
    }

    async fn dav(&self, method: &str, path: &str, body: &[u8]) -> Reply {
        let url = format!(
            "{}remote.php/dav/files/{}/{path}",
            self.standin.url(),
            self.standin.options().username
        );
        send(method, &url, self.creds(), &[], body).await.unwrap()
    }

    async fn ocs(&self, method: &str, path: &str, form: &str) -> Reply {
        let url = format!("{}ocs/v2.php/apps/{path}", self.standin.url());
        let headers = [
            ("OCS-APIRequest", "true"),
            ("Accept", "application/json"),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ];
        send(method, &url, self.creds(), &headers, form.as_bytes())
            .await
            .unwrap()
    }
}

fn meta(reply: &Reply) -> (i64, String) {
    let json = reply.json();
    (
        json["ocs"]["meta"]["statuscode"].as_i64().unwrap_or(-1),
        json["ocs"]["meta"]["message"]
            .as_str()
            .unwrap_or("")
            .to_owned(),
    )
}

#[tokio::test]
async fn webdav_answers_like_the_recordings() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let account = Account { standin: &standin };
    // docs/nextcloud-behaviour.md, "Folders and files over WebDAV" (and "Requests and
    // authentication" for the 401); recording `01`
    assert_eq!(account.dav("MKCOL", "opentalk", b"").await.status, 201);
    let again = account.dav("MKCOL", "opentalk", b"").await;
    assert_eq!(again.status, 405);
    assert!(
        again
            .text()
            .contains("<s:message>The resource you tried to create already exists</s:message>")
    );
    let orphan = account.dav("MKCOL", "opentalk/meetings/x", b"").await;
    assert_eq!(orphan.status, 409);
    assert!(orphan.text().contains("Parent node does not exist"));
    assert_eq!(
        account
            .dav("PUT", "opentalk/file.txt", b"hello")
            .await
            .status,
        201
    );
    assert!(
        account
            .dav("MKCOL", "opentalk/file.txt/sub", b"")
            .await
            .text()
            .contains("Parent node is not a collection")
    );
    let wrong = send(
        "MKCOL",
        &format!("{}remote.php/dav/files/opentalk/y", standin.url()),
        Some(("opentalk", "wrong")),
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(wrong.status, 401);
    assert!(
        wrong
            .text()
            .contains("Sabre\\DAV\\Exception\\NotAuthenticated")
    );
    // docs/nextcloud-behaviour.md, "Folders and files over WebDAV"; recording `02`
    let listing = account.dav("PROPFIND", "opentalk", b"").await;
    assert_eq!(listing.status, 207);
    assert!(listing.text().contains("file.txt"));
    // Hrefs name the whole path below the user's root; a folder's ends with `/` (`02 [3]`).
    standin.make_folder("a/child");
    let user = &standin.options().username;
    let listing = account.dav("PROPFIND", "a", b"").await.text();
    for href in [
        format!("<d:href>/remote.php/dav/files/{user}/a/</d:href>"),
        format!("<d:href>/remote.php/dav/files/{user}/a/child/</d:href>"),
    ] {
        assert!(listing.contains(&href), "{href} in {listing}");
    }
    let missing = account
        .dav("PROPFIND", "opentalk/does-not-exist", b"")
        .await;
    assert_eq!(missing.status, 404);
    assert!(
        missing
            .text()
            .contains("File with name /opentalk/does-not-exist could not be located")
    );
    // docs/nextcloud-behaviour.md, "Folders and files over WebDAV"; recording `03`
    assert_eq!(account.dav("DELETE", "opentalk", b"").await.status, 204);
    assert_eq!(account.dav("DELETE", "opentalk", b"").await.status, 404);
}

#[tokio::test]
async fn ocs_shares_answer_like_the_recordings() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let account = Account { standin: &standin };
    standin.make_folder("opentalk/meetings/r");
    let shares = "files_sharing/api/v1/shares";

    // docs/nextcloud-behaviour.md, "Creating a public link"; recording `04 [1], [2]`: the share bit
    // is added; the URL form.
    let ro = account
        .ocs(
            "POST",
            shares,
            "path=%2Fopentalk%2Fmeetings%2Fr&shareType=3&permissions=1&password=Xy7-long-enough",
        )
        .await;
    assert_eq!((ro.status, meta(&ro).0), (200, 200));
    let data = &ro.json()["ocs"]["data"];
    assert_eq!(data["permissions"], 17);
    assert_eq!(data["item_type"], "folder");
    let token = data["token"].as_str().unwrap();
    assert_eq!(token.len(), 15);
    assert_eq!(
        data["url"].as_str().unwrap(),
        format!("{}index.php/s/{token}", standin.url())
    );
    let rw = account
        .ocs(
            "POST",
            shares,
            "path=%2Fopentalk%2Fmeetings%2Fr&shareType=3&permissions=15&password=Xy7-long-enough",
        )
        .await;
    assert_eq!(rw.json()["ocs"]["data"]["permissions"], 31);
    assert_eq!(rw.json()["ocs"]["data"]["mail_send"], 1);
    // A create-only link ("file drop") gets no share bit (`04 [4]`).
    let drop = account
        .ocs(
            "POST",
            shares,
            "path=%2Fopentalk%2Fmeetings%2Fr&shareType=3&permissions=4&password=Xy7-long-enough",
        )
        .await;
    assert_eq!(drop.json()["ocs"]["data"]["permissions"], 4);
    let drop_id = drop.json()["ocs"]["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        account
            .ocs("DELETE", &format!("{shares}/{drop_id}"), "")
            .await
            .status,
        200
    );

    // docs/nextcloud-behaviour.md, "Refusals when creating a link"; recording `05`
    let cases: [(&str, u16, &str); 7] = [
        (
            "path=%2Fopentalk%2Fmeetings%2Fr&shareType=3&permissions=1&password=abc",
            400,
            "Password needs to be at least 10 characters long.",
        ),
        (
            "path=%2Fopentalk%2Fmeetings%2Fr&shareType=3&permissions=1&password=passwordpassword",
            400,
            "Password is among the 1,000,000 most common ones. Please make it unique.",
        ),
        (
            "path=%2Fopentalk%2Fmeetings%2Fr&shareType=3&permissions=1&expireDate=2020-01-01",
            404,
            "Expiration date is in the past",
        ),
        (
            "path=%2Fopentalk%2Fmeetings%2Fr&shareType=3&permissions=1&expireDate=tomorrow",
            404,
            "Invalid date. Format must be YYYY-MM-DD",
        ),
        (
            "path=%2Fnope&shareType=3&permissions=1",
            404,
            "Wrong path, file/folder does not exist",
        ),
        (
            "shareType=3&permissions=1",
            404,
            "Please specify a file or folder path",
        ),
        (
            "path=%2Fopentalk%2Fmeetings%2Fr&shareType=3&permissions=2",
            400,
            "Share must at least have READ or CREATE permissions",
        ),
    ];
    for (form, status, message) in cases {
        let reply = account.ocs("POST", shares, form).await;
        assert_eq!(reply.status, status, "{form}");
        let (code, text) = meta(&reply);
        assert_eq!(code, i64::from(status), "{form}");
        assert!(text.contains(message), "{form}: {text}");
        assert_eq!(reply.json()["ocs"]["data"], Value::Array(vec![]));
    }
    // docs/nextcloud-behaviour.md, "Requests and authentication": without the OCS header (recording
    // `05 [15]`); bad credentials (`05 [13]`).
    let url = format!("{}ocs/v2.php/apps/{shares}", standin.url());
    let csrf = send("POST", &url, account.creds(), &[], b"").await.unwrap();
    assert_eq!(
        (csrf.status, csrf.text()),
        (412, r#"{"message":"CSRF check failed"}"#.to_owned())
    );
    let bad = send(
        "GET",
        &url,
        Some(("opentalk", "wrong")),
        &[("OCS-APIRequest", "true")],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(
        (bad.status, meta(&bad)),
        (401, (997, "Unauthorised".to_owned()))
    );
    // Refused credentials come with a challenge (`05 [13]`).
    assert_eq!(
        bad.headers["www-authenticate"],
        "Basic realm=\"Authorisation Required\""
    );

    // docs/nextcloud-behaviour.md, "Listing, reading and updating links", "Deleting a link";
    // recordings `07`, `12`
    let listed = account
        .ocs("GET", &format!("{shares}?path=/opentalk/meetings/r"), "")
        .await;
    assert_eq!(
        listed.json()["ocs"]["data"].as_array().map(Vec::len),
        Some(2)
    );
    let id = ro.json()["ocs"]["data"]["id"].as_str().unwrap().to_owned();
    let one = account.ocs("GET", &format!("{shares}/{id}"), "").await;
    assert_eq!(
        one.json()["ocs"]["data"][0]["id"],
        Value::String(id.clone())
    );
    assert_eq!(
        account
            .ocs("DELETE", &format!("{shares}/{id}"), "")
            .await
            .status,
        200
    );
    let gone = account.ocs("DELETE", &format!("{shares}/{id}"), "").await;
    assert_eq!(
        (gone.status, meta(&gone).1),
        (404, "Wrong share ID, share does not exist".to_owned())
    );
    // The folder's deletion takes the remaining share with it (`12 [8], [9]`).
    let rw_id = rw.json()["ocs"]["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        account
            .dav("DELETE", "opentalk/meetings/r", b"")
            .await
            .status,
        204
    );
    assert_eq!(
        account
            .ocs("GET", &format!("{shares}/{rw_id}"), "")
            .await
            .status,
        404
    );

    // docs/nextcloud-behaviour.md, "Password policy"; recording `11 [1]`
    let generated = account
        .ocs("GET", "password_policy/api/v1/generate", "")
        .await;
    assert!(
        generated.json()["ocs"]["data"]["password"]
            .as_str()
            .is_some_and(|p| p.len() >= 10)
    );
}

#[tokio::test]
async fn public_links_answer_like_the_recordings() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let account = Account { standin: &standin };
    standin.make_folder("opentalk/r");
    let ro = account
        .ocs(
            "POST",
            "files_sharing/api/v1/shares",
            "path=%2Fopentalk%2Fr&shareType=3&permissions=1&password=Xy7-long-enough",
        )
        .await;
    let token = ro.json()["ocs"]["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let dav = format!("{}public.php/dav/files/{token}/", standin.url());
    // docs/nextcloud-behaviour.md, "Public links over WebDAV"; recording `09 [1]–[4], [8], [18]`
    assert_eq!(
        send("PROPFIND", &dav, None, &[], b"").await.unwrap().status,
        401
    );
    assert_eq!(
        send(
            "PROPFIND",
            &dav,
            Some(("anonymous", "Xy7-long-enough")),
            &[],
            b""
        )
        .await
        .unwrap()
        .status,
        207
    );
    let wrong = send("PROPFIND", &dav, Some(("anonymous", "nope")), &[], b"")
        .await
        .unwrap();
    assert_eq!(wrong.status, 401);
    assert!(wrong.text().contains("Username or password was incorrect"));
    let put = send(
        "PUT",
        &format!("{dav}x.txt"),
        Some(("anonymous", "Xy7-long-enough")),
        &[],
        b"x",
    )
    .await
    .unwrap();
    assert_eq!(put.status, 403);
    assert!(put.text().contains("Sabre\\DAV\\Exception\\Forbidden"));
    let unknown = format!("{}public.php/dav/files/AAAAAAAAAAAAAAA/", standin.url());
    assert_eq!(
        send("PROPFIND", &unknown, Some(("anonymous", "x")), &[], b"")
            .await
            .unwrap()
            .status,
        401
    );
}

#[tokio::test]
async fn share_updates_answer_like_the_recordings() {
    // docs/nextcloud-behaviour.md, "Listing, reading and updating links"; recording `08`: what
    // OpenTalk's native client sends after each create.
    let standin = StandIn::start(Options::default()).await.unwrap();
    let account = Account { standin: &standin };
    assert_eq!(account.dav("MKCOL", "room", b"").await.status, 201);
    let shares = "files_sharing/api/v1/shares";
    let created = account
        .ocs("POST", shares, "path=/room&shareType=3&permissions=1")
        .await;
    let id = created.json()["ocs"]["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let share = format!("{shares}/{id}");

    // `08 [1]`: one field, the updated share back; the share bit stays added.
    let updated = account.ocs("PUT", &share, "expireDate=2099-12-22").await;
    assert_eq!(updated.status, 200);
    assert_eq!(
        updated.json()["ocs"]["data"]["expiration"],
        "2099-12-22 00:00:00"
    );
    let widened = account.ocs("PUT", &share, "permissions=15").await;
    assert_eq!(widened.json()["ocs"]["data"]["permissions"], 31);
    // `08 [4]`: permissions without READ or CREATE.
    let invalid = account.ocs("PUT", &share, "permissions=2").await;
    assert_eq!(invalid.status, 400);
    assert_eq!(
        meta(&invalid),
        (
            400,
            "Share must at least have READ or CREATE permissions".into()
        )
    );
    // `08 [5]`: an unknown id.
    let unknown = account
        .ocs("PUT", &format!("{shares}/999999"), "label=x")
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        meta(&unknown),
        (404, "Wrong share ID, share does not exist".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locks_php_json_and_the_trash_bin_answer_like_the_recordings() {
    let standin = StandIn::start(Options {
        lock_hold: std::time::Duration::from_millis(300),
        ..Options::default()
    })
    .await
    .unwrap();
    let account = Account { standin: &standin };
    for path in [
        "opentalk",
        "opentalk/meetings",
        "opentalk/meetings/r%C3%A4um-%F0%9F%98%80",
    ] {
        assert_eq!(account.dav("MKCOL", path, b"").await.status, 201);
    }
    // docs/nextcloud-behaviour.md, "JSON text"; recording `16 [1]`: PHP's JSON, every `/` and every
    // non-ASCII character escaped.
    let form = "path=%2Fopentalk%2Fmeetings%2Fr%C3%A4um-%F0%9F%98%80&shareType=3&permissions=1&password=a-Str0ng-Passw0rd";
    let created = account
        .ocs("POST", "files_sharing/api/v1/shares", form)
        .await;
    let text = created.text();
    assert!(
        text.contains(r#""path":"\/opentalk\/meetings\/r\u00e4um-\ud83d\ude00""#),
        "{text}"
    );
    let id = created.json()["ocs"]["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let form = "path=%2Fopentalk%2Fmeetings%2Fr%C3%A4um-%F0%9F%98%80&shareType=3&permissions=15&password=a-Str0ng-Passw0rd2";
    let other = account
        .ocs("POST", "files_sharing/api/v1/shares", form)
        .await;
    let other = other.json()["ocs"]["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // docs/nextcloud-behaviour.md, "Locking"; recording `15`: the folder's DELETE while a share of
    // it is being deleted: 423, FileLocked.
    let folder = "opentalk/meetings/r%C3%A4um-%F0%9F%98%80";
    let share_path = format!("files_sharing/api/v1/shares/{id}");
    let (unshared, locked) = tokio::join!(account.ocs("DELETE", &share_path, ""), async {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        account.dav("DELETE", folder, b"").await
    });
    assert_eq!(unshared.status, 200);
    assert_eq!(locked.status, 423, "{}", locked.text());
    assert!(
        locked.text().contains("Exception\\FileLocked"),
        "{}",
        locked.text()
    );
    assert!(
        locked.text().contains("is locked</s:message>"),
        "{}",
        locked.text()
    );
    assert_eq!(standin.locked_answers(), 1);

    // docs/nextcloud-behaviour.md, "Locking"; recordings `15`, `23 (d)`: a share DELETE that loses
    // to its folder's DELETE: the HTML 404.
    let other_path = format!("files_sharing/api/v1/shares/{other}");
    let (deleted, lost) = tokio::join!(account.dav("DELETE", folder, b""), async {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        account.ocs("DELETE", &other_path, "").await
    });
    assert_eq!(deleted.status, 204);
    assert_eq!(lost.status, 404);
    assert!(
        lost.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(lost.text().contains("Page not found"));

    // docs/nextcloud-behaviour.md, "Trash bin"; recording `19 [2]–[5]`: the folder in the trash
    // bin, listed; its entry deleted, then 404.
    let trash = format!("{}remote.php/dav/trashbin/opentalk/trash/", standin.url());
    let listing = send("PROPFIND", &trash, account.creds(), &[("Depth", "1")], b"")
        .await
        .unwrap();
    assert_eq!(listing.status, 207);
    let text = listing.text();
    assert!(
        text.contains("<nc:trashbin-original-location>opentalk/meetings/räum-😀</nc:trashbin-original-location>"),
        "{text}"
    );
    let entry = &standin.trash()[0].name;
    assert!(entry.starts_with("räum-😀.d"), "{entry}");
    let href = first_entry_href(&text);
    assert!(href.ends_with('/'), "a folder's entry: {href}");
    let url = format!("{}{}", standin.url(), href.trim_start_matches('/'));
    let removed = send("DELETE", &url, account.creds(), &[], b"")
        .await
        .unwrap();
    assert_eq!(removed.status, 204);
    let again = send("DELETE", &url, account.creds(), &[], b"")
        .await
        .unwrap();
    assert_eq!(again.status, 404);
    assert!(standin.trash().is_empty());

    // Only the escapes' hex digits are lower case: a name keeps its capitals (`03 [9]`), so
    // the entry can be deleted by the href it is listed under.
    standin.make_folder("opentalk/meetings/Big-Room");
    assert_eq!(
        account
            .dav("DELETE", "opentalk/meetings/Big-Room", b"")
            .await
            .status,
        204
    );
    let text = send("PROPFIND", &trash, account.creds(), &[("Depth", "1")], b"")
        .await
        .unwrap()
        .text();
    let href = first_entry_href(&text);
    assert!(href.contains("/Big-Room.d"), "{href}");
    let url = format!("{}{}", standin.url(), href.trim_start_matches('/'));
    let removed = send("DELETE", &url, account.creds(), &[], b"")
        .await
        .unwrap();
    assert_eq!(removed.status, 204);
    assert!(standin.trash().is_empty());
}

/// The href of a trash listing's first entry (after the trash bin's own).
fn first_entry_href(listing: &str) -> String {
    listing
        .split("<d:href>")
        .nth(2)
        .and_then(|h| h.split("</d:href>").next())
        .unwrap_or_else(|| panic!("no entry in {listing}"))
        .to_owned()
}
