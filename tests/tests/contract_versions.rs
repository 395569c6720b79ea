//! Three contract versions in one host: a component built against 0.2.0 (kept as it was
//! deployed, `tests/artifacts/`), the fixture of 0.3.0, beside the 0.4.0 providers, each record
//! deleted by the provider, contract and settings that made it — after swaps, reloads and
//! restarts; and what an older component is asked that it cannot do.

use shared_folder_harness::{
    FIXTURE_PROVIDER, NEXTCLOUD_PROVIDER, NEXTCLOUD_PROVIDER_0_2, Options, StandIn, TestHost,
};
use shared_folder_host::runtime::{Contract, Validation};
use shared_folder_host::{ErrorKind, Expected, Records, RoomState};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_0_2_component_still_loads_creates_and_deletes() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let host = TestHost::on(&standin)
        .component(NEXTCLOUD_PROVIDER_0_2)
        .line("expiry = 7")
        .build();
    assert_eq!(host.runtime().provider().contract, Contract::V0_2);
    assert_eq!(
        host.runtime().validate().await.unwrap(),
        Validation::NotOffered
    );

    let record = host.create("old-room").await.unwrap().record;
    assert_eq!(record.maker.contract, Contract::V0_2);
    assert_eq!(record.path, "opentalk/meetings/old-room");
    let shares = standin.shares_on(&record.path);
    assert_eq!(shares.len(), 2);
    // The host keeps the 0.2 provider's share ids as the record's handle …
    let handle: serde_json::Value = serde_json::from_str(&record.handle).unwrap();
    let mut ids: Vec<String> = shares.iter().map(|s| s.id.to_string()).collect();
    let mut recorded = vec![
        handle["read"].as_str().unwrap().to_owned(),
        handle["read_write"].as_str().unwrap().to_owned(),
    ];
    ids.sort();
    recorded.sort();
    assert_eq!(ids, recorded);
    // … and gives them back to its delete.
    assert!(host.delete("old-room", false).await.unwrap().deleted());
    assert!(!standin.folder_exists(&record.path));
    assert!(standin.storage().shares.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_components_of_three_contract_versions_serve_one_host_and_each_deletes_its_own() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let host = TestHost::on(&standin)
        .component(NEXTCLOUD_PROVIDER_0_2)
        .build();
    let old = host.create("room-0-2").await.unwrap().record;

    let current = host
        .runtime()
        .swap_provider("nextcloud", NEXTCLOUD_PROVIDER)
        .await
        .unwrap();
    assert_eq!(current.contract, Contract::V0_4);
    let new = host.create("room-0-3").await.unwrap().record;

    host.runtime()
        .swap_provider("fixture", FIXTURE_PROVIDER)
        .await
        .unwrap();
    let fixture = host.create("room-fixture").await.unwrap().record;

    let makers = [&old.maker, &new.maker, &fixture.maker];
    assert_eq!(
        makers.map(|m| (m.provider.as_str(), m.contract)),
        [
            ("nextcloud", Contract::V0_2),
            ("nextcloud", Contract::V0_4),
            ("fixture", Contract::V0_3)
        ]
    );
    assert_ne!(old.maker.digest, new.maker.digest);
    assert_eq!(old.maker.storage, new.maker.storage, "the same settings");

    // The fixture serves; the NextCloud rooms go to the components that made them. Were the
    // 0.3 NextCloud handed the 0.2 room, or the fixture either, the links would stay.
    standin.forget_seen();
    assert!(host.delete("room-0-2", false).await.unwrap().deleted());
    assert!(!standin.folder_exists(&old.path));
    assert!(host.delete("room-0-3", false).await.unwrap().deleted());
    assert!(!standin.folder_exists(&new.path));
    assert!(standin.storage().shares.is_empty());
    let deletes = standin
        .seen()
        .iter()
        .filter(|r| r.method == "DELETE")
        .count();
    assert_eq!(deletes, 6, "two links and a folder for each room");
    assert!(host.delete("room-fixture", false).await.unwrap().deleted());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_remember_their_maker_across_a_restart() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("records.sqlite3");
    let made = {
        let host = TestHost::on(&standin)
            .component(NEXTCLOUD_PROVIDER_0_2)
            .records(Records::open(&database).unwrap())
            .build();
        host.create("room").await.unwrap().record
    };
    let Some(RoomState::Ready(stored)) =
        Records::open(&database).unwrap().get("room").await.unwrap()
    else {
        panic!("the record is kept");
    };
    assert_eq!(stored, made);
    assert_eq!(stored.maker.contract, Contract::V0_2);
    assert_eq!(stored.maker.digest.len(), 64);

    // Restarted with the 0.2 component in place again: its record goes to it.
    let host = TestHost::on(&standin)
        .component(NEXTCLOUD_PROVIDER_0_2)
        .records(Records::open(&database).unwrap())
        .build();
    assert!(host.delete("room", false).await.unwrap().deleted());
    assert!(!standin.folder_exists(&made.path));
    assert!(standin.storage().shares.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_0_2_record_is_deleted_by_the_upgraded_provider_of_its_name() {
    // A host upgraded from the 0.2 NextCloud component to the 0.3 one: the old component is
    // gone, and the newest provider of the record's name takes its delete. The 0.3 NextCloud
    // provider reads the handle the host keeps for 0.2 records (path and share ids).
    let standin = StandIn::start(Options::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("records.sqlite3");
    let made = {
        let host = TestHost::on(&standin)
            .component(NEXTCLOUD_PROVIDER_0_2)
            .records(Records::open(&database).unwrap())
            .build();
        host.create("room").await.unwrap().record
    };
    let host = TestHost::on(&standin)
        .records(Records::open(&database).unwrap())
        .build();
    assert_eq!(host.runtime().provider().contract, Contract::V0_4);
    assert!(host.delete("room", false).await.unwrap().deleted());
    assert!(!standin.folder_exists(&made.path));
    assert!(standin.storage().shares.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_whose_provider_is_not_loaded_is_refused_and_kept() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("records.sqlite3");
    {
        let host = TestHost::on(&standin)
            .provider("fixture")
            .component(FIXTURE_PROVIDER)
            .records(Records::open(&database).unwrap())
            .build();
        host.create("room").await.unwrap();
    }
    // Restarted with NextCloud only: nothing may be sent to a provider that did not make it.
    let host = TestHost::on(&standin)
        .records(Records::open(&database).unwrap())
        .build();
    standin.forget_seen();
    let error = host.delete("room", false).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("made by provider \"fixture\" (contract 0.3"),
        "{error}"
    );
    assert!(standin.seen().is_empty(), "nothing was sent");
    assert!(matches!(
        host.room_state("room").await.unwrap(),
        Some(RoomState::Deleting(_))
    ));
    // Forced, the record goes (the operator cleans up by hand).
    assert!(!host.delete("room", true).await.unwrap().deleted());
    assert_eq!(host.room_state("room").await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_refuses_bad_settings_without_contacting_the_storage() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let runtime = TestHost::on(&standin).line("expiry = 0").runtime();
    let Validation::Invalid(problem) = runtime.validate().await.unwrap() else {
        panic!("expiry = 0 accepted");
    };
    assert_eq!(problem.field, "expiry");
    assert!(standin.seen().is_empty(), "{:?}", standin.seen());

    // A swap to a component that refuses the settings leaves the current one serving.
    let runtime = TestHost::on(&standin).line("expiry = 7").runtime();
    let before = runtime.provider();
    let fixture_runtime = TestHost::on(&standin)
        .line("fixture_validate = \"request\"")
        .runtime();
    let error = fixture_runtime
        .swap_provider("fixture", FIXTURE_PROVIDER)
        .await
        .unwrap_err();
    // The fixture tried a request during validate; the host refused it.
    assert!(
        error
            .to_string()
            .contains("[shared_folder].fixture_validate: request refused")
            && error.to_string().contains("HttpRequestDenied"),
        "{error}"
    );
    assert_eq!(fixture_runtime.provider().name, "nextcloud");
    assert!(standin.seen().is_empty(), "{:?}", standin.seen());
    assert_eq!(runtime.provider(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_a_handle_goes_to_its_own_account_only() {
    let first = StandIn::start(Options::default()).await.unwrap();
    let second = StandIn::start(Options::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("records.sqlite3");
    let made = {
        let host = TestHost::on(&first)
            .line("expiry = 7")
            .records(Records::open(&database).unwrap())
            .build();
        host.create("room").await.unwrap().record
    };
    // Restarted on another storage of the same provider: its share ids mean other links
    // there, so nothing may be sent to it.
    let elsewhere = TestHost::on(&second)
        .records(Records::open(&database).unwrap())
        .build();
    second.forget_seen();
    let error = elsewhere.delete("room", false).await.unwrap_err();
    assert!(
        error.to_string().contains("no longer configured"),
        "{error}"
    );
    assert!(second.seen().is_empty(), "{:?}", second.seen());
    assert!(first.folder_exists(&made.path));
    drop(elsewhere);

    // Restarted on the same account with another setting: the current settings serve it.
    let host = TestHost::on(&first)
        .line("expiry = 30")
        .records(Records::open(&database).unwrap())
        .build();
    assert_ne!(host.runtime().serving().maker().storage, made.maker.storage);
    assert!(host.delete("room", false).await.unwrap().deleted());
    assert!(!first.folder_exists(&made.path));
    assert!(first.storage().shares.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_component_asked_to_list_or_recover_says_it_cannot_and_nothing_is_sent() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    for (name, component, contract) in [
        ("nextcloud", NEXTCLOUD_PROVIDER_0_2, Contract::V0_2),
        ("fixture", FIXTURE_PROVIDER, Contract::V0_3),
    ] {
        let host = TestHost::on(&standin)
            .provider(name)
            .component(component)
            .build();
        standin.forget_seen();
        let listed = host.runtime().list_folders().await.unwrap_err();
        assert_eq!(listed.kind(), ErrorKind::NotOffered, "{listed}");
        let message = listed.to_string();
        assert!(
            message.contains(&format!("contract {contract} has no `list-folders`")),
            "{message}"
        );
        let recovered = host.recover("room", Expected::Either).await.unwrap_err();
        assert_eq!(recovered.kind(), ErrorKind::NotOffered, "{recovered}");
        let audited = shared_folder_host::audit::audit(&host).await.unwrap_err();
        assert_eq!(audited.kind(), ErrorKind::NotOffered, "{audited}");
        assert!(standin.seen().is_empty(), "nothing was sent");
        assert_eq!(host.room_state("room").await.unwrap(), None);
    }
}
