//! What one provider call may touch: the state of its `Store`.
//!
//! A call gets a fresh store (a trap poisons a store, and rooms must not share state): the
//! clocks and the random generator of the world's WASI imports — and nothing else of WASI: no
//! arguments, environment, files or sockets, none of whose interfaces is linked either —, a
//! resource table, the `wasi:http` context with the [`OutboundHooks`] that confine its
//! requests, and its memory limits.
//!
//! Not a whole `WasiCtx`: building one (`WasiCtx::builder().build()`) makes the builder
//! twice over, each with its standard streams, file system and socket settings and its own
//! seeded random generators, about a tenth of what an instantiation costs, for interfaces a
//! provider cannot import.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::clocks::{WasiClocksCtx, WasiClocksCtxView, WasiClocksView};
use wasmtime_wasi::random::{WasiRandomCtx, WasiRandomView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::outbound::{Outbound, OutboundHooks};

/// Resource limits of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SandboxLimits {
    /// The most linear memory an instance may grow to, in bytes.
    pub memory_bytes: usize,
    /// The most table elements an instance may have.
    pub table_elements: usize,
}

impl Default for SandboxLimits {
    fn default() -> Self {
        SandboxLimits {
            memory_bytes: 64 << 20,
            table_elements: 20_000,
        }
    }
}

pub struct CallState {
    clocks: WasiClocksCtx,
    /// `wasi:random/random`: the process's CSPRNG (wasmtime-wasi's `thread_rng`).
    random: WasiRandomCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: OutboundHooks,
    pub(crate) limits: StoreLimits,
}

impl CallState {
    pub fn new(outbound: Option<Arc<Outbound>>, limits: SandboxLimits) -> Self {
        CallState {
            clocks: WasiClocksCtx::default(),
            random: WasiRandomCtx::default(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: OutboundHooks(outbound),
            limits: StoreLimitsBuilder::new()
                .memory_size(limits.memory_bytes)
                .table_elements(limits.table_elements)
                .instances(16)
                .memories(4)
                .tables(16)
                // A component that outgrows its memory traps at once, with an error that
                // names the limit, rather than with whatever its allocator does next.
                .trap_on_grow_failure(true)
                .build(),
        }
    }
}

impl WasiClocksView for CallState {
    fn clocks(&mut self) -> WasiClocksCtxView<'_> {
        WasiClocksCtxView {
            ctx: &mut self.clocks,
            table: &mut self.table,
        }
    }
}

impl WasiRandomView for CallState {
    fn random(&mut self) -> &mut WasiRandomCtx {
        &mut self.random
    }
}

impl wasmtime_wasi_io::IoView for CallState {
    fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }
}

impl WasiHttpView for CallState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}
