//! `cargo benchmark`: the host running the NextCloud component, side by side with the native
//! path OpenTalk takes today (`opentalk-nextcloud-client`, see `baseline.rs`), in one run,
//! against the same NextCloud stand-in — with no added latency and with 20 ms per request, as
//! a server across a network would add. Prints a table (Markdown) with the ratio
//! ours / baseline for each row; progress goes to stderr. Then the same table for the
//! OpenCloud component against `opentalk-opencloud-client` (`opencloud_baseline.rs`) on the
//! OpenCloud stand-in (`--no-opencloud` leaves it out, `--no-nextcloud` the first). The
//! storages, their stand-ins and clients: `storage.rs`.
//!
//! Medians and 99th percentiles, never single timings: the machine is shared and noisy.
//!
//! After them, two tables on the records' database (`databases.rs`): PostgreSQL against an
//! SQLite file, and two hosts on one PostgreSQL against one (`--no-databases` leaves them out,
//! `--only-databases` measures only them).
//!
//! `--config FILE` runs the comparison against the real NextCloud or OpenCloud the file names
//! instead (`real_server.rs`). `--round-trips` prints only the requests each side sends per
//! create and per delete (`round_trips.rs`).

mod baseline;
mod databases;
mod native;
mod opencloud_baseline;
mod real_server;
mod resident;
mod round_trips;
mod shipping;
mod stand_in_process;
mod storage;
mod table;

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::StreamExt;
use futures_util::stream::{self, FuturesUnordered};
use shared_folder_host::components::{self, ComponentSettings, Components};
use shared_folder_host::runtime::{ConnectionSettings, content_digest};
use shared_folder_host::{ErrorKind, Runtime, SharedFolders};
use shared_folder_test_support::{TestHost, rebuilt_component};

use native::Native;
use stand_in_process::StandInProcess;
use storage::{NextCloud, OpenCloud, Storage};
use table::{Better, Table, median_p99_ms, resident_bytes, resident_bytes_trimmed};

#[derive(Parser)]
#[command(
    about = "Benchmark the shared-folder host against OpenTalk's native NextCloud and OpenCloud clients"
)]
struct Args {
    /// Sequential creates (and deletes) per latency setting and side.
    #[arg(long, default_value_t = 60)]
    samples: usize,
    /// Instantiations timed per allocator.
    #[arg(long, default_value_t = 2000)]
    instantiations: usize,
    /// Measure against the NextCloud or OpenCloud this OpenTalk-style configuration file names
    /// (by its `provider`) instead of the stand-in (a NextCloud's share rate limit must be
    /// lifted for this host).
    #[arg(long)]
    config: Option<std::path::PathBuf>,
    /// Leave out the NextCloud table (the host with the NextCloud component against
    /// `opentalk-nextcloud-client`).
    #[arg(long)]
    no_nextcloud: bool,
    /// Leave out the OpenCloud table (the host with the OpenCloud component against
    /// `opentalk-opencloud-client`).
    #[arg(long)]
    no_opencloud: bool,
    /// Leave out the rows on the records' database (they start a PostgreSQL server, which
    /// installs Debian's `postgresql` first if it is missing and we are root).
    #[arg(long, conflicts_with = "only_databases")]
    no_databases: bool,
    /// Only the rows on the records' database.
    #[arg(long)]
    only_databases: bool,
    /// Only count the requests each side sends per create and per delete, and how many of
    /// them one after another, on each stand-in.
    #[arg(long, conflicts_with_all = ["config", "only_databases"])]
    round_trips: bool,
    /// After each table, where each side's resident memory per create in flight is: the
    /// linear memories (the guest's stack, data, heap), the fiber stacks, the tables, the
    /// malloc heap (`resident.rs`).
    #[arg(long)]
    memory_breakdown: bool,
    /// Only the memory row (and `--memory-breakdown`), per table: for working on it.
    #[arg(long, conflicts_with_all = ["config", "only_databases", "round_trips"])]
    only_memory: bool,
    /// Only what only the host has (compile, load, instantiation, verification, swaps), per
    /// table: for working on those rows.
    #[arg(long, conflicts_with_all = ["config", "only_databases", "round_trips", "only_memory"])]
    only_host_costs: bool,
    /// (Internal) serve this provider's stand-in until standard input closes: the memory
    /// row's stand-in, in a process of its own (`stand_in_process.rs`).
    #[arg(long = "serve-stand-in", hide = true)]
    serve_stand_in: Option<String>,
    /// (Internal) the latency per request of `--serve-stand-in`.
    #[arg(long, hide = true, default_value_t = 0)]
    stand_in_latency_ms: u64,
}

type Failure = Box<dyn std::error::Error>;

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> Result<(), Failure> {
    if let Some(provider) = &args.serve_stand_in {
        let latency = Duration::from_millis(args.stand_in_latency_ms);
        return stand_in_process::serve(provider, latency).await;
    }
    if let Some(file) = &args.config {
        return real_server::run(file, args.samples.min(20)).await;
    }
    if args.round_trips {
        if !args.no_nextcloud {
            round_trips::print::<NextCloud>().await?;
        }
        if !args.no_opencloud {
            round_trips::print::<OpenCloud>().await?;
        }
        return Ok(());
    }
    let mut tables = Vec::new();
    let mut failed = None;
    let mut breakdown = Table::with_columns([
        "ours (host + component)",
        "baseline (the native client)",
        "ours / baseline",
    ]);
    if !args.only_databases && !args.no_nextcloud {
        match side_by_side::<NextCloud>(&args, &mut breakdown).await {
            Ok(table) => tables.push(table),
            Err(error) => failed = Some(error),
        }
    }
    if !args.only_databases && !args.no_opencloud && failed.is_none() {
        match side_by_side::<OpenCloud>(&args, &mut breakdown).await {
            Ok(table) => tables.push(table),
            Err(error) => failed = Some(error),
        }
    }
    let mut databases = databases::Tables::new();
    let measured = match failed {
        Some(error) => Err(error),
        None if args.no_databases || args.only_memory || args.only_host_costs => Ok(()),
        // Sequential rounds are cheap at 0 ms per request: more of them, for the p99.
        None => databases::run(&mut databases, args.samples * 4)
            .await
            .inspect_err(|error| {
                eprintln!("the database rows failed (`--no-databases` leaves them out): {error}");
            }),
    };
    // The tables measured are printed all the same when a later one failed.
    for (n, table) in tables.iter().enumerate() {
        if n > 0 {
            println!();
        }
        table.print();
    }
    if args.memory_breakdown {
        println!("\nResident memory per create in flight, by part:\n");
        breakdown.print();
    }
    match measured {
        Ok(()) if args.no_databases || args.only_memory || args.only_host_costs => {}
        Ok(()) => {
            if !tables.is_empty() {
                println!();
            }
            databases.print();
        }
        Err(error) => return Err(error),
    }
    Ok(())
}

/// The table of one storage: our host with its component against its native client, on its
/// stand-in, then what only the host has.
async fn side_by_side<S: Storage>(args: &Args, breakdown: &mut Table) -> Result<Table, Failure> {
    let breakdown = args.memory_breakdown.then_some(breakdown);
    eprintln!("{} …", S::NAME);
    let mut table = Table::against(S::BASELINE);
    if args.only_memory {
        memory::<S>(&mut table, breakdown).await?;
        return Ok(table);
    }
    if args.only_host_costs {
        host_costs::<S>(&mut table, args.instantiations).await?;
        return Ok(table);
    }
    for latency_ms in [0, 20] {
        latencies::<S>(&mut table, latency_ms, args.samples).await?;
    }
    for in_flight in [1, 8, 64] {
        throughput::<S>(&mut table, in_flight).await?;
    }
    without_reuse::<S>(&mut table, args.samples).await?;
    memory::<S>(&mut table, breakdown).await?;
    host_costs::<S>(&mut table, args.instantiations).await?;
    Ok(table)
}

fn ours<S: Storage>(stand_in: &S::StandIn) -> Result<SharedFolders, Failure> {
    Ok(S::host(stand_in).try_build()?)
}

/// The host with other connection settings (for the row without connection reuse).
fn ours_with<S: Storage>(
    stand_in: &S::StandIn,
    connections: ConnectionSettings,
) -> Result<SharedFolders, Failure> {
    Ok(S::host(stand_in).connections(connections).try_build()?)
}

/// Sequential create and delete, alternating between the two sides so that both see the same
/// noise.
async fn latencies<S: Storage>(
    table: &mut Table,
    latency_ms: u64,
    samples: usize,
) -> Result<(), Failure> {
    eprintln!("latency at {latency_ms} ms per request …");
    let stand_in = S::stand_in(Duration::from_millis(latency_ms)).await?;
    let (ours, baseline) = (ours::<S>(&stand_in)?, S::native(&stand_in)?);
    let mut times: [Vec<Duration>; 4] = Default::default();
    for i in 0..samples + 3 {
        let room = format!("latency-{latency_ms}-{i}");
        let started = Instant::now();
        ours.create(&room).await?;
        let created = started.elapsed();
        let started = Instant::now();
        ours.delete(&room, false).await?;
        let deleted = started.elapsed();

        let room = format!("baseline-{room}");
        let started = Instant::now();
        let folder = baseline.create(&room).await?;
        let base_created = started.elapsed();
        let started = Instant::now();
        baseline.delete(&folder).await?;
        let base_deleted = started.elapsed();
        // The first rounds warm caches and connections.
        if i >= 3 {
            for (series, time) in
                times
                    .iter_mut()
                    .zip([created, deleted, base_created, base_deleted])
            {
                series.push(time);
            }
        }
    }
    let [mut create, mut delete, mut base_create, mut base_delete] = times;
    let (create, base_create) = (median_p99_ms(&mut create), median_p99_ms(&mut base_create));
    let (delete, base_delete) = (median_p99_ms(&mut delete), median_p99_ms(&mut base_delete));
    let at = format!("{latency_ms} ms/request");
    for (name, ours, base) in [
        ("create, median", create.0, base_create.0),
        ("create, p99", create.1, base_create.1),
        ("delete, median", delete.0, base_delete.0),
        ("delete, p99", delete.1, base_delete.1),
    ] {
        table.row(
            format!("{name} ({at})"),
            "ms",
            Better::Lower,
            ours,
            Some(base),
        );
    }
    Ok(())
}

/// Creates per second with `in_flight` at once, at 20 ms per request. Each side starts with
/// the directory as the stand-in began: our rooms are deleted (untimed) before the baseline's
/// round, so that neither lists the other's folders (OpenCloud's client lists the directory
/// to find each link's folder).
async fn throughput<S: Storage>(table: &mut Table, in_flight: usize) -> Result<(), Failure> {
    eprintln!("throughput with {in_flight} in flight …");
    let stand_in = S::stand_in(Duration::from_millis(20)).await?;
    let (ours, baseline) = (ours::<S>(&stand_in)?, S::native(&stand_in)?);
    let total = (in_flight * 4).max(24);
    let rooms: Vec<String> = (0..total).map(|i| format!("t{in_flight}-{i}")).collect();

    let started = Instant::now();
    let results: Vec<_> = stream::iter(&rooms)
        .map(|room| ours.create(room))
        .buffer_unordered(in_flight)
        .collect()
        .await;
    let ours_rate = total as f64 / started.elapsed().as_secs_f64();
    results.into_iter().collect::<Result<Vec<_>, _>>()?;
    let deleted: Vec<_> = stream::iter(&rooms)
        .map(|room| ours.delete(room, false))
        .buffer_unordered(in_flight)
        .collect()
        .await;
    deleted.into_iter().collect::<Result<Vec<_>, _>>()?;

    let started = Instant::now();
    let results: Vec<_> = stream::iter(&rooms)
        .map(|room| {
            let baseline = &baseline;
            async move { baseline.create(&format!("baseline-{room}")).await }
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    let base_rate = total as f64 / started.elapsed().as_secs_f64();
    results.into_iter().collect::<Result<Vec<_>, _>>()?;

    table.row(
        format!("creates per second, {in_flight} in flight (20 ms/request)"),
        "1/s",
        Better::Higher,
        ours_rate,
        Some(base_rate),
    );
    Ok(())
}

/// Our host with a new connection per request (wasmtime's stock sender does that), against
/// the baseline: what connection reuse is worth.
async fn without_reuse<S: Storage>(table: &mut Table, samples: usize) -> Result<(), Failure> {
    eprintln!("without connection reuse …");
    let stand_in = S::stand_in(Duration::from_millis(20)).await?;
    let fresh = ConnectionSettings {
        reuse: false,
        ..ConnectionSettings::default()
    };
    let (ours, baseline) = (ours_with::<S>(&stand_in, fresh)?, S::native(&stand_in)?);
    let (mut mine, mut theirs) = (Vec::new(), Vec::new());
    for i in 0..samples.min(30) {
        let started = Instant::now();
        ours.create(&format!("fresh-{i}")).await?;
        mine.push(started.elapsed());
        let started = Instant::now();
        baseline.create(&format!("baseline-fresh-{i}")).await?;
        theirs.push(started.elapsed());
    }
    table.row(
        "create, median (20 ms/request), ours without connection reuse",
        "ms",
        Better::Lower,
        median_p99_ms(&mut mine).0,
        Some(median_p99_ms(&mut theirs).0),
    );
    let total = 256;
    let started = Instant::now();
    let results: Vec<_> = stream::iter(0..total)
        .map(|i| {
            let ours = &ours;
            async move { ours.create(&format!("fresh-t-{i}")).await }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    let rate = total as f64 / started.elapsed().as_secs_f64();
    results.into_iter().collect::<Result<Vec<_>, _>>()?;
    table.row(
        "creates per second, 64 in flight (20 ms/request), ours without connection reuse",
        "1/s",
        Better::Higher,
        rate,
        None,
    );
    Ok(())
}

/// Resident memory per create in flight: 64 creates held at the storage (1 s per request),
/// resident size sampled while they wait, minus the size before (the heap's free pages given
/// back first, so that neither side reuses the other's freed heap uncounted). The stand-in runs
/// in a child process (`stand_in_process.rs`), so that only the side under test is counted.
async fn memory<S: Storage>(
    table: &mut Table,
    breakdown: Option<&mut Table>,
) -> Result<(), Failure> {
    eprintln!("memory per call in flight …");
    const CALLS: usize = 64;
    let stand_in = StandInProcess::start::<S>(Duration::from_millis(1000))?;
    let ours = S::host_at(&stand_in.account).try_build()?;
    let baseline = S::Native::new(stand_in.account.clone());
    // Warm both paths once, so that one-time set-up is not counted.
    ours.create("warm-ours").await?;
    baseline.create("warm-baseline").await?;

    let per_call = |before: Option<u64>, during: Option<u64>| match (before, during) {
        (Some(before), Some(during)) => {
            during.saturating_sub(before) as f64 / CALLS as f64 / 1024.0
        }
        _ => f64::NAN,
    };
    let layout = resident::GuestLayout::of(S::COMPONENT).unwrap_or_default();
    let parts = || resident::sample(&layout);
    let before = resident_bytes_trimmed();
    let parts_before = parts();
    let calls: FuturesUnordered<_> = (0..CALLS)
        .map(|i| {
            let ours = &ours;
            async move { ours.create(&format!("mem-ours-{i}")).await.map(drop) }
        })
        .collect();
    let (sampled, parts_during) = sample_during(calls, || (resident_bytes(), parts())).await;
    let ours_kib = per_call(before, sampled);
    let ours_parts = parts_before.zip(parts_during).map(|(b, d)| d.minus(&b));

    let before = resident_bytes_trimmed();
    let parts_before = parts();
    let calls: FuturesUnordered<_> = (0..CALLS)
        .map(|i| {
            let baseline = &baseline;
            async move {
                baseline
                    .create(&format!("mem-baseline-{i}"))
                    .await
                    .map(drop)
            }
        })
        .collect();
    let (sampled, parts_during) = sample_during(calls, || (resident_bytes(), parts())).await;
    let base_kib = per_call(before, sampled);
    let base_parts = parts_before.zip(parts_during).map(|(b, d)| d.minus(&b));
    table.row(
        "resident memory per create in flight",
        "KiB",
        Better::Lower,
        ours_kib,
        Some(base_kib),
    );
    if let (Some(breakdown), Some(ours), Some(base)) = (breakdown, ours_parts, base_parts) {
        let kib = |bytes: u64| bytes as f64 / CALLS as f64 / 1024.0;
        let [stack, data, heap, image] = ours.linear;
        for (part, ours, base) in [
            ("linear memory: the guest's stack", stack, 0),
            (
                "linear memory: data written (copied from the image)",
                data,
                0,
            ),
            (
                "linear memory: data only read (the image's shared pages)",
                image,
                0,
            ),
            ("linear memory: the guest's heap", heap, 0),
            ("fiber stacks", ours.fiber_stacks, 0),
            ("tables", ours.tables, 0),
            (
                "malloc heap and other anonymous memory",
                ours.heap_and_other,
                base.heap_and_other + base.linear.iter().sum::<u64>(),
            ),
            ("code and files", ours.files, base.files),
            ("all of it (the parts' sum)", ours.total(), base.total()),
        ] {
            breakdown.row(
                format!("{}: {part}", S::NAME),
                "KiB",
                Better::Lower,
                kib(ours),
                Some(kib(base)),
            );
        }
    }
    Ok(())
}

/// Runs `calls` to completion, taking `sample` 500 ms in (while all wait at the storage).
async fn sample_during<F, T, E, R>(
    mut calls: FuturesUnordered<F>,
    mut sample: impl FnMut() -> (Option<u64>, R),
) -> (Option<u64>, R)
where
    F: std::future::Future<Output = Result<T, E>>,
    E: std::fmt::Debug,
    R: Default,
{
    let due = tokio::time::sleep(Duration::from_millis(500));
    tokio::pin!(due);
    let mut sampled = None;
    loop {
        tokio::select! {
            () = &mut due, if sampled.is_none() => sampled = Some(sample()),
            next = calls.next() => match next {
                Some(result) => {
                    if let Err(error) = result {
                        eprintln!("  a call failed: {error:?}");
                    }
                }
                None => break,
            },
        }
    }
    sampled.unwrap_or((None, R::default()))
}

/// What only the host has: compile, load, instantiation, size, hot swap.
async fn host_costs<S: Storage>(table: &mut Table, instantiations: usize) -> Result<(), Failure> {
    eprintln!("host costs …");
    table.row(
        "component size on disk",
        "KiB",
        Better::Lower,
        S::COMPONENT.len() as f64 / 1024.0,
        None,
    );

    // A runtime of its own for each measure, set up before the clock starts; the component
    // timed is new to it (another digest: a rebuild), so it is compiled or read from disk.
    // For a cold compile, the runtime compiled nothing before: it loads the component it
    // starts with from a cache on disk (had it compiled it, a compiler that keeps what it
    // compiled would find every function of the rebuild there).
    let mut compile = Vec::new();
    let cold = tempfile::tempdir()?;
    let cold_cache = || unreachable::<S>().cache_dir(cold.path());
    cold_cache().try_runtime()?;
    for n in 0..3 {
        let runtime = cold_cache().try_runtime()?;
        let component = rebuilt_component(S::COMPONENT, &format!("compile {n}"));
        let started = Instant::now();
        runtime.swap_provider(S::PROVIDER, &component).await?;
        compile.push(started.elapsed());
    }
    table.row(
        "compile the component (cold)",
        "ms",
        Better::Lower,
        median_p99_ms(&mut compile).0,
        None,
    );

    let cache = tempfile::tempdir()?;
    let cached = || unreachable::<S>().cache_dir(cache.path());
    let mut load = Vec::new();
    for n in 0..10 {
        let component = rebuilt_component(S::COMPONENT, &format!("load {n}"));
        // Compiled once into the cache on disk by one runtime …
        cached()
            .try_runtime()?
            .swap_provider(S::PROVIDER, &component)
            .await?;
        // … and loaded from there by another.
        let runtime = cached().try_runtime()?;
        let started = Instant::now();
        runtime.swap_provider(S::PROVIDER, &component).await?;
        load.push(started.elapsed());
    }
    table.row(
        "load the precompiled component (cache on disk)",
        "ms",
        Better::Lower,
        median_p99_ms(&mut load).0,
        None,
    );

    for (pooling, label) in [(true, "pooling allocator"), (false, "on-demand allocator")] {
        let (instantiate, call) = instantiation::<S>(pooling, instantiations).await?;
        table.row(
            format!("instantiate + drop, per call ({label})"),
            "µs",
            Better::Lower,
            instantiate,
            None,
        );
        table.row(
            format!("instantiate + call + drop, no I/O ({label})"),
            "µs",
            Better::Lower,
            call,
            None,
        );
    }

    let (kib, verify) = shipping::verification(S::PROVIDER, S::COMPONENT, 200)?;
    table.row(
        format!("verify a signed component before a swap ({kib} KiB: pin + Ed25519)"),
        "ms",
        Better::Lower,
        verify,
        None,
    );
    let stand_in = S::stand_in(Duration::ZERO).await?;
    let folders = Arc::new(ours::<S>(&stand_in)?);
    let moved = shipping::tag_moved(folders, S::PROVIDER, S::COMPONENT, 3).await?;
    table.row(
        format!(
            "registry: tag moved → first call served (poll every {} s)",
            shipping::POLL.as_secs()
        ),
        "ms",
        Better::Lower,
        moved,
        None,
    );

    let (new, known) = hot_swap::<S>().await?;
    table.row(
        "hot swap: new file → first call served (new content: compile)",
        "ms",
        Better::Lower,
        new,
        None,
    );
    table.row(
        "hot swap: new file → first call served (known content)",
        "ms",
        Better::Lower,
        known,
        None,
    );
    Ok(())
}

/// Median times, in microseconds, of making (and dropping) an instance as a call does, and of
/// a whole call that returns without I/O (settings the provider refuses: `expiry = 0`).
async fn instantiation<S: Storage>(pooling: bool, count: usize) -> Result<(f64, f64), Failure> {
    let runtime: Runtime = unreachable::<S>()
        .line("expiry = 0")
        .pooling(pooling)
        .try_runtime()?;
    let mut times = Vec::with_capacity(count);
    for _ in 0..count + 50 {
        let started = Instant::now();
        let result = runtime.create("room").await;
        times.push(started.elapsed());
        match result {
            Err(error) if error.kind() == ErrorKind::Configuration => {}
            other => return Err(format!("unexpected outcome: {other:?}").into()),
        }
    }
    let mut calls = times.split_off(50);
    let mut instantiations = Vec::with_capacity(count);
    for _ in 0..count + 50 {
        let started = Instant::now();
        runtime.probe().await?;
        instantiations.push(started.elapsed());
    }
    let mut instantiations = instantiations.split_off(50);
    Ok((
        median_p99_ms(&mut instantiations).0 * 1e3,
        median_p99_ms(&mut calls).0 * 1e3,
    ))
}

/// From writing a component into the watched plugins folder to the first create served by
/// it: once with content never seen (compiled on the way), once with content seen before.
async fn hot_swap<S: Storage>() -> Result<(f64, f64), Failure> {
    let stand_in = S::stand_in(Duration::ZERO).await?;
    let folders = Arc::new(ours::<S>(&stand_in)?);
    let dir = tempfile::tempdir()?;
    let components = Components::new(ComponentSettings::built_in_only(dir.path().join("cache")));
    let _watcher = components::watch(Arc::clone(&folders), components, dir.path())?;
    let file = components::component_file(dir.path(), S::PROVIDER);
    let swap = async |bytes: &[u8], room: &str| -> Result<f64, Failure> {
        let expected = content_digest(bytes);
        let partial = file.with_extension("partial");
        std::fs::write(&partial, bytes)?;
        let started = Instant::now();
        std::fs::rename(&partial, &file)?;
        while folders.runtime().provider().digest != expected {
            if started.elapsed() > Duration::from_secs(60) {
                return Err("the swap did not happen within 60 s".into());
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        folders.create(room).await?;
        Ok(started.elapsed().as_secs_f64() * 1e3)
    };
    let rebuilt = rebuilt_component(S::COMPONENT, "benchmark build");
    let new = swap(&rebuilt, "swap-new").await?;
    let known = swap(S::COMPONENT, "swap-known").await?;
    Ok((new, known))
}

/// A host set-up with `S`'s component, for a storage nothing listens at: for the measures that
/// send no request.
fn unreachable<S: Storage>() -> TestHost {
    TestHost::at("http://127.0.0.1:9/", "u", "p")
        .provider(S::PROVIDER)
        .component(S::COMPONENT)
        .without_compile_cache()
}
