//! Samples → medians and 99th percentiles, and the printed table.

use std::time::Duration;

/// Which way is better for a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Lower,
    Higher,
}

pub struct Row {
    name: String,
    ours: f64,
    baseline: Option<f64>,
    unit: &'static str,
    better: Better,
}

pub struct Table {
    /// The headers of the two value columns and of their ratio.
    columns: [&'static str; 3],
    rows: Vec<Row>,
}

impl Table {
    /// A main table: our host against OpenTalk's native client, whose column is headed
    /// `baseline` (e.g. "baseline (opentalk-nextcloud-client)").
    pub fn against(baseline: &'static str) -> Self {
        Table::with_columns(["ours (host + component)", baseline, "ours / baseline"])
    }

    /// A table whose value columns (the measured side, the baseline) and ratio are headed
    /// `columns`.
    pub fn with_columns(columns: [&'static str; 3]) -> Self {
        Table {
            columns,
            rows: Vec::new(),
        }
    }

    pub fn row(
        &mut self,
        name: impl Into<String>,
        unit: &'static str,
        better: Better,
        ours: f64,
        baseline: Option<f64>,
    ) {
        let row = Row {
            name: name.into(),
            ours,
            baseline,
            unit,
            better,
        };
        eprintln!("  measured: {}", row.line());
        self.rows.push(row);
    }

    pub fn print(&self) {
        let [ours, baseline, ratio] = self.columns;
        println!("| measure | unit | {ours} | {baseline} | {ratio} |");
        println!("|---|---|---:|---:|---:|");
        for row in &self.rows {
            println!("{}", row.line());
        }
    }
}

impl Row {
    fn line(&self) -> String {
        let (baseline, ratio) = match self.baseline {
            Some(baseline) if baseline > 0.0 => {
                let ratio = self.ours / baseline;
                let good = match self.better {
                    Better::Lower => ratio <= 1.0,
                    Better::Higher => ratio >= 1.0,
                };
                (
                    number(baseline),
                    format!("{ratio:.2}×{}", if good { "" } else { " (worse)" }),
                )
            }
            _ => ("—".to_owned(), "—".to_owned()),
        };
        let direction = match self.better {
            Better::Lower => "lower is better",
            Better::Higher => "higher is better",
        };
        format!(
            "| {} | {} ({direction}) | {} | {baseline} | {ratio} |",
            self.name,
            self.unit,
            number(self.ours)
        )
    }
}

fn number(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// Median and 99th percentile of `samples`, in milliseconds.
pub fn median_p99_ms(samples: &mut [Duration]) -> (f64, f64) {
    samples.sort_unstable();
    let at = |q: f64| {
        let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples
            .get(index)
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
    };
    (at(0.5), at(0.99))
}

/// Resident memory of this process in bytes, after giving the heap's free pages back to the
/// system: the pages the calls measured next touch are then counted even where they reuse heap
/// that calls measured before freed (without it, the side measured second grew into the
/// first's freed heap and showed next to nothing). Linux with glibc; `None` elsewhere.
pub fn resident_bytes_trimmed() -> Option<u64> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            /// glibc: returns free memory at the top of the heap and whole free pages inside it
            /// to the system.
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: takes no pointer, only asks glibc's allocator to release free pages; safe
        // to call at any time from any thread.
        unsafe { malloc_trim(0) };
        resident_bytes()
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    None
}

/// Resident memory of this process in bytes (Linux; `None` elsewhere).
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}
