// Headless Chromium test of the client report: the real binary writes the HTML report of the
// auditor's broken sample (`ghl-debugger analyze --format html`), and the test opens it from a file
// with every other request refused (the page must be self-contained). It checks that every workflow
// has a drawing with a text alternative and every finding a marker that links to it and back, that
// a marker's link lands on its finding, and that the page fits a phone's width; then it takes
// full-page screenshots at desktop and phone widths and prints the page to PDF. Screenshots and the
// PDF go to $ARTIFACTS_DIR (default .ci/artifacts at the repository's root), also when the test
// fails.
//
//   go build -o bin/ghl-debugger ./cmd/ghl-debugger    (at the repository's root)
//   node --test report.test.mjs                         (here; GHLD_BIN names another binary,
//                                                        CHROMIUM_PATH another browser)

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

import { artifactsDir, launchChromium } from "./chromium.mjs";
import { binaryPath } from "./server.mjs";

const sample = fileURLToPath(
  new URL("../../pkg/analyzer/testdata/samples/ghl-workflow-auditor/broken-account.json", import.meta.url),
);

const timeoutMs = 30_000;
// A full-page screenshot of the whole report (tens of thousands of pixels tall) takes seconds, and
// much longer on a busy machine.
const screenshotTimeoutMs = 180_000;
const desktop = { width: 1280, height: 900 };
const phone = { width: 390, height: 844 };

let browser;
let workDir;
let reportUrl;

before(async () => {
  workDir = await mkdtemp(join(tmpdir(), "ghl-debugger-report-"));
  // The sample has errors, so analyze exits 1 unless --fail-on none; the report is the same.
  const html = execFileSync(binaryPath(), ["analyze", "--format", "html", "--fail-on", "none", sample], {
    maxBuffer: 64 << 20,
  });
  const path = join(workDir, "report.html");
  await writeFile(path, html);
  reportUrl = pathToFileURL(path).href;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  if (workDir) {
    await rm(workDir, { recursive: true, force: true });
  }
});

// mustFullPageShot takes a full-page PNG screenshot and checks that it holds the whole page: a page
// taller than the browser can capture would come out empty or cut.
async function mustFullPageShot(page, name) {
  const path = join(artifactsDir, name);
  await page.screenshot({ path, fullPage: true, timeout: screenshotTimeoutMs });
  const png = await readFile(path);
  const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)];
  const want = await page.evaluate(() => [document.documentElement.clientWidth, document.documentElement.scrollHeight]);
  console.log(`${name}: ${width}x${height} px, ${png.length} bytes`);
  assert.equal(width, want[0], `${name} is as wide as the page`);
  assert.ok(height >= want[1] - 1, `${name} is ${height}px tall, the page ${want[1]}px`);
}

// openReport opens the report in a new context whose only allowed request is the report itself,
// and returns the page with the requests it refused and the errors it threw.
async function openReport(viewport) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(timeoutMs);
  const refused = [];
  await context.route(
    (url) => url.href.split("#")[0] !== reportUrl,
    (route) => {
      refused.push(route.request().url());
      return route.abort("blockedbyclient");
    },
  );
  const errors = [];
  page.on("pageerror", (err) => errors.push(err.message));
  await page.goto(reportUrl);
  return { context, page, refused, errors };
}

test("the report draws every workflow and marks every finding, offline", async () => {
  const { context, page, refused, errors } = await openReport(desktop);
  try {
    const workflows = await page.locator("section.workflow").evaluateAll((sections) =>
      sections.map((s) => {
        const svg = s.querySelector("figure.drawing svg[role=img]");
        const labels = (svg?.getAttribute("aria-labelledby") ?? "").split(/\s+/).filter(Boolean);
        return {
          id: s.id,
          drawn: svg !== null,
          label: labels.map((id) => document.getElementById(id)?.textContent?.trim() ?? "").join(" | "),
          boxes: svg ? svg.querySelectorAll("g.node rect").length : 0,
          width: svg ? svg.getBoundingClientRect().width : 0,
        };
      }),
    );
    assert.equal(workflows.length, 76, "one section per workflow of the sample");
    for (const w of workflows) {
      assert.ok(w.drawn, `workflow section ${w.id} has a drawing`);
      assert.match(w.label, /^Flowchart of workflow .+ \| \d+ triggers? leading into \d+ steps?/, `drawing of ${w.id} has a title and a description`);
      assert.ok(w.boxes > 0, `drawing of ${w.id} has boxes`);
      assert.ok(w.width > 100, `drawing of ${w.id} is rendered`);
    }

    const findings = await page.locator("article.finding").evaluateAll((cards) =>
      cards.map((card) => {
        const n = card.id.replace(/^finding-/, "");
        const marker = document.getElementById(`marker-${n}`);
        return {
          id: card.id,
          markerHref: marker?.getAttribute("href") ?? null,
          markerInSvg: marker?.closest("svg") !== null && marker?.closest("svg") !== undefined,
          markerLabel: marker?.getAttribute("aria-label") ?? "",
          backHref: card.querySelector("a.to-marker")?.getAttribute("href") ?? null,
        };
      }),
    );
    const expected = JSON.parse(execFileSync(binaryPath(), ["analyze", "--format", "json", "--fail-on", "none", sample], { maxBuffer: 64 << 20 }));
    assert.equal(findings.length, expected.findings.length, "one card per finding of the analysis");
    for (const f of findings) {
      assert.equal(f.markerHref, `#${f.id}`, `finding ${f.id} has a marker linking to it`);
      assert.ok(f.markerInSvg, `the marker of ${f.id} is on a drawing`);
      assert.match(f.markerLabel, /^(Error|Warning|Info) \d+: /, `the marker of ${f.id} names its severity in words`);
      assert.equal(f.backHref, `#${f.id.replace("finding", "marker")}`, `finding ${f.id} links back to its marker`);
    }

    // Following a marker lands on its finding.
    const first = findings[0].id.replace("finding", "marker");
    await page.locator(`#${first}`).click();
    assert.equal(new URL(page.url()).hash, `#${findings[0].id}`);
    await assert.doesNotReject(page.locator(`#${findings[0].id}`).waitFor({ state: "visible" }));
    assert.ok(await page.locator(`#${findings[0].id}`).isVisible());

    // The cross-workflow graph is drawn, with the sample's loops.
    assert.ok((await page.locator("svg#location-graph g.edge.cycle").count()) > 0, "the location graph shows cycles");

    await mustFullPageShot(page, "report-desktop.png");
    await page.emulateMedia({ media: "print" });
    await page.pdf({ path: join(artifactsDir, "report.pdf"), format: "A4", printBackground: true, margin: { top: "12mm", bottom: "12mm", left: "10mm", right: "10mm" } });
    assert.ok((await stat(join(artifactsDir, "report.pdf"))).size > 10_000, "the PDF has content");

    assert.deepEqual(refused, [], "the report asked for something outside itself");
    assert.deepEqual(errors, [], "the report threw errors");
  } catch (err) {
    await page.screenshot({ path: join(artifactsDir, "report-failure.png"), fullPage: true }).catch(() => {});
    throw err;
  } finally {
    await context.close();
  }
});

test("the report fits a phone's width", async () => {
  const { context, page, refused, errors } = await openReport(phone);
  try {
    // Wide drawings scroll inside their frame; the page itself never scrolls sideways.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
    const verdict = await page.locator(".verdict").textContent();
    assert.match(verdict ?? "", /^Grade [A-F], score \d+: /);
    await mustFullPageShot(page, "report-phone.png");
    assert.deepEqual(refused, []);
    assert.deepEqual(errors, []);
  } catch (err) {
    await page.screenshot({ path: join(artifactsDir, "report-phone-failure.png"), fullPage: true }).catch(() => {});
    throw err;
  } finally {
    await context.close();
  }
});
