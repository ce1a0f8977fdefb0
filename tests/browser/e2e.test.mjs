// Real-browser end-to-end tests: playwright-core driving Debian's chromium against a
// Latchkey the test starts itself (target/debug/latchkey, or LATCHKEY_BIN) on a free port
// with a fresh data directory. The steps run in order and share two browsers, like a
// person giving the session demo: sign up, log in, inspect the session, manage sessions
// from a second browser, change the password, log out, press Back, tamper the cookie.
//
// Run with `npm run test:browser` after `cargo build`. Screenshots of every page go to
// target/browser-artifacts/. `UPDATE_DOCS_SCREENSHOT=1 npm run test:browser` also writes
// the inspector's to docs/inspector.png (committed, for the README); without it a test
// run never touches a tracked file.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = process.env.LATCHKEY_BIN ?? path.join(ROOT, "target/debug/latchkey");
const CHROMIUM = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";
const ARTIFACTS = path.join(ROOT, "target/browser-artifacts");
const DOCS_SCREENSHOT = path.join(ROOT, "docs/inspector.png");
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const VIEWPORT = { width: 1100, height: 900 };
const SESSION_COOKIE = "latchkey_session";
// Every run starts Latchkey on a fresh data directory, so one fixed address is enough.
const EMAIL = "demo@example.com";
const PASSWORD = "correct horse battery staple";
const NEW_PASSWORD = "a brand new passphrase, longer still";

/** Everything the steps share. */
const run = {
  server: null,
  serverLog: "",
  base: "",
  tempDirs: [],
  /** The first browser (the demo's), and a second one (another device). */
  first: null,
  second: null,
};

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startLatchkey() {
  assert.ok(existsSync(BIN), `no Latchkey binary at ${BIN}: run \`cargo build\` first`);
  const dataDir = await mkdtemp(path.join(tmpdir(), "latchkey-e2e-data-"));
  run.tempDirs.push(dataDir);
  const port = await freePort();
  run.base = `http://127.0.0.1:${port}`;
  run.server = spawn(BIN, [], {
    cwd: ROOT, // Rocket.toml and templates/ are found from here
    env: {
      ...process.env,
      ROCKET_ADDRESS: "127.0.0.1",
      ROCKET_PORT: String(port),
      ROCKET_DATA_DIR: dataDir,
      ROCKET_DATABASE_URL: "",
      ROCKET_LOG_LEVEL: "critical",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const keep = (chunk) => {
    run.serverLog += chunk;
  };
  run.server.stdout.on("data", keep);
  run.server.stderr.on("data", keep);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (run.server.exitCode !== null) {
      throw new Error(`Latchkey exited with ${run.server.exitCode}:\n${run.serverLog}`);
    }
    try {
      const reply = await fetch(`${run.base}/health`);
      if (reply.ok && (await reply.text()) === "ok") return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Latchkey did not answer /health within 30 s:\n${run.serverLog}`);
}

/** A browser with its own fresh profile: its own cookies, cache and history. */
async function newBrowser() {
  assert.ok(existsSync(CHROMIUM), `no chromium at ${CHROMIUM}: apt-get install -y chromium`);
  const userDataDir = await mkdtemp(path.join(tmpdir(), "latchkey-e2e-chromium-"));
  run.tempDirs.push(userDataDir);
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: VIEWPORT,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page };
}

const url = (pathname) => `${run.base}${pathname}`;

/** The path (and query) the page is on. */
function where(page) {
  const at = new URL(page.url());
  return at.pathname + at.search;
}

async function screenshot(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function goto(page, pathname) {
  const response = await page.goto(url(pathname));
  assert.ok(response, `no response for ${pathname}`);
  return response;
}

async function logIn(page, email, password) {
  await goto(page, "/login");
  await page.fill("#email", email);
  await page.fill("#password", password);
  // "Remember me": the demo's cookie persists (Max-Age), as the inspector steps expect.
  await page.check("#remember");
  await Promise.all([page.waitForURL(/\/profile$/), page.click("main button[type=submit]")]);
}

async function sessionCookie(context) {
  const cookies = await context.cookies(run.base);
  return cookies.find((c) => c.name === SESSION_COOKIE);
}

/** The exchange log's rows: request, status, cookie sent, Set-Cookie received. */
async function exchanges(page) {
  await goto(page, "/how-it-works");
  return page.$$eval("ol.exchanges > li", (items) =>
    items.map((item) => {
      const headers = [...item.querySelectorAll("dl.headers dd")].map((dd) => dd.innerText.trim());
      return {
        request: item.querySelector(".exchange-line code").innerText.trim(),
        status: item.querySelector(".status").innerText.trim(),
        cookie: headers[0],
        setCookie: headers[1],
      };
    }),
  );
}

before(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  if (process.env.UPDATE_DOCS_SCREENSHOT === "1") {
    await mkdir(path.dirname(DOCS_SCREENSHOT), { recursive: true });
  }
  await startLatchkey();
  run.first = await newBrowser();
  run.second = await newBrowser();
});

after(async () => {
  for (const browser of [run.first, run.second]) {
    await browser?.context.close().catch(() => {});
  }
  if (run.server && run.server.exitCode === null) {
    run.server.kill("SIGTERM");
    await new Promise((resolve) => {
      const timer = setTimeout(() => {
        run.server.kill("SIGKILL");
        resolve();
      }, 5_000);
      run.server.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  for (const dir of run.tempDirs) {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
});

test("the home page renders, and opening How it works starts recording", async () => {
  const { page } = run.first;
  const home = await goto(page, "/");
  assert.equal(home.status(), 200);
  assert.match(await page.title(), /Latchkey/);
  await screenshot(page, "home");

  await goto(page, "/how-it-works");
  await page.getByText("Recording started").waitFor();
});

test("sign up lands on the profile, logged in", async () => {
  const { page } = run.first;
  const signup = await goto(page, "/signup");
  assert.equal(signup.status(), 200);
  await page.fill("#email", EMAIL);
  await page.fill("#password", PASSWORD);
  await page.fill("#password_confirmation", PASSWORD);
  await page.fill("#first_name", "Demo");
  await screenshot(page, "signup");
  await Promise.all([page.waitForURL(/\/profile$/), page.click("main button[type=submit]")]);
  await page.locator("main").getByText(EMAIL).waitFor();
});

test("log out from the header, then log in with the form", async () => {
  const { page } = run.first;
  await Promise.all([
    page.waitForURL(/\/login$/),
    page.click("header.site-header button:has-text('Log out')"),
  ]);
  await page.getByText("You have been logged out.").waitFor();
  await screenshot(page, "login");

  await logIn(page, EMAIL, PASSWORD);
  assert.equal(where(page), "/profile");
});

test("the profile shows the email", async () => {
  const { page } = run.first;
  const profile = await goto(page, "/profile");
  assert.equal(profile.status(), 200);
  assert.equal(profile.headers()["cache-control"], "no-store");
  const facts = await page.locator("main dl.facts").first().innerText();
  assert.match(facts, new RegExp(EMAIL.replace(/[.]/g, "\\.")));
  await screenshot(page, "profile");
});

test("the session inspector renders the cookie, the shortened id, the store key and a live countdown", async () => {
  const { page, context } = run.first;
  const reply = await goto(page, "/session");
  assert.equal(reply.status(), 200);
  const main = page.locator("main");
  const text = await main.innerText();
  assert.match(text, /Session inspector/);
  assert.match(text, new RegExp(`${SESSION_COOKIE}`));
  for (const attribute of ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=43200"]) {
    assert.ok(text.includes(attribute), `${attribute} missing`);
  }
  assert.match(text, /Decrypted session id\s+[0-9a-f]{8}…/);
  assert.match(text, /Store key\s+[0-9a-f]{64}\b/);
  assert.match(text, /Store\s+memory/);
  // The browser's own cookie value is shown cut short, never whole.
  const cookie = await sessionCookie(context);
  assert.ok(cookie, "the browser holds the session cookie");
  assert.ok(!text.includes(cookie.value), "the whole cookie value is on the page");
  // countdown.js (served from /static under CSP 'self') replaced the server's "1800 s".
  await page.waitForFunction(() =>
    [...document.querySelectorAll("[data-countdown]")].every((n) => / (min|h)$/.test(n.textContent)),
  );
  await screenshot(page, "inspector");
  if (process.env.UPDATE_DOCS_SCREENSHOT === "1") {
    await page.screenshot({ path: DOCS_SCREENSHOT, fullPage: true });
  }
});

test("document.cookie does not show the session cookie (HttpOnly)", async () => {
  const { page, context } = run.first;
  await goto(page, "/profile");
  const visibleToScripts = await page.evaluate(() => document.cookie);
  assert.ok(!visibleToScripts.includes(SESSION_COOKIE), `document.cookie = ${visibleToScripts}`);
  const cookie = await sessionCookie(context);
  assert.ok(cookie, "the browser does hold it");
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, "Lax");
  assert.equal(cookie.path, "/");
  // The login form's CSRF cookie was removed at login.
  const names = (await context.cookies(run.base)).map((c) => c.name);
  assert.ok(!names.includes("latchkey_csrf"), `cookies: ${names.join(", ")}`);
});

test("How it works shows the Set-Cookie at login and the Cookie sent back, cut short", async () => {
  const { page, context } = run.first;
  const full = (await sessionCookie(context)).value;
  await goto(page, "/profile");
  const log = await exchanges(page);
  const login = log.findLast((x) => x.request === "POST /login");
  assert.ok(login, JSON.stringify(log, null, 2));
  assert.equal(login.status, "303");
  assert.match(login.setCookie, new RegExp(`${SESSION_COOKIE}=[^;]{1,8}…\\(\\d+ chars\\); HttpOnly; SameSite=Lax`));
  const profile = log.findLast((x) => x.request === "GET /profile");
  assert.match(profile.cookie, new RegExp(`${SESSION_COOKIE}=[^;]{1,8}…`));
  const pageText = await page.locator("main").innerText();
  assert.ok(!pageText.includes(full), "the whole cookie value is on the page");
  assert.ok(!pageText.includes(full.slice(0, 12)), "more than a few characters are shown");
});

test("a second browser logs in as the same user and is revoked from the first", async () => {
  const { page } = run.first;
  const other = run.second.page;
  await logIn(other, EMAIL, PASSWORD);

  await goto(page, "/sessions");
  const rows = page.locator("table.sessions tbody tr");
  assert.equal(await rows.count(), 2);
  assert.equal(await page.locator("table.sessions tbody tr.current").count(), 1);
  await page.locator("tr.current").getByText("this browser").waitFor();
  await screenshot(page, "sessions");

  const otherRow = page.locator("table.sessions tbody tr:not(.current)");
  await Promise.all([
    page.waitForURL(/\/sessions$/),
    otherRow.getByRole("button", { name: "End session" }).click(),
  ]);
  await page.getByText("That session has ended.").waitFor();
  assert.equal(await rows.count(), 1);

  await goto(other, "/profile");
  assert.equal(where(other), "/login?next=/profile");
  assert.equal(await sessionCookie(run.second.context), undefined, "the dead cookie was dropped");
});

test("a password change in the first browser ends the second browser's new session", async () => {
  const { page, context } = run.first;
  const other = run.second.page;
  await logIn(other, EMAIL, PASSWORD);
  const before = (await sessionCookie(context)).value;

  await goto(page, "/password");
  await page.fill("#current_password", PASSWORD);
  await page.fill("#new_password", NEW_PASSWORD);
  await page.fill("#new_password_confirmation", NEW_PASSWORD);
  await screenshot(page, "password");
  await Promise.all([page.waitForURL(/\/profile$/), page.click("main button[type=submit]")]);
  await page.getByText("Your password was changed.").waitFor();

  const rotated = (await sessionCookie(context)).value;
  assert.notEqual(rotated, before, "the session cookie was rotated");
  await goto(other, "/profile");
  assert.equal(where(other), "/login?next=/profile");
  await goto(page, "/profile");
  assert.equal(where(page), "/profile", "this browser stays logged in");
});

test("logout: the confirmation page, then the header button", async () => {
  const { page } = run.first;
  const confirm = await goto(page, "/logout");
  assert.equal(confirm.status(), 200);
  await page.locator("main").getByRole("button", { name: "Log out" }).waitFor();
  await screenshot(page, "logout");

  await goto(page, "/profile");
  await page.locator("main").getByText(EMAIL).waitFor();
  await Promise.all([
    page.waitForURL(/\/login$/),
    page.click("header.site-header button:has-text('Log out')"),
  ]);
  await page.getByText("You have been logged out.").waitFor();
  assert.equal(await sessionCookie(run.first.context), undefined);

  const log = await exchanges(page);
  const logout = log.findLast((x) => x.request === "POST /logout");
  assert.ok(logout, JSON.stringify(log, null, 2));
  assert.match(logout.setCookie, new RegExp(`${SESSION_COOKIE}=;.*Max-Age=0`));
  await screenshot(page, "how-it-works");
});

test("the back button after logout does not show the profile from cache", async () => {
  const { page } = run.first;
  // History: ... /profile, then POST /logout -> /login, then /how-it-works (above).
  // Go back to /login, then once more to the profile entry.
  await page.goBack();
  await page.goBack();
  await page.waitForLoadState("load");
  // no-store: the browser may not reuse the stored page, so it asks the server again,
  // which has no session for it and sends it to the login page.
  assert.equal(where(page), "/login?next=/profile");
  assert.equal(await page.getByText(EMAIL).count(), 0, "the profile's email is visible");
  await page.locator("form[action='/login']").waitFor();
});

test("tampering with the session cookie in the browser logs out", async () => {
  const { page, context } = run.first;
  await logIn(page, EMAIL, NEW_PASSWORD);
  const cookie = await sessionCookie(context);
  const value = cookie.value;
  const i = Math.floor(value.length / 2);
  const flipped = value[i] === "A" ? "B" : "A";
  const tampered = value.slice(0, i) + flipped + value.slice(i + 1);
  await context.addCookies([{ ...cookie, value: tampered }]);
  assert.equal((await sessionCookie(context)).value, tampered);

  await goto(page, "/profile");
  assert.equal(where(page), "/login?next=/profile");
  assert.equal(await page.getByText(EMAIL).count(), 0);
});

test("the old password no longer logs in; the new one does", async () => {
  const other = run.second.page;
  await goto(other, "/login");
  await other.fill("#email", EMAIL);
  await other.fill("#password", PASSWORD);
  await other.click("main button[type=submit]");
  await other.getByText("Invalid email or password.").waitFor();
  assert.equal(where(other), "/login");

  await logIn(other, EMAIL, NEW_PASSWORD);
  assert.equal(where(other), "/profile");
});
