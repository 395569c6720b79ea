//! The database server restarted under load, and then away for 30 s: 1,000 rooms through two
//! hosts (through PgBouncer, LISTEN directly), each created and deleted, retried as a
//! controller would. While the server is away the hosts answer 503 — `/ready`, and every REST
//! call with `Retry-After` — never 500; after, sessions are brought up to date, and nothing
//! is lost or left: every room made and deleted, no folder without a record, no record
//! without a folder.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use shared_folder_test_support::Options;

use super::fixture::{Cluster, folder};
use super::load::{IN_FLIGHT, RoomRun, Tally, through_both};
use crate::common::sessions::{self, Socket};
use crate::common::{Server, eventually};

const ROOMS: usize = 1000;
/// How long the server stays away the second time.
const AWAY: Duration = Duration::from_secs(30);
/// How long a room keeps trying its create, then its delete: longer than the server is away,
/// and than a lease left behind then lasts.
const KEEP_TRYING: Duration = Duration::from_secs(120);
/// The room with a folder whose sessions must be brought up to date after each restart.
const KEPT: &str = "kept";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a long load, a command of its own: `cargo loads` (CI runs it)"]
async fn a_thousand_rooms_while_the_database_restarts_and_is_away() {
    let rooms = std::env::var("CLUSTER_ROOMS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(ROOMS);
    let cluster = Arc::new(Cluster::start("restarted", Options::default(), "room_lease = 5").await);
    let hosts = [Arc::new(cluster.serve()), Arc::new(cluster.serve())];
    let made = hosts[0].call("PUT", &folder(KEPT), None).await;
    assert_eq!(made.status, 201, "{}", made.text());
    let (mut on_a, _) = sessions::join(&hosts[0], KEPT, "alice", "moderator").await;
    let (mut on_b, _) = sessions::join(&hosts[1], KEPT, "bob", "moderator").await;

    let started_rooms = Arc::new(AtomicUsize::new(0));
    let began = Instant::now();
    let load = tokio::spawn(run(
        Arc::clone(&cluster),
        hosts.clone(),
        rooms,
        Arc::clone(&started_rooms),
    ));

    // A restart in the middle of the load.
    until_started(&started_rooms, rooms / 4).await;
    change_unannounced(&cluster, "-moved-1");
    tokio::task::block_in_place(|| {
        cluster.server().stop();
        cluster.server().start_again();
    });
    resynced(&hosts[0], &mut on_a, "-moved-1").await;
    resynced(&hosts[1], &mut on_b, "-moved-1").await;

    // Then away for 30 s.
    until_started(&started_rooms, rooms / 2).await;
    change_unannounced(&cluster, "-moved-2");
    tokio::task::block_in_place(|| cluster.server().stop());
    let away = Instant::now();
    let mut while_away = BTreeMap::<String, usize>::new();
    while away.elapsed() < AWAY {
        for host in &hosts {
            let ready = host.call("GET", "/ready", None).await;
            *while_away
                .entry(format!("GET /ready {}", ready.status))
                .or_default() += 1;
            let shown = host.call("GET", &folder(KEPT), None).await;
            let retry_after = shown
                .headers
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            *while_away
                .entry(format!(
                    "GET folder {} {} Retry-After {retry_after:?}",
                    shown.status,
                    code(&shown)
                ))
                .or_default() += 1;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::task::block_in_place(|| cluster.server().start_again());
    let back = Instant::now();
    resynced(&hosts[0], &mut on_a, "-moved-2").await;
    resynced(&hosts[1], &mut on_b, "-moved-2").await;
    let all = load.await.expect("the load");
    for host in &hosts {
        let ready = host.call("GET", "/ready", None).await;
        assert_eq!(ready.status, 200, "{}", ready.text());
    }
    let elapsed = began.elapsed();
    let tally = Tally::of(&all);
    let Tally {
        created,
        deleted,
        lost,
        ref failed,
        ..
    } = tally;
    // What is left once the hosts' clean-up rounds ran: only the kept room, in the records and
    // on the storage.
    let only_kept =
        || cluster.room_folders() == [KEPT] && cluster.shares() == 2 && cluster.records() == 1;
    let cleaned = eventually(Duration::from_secs(30), only_kept).await;
    println!(
        "database restarted, then away {AWAY:?}, under a load of {rooms} rooms through 2 \
         hosts ({IN_FLIGHT} in flight): {created} created, {deleted} deleted, {lost} lost, \
         {} failed attempts retried; back {:.1} s before the load ended; {:.1} s in all",
        failed.values().sum::<usize>(),
        elapsed
            .saturating_sub(back.duration_since(began))
            .as_secs_f64(),
        elapsed.as_secs_f64(),
    );
    println!("failed attempts: {failed:?}");
    println!("while away: {while_away:?}");

    tally.assert_every_room_made_and_deleted(rooms);
    // The database away is 503 `records_unavailable`, whatever the call; nothing else failed.
    let unexpected = tally.unexplained(|failure| failure.ends_with(" 503 records_unavailable"));
    assert!(
        unexpected.is_empty(),
        "failures other than 503: {unexpected:?}"
    );
    let answers: Vec<&String> = while_away.keys().collect();
    assert!(
        answers.iter().all(|answer| {
            answer.as_str() == "GET /ready 503"
                || answer.as_str() == "GET folder 503 records_unavailable Retry-After Some(\"5\")"
        }),
        "answers while the database was away: {while_away:?}"
    );
    assert!(
        cleaned,
        "left: folders {:?}, {} shares, records {}",
        cluster.room_folders(),
        cluster.shares(),
        cluster.sql("SELECT room, state FROM folders")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_brought_up_to_date_after_a_restart() {
    let cluster = Cluster::start("resynced", Options::default(), "").await;
    let hosts = [cluster.serve(), cluster.serve()];
    let made = hosts[0].call("PUT", &folder(KEPT), None).await;
    assert_eq!(made.status, 201, "{}", made.text());
    let (mut on_a, _) = sessions::join(&hosts[0], KEPT, "alice", "moderator").await;
    let (mut on_b, _) = sessions::join(&hosts[1], KEPT, "bob", "moderator").await;
    change_unannounced(&cluster, "-moved");
    tokio::task::block_in_place(|| cluster.server().stop());
    // A call while the server is away: PgBouncer fails to log in to it, and then refuses
    // every statement for `server_login_retry` (15 s) — after the hosts listen again.
    let away = hosts[0].call("GET", &folder(KEPT), None).await;
    assert_eq!(away.status, 503, "{}", away.text());
    tokio::task::block_in_place(|| cluster.server().start_again());
    resynced(&hosts[0], &mut on_a, "-moved").await;
    resynced(&hosts[1], &mut on_b, "-moved").await;
}

/// The load (`load::through_both`), counting the rooms started.
async fn run(
    cluster: Arc<Cluster>,
    hosts: [Arc<Server>; 2],
    rooms: usize,
    started: Arc<AtomicUsize>,
) -> Vec<RoomRun> {
    through_both(&cluster, &hosts, rooms, KEEP_TRYING, |_| {
        started.fetch_add(1, Ordering::Relaxed);
    })
    .await
}

async fn until_started(started: &AtomicUsize, rooms: usize) {
    while started.load(Ordering::Relaxed) < rooms {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Changes the kept room's links behind the hosts' backs — as a change whose announcement was
/// lost while they did not listen — to end in `mark`.
fn change_unannounced(cluster: &Cluster, mark: &str) {
    cluster.sql(&format!(
        "UPDATE folders SET read_url = read_url || '{mark}', \
         read_write_url = read_write_url || '{mark}' WHERE room = '{KEPT}'"
    ));
}

/// The session on `host` is sent the kept room's view again, with the change made while its
/// host did not listen (links ending in `mark`): once it listens again, its host brings its
/// sessions up to date, since events sent meanwhile are lost.
async fn resynced(host: &Server, session: &mut Socket, mark: &str) {
    use futures_util::StreamExt as _;
    let message = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match session.next().await {
                Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text))) => {
                    break Some(text.to_string());
                }
                Some(Ok(_)) => {}
                _ => break None,
            }
        }
    })
    .await;
    let Ok(Some(text)) = message else {
        panic!("no view again within 30 s ({message:?}):\n{}", host.log());
    };
    let update: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(update["payload"]["message"], "updated", "{update}");
    let url = update["payload"]["read_write"]["url"]
        .as_str()
        .unwrap_or_default();
    assert!(url.ends_with(mark), "{update}");
}

fn code(reply: &shared_folder_test_support::client::Reply) -> String {
    serde_json::from_slice::<serde_json::Value>(&reply.body)
        .ok()
        .and_then(|body| body["code"].as_str().map(str::to_owned))
        .unwrap_or_default()
}
