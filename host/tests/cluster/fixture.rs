//! The fixture: a NextCloud stand-in, a PostgreSQL database behind a PgBouncer in transaction
//! mode (the hosts' statements through it, their LISTEN directly to the server) and one
//! configuration file for every host, with the database password and the records key handed
//! over in the environment (as a deployment's secrets would be, never in the file).

use base64::Engine as _;
use shared_folder_test_support::postgres::{PgBouncer, Postgres};
use shared_folder_test_support::{Options, StandIn};

use crate::common::{Outcome, Server, Setup};

/// Where the test configuration puts room folders.
pub const DIRECTORY: &str = "opentalk/meetings";

const PASSWORD_ENV: &str = "SF_DB_PASSWORD";
const KEY_ENV: &str = "SF_RECORDS_KEY";

/// How the hosts reach the database for their statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Through PgBouncer in transaction mode (LISTEN directly).
    PgBouncer,
    /// Directly to the server.
    Direct,
}

impl Route {
    /// PgBouncer, unless `CLUSTER_DATABASE=direct` (to compare the two).
    pub fn from_env() -> Route {
        match std::env::var("CLUSTER_DATABASE").as_deref() {
            Ok("direct") => Route::Direct,
            _ => Route::PgBouncer,
        }
    }
}

/// A stand-in and a database that hosts share, and their configuration file.
pub struct Cluster {
    pub standin: StandIn,
    pub setup: Setup,
    /// Dropped after the stand-in and the configuration (the hosts, test locals, before all),
    /// before the server.
    _pgbouncer: Option<PgBouncer>,
    /// Dropped last.
    postgres: Postgres,
    database: String,
    records_key: String,
}

impl Cluster {
    /// A stand-in with `options`, a PostgreSQL server with a database `database` behind a
    /// PgBouncer, and a configuration naming both, cleaning up every second, with `host` as
    /// more `[host]` lines.
    pub async fn start(database: &str, options: Options, host: &str) -> Cluster {
        Self::start_on(Route::PgBouncer, database, options, host).await
    }

    /// As [`Cluster::start`], the hosts' statements going the `route` given.
    pub async fn start_on(route: Route, database: &str, options: Options, host: &str) -> Cluster {
        let standin = StandIn::start(options).await.expect("stand-in starts");
        let (postgres, pgbouncer, direct) = tokio::task::spawn_blocking({
            let database = database.to_owned();
            move || {
                let postgres = Postgres::start();
                let direct = postgres.create_database(&database);
                let pgbouncer = (route == Route::PgBouncer).then(|| PgBouncer::start(&postgres));
                (postgres, pgbouncer, direct)
            }
        })
        .await
        .expect("PostgreSQL starts");
        let urls = match &pgbouncer {
            Some(pgbouncer) => format!(
                "database = \"{}\"\ndatabase_listen_url = \"{direct}\"",
                pgbouncer.url(database)
            ),
            None => format!("database = \"{direct}\""),
        };
        let setup = Setup::new(
            &standin,
            &format!(
                "{urls}\ndatabase_password_env = \"{PASSWORD_ENV}\"\n\
                 records_key_env = \"{KEY_ENV}\"\nreconcile_interval = 1\n{host}"
            ),
        );
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("random bytes");
        Cluster {
            standin,
            setup,
            _pgbouncer: pgbouncer,
            postgres,
            database: database.to_owned(),
            records_key: base64::engine::general_purpose::STANDARD.encode(key),
        }
    }

    /// The secrets every host and command gets.
    pub fn env(&self) -> [(&str, &str); 2] {
        [
            (PASSWORD_ENV, self.postgres.password()),
            (KEY_ENV, self.records_key.as_str()),
        ]
    }

    /// Starts one more host (`serve`) and waits until it listens.
    pub fn serve(&self) -> Server {
        tokio::task::block_in_place(|| self.setup.serve_with_env(&self.env()))
    }

    /// Runs `shared-folder-host <command>` with the shared configuration, to its end.
    pub async fn run(&self, command: &str, args: &[&str]) -> Outcome {
        self.setup.run_with_env(command, args, &self.env()).await
    }

    /// The database server (to stop and start it again).
    pub fn server(&self) -> &Postgres {
        &self.postgres
    }

    /// Runs `sql` in the hosts' database as the superuser: `psql -At`'s output.
    pub fn sql(&self, sql: &str) -> String {
        tokio::task::block_in_place(|| self.postgres.psql(&self.database, sql))
    }

    /// How many rows the `folders` table holds.
    pub fn records(&self) -> u64 {
        let count = self.sql("SELECT count(*) FROM folders");
        count
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("count(*) is {count:?}: {e}"))
    }

    /// The room folders on the stand-in, by room (whatever lies directly in the directory).
    pub fn room_folders(&self) -> Vec<String> {
        self.standin.entries_in(DIRECTORY)
    }

    /// How many connections the hosts' role holds on the database server now
    /// (`pg_stat_activity`).
    pub fn server_connections(&self) -> u64 {
        let count = self.sql(&format!(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = '{}'",
            shared_folder_test_support::postgres::ROLE
        ));
        count
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("count(*) is {count:?}: {e}"))
    }

    /// How many link shares the stand-in holds, on any folder.
    pub fn shares(&self) -> usize {
        self.standin.storage().shares.len()
    }
}

/// The REST path of `room`'s shared folder.
pub fn folder(room: &str) -> String {
    format!("/v1/events/{room}/shared_folder")
}

/// `room`'s folder on the stand-in.
pub fn path(room: &str) -> String {
    format!("{DIRECTORY}/{room}")
}
