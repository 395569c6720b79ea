//! The wasmtime engine providers run on, the linker that decides what they can import, and the
//! cache that compiles each distinct component once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};
use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView};
use wasmtime_wasi::p2::bindings::{clocks, random};
use wasmtime_wasi::random::{WasiRandom, WasiRandomView};

use crate::error::LoadError;
use crate::function_cache::FunctionCache;
use crate::sandbox::CallState;

/// How often the engine's epoch advances: the granularity at which a running guest yields
/// to other tasks, and so at which a call's deadline is noticed.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// A component's identity: the SHA-256 of its bytes, in hex.
pub type ContentDigest = String;

pub struct ProviderEngine {
    engine: Engine,
    linker: Linker<CallState>,
    compiled: Mutex<Compiled>,
    cache_dir: Option<PathBuf>,
}

/// How the engine is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineOptions {
    /// Folder where compiled components are kept by content digest, so that a restart (or a
    /// swap back to a known component) loads instead of compiling. It must be writable by the
    /// host only: what is in it is run as compiled code.
    pub cache_dir: Option<PathBuf>,
    /// Instances that can exist at once; their memory is reserved up front by the pooling
    /// allocator, which makes instantiation a matter of microseconds.
    pub max_instances: u32,
    /// The most linear memory one instance may have.
    pub memory_bytes: usize,
    /// Use the pooling allocator (the default); off, each instance maps its memory anew.
    pub pooling: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            cache_dir: None,
            max_instances: 256,
            memory_bytes: crate::sandbox::SandboxLimits::default().memory_bytes,
            pooling: true,
        }
    }
}

impl ProviderEngine {
    pub fn with_options(options: EngineOptions) -> Result<Arc<Self>, LoadError> {
        let engine_error = |e: wasmtime::Error| LoadError::Engine(crate::error::one_line(&e));
        let mut config = Config::new();
        config.epoch_interruption(true);
        // A new version of a component reuses the code of the functions it shares with the
        // versions compiled before it (a hot swap compiles only what changed).
        config
            .enable_incremental_compilation(Arc::new(FunctionCache::default()))
            .map_err(engine_error)?;
        // Cap the stack a guest may use, so deep recursion traps instead of growing.
        config.max_wasm_stack(1 << 20);
        let instances = options.max_instances.max(1);
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(instances)
            .total_core_instances(instances.saturating_mul(CORE_INSTANCES_PER_COMPONENT))
            .total_memories(instances.saturating_mul(MEMORIES_PER_COMPONENT))
            .total_tables(instances.saturating_mul(TABLES_PER_COMPONENT))
            .max_memory_size(options.memory_bytes)
            // A reused slot is reset by zeroing what stays resident rather than by asking the
            // kernel to drop its pages: cheaper for small instances, as providers are.
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(KEEP_RESIDENT)
            // Zero only the pages the instance wrote (Linux 6.7's PAGEMAP_SCAN, where the
            // kernel has it), not the first `KEEP_RESIDENT` bytes: those are the bottom of the
            // guest's shadow stack, which a call never reaches, while the pages it did write
            // (the stack's top, data, heap) were given back to the kernel and faulted in again
            // by the next instance.
            .pagemap_scan(wasmtime::Enabled::Auto);
        if options.pooling {
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        let engine = Engine::new(&config).map_err(engine_error)?;
        let linker = linker(&engine).map_err(engine_error)?;
        if let Some(dir) = &options.cache_dir {
            create_private_dir(dir)
                .map_err(|e| LoadError::Engine(format!("cache folder {}: {e}", dir.display())))?;
        }
        spawn_epoch_ticker(&engine);
        Ok(Arc::new(ProviderEngine {
            engine,
            linker,
            compiled: Mutex::new(Compiled::default()),
            cache_dir: options.cache_dir,
        }))
    }

    pub fn linker(&self) -> &Linker<CallState> {
        &self.linker
    }

    /// Compiles `bytes`, or returns the component compiled earlier from the same bytes (in
    /// this process, or — with a cache folder — by an earlier one).
    pub fn compile(&self, bytes: &[u8]) -> Result<(ContentDigest, Component), LoadError> {
        let digest = content_digest(bytes);
        if let Some(component) = self.compiled_lock().get(&digest) {
            return Ok((digest, component));
        }
        let cached = self.cache_file(&digest);
        let component = match cached.as_deref().and_then(|file| self.load_cached(file)) {
            Some(component) => component,
            None => {
                let started = std::time::Instant::now();
                let component = Component::new(&self.engine, bytes)
                    .map_err(|e| LoadError::NotAComponent(crate::error::one_line(&e)))?;
                crate::metrics::compiled(started.elapsed());
                if let Some(file) = &cached {
                    self.store_cached(&component, file);
                }
                component
            }
        };
        self.compiled_lock()
            .insert(digest.clone(), component.clone());
        Ok((digest, component))
    }

    fn cache_file(&self, digest: &str) -> Option<PathBuf> {
        self.cache_dir
            .as_ref()
            .map(|dir| dir.join(format!("{digest}.cwasm")))
    }

    fn load_cached(&self, file: &Path) -> Option<Component> {
        if !file.is_file() {
            return None;
        }
        // SAFETY: the file was written by `store_cached` of a host with this configuration,
        // into a folder only the host may write (see `EngineOptions::cache_dir`); wasmtime
        // checks that it was compiled for this engine and refuses it otherwise.
        match unsafe { Component::deserialize_file(&self.engine, file) } {
            Ok(component) => Some(component),
            Err(error) => {
                tracing::warn!(file = %file.display(), error = %crate::error::one_line(&error), "cached component unusable; compiling again");
                None
            }
        }
    }

    fn store_cached(&self, component: &Component, file: &Path) {
        let written = component
            .serialize()
            .map_err(|e| crate::error::one_line(&e))
            .and_then(|bytes| {
                // Written aside, then renamed: a reader never sees half a file. The name aside
                // is this write's own, as other threads and processes may share the folder.
                static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
                let write = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let partial =
                    file.with_extension(format!("partial-{}-{write}", std::process::id()));
                std::fs::write(&partial, bytes)
                    .and_then(|()| std::fs::rename(&partial, file))
                    .map_err(|e| e.to_string())
            });
        if let Err(error) = written {
            tracing::warn!(file = %file.display(), %error, "compiled component not cached");
        }
    }

    fn compiled_lock(&self) -> std::sync::MutexGuard<'_, Compiled> {
        // The map holds no invariant a panic could break; keep using it.
        self.compiled.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The components this process compiled most recently, by digest: swapping back to one of them
/// costs nothing. Bounded, so that a host that sees many versions over its life does not keep
/// each one's code (a few MiB) forever; the provider in use holds its own reference anyway.
#[derive(Default)]
struct Compiled {
    components: HashMap<ContentDigest, (Component, u64)>,
    /// Counts uses, to find the least recently used entry.
    clock: u64,
}

impl Compiled {
    /// How many compiled components are kept.
    const KEEP: usize = 4;

    fn get(&mut self, digest: &str) -> Option<Component> {
        self.clock += 1;
        let (component, used) = self.components.get_mut(digest)?;
        *used = self.clock;
        Some(component.clone())
    }

    fn insert(&mut self, digest: ContentDigest, component: Component) {
        self.clock += 1;
        if self.components.len() >= Self::KEEP && !self.components.contains_key(&digest) {
            let oldest = self
                .components
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(digest, _)| digest.clone());
            if let Some(oldest) = oldest {
                self.components.remove(&oldest);
            }
        }
        self.components.insert(digest, (component, self.clock));
    }
}

/// Core instances, memories and tables one provider component may need (the NextCloud one
/// has 3, 1 and 1; wit-bindgen components stay well below these).
const CORE_INSTANCES_PER_COMPONENT: u32 = 8;
const MEMORIES_PER_COMPONENT: u32 = 2;
const TABLES_PER_COMPONENT: u32 = 4;
/// Bytes of a pooled memory or table kept resident between instances.
const KEEP_RESIDENT: usize = 128 << 10;

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Exactly the interfaces of the `shared-folder-provider` world, and the `wasi:io` they
/// are built on: no filesystem, environment, sockets or stdio. A component importing
/// anything else fails to load.
fn linker(engine: &Engine) -> wasmtime::Result<Linker<CallState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi_io::add_to_linker_async(&mut linker)?;
    clocks::wall_clock::add_to_linker::<CallState, WasiClocks>(&mut linker, |s| {
        WasiClocksView::clocks(s)
    })?;
    clocks::monotonic_clock::add_to_linker::<CallState, WasiClocks>(&mut linker, |s| {
        WasiClocksView::clocks(s)
    })?;
    random::random::add_to_linker::<CallState, WasiRandom>(&mut linker, |s| {
        WasiRandomView::random(s)
    })?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    Ok(linker)
}

/// Advances the epoch every [`EPOCH_TICK`] until the engine is gone.
fn spawn_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("provider-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("spawning the epoch thread");
}

/// The identity of a component's `bytes`.
pub fn content_digest(bytes: &[u8]) -> ContentDigest {
    hex(&Sha256::digest(bytes))
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_content_is_compiled_once() {
        let engine = ProviderEngine::with_options(EngineOptions::default()).unwrap();
        let (first, _) = engine.compile(crate::NEXTCLOUD_PROVIDER).unwrap();
        let (again, _) = engine.compile(crate::NEXTCLOUD_PROVIDER).unwrap();
        assert_eq!(first, again);
        assert_eq!(engine.compiled_lock().components.len(), 1);
        assert_eq!(first, hex(&Sha256::digest(crate::NEXTCLOUD_PROVIDER)));
    }

    #[test]
    fn only_the_most_recently_used_components_are_kept() {
        let engine = ProviderEngine::with_options(EngineOptions::default()).unwrap();
        let empty = Component::new(&engine.engine, b"\0asm\x0d\0\x01\0").unwrap();
        let mut compiled = Compiled::default();
        for version in 0..Compiled::KEEP {
            compiled.insert(format!("v{version}"), empty.clone());
        }
        // v0 is used again, so v1 is the least recently used when v9 comes.
        assert!(compiled.get("v0").is_some());
        compiled.insert("v9".into(), empty.clone());
        assert_eq!(compiled.components.len(), Compiled::KEEP);
        assert!(compiled.get("v1").is_none());
        for kept in ["v0", "v2", "v3", "v9"] {
            assert!(compiled.get(kept).is_some(), "{kept}");
        }
    }
}
