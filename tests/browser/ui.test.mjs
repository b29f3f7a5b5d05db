// Browser tests of the Sunproof web UI, in headless Chromium driven by
// playwright-core against the UI test server (internal/webui/testserver),
// which scripts/ui-tests.sh starts on the real local stack. Every page is
// loaded, the numbers it shows are compared with the API's, and the verify
// page judges a valid proof (green), a tampered one (red, naming the
// failing step) and a carbon report. Screenshots go to out/screenshots/.
//
//   SUNPROOF_UI_SESSION=out/uitest/session.json node --test ui.test.mjs

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const session = JSON.parse(readFileSync(process.env.SUNPROOF_UI_SESSION || join(root, "out/uitest/session.json"), "utf8"));
const shots = process.env.SUNPROOF_SCREENSHOTS || join(root, "out/screenshots");
mkdirSync(shots, { recursive: true });
const base = session.url;

const chromiumFlags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

let browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.SUNPROOF_CHROMIUM || "/usr/bin/chromium",
    args: chromiumFlags,
    headless: true,
  });
});

after(async () => {
  await browser?.close();
});

// api GETs an API path with a role's token and returns the JSON.
async function api(path, role = "admin") {
  const resp = await fetch(base + path, { headers: { Authorization: "Bearer " + session.tokens[role] } });
  const body = await resp.text();
  assert.equal(resp.status, 200, `GET ${path} as ${role}: ${resp.status} ${body}`);
  return JSON.parse(body);
}

// pageAs opens a page signed in as role (the session cookie), or
// anonymous when role is null. It fails the test on any console error or
// failed request of the page.
async function pageAs(role, t) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  if (role) {
    await ctx.addCookies([{ name: "sunproof_token", value: session.tokens[role], url: base }]);
  }
  const page = await ctx.newPage();
  const problems = [];
  // Failed subresources and script errors are failures; a page answered
  // 4xx on purpose (a test navigating where it may not) is not.
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push("console: " + m.text());
  });
  page.on("response", (r) => {
    if (r.status() >= 400 && r.request().resourceType() !== "document") problems.push(`${r.status()} ${r.url()}`);
  });
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  t.after(async () => {
    await ctx.close();
    assert.deepEqual(problems, [], "the page logged errors");
  });
  return page;
}

async function shot(page, name) {
  await page.screenshot({ path: join(shots, name + ".png"), fullPage: true });
}

// num reads a data-value attribute as a number.
async function num(page, selector) {
  const v = await page.locator(selector).first().getAttribute("data-value");
  assert.notEqual(v, null, `${selector} has no data-value`);
  return Number(v);
}

function close(got, want, what) {
  assert.ok(Math.abs(got - want) <= 1e-9 * Math.max(1, Math.abs(want)), `${what}: page shows ${got}, API says ${want}`);
}

test("sign in with a token, then the fleet page shows the API's numbers", async (t) => {
  const page = await pageAs(null, t);
  await page.goto(base + "/");
  assert.match(page.url(), /\/login\?next=/);
  await page.fill('input[name="token"]', "sp_not-a-token");
  await page.click('button[type="submit"]');
  await page.getByTestId("login-error").waitFor();
  await page.fill('input[name="token"]', session.tokens.admin);
  await page.click('button[type="submit"]');
  await page.waitForURL(base + "/");
  await page.getByTestId("fleet-cards").waitFor();

  const f = await api("/v1/fleet");
  close(await num(page, '[data-testid="fleet-power"]'), f.ac_power_w, "power now");
  close(await num(page, '[data-testid="fleet-energy"]'), f.energy_24h_wh, "energy 24 h");
  close(await num(page, '[data-testid="fleet-reporting"]'), f.reporting_devices, "reporting devices");
  close(await num(page, '[data-testid="fleet-devices"]'), f.devices, "devices");
  close(await num(page, '[data-testid="fleet-capacity"]'), f.capacity_kwp, "capacity");
  close(await num(page, '[data-testid="fleet-alerts"]'), f.open_alerts, "open alerts");
  close(await num(page, '[data-testid="fleet-last-anchor"]'), f.last_anchor.interval_start_ms, "last anchor");
  assert.equal(f.devices, session.devices.length);
  assert.ok(f.ac_power_w > 0, "the seeded fleet produces at the end of its day");

  const rows = page.locator('[data-testid="sites"] tbody tr');
  assert.equal(await rows.count(), f.site_rows.length);
  for (const r of f.site_rows) {
    const row = page.locator(`tr[data-site="${r.site_id}"]`);
    close(Number(await row.locator('[data-col="power"]').getAttribute("data-value")), r.ac_power_w, r.site_id + " power");
    close(Number(await row.locator('[data-col="energy"]').getAttribute("data-value")), r.energy_24h_wh, r.site_id + " energy");
    close(Number(await row.locator('[data-col="alerts"]').getAttribute("data-value")), r.open_alerts, r.site_id + " alerts");
  }

  // The chart draws one vertex per bucket the API returns for its range.
  const chart = page.getByTestId("fleet-chart");
  const q = new URLSearchParams({ from: await chart.getAttribute("data-from"), to: await chart.getAttribute("data-to"), step: await chart.getAttribute("data-step") });
  const fp = await api("/v1/fleet/power?" + q);
  assert.ok(fp.points.length > 100, `only ${fp.points.length} fleet power points`);
  const d = await chart.locator("path.line-measured").getAttribute("d");
  assert.equal((d.match(/[ML]/g) || []).length, fp.points.length, "chart vertices vs API points");
  await shot(page, "fleet");
});

test("the plant page's numbers, windows and alerts match the API", async (t) => {
  const page = await pageAs("admin", t);
  const alerts = (await api("/v1/alerts?state=open")).items;
  assert.ok(alerts.length > 0, "the seeded trip raised an alert");
  const dev = alerts[0].device_id;
  await page.goto(`${base}/devices/${dev}`);
  const stats = page.getByTestId("device-stats");
  const from = await stats.getAttribute("data-from"), to = await stats.getAttribute("data-to"), step = await stats.getAttribute("data-step");
  const r = await api(`/v1/devices/${dev}/readings?` + new URLSearchParams({ from, to, step }));
  const count = r.points.reduce((a, p) => a + p.count, 0);
  const peak = Math.max(...r.points.map((p) => p.ac_power_max_w));
  const energy = r.points[r.points.length - 1].energy_wh - r.points[0].energy_wh;
  close(await num(page, '[data-testid="device-readings"]'), count, "readings");
  close(await num(page, '[data-testid="device-peak"]'), peak, "peak power");
  close(await num(page, '[data-testid="device-energy"]'), energy, "energy");
  assert.equal(r.expected.length, r.points.length > 0 ? r.expected.length : 0);
  assert.ok(await page.locator('[data-testid="power-chart"] polygon.band-expected').count() === 1, "the expected band is drawn");

  const w = (await api(`/v1/devices/${dev}/windows?` + new URLSearchParams({ from, to }))).items;
  const rows = page.locator('[data-testid="windows"] tbody tr');
  assert.equal(await rows.count(), w.length, "window rows");
  const anchored = w.filter((x) => x.status === "anchored").length;
  close(await num(page, '[data-testid="device-anchored"]'), anchored, "anchored windows");
  assert.ok(anchored > 0 && anchored < w.length, `${anchored} of ${w.length} windows anchored: the seed leaves the newest pending`);
  const newest = w[w.length - 1];
  assert.equal(await rows.first().getAttribute("data-status"), newest.status);
  const tx = page.locator('[data-testid="windows"] tr[data-status="anchored"] a[title^="0x"]').first();
  assert.match(await tx.getAttribute("title"), /^0x[0-9a-f]{64}$/);

  const devAlerts = (await api(`/v1/alerts?device_id=${dev}`)).items;
  assert.equal(await page.locator('[data-testid="alerts"] tbody tr').count(), devAlerts.length, "alert rows");
  await shot(page, "plant");

  // The tx link leads to the interval's page with the same transaction.
  await tx.click();
  await page.getByTestId("anchor").waitFor();
  const start = page.url().split("/").pop();
  const a = await api(`/v1/anchors/${start}`);
  assert.equal(await page.getByTestId("tx-hash").textContent(), a.tx_hash);
  assert.equal(await page.getByTestId("batch-root").textContent(), a.batch_root);
  assert.equal(await page.locator('[data-testid="anchor-windows"] tbody tr').count(), a.windows.length);
  await shot(page, "anchor-interval");
});

test("an installer sees only its own plants", async (t) => {
  const page = await pageAs("installer", t);
  await page.goto(base + "/");
  const sites = (await api("/v1/sites", "installer")).items;
  const all = (await api("/v1/sites", "admin")).items;
  assert.ok(sites.length > 0 && sites.length < all.length);
  assert.equal(await page.locator('[data-testid="sites"] tbody tr').count(), sites.length);
  for (const s of sites) {
    assert.equal(s.installer, session.installer);
    await page.locator(`tr[data-site="${s.id}"]`).waitFor();
  }
  const foreign = (await api("/v1/devices", "admin")).items.find((d) => d.installer !== session.installer);
  const resp = await page.goto(`${base}/devices/${foreign.id}`);
  assert.equal(resp.status(), 404);
  assert.equal(await (await fetch(`${base}/v1/devices/${foreign.id}`, { headers: { Authorization: "Bearer " + session.tokens.installer } })).status, 404);
  const denied = await page.goto(base + "/portfolio");
  assert.equal(denied.status(), 403);
  await shot(page, "installer-forbidden");
});

test("the bank portfolio shows each loan's coverage as the API computes it", async (t) => {
  const page = await pageAs("bank", t);
  await page.goto(base + "/portfolio");
  const loans = (await api("/v1/loans", "bank")).items;
  assert.deepEqual(loans.map((l) => l.ref).sort(), [...session.bank_loans].sort());
  close(await num(page, '[data-testid="loan-count"]'), loans.length, "loans");
  close(await num(page, '[data-testid="loans-below"]'), loans.filter((l) => l.below_threshold).length, "loans below threshold");
  for (const l of loans) {
    const row = page.locator(`tr[data-loan="${l.ref}"]`);
    close(Number(await row.locator('[data-col="coverage"]').getAttribute("data-value")), l.latest_coverage ?? 0, l.ref + " coverage");
    close(Number(await row.locator('[data-col="alerts"]').getAttribute("data-value")), l.open_alerts, l.ref + " alerts");
    assert.equal(await row.locator("svg.chart rect.bar-coverage").count(), l.months.length, l.ref + " trend bars");
  }
  await shot(page, "portfolio");
  await page.click(`a[href="/loans/${loans[0].ref}"]`);
  await page.getByTestId("loan-months").waitFor();
  assert.equal(await page.locator('[data-testid="loan-months"] tbody tr').count(), loans[0].months.length);
  await shot(page, "loan");
  // Banks don't see plants outside their portfolio.
  const own = new Set((await api("/v1/devices", "bank")).items.map((d) => d.id));
  for (const d of (await api("/v1/devices", "admin")).items) {
    assert.equal(own.has(d.id), session.bank_loans.includes(d.loan_ref), d.id);
  }
});

test("a verifier opens a carbon report and verifies it in the page", async (t) => {
  const page = await pageAs("verifier", t);
  await page.goto(base + "/");
  assert.match(page.url(), /\/anchors$/, "a verifier lands on the anchors page");
  const anchors = (await api("/v1/anchors?limit=100", "verifier")).items;
  assert.equal(await page.locator('[data-testid="anchors"] tbody tr').count(), anchors.length);
  assert.equal(anchors.filter((a) => a.status === "anchored").length, session.anchored_intervals);
  await shot(page, "anchors");

  await page.goto(base + "/carbon");
  const reports = (await api("/v1/carbon/reports", "verifier")).items;
  assert.equal(await page.locator('[data-testid="reports"] tbody tr').count(), reports.length);
  const rep = reports[0];
  await page.click(`a[href="/carbon/${rep.id}"]`);
  close(await num(page, '[data-testid="report-mwh"]'), rep.energy_mwh, "MWh");
  close(await num(page, '[data-testid="report-tco2e"]'), rep.emissions_avoided_tco2e, "tCO2e");
  await page.getByTestId("verify-report").click();
  const verdict = page.locator('[data-testid="verify-result"] [data-testid="verdict"]');
  await verdict.waitFor();
  assert.equal(await verdict.getAttribute("data-valid"), "true");
  assert.equal(await verdict.getAttribute("data-kind"), "carbon_report");
  assert.equal(await page.locator('[data-testid="bundles"] tbody tr.ok').count(), rep.boundary_proofs);
  await shot(page, "carbon-report-verified");

  // A verifier may not read readings or loans.
  const r = await fetch(`${base}/v1/devices/${session.devices[0]}/readings`, { headers: { Authorization: "Bearer " + session.tokens.verifier } });
  assert.equal(r.status, 403);
});

// verifyFile uploads a file on the verify page and returns the verdict.
async function verifyFile(page, file) {
  await page.goto(base + "/verify");
  await page.getByTestId("file-input").setInputFiles(file);
  const verdict = page.locator('[data-testid="verify-result"] [data-testid="verdict"]');
  await verdict.waitFor();
  return verdict;
}

async function stepStatuses(page) {
  const out = {};
  for (const li of await page.locator('[data-testid="steps"] li').all()) {
    out[await li.getAttribute("data-step")] = await li.getAttribute("data-status");
  }
  return out;
}

const proofSteps = ["decode", "device_key", "signature", "leaf", "window_root", "batch_root", "anchor"];

test("the verify page shows a valid proof green, every step passed", async (t) => {
  const page = await pageAs(null, t);
  const verdict = await verifyFile(page, session.fixtures.valid_proof);
  assert.equal(await verdict.getAttribute("data-valid"), "true");
  assert.match(await verdict.getAttribute("class"), /\bok\b/);
  const steps = await stepStatuses(page);
  assert.deepEqual(Object.keys(steps), proofSteps);
  for (const s of proofSteps) assert.equal(steps[s], "pass", `step ${s}`);
  const bg = await verdict.evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.equal(bg, "rgb(220, 252, 231)", "green verdict");
  const apiV = await (await fetch(base + "/v1/verify", { method: "POST", body: readFileSync(session.fixtures.valid_proof) })).json();
  assert.equal(apiV.valid, true);
  assert.equal(apiV.mode, "online");
  await shot(page, "verify-valid");
});

test("the verify page shows a tampered proof red, naming the failing step", async (t) => {
  const page = await pageAs(null, t);
  const apiV = await (await fetch(base + "/v1/verify", { method: "POST", body: readFileSync(session.fixtures.tampered_proof) })).json();
  assert.equal(apiV.valid, false);
  assert.equal(apiV.failed_step, "signature");
  const verdict = await verifyFile(page, session.fixtures.tampered_proof);
  assert.equal(await verdict.getAttribute("data-valid"), "false");
  assert.equal(await verdict.getAttribute("data-failed-step"), apiV.failed_step);
  assert.match(await verdict.getAttribute("class"), /\bbad\b/);
  const bg = await verdict.evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.equal(bg, "rgb(254, 226, 226)", "red verdict");
  const steps = await stepStatuses(page);
  assert.deepEqual(steps, { decode: "pass", device_key: "pass", signature: "fail", leaf: "not_run", window_root: "not_run", batch_root: "not_run", anchor: "not_run" });
  const failed = page.locator('[data-testid="steps"] li[data-status="fail"]');
  assert.match(await failed.textContent(), /signature/);
  await shot(page, "verify-tampered");
});

test("the verify page judges carbon reports: whole green, tampered red", async (t) => {
  const page = await pageAs(null, t);
  let verdict = await verifyFile(page, session.fixtures.valid_report);
  assert.equal(await verdict.getAttribute("data-valid"), "true");
  assert.equal(await verdict.getAttribute("data-kind"), "carbon_report");
  verdict = await verifyFile(page, session.fixtures.tampered_report);
  assert.equal(await verdict.getAttribute("data-valid"), "false");
  assert.equal(await verdict.getAttribute("data-failed-step"), "signature");
  assert.equal(await page.locator('[data-testid="bundles"] tbody tr.bad').count(), 1);
  await shot(page, "verify-report-tampered");
});

test("the verify page works without JavaScript (form post)", async (t) => {
  const ctx = await browser.newContext({ javaScriptEnabled: false });
  t.after(() => ctx.close());
  const page = await ctx.newPage();
  await page.goto(base + "/verify");
  await page.getByTestId("file-input").setInputFiles(session.fixtures.tampered_proof);
  await page.getByTestId("verify-submit").click();
  const verdict = page.locator('[data-testid="verdict"]');
  await verdict.waitFor();
  assert.equal(await verdict.getAttribute("data-failed-step"), "signature");
});

test("the alerts page lists what the API lists", async (t) => {
  const page = await pageAs("admin", t);
  await page.goto(base + "/alerts");
  const all = (await api("/v1/alerts")).items;
  close(await num(page, '[data-testid="alert-count"]'), all.length, "alerts");
  assert.equal(await page.locator('[data-testid="alerts"] tbody tr').count(), all.length);
  await shot(page, "alerts");
});
