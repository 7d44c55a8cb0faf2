// What the browser tests share: where their screenshots go, and how they start Chromium.

import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

/** artifactsDir is $ARTIFACTS_DIR, or .ci/artifacts at the repository's root. */
export const artifactsDir = process.env.ARTIFACTS_DIR
  ? resolve(process.env.ARTIFACTS_DIR)
  : fileURLToPath(new URL("../../.ci/artifacts", import.meta.url));

// Debian's chromium, with the flags this sandbox needs: no GPU, no QUIC, and none of the background
// connections (updates, sync) that a closed network refuses.
const chromiumPath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const chromiumArgs = [
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** launchChromium creates artifactsDir and starts headless Chromium ($CHROMIUM_PATH or Debian's). */
export async function launchChromium() {
  await mkdir(artifactsDir, { recursive: true });
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
}
