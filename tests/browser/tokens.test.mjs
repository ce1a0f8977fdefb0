// Real-browser walk through sessions versus tokens, "remember me" and the tamper demo:
// playwright-core driving Debian's chromium against a Latchkey this test starts on its
// own port with a fresh data directory. Screenshots go to target/browser-artifacts/.
//
// Run after `cargo build`: node --test tests/browser/tokens.test.mjs

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = process.env.LATCHKEY_BIN ?? path.join(ROOT, "target/debug/latchkey");
const CHROMIUM = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";
const ARTIFACTS = path.join(ROOT, "target/browser-artifacts");
// Its own port, apart from the other browser suite's, so both can run at once.
const PORT = Number(process.env.LATCHKEY_TOKENS_PORT ?? 18571);
const BASE = `http://127.0.0.1:${PORT}`;
const SESSION_COOKIE = "latchkey_session";
const EMAIL = "tokens@example.com";
const PASSWORD = "correct horse battery staple";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

const run = { server: null, log: "", tempDirs: [], browsers: [] };

async function startLatchkey() {
  assert.ok(existsSync(BIN), `no Latchkey binary at ${BIN}: run \`cargo build\` first`);
  const dataDir = await mkdtemp(path.join(tmpdir(), "latchkey-tokens-data-"));
  run.tempDirs.push(dataDir);
  run.server = spawn(BIN, [], {
    cwd: ROOT,
    env: { ...process.env, ROCKET_ADDRESS: "127.0.0.1", ROCKET_PORT: String(PORT),
      ROCKET_DATA_DIR: dataDir, ROCKET_DATABASE_URL: "", ROCKET_LOG_LEVEL: "critical" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  run.server.stdout.on("data", (c) => { run.log += c; });
  run.server.stderr.on("data", (c) => { run.log += c; });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (run.server.exitCode !== null) throw new Error(`Latchkey exited:\n${run.log}`);
    try {
      const reply = await fetch(`${BASE}/health`);
      if (reply.ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Latchkey did not start:\n${run.log}`);
}

async function newBrowser() {
  assert.ok(existsSync(CHROMIUM), `no chromium at ${CHROMIUM}`);
  const dir = await mkdtemp(path.join(tmpdir(), "latchkey-tokens-chromium-"));
  run.tempDirs.push(dir);
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, viewport: { width: 1100, height: 900 },
  });
  run.browsers.push(context);
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page };
}

const shot = (page, name) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
const sessionCookie = async (context) => (await context.cookies(BASE)).find((c) => c.name === SESSION_COOKIE);

async function logIn(page, remember) {
  await page.goto(`${BASE}/login`);
  await page.fill("#email", EMAIL);
  await page.fill("#password", PASSWORD);
  if (remember) await page.check("#remember");
  await Promise.all([page.waitForURL(/\/profile$/), page.click("main button[type=submit]")]);
}

before(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  await startLatchkey();
  const { page, context } = await newBrowser();
  await page.goto(`${BASE}/signup`);
  await page.fill("#email", EMAIL);
  await page.fill("#password", PASSWORD);
  await page.fill("#password_confirmation", PASSWORD);
  await Promise.all([page.waitForURL(/\/profile$/), page.click("main button[type=submit]")]);
  await context.close();
});

after(async () => {
  for (const context of run.browsers) await context.close().catch(() => {});
  if (run.server) run.server.kill("SIGKILL");
  for (const dir of run.tempDirs) await rm(dir, { recursive: true, force: true });
});

test("remember me unchecked: a browser-session cookie; the inspector says so", async () => {
  const { page, context } = await newBrowser();
  await logIn(page, false);
  const cookie = await sessionCookie(context);
  assert.ok(cookie, "a session cookie");
  assert.equal(cookie.expires, -1, "no expiry: a session cookie");
  await page.goto(`${BASE}/session`);
  assert.match(await page.locator("#cookie-lifetime").innerText(), /Browser session/);
  await shot(page, "tokens-remember-unchecked");
});

test("remember me checked: a persistent cookie until the absolute deadline", async () => {
  const { page, context } = await newBrowser();
  await logIn(page, true);
  const cookie = await sessionCookie(context);
  const hours = (cookie.expires - Date.now() / 1000) / 3600;
  assert.ok(hours > 11.9 && hours <= 12.01, `expires in ${hours} h`);
  await page.goto(`${BASE}/session`);
  assert.match(await page.locator("#cookie-lifetime").innerText(), /Remembered/);
  await shot(page, "tokens-remember-checked");
});

test("the tamper step: a flipped byte gets an anonymous answer and a removal", async () => {
  const { page, context } = await newBrowser();
  await logIn(page, false);
  await page.goto(`${BASE}/session`);
  const before = await sessionCookie(context);
  await Promise.all([page.waitForURL(/\/session\/tamper/), page.click("#tamper button[type=submit]")]);
  const answer = await page.locator("#tamper-answer").innerText();
  assert.match(answer, /303 See Other/);
  assert.match(answer, /\/login\?next=\/profile/);
  assert.match(answer, new RegExp(`${SESSION_COOKIE}=;.*Max-Age=0`));
  await page.locator("#tamper-answer").scrollIntoViewIfNeeded();
  await shot(page, "tokens-tamper");
  // Only the copy was altered: this browser's cookie and session are intact.
  assert.equal((await sessionCookie(context)).value, before.value);
  const profile = await page.goto(`${BASE}/profile`);
  assert.equal(new URL(page.url()).pathname, "/profile");
  assert.equal(profile.status(), 200);
});

test("/tokens: the token is readable, both calls work, and after logout only the token does", async () => {
  const { page } = await newBrowser();
  const anonymous = await page.goto(`${BASE}/tokens`);
  assert.equal(new URL(page.url()).pathname, "/login", `anonymous lands on login (${anonymous.status()})`);
  await logIn(page, false);
  await page.goto(`${BASE}/tokens`);
  assert.equal(await page.locator("#token-decoded").isVisible(), false, "no decoded parts before a token");
  await page.click("#get-token");
  await page.locator("#token-status").filter({ hasText: "Token received" }).waitFor();
  assert.equal(await page.locator("#token-decoded").isVisible(), true, "the decoded parts once it arrives");
  const payload = JSON.parse(await page.locator("#token-payload").innerText());
  assert.equal(payload.email, EMAIL);
  assert.equal(payload.exp - payload.iat, 300);
  assert.match(await page.locator("#token-header").innerText(), /HS256/);
  // The cookie is shown cut short and opaque; the page's script cannot read it.
  assert.equal(await page.evaluate(() => document.cookie.includes("latchkey_session")), false);

  await page.click("#call-cookie");
  await page.locator("#cookie-result").filter({ hasText: "200" }).waitFor();
  await page.click("#call-token");
  await page.locator("#token-result").filter({ hasText: "200" }).waitFor();
  await shot(page, "tokens-before-logout");

  await page.click("#logout");
  await page.locator("#logout-result").filter({ hasText: "Logged out" }).waitFor();
  // The header no longer offers what only a session can do.
  const nav = page.locator("nav[aria-label=Main]");
  assert.deepEqual(await nav.locator("a").allInnerTexts(), ["How it works", "Log in", "Sign up"]);
  assert.equal(await nav.locator("form").count(), 0);
  await page.click("#call-cookie");
  await page.locator("#cookie-result").filter({ hasText: /^40[13]/ }).waitFor();
  await page.click("#call-token");
  await page.locator("#token-result").filter({ hasText: /^200/ }).waitFor();
  assert.match(await page.locator("#token-countdown").innerText(), /\d+ s/);
  await shot(page, "tokens-after-logout");
});
