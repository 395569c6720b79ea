//! The create, delete and purge procedures against a small scripted OpenCloud, natively
//! (`provider_kit::testing::with_storage` answers each request): which requests go out, in
//! which order, and what is left on the storage after a failure. The storage answers as
//! API-NOTES.md and docs/opencloud-behaviour.md describe OpenCloud (the stand-in in
//! `tests/support` is the fuller one, for the host's tests).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use opencloud_provider::errors::Error;
use opencloud_provider::handle::Handle;
use opencloud_provider::http::{Request, Response};
use opencloud_provider::opencloud::{self, Created};
use opencloud_provider::settings::{self, Settings};
use percent_encoding::percent_decode_str;
use provider_kit::bindings::shared_folder::provider::types::SettingValue;
use provider_kit::created::JsonHandle;
use provider_kit::testing::{minimal, setting, text, with_storage};
use serde::Deserialize;

const SPACE: &str = "1284d238-aa92-42ce-bdc4-0b0000009157";
const DRIVE_PATH: &str = "/dav/spaces/storage-users-1%241284d238-aa92-42ce-bdc4-0b0000009157";
const DEFAULT_POLICY: &str = r#"{"min_characters":8,"max_characters":72,"min_lowercase_characters":1,"min_uppercase_characters":1,"min_digits":1,"min_special_characters":1}"#;

fn drive_id() -> String {
    format!("storage-users-1${SPACE}")
}

/// A link the storage holds.
#[derive(Debug, Clone)]
struct Link {
    id: String,
    item: String,
    kind: String,
    display_name: String,
    password: String,
    expiration: Option<String>,
}

/// A failure the storage is told to answer with, once, for the first request whose
/// `METHOD path body` contains `at`.
struct Fault {
    at: String,
    what: What,
}

enum What {
    /// This status and body, nothing done; `{password}` in the body is the request's password.
    Status(u16, String),
    /// The work done, then the connection broken: the answer is lost.
    Lost,
    /// The connection broken before anything was done.
    Broken,
}

#[derive(Default)]
struct World {
    /// Folder path (decoded, no leading `/`) → item id.
    folders: BTreeMap<String, String>,
    /// The trash bin: (key, original location) of each deleted folder.
    trash: Vec<(String, String)>,
    links: Vec<Link>,
    /// `METHOD path` of every request, in order.
    log: Vec<String>,
    faults: Vec<Fault>,
    policy: String,
    next: u32,
}

#[derive(Deserialize)]
struct CreateLink {
    #[serde(rename = "type")]
    kind: String,
    password: String,
    #[serde(rename = "displayName")]
    display_name: String,
    #[serde(rename = "expirationDateTime")]
    expiration: Option<String>,
}

fn json(status: u16, body: &str) -> Response {
    Response::new(status, body.as_bytes())
}

fn odata(status: u16, message: &str) -> Response {
    json(
        status,
        &format!(r#"{{"error":{{"code":"invalidRequest","message":"{message}"}}}}"#),
    )
}

fn permission(link: &Link) -> String {
    format!(
        r#"{{"id":"{}","hasPassword":true,"link":{{"type":"{}","webUrl":"https://cloud.example.org/s/{}","@libre.graph.displayName":"{}"}}}}"#,
        link.id, link.kind, link.id, link.display_name
    )
}

impl World {
    fn answer(&mut self, request: &Request) -> Result<Response, Error> {
        self.log
            .push(format!("{} {}", request.method, request.path));
        let body = String::from_utf8_lossy(request.body.as_deref().unwrap_or_default());
        let line = format!("{} {} {body}", request.method, request.path);
        let fault = self
            .faults
            .iter()
            .position(|fault| line.contains(&fault.at))
            .map(|i| self.faults.remove(i).what);
        match fault {
            Some(What::Status(status, answer)) => {
                let password = provider_kit::json::parse::<CreateLink>(body.as_bytes())
                    .map(|asked| asked.password)
                    .unwrap_or_default();
                return Ok(json(status, &answer.replace("{password}", &password)));
            }
            Some(What::Broken) => return Err(Error::Transport("connection reset".into())),
            Some(What::Lost) => {
                self.serve(request);
                return Err(Error::Transport("connection reset".into()));
            }
            None => {}
        }
        Ok(self.serve(request))
    }

    fn serve(&mut self, request: &Request) -> Response {
        let path = request.path.as_str();
        let segments: Vec<String> = path
            .split('/')
            .skip(1)
            .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
            .collect();
        let s: Vec<&str> = segments.iter().map(String::as_str).collect();
        let drive = drive_id();
        match (request.method, s.as_slice()) {
            ("GET", ["graph", "v1.0", "me", "drive"]) => json(
                200,
                &format!(r#"{{"id":"{drive}","driveType":"personal","name":"opentalk"}}"#),
            ),
            ("GET", ["ocs", "v1.php", "cloud", "capabilities?format=json"]) => json(
                200,
                &format!(
                    r#"{{"ocs":{{"meta":{{"status":"ok","statuscode":100,"message":"OK"}},"data":{{"capabilities":{{"password_policy":{}}}}}}}}}"#,
                    self.policy
                ),
            ),
            (method, ["dav", "spaces", space, rest @ ..]) if *space == drive => {
                self.dav(method, &rest.join("/"))
            }
            // docs/opencloud-behaviour.md, "Trash bin": a listing with each entry's original
            // location; DELETE of an entry 204, then 409 "key … not found".
            ("PROPFIND", ["remote.php", "dav", "spaces", "trash-bin", space])
                if *space == drive =>
            {
                let mut xml = format!(
                    r#"<?xml version="1.0" encoding="utf-8"?><d:multistatus xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns" xmlns:oc="http://owncloud.org/ns"><d:response><d:href>/remote.php/dav/spaces/trash-bin/{drive}/</d:href></d:response>"#
                );
                for (key, location) in &self.trash {
                    xml.push_str(&format!(
                        "<d:response><d:href>/remote.php/dav/spaces/trash-bin/{drive}/{key}</d:href><d:propstat><d:prop><oc:trashbin-original-location>{location}</oc:trashbin-original-location></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"
                    ));
                }
                xml.push_str("</d:multistatus>");
                json(207, &xml)
            }
            ("DELETE", ["remote.php", "dav", "spaces", "trash-bin", space, key])
                if *space == drive =>
            {
                match self.trash.iter().position(|(k, _)| k == key) {
                    Some(i) => {
                        self.trash.remove(i);
                        json(204, "")
                    }
                    None => json(409, &format!("key {key} not found")),
                }
            }
            (method, ["graph", "v1beta1", "drives", d, "items", item, rest @ ..])
                if *d == drive =>
            {
                self.graph(method, item, rest, request)
            }
            _ => json(404, "404 page not found"),
        }
    }

    fn dav(&mut self, method: &str, folder: &str) -> Response {
        let parent = folder.rsplit_once('/').map(|(parent, _)| parent);
        match method {
            "MKCOL" if self.folders.contains_key(folder) => json(405, ""),
            "MKCOL" if parent.is_some_and(|p| !self.folders.contains_key(p)) => json(409, ""),
            "MKCOL" => {
                self.next += 1;
                let item = format!("{}!node-{}", drive_id(), self.next);
                self.folders.insert(folder.to_owned(), item);
                json(201, "")
            }
            "HEAD" => match self.folders.get(folder) {
                Some(item) => Response {
                    headers: vec![("oc-fileid".into(), item.clone())],
                    ..json(200, "")
                },
                None => json(404, ""),
            },
            "DELETE" if self.folders.contains_key(folder) => {
                if let Some(node) = self.folders[folder].rsplit_once('!').map(|(_, n)| n) {
                    self.trash.push((node.to_owned(), folder.to_owned()));
                }
                let inside = format!("{folder}/");
                self.folders
                    .retain(|path, _| path != folder && !path.starts_with(&inside));
                json(204, "")
            }
            "DELETE" => json(404, ""),
            _ => json(501, "Not Implemented"),
        }
    }

    fn graph(&mut self, method: &str, item: &str, rest: &[&str], request: &Request) -> Response {
        let exists = self.folders.values().any(|i| i == item);
        match (method, rest) {
            ("POST", ["createLink"]) if !exists => odata(404, "item not found"),
            ("POST", ["createLink"]) => {
                let body = request.body.as_deref().unwrap_or_default();
                let Some(asked) = provider_kit::json::parse::<CreateLink>(body) else {
                    return odata(400, "invalid body schema definition");
                };
                self.next += 1;
                let link = Link {
                    id: format!("Link{:011}", self.next),
                    item: item.to_owned(),
                    kind: asked.kind,
                    display_name: asked.display_name,
                    password: asked.password,
                    expiration: asked.expiration,
                };
                let answer = json(200, &permission(&link));
                self.links.push(link);
                answer
            }
            ("GET", ["permissions"]) if !exists => odata(404, "item not found"),
            ("GET", ["permissions"]) => {
                let links: Vec<String> = self
                    .links
                    .iter()
                    .filter(|link| link.item == item)
                    .map(permission)
                    .collect();
                if links.is_empty() {
                    json(200, "{}\n")
                } else {
                    json(200, &format!(r#"{{"value":[{}]}}"#, links.join(",")))
                }
            }
            ("DELETE", ["permissions", id]) => {
                match self.links.iter().position(|link| link.id == *id) {
                    Some(i) if self.links[i].item == item => {
                        self.links.remove(i);
                        json(204, "")
                    }
                    Some(_) => odata(400, "permissionID and itemID do not match"),
                    None => odata(404, "permission not found"),
                }
            }
            _ => json(404, "404 page not found"),
        }
    }
}

/// A scripted OpenCloud, shared between the test and the storage answering the provider.
#[derive(Clone)]
struct Fake(Rc<RefCell<World>>);

impl Fake {
    fn new() -> Self {
        Fake(Rc::new(RefCell::new(World {
            policy: DEFAULT_POLICY.into(),
            ..World::default()
        })))
    }

    fn world(&self) -> std::cell::RefMut<'_, World> {
        self.0.borrow_mut()
    }

    fn fault(&self, at: &str, what: What) {
        self.world().faults.push(Fault {
            at: at.into(),
            what,
        });
    }

    /// Whether the folder at `path` exists.
    fn has(&self, path: &str) -> bool {
        self.world().folders.contains_key(path)
    }

    /// Runs `body` with this storage answering.
    fn run<T>(&self, body: impl FnOnce() -> T) -> T {
        let world = self.0.clone();
        with_storage(move |request| world.borrow_mut().answer(request), body)
    }

    /// The log since the last call, with the drive's path shortened to `{d}`.
    fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut self.world().log)
            .into_iter()
            .map(|line| line.replace(DRIVE_PATH, "{d}"))
            .map(|line| {
                line.replace(
                    "storage-users-1%241284d238-aa92-42ce-bdc4-0b0000009157",
                    "{d}",
                )
            })
            .collect()
    }
}

fn settings(extra: &[(&str, SettingValue)]) -> Settings {
    let mut wit = minimal("https://cloud.example.org/");
    wit.push(text("directory", "opentalk/meetings"));
    for (name, value) in extra {
        wit.push(setting(name, value.clone()));
    }
    settings::read(&wit).unwrap()
}

fn create(fake: &Fake, settings: &Settings, room: &str) -> Result<Created, Error> {
    fake.run(|| opencloud::create(settings, room))
}

/// `room`'s shared folder made, the log cleared: what was made and its handle.
fn made(fake: &Fake, settings: &Settings, room: &str) -> (Created, String) {
    let made = create(fake, settings, room).unwrap();
    let handle = Handle::of(&made).encode();
    fake.take_log();
    (made, handle)
}

fn delete(fake: &Fake, settings: &Settings, room: &str, handle: &str) -> Result<(), Error> {
    fake.run(|| {
        let (target, folder) = Handle::read(settings, room, handle)?;
        opencloud::delete(settings, &folder, &target)
    })
}

#[test]
fn create_makes_the_folder_and_both_links_in_the_fewest_round_trips() {
    let fake = Fake::new();
    let settings = settings(&[("expiry", SettingValue::Integer(7))]);
    let made = create(&fake, &settings, "room-1").unwrap();
    assert_eq!(
        fake.take_log(),
        [
            "GET /graph/v1.0/me/drive",
            "GET /ocs/v1.php/cloud/capabilities?format=json",
            "MKCOL {d}/opentalk/meetings/room-1",
            "MKCOL {d}/opentalk",
            "MKCOL {d}/opentalk/meetings",
            "MKCOL {d}/opentalk/meetings/room-1",
            "HEAD {d}/opentalk/meetings/room-1",
            "POST /graph/v1beta1/drives/{d}/items/{d}!node-3/createLink",
            "POST /graph/v1beta1/drives/{d}/items/{d}!node-3/createLink",
        ]
    );
    assert_eq!(made.folder.display(), "opentalk/meetings/room-1");
    let world = fake.world();
    let [edit, view] = [&world.links[0], &world.links[1]];
    assert_eq!((edit.kind.as_str(), view.kind.as_str()), ("edit", "view"));
    assert_eq!(made.read_write.id.as_str(), edit.id);
    assert_eq!(made.read.id.as_str(), view.id);
    assert_eq!(made.read_write.password, edit.password);
    assert_eq!(made.read.password, view.password);
    assert_ne!(edit.password, view.password);
    assert!(edit.password.len() >= 16);
    assert_eq!(
        made.read.url,
        format!("https://cloud.example.org/s/{}", view.id)
    );
    let expiration = edit.expiration.as_deref().unwrap();
    assert!(expiration.ends_with("T23:59:59Z"), "{expiration}");
    assert_eq!(edit.expiration, view.expiration);
    drop(world);

    // The handle reads back for this room only.
    let handle = Handle::of(&made).encode();
    let (target, folder) = Handle::read(&settings, "room-1", &handle).unwrap();
    assert_eq!((target.item, folder), (made.item, made.folder));
    assert!(matches!(
        Handle::read(&settings, "room-2", &handle),
        Err(Error::InvalidRoom(_))
    ));

    // The next room's folder takes one MKCOL: its parents are there.
    create(&fake, &settings, "room-2").unwrap();
    let log = fake.take_log();
    assert_eq!(
        log.iter().filter(|l| l.starts_with("MKCOL")).count(),
        1,
        "{log:?}"
    );
}

#[test]
fn a_folder_that_exists_is_never_adopted() {
    let fake = Fake::new();
    let settings = settings(&[]);
    create(&fake, &settings, "room-1").unwrap();
    fake.take_log();
    let links = fake.world().links.len();
    let error = create(&fake, &settings, "room-1").err().unwrap();
    assert!(matches!(error, Error::AlreadyExists(_)), "{error:?}");
    let log = fake.take_log();
    assert_eq!(log.last().unwrap(), "MKCOL {d}/opentalk/meetings/room-1");
    assert!(
        !log.iter()
            .any(|l| l.starts_with("DELETE") || l.starts_with("POST"))
    );
    assert_eq!(fake.world().links.len(), links);
    assert!(fake.has("opentalk/meetings/room-1"));
}

fn odata_body(message: &str) -> String {
    format!(r#"{{"error":{{"code":"invalidRequest","message":"{message}"}}}}"#)
}

#[test]
fn a_refused_link_undoes_the_other_link_and_the_folder() {
    let fake = Fake::new();
    // The read-only link is refused with a message that echoes its password.
    fake.fault(
        "\"type\":\"view\"",
        What::Status(
            400,
            odata_body("at least 1 special characters are required {password}"),
        ),
    );
    let settings = settings(&[]);
    let error = create(&fake, &settings, "room-1").err().unwrap();
    let Error::Remote(refusal) = error else {
        panic!("{error:?}");
    };
    assert_eq!(refusal.status, 400);
    assert_eq!(
        refusal.message,
        "at least 1 special characters are required ***"
    );
    let log = fake.take_log();
    assert_eq!(
        log[log.len() - 3..],
        [
            "GET /graph/v1beta1/drives/{d}/items/{d}!node-3/permissions",
            "DELETE /graph/v1beta1/drives/{d}/items/{d}!node-3/permissions/Link00000000004",
            "DELETE {d}/opentalk/meetings/room-1",
        ]
    );
    let world = fake.world();
    assert!(world.links.is_empty(), "{:?}", world.links);
    assert!(!world.folders.contains_key("opentalk/meetings/room-1"));
    // The shared parents stay.
    assert!(world.folders.contains_key("opentalk/meetings"));
}

#[test]
fn a_lost_answer_to_create_link_adopts_the_link_it_made() {
    let fake = Fake::new();
    fake.fault("\"type\":\"edit\"", What::Lost);
    let made = create(&fake, &settings(&[]), "room-1").unwrap();
    let log = fake.take_log();
    let posts = log.iter().filter(|l| l.starts_with("POST")).count();
    assert_eq!(posts, 2, "not sent again: {log:?}");
    assert!(log.iter().any(|l| l.ends_with("/permissions")), "{log:?}");
    let world = fake.world();
    assert_eq!(world.links.len(), 2, "no second edit link");
    let edit = world.links.iter().find(|l| l.kind == "edit").unwrap();
    assert_eq!(made.read_write.id.as_str(), edit.id);
    assert_eq!(made.read_write.password, edit.password);
}

#[test]
fn a_create_link_broken_before_the_work_is_sent_again_after_a_look() {
    let fake = Fake::new();
    fake.fault("\"type\":\"view\"", What::Broken);
    let made = create(&fake, &settings(&[]), "room-1").unwrap();
    let log = fake.take_log();
    assert_eq!(
        log.iter().filter(|l| l.starts_with("POST")).count(),
        3,
        "{log:?}"
    );
    let world = fake.world();
    assert_eq!(world.links.len(), 2);
    let view = world.links.iter().find(|l| l.kind == "view").unwrap();
    assert_eq!(made.read.id.as_str(), view.id);
}

#[test]
fn a_policy_no_password_meets_fails_before_anything_is_made() {
    let fake = Fake::new();
    fake.world().policy = r#"{"min_characters":100,"max_characters":72}"#.into();
    let error = create(&fake, &settings(&[]), "room-1").err().unwrap();
    assert!(
        matches!(&error, Error::Protocol(m) if m.starts_with("OpenCloud's password policy cannot be met")),
        "{error:?}"
    );
    assert_eq!(
        fake.take_log(),
        [
            "GET /graph/v1.0/me/drive",
            "GET /ocs/v1.php/cloud/capabilities?format=json"
        ]
    );
}

#[test]
fn a_lost_answer_to_the_rooms_mkcol_takes_the_folder_away_again() {
    let fake = Fake::new();
    fake.world().folders.insert("opentalk".into(), "x!1".into());
    fake.world()
        .folders
        .insert("opentalk/meetings".into(), "x!2".into());
    fake.fault("MKCOL", What::Lost);
    let error = create(&fake, &settings(&[]), "room-1").err().unwrap();
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    assert_eq!(
        fake.take_log()[2..],
        [
            "MKCOL {d}/opentalk/meetings/room-1",
            "DELETE {d}/opentalk/meetings/room-1"
        ]
    );
    assert!(!fake.has("opentalk/meetings/room-1"));
}

#[test]
fn delete_takes_the_links_then_the_folder_and_can_be_repeated() {
    let fake = Fake::new();
    let settings = settings(&[]);
    let (made, handle) = made(&fake, &settings, "room-1");
    delete(&fake, &settings, "room-1", &handle).unwrap();
    let item = "/graph/v1beta1/drives/{d}/items/{d}!node-3/permissions";
    assert_eq!(
        fake.take_log(),
        [
            "GET /graph/v1.0/me/drive".to_owned(),
            "HEAD {d}/opentalk/meetings/room-1".to_owned(),
            format!("DELETE {item}/{}", made.read_write.id.as_str()),
            format!("DELETE {item}/{}", made.read.id.as_str()),
            "DELETE {d}/opentalk/meetings/room-1".to_owned(),
        ]
    );
    assert!(fake.world().links.is_empty());
    assert!(!fake.has("opentalk/meetings/room-1"));
    // Again: the links are already gone (404), the folder too; nothing else is deleted.
    delete(&fake, &settings, "room-1", &handle).unwrap();
    let log = fake.take_log();
    assert_eq!(log.len(), 4, "{log:?}");
    assert!(!log.iter().any(|l| l.starts_with("DELETE {d}")), "{log:?}");
}

#[test]
fn with_delete_from_trash_the_folder_leaves_the_trash_bin_too() {
    let fake = Fake::new();
    let settings = settings(&[("delete_from_trash", SettingValue::Boolean(true))]);
    let (_, handle) = made(&fake, &settings, "room-1");
    // A file a participant deleted through the read-write link earlier, and another room's
    // folder: the first goes with the room, the second stays.
    fake.world().trash.extend([
        (
            "file-9".to_owned(),
            "opentalk/meetings/room-1/agenda.txt".to_owned(),
        ),
        ("node-99".to_owned(), "opentalk/meetings/room-10".to_owned()),
    ]);
    delete(&fake, &settings, "room-1", &handle).unwrap();
    let log = fake.take_log();
    let bin = format!("/remote.php/dav/spaces/trash-bin/{}", drive_id());
    assert_eq!(
        log[log.len() - 3..],
        [
            "PROPFIND /remote.php/dav/spaces/trash-bin/{d}".to_owned(),
            format!("DELETE {bin}/file-9"),
            format!("DELETE {bin}/node-3"),
        ],
        "{log:?}"
    );
    let left: Vec<String> = fake.world().trash.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(left, ["node-99"]);
    fake.world().trash.clear();
    // Again: nothing of the room is listed any more.
    delete(&fake, &settings, "room-1", &handle).unwrap();
    // Without the setting the folder stays in the trash bin.
    let settings = self::settings(&[]);
    let (_, handle) = made(&fake, &settings, "room-2");
    delete(&fake, &settings, "room-2", &handle).unwrap();
    assert!(!fake.take_log().iter().any(|l| l.contains("trash-bin")));
    assert_eq!(fake.world().trash.len(), 1);
}

#[test]
fn a_trash_entry_that_cannot_be_removed_fails_the_delete() {
    let fake = Fake::new();
    let settings = settings(&[("delete_from_trash", SettingValue::Boolean(true))]);
    let (_, handle) = made(&fake, &settings, "room-1");
    fake.fault(
        "DELETE /remote.php/dav/spaces/trash-bin/",
        What::Status(403, String::new()),
    );
    assert!(delete(&fake, &settings, "room-1", &handle).is_err());
    // Asked again, the delete finishes what is left: the entry.
    delete(&fake, &settings, "room-1", &handle).unwrap();
    assert!(fake.world().trash.is_empty());
}

#[test]
fn a_link_that_cannot_be_deleted_keeps_the_folder() {
    let fake = Fake::new();
    let settings = settings(&[]);
    let (made, handle) = made(&fake, &settings, "room-1");
    fake.fault(
        made.read.id.as_str(),
        What::Status(403, odata_body("accessDenied")),
    );
    let error = delete(&fake, &settings, "room-1", &handle).unwrap_err();
    assert!(
        matches!(&error, Error::Remote(r) if r.status == 403),
        "{error:?}"
    );
    assert!(fake.has("opentalk/meetings/room-1"));
    // The next delete finishes it.
    delete(&fake, &settings, "room-1", &handle).unwrap();
    assert!(fake.world().links.is_empty());
    assert!(!fake.has("opentalk/meetings/room-1"));
}

#[test]
fn delete_leaves_a_folder_it_did_not_make_and_any_other_drive_alone() {
    let fake = Fake::new();
    let settings = settings(&[]);
    let (_, handle) = made(&fake, &settings, "room-1");

    // A handle naming another drive (and its item there) is refused before anything is deleted.
    let other = handle.replace(SPACE, "0b0000009157-other");
    let error = delete(&fake, &settings, "room-1", &other).unwrap_err();
    assert!(matches!(error, Error::InvalidRoom(_)), "{error:?}");
    assert!(!fake.take_log().iter().any(|l| l.starts_with("DELETE")));

    // The folder was replaced by someone else's of the same name: the links go, it stays.
    fake.world().folders.insert(
        "opentalk/meetings/room-1".into(),
        format!("{}!theirs", drive_id()),
    );
    delete(&fake, &settings, "room-1", &handle).unwrap();
    let log = fake.take_log();
    assert!(!log.iter().any(|l| l.starts_with("DELETE {d}")), "{log:?}");
    assert!(fake.has("opentalk/meetings/room-1"));
}

#[test]
fn purge_finds_the_links_on_the_folder_and_succeeds_on_nothing() {
    let fake = Fake::new();
    let settings = settings(&[]);
    create(&fake, &settings, "room-1").unwrap();
    fake.take_log();
    fake.run(|| opencloud::purge(&settings, "room-1")).unwrap();
    let log = fake.take_log();
    assert_eq!(
        log[..3],
        [
            "GET /graph/v1.0/me/drive",
            "HEAD {d}/opentalk/meetings/room-1",
            "GET /graph/v1beta1/drives/{d}/items/{d}!node-3/permissions"
        ]
    );
    assert_eq!(
        log.iter().filter(|l| l.contains("/permissions/")).count(),
        2
    );
    assert_eq!(log.last().unwrap(), "DELETE {d}/opentalk/meetings/room-1");
    assert!(fake.world().links.is_empty());
    assert!(!fake.has("opentalk/meetings/room-1"));
    // Nothing there: two requests, nothing deleted.
    fake.run(|| opencloud::purge(&settings, "room-1")).unwrap();
    assert_eq!(
        fake.take_log(),
        [
            "GET /graph/v1.0/me/drive",
            "HEAD {d}/opentalk/meetings/room-1"
        ]
    );
}

#[test]
fn refused_credentials_are_unauthorized() {
    let fake = Fake::new();
    fake.fault("me/drive", What::Status(401, String::new()));
    let error = create(&fake, &settings(&[]), "room-1").err().unwrap();
    assert!(matches!(error, Error::Unauthorized(_)), "{error:?}");
    assert!(!fake.take_log().iter().any(|l| l.starts_with("MKCOL")));
}
