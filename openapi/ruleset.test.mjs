// Tests of the project's Spectral rules (../.spectral.yaml): a document that follows them lints
// clean, and a document that breaks each of them makes every ghld-* rule fire, so a rule whose
// JSONPath silently stops matching fails here instead of letting the real spec through.
//
//   node --test openapi/ruleset.test.mjs      (after npm ci --prefix openapi)

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const ruleset = join(root, ".spectral.yaml");
const spectral = join(here, "node_modules", ".bin", "spectral");

// lint runs the Spectral CLI on a document and returns its findings. The CLI exits non-zero when
// it finds something, which is expected here, so the exit status is not an error.
async function lint(document) {
  const run = promisify(execFile);
  let stdout;
  try {
    ({ stdout } = await run(spectral, ["lint", "--quiet", "--format", "json", "--ruleset", ruleset, document], {
      cwd: root,
      maxBuffer: 16 << 20,
    }));
  } catch (err) {
    if (typeof err.stdout !== "string" || err.stdout.trim() === "") {
      throw err;
    }
    stdout = err.stdout;
  }
  return stdout.trim() === "" ? [] : JSON.parse(stdout);
}

// projectRules lists the ghld-* rule names declared in the ruleset.
async function projectRules() {
  const text = await readFile(ruleset, "utf8");
  return [...text.matchAll(/^ {2}(ghld-[a-z0-9-]+):/gm)].map((m) => m[1]);
}

test("a document that follows every rule lints clean", async () => {
  const findings = await lint(join(here, "testdata", "compliant.yaml"));
  assert.deepEqual(
    findings.map((f) => `${f.code} at ${f.path.join(".")}: ${f.message}`),
    [],
  );
});

test("every project rule fires on a document that breaks it", async () => {
  const rules = await projectRules();
  assert.ok(rules.length >= 10, `found only ${rules.length} ghld-* rules in .spectral.yaml`);
  const fired = new Set((await lint(join(here, "testdata", "violations.yaml"))).map((f) => f.code));
  const silent = rules.filter((r) => !fired.has(r));
  assert.deepEqual(silent, [], "these rules did not fire on testdata/violations.yaml");
});

test("the error-response rule names each missing status", async () => {
  const findings = await lint(join(here, "testdata", "violations.yaml"));
  const missing = findings
    .filter((f) => f.code === "ghld-error-responses-complete")
    .map((f) => f.message.match(/the (\d{3}) response/)[1])
    .sort();
  assert.deepEqual(missing, ["404", "413", "429"]);
});
