//! The process's resident memory, as the benchmark reads it (`bench/src/table.rs`).

use std::time::Duration;

/// Resident memory of this process in bytes (Linux: `/proc/self/statm`).
pub fn bytes() -> wasmtime::Result<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm")?;
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|pages| pages.parse().ok())
        .ok_or_else(|| wasmtime::Error::msg("/proc/self/statm has no resident size"))?;
    Ok(pages * 4096)
}

/// [`bytes`] after the malloc heap's free pages were given back to the system (glibc's
/// `malloc_trim`), so that a way's calls do not reuse, uncounted, what the other way freed.
pub fn bytes_trimmed() -> wasmtime::Result<u64> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: takes no pointer; only asks glibc's allocator to release free pages.
        unsafe { malloc_trim(0) };
    }
    bytes()
}

/// [`bytes`], `after` from now.
pub async fn bytes_after(after: Duration) -> wasmtime::Result<u64> {
    tokio::time::sleep(after).await;
    bytes()
}
