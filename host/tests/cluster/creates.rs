//! Creates across hosts: one folder per room whichever hosts are asked at once, and a create
//! that a dead host left half made is purged by another.

use std::sync::Arc;
use std::time::Duration;

use shared_folder_test_support::{Fault, FaultRule, Options, Step};

use super::fixture::{Cluster, folder, path};
use crate::common::eventually;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_on_a_and_b_at_once_makes_one_folder() {
    const ROOMS: usize = 20;
    let cluster = Cluster::start("create_at_once", Options::default(), "").await;
    let a = Arc::new(cluster.serve());
    let b = Arc::new(cluster.serve());
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..ROOMS {
        for host in [&a, &b] {
            let host = Arc::clone(host);
            calls.spawn(async move { (i, host.call("PUT", &folder(&room(i)), None).await) });
        }
    }
    let mut answers = vec![Vec::new(); ROOMS];
    while let Some(done) = calls.join_next().await {
        let (i, reply) = done.expect("a PUT");
        answers[i].push(reply);
    }

    let mut passwords = Vec::new();
    for (i, replies) in answers.iter_mut().enumerate() {
        replies.sort_by_key(|reply| reply.status);
        let [existed, made] = &replies[..] else {
            panic!("room {i}: {} answers", replies.len());
        };
        assert_eq!(
            (existed.status, made.status),
            (200, 201),
            "room {i}: {} / {}",
            existed.text(),
            made.text()
        );
        assert_eq!(
            existed.json(),
            made.json(),
            "room {i}: two different folders"
        );
        let shares = cluster.standin.shares_on(&path(&room(i)));
        assert_eq!(shares.len(), 2, "room {i}: {shares:?}");
        for kind in ["read", "read_write"] {
            let password = made.json()[kind]["password"].as_str().map(str::to_owned);
            passwords.push(password.expect("a link password"));
        }
    }
    let mut folders = cluster.room_folders();
    folders.sort();
    let mut expected: Vec<String> = (0..ROOMS).map(room).collect();
    expected.sort();
    assert_eq!(folders, expected);
    assert_eq!(cluster.shares(), 2 * ROOMS);
    assert_eq!(cluster.records(), ROOMS as u64);
    // The links' passwords are sealed with the records key: none is in the database as it is.
    let table = cluster.sql("SELECT * FROM folders");
    for password in &passwords {
        assert!(
            !table.contains(password.as_str()),
            "a link password in clear in the database"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_killed_mid_create_is_cleaned_up_by_another() {
    const ROOM: &str = "room-1";
    // Rooms' leases last 3 s here (30 s by default), unless `CLUSTER_ROOM_LEASE` says.
    let lease: u64 = std::env::var("CLUSTER_ROOM_LEASE")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    let cluster = Cluster::start(
        "killed_mid_create",
        Options::default(),
        &format!("room_lease = {lease}"),
    )
    .await;
    cluster
        .setup
        .edit("answer_timeout = 2", "answer_timeout = 30");
    let standin = &cluster.standin;
    // The read-write link is made, then its answer held back: A is killed while it waits,
    // after the folder and both links exist and before its record is complete.
    standin.inject(FaultRule::at(
        Step::CreateShare { permissions: 15 },
        Fault::SlowAnswer(Duration::from_secs(20)),
    ));
    let a = cluster.serve();
    let b = cluster.serve();
    let call = a.put_in_background(&folder(ROOM));
    let both_links = || standin.shares_on(&path(ROOM)).len() == 2;
    assert!(eventually(Duration::from_secs(10), both_links).await);

    // While A lives and waits for the storage, B (cleaning up every second) leaves its create
    // alone: it is under way, not lost — for longer than a lease lasts, A renewing its lease.
    let a_lease = cluster.sql("SELECT holder FROM leases WHERE name = 'room:room-1'");
    assert!(!a_lease.trim().is_empty(), "A holds no lease on the room");
    tokio::time::sleep(Duration::from_secs(lease + 2).min(Duration::from_secs(15))).await;
    assert!(
        standin.folder_exists(&path(ROOM)) && both_links(),
        "B purged a create that A was still making: {:?}\n{}",
        standin.storage(),
        b.log()
    );

    a.kill();
    let died = std::time::Instant::now();
    let outcome = call.await.expect("the call's task");
    assert!(outcome.is_err(), "the call died with A: {outcome:?}");
    // B takes the room over once A's lease ran out (it was renewed a moment ago, at most a
    // third of a lease before), and purges it at its next round.
    let purged = eventually(Duration::from_secs(lease + 30), || {
        !standin.folder_exists(&path(ROOM)) && standin.storage().shares.is_empty()
    })
    .await;
    assert!(purged, "left behind: {:?}\n{}", standin.storage(), b.log());
    println!(
        "a host killed mid-create: its room purged by the other host {:.1} s after its death \
         ({lease} s leases, renewed every {:.1} s; a clean-up round every second)",
        died.elapsed().as_secs_f64(),
        lease as f64 / 3.0
    );
    assert!(
        b.log().contains("took over a lease that ran out"),
        "{}",
        b.log()
    );
    assert_eq!(b.call("GET", &folder(ROOM), None).await.status, 404);
    // The row goes after what it named.
    assert!(eventually(Duration::from_secs(5), || cluster.records() == 0).await);

    let again = b.call("PUT", &folder(ROOM), None).await;
    assert_eq!(again.status, 201, "{}", again.text());
    assert_eq!(standin.shares_on(&path(ROOM)).len(), 2);
    assert_eq!(cluster.records(), 1);
}

fn room(i: usize) -> String {
    format!("room-{i}")
}
