//! The probe's request without WebAssembly: the same `GET` from a hyper client in this process,
//! one connection per request in flight (as `wasi:http`'s default client makes). The floor
//! under both ways of calling the component: what the request itself holds while it waits.

use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

pub struct Native {
    client: Client<HttpConnector, Empty<Bytes>>,
}

impl Native {
    pub fn new() -> Native {
        Native {
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// `GET http://<authority>/`: its status code.
    pub async fn call(&self, authority: &str) -> wasmtime::Result<u16> {
        let uri: hyper::Uri = format!("http://{authority}/").parse()?;
        let response = self.client.get(uri).await?;
        Ok(response.status().as_u16())
    }
}
