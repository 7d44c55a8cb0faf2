// Starts the real ghl-debugger binary for the end-to-end test: `serve` on a free loopback port with
// a new SQLite database, then reads the address from its "listening" log line and the admin key
// from its first-start banner, as an operator would.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** A running ghl-debugger serve. */
export interface Server {
  baseUrl: string;
  adminKey: string;
  stop(): Promise<void>;
}

const startTimeoutMs = 60_000;

/** binaryPath is $GHLD_BIN, or bin/ghl-debugger at the repository's root. */
export function binaryPath(): string {
  const fromEnv = process.env["GHLD_BIN"];
  const path = fromEnv !== undefined && fromEnv !== "" ? resolve(fromEnv) : fileURLToPath(new URL("../../../../bin/ghl-debugger", import.meta.url));
  if (!existsSync(path)) {
    throw new Error(`no ghl-debugger binary at ${path}: build one with \`go build -o bin/ghl-debugger ./cmd/ghl-debugger\` at the repository's root, or set GHLD_BIN`);
  }
  return path;
}

/** startServer starts serve and resolves once it listens and has printed the admin key. */
export async function startServer(): Promise<Server> {
  const dataDir = await mkdtemp(join(tmpdir(), "ghl-debugger-ts-e2e-"));
  // The child gets this environment minus any ghl-debugger configuration, so a developer's
  // settings (a PostgreSQL DATABASE_URL, say) cannot leak into the test.
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith("GHLD_") && name !== "DATABASE_URL" && name !== "REDIS_URL") {
      env[name] = value;
    }
  }
  const child = spawn(binaryPath(), ["serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
    }
    await exited;
    await rm(dataDir, { recursive: true, force: true });
  };

  try {
    const addr = await waitFor(child, () => listeningAddr(stderr), () => `stderr:\n${stderr}`);
    const adminKey = await waitFor(child, () => stdout.match(/ghd_[0-9A-Za-z]{40}/)?.[0], () => `stdout:\n${stdout}`);
    return { baseUrl: `http://${addr}`, adminKey, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

// waitFor polls get until it returns a value, the child exits, or the start timeout passes.
async function waitFor(child: ChildProcess, get: () => string | undefined, output: () => string): Promise<string> {
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    const value = get();
    if (value !== undefined) {
      return value;
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`ghl-debugger exited (${child.exitCode ?? child.signalCode}) before it was ready; ${output()}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`ghl-debugger was not ready within ${startTimeoutMs / 1000}s; ${output()}`);
    }
    await new Promise((done) => setTimeout(done, 20));
  }
}

// listeningAddr finds the address in serve's JSON "listening" log line.
function listeningAddr(logs: string): string | undefined {
  for (const line of logs.split("\n")) {
    try {
      const entry = JSON.parse(line) as { msg?: unknown; addr?: unknown };
      if (entry.msg === "listening" && typeof entry.addr === "string") {
        return entry.addr;
      }
    } catch {
      // Not a JSON log line (a partial line still arriving); keep looking.
    }
  }
  return undefined;
}
