// The official MCP TypeScript SDK as the client of `igniter-ledger mcp`
// over stdio: connect (initialize + notifications/initialized), list the
// tools, call them, and print what came back as JSON for
// spec/igniter/store/mcp/stdio_sdk_spec.rb to check.
//
// Input (environment): MCP_COMMAND and MCP_ARGS (JSON array) start the
// server; MCP_ENV (JSON object) is its environment.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const transport = new StdioClientTransport({
  command: process.env.MCP_COMMAND, args: JSON.parse(process.env.MCP_ARGS),
  env: JSON.parse(process.env.MCP_ENV), stderr: "pipe"
});
let stderr = "";
transport.stderr?.on("data", (chunk) => { stderr += chunk; });
const client = new Client({ name: "igniter-ledger-spec", version: "1.0.0" });
const result = {};
const text = (reply) => reply.content.map((c) => c.text).join("");

try {
  await client.connect(transport);
  result.server = client.getServerVersion();
  result.capabilities = client.getServerCapabilities();
  result.instructions = client.getInstructions();
  const listed = (await client.listTools()).tools;
  result.tools = listed.map((t) => ({ name: t.name, required: t.inputSchema.required || [] }));
  result.schemas = Object.fromEntries(listed.filter((t) => ["read", "history"].includes(t.name))
    .map((t) => [t.name, Object.keys(t.inputSchema.properties)]));

  const write = async (key, value) => client.callTool({ name: "write", arguments: { store: "tasks", key, value } });
  const first = await write("t1", { title: "Ship", status: "open" });
  result.write = { isError: first.isError, structured: first.structuredContent };
  await write("t1", { title: "Ship", status: "done" });
  await write("t2", { title: "Later", status: "open" });

  const read = await client.callTool({ name: "read", arguments: { store: "tasks", key: "t1" } });
  result.read = { isError: read.isError, value: JSON.parse(text(read)) };
  const history = await client.callTool({ name: "history", arguments: { store: "tasks", key: "t1" } });
  result.history = history.structuredContent;
  const query = await client.callTool({ name: "query", arguments: { store: "tasks", where: { status: "open" }, limit: 10 } });
  result.query = JSON.parse(text(query));
  const stats = await client.callTool({ name: "stats", arguments: {} });
  result.stats = stats.structuredContent;
  const chain = await client.callTool({ name: "causation_chain", arguments: { store: "tasks", key: "t1" } });
  result.chain = chain.structuredContent;

  // Bitemporal reads (doc/bitemporal.md): values written with valid times,
  // one back-dated, read by valid_at and listed by valid_from/valid_to, in
  // seconds or ISO-8601 as the HTTP API takes them.
  const price = async (value, validTime) =>
    client.callTool({ name: "write", arguments: { store: "prices", key: "p1", value, valid_time: validTime } });
  await price("a", 1767225600); // 2026-01-01
  await price("b", 1772323200); // 2026-03-01
  await price("c", 1769904000); // 2026-02-01, recorded last (back-dated)
  const readAt = async (validAt) => {
    const reply = await client.callTool({ name: "read", arguments: { store: "prices", key: "p1", valid_at: validAt } });
    return reply.isError ? { isError: true, text: text(reply) } : JSON.parse(text(reply));
  };
  result.validAt = {
    feb15: await readAt("2026-02-15T00:00:00Z"), jan2: await readAt(1767312000), before: await readAt("2025-12-31"),
    now: await readAt(1893456000), plain: JSON.parse(text(await client.callTool({ name: "read", arguments: { store: "prices", key: "p1" } }))),
    bad: await readAt("soon")
  };
  const validHistory = await client.callTool({
    name: "history", arguments: { store: "prices", key: "p1", valid_from: "2026-01-15", valid_to: 1773532800 } // ..2026-03-15
  });
  result.validHistory = validHistory.structuredContent;

  // A tool error is a result the model can read, not a failure of the call.
  const missing = await client.callTool({ name: "read", arguments: { store: "tasks" } });
  result.missingArgument = { isError: missing.isError, text: text(missing) };
  // An unknown tool is a protocol error (JSON-RPC -32602).
  try {
    await client.callTool({ name: "drop_everything", arguments: {} });
    result.unknownTool = "no error";
  } catch (error) {
    result.unknownTool = { code: error.code, message: error.message };
  }
  await client.ping();
  result.ping = true;
} catch (error) {
  result.error = String(error && error.stack || error);
} finally {
  await client.close();
  result.stderr = stderr;
}
process.stdout.write(JSON.stringify(result));
