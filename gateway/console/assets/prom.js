// prom.js: the Prometheus text exposition (0.0.4) parser and the arithmetic the
// console's charts need (rates, histogram quantiles from bucket deltas). No DOM; the
// one global is BizraProm.
"use strict";
var BizraProm = (function () {
  // parse returns a Map from series name to a list of {labels, value}. Comment lines
  // are skipped; a line that does not parse is counted in .bad and skipped.
  function parse(text) {
    var out = new Map();
    out.bad = 0;
    var lines = String(text).split("\n");
    for (var i = 0; i < lines.length; i++) {
      var line = lines[i].trim();
      if (line === "" || line[0] === "#") continue;
      var s = parseLine(line);
      if (!s) { out.bad++; continue; }
      var list = out.get(s.name);
      if (!list) { list = []; out.set(s.name, list); }
      list.push({ labels: s.labels, value: s.value });
    }
    return out;
  }

  function parseLine(line) {
    var m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
    if (!m) return null;
    var name = m[1], rest = line.slice(name.length), labels = {};
    if (rest[0] === "{") {
      var i = 1;
      for (;;) {
        while (rest[i] === " " || rest[i] === ",") i++;
        if (rest[i] === "}") { i++; break; }
        var lm = /^([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"/.exec(rest.slice(i));
        if (!lm) return null;
        i += lm[0].length;
        var v = "";
        for (;;) {
          if (i >= rest.length) return null;
          var c = rest[i++];
          if (c === "\\") {
            var e = rest[i++];
            v += e === "n" ? "\n" : e;
          } else if (c === '"') {
            break;
          } else {
            v += c;
          }
        }
        labels[lm[1]] = v;
      }
      rest = rest.slice(i);
    }
    var parts = rest.trim().split(/\s+/);
    if (parts.length < 1 || parts[0] === "") return null;
    var value = number(parts[0]);
    if (value === null) return null;
    return { name: name, labels: labels, value: value };
  }

  function number(s) {
    if (s === "+Inf" || s === "Inf") return Infinity;
    if (s === "-Inf") return -Infinity;
    if (s === "NaN") return NaN;
    var v = Number(s);
    return isNaN(v) ? null : v;
  }

  // value is the value of the unlabelled series name (or the first whose labels
  // include want), or null when absent.
  function value(m, name, want) {
    var list = m.get(name);
    if (!list) return null;
    for (var i = 0; i < list.length; i++) {
      if (matches(list[i].labels, want)) return list[i].value;
    }
    return null;
  }

  function matches(labels, want) {
    if (!want) return Object.keys(labels).length === 0;
    for (var k in want) if (labels[k] !== want[k]) return false;
    return true;
  }

  // buckets returns the cumulative buckets of histogram name as [{le, count}] sorted
  // by le (the +Inf bucket last), or null when the histogram is absent.
  function buckets(m, name) {
    var list = m.get(name + "_bucket");
    if (!list) return null;
    var b = [];
    for (var i = 0; i < list.length; i++) {
      var le = number(list[i].labels.le);
      if (le === null) continue;
      b.push({ le: le, count: list[i].value });
    }
    b.sort(function (x, y) { return x.le - y.le; });
    return b;
  }

  // delta subtracts two bucket lists of the same histogram (b - a); null when they do
  // not line up or a counter went down (the node restarted).
  function delta(a, b) {
    if (!a || !b || a.length !== b.length) return null;
    var d = [];
    for (var i = 0; i < b.length; i++) {
      if (a[i].le !== b[i].le || b[i].count < a[i].count) return null;
      d.push({ le: b[i].le, count: b[i].count - a[i].count });
    }
    return d;
  }

  // quantile is Prometheus' histogram_quantile over cumulative buckets: linear
  // interpolation inside the bucket that holds the rank; the highest finite bound when
  // the rank falls in +Inf; null when the buckets hold no observation.
  function quantile(q, b) {
    if (!b || b.length === 0) return null;
    var total = b[b.length - 1].count;
    if (!(total > 0)) return null;
    var rank = q * total, prevLe = 0, prevCount = 0;
    for (var i = 0; i < b.length; i++) {
      if (b[i].count >= rank) {
        if (b[i].le === Infinity) return i > 0 ? b[i - 1].le : null;
        var inBucket = b[i].count - prevCount;
        if (inBucket <= 0) return b[i].le;
        var lo = i === 0 && b[i].le > 0 ? 0 : prevLe;
        return lo + (b[i].le - lo) * ((rank - prevCount) / inBucket);
      }
      prevLe = b[i].le;
      prevCount = b[i].count;
    }
    return null;
  }

  // perBucket turns cumulative buckets into counts per bucket [{lo, hi, count}]
  // (the +Inf bucket dropped when empty).
  function perBucket(b) {
    if (!b) return null;
    var out = [], prevLe = 0, prev = 0;
    for (var i = 0; i < b.length; i++) {
      var n = b[i].count - prev;
      if (!(b[i].le === Infinity && n === 0)) out.push({ lo: prevLe, hi: b[i].le, count: n });
      prevLe = b[i].le;
      prev = b[i].count;
    }
    return out;
  }

  return { parse: parse, value: value, buckets: buckets, delta: delta, quantile: quantile, perBucket: perBucket };
})();
