//! The binary against a REAL NextCloud, when one is given:
//!
//! ```text
//! NEXTCLOUD_URL=http://127.0.0.1:8081/ NEXTCLOUD_USER=admin NEXTCLOUD_PASSWORD=… \
//!     cargo test -p shared-folder-host --test real_nextcloud
//! ```
//!
//! Without those variables it prints one line saying it was skipped, and passes: CI has no
//! NextCloud (see docs/real-nextcloud.md for running one here). With them it runs, each in a
//! folder of its own below `shared-folder-tests/` that it removes at the end:
//! - the CLI flow: `preflight`, `create`, `access` for both roles, the links used with their
//!   passwords, `delete`, nothing left;
//! - the service flow: a moderator's and a participant's WebSocket sessions, a role change, a
//!   room named with an emoji, delete;
//! - 100 create + delete cycles through the REST API with 8 in flight, each at its first try,
//!   and 0 folders, 0 shares and 0 trash entries left.
//!
//! NextCloud's share rate limit (20 shares per 10 minutes) must be lifted for this address for
//! the cycles (README, "NextCloud's share rate limit").

mod common;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use common::{Server, Setup};
use futures_util::{StreamExt, stream};
use serde_json::{Value, json};
use shared_folder_test_support::client::{self, Reply};
use shared_folder_test_support::public_link;
use tokio_tungstenite::tungstenite::Message;

struct NextCloud {
    url: String,
    user: String,
    password: String,
    /// This run's folder, below the account's root.
    root: String,
}

impl NextCloud {
    fn from_env() -> Result<Self, String> {
        let get = |name: &str| std::env::var(name).map_err(|_| name.to_owned());
        let missing: Vec<String> = ["NEXTCLOUD_URL", "NEXTCLOUD_USER", "NEXTCLOUD_PASSWORD"]
            .into_iter()
            .filter_map(|name| get(name).err())
            .collect();
        if !missing.is_empty() {
            return Err(missing.join(", "));
        }
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Ok(NextCloud {
            url: get("NEXTCLOUD_URL")?.trim_end_matches('/').to_owned() + "/",
            user: get("NEXTCLOUD_USER")?,
            password: get("NEXTCLOUD_PASSWORD")?,
            root: format!("shared-folder-tests/run-{stamp}"),
        })
    }

    /// A configuration for the binary: rooms below `<root>/<flow>`; the password from the
    /// environment, never in the file.
    fn setup(&self, flow: &str) -> Setup {
        let plain = if self.url.starts_with("http://") {
            "allow_plain_http = true\n"
        } else {
            ""
        };
        Setup::with_text(&format!(
            "[shared_folder]\nprovider = \"nextcloud\"\nurl = \"{}\"\nusername = \"{}\"\n\
             directory = \"{}/{flow}\"\nexpiry = 7\ndelete_from_trash = true\n\n\
             [host]\n{plain}password_env = \"NEXTCLOUD_PASSWORD\"\nlisten = \"127.0.0.1:0\"\n\
             api_tokens = [\"{}\"]\n",
            self.url,
            self.user,
            self.root,
            common::TOKEN
        ))
    }

    async fn request(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
        let url = format!("{}{}", self.url, path.trim_start_matches('/'));
        client::send(
            method,
            &url,
            Some((&self.user, &self.password)),
            headers,
            b"",
        )
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"))
    }

    fn dav(&self, path: &str) -> String {
        let encoded: Vec<String> = path
            .split('/')
            .map(|s| {
                percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
                    .to_string()
            })
            .collect();
        format!("remote.php/dav/files/{}/{}", self.user, encoded.join("/"))
    }

    /// Folders directly inside `path` (none when it is missing).
    async fn children(&self, path: &str) -> usize {
        let reply = self
            .request("PROPFIND", &self.dav(path), &[("depth", "1")])
            .await;
        match reply.status {
            404 => 0,
            207 => reply
                .text()
                .matches("<d:response>")
                .count()
                .saturating_sub(1),
            status => panic!("PROPFIND {path}: {status} {}", reply.text()),
        }
    }

    /// The account's link shares whose path lies below this run's folder.
    async fn shares_left(&self) -> usize {
        let reply = self
            .request(
                "GET",
                "ocs/v2.php/apps/files_sharing/api/v1/shares",
                &[("ocs-apirequest", "true"), ("accept", "application/json")],
            )
            .await;
        let body = reply.json();
        let prefix = format!("/{}/", self.root);
        body["ocs"]["data"].as_array().map_or(0, |shares| {
            shares
                .iter()
                .filter(|s| s["path"].as_str().is_some_and(|p| p.starts_with(&prefix)))
                .count()
        })
    }

    /// Trash entries that came from this run's folder.
    async fn trash_left(&self) -> usize {
        let reply = self
            .request(
                "PROPFIND",
                &format!("remote.php/dav/trashbin/{}/trash/", self.user),
                &[("depth", "1")],
            )
            .await;
        reply.text().matches(&format!(">{}/", self.root)).count()
    }

    /// Removes this run's folder, and its entry in the trash bin.
    async fn remove_run(&self) {
        let _ = self.request("DELETE", &self.dav(&self.root), &[]).await;
        let listing = self
            .request(
                "PROPFIND",
                &format!("remote.php/dav/trashbin/{}/trash/", self.user),
                &[("depth", "1")],
            )
            .await
            .text();
        for href in listing.split("<d:href>").skip(1) {
            let Some(href) = href.split("</d:href>").next() else {
                continue;
            };
            if href.contains("/trash/run-") {
                let path = href.split_once("/remote.php/").map_or(href, |(_, p)| p);
                let _ = self
                    .request("DELETE", &format!("remote.php/{path}"), &[])
                    .await;
            }
        }
        let _ = self
            .request("DELETE", &self.dav("shared-folder-tests"), &[])
            .await;
    }
}

/// Checks collected by a run.
#[derive(Default)]
struct Checks(Vec<String>);

impl Checks {
    fn check(&mut self, ok: bool, what: impl Into<String>) {
        let what = what.into();
        println!("  {} {what}", if ok { "✓" } else { "✗" });
        if !ok {
            self.0.push(what);
        }
    }
}

fn main() -> ExitCode {
    let nextcloud = match NextCloud::from_env() {
        Ok(nextcloud) => nextcloud,
        Err(missing) => {
            println!(
                "real_nextcloud: skipped — {missing} not set (these tests need a real NextCloud: docs/real-nextcloud.md)"
            );
            return ExitCode::SUCCESS;
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut checks = Checks::default();
    runtime.block_on(async {
        println!(
            "real_nextcloud: {} as {:?}, in {}",
            nextcloud.url, nextcloud.user, nextcloud.root
        );
        cli_flow(&nextcloud, &mut checks).await;
        service_flow(&nextcloud, &mut checks).await;
        cycles(&nextcloud, &mut checks).await;
        nextcloud.remove_run().await;
    });
    if checks.0.is_empty() {
        println!("real_nextcloud: every check passed");
        ExitCode::SUCCESS
    } else {
        println!("real_nextcloud: {} check(s) failed:", checks.0.len());
        for failed in &checks.0 {
            println!("  - {failed}");
        }
        ExitCode::FAILURE
    }
}

async fn cli_flow(nextcloud: &NextCloud, checks: &mut Checks) {
    println!("\nCLI: preflight, create, access, links, delete");
    let setup = nextcloud.setup("cli");
    let preflight = setup.run("preflight", &[]).await;
    println!("{}", preflight.stdout.trim_end());
    checks.check(
        preflight.code == Some(0) || preflight.stdout.contains("PROBLEM"),
        "preflight ran",
    );

    let room = "real-cli-room";
    let created = setup.run("create", &["--room", room]).await;
    checks.check(
        created.code == Some(0),
        format!("create exits 0 {}", failed_with(&created)),
    );
    if created.code != Some(0) {
        return;
    }
    let folder = created.json();
    let (read, write) = (&folder["read"], &folder["read_write"]);
    let link = |share: &Value| {
        (
            share["url"].as_str().unwrap_or_default().to_owned(),
            share["password"].as_str().unwrap_or_default().to_owned(),
        )
    };
    let (read_url, read_password) = link(read);
    let (write_url, write_password) = link(write);

    let moderator = setup
        .run("access", &["--room", room, "--role", "moderator"])
        .await
        .json();
    let participant = setup
        .run("access", &["--room", room, "--role", "participant"])
        .await
        .json();
    checks.check(
        moderator["read_write"]["url"] == write["url"] && moderator["read"]["url"] == read["url"],
        "a moderator sees both links",
    );
    checks.check(
        participant.get("read_write").is_none() && participant["read"]["url"] == read["url"],
        "a participant sees the read-only link only",
    );

    let upload = public_link::request(
        &write_url,
        &write_password,
        "PUT",
        "agenda.txt",
        b"1. Shared folders\n",
    )
    .await;
    checks.check(
        matches!(upload, Ok((201, _))),
        format!("upload through the read-write link: {upload:?}"),
    );
    let read_back = public_link::request(&read_url, &read_password, "GET", "agenda.txt", b"").await;
    checks.check(
        matches!(&read_back, Ok((200, body)) if body.starts_with(b"1. Shared")),
        "the file reads back through the read-only link",
    );
    let refused = public_link::request(&read_url, &read_password, "PUT", "notes.txt", b"x").await;
    checks.check(
        matches!(refused, Ok((403, _))),
        format!(
            "an upload through the read-only link is refused: {:?}",
            refused.map(|r| r.0)
        ),
    );
    let wrong = public_link::request(&read_url, "not-the-Passw0rd", "GET", "agenda.txt", b"").await;
    checks.check(
        matches!(wrong, Ok((401, _))),
        "a wrong link password is refused",
    );

    let deleted = setup.run("delete", &["--room", room]).await;
    checks.check(
        deleted.code == Some(0) && deleted.json()["deleted"] == true,
        format!("delete exits 0 {}", failed_with(&deleted)),
    );
    let dead = public_link::request(&read_url, &read_password, "GET", "agenda.txt", b"").await;
    checks.check(
        !matches!(dead, Ok((200, _))),
        "the link is dead after the delete",
    );
    checks.check(
        nextcloud.children(&format!("{}/cli", nextcloud.root)).await == 0,
        "no folder left",
    );
}

/// What a command that failed wrote to stderr (nothing for one that succeeded).
fn failed_with(outcome: &common::Outcome) -> String {
    if outcome.code == Some(0) {
        String::new()
    } else {
        format!("(exit {:?}: {})", outcome.code, outcome.stderr.trim())
    }
}

async fn join(server: &Server, room: &str, who: &str, role: &str) -> Option<(Socket, Value)> {
    let ticket = server
        .call(
            "POST",
            &format!("/v1/events/{room}/tickets"),
            Some(json!({"participant": who, "role": role})),
        )
        .await;
    let ticket = ticket.json()["ticket"].as_str()?.to_owned();
    let url = server.ws_url(&format!("/v1/events/{room}/signaling?ticket={ticket}"));
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.ok()?;
    let welcome = next(&mut socket).await?;
    Some((socket, welcome))
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next(socket: &mut Socket) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .ok()??;
        if let Ok(Message::Text(text)) = message {
            return serde_json::from_str(text.as_str()).ok();
        }
    }
}

async fn service_flow(nextcloud: &NextCloud, checks: &mut Checks) {
    println!("\nservice: sessions by role, a role change, an emoji room");
    let setup = nextcloud.setup("service");
    let server = setup.serve();
    let room = "real-service-room";
    let path = format!("/v1/events/{room}/shared_folder");
    let created = server.call("PUT", &path, None).await;
    checks.check(
        created.status == 201,
        format!("PUT answers 201: {}", created.text()),
    );
    let view = created.json();
    let Some((mut moderator, welcome)) = join(&server, room, "mod", "moderator").await else {
        checks.check(false, "a moderator joins");
        return;
    };
    checks.check(
        welcome["payload"]["shared_folder"] == view,
        "the moderator's session has both links",
    );
    let Some((mut alice, welcome)) = join(&server, room, "alice", "participant").await else {
        checks.check(false, "a participant joins");
        return;
    };
    checks.check(
        welcome["payload"]["shared_folder"] == json!({"read": view["read"]}),
        "the participant's session has the read-only link only",
    );
    server
        .call(
            "PUT",
            &format!("/v1/events/{room}/participants/alice/role"),
            Some(json!({"role": "moderator"})),
        )
        .await;
    let update = next(&mut alice).await.unwrap_or_default();
    checks.check(
        update["payload"]["read_write"] == view["read_write"],
        "made moderator: the read-write link arrives",
    );
    server
        .call(
            "PUT",
            &format!("/v1/events/{room}/participants/alice/role"),
            Some(json!({"role": "participant"})),
        )
        .await;
    let update = next(&mut alice).await.unwrap_or_default();
    checks.check(
        update["payload"].get("read_write").is_none(),
        "revoked: read-only again",
    );

    let emoji = "/v1/events/acc-räum-😀-会议/shared_folder";
    let made = server.call("PUT", emoji, None).await;
    checks.check(
        made.status == 201,
        format!("an emoji room id: PUT {} {}", made.status, made.text()),
    );
    checks.check(
        server.call("DELETE", emoji, None).await.status == 204,
        "the emoji room is deleted",
    );

    checks.check(
        server.call("DELETE", &path, None).await.status == 204,
        "DELETE answers 204",
    );
    let deleted = next(&mut moderator).await.unwrap_or_default();
    checks.check(
        deleted["payload"]["message"] == "deleted",
        "sessions hear of the delete",
    );
    let _ = moderator.close(None).await;
    let _ = alice.close(None).await;
    checks.check(
        nextcloud
            .children(&format!("{}/service", nextcloud.root))
            .await
            == 0,
        "no folder left",
    );
}

async fn cycles(nextcloud: &NextCloud, checks: &mut Checks) {
    const CYCLES: usize = 100;
    const IN_FLIGHT: usize = 8;
    println!("\n{CYCLES} create + delete cycles through the REST API, {IN_FLIGHT} in flight");
    let setup = nextcloud.setup("cycles");
    let server = setup.serve();
    let started = Instant::now();
    let outcomes: Vec<(u16, u16, Duration, Duration)> = stream::iter(0..CYCLES)
        .map(|i| {
            let server = &server;
            async move {
                let path = format!("/v1/events/cycle-{i}/shared_folder");
                let t = Instant::now();
                let created = server.call("PUT", &path, None).await;
                let create = t.elapsed();
                let t = Instant::now();
                let deleted = server.call("DELETE", &path, None).await;
                for reply in [&created, &deleted] {
                    if reply.status >= 400 {
                        println!("  cycle {i}: {} {}", reply.status, reply.text());
                    }
                }
                (created.status, deleted.status, create, t.elapsed())
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let took = started.elapsed();
    let first_try = outcomes.iter().filter(|o| o.0 == 201 && o.1 == 204).count();
    let mut creates: Vec<Duration> = outcomes.iter().map(|o| o.2).collect();
    let mut deletes: Vec<Duration> = outcomes.iter().map(|o| o.3).collect();
    creates.sort();
    deletes.sort();
    let median = |v: &[Duration]| v.get(v.len() / 2).map_or(0, Duration::as_millis);
    println!(
        "  {first_try} of {CYCLES} at the first try in {:.1} s; create median {} ms, delete median {} ms",
        took.as_secs_f64(),
        median(&creates),
        median(&deletes)
    );
    let failed: Vec<_> = outcomes
        .iter()
        .filter(|o| o.0 != 201 || o.1 != 204)
        .map(|o| (o.0, o.1))
        .collect();
    if failed.iter().any(|f| f.0 == 429) {
        println!("  NextCloud's share rate limit is in force: lift it for this address (README)");
    }
    checks.check(
        first_try == CYCLES,
        format!("every cycle at its first try (failed: {failed:?})"),
    );
    checks.check(
        nextcloud
            .children(&format!("{}/cycles", nextcloud.root))
            .await
            == 0,
        "0 folders left",
    );
    checks.check(nextcloud.shares_left().await == 0, "0 shares left");
    checks.check(nextcloud.trash_left().await == 0, "0 trash entries left");
}
