// A provider component as a Node.js host runs it: loaded once, instantiated anew for every
// call, in a worker thread that the deadline ends, with its linear memory capped.
//
// What it limits, and how:
// - time: each call has a deadline (default 120 s, as the Rust host); when it passes, the
//   call's worker is terminated — a component blocked on the storage or spinning in a loop is
//   stopped alike — and the call fails with `timeout`;
// - linear memory: the component's core module gets a maximum on its memory (default 64 MiB,
//   as the Rust host) before it is compiled; `memory.grow` beyond it fails inside the
//   component (its allocator then traps, and the call fails);
// - the JavaScript heap of the call (the bindings' objects): the worker's `resourceLimits`.
// What it cannot limit: the memory of the shim's I/O worker (the response bodies it buffers
// for the component), and the process's memory as a whole; tables and instance counts, which
// wasmtime's pooling allocator bounds, are left to V8's own limits.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";

const CALL = new URL("./call.js", import.meta.url);
const PAGE = 64 * 1024;

/** `bytes` of a core module, its one defined memory given a maximum of `maxPages` (lowered to
 * it when larger); a module that defines no memory is returned as it is. */
export function capMemory(bytes, maxPages) {
  const readU32 = (at) => {
    let value = 0;
    let shift = 0;
    let byte;
    do {
      byte = bytes[at++];
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return [value, at];
  };
  const u32 = (value) => {
    const out = [];
    do {
      let byte = value & 0x7f;
      value = Math.floor(value / 128);
      if (value) byte |= 0x80;
      out.push(byte);
    } while (value);
    return out;
  };
  let at = 8; // magic and version
  while (at < bytes.length) {
    const id = bytes[at];
    const [size, body] = readU32(at + 1);
    if (id === 5) {
      let [count, p] = readU32(body);
      if (count !== 1) throw new Error(`a core module with ${count} memories`);
      const flags = bytes[p++];
      if (flags > 1) throw new Error(`memory flags ${flags} (shared or 64-bit) not handled`);
      let min, max;
      [min, p] = readU32(p);
      if (flags === 1) [max, p] = readU32(p);
      if (min > maxPages) throw new Error(`the module needs ${min} pages, over the limit`);
      const limit = flags === 1 ? Math.min(max, maxPages) : maxPages;
      const section = [1, 0x01, ...u32(min), ...u32(limit)];
      return Buffer.concat([
        bytes.subarray(0, at),
        Buffer.from([5, ...u32(section.length), ...section]),
        bytes.subarray(body + size),
      ]);
    }
    at = body + size;
  }
  return bytes;
}

export class ProviderHost {
  /**
   * @param {object} o
   * @param {string} o.dir           the folder `jco transpile --instantiation async` wrote
   * @param {string} o.name          the component's name there (`nextcloud_provider`)
   * @param {{https:boolean,host:string,port:number}} o.origin  the one origin allowed
   * @param {{username:string,password:string} | null} o.credentials  added by the host
   * @param {number} [o.deadlineMs]  one call's deadline
   * @param {number} [o.memoryBytes] the component's linear memory, at most
   */
  constructor({ dir, name, origin, credentials, deadlineMs = 120_000, memoryBytes = 64 << 20 }) {
    Object.assign(this, { dir, name, origin, credentials, deadlineMs, memoryBytes });
    this.bindings = pathToFileURL(join(dir, `${name}.js`)).href;
    this.modules = null;
  }

  /** Compiles the core modules once; every call instantiates them anew. */
  async load() {
    const names = [];
    const source = await readFile(join(this.dir, `${this.name}.js`), "utf8");
    for (const [, file] of source.matchAll(/getCoreModule\('([^']+\.wasm)'\)/g)) names.push(file);
    if (names.length === 0) throw new Error(`no core modules named in ${this.name}.js`);
    const pages = Math.floor(this.memoryBytes / PAGE);
    this.modules = {};
    for (const file of names) {
      const bytes = capMemory(await readFile(join(this.dir, file)), pages);
      this.modules[file] = await WebAssembly.compile(bytes);
    }
    return this;
  }

  /** `validate`: no request is allowed during it, as in the Rust host. */
  validate(settings) {
    return this.#call("validate", [settings], { origin: null, credentials: null });
  }

  create(settings, room) {
    return this.#call("create", [settings, room]);
  }

  delete(settings, room, handle) {
    return this.#call("delete", [settings, room, handle]);
  }

  purge(settings, room) {
    return this.#call("purge", [settings, room]);
  }

  /** One call in a fresh worker and a fresh instance: `{kind: "ok"|"error"|"trap"|"timeout",
   * value, logs, ms}`. */
  #call(call, args, confinement = { origin: this.origin, credentials: this.credentials }) {
    const started = performance.now();
    return new Promise((resolve) => {
      const worker = new Worker(CALL, {
        workerData: { bindings: this.bindings, modules: this.modules, call, args, confinement },
        // The call's JavaScript heap (not the component's linear memory: see `capMemory`).
        resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 },
        stdout: false,
        stderr: false,
      });
      let settled = false;
      const settle = (outcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ logs: [], ...outcome, ms: Math.round(performance.now() - started) });
        // The instance goes with its worker (and the shim's I/O worker with it).
        worker.terminate();
      };
      const timer = setTimeout(
        () => settle({ kind: "timeout", value: `no answer within ${this.deadlineMs} ms` }),
        this.deadlineMs,
      );
      worker.once("message", settle);
      worker.once("error", (e) => settle({ kind: "trap", value: String(e?.stack ?? e) }));
      worker.once("exit", (code) => settle({ kind: "trap", value: `worker exited (${code})` }));
    });
  }
}
