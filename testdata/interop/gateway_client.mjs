// gateway_client.mjs drives metamcp's gateway mode with the official MCP
// TypeScript SDK client, which declares sampling, elicitation and roots and
// answers them, against server-everything as a child (a configured template
// named "everything").
//
//   METAMCP_BIN=/path/to/metamcp CONFIG=/path/to/config.json CAPS=all|no-sampling node gateway_client.mjs
//
// CAPS=all: every capability declared; the child's tools are called by their
// gateway names (ev__<tool>): echo, a long-running operation with progress
// under the client's own tokens, sampling and elicitation answered by this
// client's handlers, the roots listing, logging/setLevel and log messages
// under the server's name.
// CAPS=no-sampling: elicitation and roots declared, sampling not: the
// sampling tool fails saying the client did not declare it, and the
// session goes on.
//
// On success it prints one line of JSON (a summary) and exits 0; on any
// failure "gateway_client: FAIL: <why>" on stderr and exit 1.
// cmd/metamcp/gateway_interop_test.go runs it.

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import {
  CallToolResultSchema,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { Failure, check, env, fail } from "./check.mjs";

const SERVER = "ev"; // the child's name, the prefix of its gateway tools
const CANNED = { role: "assistant", content: { type: "text", text: "canned-reply-42" }, model: "interop-canned-model", stopReason: "endTurn" };
const ROOTS = [{ uri: "file:///tmp", name: "tmp" }];
const ELICITED = { name: "Ada Lovelace", check: true };
const VALID_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

// Events is a log of things seen, with waiters: wait(pred, what, ms)
// resolves with the first entry (past or future) for which pred holds, or
// fails after ms.
class Events {
  constructor() {
    this.items = [];
    this.waiters = [];
  }
  push(x) {
    this.items.push(x);
    for (const w of [...this.waiters]) {
      if (w.pred(x)) w.resolve(x);
    }
  }
  count(pred) {
    return this.items.filter(pred).length;
  }
  wait(pred, what, ms = 10_000) {
    const hit = this.items.find(pred);
    if (hit !== undefined) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const w = { pred };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Failure(`no ${what} within ${ms} ms`));
      }, ms);
      w.resolve = (x) => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((y) => y !== w);
        resolve(x);
      };
      this.waiters.push(w);
    });
  }
}

function text(res) {
  return (res.content ?? [])
    .filter((c) => c.type === "text")
    .map((c) => c.text)
    .join("\n");
}

// meta calls one of metamcp's own tools and returns its structuredContent.
async function meta(client, name, args) {
  const res = await client.callTool({ name, arguments: args });
  check(!res.isError, `${name}(${JSON.stringify(args)}): isError`, res);
  return res.structuredContent;
}

async function main() {
  const bin = env("METAMCP_BIN");
  const config = env("CONFIG");
  const mode = env("CAPS");
  check(mode === "all" || mode === "no-sampling", "CAPS must be all or no-sampling", mode);
  const sampling = mode === "all";

  const transport = new StdioClientTransport({
    command: bin,
    args: ["serve", "--config", config],
    env: { ...process.env },
    stderr: "pipe",
  });
  const stderr = [];
  transport.stderr?.on("data", (chunk) => stderr.push(chunk.toString()));

  const capabilities = { elicitation: {}, roots: { listChanged: true } };
  if (sampling) capabilities.sampling = {};
  const client = new Client({ name: "metamcp-gateway-interop", version: "1.0.0" }, { capabilities });

  // What this client's handlers were asked, and what arrived.
  const asked = new Events(); // {method, params}
  const logs = new Events(); // notifications/message params
  const listChanged = new Events();
  const wire = { in: new Events(), out: new Events() }; // raw JSON-RPC messages
  const errors = [];
  client.onerror = (e) => errors.push(String(e?.message ?? e));

  if (sampling) {
    client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
      asked.push({ method: req.method, params: req.params });
      return CANNED;
    });
  }
  client.setRequestHandler(ElicitRequestSchema, async (req) => {
    asked.push({ method: req.method, params: req.params });
    return { action: "accept", content: ELICITED };
  });
  // The n-th roots/list gets n roots (file:///tmp first), so that the
  // child's "Roots updated: n root(s)" log message tells the fetches apart.
  client.setRequestHandler(ListRootsRequestSchema, async (req) => {
    asked.push({ method: req.method, params: req.params });
    const n = asked.count((a) => a.method === "roots/list");
    return { roots: [...ROOTS, ...Array.from({ length: n - 1 }, (_, i) => ({ uri: `file:///tmp/extra-${i + 1}` }))] };
  });
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => logs.push(n.params));
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => listChanged.push(Date.now()));

  const timer = setTimeout(() => {
    console.error("gateway_client: FAIL: scenario did not finish in 55s\n" + stderr.join(""));
    process.exit(1);
  }, 55_000);
  timer.unref();

  const t0 = Date.now();
  const steps = {};
  const step = (name, since) => (steps[name] = Date.now() - since);
  let proc;
  let childPid;
  try {
    await client.connect(transport);
    proc = transport._process;
    check(proc && typeof proc.pid === "number", "cannot see metamcp's process in StdioClientTransport (SDK internals changed?)");
    // A tap on the raw messages both ways (Protocol looks both up on each use).
    const onmessage = transport.onmessage;
    transport.onmessage = (m, extra) => {
      wire.in.push(m);
      onmessage.call(transport, m, extra);
    };
    const send = transport.send.bind(transport);
    transport.send = (m, opts) => {
      wire.out.push(m);
      return send(m, opts);
    };
    check(client.getServerVersion()?.name === "metamcp", "initialize: serverInfo.name", client.getServerVersion());

    // create_server, then the child's tools under their gateway names.
    let since = Date.now();
    const created = await meta(client, "create_server", { name: SERVER, template: "everything" });
    check(created.status === "created and running", "create_server: status", created);
    childPid = created.pid;
    await listChanged.wait(() => true, "notifications/tools/list_changed after create_server");
    const want = ["echo", "trigger-long-running-operation", "trigger-sampling-request", "trigger-elicitation-request", "get-roots-list", "toggle-simulated-logging"].map(
      (t) => `${SERVER}__${t}`,
    );
    let tools;
    for (let seen = 0; ; seen++) {
      // The child registers its capability-dependent tools after
      // initialize and says so with list_changed; wait for it.
      tools = (await client.listTools()).tools;
      const names = tools.map((t) => t.name);
      if (want.every((w) => names.includes(w))) break;
      await listChanged.wait(() => listChanged.items.length > seen + 1, `list_changed listing ${want} (have ${names})`);
    }
    for (const t of tools) check(VALID_NAME.test(t.name), `tools/list: name not valid for clients`, t.name);
    const echoDef = tools.find((t) => t.name === `${SERVER}__echo`);
    check(echoDef.inputSchema?.properties?.message, `${SERVER}__echo: the child's inputSchema`, echoDef);
    step("create_and_list", since);

    // echo
    since = Date.now();
    const echo = await client.callTool({ name: `${SERVER}__echo`, arguments: { message: "hello through the gateway" } });
    check(!echo.isError && text(echo).includes("hello through the gateway"), `${SERVER}__echo`, echo);
    step("echo", since);

    // Progress under the client's own token: the SDK's (the request id, a
    // number) with onprogress, then a string token of our own.
    since = Date.now();
    const progress = [];
    const long = await client.callTool(
      { name: `${SERVER}__trigger-long-running-operation`, arguments: { duration: 1, steps: 4 } },
      undefined,
      { onprogress: (p) => progress.push(p) },
    );
    check(!long.isError && text(long).includes("completed"), "long-running operation", long);
    const longReq = wire.out.items.find((m) => m.method === "tools/call" && m.params?.name === `${SERVER}__trigger-long-running-operation`);
    const sdkToken = longReq?.params?._meta?.progressToken;
    check(sdkToken !== undefined, "the SDK sent no progressToken", longReq);
    // On the wire: all four, under the SDK's token, before the answer.
    const upTo = wire.in.items.findIndex((m) => m.id === longReq.id && m.result);
    const sdkProgress = wire.in.items.slice(0, upTo).filter((m) => m.method === "notifications/progress" && m.params.progressToken === sdkToken);
    check(
      sdkProgress.length === 4 && sdkProgress.every((m, i) => m.params.progress === i + 1 && m.params.total === 4),
      `notifications/progress 1..4 of 4 under the SDK's token ${JSON.stringify(sdkToken)} before the answer`,
      wire.in.items.filter((m) => m.method === "notifications/progress" || m.id === longReq.id),
    );
    // Through the SDK's onprogress: the same, except that the SDK drops
    // progress read in the same chunk as the response (it handles
    // notifications a microtask later than responses:
    // modelcontextprotocol/typescript-sdk#2580), so the last may be missing.
    check(
      progress.length >= 1 && progress.every((p, i) => p.progress === i + 1 && p.total === 4),
      "progress via the SDK's onprogress: want 1..k of 4",
      progress,
    );
    const ownToken = "client-token-ü-7";
    const own = await client.request(
      { method: "tools/call", params: { name: `${SERVER}__trigger-long-running-operation`, arguments: { duration: 0.4, steps: 2 }, _meta: { progressToken: ownToken } } },
      CallToolResultSchema,
    );
    check(!own.isError, "long-running operation with our own token", own);
    const allProgress = wire.in.items.filter((m) => m.method === "notifications/progress");
    const ownProgress = allProgress.filter((m) => m.params.progressToken === ownToken);
    check(ownProgress.length === 2, `notifications/progress under our own token ${ownToken}`, allProgress);
    check(allProgress.length === 6, "every progress notification carries a token of the client's", allProgress);
    step("progress", since);

    // Sampling: the child asks, this client answers, the child returns it.
    since = Date.now();
    const samp = await client.callTool({ name: `${SERVER}__trigger-sampling-request`, arguments: { prompt: "What is six times seven?", maxTokens: 20 } });
    let samplingRefusal = null;
    if (sampling) {
      check(!samp.isError && text(samp).includes("canned-reply-42") && text(samp).includes("interop-canned-model"), "sampling: the child did not return our canned reply", samp);
      const q = asked.items.find((a) => a.method === "sampling/createMessage");
      check(q && JSON.stringify(q.params.messages).includes("What is six times seven?"), "sampling: the request that reached us", q);
    } else {
      samplingRefusal = text(samp);
      check(samp.isError && /did not declare/.test(samplingRefusal) && samplingRefusal.includes("sampling"), "sampling without the capability: want a tool error saying the client did not declare it", samp);
      check(asked.count((a) => a.method === "sampling/createMessage") === 0, "sampling request reached a client that did not declare it");
      const after = await client.callTool({ name: `${SERVER}__echo`, arguments: { message: "still here" } });
      check(!after.isError && text(after).includes("still here"), "echo after the refused sampling", after);
    }
    step("sampling", since);

    // Elicitation, accepted with content.
    since = Date.now();
    const eli = await client.callTool({ name: `${SERVER}__trigger-elicitation-request`, arguments: {} });
    check(!eli.isError && text(eli).includes("- Name: Ada Lovelace") && text(eli).includes("Agreed to terms: true"), "elicitation: our accepted content did not come back", eli);
    check(asked.count((a) => a.method === "elicitation/create") === 1, "elicitation: requests that reached us", asked.items);
    step("elicitation", since);

    // Roots: the child asked for them when it started (it does so on its
    // own), and lists ours.
    since = Date.now();
    await asked.wait((a) => a.method === "roots/list", "roots/list from the child");
    const roots = await client.callTool({ name: `${SERVER}__get-roots-list`, arguments: {} });
    check(!roots.isError && text(roots).includes("URI: file:///tmp"), "get-roots-list: our roots", roots);
    step("roots", since);

    // Logging. The child logs "Roots updated: n root(s)…" (info, logger
    // everything-server) each time it fetches roots: fetch 1 at start-up.
    since = Date.now();
    const rootsLog = (n) => (p) => String(p.data).startsWith(`Roots updated: ${n} root(s)`);
    const first = await logs.wait(rootsLog(1), "the child's log message after it fetched roots");
    check(first.logger === `${SERVER}/everything-server`, "notifications/message: logger want <server>/<child's logger>", first);
    check(asked.count((a) => a.method === "roots/list") === 1, "roots/list: one fetch so far", asked.items);
    // Level warning: fetch 2's info message is not sent; level debug:
    // fetch 3's is. The child sends them in order, so once 3's is here, 2's
    // would be too.
    await client.setLoggingLevel("warning");
    await client.sendRootsListChanged();
    await asked.wait(() => asked.count((a) => a.method === "roots/list") === 2, "roots/list after notifications/roots/list_changed (level warning)");
    // Our answer to it is written before this echo, so the child has
    // weighed its message against the level before the next setLevel.
    const rootsAnswered = () => wire.out.count((m) => m.result?.roots !== undefined);
    await wire.out.wait(() => rootsAnswered() >= 2, "our answer to roots/list sent");
    await client.callTool({ name: `${SERVER}__echo`, arguments: { message: "barrier" } });
    await client.setLoggingLevel("debug");
    await client.sendRootsListChanged();
    await logs.wait(rootsLog(3), "the child's info message at level debug (fetch 3)");
    check(logs.count(rootsLog(2)) === 0, "an info message came through at level warning: logging/setLevel did not reach the child", logs.items);
    // A tool that logs, at any level: under the server's name.
    const before = logs.items.length;
    const toggled = await client.callTool({ name: `${SERVER}__toggle-simulated-logging`, arguments: {} });
    check(!toggled.isError && text(toggled).includes("Started"), "toggle-simulated-logging", toggled);
    const simulated = await logs.wait((p) => logs.items.indexOf(p) >= before && /level[- ]message/i.test(String(p.data)), "a simulated log message");
    check(simulated.logger === SERVER || simulated.logger?.startsWith(`${SERVER}/`), "simulated log message: logger want the server's name", simulated);
    await client.callTool({ name: `${SERVER}__toggle-simulated-logging`, arguments: {} });
    for (const p of logs.items) check(p.logger === SERVER || p.logger?.startsWith(`${SERVER}/`), "a log message not under the server's name", p);
    step("logging", since);

    // The SDK routes progress by its own numeric tokens only: ours (a
    // string) it reports as unknown, and so it may its own last one (see
    // above); any other token is a stray.
    const known = [ownToken, sdkToken].map((tok) => `"progressToken":${JSON.stringify(tok)}`);
    const stray = errors.filter((e) => /progress/i.test(e) && !known.some((k) => e.includes(k + ",") || e.includes(k + "}")));
    check(stray.length === 0, "the SDK saw progress it could not route", stray);

    const stopped = await meta(client, "stop_all_servers", {});
    check(stopped.total_stopped === 1 && stopped.total_errors === 0, "stop_all_servers", stopped);

    const c0 = Date.now();
    await client.close();
    if (proc.exitCode === null && proc.signalCode === null) {
      await new Promise((resolve) => proc.once("exit", resolve));
    }
    check(!proc.killed && proc.exitCode === 0 && proc.signalCode === null, "metamcp exit after stdin close: want code 0, unsignalled", {
      code: proc.exitCode,
      signal: proc.signalCode,
      killed: proc.killed,
    });

    console.log(
      JSON.stringify({
        ok: true,
        caps: mode,
        metamcp_pid: proc.pid,
        child_pids: [childPid],
        gateway_tools: tools.filter((t) => t.name.startsWith(`${SERVER}__`)).length,
        progress_tokens: [sdkToken, ownToken],
        sampling_refusal: samplingRefusal,
        log_messages: logs.items.length,
        steps_ms: steps,
        close_ms: Date.now() - c0,
        total_ms: Date.now() - t0,
      }),
    );
  } catch (e) {
    await fail("gateway_client", e, client, stderr, childPid ? `child pid ${childPid}` : "");
  }
}

await main();
