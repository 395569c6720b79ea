//! The concurrency probe's component: `fetch` sends one `GET` through `wasi:http` 0.3 and
//! waits for the answer. It is an async export (component-model async): while one call waits,
//! the same instance can take the next. `no_std`, as the providers are, so that it imports
//! nothing but `wasi:http`.

#![no_std]

extern crate alloc;

use alloc::format;
use alloc::string::String;

mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "probe",
        generate_all,
    });
}

use bindings::wasi::http::client;
use bindings::wasi::http::types::{ErrorCode, Fields, Method, Request, Scheme};
use bindings::wit_future;

// Allocator, `cabi_realloc`, panic = trap.
use guest_runtime as _;

struct Probe;

impl bindings::Guest for Probe {
    async fn fetch(authority: String, path: String) -> Result<u16, String> {
        // No body; the trailers future's writer, dropped unwritten, sends its default: none.
        let (_, trailers) = wit_future::new::<Result<Option<Fields>, ErrorCode>>(|| Ok(None));
        let (request, _sent) = Request::new(Fields::new(), None, trailers, None);
        let set = [
            request.set_method(&Method::Get),
            request.set_scheme(Some(&Scheme::Http)),
            request.set_authority(Some(&authority)),
            request.set_path_with_query(Some(&path)),
        ];
        if set.iter().any(Result::is_err) {
            return Err(format!("the request to {authority}{path} was refused"));
        }
        let response = client::send(request).await.map_err(|e| format!("{e:?}"))?;
        Ok(response.get_status_code())
    }
}

bindings::export!(Probe with_types_in bindings);
