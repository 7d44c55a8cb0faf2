// A typed client for the ghl-debugger API. The types in schema.d.ts are generated from openapi.yaml
// by openapi-typescript (`npm run generate`); openapi-fetch turns them into a fetch wrapper whose
// paths, parameters, bodies and responses are all checked by the compiler. This module adds what
// every caller needs on top: the API key, problem documents as errors, and cursor pagination.

import createClient, { type Client } from "openapi-fetch";

import type { components, operations, paths } from "./schema.js";

export type { components, operations, paths };

/** The API's named schemas: `Schemas["Location"]`, `Schemas["AnalysisRun"]`, ... */
export type Schemas = components["schemas"];

/** An RFC 9457 problem document, the body of every error response. */
export type Problem = Schemas["Problem"];

/** The client: `client.GET("/v1/locations/{locationId}", { params: { path: { locationId } } })`. */
export type GhlDebuggerClient = Client<paths>;

/** Options of {@link createGhlDebuggerClient}. */
export interface GhlDebuggerClientOptions {
  /** The deployment's base URL, such as `https://ghl-debugger.example.com`. */
  baseUrl: string;
  /** The API key (`ghd_...`) sent as a bearer token; omit it for public operations only. */
  apiKey?: string;
  /** The fetch implementation; the global one by default. */
  fetch?: typeof globalThis.fetch;
}

/** createGhlDebuggerClient returns a client that sends the API key with every request. */
export function createGhlDebuggerClient(options: GhlDebuggerClientOptions): GhlDebuggerClient {
  const headers: Record<string, string> = {};
  if (options.apiKey !== undefined && options.apiKey !== "") {
    headers["Authorization"] = `Bearer ${options.apiKey}`;
  }
  return createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    headers,
    ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
  });
}

/** ProblemError is a failed call: the HTTP status and, when the API sent one, its problem document. */
export class ProblemError extends Error {
  override readonly name = "ProblemError";

  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
  ) {
    super(problem !== undefined ? `${status} ${problem.title}: ${problem.detail ?? problem.type}` : `HTTP ${status}`);
  }

  /** slug is the last segment of the problem's type, such as `not-found`; "" without a problem. */
  get slug(): string {
    return this.problem?.type.split("/").pop() ?? "";
  }
}

/** The result of an openapi-fetch call. */
type Result<T> = { data?: T; error?: unknown; response: Response };

/**
 * unwrap returns the body of a successful call and throws a {@link ProblemError} for a failed one,
 * so the happy path reads without status checks:
 * `const loc = unwrap(await client.POST("/v1/locations", { body }))`.
 */
export function unwrap<T>(result: Result<T>): T {
  if (result.response.ok) {
    return result.data as T;
  }
  throw new ProblemError(result.response.status, isProblem(result.error) ? result.error : undefined);
}

function isProblem(v: unknown): v is Problem {
  return typeof v === "object" && v !== null && "type" in v && "title" in v && "status" in v;
}

/** The answer of `POST /v1/locations/{locationId}/analyses`: an analysis (200, 201) or a background job (202). */
export type AnalysisOrJob = Schemas["AnalysisRun"] | Schemas["Job"];

/** isJob says whether an analysis request was answered with a background job (`202`) rather than an analysis. */
export function isJob(answer: AnalysisOrJob): answer is Schemas["Job"] {
  return "kind" in answer && "state" in answer;
}

/** The states in which a job is done: it will not change again. */
const finalJobStates: ReadonlySet<Schemas["JobState"]> = new Set(["completed", "discarded", "cancelled"]);

/**
 * waitForJob polls `GET /v1/jobs/{jobId}` until the job is completed, discarded or cancelled, and
 * returns it; it throws when the job is not done within `timeoutMs` (default 60 s).
 *
 *     const job = await waitForJob(client, accepted.id);
 *     if (job.state === "completed" && job.result) { ...GET job.result.url... }
 */
export async function waitForJob(
  client: GhlDebuggerClient,
  jobId: string,
  { intervalMs = 250, timeoutMs = 60_000 }: { intervalMs?: number; timeoutMs?: number } = {},
): Promise<Schemas["Job"]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = unwrap(await client.GET("/v1/jobs/{jobId}", { params: { path: { jobId } } }));
    if (finalJobStates.has(job.state)) {
      return job;
    }
    if (Date.now() + intervalMs > deadline) {
      throw new Error(`job ${jobId} is still ${job.state} after ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A page of a list operation. */
export interface Page<Item> {
  items: Item[];
  nextCursor: string | null;
}

/**
 * pages walks a cursor-paginated list from the first page to the last, yielding each page's items.
 * fetchPage gets `undefined` for the first page, then the previous page's `nextCursor`:
 *
 *     for await (const items of pages((cursor) =>
 *       client.GET("/v1/locations", { params: { query: { limit: 50, cursor } } }).then(unwrap))) { ... }
 */
export async function* pages<Item>(fetchPage: (cursor: string | undefined) => Promise<Page<Item>>): AsyncGenerator<Item[]> {
  let cursor: string | undefined;
  for (;;) {
    const page = await fetchPage(cursor);
    yield page.items;
    if (page.nextCursor === null) {
      return;
    }
    cursor = page.nextCursor;
  }
}
