//! Cranelift's incremental compilation cache, in memory: each function compiled is kept under
//! the hash of its compiler input (its IR and the compiler's settings), so that a new version
//! of a component compiles only the functions that changed and takes the others' code from
//! the version before it. A hot swap to a rebuilt component then costs little more than
//! loading a known one, where most of it is unchanged.
//!
//! Keys are Cranelift's hashes of everything that decides the code (the function's body, its
//! signature, the target and flags), so a hit yields the code a compile would have produced;
//! a component cannot get another's code without presenting the same function. The cache is
//! bounded ([`FunctionCache::BUDGET`]): when full, the least recently used entries go.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Mutex;

use wasmtime::CacheStore;

#[derive(Debug, Default)]
pub struct FunctionCache {
    entries: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    /// Key → (compiled function, when last used).
    map: HashMap<Vec<u8>, (Vec<u8>, u64)>,
    /// Bytes of keys and values held.
    bytes: usize,
    /// Counts uses, to find the least recently used entries.
    clock: u64,
}

impl FunctionCache {
    /// The most bytes of compiled functions kept: a few versions of a provider (the built-in
    /// ones take about 1–2 MiB each).
    pub const BUDGET: usize = 16 << 20;

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // Entries hold no invariant a panic could break.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl CacheStore for FunctionCache {
    fn get(&self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        let mut entries = self.lock();
        entries.clock += 1;
        let now = entries.clock;
        let (value, used) = entries.map.get_mut(key)?;
        *used = now;
        Some(Cow::Owned(value.clone()))
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        let size = key.len() + value.len();
        if size > Self::BUDGET {
            return false;
        }
        let mut entries = self.lock();
        entries.clock += 1;
        let now = entries.clock;
        if let Some((old, _)) = entries.map.insert(key.to_vec(), (value, now)) {
            entries.bytes -= key.len() + old.len();
        }
        entries.bytes += size;
        if entries.bytes > Self::BUDGET {
            entries.evict_to(Self::BUDGET * 3 / 4);
        }
        true
    }
}

impl Entries {
    /// Drops the least recently used entries until at most `target` bytes are held.
    fn evict_to(&mut self, target: usize) {
        let mut by_age: Vec<(u64, Vec<u8>)> = self
            .map
            .iter()
            .map(|(key, (_, used))| (*used, key.clone()))
            .collect();
        by_age.sort_unstable();
        for (_, key) in by_age {
            if self.bytes <= target {
                break;
            }
            if let Some((value, _)) = self.map.remove(&key) {
                self.bytes -= key.len() + value.len();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_inserted_is_found_and_the_least_recently_used_goes_first() {
        let cache = FunctionCache::default();
        let chunk = FunctionCache::BUDGET / 4;
        assert!(cache.insert(b"a", vec![1; chunk]));
        assert!(cache.insert(b"b", vec![2; chunk]));
        assert!(cache.insert(b"c", vec![3; chunk]));
        // `a` used again: `b` is now the least recently used.
        assert_eq!(cache.get(b"a").map(|v| v[0]), Some(1));
        assert!(cache.insert(b"d", vec![4; chunk]));
        assert!(cache.insert(b"e", vec![5; chunk]));
        assert!(cache.get(b"b").is_none());
        assert_eq!(cache.get(b"e").map(|v| v[0]), Some(5));
        assert!(cache.lock().bytes <= FunctionCache::BUDGET);
        assert!(!cache.insert(b"huge", vec![0; FunctionCache::BUDGET + 1]));
    }
}
