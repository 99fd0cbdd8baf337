// Checks the console's Prometheus text parser and histogram arithmetic (assets/prom.js)
// in Node, without a browser: hand-computed vectors (../prom/vectors.txt) and a real
// node's exposition (../prom/node_exposition.txt). Run by gateway/console
// TestPromParser; prints "check N: ..." per passed check and "ok N of N".
import { readFileSync } from "node:fs";
import vm from "node:vm";

const src = readFileSync(new URL("../../assets/prom.js", import.meta.url), "utf8");
const sandbox = {};
vm.runInNewContext(src + "\nthis.BizraProm = BizraProm;", sandbox);
const P = sandbox.BizraProm;

let n = 0;
function check(cond, what) {
  if (!cond) {
    console.error("check failed: " + what);
    process.exit(1);
  }
  n++;
  console.log(`check ${n}: ${what}`);
}
const near = (a, b) => a !== null && Math.abs(a - b) < 1e-12;

const v = P.parse(readFileSync(new URL("../prom/vectors.txt", import.meta.url), "utf8"));
check(v.bad === 4, `the four broken lines are counted and skipped (bad=${v.bad})`);
check(P.value(v, "sovereign_queries_total") === 42, "an unlabelled counter");
check(P.value(v, "sovereign_cache_hit_rate") === 0.25, "a value with a timestamp");
check(P.value(v, "sovereign_http_requests_total", { code: "503", route: "/v1/query" }) === 2, "labels in any order");
check(P.value(v, "sovereign_http_requests_total") === null, "a labelled series is not the unlabelled one");
const w = v.get("weird_labels")[0].labels;
check(w.a === 'x"y' && w.b === "line\nbreak" && w.c === "back\\slash" && w.d === "{},= ", "label escapes and punctuation");
check(P.value(v, "spaced_labels", { a: "1", b: "2" }) === 4, "spaces and a trailing comma in labels");
check(P.value(v, "special", { kind: "inf" }) === Infinity && P.value(v, "special", { kind: "ninf" }) === -Infinity &&
  Number.isNaN(P.value(v, "special", { kind: "nan" })), "+Inf, -Inf and NaN");
check(P.value(v, "sci") === 0.0015, "exponent notation");
check(P.value(v, "absent") === null, "an absent series is null");
const d = P.buckets(v, "d");
check(d.length === 5 && d[4].le === Infinity && d[0].le === 0.01, "buckets sorted, +Inf last");
// p50: rank 5 in (0.025, 0.05] holding 4 after 4: 0.025 + 0.025 * 1/4
check(near(P.quantile(0.5, d), 0.03125), "p50 interpolates inside its bucket: " + P.quantile(0.5, d));
// p99: rank 9.9 in (0.05, 0.1] holding 2 after 8: 0.05 + 0.05 * 1.9/2
check(near(P.quantile(0.99, d), 0.0975), "p99 interpolates inside its bucket: " + P.quantile(0.99, d));
check(near(P.quantile(0.2, d), 0.0175), "a rank in the second bucket: " + P.quantile(0.2, d));
const inf = [{ le: 0.1, count: 1 }, { le: Infinity, count: 4 }];
check(P.quantile(0.9, inf) === 0.1, "a rank in +Inf gives the highest finite bound");
check(P.quantile(0.5, [{ le: 0.1, count: 0 }, { le: Infinity, count: 0 }]) === null, "no observation: null");
const later = d.map((b) => ({ le: b.le, count: b.count * 3 }));
const delta = P.delta(d, later);
check(delta.map((b) => b.count).join(",") === "0,8,16,20,20", "bucket deltas between scrapes");
check(P.delta(later, d) === null, "a counter that went down (restart) gives no delta");
check(P.delta(d, d.slice(1)) === null, "buckets that do not line up give no delta");
const per = P.perBucket(d);
check(per.length === 4 && per.map((b) => b.count).join(",") === "0,4,4,2" && per[1].lo === 0.01 && per[1].hi === 0.025,
  "per-bucket counts (the empty +Inf bucket dropped)");

const real = P.parse(readFileSync(new URL("../prom/node_exposition.txt", import.meta.url), "utf8"));
check(real.bad === 0, "a real node's exposition parses whole");
const contract = ["sovereign_queries_total", "sovereign_query_success_rate", "sovereign_snr_score", "sovereign_ihsan_score",
  "sovereign_avg_query_time_ms", "sovereign_health_score", "sovereign_reasoning_calls_total", "sovereign_reasoning_avg_depth",
  "sovereign_validation_pass_rate", "sovereign_autonomous_cycles_total", "sovereign_autonomous_decisions_total",
  "sovereign_autonomous_actions_total", "sovereign_cache_hits_total", "sovereign_cache_misses_total", "sovereign_cache_hit_rate"];
check(contract.every((name) => typeof P.value(real, name) === "number"), "the 15 contract series are found");
for (const h of ["sovereign_query_duration_seconds", "sovereign_query_snr", "sovereign_query_ihsan"]) {
  const b = P.buckets(real, h);
  check(b && b.length > 2 && b[b.length - 1].le === Infinity && b[b.length - 1].count === P.value(real, h + "_count"),
    h + ": +Inf bucket equals _count");
}
console.log(`ok ${n} of ${n}`);
