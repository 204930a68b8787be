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
  result.tools = (await client.listTools()).tools.map((t) => ({ name: t.name, required: t.inputSchema.required || [] }));

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
