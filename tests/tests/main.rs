//! The harness's integration tests, in one test binary: the real provider components through
//! the real host against the stand-ins, each module one subject. One binary rather than one
//! per file, because each links wasmtime: the crate links it once, and libtest runs every test
//! of the crate in one pool of threads.
//!
//! ```text
//! cargo test -p shared-folder-harness --test integration                   # all of them
//! cargo test -p shared-folder-harness --test integration every_provider::  # one module
//! ```
//!
//! `reliability` (storage faults, hostile components, load; it prints its figures) is a binary
//! of its own, run by `cargo test` as well and alone by `cargo reliability`.

mod confinement;
mod contract_versions;
mod create_delete;
mod credentials;
mod deleting;
mod demo;
mod every_provider;
mod faults;
mod hot_swap;
mod opencloud_standin;
mod owncloud;
mod records;
mod sessions;
mod standin;
mod tls;
