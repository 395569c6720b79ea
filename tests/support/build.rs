//! Builds the fixture provider component the tests swap in (the NextCloud one comes with the
//! host crate).

fn main() {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../providers/fixture");
    guest_build::build(&fixture, "release", "fixture_provider.wasm");
}
