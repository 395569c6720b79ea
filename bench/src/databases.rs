//! The records' database: what keeping the folder records in PostgreSQL costs against an
//! SQLite file, and what several hosts sharing one PostgreSQL cost against one host.
//!
//! A PostgreSQL server of the run's own (`shared_folder_test_support::postgres`: `initdb` in a
//! temporary folder, on loopback, on this machine's cores like everything else; like the SQLite
//! file in WAL mode with `synchronous = NORMAL`, it does not wait for the disk at each commit).
//! Each measure has a database of its own. Two tables:
//!
//! - PostgreSQL against an SQLite file, one host each, on the stand-in answering at once (so
//!   that the database's part is not hidden behind the storage's): sequential creates and
//!   deletes through the host, what those ask of the records alone (the room's lock, a read,
//!   the pending row, the full record; the lock, a read, the mark, the removal), and creates
//!   per second with many in flight;
//! - two hosts on one PostgreSQL against one host on it: creates per second with the rooms
//!   split between them, and with each room created through both at once (the room's lease
//!   makes one of them wait and return the folder the other made). Both hosts run in this
//!   process (each its own runtime and its own connections), so they share the machine's cores
//!   with each other and with the server: here two hosts cannot be faster than one; what the
//!   rows show is that the shared database and its locks do not make them slower.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::future::try_join_all;
use futures_util::stream;
use shared_folder_host::records::sealing::Keys;
use shared_folder_host::{FolderRecord, Records, Secret, SharedFolders};
use shared_folder_test_support::postgres::Postgres;

use crate::Failure;
use crate::storage::{NextCloud, Storage};
use crate::table::{Better, Table, median_p99_ms};

/// The key share passwords are sealed with: one for every host, so that each opens the rows
/// the others wrote (32 bytes in base64; the benchmark's records are thrown away).
const KEY: &str = "YmVuY2htYXJrOiBhIGtleSB0aHJvd24gYXdheSAuLi4=";

/// Creates in flight in the throughput rows, in all (split between the hosts).
const IN_FLIGHT: usize = 32;

/// Rooms created per round of a throughput row, and rounds (the row shows the median round).
const ROOMS: usize = 400;
const ROUNDS: usize = 3;

/// Sequential rounds not counted (caches, connections).
const WARM: usize = 5;

/// The two tables these measures fill.
pub struct Tables {
    /// PostgreSQL against an SQLite file.
    pub records: Table,
    /// Two hosts on one PostgreSQL against one.
    pub hosts: Table,
}

impl Tables {
    pub fn new() -> Self {
        Tables {
            records: Table::with_columns([
                "PostgreSQL",
                "baseline: SQLite file",
                "PostgreSQL / SQLite",
            ]),
            hosts: Table::with_columns([
                "two hosts on one PostgreSQL",
                "baseline: one host on it",
                "two / one",
            ]),
        }
    }

    pub fn print(&self) {
        self.records.print();
        println!();
        self.hosts.print();
    }
}

/// Measures every row of both tables; `samples` sequential creates and deletes per side.
pub async fn run(tables: &mut Tables, samples: usize) -> Result<(), Failure> {
    eprintln!("records: starting PostgreSQL …");
    let server = Server::start().await?;
    let measured = async {
        sequential(&mut tables.records, &server, samples).await?;
        throughput(tables, &server, 0, true).await?;
        throughput(tables, &server, 20, false).await
    }
    .await;
    // Stopping the server waits for it.
    tokio::task::spawn_blocking(move || drop(server)).await?;
    measured
}

/// This run's PostgreSQL server.
struct Server {
    postgres: Postgres,
}

impl Server {
    async fn start() -> Result<Self, Failure> {
        let postgres = tokio::task::spawn_blocking(Postgres::start)
            .await
            .map_err(|_| "PostgreSQL did not start (its reason is above)")?;
        Ok(Server { postgres })
    }

    /// A new database `name`.
    fn database(&self, name: &str) -> String {
        tokio::task::block_in_place(|| self.postgres.create_database(name))
    }

    /// The records on the database at `url`, connected as a host connects.
    async fn connect(&self, url: &str) -> Result<Records, Failure> {
        let keys = Keys::parse(KEY, "the benchmark's key")?;
        let password = Secret::new(self.postgres.password());
        Ok(Records::connect(url, Some(&password), keys).await?)
    }
}

/// Records in an SQLite file in `folder`.
fn sqlite_file(folder: &tempfile::TempDir) -> Result<Records, Failure> {
    Ok(Records::open(&folder.path().join("folders.sqlite3"))?)
}

/// Sequential create + delete through a host, and the same asked of the records alone, with
/// the records in an SQLite file and in PostgreSQL, alternating so that both see the same noise.
async fn sequential(table: &mut Table, server: &Server, samples: usize) -> Result<(), Failure> {
    eprintln!("records: sequential create + delete, SQLite file and PostgreSQL …");
    let standin = NextCloud::stand_in(Duration::ZERO).await?;
    let folder = tempfile::tempdir()?;
    let url = server.database("bench_sequential");
    let hosts = [
        NextCloud::host(&standin)
            .records(server.connect(&url).await?)
            .try_build()?,
        NextCloud::host(&standin)
            .records(sqlite_file(&folder)?)
            .try_build()?,
    ];
    // A folder record as the provider returns it, written again under other rooms' names.
    let template = hosts[1].create("template").await?.record;
    // Per side: create, delete, the records alone.
    let mut times: [[Vec<Duration>; 3]; 2] = Default::default();
    for i in 0..samples + WARM {
        let order = if i % 2 == 0 { [0, 1] } else { [1, 0] };
        for side in order {
            let host = &hosts[side];
            let room = format!("seq-{side}-{i}");
            let started = Instant::now();
            host.create(&room).await?;
            let created = started.elapsed();
            let started = Instant::now();
            host.delete(&room, false).await?;
            let deleted = started.elapsed();
            let alone =
                records_alone(host.records(), &template, &format!("rec-{side}-{i}")).await?;
            if i >= WARM {
                for (series, time) in times[side].iter_mut().zip([created, deleted, alone]) {
                    series.push(time);
                }
            }
        }
    }
    let [
        [mut create, mut delete, mut alone],
        [mut base_create, mut base_delete, mut base_alone],
    ] = times;
    let create = (median_p99_ms(&mut create), median_p99_ms(&mut base_create));
    let delete = (median_p99_ms(&mut delete), median_p99_ms(&mut base_delete));
    let alone = (median_p99_ms(&mut alone), median_p99_ms(&mut base_alone));
    for (name, (ours, base)) in [
        ("create, median (0 ms/request)", (create.0.0, create.1.0)),
        ("create, p99 (0 ms/request)", (create.0.1, create.1.1)),
        ("delete, median (0 ms/request)", (delete.0.0, delete.1.0)),
        ("delete, p99 (0 ms/request)", (delete.0.1, delete.1.1)),
        (
            "the records alone, what a create + delete asks of them, median",
            (alone.0.0, alone.1.0),
        ),
        (
            "the records alone, what a create + delete asks of them, p99",
            (alone.0.1, alone.1.1),
        ),
    ] {
        table.row(name, "ms", Better::Lower, ours, Some(base));
    }
    Ok(())
}

/// What `SharedFolders::create` and `delete` ask of the records, without the provider: the
/// room's lock, a read, the pending row, the full record; then the lock, a read, the mark
/// and the removal. The time it took.
async fn records_alone(
    records: &Records,
    template: &FolderRecord,
    room: &str,
) -> Result<Duration, Failure> {
    let record = FolderRecord {
        room: room.to_owned(),
        path: template.path.replace(&template.room, room),
        handle: template.handle.replace(&template.room, room),
        ..template.clone()
    };
    let started = Instant::now();
    {
        let _held = records.lock_room(room).await?;
        records.get(room).await?;
        records.begin_create(room, &record.maker).await?;
        records.finish_create(&record).await?;
    }
    {
        let _held = records.lock_room(room).await?;
        records.get(room).await?;
        records.begin_delete(room).await?;
        records.remove(room).await?;
    }
    Ok(started.elapsed())
}

/// Creates per second, [`IN_FLIGHT`] at once, at `latency_ms` per request: one host on an
/// SQLite file, one host on PostgreSQL, two hosts on one PostgreSQL with the rooms split
/// between them, and (if `contended`) two with each room created through both at once. The
/// median of [`ROUNDS`] rounds, the setups taking turns.
async fn throughput(
    tables: &mut Tables,
    server: &Server,
    latency_ms: u64,
    contended: bool,
) -> Result<(), Failure> {
    eprintln!("records: creates per second, one and two hosts ({latency_ms} ms/request) …");
    let standin = NextCloud::stand_in(Duration::from_millis(latency_ms)).await?;
    let folder = tempfile::tempdir()?;
    let sqlite = NextCloud::host(&standin)
        .records(sqlite_file(&folder)?)
        .try_build()?;
    let one_url = server.database(&format!("bench_one_{latency_ms}"));
    let one = NextCloud::host(&standin)
        .records(server.connect(&one_url).await?)
        .try_build()?;
    let two_url = server.database(&format!("bench_two_{latency_ms}"));
    let (first, second) = (
        NextCloud::host(&standin)
            .records(server.connect(&two_url).await?)
            .try_build()?,
        NextCloud::host(&standin)
            .records(server.connect(&two_url).await?)
            .try_build()?,
    );
    let setups: [&[&SharedFolders]; 3] = [&[&sqlite], &[&one], &[&first, &second]];
    // Connections opened and instances made before the clock runs.
    for (n, hosts) in setups.iter().enumerate() {
        rate(hosts, &rooms(&format!("warm-{n}"), IN_FLIGHT * 2), false).await?;
    }
    let mut rates: [Vec<f64>; 4] = Default::default();
    for round in 0..ROUNDS {
        for (n, hosts) in setups.iter().enumerate() {
            let rooms = rooms(&format!("r{round}-{n}"), ROOMS);
            rates[n].push(rate(hosts, &rooms, false).await?);
        }
        if contended {
            let rooms = rooms(&format!("r{round}-both"), ROOMS);
            rates[3].push(rate(setups[2], &rooms, true).await?);
        }
    }
    let [sqlite, one, two, both] = rates.map(median);
    let at = format!("{latency_ms} ms/request");
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    tables.records.row(
        format!("creates per second, {IN_FLIGHT} in flight ({at})"),
        "1/s",
        Better::Higher,
        one,
        Some(sqlite),
    );
    tables.hosts.row(
        format!(
            "creates per second, {IN_FLIGHT} in flight in all, rooms split between the hosts \
             ({at}; both hosts in this process, on this machine's {cores} cores)"
        ),
        "1/s",
        Better::Higher,
        two,
        Some(one),
    );
    if contended {
        tables.hosts.row(
            format!(
                "rooms made per second, {IN_FLIGHT} at once, each created through both hosts \
                 at once ({at}; 2 × {IN_FLIGHT} calls in flight, one waits for the other's lock)"
            ),
            "1/s",
            Better::Higher,
            both,
            Some(one),
        );
    }
    Ok(())
}

fn rooms(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|i| format!("{prefix}-{i}")).collect()
}

/// Creates `rooms` through `hosts`, [`IN_FLIGHT`] rooms at once: each room through the next
/// host in turn, or (`both`) through every host at once. Rooms made per second; an error if
/// a room's folder was not made exactly once.
async fn rate(hosts: &[&SharedFolders], rooms: &[String], both: bool) -> Result<f64, Failure> {
    let started = Instant::now();
    let results: Vec<Result<usize, _>> = stream::iter(rooms.iter().enumerate())
        .map(|(i, room)| async move {
            let through = if both {
                hosts
            } else {
                std::slice::from_ref(&hosts[i % hosts.len()])
            };
            let made = try_join_all(through.iter().map(|host| host.create(room))).await?;
            Ok::<_, shared_folder_host::HostError>(made.iter().filter(|c| c.created).count())
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let made = results.into_iter().sum::<Result<usize, _>>()?;
    if made != rooms.len() {
        return Err(format!("{made} folders made for {} rooms", rooms.len()).into());
    }
    Ok(rooms.len() as f64 / elapsed.as_secs_f64())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}
