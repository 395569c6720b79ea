//! All or nothing under faults: a clean create (and delete) is counted request by request;
//! then, for each of its requests in turn, each [`Fault`] is injected once, and whatever the
//! call answered, the room must end as if the call had either succeeded or never happened.

use shared_folder_host::ErrorKind;
use shared_folder_host::runtime::faults::{Fault, RequestLine};

use super::{Outcome, Run};

/// A create with each of its requests failed in turn.
pub async fn create_under_faults(run: &mut Run) {
    let Some((requests, counted_room)) = count(run, "count-create", Counted::Create).await else {
        return;
    };
    for (index, line) in requests.iter().enumerate() {
        let mut tally = Tally::default();
        for fault in Fault::ALL {
            let room = run.room(&format!("c{}{}", index + 1, letter(fault)));
            let (fired, outcome) = create_with_fault(run, &room, index, fault).await;
            tally.add(fault, fired, outcome);
        }
        let promise = format!(
            "create, all or nothing with request {}/{} failing: {}",
            index + 1,
            requests.len(),
            short(line, &counted_room)
        );
        tally.row(run, promise);
    }
}

/// A create of `room` with request `index` failed by `fault`: whether the fault fired, and
/// what became of the room, which must end whole or empty.
async fn create_with_fault(
    run: &Run,
    room: &str,
    index: usize,
    fault: Fault,
) -> (bool, Result<String, String>) {
    run.plan.arm(index, fault);
    let maker = run.runtime.serving().maker();
    let created = run.runtime.create(room).await;
    let fired = run.plan.fired().is_some();
    run.plan.reset();
    let outcome = match created {
        Ok(record) => {
            // The provider got over the fault: the folder must be whole, with its two links
            // and no third one.
            let links = match &run.storage {
                Some(storage) => storage.links(&record).await.map(|l| l.len()),
                None => Ok(2),
            };
            let deleted = run.runtime.delete(&record).await;
            match (links, deleted) {
                (Ok(2), Ok(())) => Ok("created all the same".to_owned()),
                (Ok(n), Ok(())) => Err(format!(
                    "created, with {n} links on the folder instead of 2"
                )),
                (Err(error), Ok(())) => {
                    Err(format!("created; its links could not be listed: {error}"))
                }
                (_, Err(error)) => Err(format!("created, then not deleted: {error}")),
            }
        }
        Err(error) => {
            let kind = error.kind();
            if kind.may_have_left_work() {
                // The host would purge the room now. Whether that was needed says whether
                // the provider cleaned up after itself: a create of the room succeeds only
                // where its folder is gone.
                let own = match run.runtime.create(room).await {
                    Ok(record) => run
                        .runtime
                        .delete(&record)
                        .await
                        .map(|()| "cleaned up after itself")
                        .map_err(|e| e.to_string()),
                    Err(error) if error.kind() == ErrorKind::AlreadyExists => {
                        Ok("left its folder to the host's purge")
                    }
                    Err(error) => Err(error.to_string()),
                };
                match (own, run.runtime.purge(room, &maker).await) {
                    (Ok(own), Ok(())) => Ok(format!("failed ({kind}), {own}")),
                    (Err(error), _) => Err(format!(
                        "failed ({kind}); a create after it failed: {error}"
                    )),
                    (_, Err(purge)) => {
                        Err(format!("failed ({kind}), and the purge failed: {purge}"))
                    }
                }
            } else {
                // The host takes this error to mean that nothing was made, and purges
                // nothing.
                Ok(format!("failed ({kind}), claiming nothing was made"))
            }
        }
    };
    let outcome = match outcome {
        Ok(what) => run.nothing_left(room).await.map(|()| what),
        Err(error) => Err(error),
    };
    (fired, outcome)
}

/// A delete with each of its requests failed in turn: when it fails, a second delete
/// finishes it; either way nothing is left.
pub async fn delete_under_faults(run: &mut Run) {
    let Some((requests, counted_room)) = count(run, "count-delete", Counted::Delete).await else {
        return;
    };
    for (index, line) in requests.iter().enumerate() {
        let mut tally = Tally::default();
        for fault in Fault::ALL {
            let room = run.room(&format!("d{}{}", index + 1, letter(fault)));
            let (fired, outcome) = delete_with_fault(run, &room, index, fault).await;
            tally.add(fault, fired, outcome);
        }
        let promise = format!(
            "delete, finished with request {}/{} failing: {}",
            index + 1,
            requests.len(),
            short(line, &counted_room)
        );
        tally.row(run, promise);
    }
}

/// A delete of a new `room` with request `index` failed by `fault`: whether the fault fired,
/// and whether the room ended empty (the links dead, the room creatable again).
async fn delete_with_fault(
    run: &Run,
    room: &str,
    index: usize,
    fault: Fault,
) -> (bool, Result<String, String>) {
    let record = match run.create(room).await {
        Ok(record) => record,
        Err(error) => {
            return (
                false,
                Err(format!("the create before the delete failed: {error}")),
            );
        }
    };
    run.plan.arm(index, fault);
    let deleted = run.runtime.delete(&record).await;
    let fired = run.plan.fired().is_some();
    run.plan.reset();
    let outcome = async {
        let what = match deleted {
            Ok(()) => "deleted all the same".to_owned(),
            Err(error) => {
                let kind = error.kind();
                run.runtime
                    .delete(&record)
                    .await
                    .map_err(|e| format!("failed ({kind}), and so did the next delete: {e}"))?;
                format!("failed ({kind}); the next delete finished it")
            }
        };
        run.links_dead(&record).await?;
        run.nothing_left(room).await?;
        Ok(what)
    }
    .await;
    (fired, outcome)
}

/// The three faults' outcomes for one request, and the row they make.
#[derive(Default)]
struct Tally {
    notes: Vec<String>,
    broken: bool,
    fired: bool,
}

impl Tally {
    fn add(&mut self, fault: Fault, fired: bool, outcome: Result<String, String>) {
        self.fired |= fired;
        let unfired = if fired {
            ""
        } else {
            " (the request was not made this time)"
        };
        let what = outcome.unwrap_or_else(|error| {
            self.broken = true;
            error
        });
        self.notes.push(format!("{fault}: {what}{unfired}"));
    }

    fn row(self, run: &mut Run, promise: String) {
        let outcome = match (self.broken, self.fired) {
            (true, _) => Outcome::Broken,
            // The request was never made with a fault armed: nothing was tried.
            (false, false) => Outcome::Skipped,
            (false, true) => Outcome::Kept,
        };
        run.row(promise, outcome, self.notes.join("; "));
    }
}

enum Counted {
    Create,
    Delete,
}

/// The requests of a create (or of a delete) without faults, and the room they were counted
/// on; `None` (and a broken row) when that call failed.
async fn count(run: &mut Run, what: &str, counted: Counted) -> Option<(Vec<RequestLine>, String)> {
    let room = run.room(what);
    let promise = match counted {
        Counted::Create => "create under faults",
        Counted::Delete => "delete under faults",
    };
    run.plan.reset();
    let record = match run.create(&room).await {
        Ok(record) => record,
        Err(error) => {
            run.row(
                promise,
                Outcome::Broken,
                format!("the create without a fault failed: {error}"),
            );
            return None;
        }
    };
    let created = run.plan.seen();
    run.plan.reset();
    let deleted = run.runtime.delete(&record).await;
    let seen = run.plan.seen();
    if let Err(error) = deleted {
        run.row(
            promise,
            Outcome::Broken,
            format!("the delete without a fault failed: {error}"),
        );
        return None;
    }
    let requests = match counted {
        Counted::Create => created,
        Counted::Delete => seen,
    };
    Some((requests, room))
}

fn letter(fault: Fault) -> char {
    match fault {
        Fault::LoseAnswer => 'l',
        Fault::ServerError => 's',
        Fault::Reset => 'r',
    }
}

/// The request with the room it was counted on as `{room}`, for the table.
fn short(line: &RequestLine, room: &str) -> String {
    let path = &line.path.replace(room, "{room}");
    let path = match (path.len().saturating_sub(69)..path.len()).find(|i| path.is_char_boundary(*i))
    {
        Some(start) if start > 0 => format!("…{}", &path[start..]),
        _ => path.to_owned(),
    };
    format!("`{} {}`", line.method, path)
}
