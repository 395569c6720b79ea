//! The host's integration tests, in one test binary: each module is one subject, run against
//! the `shared-folder-host` binary or the library with stand-ins of the storages. One binary
//! rather than one per file, because each links wasmtime: the crate links it once, and libtest
//! runs every test of the crate in one pool of threads.
//!
//! ```text
//! cargo test -p shared-folder-host --test integration            # all of them
//! cargo test -p shared-folder-host --test integration service::  # one module
//! ```
//!
//! `real_servers` (the checks against real NextCloud, ownCloud and OpenCloud servers) is a
//! binary of its own: it prints a matrix rather than libtest's lines, and runs when given
//! servers. The cluster's two long loads are `#[ignore]`d here and run by `cargo loads`.

mod common;

mod api_errors;
mod check_command;
mod cli;
mod cluster;
mod openapi;
mod operations;
mod plugins;
mod preflight;
mod properties;
mod record_stores;
mod registry;
mod reload;
mod secrets;
mod service;
mod signed_components;
