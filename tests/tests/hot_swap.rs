//! Swapping the provider of a running host: no restart, no rebuild, no lost call.

use std::sync::Arc;
use std::time::Duration;

use shared_folder_harness::{FIXTURE_PROVIDER, NEXTCLOUD_PROVIDER, Options, StandIn, TestHost};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swap_to_a_different_provider_needs_no_host_change() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let host = TestHost::on(&standin).build();
    let nextcloud = host.create("room-nc").await.unwrap().record;
    assert_eq!(nextcloud.maker.provider, "nextcloud");

    let info = host
        .runtime()
        .swap_provider("fixture", FIXTURE_PROVIDER)
        .await
        .unwrap();
    assert_eq!(host.runtime().provider(), info);
    let fixture = host.create("room-fx").await.unwrap().record;
    assert_eq!(fixture.maker.provider, "fixture");
    assert_ne!(fixture.maker.digest, nextcloud.maker.digest);
    assert_eq!(fixture.path, "fixture/room-fx");
    assert!(fixture.read.url.starts_with(&standin.url()));
    assert!(
        !standin.folder_exists("opentalk/meetings/room-fx"),
        "the fixture stores nothing"
    );

    // While the fixture serves, the NextCloud room is deleted by the provider that made it —
    // not by the fixture, which would answer "not made by the fixture" and leave the folder.
    assert!(host.delete("room-nc", false).await.unwrap().deleted());
    assert!(!standin.folder_exists("opentalk/meetings/room-nc"));
    assert!(standin.storage().shares.is_empty());
    assert_eq!(host.runtime().provider(), info, "the fixture still serves");

    // And back, to the same compiled component; the fixture's room is still the fixture's.
    let back = host
        .runtime()
        .swap_provider("nextcloud", NEXTCLOUD_PROVIDER)
        .await
        .unwrap();
    assert_eq!(back.name, "nextcloud");
    assert!(host.delete("room-fx", false).await.unwrap().deleted());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swap_during_concurrent_calls_loses_none() {
    // Each request takes 20 ms at the stand-in, so many calls are in flight during the swaps.
    let options = Options {
        latency: Duration::from_millis(20),
        ..Options::default()
    };
    let standin = StandIn::start(options).await.unwrap();
    let host = Arc::new(TestHost::on(&standin).build());
    host.create("warm-up").await.unwrap();
    // Compile the fixture once up front, so that the swaps below are as quick as they are
    // in a host that has seen both components before.
    host.runtime()
        .swap_provider("fixture", FIXTURE_PROVIDER)
        .await
        .unwrap();
    host.runtime()
        .swap_provider("nextcloud", NEXTCLOUD_PROVIDER)
        .await
        .unwrap();

    let rooms = 48;
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..rooms {
        let host = Arc::clone(&host);
        calls.spawn(async move {
            tokio::time::sleep(Duration::from_millis(5 * i)).await;
            let room = format!("room-{i}");
            (room.clone(), host.create(&room).await)
        });
    }
    let swapper = {
        let host = Arc::clone(&host);
        tokio::spawn(async move {
            let mut swaps = 0;
            for component in [
                FIXTURE_PROVIDER,
                NEXTCLOUD_PROVIDER,
                FIXTURE_PROVIDER,
                NEXTCLOUD_PROVIDER,
            ] {
                tokio::time::sleep(Duration::from_millis(50)).await;
                let name = if component == FIXTURE_PROVIDER {
                    "fixture"
                } else {
                    "nextcloud"
                };
                host.runtime().swap_provider(name, component).await.unwrap();
                swaps += 1;
            }
            swaps
        })
    };

    let mut by_provider = std::collections::BTreeMap::new();
    while let Some(joined) = calls.join_next().await {
        let (room, result) = joined.unwrap();
        let record = result.unwrap_or_else(|e| panic!("{room} lost: {e}")).record;
        assert_eq!(host.folder(&room).await.unwrap().as_ref(), Some(&record));
        if record.maker.provider == "nextcloud" {
            assert!(standin.folder_exists(&record.path), "{room}");
            assert_eq!(standin.shares_on(&record.path).len(), 2, "{room}");
        }
        *by_provider.entry(record.maker.provider).or_insert(0) += 1;
    }
    assert_eq!(swapper.await.unwrap(), 4);
    assert_eq!(by_provider.values().sum::<i32>(), rooms as i32);
    assert!(
        by_provider.len() == 2,
        "calls ran on both providers: {by_provider:?}"
    );
    // Whatever serves now, each room is deleted by the provider that made it.
    for i in 0..rooms {
        let room = format!("room-{i}");
        assert!(host.delete(&room, false).await.unwrap().deleted(), "{room}");
    }
    host.delete("warm-up", false).await.unwrap();
    assert!(standin.storage().shares.is_empty());
}
