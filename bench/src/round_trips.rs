//! `cargo benchmark --round-trips`: the requests each side sends the stand-in per create and
//! per delete, and how many of them are waited for one after another. The stand-in answers
//! each request after 100 ms, so a call that takes n × 100 ms (and a little) waited for n
//! requests in sequence; the requests are counted as the stand-in saw them. The requests of
//! the last sample go to stderr, in the order they arrived.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::Failure;
use crate::native::Native;
use crate::storage::Storage;

/// Far above the time a request takes on loopback, so that rounding the call's time to a
/// multiple of it counts the requests waited for in sequence.
const LATENCY: Duration = Duration::from_millis(100);
const SAMPLES: usize = 3;

/// What one call sent.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Trips {
    requests: usize,
    in_sequence: usize,
}

impl std::fmt::Display for Trips {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} requests, {} in sequence",
            self.requests, self.in_sequence
        )
    }
}

pub async fn print<S: Storage>() -> Result<(), Failure> {
    eprintln!("{}: round trips …", S::NAME);
    let stand_in = S::stand_in(LATENCY).await?;
    let (ours, native) = (S::host(&stand_in).try_build()?, S::native(&stand_in)?);
    // Warm both paths (connections, compiled code), as the other measures do.
    ours.create("warm").await?;
    ours.delete("warm", false).await?;
    let warm = native.create("baseline-warm").await?;
    native.delete(&warm).await?;

    let mut rows: [Vec<Trips>; 4] = Default::default();
    for i in 0..SAMPLES {
        let last = i + 1 == SAMPLES;
        let room = format!("trips-{i}");
        let (_, create) = count::<S, _>(&stand_in, last.then_some("ours, create"), async {
            Ok(ours.create(&room).await?)
        })
        .await?;
        let (_, delete) = count::<S, _>(&stand_in, last.then_some("ours, delete"), async {
            Ok(ours.delete(&room, false).await?)
        })
        .await?;
        let room = format!("baseline-{room}");
        let (folder, base_create) = count::<S, _>(
            &stand_in,
            last.then_some("baseline, create"),
            native.create(&room),
        )
        .await?;
        let (_, base_delete) = count::<S, _>(
            &stand_in,
            last.then_some("baseline, delete"),
            native.delete(&folder),
        )
        .await?;
        for (row, trips) in rows
            .iter_mut()
            .zip([create, delete, base_create, base_delete])
        {
            row.push(trips);
        }
    }
    let [create, delete, base_create, base_delete] = rows.map(|samples| {
        // Every sample should agree; say so when they do not.
        if samples.windows(2).any(|pair| pair[0] != pair[1]) {
            let all: Vec<String> = samples.iter().map(Trips::to_string).collect();
            eprintln!("  the samples differ: {}", all.join("; "));
        }
        samples[samples.len() - 1]
    });
    println!(
        "| {} | ours (host + component) | {} |",
        S::NAME,
        S::BASELINE
    );
    println!("|---|---|---|");
    println!("| create | {create} | {base_create} |");
    println!("| delete | {delete} | {base_delete} |");
    println!();
    Ok(())
}

/// Runs `call`, counting the requests the stand-in sees meanwhile and the latencies it waits;
/// lists them on stderr under `label`, if given.
async fn count<S: Storage, T>(
    stand_in: &S::StandIn,
    label: Option<&str>,
    call: impl Future<Output = Result<T, Failure>>,
) -> Result<(T, Trips), Failure> {
    let before = S::seen(stand_in).len();
    let started = Instant::now();
    let made = call.await?;
    let elapsed = started.elapsed();
    let seen = S::seen(stand_in);
    let sent = &seen[before..];
    if let Some(label) = label {
        eprintln!("  {label}: {:.0} ms", elapsed.as_secs_f64() * 1e3);
        for request in sent {
            eprintln!("    {} {}", request.method, request.target);
        }
    }
    let trips = Trips {
        requests: sent.len(),
        in_sequence: (elapsed.as_secs_f64() / LATENCY.as_secs_f64()).round() as usize,
    };
    Ok((made, trips))
}
