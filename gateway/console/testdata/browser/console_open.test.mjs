// The console on a node with API keys off: no login prompt, the data shows at once,
// no "Forget key". Run by gateway/console TestBrowserConsoleKeysOff with BIZRA_URL and
// CHROMIUM; prints "check N: ..." and "ok N of N".
import { chromium } from "playwright-core";

const base = process.env.BIZRA_URL;
let n = 0;
function check(cond, what) {
  if (!cond) throw new Error("check failed: " + what);
  n++;
  console.log(`check ${n}: ${what}`);
}
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
try {
  const page = await (await browser.newContext({ viewport: { width: 1366, height: 800 } })).newPage();
  page.setDefaultTimeout(20000);
  const problems = [];
  page.on("pageerror", (e) => problems.push(e.message));
  page.on("console", (m) => { if (m.type() === "error" && !/^Failed to load resource/.test(m.text())) problems.push(m.text()); });
  await page.goto(base + "/", { waitUntil: "load" });
  await page.waitForFunction(() => /node_/.test(document.getElementById("node-id").textContent));
  check(!(await page.evaluate(() => document.getElementById("login").open)), "no login prompt when keys are off");
  check(await page.isHidden("#logout"), "no forget-key button without a key");
  await page.waitForSelector("#checks tr");
  check((await page.$$("#actors tr")).length > 1, "the overview fills without a key");
  check(problems.length === 0, "no script error: " + problems.join("; "));
  console.log(`ok ${n} of ${n}`);
} catch (e) {
  console.error(String(e && e.stack ? e.stack : e));
  process.exitCode = 1;
} finally {
  await browser.close();
}
