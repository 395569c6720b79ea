//! `cargo concurrency`: what a call in flight costs in resident memory when each call has an
//! instance of its own (what the host does) against one instance serving every call at once
//! (wasmtime's component-model async) — issue 23, item 1.
//!
//! Both ways run the same component (`guest/`: one async export, `fetch`, which sends one
//! request through `wasi:http` 0.3 and waits for the answer) on the same engine settings
//! (pooling allocator), against the same server: this binary started again as a child process
//! (`--serve`), which holds every request for a second and whose memory is not counted. The
//! difference between the two columns is what sharing the instance saves; what it costs in
//! isolation is in the README ("One instance for several calls").

mod instances;
mod native;
mod resident;
mod server;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::future::try_join_all;

use instances::Probe;
use native::Native;

#[derive(Parser)]
#[command(
    about = "Resident memory per call in flight: one instance per call against one \
                   instance for all calls (component-model async), with the same component"
)]
struct Args {
    /// Calls in flight at once.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..))]
    calls: u16,
    /// Runs of each way, alternating; the table shows their medians.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
    runs: u16,
    /// How long the server holds each request (ms); the memory is sampled halfway.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(100..))]
    hold_ms: u64,
    /// Serve as the child process (internal).
    #[arg(long, hide = true)]
    serve: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if args.serve {
        return server::serve(Duration::from_millis(args.hold_ms)).await;
    }
    match measure(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// How long a way waits, before its "before" sample, for what the previous way dropped to be
/// freed.
const SETTLE: Duration = Duration::from_millis(200);

/// One way's figures from one run: resident KiB per call in flight and the batch's wall time.
struct Sample {
    kib_per_call: f64,
    wall: Duration,
}

async fn measure(args: &Args) -> wasmtime::Result<()> {
    let hold = Duration::from_millis(args.hold_ms);
    let server = server::ServerProcess::start(hold)?;
    let authority = server.authority();
    // Room for every call's instance, and one more for the shared one.
    let calls = usize::from(args.calls);
    let instances = u32::from(args.calls) + 2;
    let probe = Probe::new(instances)?;
    // The first run of each way is shown on a row of its own: it pays for what the later runs
    // find ready — the runtime's one-time set-up, and the pool's slots and fiber stacks touched
    // for the first time, which the host's settings keep resident while idle (up to 128 KiB of
    // a slot's memory): a host that has served this many calls at once holds them anyway. The
    // later runs are the steady state.
    let mut first = Vec::new();
    let mut alone = Vec::new();
    let mut shared = Vec::new();
    let mut without_wasm = Vec::new();
    for run in 0..=args.runs {
        match run {
            0 => eprintln!("first run …"),
            run => eprintln!("run {run} of {} …", args.runs),
        }
        let samples = [
            one_instance_per_call(&probe, &authority, calls, hold).await?,
            one_instance_for_all(&probe, &authority, calls, hold).await?,
            native_calls(&authority, calls, hold).await?,
        ];
        let [a, s, n] = samples;
        if run == 0 {
            first = vec![a, s, n];
        } else {
            alone.push(a);
            shared.push(s);
            without_wasm.push(n);
        }
    }

    let kib = |samples: &[Sample]| median(samples.iter().map(|s| s.kib_per_call).collect());
    let ms = |samples: &[Sample]| {
        median(
            samples
                .iter()
                .map(|s| s.wall.as_secs_f64() * 1000.0)
                .collect(),
        )
    };
    println!();
    println!(
        "| measure | unit | one instance per call | one instance for all calls | for all / per call | without WebAssembly (hyper) |"
    );
    println!("|---|---|---:|---:|---:|---:|");
    println!(
        "| resident memory per call in flight ({calls} in flight), later runs | KiB (lower is better) | {:.1} | {:.1} | {:.2}× | {:.1} |",
        kib(&alone),
        kib(&shared),
        kib(&shared) / kib(&alone),
        kib(&without_wasm),
    );
    if let [a, s, n] = &first[..] {
        println!(
            "| resident memory per call in flight ({calls} in flight), the first run | KiB (lower is better) | {:.1} | {:.1} | {:.2}× | {:.1} |",
            a.kib_per_call,
            s.kib_per_call,
            s.kib_per_call / a.kib_per_call,
            n.kib_per_call,
        );
    }
    println!(
        "| {calls} calls, the server holding each {} ms | ms (lower is better) | {:.0} | {:.0} | {:.2}× | {:.0} |",
        args.hold_ms,
        ms(&alone),
        ms(&shared),
        ms(&shared) / ms(&alone),
        ms(&without_wasm),
    );
    println!();
    println!(
        "Later runs: medians of {} runs of each way, alternating. Per run, KiB per call in flight: \
         one instance per call {}; one instance for all {}; without WebAssembly {}.",
        args.runs,
        list(&alone),
        list(&shared),
        list(&without_wasm),
    );
    Ok(())
}

/// `calls` calls at once, each in a store and instance of its own (made for the call, dropped
/// after it), as the host calls providers.
async fn one_instance_per_call(
    probe: &Probe,
    authority: &str,
    calls: usize,
    hold: Duration,
) -> wasmtime::Result<Sample> {
    let batch = try_join_all((0..calls).map(|_| probe.call_alone(authority)));
    sample("one instance per call", batch, calls, hold).await
}

/// `calls` calls at once in one store and instance (made before the sample and warmed with one
/// call, so that only what each call adds is counted).
async fn one_instance_for_all(
    probe: &Probe,
    authority: &str,
    calls: usize,
    hold: Duration,
) -> wasmtime::Result<Sample> {
    let mut shared = probe.shared().await?;
    shared.call_all(authority, 1).await?;
    let batch = shared.call_all(authority, calls);
    sample("one instance for all calls", batch, calls, hold).await
}

/// The same request `calls` times at once from a hyper client, no component involved. A new
/// client each run: one whose pool kept the last run's connections would reuse them uncounted.
async fn native_calls(authority: &str, calls: usize, hold: Duration) -> wasmtime::Result<Sample> {
    let native = Native::new();
    let batch = try_join_all((0..calls).map(|_| native.call(authority)));
    sample("without WebAssembly", batch, calls, hold).await
}

/// Runs `batch` (`calls` calls at once; their status codes), the resident size sampled before
/// it and halfway through the server's hold.
async fn sample(
    way: &str,
    batch: impl Future<Output = wasmtime::Result<Vec<u16>>>,
    calls: usize,
    hold: Duration,
) -> wasmtime::Result<Sample> {
    // What the previous way dropped (stores, connections) is freed by tasks that may still be
    // running; let them finish before the heap is trimmed and read, or their memory would be
    // reused uncounted by this way.
    tokio::time::sleep(SETTLE).await;
    let before = resident::bytes_trimmed()?;
    let started = Instant::now();
    let (answers, during) = tokio::join!(batch, resident::bytes_after(hold / 2));
    let wall = started.elapsed();
    for answer in answers? {
        answered_ok(answer)?;
    }
    all_in_flight_at_once(way, wall, hold)?;
    Ok(Sample {
        kib_per_call: per_call(before, during?, calls),
        wall,
    })
}

/// Each call must have reached the server and got its `200`: a call that failed early would
/// hold less memory and make its way look cheaper than it is.
fn answered_ok(status: u16) -> wasmtime::Result<()> {
    match status {
        200 => Ok(()),
        other => Err(wasmtime::Error::msg(format!(
            "a call was answered {other}, not 200"
        ))),
    }
}

/// The memory is sampled halfway through the server's hold, which counts every call only if all
/// of them were in flight then: the last call must have started before half the hold, so the
/// batch may take at most one and a half holds. One that took longer was served (partly) one
/// call after another, and one that took less than the hold was not held at all: neither gives
/// a figure per call in flight.
fn all_in_flight_at_once(way: &str, wall: Duration, hold: Duration) -> wasmtime::Result<()> {
    if wall < hold || wall > hold * 3 / 2 {
        return Err(wasmtime::Error::msg(format!(
            "{way}: the calls were not all in flight at the sample: the batch took {wall:?}, \
             the server holds each call {hold:?}"
        )));
    }
    Ok(())
}

fn per_call(before: u64, during: u64, calls: usize) -> f64 {
    during.saturating_sub(before) as f64 / calls as f64 / 1024.0
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn list(samples: &[Sample]) -> String {
    samples
        .iter()
        .map(|s| format!("{:.1}", s.kib_per_call))
        .collect::<Vec<_>>()
        .join(", ")
}
