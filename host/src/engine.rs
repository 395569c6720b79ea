//! The wasmtime engine providers run on, the linker that decides what they can import, and the
//! cache that compiles each distinct component once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine};
use wasmtime_wasi::clocks::WasiClocks;
use wasmtime_wasi::p2::bindings::{clocks, random};
use wasmtime_wasi::random::WasiRandom;

use crate::error::LoadError;
use crate::sandbox::CallState;

/// How often the engine's epoch advances: the granularity at which a running guest yields
/// to other tasks, and so at which a call's deadline is noticed.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// A component's identity: the SHA-256 of its bytes, in hex.
pub type ContentDigest = String;

pub struct ProviderEngine {
    engine: Engine,
    linker: Linker<CallState>,
    compiled: Mutex<HashMap<ContentDigest, Component>>,
}

impl ProviderEngine {
    pub fn new() -> Result<Arc<Self>, LoadError> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        // Cap the stack a guest may use, so deep recursion traps instead of growing.
        config.max_wasm_stack(1 << 20);
        let engine =
            Engine::new(&config).map_err(|e| LoadError::Engine(crate::error::one_line(&e)))?;
        let linker = linker(&engine).map_err(|e| LoadError::Engine(crate::error::one_line(&e)))?;
        spawn_epoch_ticker(&engine);
        Ok(Arc::new(ProviderEngine {
            engine,
            linker,
            compiled: Mutex::new(HashMap::new()),
        }))
    }

    pub fn linker(&self) -> &Linker<CallState> {
        &self.linker
    }

    /// Compiles `bytes`, or returns the component compiled earlier from the same bytes.
    pub fn compile(&self, bytes: &[u8]) -> Result<(ContentDigest, Component), LoadError> {
        let digest = content_digest(bytes);
        if let Some(component) = self.compiled_lock().get(&digest) {
            return Ok((digest, component.clone()));
        }
        let component = Component::new(&self.engine, bytes)
            .map_err(|e| LoadError::NotAComponent(crate::error::one_line(&e)))?;
        self.compiled_lock()
            .insert(digest.clone(), component.clone());
        Ok((digest, component))
    }

    fn compiled_lock(&self) -> std::sync::MutexGuard<'_, HashMap<ContentDigest, Component>> {
        // The map holds no invariant a panic could break; keep using it.
        self.compiled.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Exactly the interfaces of the `shared-folder-provider` world, and the `wasi:io` they
/// are built on: no filesystem, environment, sockets or stdio. A component importing
/// anything else fails to load.
fn linker(engine: &Engine) -> wasmtime::Result<Linker<CallState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi_io::add_to_linker_async(&mut linker)?;
    clocks::wall_clock::add_to_linker::<CallState, WasiClocks>(&mut linker, |s| {
        wasmtime_wasi::clocks::WasiClocksView::clocks(s)
    })?;
    clocks::monotonic_clock::add_to_linker::<CallState, WasiClocks>(&mut linker, |s| {
        wasmtime_wasi::clocks::WasiClocksView::clocks(s)
    })?;
    random::random::add_to_linker::<CallState, WasiRandom>(&mut linker, |s| {
        wasmtime_wasi::random::WasiRandomView::random(s)
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_content_is_compiled_once() {
        let engine = ProviderEngine::new().unwrap();
        let (first, _) = engine.compile(crate::NEXTCLOUD_PROVIDER).unwrap();
        let (again, _) = engine.compile(crate::NEXTCLOUD_PROVIDER).unwrap();
        assert_eq!(first, again);
        assert_eq!(engine.compiled_lock().len(), 1);
        assert_eq!(first, hex(&Sha256::digest(crate::NEXTCLOUD_PROVIDER)));
    }
}
