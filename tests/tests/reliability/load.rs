//! 1,000 rooms created and deleted with 32 in flight while random storage faults are injected
//! and the provider is hot-swapped three times: no record lost, no orphan left, memory flat.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shared_folder_harness::{
    Fault, FaultRule, NEXTCLOUD_PROVIDER, Options, StandIn, Step, TestHost,
};
use shared_folder_host::{ErrorKind, SharedFolders};
use tokio::sync::Semaphore;

use crate::Failures;
use crate::audit::{Audit, DIRECTORY};
use crate::outcome::kind;

/// Rooms in the run, unless `RELIABILITY_ROOMS` says otherwise.
const ROOMS: usize = 1000;
/// Hot swaps spread evenly over the run, unless `RELIABILITY_SWAPS` says otherwise.
const SWAPS: usize = 3;
const IN_FLIGHT: usize = 32;
/// A fault is armed after every this many rooms started.
const FAULT_EVERY: usize = 4;
/// Attempts a room gets at its create, and at its delete, before the run counts it as lost.
const ATTEMPTS: usize = 12;
const SEED: u64 = 20261123;

const STEPS: [Step; 5] = [
    Step::Mkcol,
    Step::CreateShare { permissions: 1 },
    Step::CreateShare { permissions: 15 },
    Step::DeleteShare,
    Step::DeleteFolder,
];

/// The share of folder DELETEs the stand-in answers 423 Locked, as the real server did when
/// requests on one folder overlapped: 5 of 43 (docs/nextcloud-behaviour.md, "Locking").
const LOCK_RATE: f64 = 5.0 / 43.0;

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

/// The host process's resident memory, in KiB (Linux; 0 elsewhere).
pub fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// What one room went through.
#[derive(Default)]
struct RoomRun {
    passwords: Vec<String>,
    /// Failed attempts by outcome.
    failed: Vec<String>,
    created: bool,
    deleted: bool,
    /// Created, but the record or the storage did not have it right after.
    lost: bool,
}

/// Runs the load; returns every share password the run created, for [`crate::passwords`].
pub async fn run(failures: &mut Failures) -> Vec<String> {
    let setting = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(default)
    };
    let rooms_in_run = setting("RELIABILITY_ROOMS", ROOMS);
    let swaps = setting("RELIABILITY_SWAPS", SWAPS);
    println!(
        "== Load: {rooms_in_run} rooms, {IN_FLIGHT} in flight, random faults, {swaps} hot swaps ==\n"
    );
    let standin = StandIn::start(Options {
        lock_rate: LOCK_RATE,
        ..Options::default()
    })
    .await
    .expect("stand-in");
    let host = Arc::new(TestHost::on(&standin).line("expiry = 7").build());
    let standin = Arc::new(standin);
    // Warm up (the directory, the pool's connections, instance slots), then measure.
    for round in 0..4 {
        let mut warm = tokio::task::JoinSet::new();
        for i in 0..IN_FLIGHT {
            let host = Arc::clone(&host);
            warm.spawn(async move {
                let room = format!("warm-{round}-{i}");
                host.create(&room).await.expect("warm-up create");
                // At this lock rate, four 423s in a row (all a delete's attempts) come once in
                // about 5,500 deletes: the delete is then finished by the next one, as the
                // measured run does too.
                if let Err(error) = host.delete(&room, false).await {
                    assert_eq!(
                        error.kind(),
                        ErrorKind::Remote(423),
                        "warm-up delete: {error}"
                    );
                    host.delete(&room, false)
                        .await
                        .expect("warm-up delete, again");
                }
            });
        }
        while let Some(done) = warm.join_next().await {
            done.expect("warm-up");
        }
    }
    let rss_start = resident_kib();
    let started = Instant::now();

    let done = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicBool::new(false));
    let swapper = tokio::spawn(hot_swaps(
        rooms_in_run,
        swaps,
        Arc::clone(&host),
        Arc::clone(&done),
        Arc::clone(&finished),
    ));
    let mut rng = StdRng::seed_from_u64(SEED);
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut rooms = tokio::task::JoinSet::new();
    let mut armed = 0;
    for i in 0..rooms_in_run {
        let permit = Arc::clone(&permits)
            .acquire_owned()
            .await
            .expect("semaphore");
        if i % 100 == 0 {
            // The stand-in shares the process: its log of requests would count as ours.
            standin.forget_seen();
        }
        if i % FAULT_EVERY == 0 {
            let step = STEPS[rng.random_range(0..STEPS.len())];
            let fault = FAULTS[rng.random_range(0..FAULTS.len())];
            standin.inject(FaultRule::at(step, fault));
            armed += 1;
        }
        let (host, standin, done) = (Arc::clone(&host), Arc::clone(&standin), Arc::clone(&done));
        rooms.spawn(async move {
            let run = room(&host, &standin, &format!("room-{i}")).await;
            done.fetch_add(1, Ordering::SeqCst);
            drop(permit);
            run
        });
    }
    let mut runs = Vec::new();
    while let Some(run) = rooms.join_next().await {
        runs.push(run.expect("room task"));
    }
    finished.store(true, Ordering::SeqCst);
    let swapped = swapper.await.expect("swap task");
    let elapsed = started.elapsed();
    standin.clear_faults();
    // Let slow answers land, then the host's own recovery.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let reconciled = host.reconcile().await;
    let all_rooms: Vec<String> = (0..rooms_in_run).map(|i| format!("room-{i}")).collect();
    let audit = Audit::of(standin.as_ref(), &host, &all_rooms, &[]).await;
    let storage = standin.storage();
    let left_on_storage = storage
        .nodes
        .keys()
        .filter(|p| p.starts_with(&format!("{DIRECTORY}/")))
        .count();
    let records_left = host.folder_count().await.unwrap_or(u64::MAX);
    let rss_end = resident_kib();

    let created = runs.iter().filter(|r| r.created).count();
    let deleted = runs.iter().filter(|r| r.deleted).count();
    let lost = runs.iter().filter(|r| r.lost).count();
    let mut failed: BTreeMap<String, usize> = BTreeMap::new();
    for outcome in runs.iter().flat_map(|r| &r.failed) {
        *failed.entry(outcome.clone()).or_default() += 1;
    }
    let unexpected: usize = failed
        .iter()
        .filter(|(k, _)| {
            matches!(
                k.as_str(),
                "trapped" | "instantiation" | "deadline" | "unusable"
            ) || k.starts_with("host")
                || k.starts_with("load")
        })
        .map(|(_, n)| n)
        .sum();

    println!(
        "{:<44} {created} / {deleted} of {rooms_in_run}",
        "rooms created / deleted"
    );
    println!("{:<44} {armed}", "faults armed");
    println!(
        "{:<44} {}",
        "attempts failed by a fault, retried",
        failed.values().sum::<usize>()
    );
    for (outcome, n) in &failed {
        println!("    {outcome:<40} {n}");
    }
    println!(
        "{:<44} {} (folder DELETEs at a rate of {:.0} %, and the armed ones)",
        "answers 423 Locked, each tried again",
        standin.locked_answers(),
        LOCK_RATE * 100.0
    );
    println!("{:<44} {unexpected}", "calls failed for another reason");
    println!("{:<44} {}", "hot swaps during the run", swapped.len());
    for swap in &swapped {
        println!(
            "    after {:>4} rooms, swapped in {:>6.0} ms (host RSS then {:.1} MiB)",
            swap.at,
            swap.took.as_secs_f64() * 1000.0,
            swap.rss_kib as f64 / 1024.0
        );
    }
    println!(
        "{:<44} {lost}",
        "records lost (created, not recorded/stored)"
    );
    println!(
        "{:<44} {} folders, {} shares",
        "orphans on the stand-in",
        audit.orphan_folders.len(),
        audit.orphan_links.len()
    );
    println!(
        "{:<44} {left_on_storage} folders, {} shares, {records_left} records",
        "left after the run",
        storage.shares.len()
    );
    println!(
        "{:<44} {:.1} s ({:.0} rooms/s)",
        "time",
        elapsed.as_secs_f64(),
        rooms_in_run as f64 / elapsed.as_secs_f64()
    );
    println!(
        "{:<44} {:.1} → {:.1} MiB ({:+.1} MiB)\n",
        "host RSS, start → end",
        rss_start as f64 / 1024.0,
        rss_end as f64 / 1024.0,
        (rss_end as f64 - rss_start as f64) / 1024.0
    );

    failures.check(created == rooms_in_run && deleted == rooms_in_run, || {
        format!("load: {created} created, {deleted} deleted of {rooms_in_run}")
    });
    failures.check(lost == 0, || format!("load: {lost} records lost"));
    failures.check(unexpected == 0, || {
        format!("load: {unexpected} calls failed for another reason than a fault: {failed:?}")
    });
    failures.check(
        audit.clean() && left_on_storage == 0 && storage.shares.is_empty() && records_left == 0,
        || {
            format!(
                "load: left behind: {audit:?}, {left_on_storage} folders, {records_left} records"
            )
        },
    );
    failures.check(reconciled.is_ok(), || {
        format!("load: reconcile failed: {reconciled:?}")
    });
    failures.check(swapped.len() == swaps, || {
        format!("load: {} hot swaps", swapped.len())
    });
    failures.check(rss_end < rss_start + 64 * 1024, || {
        format!("load: RSS grew from {rss_start} KiB to {rss_end} KiB")
    });
    runs.into_iter().flat_map(|r| r.passwords).collect()
}

/// Creates `room` until it succeeds, checks the record and the storage, deletes it until
/// that succeeds.
async fn room(host: &SharedFolders, standin: &StandIn, room: &str) -> RoomRun {
    let mut run = RoomRun::default();
    for _ in 0..ATTEMPTS {
        let result = host.create(room).await;
        match result {
            Ok(creation) => {
                let record = creation.record;
                run.created = true;
                let shares = standin.shares_on(&record.path);
                let on_storage = |url: &str| {
                    shares
                        .iter()
                        .any(|share| url.ends_with(&format!("/s/{}", share.token)))
                };
                let stored = standin.folder_exists(&record.path)
                    && on_storage(&record.read.url)
                    && on_storage(&record.read_write.url);
                let recorded = matches!(host.folder(room).await, Ok(Some(r)) if r == record);
                run.lost = !(stored && recorded);
                run.passwords = vec![
                    record.read.password.expose().to_owned(),
                    record.read_write.password.expose().to_owned(),
                ];
                break;
            }
            Err(_) => run.failed.push(format!("create: {}", kind(&result))),
        }
    }
    if !run.created {
        return run;
    }
    for _ in 0..ATTEMPTS {
        let result = host.delete(room, false).await;
        match result {
            Ok(_) => {
                run.deleted = true;
                break;
            }
            Err(_) => {
                run.failed.push(format!("delete: {}", kind(&result)));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    run
}

/// One hot swap during the run.
struct Swap {
    /// Rooms done when it came.
    at: usize,
    took: Duration,
    /// The host's resident memory just before it.
    rss_kib: u64,
}

/// Swaps a rebuilt NextCloud component in `swaps` times, evenly over the `rooms` of the run.
async fn hot_swaps(
    rooms: usize,
    swaps: usize,
    host: Arc<SharedFolders>,
    done: Arc<AtomicUsize>,
    finished: Arc<AtomicBool>,
) -> Vec<Swap> {
    let mut swapped = Vec::new();
    for swap in 1..=swaps {
        while done.load(Ordering::SeqCst) < rooms * swap / (swaps + 1) {
            if finished.load(Ordering::SeqCst) {
                return swapped;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let at = done.load(Ordering::SeqCst);
        let rss_kib = resident_kib();
        let component = shared_folder_test_support::rebuilt_component(
            NEXTCLOUD_PROVIDER,
            &format!("swap {swap}"),
        );
        let started = Instant::now();
        if host
            .runtime()
            .swap_provider("nextcloud", &component)
            .await
            .is_ok()
        {
            swapped.push(Swap {
                at,
                took: started.elapsed(),
                rss_kib,
            });
        }
    }
    swapped
}
