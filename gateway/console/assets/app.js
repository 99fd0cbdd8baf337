// app.js: the bizra console. Everything it shows comes from the node's API, with the
// API key (when the node wants one) from this tab's sessionStorage. Text from the node
// is only ever set as textContent, never parsed as HTML.
"use strict";
(function () {
  var KEY = "bizra.apiKey";
  var POLL_MS = 2000;
  var HISTORY = 150; // chart points kept: 5 minutes at one scrape every 2 s
  var PAGE = 20; // episodes per ledger page
  var COUNTS = { evidence_used: 1, sentences: 1, sources: 1, policy_hits: 1 };

  var st = {
    key: sessionStorage.getItem(KEY) || "",
    running: false,
    gen: 0,
    timer: null,
    prev: null,
    series: { rate: [], p50: [], p99: [], hit: [] },
    dist: null,
    status: null,
    health: null,
    genesis: null,
    result: null,
    epOffset: 0,
    epTotal: 0,
  };

  function $(id) { return document.getElementById(id); }

  // el builds an element; attrs are attributes ("class", "data-*", ...), children are
  // nodes or strings (text).
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, attrs[k]);
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      e.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
    });
    return e;
  }

  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }

  function fmt(v, digits) {
    if (v === null || v === undefined) return "—";
    if (typeof v === "number") {
      if (!isFinite(v)) return String(v);
      if (Number.isInteger(v)) return v.toLocaleString("en");
      return v.toFixed(digits === undefined ? 3 : digits);
    }
    if (typeof v === "boolean") return v ? "yes" : "no";
    if (Array.isArray(v)) {
      // a list of records shows their ids (agents, members), anything else as JSON
      var shown = v.slice(0, 8).map(function (x) {
        if (x === null || typeof x !== "object") return String(x);
        var id = x.agent_id || x.id || x.name;
        return id ? String(id) + (x.role ? " (" + x.role + ")" : "") : JSON.stringify(x);
      });
      return shown.join(", ") + (v.length > 8 ? " … (" + v.length + ")" : "");
    }
    if (typeof v === "object") {
      // a flat record reads as "key value, key value"; a nested one as JSON
      var ks = Object.keys(v), flat = ks.every(function (k) { return v[k] === null || typeof v[k] !== "object"; });
      return flat ? ks.map(function (k) { return k.replace(/_/g, " ") + " " + fmt(v[k]); }).join(", ") : JSON.stringify(v);
    }
    return v === "" ? "—" : String(v);
  }

  // score shows a score with three decimals, 1 as 1.000 like 0.973
  function score(v) { return typeof v === "number" ? v.toFixed(3) : fmt(v); }

  function short(h) { return typeof h === "string" && h.length > 16 ? h.slice(0, 12) + "…" : fmt(h); }

  function pill(e, text, kind) {
    e.textContent = text;
    e.className = "pill " + (kind || "");
  }

  function kindOf(v) {
    if (v === true || v === "ready" || v === "healthy" || v === "APPROVED" || v === "ok") return "ok";
    if (v === false || v === "offline" || v === "unhealthy" || v === "REJECTED" || v === "dead" || v === "down" || v === "failed" || v === "unreachable") return "bad";
    if (v === null || v === undefined) return "off";
    return "warn";
  }

  // kv fills a two-column table; rows are [label, value, kind?, note?].
  function kv(table, rows) {
    clear(table);
    rows.forEach(function (r) {
      var text = fmt(r[1]);
      var val = el("td", { class: (r[2] ? "v " + r[2] : "v") + (text.length < 24 ? " nw" : "") }, [text]);
      var tr = el("tr", null, [el("th", null, [r[0]]), val]);
      if (r[3]) tr.appendChild(el("td", { class: "why" }, [r[3]]));
      table.appendChild(tr);
    });
  }

  function grid(table, head, rows) {
    clear(table);
    table.appendChild(el("tr", null, head.map(function (h) { return el("th", null, [h]); })));
    rows.forEach(function (r) { table.appendChild(r); });
  }

  // ---- API ---------------------------------------------------------------------

  function ApiError(status, code, message, requestId) {
    this.status = status; this.code = code; this.message = message; this.requestId = requestId;
  }
  ApiError.prototype.toString = function () {
    return this.code + ": " + this.message + (this.requestId ? " (request " + this.requestId + ")" : "");
  };

  // api calls the node. opts: method, body (a string), accept (extra statuses that
  // are answers, not errors). A 401 brings the login prompt back.
  function api(path, opts) {
    opts = opts || {};
    var headers = {};
    if (st.key) headers["X-API-Key"] = st.key;
    if (opts.body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(path, { method: opts.method || "GET", headers: headers, body: opts.body, cache: "no-store", credentials: "omit" })
      .catch(function (e) { throw new ApiError(0, "UNREACHABLE", "the node did not answer (" + e.message + ")"); })
      .then(function (r) {
        return r.text().then(function (text) {
          var json = null;
          try { json = JSON.parse(text); } catch (e) { /* not JSON: metrics, or a broken answer */ }
          var rid = r.headers.get("X-Request-Id");
          if (r.status === 401) {
            login(st.key ? "The node refused this key." : "");
            throw new ApiError(401, "UNAUTHORIZED", "an API key is required", rid);
          }
          if (!r.ok && !(opts.accept && opts.accept.indexOf(r.status) >= 0)) {
            var code = json && json.code ? json.code : "HTTP_" + r.status;
            var msg = json && json.error ? (typeof json.error === "string" ? json.error : json.error.message) : "HTTP " + r.status;
            throw new ApiError(r.status, code, msg, (json && json.request_id) || rid);
          }
          return { status: r.status, json: json, text: text, requestId: rid };
        });
      });
  }

  function banner(msg) {
    var b = $("banner");
    b.hidden = !msg;
    b.textContent = msg || "";
  }

  // ---- login -------------------------------------------------------------------

  function login(message) {
    stop();
    st.key = "";
    sessionStorage.removeItem(KEY);
    $("logout").hidden = true;
    var err = $("login-error");
    err.hidden = !message;
    err.textContent = message || "";
    var d = $("login");
    if (!d.open) d.showModal();
    $("login-key").value = "";
    $("login-key").focus();
  }

  function onLogin(ev) {
    ev.preventDefault();
    var key = $("login-key").value.trim();
    if (!key) return;
    st.key = key;
    $("login").close();
    // The key is kept only once the node accepted it.
    api("/v1/status").then(function (r) {
      sessionStorage.setItem(KEY, key);
      $("logout").hidden = false;
      onStatus(r.json);
      start();
    }, function (e) { if (e.status !== 401) login("Could not check the key: " + e); });
  }

  // ---- polling -----------------------------------------------------------------

  // start begins a scrape loop; each loop carries its generation, so a scrape still in
  // flight when the loop is stopped (a 401, "Forget key") never schedules another.
  function start() {
    if (st.running) return;
    st.running = true;
    st.gen++;
    tick(st.gen);
    showView();
  }

  function stop() {
    st.running = false;
    st.gen++;
    if (st.timer) clearTimeout(st.timer);
    st.timer = null;
  }

  function tick(gen) {
    if (!st.running || gen !== st.gen) return;
    var next = function () { if (st.running && gen === st.gen) st.timer = setTimeout(function () { tick(gen); }, POLL_MS); };
    if (document.hidden) {
      // a background tab costs the node nothing; the next scrape's deltas span the gap
      next();
      return;
    }
    var t = Date.now();
    Promise.all([
      api("/v1/health", { accept: [503] }),
      api("/v1/status"),
      api("/v1/metrics"),
    ]).then(function (rs) {
      if (gen !== st.gen) return; // stopped meanwhile (signed out)
      onHealth(rs[0].json);
      onStatus(rs[1].json);
      onMetrics(rs[2].text, t);
      banner("");
      $("scrape-state").textContent = "updated " + new Date(t).toLocaleTimeString("en-GB");
    }, function (e) {
      if (e.status !== 401) banner("scrape failed: " + e);
    }).then(next);
  }

  // ---- overview ----------------------------------------------------------------

  function onHealth(h) {
    st.health = h;
    if (!h) return;
    pill($("health-pill"), h.status, kindOf(h.status));
    pill($("health-status"), h.status, kindOf(h.status));
    renderChecks();
  }

  // why explains one health check from the status document.
  function why(name, v) {
    var s = st.status || {};
    switch (name) {
      case "runtime":
        return s.state ? (s.state.running ? "running" : "not running") + ", mode " + s.state.mode : "";
      case "ledger":
        if (!s.ledger) return "";
        if (s.ledger.write_error) return "writes fail: " + s.ledger.write_error;
        if (s.ledger.damage) return "damage: " + fmt(s.ledger.damage);
        if (s.ledger.verified === false) return "chain did not verify on boot";
        return s.ledger.episodes + " episodes, chain verified on boot";
      case "receipts":
        if (!s.receipts) return "";
        if (s.receipts.write_failing) return "receipt log writes are failing";
        return s.receipts.issued + " issued, " + s.receipts.sealed_batches + " batches sealed, " + s.receipts.pending + " pending";
      case "inference": {
        var inf = s.inference;
        if (!inf) return "";
        var bs = inf.backends || [];
        if (bs.length === 0) return "no external model configured: the embedded extractive engine (" + inf.model + ") answers";
        var down = bs.filter(function (b) { return b.status !== "ready" || (b.circuit && b.circuit !== "closed"); });
        if (down.length === 0) return bs.length + " backend(s) ready, using " + inf.backend;
        return down.map(function (b) { return b.name + " " + b.status + (b.circuit ? " (circuit " + b.circuit + ")" : ""); }).join("; ");
      }
      case "bridge":
        if (v === null) return "no bridge on this node";
        if (!s.bridge) return "";
        return s.bridge.listening ? "listening on " + s.bridge.address + ", " + s.bridge.connections + " connection(s)" : "not listening";
      case "index": {
        var ix = s.index;
        if (!ix) return "";
        if (ix.scanning && ix.files_total) return "scanning: " + fmt(ix.files_done) + " of " + fmt(ix.files_total) + " files; the API answers meanwhile";
        if (ix.last_error) return "last scan failed: " + ix.last_error;
        return fmt(ix.passages) + " passages from " + fmt(ix.files) + " files" + (ix.unreadable > 0 ? ", " + ix.unreadable + " unreadable" : "");
      }
      case "genesis": {
        var g = st.genesis;
        if (v === true) return s.identity && s.identity.origin ? "origin " + s.identity.origin.designation : "";
        return g && g.reason ? g.reason : "";
      }
    }
    return typeof v === "object" && v !== null ? fmt(v) : "";
  }

  function renderChecks() {
    var h = st.health;
    if (!h) return;
    var rows = Object.keys(h.checks || {}).sort().map(function (k) {
      var v = h.checks[k];
      return [k, v === null ? "off" : typeof v === "object" ? (v.status || v.state || "…") : v, kindOf(typeof v === "object" && v !== null ? (v.status || v.state) : v), why(k, v)];
    });
    Object.keys(h).forEach(function (k) {
      if (["status", "version", "uptime_s", "checks"].indexOf(k) < 0) rows.push([k, h[k], "", ""]);
    });
    kv($("checks"), rows);
  }

  function onStatus(s) {
    if (!s) return;
    st.status = s;
    var id = s.identity || {};
    var up = s.metrics ? s.metrics.uptime_seconds : null;
    $("node-id").textContent = [id.node_id, id.role, id.version ? "v" + id.version : null, up !== null ? "up " + dur(up) : null]
      .filter(Boolean).join(" · ");
    var q = (s.metrics && s.metrics.queries) || {};
    var quality = (s.metrics && s.metrics.quality) || {};
    kv($("load"), [
      ["in flight", q.in_flight, q.in_flight > 0 ? "warn" : ""],
      ["queued", q.queued, q.queued > 0 ? "warn" : ""],
      ["processed", q.processed],
      ["succeeded / failed", fmt(q.succeeded) + " / " + fmt(q.failed), q.failed > 0 ? "warn" : ""],
      ["mean time", q.avg_time_ms !== undefined ? fmt(q.avg_time_ms, 1) + " ms" : null],
      ["mean SNR / Ihsan", quality.window === 0 ? "— (nothing scored yet)" : fmt(quality.snr_score) + " / " + fmt(quality.ihsan_score)],
      ["health score", s.health ? s.health.score : null],
    ]);
    var actors = s.actors || {};
    grid($("actors"), ["kind", "policy", "children", "restarts", "escal.", "mailbox"], Object.keys(actors).sort().map(function (k) {
      var a = actors[k];
      return el("tr", null, [el("td", null, [k]), el("td", null, [fmt(a.policy)]), el("td", null, [fmt(a.children)]),
        el("td", { class: a.restarts > 0 ? "warn" : "" }, [fmt(a.restarts)]),
        el("td", { class: a.escalations > 0 ? "bad" : "" }, [fmt(a.escalations)]), el("td", null, [fmt(a.mailbox)])]);
    }));
    renderIndex(s.index || {});
    var inf = s.inference || {};
    var rows = [["backend", inf.backend], ["model", inf.model], ["status", inf.status, kindOf(inf.status)]];
    (inf.backends || []).forEach(function (b) {
      rows.push([b.name, b.status + (b.circuit ? ", circuit " + b.circuit : ""), kindOf(b.status), b.url]);
    });
    kv($("inference"), rows);
    renderCluster();
    renderNode();
    renderChecks();
  }

  // renderIndex shows the served index and the lake's scan: progress while indexing,
  // the last scan, the saved copy, and the unreadable files by name.
  function renderIndex(ix) {
    var rows = [], skipped = [];
    if (ix.state !== undefined) {
      var st8 = ix.state + (ix.scanning && ix.files_total ? ": " + fmt(ix.files_done) + " of " + fmt(ix.files_total) + " files, " +
        fmt(ix.passages_done) + " passages, " + fmt(Math.round(ix.files_per_s || 0)) + " files/s" : "");
      rows.push(["state", st8, kindOf(ix.state === "ready" ? true : ix.state === "failed" ? false : ix.state)]);
    }
    rows.push(["served", fmt(ix.files) + " files, " + fmt(ix.passages) + " passages, " + fmt(ix.terms) + " terms, " + bytes(ix.bytes)]);
    if (ix.last_scan_at) rows.push(["last scan", fmt(ix.last_scan_read) + " file(s) read in " + fmt(ix.last_scan_ms, 1) + " ms, " +
      new Date(ix.last_scan_at).toLocaleTimeString("en-GB") + " (scan " + fmt(ix.scans) + ")"]);
    else if (ix.duration_ns !== undefined) rows.push(["build time", fmt(ix.duration_ns / 1e6, 1) + " ms"]);
    var sv = ix.saved;
    if (sv && sv.enabled) {
      // "missing" is a first start, not a fault; any other discard reason is (a corrupt
      // or foreign saved index, rebuilt)
      var atStart = sv.loaded ? "reused at start (" + fmt(sv.load_ms, 1) + " ms)" : sv.discarded === "missing" ? "none at start"
        : sv.discarded ? "discarded at start: " + sv.discarded : "";
      var savedAt = sv.saved_at && new Date(sv.saved_at).getUTCFullYear() > 1 ? "saved " + new Date(sv.saved_at).toLocaleTimeString("en-GB") + ", " + bytes(sv.bytes)
        : sv.pending_save ? "save pending" : "not saved yet";
      rows.push(["saved", sv.save_error ? "save failed: " + sv.save_error : [atStart, savedAt, sv.read_only ? "read-only" : ""].filter(Boolean).join("; "),
        sv.save_error || (sv.discarded && sv.discarded !== "missing") ? "warn" : ""]);
    }
    if (ix.watching !== undefined) rows.push(["watching", ix.watching ? fmt(ix.watched_dirs) + " folder(s), plus periodic rescans" : "no (periodic rescans only)"]);
    if (ix.last_error) rows.push(["last error", ix.last_error, "bad"]);
    Object.keys(ix).forEach(function (k) {
      if (/^skipped_/.test(k) && ix[k] > 0) skipped.push(k.slice(8) + " " + ix[k]);
    });
    rows.push(["skipped", skipped.length ? skipped.join(", ") : "none", skipped.length ? "warn" : ""]);
    if (ix.unreadable > 0) {
      var names = (ix.unreadable_files || []).map(function (u) { return u.path + (u.error ? " (" + u.error + ")" : ""); });
      rows.push(["unreadable", fmt(ix.unreadable) + (names.length ? ": " + names.slice(0, 5).join(", ") + (ix.unreadable > 5 ? " …" : "") : ""), "warn"]);
    }
    kv($("index"), rows);
  }

  function bytes(n) {
    if (typeof n !== "number") return "—";
    if (n < 1024) return n + " B";
    if (n < 1 << 20) return (n / 1024).toFixed(1) + " KiB";
    if (n < 1 << 30) return (n / (1 << 20)).toFixed(1) + " MiB";
    return (n / (1 << 30)).toFixed(2) + " GiB";
  }

  function dur(sec) {
    if (sec < 120) return Math.round(sec) + "s";
    if (sec < 7200) return Math.round(sec / 60) + "m";
    if (sec < 172800) return Math.round(sec / 3600) + "h";
    return Math.round(sec / 86400) + "d";
  }

  // ---- metrics and charts ------------------------------------------------------

  function push(list, p) {
    list.push(p);
    if (list.length > HISTORY) list.splice(0, list.length - HISTORY);
  }

  function onMetrics(text, t) {
    var P = BizraProm, m = P.parse(text);
    var cur = {
      t: t,
      queries: P.value(m, "sovereign_queries_total"),
      hits: P.value(m, "sovereign_cache_hits_total"),
      misses: P.value(m, "sovereign_cache_misses_total"),
      dur: P.buckets(m, "sovereign_query_duration_seconds"),
    };
    var prev = st.prev;
    if (prev && cur.queries !== null && prev.queries !== null && cur.queries >= prev.queries) {
      var dt = (t - prev.t) / 1000;
      push(st.series.rate, { t: t, v: dt > 0 ? (cur.queries - prev.queries) / dt : null });
      var d = P.delta(prev.dur, cur.dur);
      var p50 = P.quantile(0.5, d), p99 = P.quantile(0.99, d);
      push(st.series.p50, { t: t, v: p50 === null ? null : p50 * 1000 });
      push(st.series.p99, { t: t, v: p99 === null ? null : p99 * 1000 });
      var dh = cur.hits - prev.hits, dm = cur.misses - prev.misses;
      push(st.series.hit, { t: t, v: dh >= 0 && dm >= 0 && dh + dm > 0 ? dh / (dh + dm) : null });
    } else if (prev) {
      // the node restarted (a counter went down): the charts start over
      st.series = { rate: [], p50: [], p99: [], hit: [] };
    }
    st.prev = cur;
    st.dist = {
      snr: P.perBucket(P.buckets(m, "sovereign_query_snr")),
      ihsan: P.perBucket(P.buckets(m, "sovereign_query_ihsan")),
      snrMean: P.value(m, "sovereign_snr_score"),
      ihsanMean: P.value(m, "sovereign_ihsan_score"),
      hitRate: cur.hits + cur.misses > 0 ? P.value(m, "sovereign_cache_hit_rate") : null, // 0 before any lookup
    };
    drawCharts();
  }

  function last(list) {
    for (var i = list.length - 1; i >= 0; i--) if (list[i].v !== null) return list[i].v;
    return null;
  }

  function drawCharts() {
    if ($("view-overview").hidden) return;
    var s = st.series;
    $("v-rate").textContent = last(s.rate) === null ? "" : fmt(last(s.rate), 2) + " /s";
    line($("c-rate"), [{ points: s.rate, color: "#2b6cb0", name: "queries/s" }], { fmt: tick3 });
    $("v-lat").textContent = last(s.p50) === null ? "" : last(s.p50).toFixed(1) + " / " + last(s.p99).toFixed(1) + " ms";
    line($("c-lat"), [{ points: s.p50, color: "#2f855a", name: "p50 ms" }, { points: s.p99, color: "#c05621", name: "p99 ms" }],
      { fmt: tick3 });
    var hr = st.dist ? st.dist.hitRate : null;
    $("v-hit").textContent = last(s.hit) === null ? "" : pct(last(s.hit));
    line($("c-hit"), [{ points: s.hit, color: "#6b46c1", name: "per interval" + (hr === null ? "" : " · since start " + pct(hr)) }], { max: 1, fmt: pct });
    var d = st.dist || {};
    var scored = d.snr ? d.snr.reduce(function (a, b) { return a + b.count; }, 0) : 0;
    $("v-dist").textContent = !scored || d.snrMean === null || d.snrMean === undefined ? "" : "mean " + d.snrMean.toFixed(2) + " / " + d.ihsanMean.toFixed(2);
    bars($("c-dist"), [{ buckets: d.snr, color: "#2b6cb0", name: "SNR" }, { buckets: d.ihsan, color: "#d69e2e", name: "Ihsan" }]);
  }

  // tick3 labels an axis tick with the digits it needs (0.25, 2.5, 250).
  function tick3(v) { return v === 0 ? "0" : v < 1 ? v.toFixed(2) : v < 10 ? v.toFixed(1) : v.toFixed(0); }

  function pct(v) { return (v * 100).toFixed(v === 1 || v === 0 ? 0 : 1) + "%"; }

  // canvas sizes the canvas to its box at the device's pixel ratio.
  function canvas(c) {
    var r = window.devicePixelRatio || 1, w = c.clientWidth, h = c.clientHeight;
    if (c.width !== Math.round(w * r) || c.height !== Math.round(h * r)) {
      c.width = Math.round(w * r);
      c.height = Math.round(h * r);
    }
    var g = c.getContext("2d");
    g.setTransform(r, 0, 0, r, 0, 0);
    g.clearRect(0, 0, w, h);
    g.font = "11px system-ui, sans-serif";
    return { g: g, w: w, h: h };
  }

  function niceMax(v) {
    if (!(v > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v))), n = v / p;
    return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * p;
  }

  // line draws time series over the last HISTORY scrapes; null points are gaps (no
  // traffic in that interval). data-points counts the points drawn.
  function line(c, lines, opts) {
    var k = canvas(c), g = k.g, L = 40, R = 8, T = 18, B = 16, W = k.w - L - R, H = k.h - T - B;
    // The window grows with the history: one minute at first, five once it is full.
    var now = Date.now(), first = now, max = opts.max || 0, n = 0;
    lines.forEach(function (l) { if (l.points.length && l.points[0].t < first) first = l.points[0].t; });
    var span = Math.min(HISTORY * POLL_MS, Math.max(60000, now - first));
    if (!opts.max) lines.forEach(function (l) { l.points.forEach(function (p) { if (p.v !== null && p.v > max) max = p.v; }); });
    max = opts.max || niceMax(max);
    g.strokeStyle = "#e2e8f0"; g.fillStyle = "#718096"; g.lineWidth = 1;
    // round ticks: a maximum of 1, 5 or 10 (times a power of ten) in fifths, 2 in quarters
    var steps = Math.round(max / Math.pow(10, Math.floor(Math.log10(max)))) === 2 ? 4 : 5;
    for (var i = 0; i <= steps; i++) {
      var y = T + H - (H * i) / steps;
      g.beginPath(); g.moveTo(L, y); g.lineTo(L + W, y); g.stroke();
      g.fillText(opts.fmt((max * i) / steps), 2, y + 4);
    }
    g.fillText("-" + Math.round(span / 60000) + " min", L, k.h - 3);
    g.fillText("now", L + W - 20, k.h - 3);
    lines.forEach(function (l, li) {
      g.strokeStyle = l.color; g.fillStyle = l.color; g.lineWidth = 1.6;
      g.beginPath();
      var open = false;
      var pts = l.points;
      pts.forEach(function (p, i) {
        if (p.v === null) { open = false; return; }
        var x = L + W - ((now - p.t) / span) * W, y = T + H - (Math.min(p.v, max) / max) * H;
        if (x < L) return;
        n++;
        if (open) g.lineTo(x, y); else g.moveTo(x, y);
        open = true;
        // a point with no neighbour (traffic in one interval only) is a dot
        var alone = (i === 0 || pts[i - 1].v === null) && (i === pts.length - 1 || pts[i + 1].v === null);
        if (alone) g.fillRect(x - 2, y - 2, 4, 4);
      });
      g.stroke();
      g.fillText(l.name, L + 4 + li * 70, 12);
    });
    if (n === 0) { g.fillStyle = "#a0aec0"; g.fillText("no queries yet in this window", L + W / 2 - 70, T + H / 2); }
    c.setAttribute("data-points", String(n));
  }

  // bars draws two histograms side by side, one group per bucket, labelled by the
  // bucket's upper bound. data-total counts the observations drawn.
  function bars(c, sets) {
    var k = canvas(c), g = k.g, L = 30, R = 6, T = 18, B = 16, W = k.w - L - R, H = k.h - T - B;
    var ref = sets[0].buckets || sets[1].buckets, total = 0;
    if (!ref) {
      g.fillStyle = "#a0aec0";
      g.fillText("this node exports no score histogram", L, T + H / 2);
      c.setAttribute("data-total", "0");
      return;
    }
    var max = 0;
    sets.forEach(function (s) { (s.buckets || []).forEach(function (b) { if (b.count > max) max = b.count; }); });
    if (max === 0) {
      g.fillStyle = "#a0aec0";
      g.fillText("no scored query yet", L + W / 2 - 50, T + H / 2);
    }
    max = Math.max(2, niceMax(max));
    g.strokeStyle = "#e2e8f0"; g.fillStyle = "#718096";
    for (var i = 0; i <= 2; i++) {
      var y = T + H - (H * i) / 2;
      g.beginPath(); g.moveTo(L, y); g.lineTo(L + W, y); g.stroke();
      g.fillText(tick3((max * i) / 2), 2, y + 4);
    }
    var gw = W / ref.length, bw = Math.max(1, (gw - 4) / sets.length);
    ref.forEach(function (b, bi) {
      sets.forEach(function (s, si) {
        var v = s.buckets && s.buckets[bi] ? s.buckets[bi].count : 0;
        total += v;
        g.fillStyle = s.color;
        var h = (v / max) * H;
        g.fillRect(L + bi * gw + 2 + si * bw, T + H - h, bw - 1, h);
      });
      if ((ref.length - 1 - bi) % 2 === 0) {
        // every other upper bound, the last one included
        var label = b.hi === Infinity ? ">1" : "≤" + b.hi;
        g.fillStyle = "#718096";
        g.fillText(label, L + bi * gw + gw / 2 - g.measureText(label).width / 2, k.h - 3);
      }
    });
    sets.forEach(function (s, si) { g.fillStyle = s.color; g.fillText(s.name, L + 4 + si * 50, 12); });
    g.fillStyle = "#718096";
    g.fillText(total / sets.length + " scored", L + W - 70, 12);
    c.setAttribute("data-total", String(total));
  }

  // ---- query -------------------------------------------------------------------

  function onQuery(ev) {
    ev.preventDefault();
    var text = $("query-text").value.trim();
    if (!text) return;
    var depth = parseInt($("query-depth").value, 10) || 3;
    var t0 = performance.now();
    $("query-submit").disabled = true;
    $("query-state").textContent = "running…";
    $("query-state").className = "muted";
    api("/v1/query", { method: "POST", body: JSON.stringify({ query: text, max_depth: depth }) }).then(function (r) {
      $("query-state").textContent = "answered in " + Math.round(performance.now() - t0) + " ms";
      renderResult(r.json);
    }, function (e) {
      $("query-state").textContent = String(e);
      $("query-state").className = "bad";
    }).then(function () { $("query-submit").disabled = false; });
  }

  function renderResult(res) {
    st.result = res;
    $("result").hidden = false;
    var q = res.quality || {};
    pill($("r-verdict"), q.verdict || (res.success ? "no score" : "failed"), kindOf(q.verdict || (res.success ? null : false)));
    var ans = clear($("r-answer")), hasCites = !!(res.citations && res.citations.length);
    if (!res.success) ans.textContent = (res.error || "no answer") + (res.error_code ? " (" + res.error_code + ")" : "");
    else if (!hasCites) ans.textContent = res.answer;
    else {
      // the [n] markers stand out, as text nodes (never HTML)
      String(res.answer).split(/(\[\d+\])/).forEach(function (part) {
        ans.appendChild(/^\[\d+\]$/.test(part) ? el("span", { class: "marker" }, [part]) : document.createTextNode(part));
      });
    }
    var meta = [res.model_used, res.cached ? "cache hit" : null, res.degraded ? "degraded: " + res.degraded_reason : null,
      res.timing ? fmt(res.timing.total_ms, 1) + " ms" : null,
      q.snr !== undefined && q.snr !== null ? "SNR " + score(q.snr) + (q.snr_ok ? " ✓" : " ✗") : null,
      q.ihsan !== undefined && q.ihsan !== null ? "Ihsan " + score(q.ihsan) : null,
      res.answered_by ? "answered by " + res.answered_by : null];
    $("r-meta").textContent = meta.filter(Boolean).join(" · ");

    var cites = $("r-citations"), ev = res.evidence || [];
    clear(cites);
    cites.className = hasCites ? "cites marked" : "cites";
    $("r-citations-heading").textContent = res.citations && res.citations.length ? "Citations" : "Sources (from the evidence)";
    if (res.citations && res.citations.length) {
      res.citations.forEach(function (c) {
        var lines = Array.isArray(c.lines) ? " L" + c.lines[0] + (c.lines[1] !== c.lines[0] ? "–" + c.lines[1] : "") : "";
        cites.appendChild(el("li", { class: "cite" }, [el("span", { class: "marker" }, [c.marker !== undefined ? "[" + c.marker + "]" : ""]),
          el("span", { class: "source mono" }, [c.source + lines]), c.excerpt ? el("div", { class: "excerpt" }, [c.excerpt]) : null]));
      });
    } else {
      var seen = {};
      ev.forEach(function (e) {
        if (seen[e.source]) return;
        seen[e.source] = true;
        cites.appendChild(el("li", { class: "cite" }, [el("span", { class: "source mono" }, [e.source])]));
      });
      if (ev.length === 0) cites.appendChild(el("li", { class: "muted" }, ["no local evidence"]));
    }

    var rc = res.receipt || {};
    kv($("r-receipt"), [["receipt id", rc.receipt_id], ["leaf hash", rc.leaf_hash], ["status", rc.status, kindOf(rc.status === "accepted" ? true : rc.status)],
      ["episode", res.episode ? "#" + res.episode.sequence + " " + short(res.episode.hash) : "none (not committed: cache hit or below threshold)"],
      ["graph hash", res.graph_hash], ["query id", res.id]]);
    $("r-receipt").querySelectorAll("td")[0].setAttribute("id", "r-receipt-id");
    $("verify-receipt").disabled = !rc.receipt_id;
    var vv = $("verify-verdict");
    vv.textContent = "";
    vv.removeAttribute("data-valid");

    var comps = q.components || {}, box = clear($("r-components"));
    Object.keys(comps).sort().forEach(function (k) {
      var v = comps[k], ratio = typeof v === "number" && !COUNTS[k] && v >= 0 && v <= 1;
      var bar = el("span", { class: ratio ? "barcell" : "barcell none" });
      if (ratio) {
        var b = el("span", { class: "bar" });
        b.style.width = (v * 100).toFixed(1) + "%";
        bar.appendChild(b);
      }
      box.appendChild(el("div", { class: "comp" }, [el("span", null, [k.replace(/_/g, " ")]),
        el("span", { class: "num" }, [ratio ? v.toFixed(3) : fmt(v)]), bar]));
    });
    if (!Object.keys(comps).length) box.appendChild(el("p", { class: "muted" }, ["no score (no local evidence)"]));

    var evl = clear($("r-evidence"));
    ev.forEach(function (e) {
      evl.appendChild(el("li", { class: "cite" }, [el("span", { class: "source mono" }, [e.source]), el("span", { class: "muted" }, [" score " + score(e.score)]),
        el("div", { class: "excerpt" }, [e.excerpt])]));
    });
    if (ev.length === 0) evl.appendChild(el("li", { class: "muted" }, ["none"]));
    var th = clear($("r-thoughts"));
    ((res.reasoning && res.reasoning.thoughts) || []).forEach(function (t) { th.appendChild(el("li", null, [t])); });
  }

  // verifyReceipt fetches the full receipt (waiting briefly for its batch seal, which
  // follows the answer within milliseconds) and posts it, byte for byte, to
  // /v1/verify/receipt.
  function verifyReceipt() {
    var id = st.result && st.result.receipt && st.result.receipt.receipt_id, out = $("verify-verdict");
    if (!id) return;
    out.textContent = "fetching the receipt…";
    out.className = "muted";
    out.removeAttribute("data-valid");
    var tries = 0;
    function fetchSealed() {
      return api("/v1/receipts/" + encodeURIComponent(id)).then(function (r) {
        if (r.json && !r.json.seal && tries++ < 10) {
          out.textContent = "waiting for the batch seal…";
          return new Promise(function (ok) { setTimeout(ok, 300); }).then(fetchSealed);
        }
        return r;
      });
    }
    fetchSealed().then(function (r) {
      return api("/v1/verify/receipt", { method: "POST", body: r.text });
    }).then(function (v) {
      var j = v.json || {};
      out.setAttribute("data-valid", String(!!j.valid));
      out.className = j.valid ? "ok" : "bad";
      out.textContent = j.valid ? "✓ valid, signed by key " + j.key_id + (j.trusted ? " (this node's key)" : " (not this node's key)")
        : "✗ invalid: " + (j.reason || "no reason given");
    }, function (e) {
      out.className = "bad";
      out.textContent = String(e);
    });
  }

  // ---- ledger ------------------------------------------------------------------

  function loadEpisodes() {
    api("/v1/sel/episodes?limit=" + PAGE + "&offset=" + st.epOffset).then(function (r) {
      var j = r.json || {}, eps = j.episodes || [];
      st.epTotal = j.total || 0;
      $("ep-count").textContent = eps.length ? "#" + eps[eps.length - 1].sequence + "–#" + eps[0].sequence + " of " + fmt(j.total) + " · head " + short(j.chain_head)
        : fmt(j.total) + " episodes";
      $("ep-newer").disabled = st.epOffset === 0;
      $("ep-older").disabled = st.epOffset + PAGE >= st.epTotal;
      grid($("episodes"), ["#", "time", "context", "SNR", "Ihsan", "actions", "episode hash", "chain hash"], eps.map(function (e) {
        var tr = el("tr", { class: "click" }, [el("td", null, [String(e.sequence)]), el("td", null, [new Date(e.timestamp * 1000).toLocaleString("en-GB")]),
          el("td", { class: "ctx" }, [e.context]), el("td", { class: "num" }, [score(e.snr)]), el("td", { class: "num" }, [score(e.ihsan)]),
          el("td", { class: "num" }, [String((e.actions || []).length)]), el("td", { class: "mono" }, [short(e.episode_hash)]), el("td", { class: "mono" }, [short(e.chain_hash)])]);
        tr.addEventListener("click", function () {
          var d = $("episode-detail");
          d.hidden = false;
          d.textContent = JSON.stringify(e, null, 2);
        });
        return tr;
      }));
      if (eps.length === 0) $("episodes").appendChild(el("tr", null, [el("td", { colspan: "8", class: "muted" }, ["no episodes yet"])]));
    }, function (e) { if (e.status !== 401) banner("ledger: " + e); });
  }

  function verifyChain() {
    var out = $("chain-verdict");
    out.textContent = "verifying…";
    out.className = "muted";
    api("/v1/sel/verify").then(function (r) {
      var j = r.json || {};
      out.className = j.valid ? "ok" : "bad";
      out.setAttribute("data-valid", String(!!j.valid));
      out.textContent = (j.valid ? "✓ chain valid: " : "✗ chain broken at #" + j.first_bad_sequence + ": ") + fmt(j.episodes) + " episodes, head " + short(j.chain_head);
    }, function (e) { out.className = "bad"; out.textContent = String(e); });
  }

  // ---- node --------------------------------------------------------------------

  function loadGenesis() {
    api("/v1/verify/genesis/header", { accept: [503] }).then(function (r) {
      st.genesis = r.json;
      renderNode();
      renderChecks();
    }, function (e) { if (e.status !== 401) banner("genesis: " + e); });
  }

  function renderNode() {
    var s = st.status || {}, id = s.identity || {}, o = id.origin || {};
    kv($("identity"), [["node id", id.node_id], ["role", id.role], ["version", id.version], ["signer key id", id.signer_key_id],
      ["signer public key", id.signer_public_key], ["started", s.state ? s.state.started_at : null], ["mode", s.state ? s.state.mode : null]]);
    var g = st.genesis;
    var rows = [];
    if (g) {
      pill($("genesis-pill"), g.valid ? "valid" : "not valid", g.valid ? "ok" : g.role === "node0" ? "bad" : "off");
      rows.push(["valid", g.valid, kindOf(g.valid)], ["reason", g.reason || "—"], ["role", g.role]);
      if (g.genesis && typeof g.genesis === "object") Object.keys(g.genesis).forEach(function (k) {
        if (["valid", "reason", "role", "origin"].indexOf(k) < 0) rows.push([k.replace(/_/g, " "), g.genesis[k]]);
      });
    }
    Object.keys(o).forEach(function (k) { rows.push(["origin " + k.replace(/_/g, " "), o[k]]); });
    kv($("genesis"), rows);
    var l = s.ledger || {}, rc = s.receipts || {}, c = s.cache || {}, b = s.bridge || {};
    kv($("stores"), [["ledger episodes", l.episodes], ["ledger head", short(l.chain_head)], ["ledger verified on boot", l.verified, kindOf(l.verified)],
      ["receipts issued", rc.issued], ["batches sealed", rc.sealed_batches], ["receipts pending", rc.pending],
      ["cache", c.enabled === false ? "off" : fmt(c.entries) + " of " + fmt(c.capacity) + " entries, hit rate " + (c.hit_rate !== undefined ? pct(c.hit_rate) : "—")],
      ["bridge", b.listening ? "listening on " + b.address + ", " + b.connections + " connection(s), " + fmt(b.request_count) + " requests" : "not listening"]]);
  }

  function verifyGenesis() {
    var out = $("genesis-verdict");
    out.textContent = "verifying…";
    api("/v1/verify/genesis", { method: "POST" }).then(function (r) {
      var j = r.json || {};
      out.className = j.valid ? "ok" : "bad";
      out.textContent = (j.valid ? "✓ valid" : "✗ " + (j.reason || "not valid")) + (j.this_node ? ", this node's genesis" : "") + " (" + j.source + ")";
    }, function (e) { out.className = "bad"; out.textContent = String(e); });
  }

  // renderCluster shows the status document's cluster object when the node has one.
  function renderCluster() {
    var c = (st.status || {}).cluster;
    var brief = clear($("cluster-brief")), full = clear($("cluster"));
    if (!c) {
      brief.appendChild(el("p", { class: "muted" }, ["standalone: no cluster configured"]));
      full.appendChild(el("p", { class: "muted" }, ["standalone: no cluster configured"]));
      return;
    }
    var members = Array.isArray(c.members) ? c.members : [];
    var info = Object.keys(c).filter(function (k) { return k !== "members"; }).map(function (k) { return [k.replace(/_/g, " "), c[k]]; });
    var t1 = el("table", { class: "kv" });
    var by = {};
    members.forEach(function (m) { var k = (m && (m.status || m.state)) || "?"; by[k] = (by[k] || 0) + 1; });
    var states = Object.keys(by).map(function (k) { return by[k] + " " + k; }).join(", ");
    kv(t1, info.concat([["members", members.length + (states ? " (" + states + ")" : ""), by.suspect || by.dead || by.down ? "warn" : ""]]));
    brief.appendChild(t1);
    var t2 = el("table", { class: "kv" });
    kv(t2, info);
    full.appendChild(t2);
    if (members.length) {
      var cols = [];
      members.forEach(function (m) { Object.keys(m || {}).forEach(function (k) { if (cols.indexOf(k) < 0 && cols.length < 8) cols.push(k); }); });
      var t3 = el("table", { class: "grid" });
      grid(t3, cols, members.map(function (m) {
        // only a member's state is coloured (alive, suspect, dead, ...), not its flags
        return el("tr", null, cols.map(function (k) {
          return el("td", { class: /^(status|state|health)$/.test(k) ? kindOf(m[k] === "alive" || m[k] === "up" ? true : m[k]) : "" }, [fmt(m[k])]);
        }));
      }));
      full.appendChild(t3);
    }
  }

  // ---- views -------------------------------------------------------------------

  function showView() {
    var v = (location.hash || "#overview").slice(1);
    if (["overview", "query", "ledger", "node"].indexOf(v) < 0) v = "overview";
    document.querySelectorAll(".view").forEach(function (s) { s.hidden = s.id !== "view-" + v; });
    document.querySelectorAll("nav a").forEach(function (a) { a.className = a.getAttribute("data-view") === v ? "active" : ""; });
    if (!st.running) return;
    if (v === "overview") drawCharts();
    if (v === "ledger") loadEpisodes();
    if (v === "node") loadGenesis();
  }

  function boot() {
    window.addEventListener("error", function (e) { banner("console error: " + e.message); });
    $("login-form").addEventListener("submit", onLogin);
    $("login").addEventListener("cancel", function (e) { e.preventDefault(); });
    // Forgetting the key starts the page over: nothing of the node stays on screen.
    $("logout").addEventListener("click", function () { sessionStorage.removeItem(KEY); location.reload(); });
    $("query-form").addEventListener("submit", onQuery);
    $("query-text").addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("query-form").requestSubmit(); }
    });
    $("verify-receipt").addEventListener("click", verifyReceipt);
    $("verify-chain").addEventListener("click", verifyChain);
    $("verify-genesis").addEventListener("click", verifyGenesis);
    $("ep-newer").addEventListener("click", function () { st.epOffset = Math.max(0, st.epOffset - PAGE); loadEpisodes(); });
    $("ep-older").addEventListener("click", function () { st.epOffset += PAGE; loadEpisodes(); });
    $("ep-refresh").addEventListener("click", loadEpisodes);
    window.addEventListener("hashchange", showView);
    window.addEventListener("resize", drawCharts);
    showView();
    // Keys off, or a key kept from earlier in this tab: /v1/status answers. A 401
    // opens the login prompt (api does).
    api("/v1/status").then(function (r) {
      $("logout").hidden = !st.key;
      onStatus(r.json);
      start();
      loadGenesis();
    }, function (e) { if (e.status !== 401) banner("the node did not answer: " + e); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
