//! The OpenCloud stand-in answers as a real OpenCloud 0.1.0 was seen to answer, and where nothing
//! was seen as OpenCloud's source was read to answer (`/work/shared/opencloud/API-NOTES.md`), in
//! the words of docs/opencloud-behaviour.md, whose sections each block cites, so that a provider
//! tested against it meets what it will meet.

use std::time::Duration;

use serde_json::Value;
use shared_folder_harness::client::{Reply, send};
use shared_folder_host::public_links::PublicDav;
use shared_folder_test_support::opencloud::{
    Fault, FaultRule, LinkType, OpenCloudStandIn, Options, PasswordPolicy, Step,
};

struct Account<'a> {
    standin: &'a OpenCloudStandIn,
}

impl Account<'_> {
    fn creds(&self) -> Option<(&str, &str)> {
        let o = self.standin.options();
        Some((o.username.as_str(), o.app_token.as_str()))
    }

    /// The drive id as the provider sends it in a path: `$` as `%24` (API-NOTES §1).
    fn drive(&self) -> String {
        self.standin.drive_id().replace('$', "%24")
    }

    /// The space's root as HEAD reports it: `<drive>!<space>` (docs/opencloud-behaviour.md,
    /// "IDs").
    fn root_item(&self) -> String {
        let drive = self.standin.drive_id();
        let space = drive.split_once('$').unwrap().1.to_owned();
        format!("{drive}!{space}")
    }

    async fn dav(&self, method: &str, path: &str, body: &[u8]) -> Reply {
        self.dav_with(method, path, &[], body).await
    }

    async fn dav_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        let url = format!("{}dav/spaces/{}/{path}", self.standin.url(), self.drive());
        send(method, &url, self.creds(), headers, body)
            .await
            .unwrap()
    }

    async fn graph(&self, method: &str, path: &str, body: &str) -> Reply {
        let url = format!("{}graph/{path}", self.standin.url());
        let headers = [
            ("Accept", "application/json"),
            ("Content-Type", "application/json"),
        ];
        send(method, &url, self.creds(), &headers, body.as_bytes())
            .await
            .unwrap()
    }

    /// `POST …/createLink` on the item id `item` (with `$` encoded).
    async fn create_link(&self, item: &str, body: &str) -> Reply {
        let path = format!(
            "v1beta1/drives/{}/items/{}/createLink",
            self.drive(),
            item.replace('$', "%24")
        );
        self.graph("POST", &path, body).await
    }

    async fn permissions(&self, method: &str, item: &str, rest: &str) -> Reply {
        let path = format!(
            "v1beta1/drives/{}/items/{}/permissions{rest}",
            self.drive(),
            item.replace('$', "%24")
        );
        self.graph(method, &path, "").await
    }
}

/// The odata error's code and message, checking the whole shape (API-NOTES §1).
fn odata(reply: &Reply) -> (String, String) {
    let json = reply.json();
    let error = &json["error"];
    assert!(
        error["innererror"]["date"]
            .as_str()
            .is_some_and(|d| d.ends_with('Z')),
        "{}",
        reply.text()
    );
    assert!(
        error["innererror"]["request-id"].is_string(),
        "{}",
        reply.text()
    );
    (
        error["code"].as_str().unwrap_or_default().to_owned(),
        error["message"].as_str().unwrap_or_default().to_owned(),
    )
}

fn letters(text: &str) -> bool {
    text.len() == 15 && text.chars().all(|c| c.is_ascii_alphabetic())
}

#[tokio::test]
async fn the_drive_and_authentication_answer_as_the_notes_say() {
    let standin = OpenCloudStandIn::start(Options::default()).await.unwrap();
    let account = Account { standin: &standin };
    // docs/opencloud-behaviour.md, "The personal drive" and "IDs" (API-NOTES §1, §3.1).
    let reply = account.graph("GET", "v1.0/me/drive", "").await;
    assert_eq!(reply.status, 200);
    let drive = reply.json();
    let id = drive["id"].as_str().unwrap().to_owned();
    // Both parts are UUIDs: the users' storage provider's and the space's (the owner's id).
    let (storage, space) = id.split_once('$').unwrap();
    assert_eq!((storage.len(), space.len()), (36, 36), "{id}");
    assert_eq!(storage.matches('-').count(), 4, "{id}");
    assert_eq!(id, standin.drive_id());
    assert_eq!(drive["driveType"], "personal");
    // Named by the display name; the owner's display name is empty; no quota.
    assert_eq!(drive["name"], "OpenTalk");
    assert_eq!(drive["owner"]["user"]["id"], space);
    assert_eq!(drive["owner"]["user"]["displayName"], "");
    assert_eq!(drive["quota"]["remaining"], i64::MAX);
    assert_eq!(drive["root"]["id"], id.as_str());
    assert_eq!(
        drive["root"]["webDavUrl"],
        format!("{}dav/spaces/{id}", standin.url()).as_str()
    );
    // The share jail comes first in me/drives (API-NOTES §6).
    let drives = account.graph("GET", "v1.0/me/drives", "").await.json();
    let types: Vec<&str> = drives["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["driveType"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["virtual", "personal"]);
    assert_eq!(drives["value"][0]["name"], "Shares");

    // docs/opencloud-behaviour.md, "Authentication" (API-NOTES §6): Graph's 401 has no body and
    // two challenges; WebDAV methods get XML, even on a Graph path.
    let url = format!("{}graph/v1.0/me/drive", standin.url());
    let refused = send("GET", &url, Some(("opentalk", "wrong")), &[], b"")
        .await
        .unwrap();
    assert_eq!(refused.status, 401);
    assert!(refused.body.is_empty());
    let host = standin.addr().to_string();
    let challenges: Vec<&str> = refused
        .headers
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(
        challenges,
        [
            format!("Bearer realm=\"{host}\", charset=\"UTF-8\""),
            format!("Basic realm=\"{host}\", charset=\"UTF-8\"")
        ]
    );
    let anonymous = send("GET", &url, None, &[], b"").await.unwrap();
    assert_eq!((anonymous.status, anonymous.body.len()), (401, 0));
    let mkcol = send(
        "MKCOL",
        &format!("{}dav/spaces/{}/x", standin.url(), account.drive()),
        Some(("other-user", standin.options().app_token.as_str())),
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(mkcol.status, 401);
    // The proxy's own XML: capitalised element names, no `s:errorcode`.
    assert_eq!(
        mkcol.text(),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<d:error xmlns:d=\"DAV\" xmlns:s=\"http://sabredav.org/ns\"><s:Exception>Sabre\\DAV\\Exception\\PermissionDenied</s:Exception><s:Message>Authentication error</s:Message></d:error>"
    );
    assert_eq!(mkcol.headers["content-type"], "text/xml; charset=utf-8");
    assert_eq!(mkcol.headers.get_all("www-authenticate").iter().count(), 2);
    let graph_delete = send(
        "DELETE",
        &format!(
            "{}graph/v1beta1/drives/{}/items/x",
            standin.url(),
            account.drive()
        ),
        None,
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(graph_delete.status, 401);
    assert!(graph_delete.text().starts_with("<?xml"));
    assert!(!standin.folder_exists("x"));
    let seen = standin.seen();
    assert_eq!(seen.len(), 6);
    assert!(seen[0].authenticated && !seen[2].authenticated);
    assert_eq!(seen[4].method, "MKCOL");
    standin.forget_seen();
    assert!(standin.seen().is_empty());
}

#[tokio::test]
async fn a_base_path_and_latency_are_honoured() {
    let standin = OpenCloudStandIn::start(Options {
        base_path: "/cloud".into(),
        latency: Duration::from_millis(150),
        ..Options::default()
    })
    .await
    .unwrap();
    let account = Account { standin: &standin };
    assert!(standin.url().ends_with("/cloud/"), "{}", standin.url());
    let started = std::time::Instant::now();
    let drive = account.graph("GET", "v1.0/me/drive", "").await;
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(drive.status, 200);
    // Links and WebDAV URLs are built on the base.
    assert!(
        drive.json()["root"]["webDavUrl"]
            .as_str()
            .unwrap()
            .contains("/cloud/dav/spaces/")
    );
    let outside = send(
        "GET",
        &format!("http://{}/graph/v1.0/me/drive", standin.addr()),
        account.creds(),
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(outside.status, 404);
}

#[tokio::test]
async fn folders_over_webdav_answer_as_the_notes_say() {
    let standin = OpenCloudStandIn::start(Options::default()).await.unwrap();
    let account = Account { standin: &standin };
    // docs/opencloud-behaviour.md, "Folders over WebDAV" (API-NOTES §3.2).
    let created = account.dav("MKCOL", "meetings", b"").await;
    assert_eq!(created.status, 201);
    assert!(created.body.is_empty());
    assert!(created.headers.get("oc-fileid").is_none());
    let again = account.dav("MKCOL", "meetings", b"").await;
    assert_eq!(again.status, 405);
    assert!(
        again
            .text()
            .contains("Sabre\\DAV\\Exception\\MethodNotAllowed")
    );
    assert!(
        again
            .text()
            .contains("The resource you tried to create already exists")
    );
    // A missing parent: 409 in the storage's words, naming the first missing folder above the
    // parent, or the parent's path when only the parent is missing.
    for (path, message) in [
        (
            "nope/room",
            "create container: error: precondition failed: nope",
        ),
        (
            "nope/deeper/room",
            "create container: error: precondition failed: error: not found: nope",
        ),
        (
            "meetings/nope/room",
            "create container: error: precondition failed: meetings/nope",
        ),
    ] {
        let conflict = account.dav("MKCOL", path, b"").await;
        assert_eq!(conflict.status, 409, "{path}");
        assert!(
            conflict
                .text()
                .contains(&format!("<s:message>{message}</s:message>")),
            "{path}: {}",
            conflict.text()
        );
    }
    let with_body = account.dav("MKCOL", "meetings/x", b"<mkcol/>").await;
    assert_eq!(with_body.status, 415);
    assert!(with_body.text().contains("extended-mkcol not supported"));
    assert!(!standin.folder_exists("meetings/x"));
    // `/remote.php/dav/spaces/…` is the same (API-NOTES §1).
    let remote = send(
        "MKCOL",
        &format!(
            "{}remote.php/dav/spaces/{}/meetings/room",
            standin.url(),
            account.drive()
        ),
        account.creds(),
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(remote.status, 201);
    assert!(standin.folder_exists("meetings/room"));

    // docs/opencloud-behaviour.md, "Folders over WebDAV" (API-NOTES §3.3): HEAD's OC-FileId.
    let head = account.dav("HEAD", "meetings/room", b"").await;
    assert_eq!(head.status, 200);
    let file_id = head.headers["oc-fileid"].to_str().unwrap().to_owned();
    let (space, opaque) = file_id.split_once('!').unwrap();
    assert_eq!(space, standin.drive_id());
    assert_eq!(opaque.len(), 36);
    assert_eq!(
        standin.item_id("meetings/room").as_deref(),
        Some(file_id.as_str())
    );
    // An item id in place of the drive id addresses that item (API-NOTES §1).
    let by_id = send(
        "HEAD",
        &format!(
            "{}dav/spaces/{}",
            standin.url(),
            file_id.replace('$', "%24")
        ),
        account.creds(),
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(by_id.status, 200);
    assert_eq!(by_id.headers["oc-fileid"], file_id.as_str());
    let missing = account.dav("HEAD", "meetings/gone", b"").await;
    assert_eq!((missing.status, missing.body.len()), (404, 0));
    // PROPFIND without a body: ocdav's set of properties, no `<?xml?>` declaration, the
    // namespaces in the order s, d, oc, the `$` of the href literal, dates in GMT.
    let propfind = account
        .dav_with("PROPFIND", "meetings/room", &[("Depth", "0")], b"")
        .await;
    assert_eq!(propfind.status, 207);
    assert_eq!(
        propfind.headers["content-type"],
        "application/xml; charset=utf-8"
    );
    let text = propfind.text();
    let meetings = standin.item_id("meetings").unwrap();
    let expected_start = format!(
        "<d:multistatus xmlns:s=\"http://sabredav.org/ns\" xmlns:d=\"DAV:\" xmlns:oc=\"http://owncloud.org/ns\"><d:response><d:href>/dav/spaces/{drive}/meetings/room/</d:href><d:propstat><d:prop><oc:id>{file_id}</oc:id><oc:fileid>{file_id}</oc:fileid><oc:spaceid>{drive}</oc:spaceid><oc:file-parent>{meetings}</oc:file-parent><oc:name>room</oc:name><d:displayname>room</d:displayname><d:getetag>",
        drive = standin.drive_id()
    );
    assert!(text.starts_with(&expected_start), "{text}");
    for part in [
        "<oc:permissions>RDNVCKZP</oc:permissions><d:resourcetype><d:collection/></d:resourcetype><oc:size>0</oc:size><d:getlastmodified>",
        " GMT</d:getlastmodified><oc:tags></oc:tags><oc:favorite>0</oc:favorite></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat><d:propstat><d:prop><oc:audio></oc:audio><oc:location></oc:location><oc:image></oc:image><oc:photo></oc:photo></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response></d:multistatus>",
    ] {
        assert!(text.contains(part), "{part}: {text}");
    }
    // With a body, only the asked properties, in the asked order.
    let asked = account
        .dav_with(
            "PROPFIND",
            "meetings/room",
            &[("Depth", "0"), ("Content-Type", "application/xml")],
            br#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop><oc:fileid/><oc:id/></d:prop></d:propfind>"#,
        )
        .await;
    assert_eq!(
        asked.text(),
        format!(
            "<d:multistatus xmlns:s=\"http://sabredav.org/ns\" xmlns:d=\"DAV:\" xmlns:oc=\"http://owncloud.org/ns\"><d:response><d:href>/dav/spaces/{}/meetings/room/</d:href><d:propstat><d:prop><oc:fileid>{file_id}</oc:fileid><oc:id>{file_id}</oc:id></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>",
            standin.drive_id()
        )
    );
    // Names escaped per segment as Go escapes a path: `!` escaped, `$` not; hrefs follow the
    // request's `/remote.php`.
    standin.make_folder("meetings/a b!$");
    let listed = send(
        "PROPFIND",
        &format!(
            "{}remote.php/dav/spaces/{}/meetings",
            standin.url(),
            account.drive()
        ),
        account.creds(),
        &[("Depth", "1")],
        br#"<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop><oc:name/></d:prop></d:propfind>"#,
    )
    .await
    .unwrap();
    assert!(
        listed.text().contains(&format!(
            "<d:href>/remote.php/dav/spaces/{}/meetings/a%20b%21$/</d:href><d:propstat><d:prop><oc:name>a b!$</oc:name></d:prop>",
            standin.drive_id()
        )),
        "{}",
        listed.text()
    );
    // The root's id as HEAD reports it: `<drive>!<space>` (API-NOTES §6).
    let root = account.dav("HEAD", "", b"").await;
    let root_id = root.headers["oc-fileid"].to_str().unwrap().to_owned();
    assert_eq!(root_id, account.root_item());

    // docs/opencloud-behaviour.md, "Deleting the folder" (API-NOTES §3.8): recursive, into the
    // trash bin.
    assert_eq!(
        account
            .dav("PUT", "meetings/room/notes.txt", b"hello")
            .await
            .status,
        201
    );
    assert_eq!(
        account
            .dav("PUT", "meetings/room/notes.txt", b"hello!")
            .await
            .status,
        204
    );
    assert_eq!(
        standin.file("meetings/room/notes.txt").as_deref(),
        Some(&b"hello!"[..])
    );
    // A missing parent: 409 without a body. A folder's GET: 200, empty.
    let orphan = account.dav("PUT", "meetings/nope/b.txt", b"x").await;
    assert_eq!((orphan.status, orphan.body.len()), (409, 0));
    let folder = account.dav("GET", "meetings/room", b"").await;
    assert_eq!((folder.status, folder.body.len()), (200, 0));
    let deleted = account.dav("DELETE", "meetings/room", b"").await;
    assert_eq!((deleted.status, deleted.body.len()), (204, 0));
    assert!(!standin.folder_exists("meetings/room"));
    assert!(standin.files_in("meetings").is_empty());
    let trash = standin.trash();
    assert_eq!(trash.len(), 1);
    assert_eq!(trash[0].item_id, file_id);
    assert_eq!(trash[0].original_location, "meetings/room");
    assert_eq!(trash[0].nodes.keys().collect::<Vec<_>>(), ["", "notes.txt"]);
    let gone = account.dav("DELETE", "meetings/room", b"").await;
    assert_eq!(gone.status, 404);
    assert!(gone.text().contains("Sabre\\DAV\\Exception\\NotFound"));
    let space_root = account.dav("DELETE", "", b"").await;
    assert_eq!(space_root.status, 405);
    assert!(
        space_root
            .text()
            .contains("deleting spaces via dav is not allowed")
    );
}

#[tokio::test]
async fn children_resolve_items_as_the_notes_say() {
    let standin = OpenCloudStandIn::start(Options::default()).await.unwrap();
    let account = Account { standin: &standin };
    standin.make_folder("opentalk/opentalk-event-1");
    standin.put_file("opentalk/readme.txt", b"x");
    // docs/opencloud-behaviour.md, "Listing children" (API-NOTES §3.3): start at the drive id,
    // match on `name`.
    let drive = account.drive();
    let top = account
        .graph(
            "GET",
            &format!("v1.0/drives/{drive}/items/{drive}/children"),
            "",
        )
        .await;
    assert_eq!(top.status, 200);
    let value = top.json()["value"].clone();
    assert_eq!(value.as_array().map(Vec::len), Some(1));
    assert_eq!(value[0]["name"], "opentalk");
    // The root's children name the root as `<drive>!<space>`, `/`.
    assert_eq!(
        value[0]["parentReference"],
        serde_json::json!({"driveId": standin.drive_id(), "driveType": "", "id": account.root_item(),
            "name": "/", "path": "/"})
    );
    // `me/drive/root/children` lists the same; `drives/{id}/root/children` and v1beta1 are not
    // routed.
    let mine = account
        .graph("GET", "v1.0/me/drive/root/children", "")
        .await;
    assert_eq!(mine.json()["value"], value);
    for path in [
        format!("v1.0/drives/{drive}/root/children"),
        format!("v1beta1/drives/{drive}/items/{drive}/children"),
    ] {
        let unrouted = account.graph("GET", &path, "").await;
        assert_eq!(
            (unrouted.status, unrouted.text()),
            (404, "404 page not found\n".to_owned()),
            "{path}"
        );
    }
    let opentalk = value[0]["id"].as_str().unwrap().replace('$', "%24");
    let inner = account
        .graph(
            "GET",
            &format!("v1.0/drives/{drive}/items/{opentalk}/children"),
            "",
        )
        .await
        .json();
    let names: Vec<&str> = inner["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["opentalk-event-1", "readme.txt"]);
    assert_eq!(
        inner["value"][0]["id"].as_str(),
        standin.item_id("opentalk/opentalk-event-1").as_deref()
    );
    assert_eq!(
        inner["value"][0]["parentReference"]["id"].as_str(),
        standin.item_id("opentalk").as_deref()
    );
    assert_eq!(inner["value"][0]["parentReference"]["name"], "opentalk");
    assert_eq!(inner["value"][0]["parentReference"]["path"], "/opentalk");
    // An unknown item: the storage's words, with their trailing space.
    let unknown = account
        .graph(
            "GET",
            &format!(
                "v1.0/drives/{drive}/items/{drive}!00000000-0000-0000-0000-000000000000/children"
            ),
            "",
        )
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        odata(&unknown),
        (
            "itemNotFound".into(),
            "list container: error: not found: ".into()
        )
    );
    // Another space's item: 404 "Item does not exist".
    let other = account
        .graph(
            "GET",
            &format!("v1.0/drives/{drive}/items/storage-users-1%24other!x/children"),
            "",
        )
        .await;
    assert_eq!(other.status, 404);
    assert_eq!(
        odata(&other),
        ("itemNotFound".into(), "Item does not exist".into())
    );
}

#[tokio::test]
async fn capabilities_publish_the_password_policy() {
    let standin = OpenCloudStandIn::start(Options::default()).await.unwrap();
    let account = Account { standin: &standin };
    // docs/opencloud-behaviour.md, "Capabilities" (API-NOTES §3.4, §4).
    let url = format!("{}ocs/v1.php/cloud/capabilities?format=json", standin.url());
    let reply = send("GET", &url, account.creds(), &[], b"").await.unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.headers["ocs-api-version"], "1");
    let json = reply.json();
    assert_eq!(json["ocs"]["meta"]["statuscode"], 100);
    // docs/opencloud-behaviour.md, "Authentication": the v1 capabilities need no credentials,
    // and wrong ones do not matter; v2 needs them.
    for creds in [None, Some(("opentalk", "wrong"))] {
        let open = send("GET", &url, creds, &[], b"").await.unwrap();
        assert_eq!((open.status, open.json()), (200, json.clone()));
    }
    let v2 = url.replace("v1.php", "v2.php");
    let refused = send("GET", &v2, None, &[], b"").await.unwrap();
    assert_eq!((refused.status, refused.body.len()), (401, 0));
    let v2 = send("GET", &v2, account.creds(), &[], b"").await.unwrap();
    assert_eq!(v2.json()["ocs"]["meta"]["statuscode"], 200);
    assert_eq!(v2.json()["ocs"]["data"], json["ocs"]["data"]);
    let data = &json["ocs"]["data"];
    assert_eq!(data["version"]["productversion"], "0.1.0+ebba861");
    assert_eq!(data["version"]["product"], "OpenCloud");
    let status = &data["capabilities"]["core"]["status"];
    assert_eq!(
        (&status["productname"], &status["versionstring"]),
        (&Value::from("OpenCloud"), &Value::from("0.1.0"))
    );
    assert_eq!(status["productversion"], "0.1.0+ebba861");
    assert_eq!(data["capabilities"]["dav"]["trashbin"], "1.0");
    let public = &data["capabilities"]["files_sharing"]["public"];
    assert_eq!(public["password"]["enforced"], false);
    assert_eq!(public["expire_date"]["enabled"], false);
    let capabilities = &json["ocs"]["data"]["capabilities"];
    assert_eq!(
        capabilities["password_policy"],
        serde_json::json!({"min_characters": 8, "max_characters": 72, "min_lowercase_characters": 1,
            "min_uppercase_characters": 1, "min_digits": 1, "min_special_characters": 1})
    );
    let enforced = &capabilities["files_sharing"]["public"]["password"]["enforced_for"];
    for kind in [
        "read_only",
        "read_write",
        "read_write_delete",
        "upload_only",
    ] {
        assert_eq!(enforced[kind], true, "{kind}");
    }
    let disabled = OpenCloudStandIn::start(Options {
        password_policy: PasswordPolicy {
            disabled: true,
            banned: vec!["secret".into()],
            ..PasswordPolicy::default()
        },
        ..Options::default()
    })
    .await
    .unwrap();
    let url = format!(
        "{}ocs/v1.php/cloud/capabilities?format=json",
        disabled.url()
    );
    let reply = send("GET", &url, account.creds(), &[], b"").await.unwrap();
    assert_eq!(
        reply.json()["ocs"]["data"]["capabilities"]["password_policy"],
        serde_json::json!({"max_characters": 72})
    );
}

#[tokio::test]
async fn links_are_created_as_the_notes_say() {
    let standin = OpenCloudStandIn::start(Options::default()).await.unwrap();
    let account = Account { standin: &standin };
    standin.make_folder("opentalk/opentalk-event-1");
    let item = standin.item_id("opentalk/opentalk-event-1").unwrap();
    // docs/opencloud-behaviour.md, "Creating a link" and "Expiry" (API-NOTES §3.5): one
    // permission object; the expiry at 23:59:59 of the written date in its offset.
    let reply = account
        .create_link(
            &item,
            r#"{"type":"edit","password":"Str0ng-Passw0rd!xy","displayName":"OpenTalk read-write","expirationDateTime":"2099-12-31T00:30:00+02:00"}"#,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let perm = reply.json();
    assert!(perm.is_object());
    assert!(letters(perm["id"].as_str().unwrap()), "{perm}");
    assert_eq!(perm["hasPassword"], true);
    assert_eq!(perm["expirationDateTime"], "2099-12-31T21:59:59Z");
    assert!(perm["createdDateTime"].as_str().unwrap().ends_with('Z'));
    assert_eq!(perm["link"]["type"], "edit");
    assert_eq!(
        perm["link"]["@libre.graph.displayName"],
        "OpenTalk read-write"
    );
    assert_eq!(perm["link"]["@libre.graph.quickLink"], false);
    let web_url = perm["link"]["webUrl"].as_str().unwrap();
    let token = web_url
        .strip_prefix(&format!("{}s/", standin.url()))
        .unwrap();
    assert!(letters(token), "{web_url}");
    let view = account
        .create_link(&item, r#"{"type":"view","password":"Str0ng-Passw0rd!ro"}"#)
        .await;
    assert_eq!(view.status, 200);
    assert!(view.json().get("expirationDateTime").is_none());
    let links = standin.links_on("opentalk/opentalk-event-1");
    assert_eq!(links.len(), 2);
    assert_eq!(links[0].password.as_deref(), Some("Str0ng-Passw0rd!xy"));
    assert_eq!(links[0].expiration.as_deref(), Some("2099-12-31T21:59:59Z"));
    assert_eq!(links[1].link_type, "view");
    assert_eq!(standin.link_count(), 2);

    // docs/opencloud-behaviour.md, "Creating a link" and "Password rules" (API-NOTES §3.5, §4,
    // §6): the refusals, in the server's order.
    let root = account.root_item();
    let unknown = format!(
        "{}!00000000-0000-0000-0000-000000000000",
        standin.drive_id()
    );
    let cases: [(&str, &str, u16, &str, &str); 13] = [
        (
            &item,
            r#"{"type":"edit","password":"Str0ng-Passw0rd!xy","role":"x"}"#,
            400,
            "invalidRequest",
            "invalid body schema definition",
        ),
        (
            &item,
            r#"{"type":"owner","password":"Str0ng-Passw0rd!xy"}"#,
            400,
            "invalidRequest",
            "invalid body schema definition",
        ),
        (
            &item,
            r#"{"type":"view","password":"Str0ng-Passw0rd!xy","expirationDateTime":"2099-12-31"}"#,
            400,
            "invalidRequest",
            "invalid body schema definition",
        ),
        (
            &item,
            r#"{"type":"blocksDownload","password":"Str0ng-Passw0rd!xy"}"#,
            400,
            "invalidRequest",
            "invalid link type",
        ),
        (
            &item,
            r#"{"type":"internal","password":"Str0ng-Passw0rd!xy"}"#,
            400,
            "invalidRequest",
            "password is redundant for the internal link",
        ),
        (
            &item,
            r#"{"type":"view"}"#,
            400,
            "invalidRequest",
            "password protection is enforced",
        ),
        (
            &item,
            r#"{"type":"view","password":"Str0ng-Passw0rd!xy","expirationDateTime":"2020-01-01T12:00:00Z"}"#,
            400,
            "invalidRequest",
            "expiration date is in the past: 2020-01-01T23:59:59Z",
        ),
        (
            &item,
            r#"{"type":"view","password":"Str0ng-Passw0rd!xy","expirationDateTime":"0001-01-01T00:00:00Z"}"#,
            400,
            "invalidRequest",
            "invalid expiration date",
        ),
        (
            &item,
            r#"{"type":"view","password":"abc"}"#,
            400,
            "invalidRequest",
            "at least 8 characters are required\nat least 1 uppercase letters are required\nat least 1 numbers are required\nat least 1 special characters are required  !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
        ),
        (
            &item,
            &format!(r#"{{"type":"view","password":"Aa1!{}"}}"#, "x".repeat(69)),
            500,
            "generalException",
            "error persisting public share:could not hash share password: bcrypt: password length exceeds 72 bytes",
        ),
        (
            &standin.drive_id(),
            r#"{"type":"view","password":"Str0ng-Passw0rd!xy"}"#,
            400,
            "invalidRequest",
            "invalid itemID",
        ),
        (
            &root,
            r#"{"type":"view","password":"Str0ng-Passw0rd!xy"}"#,
            400,
            "invalidRequest",
            "cannot create link on personal space root",
        ),
        (
            &unknown,
            r#"{"type":"view","password":"Str0ng-Passw0rd!xy"}"#,
            404,
            "itemNotFound",
            "stat: error: not found: ",
        ),
    ];
    for (on, body, status, code, message) in cases {
        let reply = account.create_link(on, body).await;
        assert_eq!(reply.status, status, "{body}: {}", reply.text());
        assert_eq!(
            odata(&reply),
            (code.to_owned(), message.to_owned()),
            "{body}"
        );
    }
    // 72 bytes exactly are stored.
    let longest = format!(r#"{{"type":"view","password":"Aa1!{}"}}"#, "x".repeat(68));
    assert_eq!(account.create_link(&item, &longest).await.status, 200);
    assert_eq!(standin.link_count(), 3);
}

#[tokio::test]
async fn the_policy_and_the_account_role_are_configurable() {
    let standin = OpenCloudStandIn::start(Options {
        password_policy: PasswordPolicy {
            min_characters: 20,
            banned: vec!["Str0ng-Passw0rd!xy".into()],
            ..PasswordPolicy::default()
        },
        ..Options::default()
    })
    .await
    .unwrap();
    let account = Account { standin: &standin };
    standin.make_folder("r");
    let item = standin.item_id("r").unwrap();
    // docs/opencloud-behaviour.md, "Password rules" (API-NOTES §4): the banned list first, alone.
    let banned = account
        .create_link(&item, r#"{"type":"view","password":"Str0ng-Passw0rd!xy"}"#)
        .await;
    assert_eq!(banned.status, 400);
    assert!(
        odata(&banned)
            .1
            .starts_with("unfortunately, your password is commonly used")
    );
    // Runes, not bytes: 19 characters of 2 bytes each are too few.
    let short = account
        .create_link(&item, r#"{"type":"view","password":"ÄÖÜäöü1!äöüäöüäöüä"}"#)
        .await;
    assert_eq!(odata(&short).1, "at least 20 characters are required");

    // docs/opencloud-behaviour.md, "Creating a link" (API-NOTES §2): without the permission.
    let no_links = OpenCloudStandIn::start(Options {
        may_create_links: false,
        ..Options::default()
    })
    .await
    .unwrap();
    let account = Account { standin: &no_links };
    no_links.make_folder("r");
    let item = no_links.item_id("r").unwrap();
    let refused = account
        .create_link(&item, r#"{"type":"edit","password":"Str0ng-Passw0rd!xy"}"#)
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(
        odata(&refused),
        (
            "accessDenied".into(),
            "no permission to create public links".into()
        )
    );
    // Internal links need no such permission, and no password.
    let internal = account.create_link(&item, r#"{"type":"internal"}"#).await;
    assert_eq!(internal.status, 200);
    assert_eq!(internal.json()["hasPassword"], false);
}

#[tokio::test]
async fn links_are_listed_and_deleted_as_the_notes_say() {
    let standin = OpenCloudStandIn::start(Options::default()).await.unwrap();
    let account = Account { standin: &standin };
    standin.make_folder("a");
    standin.make_folder("b");
    let a = standin.item_id("a").unwrap();
    let b = standin.item_id("b").unwrap();
    // docs/opencloud-behaviour.md, "Listing and deleting links" (API-NOTES §3.7, §6): no links, no
    // `value`, but the allowed actions and roles all the same.
    let empty = account.permissions("GET", &a, "").await;
    assert_eq!(empty.status, 200);
    let empty = empty.json();
    let keys: Vec<&String> = empty.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "@libre.graph.permissions.actions.allowedValues",
            "@libre.graph.permissions.roles.allowedValues"
        ]
    );
    assert_eq!(
        empty["@libre.graph.permissions.actions.allowedValues"]
            .as_array()
            .map(Vec::len),
        Some(19)
    );
    let roles: Vec<&str> = empty["@libre.graph.permissions.roles.allowedValues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|role| role["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["Can view", "Can upload", "Can edit"]);
    let mut ids = Vec::new();
    for kind in ["edit", "view"] {
        let body = format!(r#"{{"type":"{kind}","password":"Str0ng-Passw0rd!xy"}}"#);
        let reply = account.create_link(&a, &body).await;
        ids.push(reply.json()["id"].as_str().unwrap().to_owned());
    }
    let listed = account.permissions("GET", &a, "").await.json();
    assert_eq!(listed["value"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        listed["@libre.graph.permissions.roles.allowedValues"],
        empty["@libre.graph.permissions.roles.allowedValues"]
    );
    assert_eq!(listed["value"][1]["link"]["type"], "view");
    // Another item's id with this permission: 400.
    let mismatch = account
        .permissions("DELETE", &b, &format!("/{}", ids[0]))
        .await;
    assert_eq!(mismatch.status, 400);
    assert_eq!(odata(&mismatch).1, "permissionID and itemID do not match");
    // A drive and item of different spaces: 404.
    let other_space = send(
        "DELETE",
        &format!(
            "{}graph/v1beta1/drives/storage-users-1%24other/items/{}/permissions/{}",
            standin.url(),
            a.replace('$', "%24"),
            ids[0]
        ),
        account.creds(),
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(other_space.status, 404);
    assert_eq!(odata(&other_space).0, "itemNotFound");
    let deleted = account
        .permissions("DELETE", &a, &format!("/{}", ids[0]))
        .await;
    assert_eq!((deleted.status, deleted.body.len()), (204, 0));
    let again = account
        .permissions("DELETE", &a, &format!("/{}", ids[0]))
        .await;
    assert_eq!(again.status, 404);
    assert_eq!(
        odata(&again),
        (
            "itemNotFound".into(),
            format!("error: not found: opaque_id:\"{}\"", ids[0])
        )
    );
    assert_eq!(standin.link_count(), 1);
    // docs/opencloud-behaviour.md, "Deleting the folder" (API-NOTES §6): Graph's item DELETE
    // refuses personal items.
    let graph_delete = account
        .graph(
            "DELETE",
            &format!(
                "v1beta1/drives/{}/items/{}",
                account.drive(),
                a.replace('$', "%24")
            ),
            "",
        )
        .await;
    assert_eq!(graph_delete.status, 400);
    assert_eq!(odata(&graph_delete).1, "id does not belong to a share jail");
    assert!(standin.folder_exists("a"));
}

#[tokio::test]
async fn public_links_keep_to_their_type() {
    let standin = OpenCloudStandIn::start(Options::default()).await.unwrap();
    let account = Account { standin: &standin };
    standin.make_folder("opentalk/room");
    let item = standin.item_id("opentalk/room").unwrap();
    let mut links = Vec::new();
    for (kind, password) in [
        ("view", "Read-0nly-Passw0rd"),
        ("edit", "Read-Wr1te-Passw0rd"),
    ] {
        let body = format!(r#"{{"type":"{kind}","password":"{password}"}}"#);
        let reply = account.create_link(&item, &body).await;
        let url = reply.json()["link"]["webUrl"].as_str().unwrap().to_owned();
        // docs/opencloud-behaviour.md, "Public links": the web page answers.
        assert_eq!(send("GET", &url, None, &[], b"").await.unwrap().status, 200);
        links.push(url);
    }
    let tokens: Vec<&str> = links
        .iter()
        .map(|url| url.rsplit('/').next().unwrap())
        .collect();
    // docs/opencloud-behaviour.md, "Public links": participants' WebDAV is
    // `/remote.php/dav/public-files/<token>/`, as the host opens it.
    let dav = |link: usize, file: &str| {
        let request = PublicDav::PublicFiles.request(&links[link], file).unwrap();
        assert_eq!(request.user, "public");
        request.url
    };
    assert_eq!(
        dav(0, "a.txt"),
        format!(
            "{}remote.php/dav/public-files/{}/a.txt",
            standin.url(),
            tokens[0]
        )
    );
    // Without `/remote.php`: 401, no body, no challenge, even with the right password.
    for method in ["PROPFIND", "GET", "PUT"] {
        let outside = send(
            method,
            &format!("{}dav/public-files/{}/", standin.url(), tokens[0]),
            Some(("public", "Read-0nly-Passw0rd")),
            &[],
            b"",
        )
        .await
        .unwrap();
        assert_eq!((outside.status, outside.body.len()), (401, 0), "{method}");
        assert!(outside.headers.get("www-authenticate").is_none());
    }
    // docs/opencloud-behaviour.md, "Public links" (API-NOTES §6): the user name does not count.
    let read = send(
        "PROPFIND",
        &dav(0, ""),
        Some(("anyone", "Read-0nly-Passw0rd")),
        &[("Depth", "0")],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(read.status, 207);
    // The folder is named by the token; a view link may do nothing but read (`Z`).
    let text = read.text();
    for part in [
        format!(
            "<d:href>/remote.php/dav/public-files/{}/</d:href>",
            tokens[0]
        ),
        format!(
            "<oc:name>{0}</oc:name><d:displayname>{0}</d:displayname>",
            tokens[0]
        ),
        "<oc:permissions>Z</oc:permissions>".to_owned(),
        format!(
            "<oc:file-parent>{}</oc:file-parent>",
            standin.item_id("opentalk").unwrap()
        ),
    ] {
        assert!(text.contains(&part), "{part}: {text}");
    }
    assert!(!text.contains("<oc:size>") && !text.contains("<oc:favorite>"));
    let wrong = send("PROPFIND", &dav(0, ""), Some(("anyone", "nope")), &[], b"")
        .await
        .unwrap();
    assert_eq!(wrong.status, 401);
    assert!(wrong.text().contains("ERR_INVALID_CREDENTIALS"));
    let none = send("PROPFIND", &dav(0, ""), None, &[], b"").await.unwrap();
    assert_eq!(none.status, 401);
    assert!(none.text().contains("ERR_MISSING_BASIC_AUTH"));
    // A read-only link refuses a PUT (with the gateway's message), a MKCOL and a DELETE (with
    // none); an edit link takes them.
    let refused = send(
        "PUT",
        &dav(0, "a.txt"),
        Some(("public", "Read-0nly-Passw0rd")),
        &[],
        b"x",
    )
    .await
    .unwrap();
    assert_eq!(refused.status, 403);
    assert!(refused.text().contains(&format!(
        "<s:exception>Sabre\\DAV\\Exception\\Forbidden</s:exception><s:message>gateway could not call InitiateFileUpload, ref=resource_id:{{storage_id:&#34;7993447f-687f-490d-875c-ac95e89a62a4&#34; opaque_id:&#34;{}&#34; space_id:&#34;7993447f-687f-490d-875c-ac95e89a62a4&#34;}} path:&#34;./a.txt&#34;: rpc error: code = PermissionDenied desc = auth: core access token is invalid</s:message>",
        tokens[0]
    )), "{}", refused.text());
    assert!(standin.file("opentalk/room/a.txt").is_none());
    for method in ["MKCOL", "DELETE"] {
        let refused = send(
            method,
            &dav(0, "sub"),
            Some(("public", "Read-0nly-Passw0rd")),
            &[],
            b"",
        )
        .await
        .unwrap();
        assert_eq!(refused.status, 403, "{method}");
        assert!(
            refused.text().contains("<s:message></s:message>"),
            "{method}: {}",
            refused.text()
        );
    }
    let written = send(
        "PUT",
        &dav(1, "a.txt"),
        Some(("public", "Read-Wr1te-Passw0rd")),
        &[],
        b"x",
    )
    .await
    .unwrap();
    assert_eq!(written.status, 201);
    assert_eq!(
        standin.file("opentalk/room/a.txt").as_deref(),
        Some(&b"x"[..])
    );
    let read_back = send(
        "GET",
        &dav(0, "a.txt"),
        Some(("public", "Read-0nly-Passw0rd")),
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(
        (read_back.status, read_back.body.as_slice()),
        (200, &b"x"[..])
    );
    let listing = send(
        "PROPFIND",
        &dav(1, ""),
        Some(("public", "Read-Wr1te-Passw0rd")),
        &[("Depth", "1")],
        b"",
    )
    .await
    .unwrap()
    .text();
    assert!(listing.contains("<oc:permissions>DNVCKZ</oc:permissions>"));
    assert!(listing.contains(&format!(
        "<d:href>/remote.php/dav/public-files/{}/a.txt</d:href>",
        tokens[1]
    )));
    assert!(listing.contains("<oc:permissions>DNVWZ</oc:permissions>"));
    let removed = send(
        "DELETE",
        &dav(1, "a.txt"),
        Some(("public", "Read-Wr1te-Passw0rd")),
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(removed.status, 204);
    // A file deleted through a link goes to the owner's trash bin.
    assert_eq!(standin.trash()[0].original_location, "opentalk/room/a.txt");
    // An edit link deletes its own folder: into the owner's trash bin; then both links lead
    // nowhere, but stay stored.
    standin.put_file("opentalk/room/notes.txt", b"kept");
    let own = send(
        "DELETE",
        &dav(1, ""),
        Some(("public", "Read-Wr1te-Passw0rd")),
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!((own.status, own.body.len()), (204, 0));
    assert!(!standin.folder_exists("opentalk/room"));
    let trash = standin.trash();
    assert_eq!(trash[0].item_id, item);
    assert_eq!(trash[0].original_location, "opentalk/room");
    assert_eq!(trash[0].nodes.keys().collect::<Vec<_>>(), ["", "notes.txt"]);
    for (link, password) in [(0, "Read-0nly-Passw0rd"), (1, "Read-Wr1te-Passw0rd")] {
        let gone = send(
            "PROPFIND",
            &dav(link, ""),
            Some(("public", password)),
            &[],
            b"",
        )
        .await
        .unwrap();
        assert_eq!((gone.status, gone.body.len()), (404, 0));
    }
    // A wrong password is still told first.
    let wrong = send("PROPFIND", &dav(0, ""), Some(("public", "nope")), &[], b"")
        .await
        .unwrap();
    assert_eq!(wrong.status, 401);
    assert_eq!(standin.link_count(), 2);
    assert!(standin.links_on("opentalk/room").is_empty());
}

#[tokio::test]
async fn the_trash_bin_is_listed_and_emptied_over_webdav() {
    let standin = OpenCloudStandIn::start(Options::default()).await.unwrap();
    let account = Account { standin: &standin };
    standin.make_folder("oc-check/meetings/room-1");
    standin.make_folder("oc-check/meetings/room-2");
    standin.put_file("oc-check/meetings/room-2/a.txt", b"hello");
    let room_1 = standin.item_id("oc-check/meetings/room-1").unwrap();
    let room_2 = standin.item_id("oc-check/meetings/room-2").unwrap();
    for room in ["room-1", "room-2"] {
        let path = format!("oc-check/meetings/{room}");
        assert_eq!(account.dav("DELETE", &path, b"").await.status, 204);
    }
    let key = |id: &str| id.rsplit_once('!').unwrap().1.to_owned();
    let (key_1, key_2) = (key(&room_1), key(&room_2));
    assert_eq!(
        standin
            .trash()
            .iter()
            .map(|entry| entry.key().to_owned())
            .collect::<Vec<_>>(),
        [key_2.clone(), key_1.clone()]
    );
    let drive = standin.drive_id();
    let bin = |form: &str| format!("{}{form}", standin.url());
    // docs/opencloud-behaviour.md, "Trash bin": the bin first, then each entry, newest first.
    let listed = send(
        "PROPFIND",
        &bin(&format!(
            "remote.php/dav/spaces/trash-bin/{}/",
            account.drive()
        )),
        account.creds(),
        &[("Depth", "1")],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(listed.status, 207);
    assert_eq!(
        listed.headers["content-type"],
        "application/xml; charset=utf-8"
    );
    let text = listed.text();
    let href = format!("/remote.php/dav/spaces/trash-bin/{drive}");
    let expected_start = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><d:multistatus xmlns:d=\"DAV:\" xmlns:s=\"http://sabredav.org/ns\" xmlns:oc=\"http://owncloud.org/ns\"><d:response><d:href>{href}/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat><d:propstat><d:prop><oc:trashbin-original-filename></oc:trashbin-original-filename><oc:trashbin-original-location></oc:trashbin-original-location><oc:trashbin-delete-datetime></oc:trashbin-delete-datetime><d:getcontentlength></d:getcontentlength></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response><d:response><d:href>{href}/{key_2}/</d:href><d:propstat><d:prop><oc:trashbin-original-filename>room-2</oc:trashbin-original-filename><oc:trashbin-original-location>oc-check/meetings/room-2</oc:trashbin-original-location><oc:trashbin-delete-timestamp>"
    );
    assert!(text.starts_with(&expected_start), "{text}");
    let space = drive.split_once('$').unwrap().1;
    for part in [
        " +0000</oc:trashbin-delete-datetime><d:resourcetype><d:collection/></d:resourcetype><oc:size>4096</oc:size>".to_owned(),
        format!("<oc:spaceid>{space}</oc:spaceid></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"),
        format!("<d:href>{href}/{key_1}/</d:href>"),
    ] {
        assert!(text.contains(&part), "{part}: {text}");
    }
    assert!(text.ends_with("</d:multistatus>"));
    // As preflight asks: no trailing slash, the id fully encoded, one property; then without
    // `/remote.php` and with a literal `$`, whose hrefs follow the request.
    let asked = send(
        "PROPFIND",
        &bin(&format!(
            "remote.php/dav/spaces/trash-bin/{}",
            drive.replace('-', "%2D").replace('$', "%24")
        )),
        account.creds(),
        &[("Depth", "1"), ("Content-Type", "application/xml")],
        br#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop><oc:trashbin-original-location/></d:prop></d:propfind>"#,
    )
    .await
    .unwrap();
    assert_eq!(asked.status, 207);
    assert!(
        asked.text().contains(&format!(
            "<d:response><d:href>{href}/{key_1}/</d:href><d:propstat><d:prop><oc:trashbin-original-location>oc-check/meetings/room-1</oc:trashbin-original-location></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat><d:propstat><d:prop></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response>"
        )),
        "{}",
        asked.text()
    );
    let without_remote_php = send(
        "PROPFIND",
        &bin(&format!("dav/spaces/trash-bin/{drive}/")),
        account.creds(),
        &[("Depth", "1")],
        b"",
    )
    .await
    .unwrap();
    assert!(
        without_remote_php
            .text()
            .contains(&format!("<d:href>/dav/spaces/trash-bin/{drive}/</d:href>"))
    );
    // The credentials are needed.
    let anonymous = send(
        "PROPFIND",
        &bin(&format!("dav/spaces/trash-bin/{drive}/")),
        None,
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(anonymous.status, 401);

    // An entry purged: 204; again: 409 "key … not found"; the href as listed works too.
    let entry = bin(&format!(
        "remote.php/dav/spaces/trash-bin/{}/{key_1}",
        account.drive()
    ));
    let purged = send("DELETE", &entry, account.creds(), &[], b"")
        .await
        .unwrap();
    assert_eq!((purged.status, purged.body.len()), (204, 0));
    let again = send("DELETE", &entry, account.creds(), &[], b"")
        .await
        .unwrap();
    assert_eq!(again.status, 409);
    assert_eq!(
        again.text(),
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<d:error xmlns:d=\"DAV\" xmlns:s=\"http://sabredav.org/ns\"><s:exception>Sabre\\DAV\\Exception\\Conflict</s:exception><s:message>key {key_1} not found</s:message><s:errorcode></s:errorcode></d:error>"
        )
    );
    assert_eq!(standin.trash().len(), 1);
    let by_href = send(
        "DELETE",
        &format!("http://{}{href}/{key_2}/", standin.addr()),
        account.creds(),
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(by_href.status, 204);
    assert!(standin.trash().is_empty());

    // The whole bin emptied at once.
    standin.make_folder("oc-check/orphan-test");
    standin.move_to_trash("oc-check/orphan-test");
    standin.move_to_trash("oc-check");
    assert_eq!(standin.trash().len(), 2);
    let emptied = send(
        "DELETE",
        &bin(&format!(
            "remote.php/dav/spaces/trash-bin/{}/",
            account.drive()
        )),
        account.creds(),
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!((emptied.status, emptied.body.len()), (204, 0));
    assert!(standin.trash().is_empty());
    let empty = send(
        "PROPFIND",
        &bin(&format!(
            "remote.php/dav/spaces/trash-bin/{}/",
            account.drive()
        )),
        account.creds(),
        &[("Depth", "1")],
        b"",
    )
    .await
    .unwrap()
    .text();
    assert_eq!(empty.matches("<d:response>").count(), 1, "{empty}");

    // Faults at the trash bin's steps (docs/opencloud-behaviour.md, "Failures the tests inject").
    standin.make_folder("room-3");
    let room_3 = key(&standin.item_id("room-3").unwrap());
    standin.move_to_trash("room-3");
    let entry = bin(&format!(
        "remote.php/dav/spaces/trash-bin/{}/{room_3}",
        account.drive()
    ));
    standin.inject(FaultRule::at(Step::RemoveFromTrash, Fault::Status(500)));
    let failed = send("DELETE", &entry, account.creds(), &[], b"")
        .await
        .unwrap();
    assert_eq!(failed.status, 500);
    assert_eq!(standin.trash().len(), 1);
    standin.inject(FaultRule::at(Step::RemoveFromTrash, Fault::Gone));
    let gone = send("DELETE", &entry, account.creds(), &[], b"")
        .await
        .unwrap();
    assert_eq!(gone.status, 409);
    assert!(standin.trash().is_empty());
    standin.inject(FaultRule::at(Step::ListTrash, Fault::Status(503)));
    let unavailable = send(
        "PROPFIND",
        &bin(&format!(
            "remote.php/dav/spaces/trash-bin/{}/",
            account.drive()
        )),
        account.creds(),
        &[("Depth", "1")],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(unavailable.status, 503);
    assert!(
        unavailable
            .text()
            .contains("Sabre\\DAV\\Exception\\ServiceUnavailable")
    );
}

#[tokio::test]
async fn status_php_tells_opencloud_apart() {
    let standin = OpenCloudStandIn::start(Options::default()).await.unwrap();
    // docs/opencloud-behaviour.md, "Telling OpenCloud apart": no credentials needed.
    for path in ["status.php", "status"] {
        let status = send("GET", &format!("{}{path}", standin.url()), None, &[], b"")
            .await
            .unwrap();
        assert_eq!(status.status, 200);
        assert_eq!(status.headers["content-type"], "application/json");
        assert_eq!(
            status.text(),
            "{\n    \"installed\": true,\n    \"maintenance\": false,\n    \"needsDbUpgrade\": false,\n    \"version\": \"0.1.0.0\",\n    \"versionstring\": \"0.1.0\",\n    \"edition\": \"Community\",\n    \"productname\": \"OpenCloud\",\n    \"product\": \"OpenCloud\",\n    \"productversion\": \"0.1.0+ebba861\"\n}"
        );
    }
}

#[tokio::test]
async fn injected_faults_answer_in_each_endpoints_shape() {
    let standin = OpenCloudStandIn::start(Options::default()).await.unwrap();
    let account = Account { standin: &standin };
    standin.make_folder("r");
    let item = standin.item_id("r").unwrap();
    let edit = r#"{"type":"edit","password":"Str0ng-Passw0rd!xy"}"#;
    // docs/opencloud-behaviour.md, "Failures the tests inject".
    standin.inject(FaultRule::at(
        Step::CreateLink {
            link_type: LinkType::Edit,
        },
        Fault::Status(503),
    ));
    // A view link is another step: not affected.
    let view = account
        .create_link(&item, r#"{"type":"view","password":"Str0ng-Passw0rd!xy"}"#)
        .await;
    assert_eq!(view.status, 200);
    let failed = account.create_link(&item, edit).await;
    assert_eq!(failed.status, 503);
    assert_eq!(odata(&failed).0, "generalException");
    assert_eq!(standin.link_count(), 1);
    assert_eq!(account.create_link(&item, edit).await.status, 200);

    standin.inject(FaultRule::at(Step::DeleteFolder, Fault::Locked));
    let locked = account.dav("DELETE", "r", b"").await;
    assert_eq!(locked.status, 423);
    assert!(locked.text().contains("Sabre\\DAV\\Exception\\Locked"));
    assert!(standin.folder_exists("r"));

    standin.inject(FaultRule::at(
        Step::Drive,
        Fault::Unavailable { retry_after: 7 },
    ));
    let unavailable = account.graph("GET", "v1.0/me/drive", "").await;
    assert_eq!(unavailable.status, 503);
    assert_eq!(unavailable.headers["retry-after"], "7");

    standin.inject(FaultRule {
        step: Step::ResolveItem,
        nth: 1,
        fault: Fault::Gone,
    });
    assert_eq!(account.dav("HEAD", "r", b"").await.status, 200);
    assert_eq!(account.dav("HEAD", "r", b"").await.status, 404);
    assert!(!standin.folder_exists("r"));
    assert_eq!(standin.trash().len(), 1);

    standin.inject(FaultRule::at(Step::Capabilities, Fault::OcsMismatch));
    let url = format!("{}ocs/v1.php/cloud/capabilities?format=json", standin.url());
    let mismatch = send("GET", &url, account.creds(), &[], b"").await.unwrap();
    assert_eq!(mismatch.status, 200);
    assert_eq!(mismatch.json()["ocs"]["meta"]["statuscode"], 996);

    standin.inject(FaultRule::at(Step::Drive, Fault::Malformed));
    let garbled = account.graph("GET", "v1.0/me/drive", "").await;
    assert_eq!(garbled.status, 200);
    assert!(serde_json::from_slice::<Value>(&garbled.body).is_err());

    // The work is done, the answer lost.
    standin.inject(FaultRule::at(Step::Mkcol, Fault::DropConnection));
    let url = format!("{}dav/spaces/{}/dropped", standin.url(), account.drive());
    assert!(
        send("MKCOL", &url, account.creds(), &[], b"")
            .await
            .is_err()
    );
    assert!(standin.folder_exists("dropped"));

    // Cleared faults do not fire.
    standin.inject(FaultRule::at(Step::DeleteLink, Fault::Status(500)));
    standin.clear_faults();
    let id = view.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        account
            .permissions("DELETE", &item, &format!("/{id}"))
            .await
            .status,
        204
    );

    // An outage: the connection closed, nothing listening for a while, then back.
    standin.inject(FaultRule::at(
        Step::Capabilities,
        Fault::Outage(Duration::from_millis(300)),
    ));
    let url = format!("{}ocs/v1.php/cloud/capabilities?format=json", standin.url());
    assert!(send("GET", &url, account.creds(), &[], b"").await.is_err());
    assert!(send("GET", &url, account.creds(), &[], b"").await.is_err());
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        send("GET", &url, account.creds(), &[], b"")
            .await
            .unwrap()
            .status,
        200
    );
}
