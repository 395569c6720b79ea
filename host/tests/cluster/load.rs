//! 1,000 rooms through two hosts with storage faults: each created through one host and
//! deleted through the same or the other, retried as a controller would until it succeeds.
//! Nothing lost, nothing left: not on the storage, not in the database.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use shared_folder_test_support::{Fault, FaultRule, Options, StandIn, Step};
use tokio::sync::Semaphore;

use super::fixture::{Cluster, Route, folder, path};
use crate::common::{Server, eventually};

/// Rooms in the run, unless `CLUSTER_ROOMS` says otherwise.
const ROOMS: usize = 1000;
/// Rooms in flight at once, through both hosts together.
pub const IN_FLIGHT: usize = 32;
/// A fault is armed after every this many rooms started.
const FAULT_EVERY: usize = 4;
const SEED: u64 = 20260521;
/// How long a room keeps trying its create, then its delete, before the run counts it as
/// failed: longer than the host's own clean-up of a failed create takes to free the room.
const KEEP_TRYING: Duration = Duration::from_secs(30);

/// The share of folder DELETEs the stand-in answers 423 Locked: as the reliability load, 5
/// of 43, as the real server did when requests on one folder overlapped.
const LOCK_RATE: f64 = 5.0 / 43.0;

const STEPS: [Step; 5] = [
    Step::Mkcol,
    Step::CreateShare { permissions: 1 },
    Step::CreateShare { permissions: 15 },
    Step::DeleteShare,
    Step::DeleteFolder,
];

/// The reliability load's faults (tests/tests/reliability/load.rs).
const FAULTS: [Fault; 11] = [
    Fault::Locked,
    Fault::Status(500),
    Fault::Status(502),
    Fault::Unavailable { retry_after: 1 },
    Fault::Status(401),
    Fault::Gone,
    Fault::Outage(Duration::from_millis(300)),
    Fault::ResetMidBody,
    Fault::SlowAnswer(Duration::from_millis(2500)),
    Fault::Malformed,
    Fault::OcsMismatch,
];

/// The error codes a storage fault explains: the storage's own, and `conflict` (a failed
/// create's folder still there until a clean-up round takes it away). Any other failure is the
/// hosts' own.
const EXPLAINED_CODES: [&str; 5] = [
    "storage_error",
    "storage_timeout",
    "storage_unauthorized",
    "storage_rate_limited",
    "conflict",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a long load, a command of its own: `cargo loads` (CI runs it)"]
async fn a_thousand_rooms_through_two_hosts_with_faults() {
    let rooms = std::env::var("CLUSTER_ROOMS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(ROOMS);
    let options = Options {
        lock_rate: LOCK_RATE,
        ..Options::default()
    };
    let route = Route::from_env();
    let cluster = Arc::new(Cluster::start_on(route, "thousand_rooms", options, "").await);
    let hosts = [Arc::new(cluster.serve()), Arc::new(cluster.serve())];

    // The database connections the hosts hold, sampled while the load runs.
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = tokio::spawn({
        let (cluster, sampling) = (Arc::clone(&cluster), Arc::clone(&sampling));
        async move {
            let mut most = 0;
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                most = most.max(cluster.server_connections());
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            most
        }
    });

    let started = Instant::now();
    let mut random = SplitMix(SEED);
    let mut armed = 0;
    let all = through_both(&cluster, &hosts, rooms, KEEP_TRYING, |i| {
        if i % FAULT_EVERY == 0 {
            let step = STEPS[random.below(STEPS.len())];
            let fault = FAULTS[random.below(FAULTS.len())];
            cluster.standin.inject(FaultRule::at(step, fault));
            armed += 1;
        }
    })
    .await;
    let elapsed = started.elapsed();
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    let connections = sampler.await.expect("the sampler");

    let tally = Tally::of(&all);
    let Tally {
        created,
        deleted,
        lost,
        ref failed,
        ..
    } = tally;
    let unexpected =
        tally.unexplained(|failure| EXPLAINED_CODES.iter().any(|code| failure.ends_with(code)));
    // What is left at once, then after the hosts' clean-up (a slow answer may still land,
    // and a create whose own clean-up met a fault is purged by the next round).
    cluster.standin.clear_faults();
    let left_at_once = (cluster.room_folders().len(), cluster.shares());
    let clean = || cluster.room_folders().is_empty() && cluster.shares() == 0;
    let cleaned = eventually(Duration::from_secs(20), clean).await;
    let orphans = (cluster.room_folders().len(), cluster.shares());
    let records = cluster.records();

    println!(
        "cluster load ({route:?}): {rooms} rooms through 2 hosts, {IN_FLIGHT} in flight: {created} created, \
         {deleted} deleted, {} failed attempts retried ({armed} faults armed, {} answers 423), \
         {lost} lost, orphans {} folders {} shares (at once {} / {}), {records} records left; \
         {:.1} s ({:.0} rooms/s)",
        failed.values().sum::<usize>(),
        cluster.standin.locked_answers(),
        orphans.0,
        orphans.1,
        left_at_once.0,
        left_at_once.1,
        elapsed.as_secs_f64(),
        rooms as f64 / elapsed.as_secs_f64(),
    );
    println!(
        "database connections of the hosts' role (pg_stat_activity, sampled every 200 ms): \
         at most {connections} for 2 hosts ({:.1} per host)",
        connections as f64 / 2.0
    );
    println!("failed attempts: {failed:?}");

    tally.assert_every_room_made_and_deleted(rooms);
    assert!(
        unexpected.is_empty(),
        "failures no fault explains: {unexpected:?}"
    );
    assert!(
        cleaned,
        "left on the storage: {:?}, {} shares",
        cluster.room_folders(),
        cluster.shares()
    );
    assert_eq!(
        records,
        0,
        "{}",
        cluster.sql("SELECT room, state FROM folders")
    );
}

/// What one room went through.
pub struct RoomRun {
    pub room: String,
    pub created: bool,
    pub deleted: bool,
    /// Answered 2xx, but the stand-in did not hold the folder and both links right after.
    pub not_stored: bool,
    /// Failed attempts, as `<call> <status> <code>`.
    pub failures: Vec<String>,
}

/// What a load's rooms came to.
pub struct Tally<'a> {
    pub created: usize,
    pub deleted: usize,
    /// Created, never deleted.
    pub lost: usize,
    /// Rooms whose create was answered but whose folder or links were not on the storage.
    pub not_stored: Vec<&'a str>,
    /// Failed attempts (retried), by what they failed with.
    pub failed: BTreeMap<String, usize>,
}

impl<'a> Tally<'a> {
    /// Every room created and deleted, none lost, every answered create on the storage.
    pub fn assert_every_room_made_and_deleted(&self, rooms: usize) {
        assert_eq!(
            (self.created, self.deleted),
            (rooms, rooms),
            "{:?}",
            self.failed
        );
        assert_eq!(self.lost, 0);
        assert!(
            self.not_stored.is_empty(),
            "answered 2xx, not on the storage: {:?}",
            self.not_stored
        );
    }

    /// The failed attempts (retried) that `explained` does not account for.
    pub fn unexplained(&self, explained: impl Fn(&str) -> bool) -> Vec<&str> {
        self.failed
            .keys()
            .map(String::as_str)
            .filter(|failure| !explained(failure))
            .collect()
    }

    pub fn of(runs: &'a [RoomRun]) -> Self {
        let mut failed: BTreeMap<String, usize> = BTreeMap::new();
        for failure in runs.iter().flat_map(|r| &r.failures) {
            *failed.entry(failure.clone()).or_default() += 1;
        }
        Tally {
            created: runs.iter().filter(|r| r.created).count(),
            deleted: runs.iter().filter(|r| r.deleted).count(),
            lost: runs.iter().filter(|r| r.created && !r.deleted).count(),
            not_stored: runs
                .iter()
                .filter(|r| r.not_stored)
                .map(|r| r.room.as_str())
                .collect(),
            failed,
        }
    }
}

/// Runs `rooms` rooms, `IN_FLIGHT` at once: each created through one host and deleted through
/// the same one or — a third of them — the other, each kept trying for `keep_trying`.
/// `before_each(i)` runs before room `i` starts (once a place in flight is free).
pub async fn through_both(
    cluster: &Arc<Cluster>,
    hosts: &[Arc<Server>; 2],
    rooms: usize,
    keep_trying: Duration,
    mut before_each: impl FnMut(usize),
) -> Vec<RoomRun> {
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut runs = tokio::task::JoinSet::new();
    for i in 0..rooms {
        let permit = Arc::clone(&permits)
            .acquire_owned()
            .await
            .expect("semaphore");
        before_each(i);
        let creator = Arc::clone(&hosts[i % 2]);
        let deleter = Arc::clone(&hosts[(i + usize::from(i % 3 == 0)) % 2]);
        let cluster = Arc::clone(cluster);
        runs.spawn(async move {
            let name = format!("room-{i}");
            let run = room(&creator, &deleter, &cluster.standin, &name, keep_trying).await;
            drop(permit);
            run
        });
    }
    let mut all = Vec::new();
    while let Some(run) = runs.join_next().await {
        all.push(run.expect("a room's task"));
    }
    all
}

/// Creates `room` through `creator` until that succeeds, checks the storage, then deletes
/// it through `deleter` until that succeeds; each for at most `keep_trying`.
pub async fn room(
    creator: &Server,
    deleter: &Server,
    standin: &StandIn,
    room: &str,
    keep_trying: Duration,
) -> RoomRun {
    let mut run = RoomRun {
        room: room.to_owned(),
        created: false,
        deleted: false,
        not_stored: false,
        failures: Vec::new(),
    };
    let started = Instant::now();
    while started.elapsed() < keep_trying {
        let reply = creator.call("PUT", &folder(room), None).await;
        if matches!(reply.status, 200 | 201) {
            let view = reply.json();
            let shares = standin.shares_on(&path(room));
            let linked = |kind: &str| {
                let url = view[kind]["url"].as_str().unwrap_or_default();
                shares
                    .iter()
                    .any(|share| url.ends_with(&format!("/s/{}", share.token)))
            };
            run.not_stored =
                !(standin.folder_exists(&path(room)) && linked("read") && linked("read_write"));
            run.created = true;
            break;
        }
        run.failures.push(failure("create", &reply));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !run.created {
        return run;
    }
    let started = Instant::now();
    while started.elapsed() < keep_trying {
        let reply = deleter.call("DELETE", &folder(room), None).await;
        if reply.status == 204 {
            run.deleted = true;
            break;
        }
        run.failures.push(failure("delete", &reply));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    run
}

fn failure(call: &str, reply: &shared_folder_test_support::client::Reply) -> String {
    let code = serde_json::from_slice::<serde_json::Value>(&reply.body)
        .ok()
        .and_then(|body| body["code"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "(no code)".into());
    format!("{call} {} {code}", reply.status)
}

/// SplitMix64: the same faults at the same rooms in every run, without a dependency.
struct SplitMix(u64);

impl SplitMix {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z % n as u64) as usize
    }
}
