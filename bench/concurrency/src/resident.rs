//! The process's resident memory.

use std::time::Duration;

/// Resident memory of this process in bytes (Linux: `VmRSS` in `/proc/self/status`, whatever
/// the page size).
pub fn bytes() -> wasmtime::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().strip_suffix("kB"))
        .and_then(|kib| kib.trim().parse().ok())
        .ok_or_else(|| wasmtime::Error::msg("/proc/self/status has no VmRSS"))?;
    Ok(kib * 1024)
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
