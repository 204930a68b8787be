// Drives the web console in Debian's headless Chromium (playwright-core,
// no downloaded browser) and prints what a person would see, as JSON, for
// spec/igniter/ledger/console/browser_spec.rb to check.
//
// Input (environment): CONSOLE_URL (the console's root, e.g.
// http://127.0.0.1:PORT/ui), DISPATCH_URL (the server's /v1/dispatch),
// CONSOLE_TOKEN, ARTIFACTS (screenshot directory) and FIXTURE (JSON: the
// store, key, first version's transaction time and the escaping probe).
import { chromium } from "playwright-core";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const consoleUrl = process.env.CONSOLE_URL;
const dispatchUrl = process.env.DISPATCH_URL;
const token = process.env.CONSOLE_TOKEN;
const artifacts = process.env.ARTIFACTS;
const fixture = JSON.parse(process.env.FIXTURE);
mkdirSync(artifacts, { recursive: true });

// The flags keep Chromium from reaching out to the network (refused here),
// and a fresh profile keeps runs independent.
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const profile = mkdtempSync(join(tmpdir(), "igniter-console-chromium-"));
const result = { dialogs: [], pageErrors: [], consoleErrors: [], screenshots: [] };

const context = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium", headless: true, args: FLAGS, viewport: { width: 1280, height: 900 }
});

async function shot(page, name) {
  const path = join(artifacts, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  result.screenshots.push(path);
}

const url = (path, params = {}) => {
  const search = new URLSearchParams(params).toString();
  return consoleUrl + path + (search ? `?${search}` : "");
};

// Writes through the server's HTTP API, as any client would.
async function write(packet) {
  const response = await fetch(dispatchUrl, {
    method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({ protocol: "igniter_store", op: "write", packet })
  });
  return response.json();
}

let page;
try {
  page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.on("dialog", async (dialog) => { result.dialogs.push(dialog.message()); await dialog.dismiss(); });
  page.on("pageerror", (error) => result.pageErrors.push(String(error)));
  page.on("console", (message) => { if (message.type() === "error") result.consoleErrors.push(message.text()); });

  // Sign in: a page request without the cookie gets the login form.
  const first = await page.goto(url("/"));
  result.login = { status: first.status(), form: await page.locator("form.login").count() };
  await page.fill("form.login input[name=token]", "wrong");
  await Promise.all([page.waitForNavigation(), page.click("form.login button")]);
  result.login.wrongTokenNotice = (await page.locator(".notice.error").textContent()).trim();
  await page.fill("form.login input[name=token]", token);
  await Promise.all([page.waitForNavigation(), page.click("form.login button")]);
  result.login.afterUrl = page.url();

  // Stores with fact and key counts.
  result.stores = await page.$$eval("table.stores tbody tr", (rows) => rows.map((row) => ({
    store: row.dataset.store, facts: Number(row.children[1].textContent), keys: Number(row.children[2].textContent)
  })));
  await shot(page, "stores");

  // The keys of the store, latest values.
  await page.click(`table.stores tr[data-store="${fixture.store}"] a`);
  await page.waitForSelector("table.keys");
  const readKeys = () => page.$$eval("table.keys tbody tr[data-key]", (rows) => rows.map((row) => ({
    key: row.dataset.key, value: row.querySelector("td.value").textContent, versions: Number(row.querySelector("td.count").textContent)
  })));
  result.keys = await readKeys();

  // A key's history with field-by-field diffs.
  await page.click(`table.keys tr[data-key="${fixture.key}"] td.key a`);
  await page.waitForSelector("section.version");
  result.history = await page.$$eval("section.version", (sections) => sections.map((section) => ({
    version: Number(section.dataset.version),
    current: section.classList.contains("current"),
    diff: Array.from(section.querySelectorAll("table.diff tbody tr")).map((tr) => ({
      path: tr.dataset.path, change: tr.className,
      from: tr.querySelector("td.from").textContent, to: tr.querySelector("td.to").textContent
    }))
  })));
  result.currentValue = await page.locator("section.value-as-of pre").textContent();
  await shot(page, "history-diff");

  // Time travel 1: "as of this version" on the first version.
  await Promise.all([page.waitForNavigation(), page.click('section.version[data-version="1"] a:has-text("as of this version")')]);
  result.travelKey = {
    heading: (await page.locator("section.value-as-of h2").textContent()).trim(),
    value: await page.locator("section.value-as-of pre").textContent(),
    current: await page.$$eval("section.version.current", (s) => s.map((x) => Number(x.dataset.version))),
    later: await page.$$eval("section.version.later", (s) => s.map((x) => Number(x.dataset.version))),
    notice: (await page.locator(".notice.travel").textContent()).trim()
  };
  await shot(page, "time-travel-key");

  // Time travel 2: type an ISO-8601 time into the store page's control.
  await page.goto(url("/store", { store: fixture.store }));
  await page.fill("form.time-travel input[name=as_of]", fixture.first_iso);
  await Promise.all([page.waitForNavigation(), page.click("form.time-travel button")]);
  result.travelStore = { url: page.url(), keys: await readKeys(), validAtDisabled: await page.locator("form.time-travel input[name=valid_at]").isDisabled() };
  await shot(page, "time-travel-store");

  // Escaping: store, key and value full of markup and quotes.
  await page.goto(url("/key", { store: fixture.probe.store, key: fixture.probe.key }));
  await page.waitForSelector("section.version");
  result.escaping = {
    heading: await page.locator("main h1").textContent(),
    value: await page.locator("section.value-as-of pre").textContent(),
    injected: await page.evaluate(() => window.__igniterXss === true),
    scripts: await page.$$eval("script", (s) => s.map((x) => x.getAttribute("src"))),
    images: await page.locator("img").count()
  };
  await page.goto(url("/store", { store: fixture.probe.store }));
  result.escaping.storeKeyCell = await page.locator("table.keys td.key").first().textContent();
  await shot(page, "escaping");

  // The live feed: a write made now shows up.
  await page.goto(url("/feed"));
  await page.waitForSelector('#feed-state[data-state="live"]');
  const liveKey = `live-${Date.now()}`;
  result.feedWrite = await write({ store: fixture.store, key: liveKey, value: { title: "from the feed test" } });
  const row = page.locator(`#feed-rows tr[data-key="${liveKey}"]`);
  await row.waitFor();
  await page.waitForFunction((key) => {
    const cell = document.querySelector(`#feed-rows tr[data-key="${key}"] td.value`);
    return cell && cell.textContent !== "…";
  }, liveKey);
  result.feed = {
    key: liveKey, first: await page.$eval("#feed-rows tr", (tr) => tr.dataset.key),
    value: await row.locator("td.value").textContent(), rows: await page.locator("#feed-rows tr").count(),
    images: await page.locator("img").count(), injected: await page.evaluate(() => window.__igniterXss === true),
    probeKey: await page.locator(`#feed-rows tr[data-store="${fixture.probe.store.replace(/["\\]/g, "\\$&")}"] td:nth-child(4)`).textContent()
  };
  await shot(page, "live-feed");

  // Status with charts sampled from api/status.
  await page.goto(url("/status"));
  await page.waitForFunction(() => Number(document.getElementById("charts").dataset.samples || 0) >= 1);
  await write({ store: fixture.store, key: `${liveKey}-status`, value: { title: "between two samples" } });
  await page.waitForFunction(() => Number(document.getElementById("charts").dataset.samples || 0) >= 3);
  result.status = {
    charts: await page.$$eval("#charts .chart", (charts) => charts.map((c) => ({
      series: c.dataset.series, latest: c.querySelector(".latest").textContent,
      points: c.querySelector("polyline").getAttribute("points").split(" ").map((p) => p.split(",").map(Number))
    })))
  };
  await shot(page, "status");
} catch (error) {
  result.error = String(error && error.stack || error);
  if (page) {
    result.failedAt = page.url();
    result.failedText = (await page.locator("main").textContent().catch(() => "")).slice(0, 2000);
    await shot(page, "failure").catch(() => {});
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(result));
