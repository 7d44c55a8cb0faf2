// End-to-end test of the generated client against the real binary: the path a frontend takes.
// Create a location, import its workflows, analyse it (and one workflow), page through the
// history, open an analysis, read the rule behind a finding, simulate a lead through the location,
// and see errors arrive as problems.
//
//   go build -o bin/ghl-debugger ./cmd/ghl-debugger    (at the repository's root)
//   npm run test:e2e                                    (here; GHLD_BIN names another binary)

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  type AnalysisOrJob,
  type GhlDebuggerClient,
  type Schemas,
  createGhlDebuggerClient,
  isJob,
  pages,
  ProblemError,
  unwrap,
  waitForJob,
} from "../src/index.js";
import { type Server, startServer } from "./server.js";

// An auditor bundle: two workflows and the location's tags. The no-show workflow's appointment
// trigger has no filter, which the analyzer reports.
const bundle = {
  tags: ["new-lead", "no-show"],
  workflows: [
    {
      _id: "wf_noshow",
      name: "No Show Recovery",
      status: "published",
      triggers: [{ type: "appointment", name: "Appointment Status", filters: [] }],
      steps: [
        { type: "sms", name: "Sorry we missed you", meta: { body: "Sorry we missed you today - want to grab another time?" } },
        { type: "wait", name: "Wait 2 days", meta: { delay: "2 days" } },
      ],
    },
    {
      _id: "wf_welcome",
      name: "New Lead Welcome",
      status: "published",
      triggers: [{ type: "contact_tag", name: "Tag added", filters: [{ field: "tagsAdded", value: ["new-lead"] }] }],
      steps: [
        { type: "sms", name: "Welcome", meta: { body: "Hi {{contact.first_name}}, thanks for reaching out!" } },
        { type: "add_tag", name: "Tag as contacted", meta: { tags: ["contacted"] } },
      ],
    },
  ],
} satisfies Schemas["WorkflowDocument"];

// analysis returns an analysis answered at once, failing the test when the answer is a background job.
function analysis(answer: AnalysisOrJob): Schemas["AnalysisRun"] {
  assert.ok(!isJob(answer), `a small location is analysed at once, not as job ${answer.id}`);
  return answer;
}

describe("the frontend's path through the API", () => {
  let server: Server;
  let client: GhlDebuggerClient;

  before(async () => {
    server = await startServer();
    client = createGhlDebuggerClient({ baseUrl: server.baseUrl, apiKey: server.adminKey });
  });
  after(async () => {
    await server?.stop();
  });

  // Each step builds on the one before, as a user's session does; node:test runs them in order.
  let location: Schemas["Location"];
  let imported: Schemas["ImportResult"];
  let locationAnalysis: Schemas["AnalysisRun"];
  let workflowAnalysis: Schemas["AnalysisRun"];

  test("create a location", async () => {
    const res = await client.POST("/v1/locations", {
      body: { ghlLocationId: "ve9EPM428h8vShlRW1KT", name: "Downtown Dental", timezone: "America/Chicago" },
    });
    location = unwrap(res);
    assert.equal(res.response.status, 201);
    assert.match(location.id, /^loc_/);
    assert.equal(location.timezone, "America/Chicago");
    assert.equal(res.response.headers.get("Location"), `/v1/locations/${location.id}`);
  });

  test("import workflows", async () => {
    const res = await client.POST("/v1/locations/{locationId}/workflows", {
      params: { path: { locationId: location.id } },
      body: bundle,
    });
    imported = unwrap(res);
    assert.equal(res.response.status, 201);
    assert.equal(imported.dialect, "auditor-bundle");
    assert.equal(imported.contextUpdated, true);
    assert.deepEqual(
      imported.workflows.map((w) => [w.ghlWorkflowId, w.created]),
      [
        ["wf_noshow", true],
        ["wf_welcome", true],
      ],
    );

    const list = unwrap(await client.GET("/v1/locations/{locationId}/workflows", { params: { path: { locationId: location.id } } }));
    assert.deepEqual(list.items.map((w) => w.ghlWorkflowId).sort(), ["wf_noshow", "wf_welcome"]);
  });

  test("analyse the location, then again without changes", async () => {
    const first = await client.POST("/v1/locations/{locationId}/analyses", {
      params: { path: { locationId: location.id } },
      body: { scope: "location" },
    });
    locationAnalysis = analysis(unwrap(first));
    assert.equal(first.response.status, 201);
    assert.equal(locationAnalysis.reused, false);
    assert.equal(locationAnalysis.scope, "location");
    assert.ok(locationAnalysis.score >= 0 && locationAnalysis.score <= 100, `score ${locationAnalysis.score}`);
    assert.ok(locationAnalysis.report.findings.length > 0, "the unfiltered appointment trigger is a finding");
    assert.deepEqual(locationAnalysis.report.workflows.map((w) => w.id).sort(), ["wf_noshow", "wf_welcome"]);

    const again = await client.POST("/v1/locations/{locationId}/analyses", {
      params: { path: { locationId: location.id } },
      body: { scope: "location" },
    });
    assert.equal(again.response.status, 200);
    const reused = analysis(unwrap(again));
    assert.equal(reused.reused, true);
    assert.equal(reused.id, locationAnalysis.id);
  });

  test("analyse one workflow", async () => {
    const noShow = imported.workflows.find((w) => w.ghlWorkflowId === "wf_noshow");
    assert.ok(noShow);
    const res = await client.POST("/v1/locations/{locationId}/analyses", {
      params: { path: { locationId: location.id } },
      body: { scope: "workflow", workflowId: noShow.id },
    });
    workflowAnalysis = analysis(unwrap(res));
    assert.equal(res.response.status, 201);
    assert.equal(workflowAnalysis.scope, "workflow");
    assert.equal(workflowAnalysis.workflowId, noShow.id);
    assert.ok(workflowAnalysis.report.findings.every((f) => f.workflowId === undefined || f.workflowId === "wf_noshow"));
  });

  test("analyse in the background and poll the job to completion", async () => {
    const res = await client.POST("/v1/locations/{locationId}/analyses", {
      params: { path: { locationId: location.id } },
      body: { scope: "location", async: true },
    });
    assert.equal(res.response.status, 202);
    const accepted = unwrap(res);
    assert.ok(isJob(accepted), "async: true answers a job");
    assert.equal(res.response.headers.get("Location"), `/v1/jobs/${accepted.id}`);
    assert.equal(accepted.kind, "analyze_location");
    assert.equal(accepted.locationId, location.id);

    const done = await waitForJob(client, accepted.id);
    assert.equal(done.state, "completed", `last error: ${done.lastError?.message}`);
    assert.equal(done.attempt, 1);
    // The location has not changed since it was analysed, so the job finds that analysis by its key.
    assert.deepEqual(done.result, { analysisId: locationAnalysis.id, url: `/v1/analyses/${locationAnalysis.id}`, reused: true });

    const listed = unwrap(await client.GET("/v1/jobs", { params: { query: { state: "completed" } } }));
    assert.ok(listed.items.some((j) => j.id === accepted.id), "the completed job is listed");
  });

  test("page through the history", async () => {
    const seen: Schemas["AnalysisSummary"][] = [];
    let pageCount = 0;
    for await (const items of pages((cursor) =>
      client
        .GET("/v1/locations/{locationId}/analyses", {
          params: { path: { locationId: location.id }, query: cursor === undefined ? { limit: 1 } : { limit: 1, cursor } },
        })
        .then(unwrap),
    )) {
      pageCount++;
      assert.ok(items.length <= 1);
      seen.push(...items);
    }
    // Newest first: the workflow analysis, then the location analysis (the reused one is not new).
    assert.deepEqual(
      seen.map((a) => a.id),
      [workflowAnalysis.id, locationAnalysis.id],
    );
    assert.ok(pageCount >= 2, `${pageCount} pages of one item`);

    const filtered = unwrap(
      await client.GET("/v1/locations/{locationId}/analyses", {
        params: { path: { locationId: location.id }, query: { workflowId: workflowAnalysis.workflowId ?? "", minSeverity: "info" } },
      }),
    );
    assert.ok(filtered.items.some((a) => a.id === workflowAnalysis.id));
  });

  test("open an analysis with its report", async () => {
    const got = unwrap(await client.GET("/v1/analyses/{analysisId}", { params: { path: { analysisId: locationAnalysis.id } } }));
    assert.equal(got.id, locationAnalysis.id);
    assert.deepEqual(got.report, locationAnalysis.report);
  });

  test("read the rule behind a finding", async () => {
    const finding = locationAnalysis.report.findings[0];
    assert.ok(finding);
    // The catalogue is public: a client without a key reads it.
    const anonymous = createGhlDebuggerClient({ baseUrl: server.baseUrl });
    const catalogue = unwrap(await anonymous.GET("/v1/rules"));
    const listed = catalogue.items.find((r) => r.id === finding.ruleId);
    assert.ok(listed, `${finding.ruleId} is in the catalogue`);

    const res = await anonymous.GET("/v1/rules/{ruleId}", { params: { path: { ruleId: finding.ruleId } } });
    const rule = unwrap(res);
    assert.deepEqual(rule, listed);
    assert.ok(rule.fix.length > 0);
    assert.match(res.response.headers.get("Cache-Control") ?? "", /public/);
  });

  test("simulate a lead through the location, then open it from the list", async () => {
    const res = await client.POST("/v1/locations/{locationId}/simulations", {
      params: { path: { locationId: location.id } },
      body: {
        contact: { id: "lead-7", fields: { first_name: "Ana" }, timezone: "America/Chicago" },
        start: { at: "2026-03-02T10:00:00-06:00", type: "tag_added", tag: "new-lead" },
        horizon: "7d",
      },
    });
    const sim = unwrap(res);
    assert.equal(res.response.status, 201);
    assert.match(sim.id, /^sim_/);
    assert.equal(res.response.headers.get("Location"), `/v1/simulations/${sim.id}`);
    assert.deepEqual(
      sim.result.messages.map((m) => [m.local, m.channel, m.text]),
      [["2026-03-02T10:00:00-06:00", "sms", "Hi Ana, thanks for reaching out!"]],
    );
    assert.deepEqual(sim.result.final.tags, ["new-lead", "contacted"]);

    const list = unwrap(await client.GET("/v1/locations/{locationId}/simulations", { params: { path: { locationId: location.id } } }));
    assert.deepEqual(
      list.items.map((s) => [s.id, s.messages]),
      [[sim.id, 1]],
    );
    const got = unwrap(await client.GET("/v1/simulations/{simulationId}", { params: { path: { simulationId: sim.id } } }));
    assert.deepEqual(got, sim);
  });

  test("errors arrive as problem documents", async () => {
    const missing = await client.GET("/v1/locations/{locationId}", { params: { path: { locationId: "loc_doesnotexist" } } });
    assert.equal(missing.response.status, 404);
    assert.throws(
      () => unwrap(missing),
      (err: unknown) => err instanceof ProblemError && err.status === 404 && err.slug === "not-found" && err.problem?.requestId !== undefined,
    );

    const anonymous = createGhlDebuggerClient({ baseUrl: server.baseUrl });
    const unauthorized = await anonymous.GET("/v1/me");
    assert.equal(unauthorized.response.status, 401);
    assert.equal(unauthorized.error?.type, "https://ghl-debugger.dev/problems/unauthorized");
  });
});
