// sdk_client.mjs drives metamcp with the official MCP TypeScript SDK
// (Client + StdioClientTransport), as a third-party AI client would.
//
//   METAMCP_BIN=/path/to/metamcp CONFIG=/path/to/config.json node sdk_client.mjs
//
// It spawns `$METAMCP_BIN serve --config $CONFIG`, runs one scenario through
// metamcp's tools and checks every answer. On success it prints one line of
// JSON (a summary, see the end of main) and exits 0; on any failure it prints
// "sdk_client: FAIL: <why>" on stderr and exits 1. cmd/metamcp/interop_test.go
// runs it.

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { isDeepStrictEqual } from "node:util";
import { Failure, check, env, fail } from "./check.mjs";

const EXPECTED_TOOLS = [
  "create_server",
  "execute_on_server",
  "get_event_history",
  "get_or_create_pooled_server",
  "get_server_capabilities",
  "get_supervision_tree",
  "health_check",
  "health_check_all",
  "list_servers",
  "orchestrate_task",
  "restart_server",
  "stop_all_servers",
  "stop_server",
];

// call runs one tool and checks metamcp's result contract: the text content
// is JSON equal to structuredContent, and isError is what we expect.
async function call(client, name, args, wantError = false) {
  const res = await client.callTool({ name, arguments: args });
  const where = `${name}(${JSON.stringify(args)})`;
  check(Array.isArray(res.content) && res.content.length === 1, `${where}: want exactly one content item`, res.content);
  const item = res.content[0];
  check(item.type === "text", `${where}: content[0].type want "text"`, item.type);
  let parsed;
  try {
    parsed = JSON.parse(item.text);
  } catch (e) {
    throw new Failure(`${where}: text content is not JSON: ${e.message}: ${item.text}`);
  }
  check(res.structuredContent !== undefined, `${where}: no structuredContent`, res);
  check(
    isDeepStrictEqual(res.structuredContent, parsed),
    `${where}: structuredContent differs from JSON.parse(text): ${JSON.stringify(res.structuredContent)} vs`,
    parsed,
  );
  check(Boolean(res.isError) === wantError, `${where}: isError want ${wantError}`, res.isError);
  return res.structuredContent;
}

async function main() {
  const bin = env("METAMCP_BIN");
  const config = env("CONFIG");

  const transport = new StdioClientTransport({
    command: bin,
    args: ["serve", "--config", config],
    env: { ...process.env },
    stderr: "pipe",
  });
  // metamcp's log (stderr) is kept and shown on failure only.
  const stderr = [];
  transport.stderr?.on("data", (chunk) => stderr.push(chunk.toString()));
  // The stdio transport has no use for the negotiated version; Client hands
  // it to transports that define this hook, so we learn what metamcp answered.
  let protocolVersion = null;
  transport.setProtocolVersion = (v) => {
    protocolVersion = v;
  };

  const client = new Client({ name: "metamcp-interop-sdk", version: "1.0.0" });
  const timer = setTimeout(() => {
    console.error("sdk_client: FAIL: scenario did not finish in 60s\n" + stderr.join(""));
    process.exit(1);
  }, 60_000);
  timer.unref();

  let proc;
  try {
    await client.connect(transport);
    // The SDK keeps the child process private; we need it to see how
    // metamcp exits when its stdin is closed.
    proc = transport._process;
    check(proc && typeof proc.pid === "number", "cannot see metamcp's process in StdioClientTransport (SDK internals changed?)");

    const info = client.getServerVersion();
    check(info && info.name === "metamcp", 'initialize: serverInfo.name want "metamcp"', info);
    check(typeof protocolVersion === "string" && protocolVersion !== "", "initialize: no protocol version negotiated", protocolVersion);
    const caps = client.getServerCapabilities();
    check(caps && caps.tools, "initialize: server capabilities lack tools", caps);

    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name).sort();
    check(isDeepStrictEqual(names, EXPECTED_TOOLS), `tools/list: want ${JSON.stringify(EXPECTED_TOOLS)}`, names);
    for (const t of tools) {
      check(t.inputSchema && t.inputSchema.type === "object", `tools/list: ${t.name} has no object inputSchema`, t.inputSchema);
    }

    const created = await call(client, "create_server", { name: "calc", template: "basic_calculator" });
    check(created.status === "created and running", "create_server: status", created.status);
    check(typeof created.server_id === "string" && created.server_id !== "", "create_server: server_id", created.server_id);
    check(Number.isInteger(created.pid) && created.pid > 0, "create_server: pid", created.pid);
    check(Array.isArray(created.tools) && created.tools.includes("add"), "create_server: tools should include add", created.tools);

    const exec = await call(client, "execute_on_server", {
      server_id: created.server_id,
      tool_name: "add",
      arguments: { a: 15, b: 27 },
    });
    check(exec.status === "success", "execute_on_server add: status", exec.status);
    check(exec.result?.structuredContent?.result === 42, "execute_on_server add: result.structuredContent.result want 42", exec.result);

    const list = await call(client, "list_servers", {});
    check(list.total === 1, "list_servers: total want 1", list.total);
    check(list.servers[0].server_id === created.server_id, "list_servers: server_id", list.servers[0]);
    check(list.servers[0].status === "running", "list_servers: status", list.servers[0].status);

    const nope = await call(client, "execute_on_server", { server_id: "nope", tool_name: "add", arguments: {} }, true);
    check(nope.status === "error", "execute_on_server nope: status want error", nope);
    check(typeof nope.error === "string" && nope.error.length > 0, "execute_on_server nope: error message", nope);

    const stopped = await call(client, "stop_all_servers", {});
    check(stopped.total_stopped === 1 && stopped.total_errors === 0, "stop_all_servers: want 1 stopped, 0 errors", stopped);
    check(isDeepStrictEqual(stopped.stopped, [created.server_id]), "stop_all_servers: stopped", stopped.stopped);

    const after = await call(client, "list_servers", {});
    check(after.total === 0, "list_servers after stop_all_servers: total want 0", after.total);

    // Closing the transport ends metamcp's stdin; the SDK waits 2 s before
    // it resorts to SIGTERM. metamcp must exit 0 by itself, unsignalled.
    const t0 = Date.now();
    await client.close();
    if (proc.exitCode === null && proc.signalCode === null) {
      await new Promise((resolve) => proc.once("exit", resolve));
    }
    const closeMS = Date.now() - t0;
    check(!proc.killed, `metamcp did not exit within 2 s of stdin close; the SDK had to signal it (after ${closeMS} ms)`);
    check(proc.exitCode === 0 && proc.signalCode === null, "metamcp exit after stdin close: want code 0", {
      code: proc.exitCode,
      signal: proc.signalCode,
    });

    console.log(
      JSON.stringify({
        ok: true,
        sdk_client: "@modelcontextprotocol/sdk",
        server_info: info,
        protocol_version: protocolVersion,
        tools: names.length,
        metamcp_pid: proc.pid,
        child_pids: [created.pid],
        exit_code: proc.exitCode,
        close_ms: closeMS,
      }),
    );
  } catch (e) {
    await fail("sdk_client", e, client, stderr);
  }
}

await main();
