// Drives headless Chromium (playwright-core, Debian's /usr/bin/chromium) through the
// console of a running node. Run by gateway/console TestBrowserConsole with:
//   BIZRA_URL        the node's API base (http://127.0.0.1:PORT)
//   BIZRA_API_KEY    a key the node accepts (keys are on)
//   BIZRA_QUERIES    JSON array of queries; the first is checked in detail
//   BIZRA_SHOTS      folder for the screenshots
//   CHROMIUM         the browser binary (default /usr/bin/chromium)
// Prints one "check N: ..." line per passed check, "result {json}" with what the page
// showed, and "ok N of N" at the end; exits 1 at the first failed check.
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const base = process.env.BIZRA_URL;
const key = process.env.BIZRA_API_KEY;
const queries = JSON.parse(process.env.BIZRA_QUERIES || "[]");
const shots = process.env.BIZRA_SHOTS;
if (!base || !key || !shots || queries.length === 0) {
  console.error("BIZRA_URL, BIZRA_API_KEY, BIZRA_QUERIES and BIZRA_SHOTS are required");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

let n = 0;
function check(cond, what) {
  if (!cond) throw new Error("check failed: " + what);
  n++;
  console.log(`check ${n}: ${what}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const problems = [];
const result = {};
try {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 800 }, deviceScaleFactor: 1 });
  const page = await ctx.newPage();
  page.setDefaultTimeout(20000);
  // Any script error or CSP violation in the page fails the run. The 401s of the
  // first status probe (before the login) are expected and not errors of the page.
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  // Chromium logs every non-2xx fetch as "Failed to load resource"; the API's 401
  // (before the login) and 503 (the genesis header of a node that is not node0) are
  // answers the page handles. A failed console asset is a problem.
  page.on("console", (m) => {
    if (m.type() === "error" && !/^Failed to load resource/.test(m.text())) problems.push("console error: " + m.text());
  });
  page.on("response", (r) => {
    if (r.status() >= 400 && !new URL(r.url()).pathname.startsWith("/v1/")) problems.push(`asset ${r.url()}: HTTP ${r.status()}`);
  });
  const requests = [];
  page.on("request", (r) => requests.push(r.url()));

  // 1. No key: the login prompt, never a stack trace or node data.
  await page.goto(base + "/", { waitUntil: "load" });
  await page.waitForSelector("#login[open]");
  const body = await page.textContent("body");
  check(!/goroutine|panic|stack trace|Traceback/i.test(body), "no stack trace on the page without a key");
  check((await page.textContent("#node-id")).trim() === "—", "no node data shown before login");
  await page.screenshot({ path: join(shots, "1-login.png") });

  // 2. A wrong key is refused and the prompt stays.
  await page.fill("#login-key", "not-the-key");
  await page.click("#login-submit");
  await page.waitForSelector("#login[open] #login-error:not([hidden])");
  check(/refused/.test(await page.textContent("#login-error")), "a wrong key is refused with the prompt open");
  check((await page.evaluate(() => sessionStorage.getItem("bizra.apiKey"))) === null, "a refused key is not kept");

  // 3. The right key: the overview fills, the key is in sessionStorage.
  await page.fill("#login-key", key);
  await page.click("#login-submit");
  await page.waitForFunction(() => !document.getElementById("login").open);
  await page.waitForFunction(() => /node_/.test(document.getElementById("node-id").textContent));
  check((await page.evaluate(() => sessionStorage.getItem("bizra.apiKey"))) === key, "the accepted key is kept in sessionStorage");
  await page.waitForSelector("#checks tr");
  await page.waitForSelector("#actors tr:nth-child(2)");
  const checks = await page.$$eval("#checks tr", (rows) => rows.map((r) => r.textContent));
  check(checks.some((t) => /^runtime/.test(t)) && checks.some((t) => /^ledger/.test(t)), "health checks are listed: " + checks.length);
  check(checks.some((t) => /^inference.*(embedded|backend)/.test(t)), "the inference check says why");
  const actors = await page.$$eval("#actors tr", (rows) => rows.slice(1).map((r) => r.firstChild.textContent));
  check(actors.includes("worker"), "actors are listed with restarts and mailboxes: " + actors.join(","));

  // 4. A query: the answer, a cited (or evidence) source, the receipt id.
  await page.click('nav a[data-view="query"]');
  await page.fill("#query-text", queries[0]);
  await page.click("#query-submit");
  await page.waitForFunction(() => /^[a-z]+-\d+-[0-9a-f]+$/.test((document.getElementById("r-receipt-id") || {}).textContent || ""));
  result.receipt_id = (await page.textContent("#r-receipt-id")).trim();
  check(/^qr-/.test(result.receipt_id), "the receipt id is shown: " + result.receipt_id);
  result.answer = (await page.textContent("#r-answer")).trim();
  check(result.answer.length > 0, "the answer is shown");
  result.sources = await page.$$eval("#r-citations .source", (s) => s.map((e) => e.textContent));
  result.citations_heading = (await page.textContent("#r-citations-heading")).trim();
  check(result.sources.length > 0 && result.sources[0].length > 0, "a cited source is shown: " + result.sources[0]);
  const evidence = await page.$$eval("#r-evidence .source", (s) => s.map((e) => e.textContent));
  check(evidence.length > 0, "evidence is listed: " + evidence.length);
  const comps = await page.$$eval("#r-components .comp", (r) => r.length);
  check(comps > 0, "score components are listed: " + comps);
  result.verdict = (await page.textContent("#r-verdict")).trim();

  // 5. Verify the receipt through /v1/verify/receipt.
  await page.click("#verify-receipt");
  await page.waitForSelector("#verify-verdict[data-valid]");
  result.verify = (await page.textContent("#verify-verdict")).trim();
  check((await page.getAttribute("#verify-verdict", "data-valid")) === "true", "the receipt verifies: " + result.verify);
  await page.screenshot({ path: join(shots, "2-query.png"), fullPage: true });

  // 6. More queries (one repeated: a cache hit), then the charts fill.
  for (const q of queries.slice(1)) {
    await page.fill("#query-text", q);
    await page.click("#query-submit");
    await page.waitForFunction((q) => !document.getElementById("query-submit").disabled && /answered/.test(document.getElementById("query-state").textContent), q);
  }
  await page.click('nav a[data-view="overview"]');
  await page.waitForFunction(() => ["c-rate", "c-lat", "c-hit"].every((id) => Number(document.getElementById(id).dataset.points) > 0)
    && Number(document.getElementById("c-dist").dataset.total) > 0, null, { timeout: 30000 });
  result.charts = await page.evaluate(() => ({
    rate: document.getElementById("v-rate").textContent, latency: document.getElementById("v-lat").textContent,
    hit: document.getElementById("v-hit").textContent, dist: document.getElementById("v-dist").textContent,
    dist_total: Number(document.getElementById("c-dist").dataset.total),
  }));
  check(true, "the charts are populated: " + JSON.stringify(result.charts));
  // Let one more scrape land so the screenshot shows a line, not a point.
  await page.waitForTimeout(2500);
  await page.screenshot({ path: join(shots, "3-overview.png") });

  // 7. The ledger: recent episodes and the chain verification.
  await page.click('nav a[data-view="ledger"]');
  await page.waitForSelector("#episodes tr.click");
  const episodes = await page.$$eval("#episodes tr.click", (r) => r.length);
  check(episodes > 0, "recent episodes are listed: " + episodes);
  await page.click("#verify-chain");
  await page.waitForSelector("#chain-verdict[data-valid]");
  result.chain = (await page.textContent("#chain-verdict")).trim();
  check((await page.getAttribute("#chain-verdict", "data-valid")) === "true", "the chain verifies: " + result.chain);
  await page.click("#episodes tr.click");
  await page.waitForSelector("#episode-detail:not([hidden])");
  await page.screenshot({ path: join(shots, "4-ledger.png") });

  // 8. The node: identity, genesis/origin, cluster.
  await page.click('nav a[data-view="node"]');
  await page.waitForSelector("#genesis tr");
  await page.click("#verify-genesis");
  await page.waitForFunction(() => /valid|✗/.test(document.getElementById("genesis-verdict").textContent) && !/verifying/.test(document.getElementById("genesis-verdict").textContent));
  result.genesis = (await page.textContent("#genesis-verdict")).trim();
  result.cluster = (await page.textContent("#cluster")).trim();
  check(result.genesis.length > 0, "the genesis verdict is shown: " + result.genesis);
  await page.screenshot({ path: join(shots, "5-node.png") });

  // 9. Citations and cluster members, when the node sends them: /v1/query answers
  // the fixture (an answer with [n] markers and its citations), /v1/status carries a
  // cluster object beside the node's own document.
  const fixture = readFileSync(new URL("./query_with_citations.json", import.meta.url), "utf8");
  const cluster = JSON.parse(readFileSync(new URL("./cluster_status.json", import.meta.url), "utf8"));
  await page.route("**/v1/query", (r) => r.fulfill({ status: 200, contentType: "application/json", body: fixture }));
  await page.route("**/v1/status", async (r) => {
    const real = await r.fetch();
    const doc = await real.json();
    doc.cluster = cluster.cluster;
    doc.index = Object.assign(doc.index || {}, cluster.index);
    await r.fulfill({ response: real, body: JSON.stringify(doc) });
  });
  await page.click('nav a[data-view="query"]');
  await page.fill("#query-text", "fixture: an answer with citations");
  await page.click("#query-submit");
  await page.waitForFunction(() => /f1f1f1f1/.test((document.getElementById("r-receipt-id") || {}).textContent || ""));
  const cites = await page.$$eval("#r-citations li", (l) => l.map((e) => e.textContent));
  check((await page.textContent("#r-citations-heading")).trim() === "Citations" && cites.length === 2 &&
    /^\[1\]RUNBOOK\.md L82–88How to check bridge health/.test(cites[0]), "citations are shown with marker, source and lines: " + cites[0]);
  check(/answered by node_fixture_member_b/.test(await page.textContent("#r-meta")), "the answering member is shown");
  await page.screenshot({ path: join(shots, "6-citations.png") });
  // An error answer is shown as its code, message and request id, never as a trace.
  await page.unroute("**/v1/query");
  await page.route("**/v1/query", (r) => r.fulfill({ status: 503, contentType: "application/json", headers: { "Retry-After": "1" },
    body: JSON.stringify({ error: "Too many queries in flight, retry later", code: "OVERLOADED", request_id: "req-fixture-1" }) }));
  await page.click("#query-submit");
  await page.waitForFunction(() => /OVERLOADED/.test(document.getElementById("query-state").textContent));
  check((await page.textContent("#query-state")).trim() === "OVERLOADED: Too many queries in flight, retry later (request req-fixture-1)",
    "an error answer shows its code, message and request id");
  await page.click('nav a[data-view="node"]');
  await page.waitForFunction(() => document.querySelectorAll("#cluster table.grid tr").length === 4);
  const members = await page.$$eval("#cluster table.grid tr", (r) => r.slice(1).map((e) => e.firstChild.textContent));
  check(members.join(",") === "node_fixture_member_a,node_fixture_member_b,node_fixture_member_c", "cluster members are listed: " + members.join(","));
  await page.screenshot({ path: join(shots, "7-cluster.png") });
  // unreadable lake files are counted and named on the overview (the fixture adds two)
  await page.click('nav a[data-view="overview"]');
  await page.waitForFunction(() => /notes\/locked\.md \(permission denied\)/.test(document.getElementById("index").textContent));
  check(/unreadable2: notes\/locked\.md \(permission denied\), old\/broken\.txt/.test(await page.textContent("#index")), "unreadable lake files are counted and named");
  check(/stateindexing: 1,234 of 20,000 files, 2,468 passages, 2,500 files\/s/.test(await page.textContent("#index")), "indexing progress is shown");
  check(/scanning: 1,234 of 20,000 files; the API answers meanwhile/.test(await page.textContent("#checks")), "the index check says it is scanning");
  await page.screenshot({ path: join(shots, "8-index-fixture.png") });
  await page.unroute("**/v1/query");
  await page.unroute("**/v1/status");

  // 10. Asked once: a reload keeps the key (sessionStorage), no prompt.
  await page.reload({ waitUntil: "load" });
  await page.waitForFunction(() => /node_/.test(document.getElementById("node-id").textContent));
  check(!(await page.evaluate(() => document.getElementById("login").open)), "a reload does not ask for the key again");

  // 11. "Forget key" clears it and brings the prompt back.
  await page.click("#logout");
  await page.waitForSelector("#login[open]");
  check((await page.evaluate(() => sessionStorage.getItem("bizra.apiKey"))) === null, "forget key clears sessionStorage and asks again");

  // 12. Nothing left the node's origin.
  const foreign = requests.filter((u) => !u.startsWith(base + "/") && !u.startsWith("data:"));
  check(foreign.length === 0, "no request to another origin" + (foreign.length ? ": " + foreign.join(" ") : ""));
  check(problems.length === 0, "no script error or CSP violation" + (problems.length ? ": " + problems.join("; ") : ""));
  console.log("result " + JSON.stringify(result));
  console.log(`ok ${n} of ${n}`);
} catch (e) {
  console.log("result " + JSON.stringify(result));
  if (problems.length) console.error("page problems: " + problems.join("; "));
  console.error(String(e && e.stack ? e.stack : e));
  process.exitCode = 1;
} finally {
  await browser.close();
}
