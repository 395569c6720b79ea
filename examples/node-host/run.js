#!/usr/bin/env node
// The worked example of a host of the provider components that is not the Rust one.
//
//   node run.js --config storage.toml [--components build] [--room ROOM]
//               [--deadline-ms 120000] [--memory-mib 64]
//
// Reads `[shared_folder]` (url, username, password, provider, directory, expiry — the file the
// Rust host reads), then: checks the host's own confinement, `validate`s the settings,
// `create`s a room's folder, uses both links as a participant's WebDAV client would, `delete`s
// the folder and checks that both links are dead. Prints a table; exits 1 when a row failed,
// 2 on a usage or configuration error.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { http } from "@bytecodealliance/preview2-shim";
import { basic, confinedOutgoingHandler, forbidCredentialHeaders, originOf } from "./outbound.js";
import { ProviderHost } from "./provider.js";

// ---------------------------------------------------------------------------------------------
// Configuration

/** `[shared_folder]` of a TOML file: the flat subset its fields use (strings, integers,
 * floats, booleans, comments). */
function sharedFolderTable(text) {
  const table = {};
  let inside = false;
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.replace(/\s+#[^"']*$/, "").trim();
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith("[")) {
      inside = line === "[shared_folder]";
      continue;
    }
    if (!inside) continue;
    const match = /^([A-Za-z0-9_-]+)\s*=\s*(.+)$/.exec(line);
    // The line number only: the line may hold a password.
    if (!match) throw new Error(`cannot read line ${index + 1} of [shared_folder]`);
    const [, key, value] = match;
    if (/^".*"$/.test(value)) table[key] = JSON.parse(value);
    else if (/^'.*'$/.test(value)) table[key] = value.slice(1, -1);
    else if (value === "true" || value === "false") table[key] = value === "true";
    else if (/^[+-]?\d+$/.test(value)) table[key] = BigInt(value);
    else if (/^[+-]?\d+\.\d+$/.test(value)) table[key] = Number(value);
    else throw new Error(`cannot read the value of ${key}`);
  }
  return table;
}

/** `url` in the canonical form the contract promises (`wit/provider.wit`, `settings`). */
function canonicalUrl(url) {
  const parsed = new URL(url);
  if (parsed.username || parsed.password || parsed.search || parsed.hash) {
    throw new Error("url: no credentials, query or fragment");
  }
  return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, "")}/`;
}

/** The component's settings: `[shared_folder]` minus `provider` and every credential. */
function settingsOf(table) {
  const withheld = new Set(["provider", "password", "auth", "token_file", "token_env"]);
  return Object.entries(table)
    .filter(([name]) => !withheld.has(name))
    .map(([name, value]) => {
      if (name === "url") return { name, value: { tag: "text", val: canonicalUrl(value) } };
      if (typeof value === "string") return { name, value: { tag: "text", val: value } };
      if (typeof value === "bigint") return { name, value: { tag: "integer", val: value } };
      if (typeof value === "boolean") return { name, value: { tag: "boolean", val: value } };
      return { name, value: { tag: "float", val: value } };
    });
}

// ---------------------------------------------------------------------------------------------
// Using a link as a participant would (host/src/public_links.rs)

/** The URL of `file` in the folder the link opens, and the Basic user that goes with its
 * password: NextCloud's and ownCloud's `/public.php/webdav/` with the token as user, or
 * OpenCloud's `/remote.php/dav/public-files/<token>/` as `public`. */
function publicDav(provider, shareUrl, file) {
  const trimmed = shareUrl.replace(/\/+$/, "");
  const at = trimmed.lastIndexOf("/s/");
  const token = trimmed.slice(at + 3);
  if (at < 0 || token === "" || token.includes("/")) throw new Error(`not a share link: ${shareUrl}`);
  const base = trimmed.slice(0, at).replace(/\/index\.php$/, "");
  return provider === "opencloud"
    ? { url: `${base}/remote.php/dav/public-files/${token}/${file}`, user: "public" }
    : { url: `${base}/public.php/webdav/${file}`, user: token };
}

async function useLink(provider, share, method, file, body, password = share.password) {
  const { url, user } = publicDav(provider, share.url, file);
  const response = await fetch(url, {
    method,
    body,
    headers: { authorization: basic(user, password) },
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, text: await response.text() };
}

// ---------------------------------------------------------------------------------------------
// The run

const rows = [];
function row(step, expected, got, ok) {
  rows.push({ step, expected, got, ok });
}

function describe(outcome) {
  if (outcome.kind === "ok") return "ok";
  const value = outcome.value;
  if (outcome.kind === "error" && value && typeof value === "object") {
    const payload = value.val && typeof value.val === "object" ? JSON.stringify(value.val) : value.val;
    return value.tag ? `${value.tag}: ${payload}` : JSON.stringify(value);
  }
  return `${outcome.kind}: ${String(value).split("\n")[0]}`;
}

function printTable(title) {
  const header = ["step", "expected", "got", ""];
  const lines = rows.map((r) => [r.step, r.expected, r.got, r.ok ? "✓" : "✗"]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const format = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  console.log(`\n${title}\n`);
  console.log(format(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const line of lines) console.log(format(line));
}

/** The host's own confinement, checked without a component: what a component would get for a
 * request elsewhere, or for setting the credentials' headers itself. */
function checkConfinement(origin) {
  forbidCredentialHeaders();
  const { Fields, OutgoingRequest } = http.types;
  const handler = confinedOutgoingHandler({ origin, authorization: basic("u", "p") });
  const elsewhere = [
    [origin.https ? "HTTP" : "HTTPS", origin.host, origin.port],
    [origin.https ? "HTTPS" : "HTTP", origin.host, origin.port + 1],
    [origin.https ? "HTTPS" : "HTTP", "example.org", origin.port],
  ];
  for (const [scheme, host, port] of elsewhere) {
    const request = new OutgoingRequest(new Fields());
    request.setScheme({ tag: scheme });
    request.setAuthority(`${host}:${port}`);
    request.setPathWithQuery("/");
    let got;
    try {
      handler.handle(request);
      got = "sent";
    } catch (e) {
      got = e?.tag ?? String(e);
    }
    const where = `${scheme.toLowerCase()}://${host}:${port}`;
    row(`host: a request to ${where}`, "HTTP-request-denied", got, got === "HTTP-request-denied");
  }
  for (const name of ["Authorization", "Cookie"]) {
    let got;
    try {
      new Fields().append(name, new TextEncoder().encode("x"));
      got = "accepted";
    } catch (e) {
      got = e?.tag ?? String(e);
    }
    row(`host: a component sets ${name}`, "forbidden", got, got === "forbidden");
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      config: { type: "string" },
      components: { type: "string", default: new URL("./build", import.meta.url).pathname },
      room: { type: "string", default: `node-host-${Date.now().toString(36)}` },
      "deadline-ms": { type: "string", default: "120000" },
      "memory-mib": { type: "string", default: "64" },
    },
  });
  if (!values.config) {
    console.error("usage: node run.js --config FILE [--components DIR] [--room ROOM]");
    return 2;
  }
  let table, settings, origin, provider, component;
  try {
    table = sharedFolderTable(await readFile(values.config, "utf8"));
    for (const field of ["provider", "url", "username", "password"]) {
      if (typeof table[field] !== "string") throw new Error(`[shared_folder].${field} is missing`);
    }
    provider = table.provider;
    component = { nextcloud: "nextcloud", owncloud: "nextcloud", opencloud: "opencloud" }[provider];
    if (!component) throw new Error(`provider ${JSON.stringify(provider)} is not built in`);
    settings = settingsOf(table);
    origin = originOf(canonicalUrl(table.url));
  } catch (e) {
    console.error(`error: ${values.config}: ${e.message}`);
    return 2;
  }

  const host = await new ProviderHost({
    dir: join(values.components, component),
    name: `${component}_provider`,
    origin,
    credentials: { username: table.username, password: table.password },
    deadlineMs: Number(values["deadline-ms"]),
    memoryBytes: Number(values["memory-mib"]) << 20,
  }).load();
  const room = values.room;

  checkConfinement(origin);

  const validated = await host.validate(settings);
  row("validate", "ok", describe(validated), validated.kind === "ok");

  const created = await host.create(settings, room);
  row(`create ${room}`, "ok", `${describe(created)} (${created.ms} ms)`, created.kind === "ok");
  for (const line of created.logs ?? []) console.error(`host: ${line}`);
  if (created.kind !== "ok") return finish(provider);
  const folder = created.value;

  const content = `notes of ${room}\n`;
  const attempts = [
    ["read-write link: upload notes.txt", folder.readWrite, "PUT", content, undefined, [201, 204]],
    ["read-only link: read notes.txt", folder.read, "GET", undefined, undefined, [200]],
    ["read-only link: upload notes.txt", folder.read, "PUT", "x", undefined, [403]],
    ["read-only link: wrong password", folder.read, "GET", undefined, "wrong-Passw0rd!", [401]],
    ["read-write link: wrong password", folder.readWrite, "PUT", "x", "wrong-Passw0rd!", [401]],
  ];
  for (const [step, share, method, body, password, expected] of attempts) {
    try {
      const answer = await useLink(provider, share, method, "notes.txt", body, password);
      let ok = expected.includes(answer.status);
      let got = `HTTP ${answer.status}`;
      if (ok && method === "GET" && password === undefined && answer.text !== content) {
        ok = false;
        got += " (other content)";
      }
      row(step, `HTTP ${expected.join("/")}`, got, ok);
    } catch (e) {
      row(step, `HTTP ${expected.join("/")}`, `failed: ${e.message}`, false);
    }
  }

  const deleted = await host.delete(settings, room, folder.handle);
  row(`delete ${room}`, "ok", `${describe(deleted)} (${deleted.ms} ms)`, deleted.kind === "ok");
  for (const line of deleted.logs ?? []) console.error(`host: ${line}`);

  // Dead: the link's folder no longer opens with its password (any answer but a success).
  for (const [step, share] of [
    ["read-write link after delete", folder.readWrite],
    ["read-only link after delete", folder.read],
  ]) {
    try {
      const answer = await useLink(provider, share, "GET", "notes.txt");
      const dead = answer.status >= 400;
      row(step, "dead (HTTP 4xx)", `HTTP ${answer.status}`, dead);
    } catch (e) {
      row(step, "dead (HTTP 4xx)", `failed: ${e.message}`, false);
    }
  }

  const again = await host.delete(settings, room, folder.handle);
  row("delete again (nothing left)", "ok", describe(again), again.kind === "ok");
  return finish(provider);

  function finish(name) {
    printTable(`Node.js host (jco ${jcoVersion}), provider ${name}, ${canonicalUrl(table.url)}`);
    const failed = rows.filter((r) => !r.ok).length;
    console.log(failed ? `\n${failed} of ${rows.length} failed` : `\nall ${rows.length} as expected`);
    return failed ? 1 : 0;
  }
}

const jcoVersion = JSON.parse(
  await readFile(new URL("./node_modules/@bytecodealliance/jco/package.json", import.meta.url)),
).version;

process.exitCode = await main();
