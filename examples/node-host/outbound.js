// The component's only way out: `wasi:http/outgoing-handler`, confined to one origin.
//
// This is the Node.js counterpart of `host/runtime/src/outbound.rs`. It is built on jco's
// preview2-shim rather than beside it: the shim's `wasi:http/types` (fields, requests, bodies,
// futures) are used as they are, and its `outgoing-handler` still sends the request — from
// the shim's I/O worker thread, where the blocking HTTP of a synchronous component belongs
// (the call's thread waits on `Atomics.wait` while the worker runs `node:http`). What this
// module adds, in the call's own thread and before anything reaches that worker:
//
// - the destination is checked against the storage's origin (scheme, host and port exactly);
//   anything else fails with the wasi:http error code `HTTP-request-denied`, before a
//   connection is opened;
// - the host adds `Authorization: Basic …`: the password never enters the component, and a
//   component cannot set `Authorization` or `Cookie` itself (its `fields.append`/`set`/
//   `from-list` fail with `header-error.forbidden`, as wasmtime's forbidden-header filter
//   answers in the Rust host);
// - the component never sees `Set-Cookie`: a session cookie is a credential too;
// - the waits the component asks for are capped, and a declared request body over 1 MiB is
//   refused (`HTTP-request-body-size`), as the Rust host's `OutboundLimits` do;
// - a request without a body goes out (the shim alone would wait for one; see `handle`).

import { http } from "@bytecodealliance/preview2-shim";
import { _forbiddenHeaders } from "@bytecodealliance/preview2-shim/http";

const { types } = http;

/** Headers a component may not set: the credentials and the session are the host's, plus
 * wasmtime's `DEFAULT_FORBIDDEN_HEADERS` (the shim forbids only connection, keep-alive, host). */
export const FORBIDDEN_HEADERS = [
  "authorization",
  "cookie",
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "host",
  "http2-settings",
];

/** The Rust host's `OutboundLimits` defaults. */
export const LIMITS = {
  connectMs: 5_000,
  firstByteMs: 30_000,
  betweenBytesMs: 30_000,
  maxRequestBody: 1 << 20,
};

/** Scheme, host and port of an `http(s)://` URL; throws on anything else. */
export function originOf(url) {
  const parsed = new URL(url);
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new Error(`not an http(s) URL: ${url}`);
  }
  const https = parsed.protocol === "https:";
  return {
    https,
    host: parsed.hostname.toLowerCase(),
    port: parsed.port ? Number(parsed.port) : https ? 443 : 80,
  };
}

/** Whether a wasi:http request's scheme and authority point at `origin`, exactly. */
export function matches(origin, scheme, authority) {
  // The shim sends a request without a scheme as https (wasmtime does too).
  const tag = scheme?.tag ?? "HTTPS";
  if (tag !== "HTTP" && tag !== "HTTPS") return false;
  const https = tag === "HTTPS";
  // The shim's `set-authority` admits only `host[:port]` (no user info, no IPv6 literal).
  if (typeof authority !== "string" || authority === "") return false;
  const [host, port, ...rest] = authority.split(":");
  if (rest.length) return false;
  const portNumber = port === undefined ? (https ? 443 : 80) : Number(port);
  return (
    https === origin.https &&
    host.toLowerCase() === origin.host &&
    portNumber === origin.port
  );
}

/** Makes `Authorization` and `Cookie` (and wasmtime's list) forbidden to the component: the
 * shim's `Fields` consult this set (an exported hook of the shim) in `append` and `set`, which
 * `from-list` uses too. Per thread: each call runs in a worker of its own. */
export function forbidCredentialHeaders() {
  for (const name of FORBIDDEN_HEADERS) _forbiddenHeaders.add(name);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function capped(asked, maxMs) {
  const max = BigInt(maxMs) * 1_000_000n;
  return asked === undefined || asked > max ? max : asked;
}

/**
 * The `wasi:http/outgoing-handler` a component is given.
 *
 * @param {{ origin: {https:boolean,host:string,port:number} | null,
 *           authorization: string | null,
 *           log?: (line: string) => void }} confinement
 *   `origin: null` refuses every request (the Rust host's `validate`, which may not send any);
 *   `authorization` is the whole header value (`Basic …`).
 */
export function confinedOutgoingHandler({ origin, authorization, log = () => {} }) {
  return {
    handle(request, options) {
      const scheme = request.scheme();
      const authority = request.authority();
      if (!origin || !matches(origin, scheme, authority)) {
        const shown = `${(scheme?.tag ?? "HTTPS").toLowerCase()}://${authority ?? "?"}`;
        log(`request refused: destination not allowed: ${shown}`);
        // jco turns a thrown value into the result's `err` case: `error-code`.
        throw { tag: "HTTP-request-denied" };
      }
      const headers = request.headers();
      const declared = headers.get("content-length")[0];
      if (declared !== undefined && Number(decoder.decode(declared)) > LIMITS.maxRequestBody) {
        throw { tag: "HTTP-request-body-size", val: BigInt(decoder.decode(declared)) };
      }

      // The component's waits, capped.
      const bounded = new types.RequestOptions();
      bounded.setConnectTimeout(capped(options?.connectTimeout(), LIMITS.connectMs));
      bounded.setFirstByteTimeout(capped(options?.firstByteTimeout(), LIMITS.firstByteMs));
      bounded.setBetweenBytesTimeout(
        capped(options?.betweenBytesTimeout(), LIMITS.betweenBytesMs),
      );

      // A request whose body the component never asked for goes out without one (wasi:http
      // says so, and the providers rely on it for GET, HEAD, MKCOL, DELETE); the shim instead
      // waits for that body's `finish` before it ends the request. So the host takes such a
      // body itself and finishes it empty once the request is handed over. (`body()` throws
      // when the component took it: then the component finishes it.)
      let untouched = null;
      try {
        untouched = request.body();
      } catch {
        untouched = null;
      }

      // The credentials. The shim reads a request's headers through `fields.entries()` at the
      // moment it hands the request to its I/O worker (`OutgoingRequest._handle`, synchronous);
      // the request's own fields are immutable by then. So, for the duration of that call
      // only, `entries()` of this one fields object answers with `Authorization` added; the
      // component is not running meanwhile, and afterwards the fields are as they were, so
      // the header is never readable through any handle the component may still hold.
      let future;
      if (authorization !== null) {
        const own = headers.entries.bind(headers);
        headers.entries = () => [...own(), ["authorization", encoder.encode(authorization)]];
        try {
          future = http.outgoingHandler.handle(request, bounded);
        } finally {
          delete headers.entries;
        }
      } else {
        future = http.outgoingHandler.handle(request, bounded);
      }

      if (untouched !== null) types.OutgoingBody.finish(untouched, undefined);

      // The session is the host's: the answer's `Set-Cookie` is removed before the component
      // sees the response's headers.
      const get = future.get.bind(future);
      future.get = () => {
        const ready = get();
        if (ready?.tag === "ok" && ready.val.tag === "ok") {
          ready.val.val.headers().delete("set-cookie");
        }
        return ready;
      };
      return future;
    },
  };
}

/** `Basic base64(user:password)`. */
export function basic(username, password) {
  return `Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`;
}
