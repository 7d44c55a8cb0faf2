// Headless Chromium test of the API docs: it opens /api-docs on the real binary with every request
// to another host refused (the page must work offline, from assets in the binary), checks that
// Swagger UI renders every operation of the spec, authorizes with the admin key and makes one
// "Try it out" call. Screenshots go to $ARTIFACTS_DIR (default .ci/artifacts at the repository's
// root), also when the test fails.
//
//   go build -o bin/ghl-debugger ./cmd/ghl-debugger    (at the repository's root)
//   npm test                                            (here; GHLD_BIN names another binary,
//                                                        CHROMIUM_PATH another browser)

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { artifactsDir, launchChromium } from "./chromium.mjs";
import { startServer } from "./server.mjs";

const timeoutMs = 30_000;
const methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("Swagger UI renders every operation offline and Try it out calls the API", async () => {
  const spec = await (await fetch(`${server.baseUrl}/openapi.json`)).json();
  const operations = Object.entries(spec.paths).flatMap(([path, item]) =>
    methods.filter((m) => item[m] !== undefined).map((m) => `${m.toUpperCase()} ${path}`),
  );

  const origin = new URL(server.baseUrl).origin;
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  page.setDefaultTimeout(timeoutMs);
  const offsite = [];
  await context.route(
    (url) => url.origin !== origin,
    (route) => {
      offsite.push(route.request().url());
      return route.abort("blockedbyclient");
    },
  );
  const pageErrors = [];
  page.on("pageerror", (err) => pageErrors.push(err.message));

  try {
    await page.goto(`${server.baseUrl}/api-docs`);

    // Every operation of the spec is on the page, and nothing else.
    await page.locator(".opblock").first().waitFor();
    const rendered = await page.locator(".opblock").evaluateAll((blocks) =>
      blocks.map((b) => {
        const method = b.querySelector(".opblock-summary-method")?.textContent?.trim() ?? "";
        const path = b.querySelector(".opblock-summary-path")?.getAttribute("data-path") ?? "";
        return `${method} ${path}`;
      }),
    );
    assert.deepEqual([...rendered].sort(), [...operations].sort());
    await page.screenshot({ path: join(artifactsDir, "api-docs.png"), fullPage: true });

    // Try it out must call this deployment: pick the server entry that resolves to it.
    const servers = await page.locator(".servers select option").evaluateAll((options) => options.map((o) => o.value));
    const local = servers.find((s) => new URL(s, page.url()).origin === origin);
    assert.ok(
      local !== undefined,
      `openapi.yaml's servers (${servers.join(", ")}) offer no entry for the deployment that serves the docs; ` +
        "list a relative server (url: /) first so Try it out calls it",
    );
    await page.locator(".servers select").selectOption(local);

    // Authorize with the bearer key.
    await page.locator(".scheme-container .btn.authorize").click();
    const modal = page.locator(".modal-ux");
    await modal.locator("input").first().fill(server.adminKey);
    await modal.locator("button.authorize").click();
    await modal.locator("button.btn-done").click();

    // Try it out on GET /v1/me.
    const op = page.locator(".opblock-get", { has: page.locator('.opblock-summary-path[data-path="/v1/me"]') });
    await op.locator(".opblock-summary").first().click();
    await op.locator("button.try-out__btn").click();
    const [request] = await Promise.all([
      page.waitForRequest((r) => new URL(r.url()).pathname === "/v1/me"),
      op.locator("button.execute").click(),
    ]);
    assert.equal(new URL(request.url()).origin, origin);
    assert.equal(request.headers()["authorization"], `Bearer ${server.adminKey}`);

    const status = op.locator(".live-responses-table .response .response-col_status").first();
    await status.waitFor();
    assert.equal((await status.textContent())?.trim(), "200");
    const body = await op.locator(".live-responses-table .response-col_description .microlight").first().textContent();
    const me = JSON.parse(body ?? "");
    assert.match(me.account.id, /^acc_/);
    assert.equal(me.account.isAdmin, true);

    await op.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(artifactsDir, "api-docs-try-it-out.png") });

    assert.deepEqual(offsite, [], "the docs page asked for something from another host");
    assert.deepEqual(pageErrors, [], "the docs page threw errors");
  } catch (err) {
    await page.screenshot({ path: join(artifactsDir, "api-docs-failure.png"), fullPage: true }).catch(() => {});
    throw err;
  } finally {
    await context.close();
  }
});
