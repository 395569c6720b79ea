//! The engine, the store's state and the two ways of calling the probe's component.

use wasmtime::component::{Component, InstancePre, Linker, ResourceTable, TypedFunc};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// The probe's component, built by `build.rs` from `guest/`.
const COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/concurrency_probe.wasm"));

/// `fetch(authority, path) -> result<u16, string>`.
type Fetch = TypedFunc<(String, String), (Result<u16, String>,)>;

/// A store's state: what `wasi:http` 0.3 needs, nothing else.
pub struct State {
    http: WasiHttpCtx,
    table: ResourceTable,
}

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: Default::default(),
        }
    }
}

/// The component compiled and linked once, instantiated per call or once for all.
pub struct Probe {
    engine: Engine,
    pre: InstancePre<State>,
}

impl Probe {
    /// An engine set as the host's is where it decides what a call keeps resident
    /// (`host/runtime/src/engine.rs`: the pooling allocator, 128 KiB of an idle slot's memory
    /// and tables kept resident, a slot reset by the pages it wrote, a 1 MiB wasm stack), with
    /// room for `instances`, and component-model async on. Not the host's epoch interruption:
    /// it bounds time, not memory.
    pub fn new(instances: u32) -> wasmtime::Result<Probe> {
        const KEEP_RESIDENT: usize = 128 << 10;
        let mut config = Config::new();
        config.wasm_component_model_async(true);
        config.max_wasm_stack(1 << 20);
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(instances)
            .total_core_instances(instances.saturating_mul(4))
            .total_memories(instances.saturating_mul(2))
            .total_tables(instances.saturating_mul(4))
            .max_memory_size(64 << 20)
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(KEEP_RESIDENT)
            .pagemap_scan(wasmtime::Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config)?;
        let component = Component::new(&engine, COMPONENT)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi_http::p3::add_to_linker(&mut linker)?;
        let pre = linker.instantiate_pre(&component)?;
        Ok(Probe { engine, pre })
    }

    fn store(&self) -> Store<State> {
        Store::new(
            &self.engine,
            State {
                http: WasiHttpCtx::new(),
                table: ResourceTable::new(),
            },
        )
    }

    /// One call in a store and instance of its own, dropped after the call.
    pub async fn call_alone(&self, authority: &str) -> wasmtime::Result<u16> {
        let mut store = self.store();
        let instance = self.pre.instantiate_async(&mut store).await?;
        let fetch: Fetch = instance.get_typed_func(&mut store, "fetch")?;
        let params = (authority.to_string(), "/".to_string());
        let (answer,) = store
            .run_concurrent(async move |calls| fetch.call_concurrent(calls, params).await)
            .await??;
        answer.map_err(wasmtime::Error::msg)
    }

    /// A store and instance for several calls at once ([`Shared::call_all`]).
    pub async fn shared(&self) -> wasmtime::Result<Shared> {
        let mut store = self.store();
        let instance = self.pre.instantiate_async(&mut store).await?;
        let fetch: Fetch = instance.get_typed_func(&mut store, "fetch")?;
        Ok(Shared { store, fetch })
    }
}

/// One instance serving every call given to it at once.
pub struct Shared {
    store: Store<State>,
    fetch: Fetch,
}

impl Shared {
    /// `calls` calls of `fetch` at once in this instance; their status codes.
    pub async fn call_all(&mut self, authority: &str, calls: usize) -> wasmtime::Result<Vec<u16>> {
        let fetch = self.fetch;
        let authority = authority.to_string();
        let answers = self
            .store
            .run_concurrent(async move |accessor| {
                let calls = (0..calls)
                    .map(|_| fetch.call_concurrent(accessor, (authority.clone(), "/".to_string())));
                futures_util::future::try_join_all(calls).await
            })
            .await??;
        answers
            .into_iter()
            .map(|(answer,)| answer.map_err(wasmtime::Error::msg))
            .collect()
    }
}
