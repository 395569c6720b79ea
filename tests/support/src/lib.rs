//! What the shared-folder tests share, with no dependency on the host (so the host's own
//! tests can use it too): a NextCloud stand-in server ([`standin`]), an HTTP client for
//! tests, public-link access as a participant, and the fixture provider component.

pub mod client;
pub mod public_link;
pub mod standin;

pub use standin::{Fault, FaultRule, Options, StandIn, Step, TlsIdentity};

/// The fixture provider component (`tests/providers/fixture`), built with this crate.
pub const FIXTURE_PROVIDER: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/fixture_provider.wasm"));

/// `component` with a custom section added: the same code under another content digest, as a
/// rebuild of the component would look to the host.
pub fn rebuilt_component(component: &[u8], note: &str) -> Vec<u8> {
    fn leb128(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let name = b"build-note";
    let mut payload = Vec::new();
    leb128(name.len(), &mut payload);
    payload.extend_from_slice(name);
    payload.extend_from_slice(note.as_bytes());
    let mut bytes = component.to_vec();
    bytes.push(0); // a custom section
    leb128(payload.len(), &mut bytes);
    bytes.extend_from_slice(&payload);
    bytes
}
