//! Every step of create and delete × every storage fault, for every provider on its stand-in:
//! the call ends with the expected outcome within its deadline, and afterwards the storage
//! holds nothing that no record accounts for.

use std::time::{Duration, Instant};

use shared_folder_harness::opencloud::{self, LinkType};
use shared_folder_harness::stand_ins::{AnyStandIn, Kind};
use shared_folder_harness::{Fault, FaultRule, Step, test_limits};
use shared_folder_host::SharedFolders;

use crate::Failures;
use crate::audit::{Audit, DIRECTORY};
use crate::outcome::kind;

/// Longer than the test limits' wait for a connection and an answer's head together (2 + 2 s,
/// `outbound.rs`), with a margin: at exactly 4 s the answer and the timeout race.
const SLOW: Duration = Duration::from_secs(5);
/// Shorter than the retries of an idempotent request wait in all (0.25 + 0.5 + 1 s).
const OUTAGE: Duration = Duration::from_secs(1);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Create,
    Delete,
}

/// A step as one stand-in recognises it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum StepOf {
    NextCloud(Step),
    OpenCloud(opencloud::Step),
}

struct Row {
    name: &'static str,
    phase: Phase,
    step: StepOf,
    nth: usize,
    /// Whether the room's directory is missing, so that the create makes it first.
    fresh_directory: bool,
}

const NEXTCLOUD_ROWS: [Row; 7] = [
    Row {
        name: "MKCOL folder",
        phase: Phase::Create,
        step: StepOf::NextCloud(Step::Mkcol),
        nth: 0,
        fresh_directory: false,
    },
    // The first room of a new directory: MKCOL room → 409, then `opentalk` (this one),
    // `opentalk/meetings` and the room again.
    Row {
        name: "MKCOL parent",
        phase: Phase::Create,
        step: StepOf::NextCloud(Step::Mkcol),
        nth: 1,
        fresh_directory: true,
    },
    Row {
        name: "POST share (read)",
        phase: Phase::Create,
        step: StepOf::NextCloud(Step::CreateShare { permissions: 1 }),
        nth: 0,
        fresh_directory: false,
    },
    Row {
        name: "POST share (rw)",
        phase: Phase::Create,
        step: StepOf::NextCloud(Step::CreateShare { permissions: 15 }),
        nth: 0,
        fresh_directory: false,
    },
    Row {
        name: "DELETE share (1st)",
        phase: Phase::Delete,
        step: StepOf::NextCloud(Step::DeleteShare),
        nth: 0,
        fresh_directory: false,
    },
    Row {
        name: "DELETE share (2nd)",
        phase: Phase::Delete,
        step: StepOf::NextCloud(Step::DeleteShare),
        nth: 1,
        fresh_directory: false,
    },
    Row {
        name: "DELETE folder",
        phase: Phase::Delete,
        step: StepOf::NextCloud(Step::DeleteFolder),
        nth: 0,
        fresh_directory: false,
    },
];

/// The OpenCloud provider's steps (docs/opencloud-behaviour.md): the drive and the password
/// policy together, MKCOL (the parents on 409), HEAD for the item id, both links together; on
/// delete, both links together, then the folder.
const OPENCLOUD_ROWS: [Row; 10] = [
    Row {
        name: "GET me/drive",
        phase: Phase::Create,
        step: StepOf::OpenCloud(opencloud::Step::Drive),
        nth: 0,
        fresh_directory: false,
    },
    Row {
        name: "GET capabilities",
        phase: Phase::Create,
        step: StepOf::OpenCloud(opencloud::Step::Capabilities),
        nth: 0,
        fresh_directory: false,
    },
    Row {
        name: "MKCOL folder",
        phase: Phase::Create,
        step: StepOf::OpenCloud(opencloud::Step::Mkcol),
        nth: 0,
        fresh_directory: false,
    },
    // A new directory: MKCOL room → 409, then `opentalk` (this one), `opentalk/meetings` and
    // the room again.
    Row {
        name: "MKCOL parent",
        phase: Phase::Create,
        step: StepOf::OpenCloud(opencloud::Step::Mkcol),
        nth: 1,
        fresh_directory: true,
    },
    Row {
        name: "HEAD (item id)",
        phase: Phase::Create,
        step: StepOf::OpenCloud(opencloud::Step::ResolveItem),
        nth: 0,
        fresh_directory: false,
    },
    Row {
        name: "createLink (view)",
        phase: Phase::Create,
        step: StepOf::OpenCloud(opencloud::Step::CreateLink {
            link_type: LinkType::View,
        }),
        nth: 0,
        fresh_directory: false,
    },
    Row {
        name: "createLink (edit)",
        phase: Phase::Create,
        step: StepOf::OpenCloud(opencloud::Step::CreateLink {
            link_type: LinkType::Edit,
        }),
        nth: 0,
        fresh_directory: false,
    },
    Row {
        name: "DELETE link (1st)",
        phase: Phase::Delete,
        step: StepOf::OpenCloud(opencloud::Step::DeleteLink),
        nth: 0,
        fresh_directory: false,
    },
    Row {
        name: "DELETE link (2nd)",
        phase: Phase::Delete,
        step: StepOf::OpenCloud(opencloud::Step::DeleteLink),
        nth: 1,
        fresh_directory: false,
    },
    Row {
        name: "DELETE folder",
        phase: Phase::Delete,
        step: StepOf::OpenCloud(opencloud::Step::DeleteFolder),
        nth: 0,
        fresh_directory: false,
    },
];

const COLUMNS: [(&str, Fault); 10] = [
    ("500", Fault::Status(500)),
    ("503+Retry", Fault::Unavailable { retry_after: 1 }),
    ("423 locked", Fault::Locked),
    ("401", Fault::Status(401)),
    ("404 (gone)", Fault::Gone),
    ("refused", Fault::Outage(OUTAGE)),
    ("reset", Fault::ResetMidBody),
    ("slow", Fault::SlowAnswer(SLOW)),
    ("malformed", Fault::Malformed),
    ("OCS≠HTTP", Fault::OcsMismatch),
];

/// The outcome each cell must have; `None`: the fault does not apply to the step.
fn expected(row: &Row, fault: Fault) -> Option<&'static str> {
    match row.step {
        StepOf::NextCloud(step) => nextcloud_expected(row, step, fault),
        StepOf::OpenCloud(step) => opencloud_expected(row, step, fault),
    }
}

/// The NextCloud provider's outcomes (its retry rules: README, "What the NextCloud provider
/// does").
fn nextcloud_expected(row: &Row, step: Step, fault: Fault) -> Option<&'static str> {
    let webdav = matches!(step, Step::Mkcol | Step::DeleteFolder);
    let share_post = matches!(step, Step::CreateShare { .. });
    if fault == Fault::OcsMismatch && webdav {
        return None;
    }
    Some(match (row.phase, fault) {
        // Told "not now" (maintenance, or another request holds the file's lock): every
        // request is sent again, after the Retry-After if there is one.
        (_, Fault::Unavailable { .. } | Fault::Locked) => "ok",
        // A share creation the server failed, or whose answer was lost: the folder's links are
        // looked up (the lost one is adopted), else it is sent again.
        (Phase::Create, Fault::Status(500) | Fault::Outage(_) | Fault::ResetMidBody)
            if share_post =>
        {
            "ok"
        }
        (Phase::Create, Fault::Status(500)) => "remote 500",
        (Phase::Create, Fault::Status(_)) => "unauthorized",
        (Phase::Create, Fault::Gone | Fault::OcsMismatch) => "not found",
        (Phase::Create, Fault::Outage(_) | Fault::ResetMidBody) => "transport",
        (Phase::Create, Fault::SlowAnswer(_)) => "timeout",
        // A MKCOL answered 201 is done, whatever its body.
        (Phase::Create, Fault::Malformed) if webdav => "ok",
        (Phase::Create, _) => "protocol",
        // A link whose DELETE was refused or not answered may still be there, and a link that
        // outlives its folder's DELETE would come back with a restore from the trash bin: the
        // delete stops before the folder, and the host finishes it later (`reconcile`).
        (Phase::Delete, Fault::Status(401)) => "unauthorized",
        (Phase::Delete, Fault::SlowAnswer(_)) => "timeout",
        // 500, refused and reset are retried (DELETE is idempotent); 404 is "deleted".
        (Phase::Delete, _) => "ok",
    })
}

/// The OpenCloud provider's outcomes: any request is sent again after 503 or 423; the
/// idempotent ones (GET, HEAD, DELETE) also after 500, 502, 504 or a broken connection; a
/// createLink that failed on the server's side or lost its answer is looked for among the
/// folder's links before it is sent again; a MKCOL is never sent again blindly.
fn opencloud_expected(row: &Row, step: opencloud::Step, fault: Fault) -> Option<&'static str> {
    use opencloud::Step as S;
    let idempotent = matches!(step, S::Drive | S::Capabilities | S::ResolveItem);
    let create_link = matches!(step, S::CreateLink { .. });
    if fault == Fault::OcsMismatch && step != S::Capabilities {
        return None;
    }
    Some(match (row.phase, fault) {
        (_, Fault::Unavailable { .. } | Fault::Locked) => "ok",
        (Phase::Create, Fault::Status(500) | Fault::Outage(_) | Fault::ResetMidBody)
            if idempotent || create_link =>
        {
            "ok"
        }
        (Phase::Create, Fault::Status(500)) => "remote 500",
        (Phase::Create, Fault::Status(_)) => "unauthorized",
        // The capabilities are not about anything that can vanish.
        (Phase::Create, Fault::Gone) if step == S::Capabilities => "ok",
        (Phase::Create, Fault::Gone) => "not found",
        // OCS v1 says "failed" in its body only (HTTP 200, `statuscode` 996, the stand-in's
        // injected server error): reported with the envelope's status, as the contract's
        // `remote-error` says, and nothing was made yet.
        (Phase::Create, Fault::OcsMismatch) => "remote 996",
        (Phase::Create, Fault::Outage(_) | Fault::ResetMidBody) => "transport",
        (Phase::Create, Fault::SlowAnswer(_)) => "timeout",
        // A MKCOL answered 201 is done whatever its body, and a HEAD has none.
        (Phase::Create, Fault::Malformed) if matches!(step, S::Mkcol | S::ResolveItem) => "ok",
        (Phase::Create, _) => "protocol",
        (Phase::Delete, Fault::Status(401)) => "unauthorized",
        (Phase::Delete, Fault::SlowAnswer(_)) => "timeout",
        // 500, refused and reset are retried (DELETE is idempotent); 404 is "deleted".
        (Phase::Delete, _) => "ok",
    })
}

struct Cell {
    shown: String,
    clean: bool,
    took: Duration,
}

pub async fn run(failures: &mut Failures) {
    println!("== Storage faults: every step × every fault, for every provider ==");
    println!(
        "(expected outcome ✓ within the call deadline, no orphan after the host's own recovery; \
         — : does not apply)"
    );
    table(Kind::NextCloud, &NEXTCLOUD_ROWS, failures).await;
    // The same component on the stand-in answering as ownCloud 10: OCS asked for JSON in the
    // URL, its trash bin, no share bit (docs/owncloud-behaviour.md).
    table(Kind::OwnCloud, &NEXTCLOUD_ROWS, failures).await;
    table(Kind::OpenCloud, &OPENCLOUD_ROWS, failures).await;
}

async fn table(kind: Kind, rows: &[Row], failures: &mut Failures) {
    println!("\n-- {} provider on its stand-in --\n", kind.provider());
    let standin = AnyStandIn::start(kind).await;
    let limits = test_limits();
    let deadline = limits.call_deadline;
    let host = standin.host().line("expiry = 3").limits(limits).build();
    standin.make_folder(DIRECTORY);

    print!("{:<20}", "step \\ fault");
    for (name, _) in COLUMNS {
        print!("{name:<16}");
    }
    println!();
    let (mut tried, mut clean, mut longest) = (0, 0, Duration::ZERO);
    for (r, row) in rows.iter().enumerate() {
        print!("{:<20}", row.name);
        for (c, (name, fault)) in COLUMNS.iter().enumerate() {
            let Some(expected) = expected(row, *fault) else {
                print!("{:<16}", "—");
                continue;
            };
            let room = format!("cell-{}-{r}-{c}", kind.provider());
            let cell = cell(&standin, &host, row, *fault, &room, expected).await;
            tried += 1;
            longest = longest.max(cell.took);
            let within = cell.took < deadline;
            if cell.clean && within {
                clean += 1;
            }
            failures.check(cell.clean && within, || {
                format!(
                    "matrix {} {} × {name}: {} (expected {expected}), {:?}",
                    kind.provider(),
                    row.name,
                    cell.shown,
                    cell.took
                )
            });
            let mark = if cell.clean && within { "✓" } else { "✗" };
            print!("{:<16}", format!("{} {mark}", cell.shown));
        }
        println!();
    }
    println!(
        "\ncells tried: {tried}, cells clean: {clean}; longest call {:.2} s (deadline {} s)\n",
        longest.as_secs_f64(),
        deadline.as_secs()
    );
    failures.check(tried == clean, || {
        format!("matrix {}: {clean} of {tried} cells clean", kind.provider())
    });
}

/// One cell: arm the fault, run the phase, let the host recover as it would, and audit.
async fn cell(
    standin: &AnyStandIn,
    host: &SharedFolders,
    row: &Row,
    fault: Fault,
    room: &str,
    expected: &str,
) -> Cell {
    let rooms = [room.to_owned()];
    if row.phase == Phase::Delete
        && let Err(error) = host.create(room).await
    {
        return failed(format!("setup: {error}"));
    }
    if row.fresh_directory {
        standin.remove(DIRECTORY.split('/').next().unwrap_or(DIRECTORY));
    }
    match (standin, row.step) {
        (AnyStandIn::NextCloud(s), StepOf::NextCloud(step)) => s.inject(FaultRule {
            step,
            nth: row.nth,
            fault,
        }),
        (AnyStandIn::OpenCloud(s), StepOf::OpenCloud(step)) => s.inject(opencloud::FaultRule {
            step,
            nth: row.nth,
            fault,
        }),
        _ => return failed("a row of another provider's steps".into()),
    }
    let started = Instant::now();
    let outcome = match row.phase {
        Phase::Create => kind(&host.create(room).await),
        Phase::Delete => kind(&host.delete(room, false).await),
    };
    let took = started.elapsed();
    standin.clear_faults();
    if let Fault::SlowAnswer(delay) | Fault::Outage(delay) = fault {
        // The slow answer lands after the client gave up; the server comes back.
        tokio::time::sleep(delay.saturating_sub(took) + Duration::from_millis(300)).await;
    }
    // The host's own recovery: pending creates are purged (as `serve` does at start and the
    // next operation on the room does), a failed delete is tried again.
    let recovered = host.reconcile().await.is_ok();
    let deleting: &[String] = if row.phase == Phase::Delete && outcome != "ok" {
        &rooms
    } else {
        &[]
    };
    let audit = Audit::of(standin, host, &rooms, deleting).await;
    // Afterwards: the room goes, and nothing of it stays.
    let tidied = host.delete(room, false).await.is_ok();
    let after = Audit::of(standin, host, &rooms, &[]).await;
    let gone = !standin.folder_exists(&format!("{DIRECTORY}/{room}"));
    // The directory is there for the next cell, as it is after a first room.
    standin.make_folder(DIRECTORY);
    let ok = outcome == expected && recovered && audit.clean() && tidied && after.clean() && gone;
    let shown = if audit.clean() && after.clean() {
        outcome
    } else {
        format!("{outcome} {audit:?}")
    };
    Cell {
        shown,
        clean: ok,
        took,
    }
}

fn failed(shown: String) -> Cell {
    Cell {
        shown,
        clean: false,
        took: Duration::ZERO,
    }
}
