//! `cargo benchmark --config FILE`: the same side-by-side comparison against the NextCloud or
//! OpenCloud the file's `[shared_folder]` names (by its `provider`) — our host (with the
//! storage's session kept, and without) against the native path OpenTalk takes with that
//! storage's client. Every room it makes it deletes again; rooms go to
//! `<directory>/benchmark-…`.
//!
//! NextCloud: the share rate limit (20 shares per 10 minutes) must be lifted for this host: the
//! run creates a few hundred shares. What a real server adds over the stand-in: the password
//! check (about 0.6 s with a login password, 0.08 s with an app password, unless a session is
//! kept), hashing each share's password (about 0.3 s), and PHP's workers.
//!
//! OpenCloud: the password is an app token, checked at every request (OpenCloud sets no
//! session cookie for it, so both of our rows send the same requests). Deleted folders go to
//! the personal space's trash bin: ours takes its own out again with `delete_from_trash = true`
//! (one request more per delete), the native client never does, so its folders stay there
//! until the trash bin is emptied.

use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream;
use shared_folder_host::runtime::{ConnectionSettings, Credentials, SettingValue};
use shared_folder_host::{HostConfig, Options, Records, Runtime, SharedFolders};

use crate::Failure;
use crate::native::{Account, Native};
use crate::storage::{NextCloud, OpenCloud, Storage};
use crate::table::{Better, Table, median_p99_ms};

pub async fn run(file: &Path, samples: usize) -> Result<(), Failure> {
    let config = HostConfig::load(file)?;
    match config.shared_folder.provider.as_str() {
        "nextcloud" => compare::<NextCloud>(&config, samples).await,
        "opencloud" => compare::<OpenCloud>(&config, samples).await,
        // ownCloud among them: OpenTalk has no client for it.
        other => Err(format!(
            "provider {other:?}: OpenTalk has no native client to compare with \
             (nextcloud and opencloud have one)"
        )
        .into()),
    }
}

/// Our host with `S`'s component against `S`'s native client, on the server `config` names.
async fn compare<S: Storage>(config: &HostConfig, samples: usize) -> Result<(), Failure> {
    let shared = &config.shared_folder;
    eprintln!(
        "against the {} at {} as {:?}",
        S::NAME,
        shared.url,
        shared.username
    );
    let ours = |session: bool| -> Result<SharedFolders, Failure> {
        let options = config.host.runtime_options();
        let options = Options {
            cache_dir: None,
            connections: ConnectionSettings {
                session,
                ..options.connections
            },
            ..options
        };
        let runtime = Runtime::new(shared.clone(), S::COMPONENT, options)?;
        Ok(SharedFolders::new(runtime, Records::in_memory()?))
    };
    let (with_session, without_session) = (ours(true)?, ours(false)?);
    let directory = shared
        .text_setting("directory")
        .unwrap_or("")
        .trim_matches('/')
        .to_owned();
    let expiry_days = match shared.setting("expiry") {
        Some(SettingValue::Integer(days)) => (*days).try_into()?,
        _ => 7,
    };
    let url = url::Url::parse(
        shared
            .text_setting("url")
            .ok_or("[shared_folder].url is missing")?,
    )?;
    let password = match &shared.credentials {
        Credentials::Basic { password, .. } => password.expose().to_owned(),
        Credentials::Bearer(_) => {
            return Err("the baseline client speaks HTTP Basic only: use auth = \"basic\"".into());
        }
    };
    let baseline = S::Native::new(Account {
        url,
        username: shared.username.clone(),
        password,
        directory,
        expiry_days,
    });
    let run = format!("benchmark-{}", std::process::id());
    // Warm both paths; ours makes the directory the baseline expects.
    with_session.create(&format!("{run}-warm")).await?;
    with_session.delete(&format!("{run}-warm"), false).await?;
    let warm = baseline.create(&format!("{run}-warm-baseline")).await?;
    baseline.delete(&warm).await?;

    let mut table = Table::against(S::BASELINE);
    sequential(
        &mut table,
        &with_session,
        &without_session,
        &baseline,
        &run,
        samples,
    )
    .await?;
    for in_flight in [1, 8] {
        throughput(&mut table, &with_session, &baseline, &run, in_flight).await?;
    }
    table.print();
    Ok(())
}

/// Create and delete one after another, alternating the sides so that each sees the same load.
async fn sequential(
    table: &mut Table,
    ours: &SharedFolders,
    no_session: &SharedFolders,
    baseline: &impl Native,
    run: &str,
    samples: usize,
) -> Result<(), Failure> {
    eprintln!("{samples} creates and deletes each, one after another …");
    let mut times: [Vec<Duration>; 6] = Default::default();
    for i in 0..samples {
        // Ours with the session kept (times 0, 1), then without (2, 3).
        for (host, name, slot) in [(ours, "seq", 0), (no_session, "seq-nosession", 2)] {
            let room = format!("{run}-{name}-{i}");
            let started = Instant::now();
            host.create(&room).await?;
            times[slot].push(started.elapsed());
            let started = Instant::now();
            host.delete(&room, false).await?;
            times[slot + 1].push(started.elapsed());
        }

        let started = Instant::now();
        let folder = baseline.create(&format!("{run}-seq-baseline-{i}")).await?;
        times[4].push(started.elapsed());
        let started = Instant::now();
        baseline.delete(&folder).await?;
        times[5].push(started.elapsed());
    }
    let [
        mut create,
        mut delete,
        mut create_cold,
        mut delete_cold,
        mut base_create,
        mut base_delete,
    ] = times;
    let (create, base_create) = (median_p99_ms(&mut create), median_p99_ms(&mut base_create));
    let (delete, base_delete) = (median_p99_ms(&mut delete), median_p99_ms(&mut base_delete));
    let (create_cold, delete_cold) = (
        median_p99_ms(&mut create_cold),
        median_p99_ms(&mut delete_cold),
    );
    for (name, ours, base) in [
        ("create, median (real server)", create.0, base_create.0),
        ("create, p99 (real server)", create.1, base_create.1),
        ("delete, median (real server)", delete.0, base_delete.0),
        ("delete, p99 (real server)", delete.1, base_delete.1),
        (
            "create, median (real server), ours without the session kept",
            create_cold.0,
            base_create.0,
        ),
        (
            "delete, median (real server), ours without the session kept",
            delete_cold.0,
            base_delete.0,
        ),
    ] {
        table.row(name, "ms", Better::Lower, ours, Some(base));
    }
    Ok(())
}

/// Creates per second with `in_flight` at once; every room is deleted afterwards.
async fn throughput(
    table: &mut Table,
    ours: &SharedFolders,
    baseline: &impl Native,
    run: &str,
    in_flight: usize,
) -> Result<(), Failure> {
    eprintln!("throughput with {in_flight} in flight …");
    let total = (in_flight * 3).max(8);
    let rooms: Vec<String> = (0..total)
        .map(|i| format!("{run}-t{in_flight}-{i}"))
        .collect();
    let started = Instant::now();
    let made: Vec<_> = stream::iter(&rooms)
        .map(|room| ours.create(room))
        .buffer_unordered(in_flight)
        .collect()
        .await;
    let ours_rate = total as f64 / started.elapsed().as_secs_f64();
    for room in &rooms {
        ours.delete(room, false).await?;
    }
    made.into_iter().collect::<Result<Vec<_>, _>>()?;

    let started = Instant::now();
    let made: Vec<_> = stream::iter(&rooms)
        .map(|room| async move { baseline.create(&format!("{room}-baseline")).await })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    let base_rate = total as f64 / started.elapsed().as_secs_f64();
    for folder in made {
        baseline.delete(&folder?).await?;
    }
    table.row(
        format!("creates per second, {in_flight} in flight (real server)"),
        "1/s",
        Better::Higher,
        ours_rate,
        Some(base_rate),
    );
    Ok(())
}
