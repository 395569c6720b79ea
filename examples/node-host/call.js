// One provider call, in a worker thread of its own: a fresh instance of the component, with
// fresh WASI state, that lives exactly as long as the call.
//
// Why a worker per call: a jco-transpiled component runs synchronously — while it waits for
// the storage, its thread is blocked in `Atomics.wait` on the shim's I/O worker. The thread
// that started the call stays free, and can stop it at the deadline (`worker.terminate()`),
// whatever the component is doing (spinning included). Importing the shim here also gives
// this call its own shim state and its own I/O worker, terminated with it.

import { parentPort, workerData } from "node:worker_threads";
import { clocks, http, io, random } from "@bytecodealliance/preview2-shim";
import { basic, confinedOutgoingHandler, forbidCredentialHeaders } from "./outbound.js";

const { bindings, modules, call, args, confinement } = workerData;

forbidCredentialHeaders();

const logs = [];
const outgoingHandler = confinedOutgoingHandler({
  origin: confinement.origin,
  authorization:
    confinement.credentials === null
      ? null
      : basic(confinement.credentials.username, confinement.credentials.password),
  log: (line) => logs.push(line),
});

// The world's imports, and nothing else: outbound HTTP (confined), its types and streams,
// randomness and clocks. No filesystem, environment, sockets or stdio are given.
const imports = {
  "wasi:http/outgoing-handler": outgoingHandler,
  "wasi:http/types": http.types,
  "wasi:io/error": io.error,
  "wasi:io/poll": io.poll,
  "wasi:io/streams": io.streams,
  "wasi:random/random": random.random,
  "wasi:clocks/monotonic-clock": clocks.monotonicClock,
  "wasi:clocks/wall-clock": clocks.wallClock,
};

function errorOf(e) {
  // jco throws a `ComponentError` whose `payload` is the contract's `error` (or `config-error`).
  if (e && typeof e === "object" && "payload" in e) return { kind: "error", value: e.payload };
  return { kind: "trap", value: String(e?.stack ?? e) };
}

try {
  // The transpiled component (`jco transpile --instantiation async`): its core modules come
  // compiled from the parent (with their memory capped), its imports from here.
  const { instantiate } = await import(bindings);
  const instance = await instantiate((name) => modules[name], imports);
  let result;
  try {
    result = { kind: "ok", value: instance.provider[call](...args) };
  } catch (e) {
    result = errorOf(e);
  }
  parentPort.postMessage({ ...result, logs });
} catch (e) {
  parentPort.postMessage({ ...errorOf(e), logs });
}
