//! The provider's only way out: outbound HTTP through `wasi:http`, confined to one origin.
//!
//! Every request a component sends passes [`OutboundHooks::send_request`], which
//! - refuses any destination but the origin (scheme, host, port) of the configured `url`,
//!   before a connection is opened (the component sees `HTTP-request-denied`);
//! - adds the account's `Authorization` header, so the password never enters the component
//!   (and a component cannot set that header itself: it is forbidden to it);
//! - bounds the connect, first-byte and between-bytes waits, and the whole exchange;
//! - bounds the request body (a component cannot flood the storage or the host's memory);
//! - keeps the storage's session cookies ([`Session`]), so that only the first request of a
//!   session has its password checked;
//! - sends it on the host's pooled connections ([`Connections`]).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use http::header::{AUTHORIZATION, COOKIE, HeaderName, HeaderValue, SET_COOKIE};
use http_body_util::{BodyExt, Limited};
use wasmtime_wasi_http::{
    DEFAULT_FORBIDDEN_HEADERS, Error as HttpError, ForbiddenHeaderFilter, RequestOptions, WasiBody,
    WasiHttpHooks,
};

use crate::config::Origin;
use crate::connections::Connections;
use crate::credentials::{Authorization, Credentials};
use crate::faults::{Fault, FaultPlan};

/// How long outbound requests may wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboundLimits {
    /// TCP connect (and TLS handshake).
    pub connect_timeout: Duration,
    /// From the request sent to the first byte of the answer.
    pub first_byte_timeout: Duration,
    /// Between two chunks of the answer's body.
    pub between_bytes_timeout: Duration,
    /// The largest request body a provider may send, in bytes; a larger one fails with
    /// `HTTP-request-body-size` once this much went out.
    pub max_request_body: u64,
}

impl Default for OutboundLimits {
    fn default() -> Self {
        OutboundLimits {
            connect_timeout: Duration::from_secs(5),
            first_byte_timeout: Duration::from_secs(30),
            between_bytes_timeout: Duration::from_secs(30),
            // NextCloud's share requests are a few hundred bytes.
            max_request_body: 1 << 20,
        }
    }
}

/// The confinement of one provider's traffic; shared by all its calls.
pub struct Outbound {
    origin: Origin,
    authorization: Authorization,
    limits: OutboundLimits,
    connections: Connections,
    session: Session,
    /// The provider the storage's answers are counted under
    /// ([`crate::metrics::STORAGE_RESPONSES`]).
    provider: String,
    /// Faults to inject (`conformance`); `None` in service.
    faults: Option<Arc<FaultPlan>>,
}

impl fmt::Debug for Outbound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbound")
            .field("origin", &self.origin)
            .field("authorization", &"***")
            .field("limits", &self.limits)
            .field("session", &self.session)
            .field("provider", &self.provider)
            .field("faults", &self.faults.is_some())
            .finish()
    }
}

impl Outbound {
    /// `keep_session`: keep the storage's session cookies (see [`Session`]).
    pub fn new(
        origin: Origin,
        credentials: &Credentials,
        limits: OutboundLimits,
        connections: Connections,
        keep_session: bool,
    ) -> Self {
        Outbound {
            origin,
            authorization: Authorization::new(credentials),
            limits,
            connections,
            session: Session::new(keep_session),
            provider: String::new(),
            faults: None,
        }
    }

    /// Injects the faults `plan` is armed with into this outbound's requests
    /// ([`crate::faults`]).
    pub fn with_faults(mut self, plan: Option<Arc<FaultPlan>>) -> Self {
        self.faults = plan;
        self
    }

    /// Counts the storage's answers under `provider` ([`crate::metrics::STORAGE_RESPONSES`]);
    /// unnamed, they are counted with an empty `provider` label.
    pub fn counted_as(mut self, provider: &str) -> Self {
        self.provider = provider.to_owned();
        self
    }

    /// The one origin requests may go to.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// Sends `request` as a provider's request is sent: to the origin only, with the host's
    /// credentials and session, the body capped, the waits bounded. The host's own requests
    /// to the storage (`preflight`) go this way too.
    pub async fn send(
        &self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
    ) -> Result<http::Response<WasiBody>, HttpError> {
        if !self.origin.matches(request.uri()) {
            tracing::warn!(
                destination = %destination(request.uri()),
                allowed = %self.origin,
                "provider request refused: destination not allowed"
            );
            return Err(HttpError::HttpRequestDenied);
        }
        let max_body = self.limits.max_request_body;
        if let Some(length) = declared_length(&request).filter(|length| *length > max_body) {
            tracing::warn!(limit = max_body, "provider request refused: body too large");
            return Err(HttpError::HttpRequestBodySize(Some(length)));
        }
        let fault = self.faults.as_ref().and_then(|plan| plan.next(&request));
        match fault {
            Some(Fault::ServerError) => {
                // As a server that read the request and then failed: its body is taken whole
                // (within the cap), and answered 500.
                let body = capped(
                    request.into_body(),
                    max_body,
                    Arc::new(AtomicBool::new(false)),
                );
                let _ = body.collect().await;
                tracing::info!("injected fault: 500 instead of sending the request");
                return Ok(injected_server_error());
            }
            Some(Fault::Reset) => {
                tracing::info!("injected fault: connection reset before the request");
                return Err(HttpError::ConnectionTerminated);
            }
            Some(Fault::LoseAnswer) | None => {}
        }
        let too_large = Arc::new(AtomicBool::new(false));
        let mut request = request.map(|body| capped(body, max_body, Arc::clone(&too_large)));
        // Without a token (a token file never readable) the request goes without one, and the
        // storage's 401 tells the provider, and the operator, so.
        if let Some(authorization) = self.authorization.header() {
            request.headers_mut().insert(AUTHORIZATION, authorization);
        }
        let url = self.session.attach(&mut request);
        let options = self.options(options);
        let connect = options
            .connect_timeout
            .unwrap_or(self.limits.connect_timeout);
        let first_byte = options
            .first_byte_timeout
            .unwrap_or(self.limits.first_byte_timeout);
        let between_bytes = options
            .between_bytes_timeout
            .unwrap_or(self.limits.between_bytes_timeout);
        // Connect (with TLS) and the answer's head, bounded together: a reused connection
        // spends nothing on the first part.
        let response = tokio::time::timeout(
            connect + first_byte,
            self.connections.send(request, between_bytes),
        )
        .await
        .map_err(|_| HttpError::ConnectionReadTimeout)
        .and_then(|sent| sent)
        // hyper reports a failed body as its own error; say what it was.
        .map_err(|error| {
            if too_large.load(Ordering::Relaxed) {
                HttpError::HttpRequestBodySize(Some(max_body))
            } else {
                crate::metrics::storage_answered(&self.provider, None);
                error
            }
        })?;
        crate::metrics::storage_answered(&self.provider, Some(response.status()));
        self.session.update(url.as_ref(), &response);
        if fault == Some(Fault::LoseAnswer) {
            // The storage has acted: read its answer to the end, then lose it.
            let _ = response.into_body().collect().await;
            tracing::info!("injected fault: the storage's answer lost");
            return Err(HttpError::ConnectionTerminated);
        }
        Ok(response)
    }

    /// The guest's timeouts, each capped at the host's.
    fn options(&self, guest: Option<RequestOptions>) -> RequestOptions {
        let cap =
            |asked: Option<Duration>, limit: Duration| Some(asked.map_or(limit, |a| a.min(limit)));
        let guest = guest.unwrap_or_default();
        RequestOptions {
            connect_timeout: cap(guest.connect_timeout, self.limits.connect_timeout),
            first_byte_timeout: cap(guest.first_byte_timeout, self.limits.first_byte_timeout),
            between_bytes_timeout: cap(
                guest.between_bytes_timeout,
                self.limits.between_bytes_timeout,
            ),
        }
    }
}

/// The `wasi:http` hooks of one call's store: requests go out through its [`Outbound`], or
/// nowhere (`None`: `validate`, which must not contact the storage).
pub struct OutboundHooks(pub Option<Arc<Outbound>>);

type Sent = Box<dyn Future<Output = Result<(), HttpError>> + Send>;

impl WasiHttpHooks for OutboundHooks {
    fn forbidden_header_filter(&mut self) -> ForbiddenHeaderFilter {
        // The credentials and the session are the host's.
        Arc::new(|name: &HeaderName| {
            *name == AUTHORIZATION || *name == COOKIE || DEFAULT_FORBIDDEN_HEADERS.contains(name)
        })
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _response_errors: Sent,
    ) -> Box<dyn Future<Output = Result<(http::Response<WasiBody>, Sent), HttpError>> + Send> {
        let outbound = self.0.clone();
        Box::new(async move {
            let Some(outbound) = outbound else {
                tracing::warn!(
                    destination = %destination(request.uri()),
                    "provider request refused: no request is allowed during this call"
                );
                return Err(HttpError::HttpRequestDenied);
            };
            let mut response = outbound.send(request, options).await?;
            // The session is the host's: a component never sees its cookies.
            response.headers_mut().remove(SET_COOKIE);
            Ok((response, Box::new(async { Ok(()) }) as Sent))
        })
    }
}

/// The storage's session cookies, kept for the configured origin.
///
/// NextCloud checks a login password at every request that does not come with a session
/// cookie, and that costs it about 0.6 s; with the cookies it answers in about 0.04 s, and an
/// app password's 0.09 s become 0.04 s too (docs/nextcloud-behaviour.md, "Authentication
/// cost and sessions"; recording 20). A kept session is a credential by itself — the server takes
/// it whatever `Authorization` says — so it is treated like the password: it stays in the host
/// (a component can neither set `Cookie` nor see `Set-Cookie`), is never logged, belongs to one
/// origin and one set of credentials (a configuration change makes a new [`Outbound`]), and is
/// dropped at the first 401, after which the password is checked again. Requests of concurrent
/// calls share it: NextCloud releases a session as soon as it has authenticated the request
/// (`20-…`, safety 3).
pub struct Session {
    jar: Option<std::sync::Mutex<cookie_store::CookieStore>>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("kept", &self.jar.is_some())
            .finish_non_exhaustive()
    }
}

impl Session {
    fn new(keep: bool) -> Self {
        Session {
            jar: keep.then(Default::default),
        }
    }

    fn jar(&self) -> Option<std::sync::MutexGuard<'_, cookie_store::CookieStore>> {
        // The jar holds no invariant a panic could break.
        self.jar
            .as_ref()
            .map(|jar| jar.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Adds the session's cookies to `request`; returns its URL, for [`Session::update`].
    fn attach<B>(&self, request: &mut http::Request<B>) -> Option<url::Url> {
        let jar = self.jar()?;
        let url = url::Url::parse(&request.uri().to_string()).ok()?;
        let cookies: Vec<String> = jar
            .get_request_values(&url)
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        drop(jar);
        if !cookies.is_empty()
            && let Ok(mut value) = HeaderValue::from_str(&cookies.join("; "))
        {
            value.set_sensitive(true);
            request.headers_mut().insert(COOKIE, value);
        }
        Some(url)
    }

    /// Keeps the cookies `response` sets, or forgets the session when the storage refused the
    /// credentials.
    fn update<B>(&self, url: Option<&url::Url>, response: &http::Response<B>) {
        let set: Vec<String> = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok().map(str::to_owned))
            .collect();
        let (Some(mut jar), Some(url)) = (self.jar(), url) else {
            return;
        };
        if response.status() == http::StatusCode::UNAUTHORIZED {
            jar.clear();
            return;
        }
        let cookies = set
            .into_iter()
            .filter_map(|text| cookie_store::RawCookie::parse(text).ok());
        jar.store_response_cookies(cookies, url);
    }
}

/// The answer of [`Fault::ServerError`]: a bare 500.
fn injected_server_error() -> http::Response<WasiBody> {
    let mut response = http::Response::new(
        http_body_util::Empty::new()
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
    response
}

/// The `Content-Length` a request declares.
fn declared_length(request: &http::Request<WasiBody>) -> Option<u64> {
    request
        .headers()
        .get(http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// `body`, failing with `HTTP-request-body-size` once more than `max` bytes went through
/// (and setting `too_large`).
fn capped(body: WasiBody, max: u64, too_large: Arc<AtomicBool>) -> WasiBody {
    let limit = usize::try_from(max).unwrap_or(usize::MAX);
    Limited::new(body, limit)
        .map_err(move |error| match error.downcast::<HttpError>() {
            Ok(error) => *error,
            Err(_) => {
                tracing::warn!(limit = max, "provider request stopped: body too large");
                too_large.store(true, Ordering::Relaxed);
                HttpError::HttpRequestBodySize(Some(max))
            }
        })
        .boxed_unsync()
}

/// Scheme and authority of a URI, for logs (never the path: it is the component's business).
fn destination(uri: &http::Uri) -> String {
    format!(
        "{}://{}",
        uri.scheme_str().unwrap_or("?"),
        uri.authority().map_or("?", |a| a.as_str())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_match_exactly() {
        let origin = Origin::parse("https://Cloud.Example.com/nextcloud/").unwrap();
        for allowed in [
            "https://cloud.example.com/x",
            "https://CLOUD.example.com:443/",
        ] {
            assert!(origin.matches(&allowed.parse().unwrap()), "{allowed}");
        }
        for refused in [
            "http://cloud.example.com/",
            "https://cloud.example.com:8443/",
            "https://cloud.example.com.evil.org/",
            "https://evil.org/",
            "https://127.0.0.1/",
        ] {
            assert!(!origin.matches(&refused.parse().unwrap()), "{refused}");
        }
    }

    #[test]
    fn guest_timeouts_are_capped() {
        let outbound = Outbound::new(
            Origin::parse("http://localhost:1").unwrap(),
            &Credentials::Basic {
                username: "u".into(),
                password: crate::secret::Secret::new("p"),
            },
            OutboundLimits::default(),
            Connections::new(&Default::default(), Duration::from_secs(1)).unwrap(),
            true,
        );
        let asked = RequestOptions {
            connect_timeout: Some(Duration::from_secs(600)),
            first_byte_timeout: Some(Duration::from_secs(1)),
            between_bytes_timeout: None,
        };
        let options = outbound.options(Some(asked));
        assert_eq!(options.connect_timeout, Some(Duration::from_secs(5)));
        assert_eq!(options.first_byte_timeout, Some(Duration::from_secs(1)));
        assert_eq!(options.between_bytes_timeout, Some(Duration::from_secs(30)));
        assert!(!format!("{outbound:?}").contains("dTpw"));
    }
}
