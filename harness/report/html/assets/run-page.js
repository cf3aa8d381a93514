// A run's page, drawn in the browser from the data embedded in the page (model.ts: PageData):
// the timeline's lanes, the server requests table and a virtualised console pane (only the
// rows in view exist in the DOM, so a 100,000-line log stays responsive). Clicking a step or a
// mark selects its moment: the console and the requests show only what happened then.
"use strict";
(function () {
  var D = JSON.parse(document.getElementById("otarig-data").textContent);
  var ROW = 18; // console row height in px (style.css .row)
  var DUR = Math.max(1, D.durationMs);
  // The part of the run the timeline shows (zoomed to a selection, or all of it).
  var V = { from: 0, to: DUR };
  var state = { board: D.boards[0] || "", search: "", sel: null, rows: [] };

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, parent) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (parent) parent.appendChild(e);
    return e;
  }
  function esc(s) { return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"); }
  function secs(ms) { return (ms / 1000).toFixed(3) + "s"; }
  function pct(t) { return ((t - V.from) / (V.to - V.from)) * 100 + "%"; }
  function span(ms) { return (Math.max(0, ms) / (V.to - V.from)) * 100 + "%"; }
  function inView(t0, t1) { return t1 >= V.from && t0 <= V.to; }
  function stamp(ms) { var s = (ms / 1000).toFixed(3); return "[" + "         ".slice(s.length) + s + "]"; }

  // ANSI SGR colours -> spans; other escape sequences dropped; a \r keeps what a terminal shows last.
  var SGR = /\x1b\[([0-9;]*)m/g;
  function ansi(text) {
    var cr = text.lastIndexOf("\r", text.length - 2);
    if (cr >= 0) text = text.slice(cr + 1);
    text = text.replace(/\r$/, "").replace(/\x1b\[[0-9;?]*[A-La-ln-z]/g, "").replace(/\x1b[()][A-Z0-9]/g, "");
    if (text.indexOf("\x1b[") < 0) return esc(text);
    var out = "", classes = [], last = 0, m;
    SGR.lastIndex = 0;
    while ((m = SGR.exec(text))) {
      out += styled(esc(text.slice(last, m.index)), classes);
      last = SGR.lastIndex;
      var codes = m[1] === "" ? [0] : m[1].split(";").map(Number);
      for (var i = 0; i < codes.length; i++) {
        var c = codes[i];
        if (c === 0) classes = [];
        else if (c === 1) classes.push("a-b");
        else if (c === 2) classes.push("a-d");
        else if (c === 3) classes.push("a-i");
        else if (c === 4) classes.push("a-u");
        else if (c === 39) classes = classes.filter(function (k) { return !/^a\d/.test(k); });
        else if ((c >= 30 && c <= 37) || (c >= 90 && c <= 97)) {
          classes = classes.filter(function (k) { return !/^a\d/.test(k); });
          classes.push("a" + c);
        } else if (c === 38 || c === 48) i += codes[i + 1] === 5 ? 2 : 4; // 256/true colour: skipped
      }
    }
    return out + styled(esc(text.slice(last)), classes);
  }
  function styled(html, classes) { return html && classes.length ? '<span class="' + classes.join(" ") + '">' + html + "</span>" : html; }

  // ---- tooltip: what a mark is ----
  var tip = $("tooltip");
  function hover(node, text) {
    node.setAttribute("title", text);
    node.setAttribute("data-tip", text);
  }
  document.addEventListener("mousemove", function (e) {
    var t = e.target && e.target.closest ? e.target.closest("[data-tip]") : null;
    if (!t) { tip.hidden = true; return; }
    tip.textContent = t.getAttribute("data-tip");
    tip.hidden = false;
    tip.style.left = Math.min(e.clientX + 12, window.innerWidth - 320) + "px";
    tip.style.top = e.clientY + 14 + "px";
  });

  // ---- timeline ----
  var timeline = $("timeline");
  var windowMarks = [];
  function lane(name, height) {
    var l = el("div", "lane", timeline);
    var n = el("div", "lane-name", l);
    n.textContent = name;
    n.title = name;
    var track = el("div", "track", l);
    if (height) track.style.height = height + "px";
    windowMarks.push(el("div", "window", track));
    return track;
  }
  function axis() {
    var track = lane("time");
    track.parentNode.classList.add("axis");
    var steps = [100, 250, 500, 1000, 2000, 5000, 10000, 15000, 30000, 60000, 120000, 300000, 600000, 1800000, 3600000];
    var every = steps.find(function (s) { return (V.to - V.from) / s <= 12; }) || 3600000;
    for (var t = Math.ceil(V.from / every) * every; t <= V.to; t += every) {
      var k = el("div", "tick", track);
      k.style.left = pct(t);
      k.textContent = every < 1000 ? (t / 1000).toFixed(2) + "s" : Math.round(t / 1000) + "s";
    }
  }
  function select(sel, node) {
    state.sel = sel;
    state.mark = null;
    var prev = timeline.querySelectorAll(".selected");
    for (var i = 0; i < prev.length; i++) prev[i].classList.remove("selected");
    if (node) node.classList.add("selected");
    if (sel && sel.board && D.console[sel.board]) { state.board = sel.board; $("console-board").value = sel.board; }
    drawWindow(sel);
    $("zoom-in").hidden = !sel;
    $("selection").hidden = !sel;
    $("selection-text").textContent = sel ? "showing " + secs(sel.t0) + " – " + secs(sel.t1) + ": " + sel.label : "";
    refreshConsole(true);
    drawRequests();
  }
  function drawWindow(sel) {
    windowMarks.forEach(function (w) {
      w.hidden = !sel;
      if (sel) { w.style.left = pct(sel.t0); w.style.width = "max(2px, " + span(sel.t1 - sel.t0) + ")"; }
    });
  }
  function clickable(node, sel) {
    node.addEventListener("click", function (e) { e.stopPropagation(); select(sel, node); });
  }
  function stepSel(s) { return { t0: s.start, t1: Math.max(s.end, s.start + 1), label: "step " + s.path + " " + s.label, board: s.board, step: s.path }; }

  function stepsLane() {
    var depth = D.steps.reduce(function (m, s) { return Math.max(m, s.path.split(".").length); }, 1);
    var track = lane("steps", depth * 17 + 2);
    D.steps.forEach(function (s) {
      if (!inView(s.start, s.end)) return;
      var b = el("div", "bar " + s.status, track);
      b.style.left = pct(s.start);
      b.style.width = span(s.end - s.start);
      b.style.top = (s.path.split(".").length - 1) * 17 + 1 + "px";
      b.setAttribute("data-step", s.path);
      hover(b, s.path + " " + s.label + "\n" + s.status + " in " + (s.end - s.start) + "ms at " + secs(s.start) + (s.error ? "\n" + s.error : s.detail ? "\n" + s.detail : ""));
      clickable(b, stepSel(s));
    });
  }
  function consoleLanes() {
    D.boards.forEach(function (board) {
      var c = D.console[board];
      var track = lane("console " + board);
      track.setAttribute("data-board", board);
      if (!c || !c.t.length) return;
      var N = 200, counts = new Array(N).fill(0), max = 0;
      var from = V.from, width = V.to - V.from;
      for (var i = lowerBound(c.t, from); i < c.t.length && c.t[i] <= V.to; i++) counts[Math.min(N - 1, Math.floor(((c.t[i] - from) / width) * N))]++;
      counts.forEach(function (n) { if (n > max) max = n; });
      counts.forEach(function (n, k) {
        if (!n) return;
        var d = el("div", "density", track);
        d.style.left = (k / N) * 100 + "%";
        d.style.width = 100 / N + "%";
        d.style.opacity = String(0.15 + 0.85 * (n / max));
        var t0 = from + (k / N) * width, t1 = from + ((k + 1) / N) * width;
        hover(d, board + ": " + n + " line(s) " + secs(t0) + " – " + secs(t1));
        clickable(d, { t0: t0, t1: t1, label: board + " console", board: board });
      });
      c.gaps.forEach(function (i) {
        if (!inView(c.t[i], c.t[i])) return;
        var g = el("div", "gapmark", track);
        g.style.left = pct(c.t[i]);
        hover(g, board + " " + secs(c.t[i]) + ": " + c.text[i]);
      });
    });
  }
  function markersLane() {
    if (!D.markers.length) return;
    var track = lane("power, reset, flash, faults");
    D.markers.forEach(function (m) {
      if (!inView(m.t, m.t)) return;
      var k = el("div", "marker " + m.kind, track);
      k.style.left = pct(m.t);
      k.setAttribute("data-kind", m.kind);
      hover(k, m.kind + " at " + secs(m.t) + (m.board ? " (" + m.board + ")" : "") + "\n" + m.label);
      clickable(k, { t0: Math.max(0, m.t - 500), t1: m.t + 2000, label: m.kind + ": " + m.label, board: m.board });
    });
  }
  function isErr(r) { return r.status >= 400 || r.aborted; }
  function reqText(r) { return r.method + " " + r.path + " → " + r.status + (r.aborted ? " (aborted)" : "") + (r.device ? "  device " + r.device : "") + "  " + (r.end - r.t) + "ms"; }
  function serverLane() {
    var track = lane("server requests");
    track.setAttribute("id", "server-lane");
    D.requests.forEach(function (r, i) {
      if (!inView(r.t, r.end)) return;
      var q = el("div", "req" + (isErr(r) ? " err" : ""), track);
      q.style.left = pct(r.t);
      q.style.width = span(r.end - r.t);
      q.setAttribute("data-path", r.path);
      q.setAttribute("data-status", String(r.status));
      hover(q, secs(r.t) + " " + reqText(r));
      clickable(q, { t0: Math.max(0, r.t - 50), t1: r.end + 50, label: reqText(r), request: i });
    });
  }
  // One lane per board; each flash or download of that board is a curve (fraction over time).
  function progressLanes() {
    var NS = "http://www.w3.org/2000/svg";
    var boards = [];
    D.progress.forEach(function (p) { if (boards.indexOf(p.board) < 0) boards.push(p.board); });
    boards.forEach(function (board) {
      var track = lane((board ? board + " " : "") + "progress");
      track.setAttribute("data-progress", board);
      var svg = document.createElementNS(NS, "svg");
      svg.setAttribute("class", "curve");
      svg.setAttribute("viewBox", "0 0 1000 100");
      svg.setAttribute("preserveAspectRatio", "none");
      track.appendChild(svg);
      D.progress.filter(function (p) { return p.board === board; }).forEach(function (p) {
        var step = D.steps.find(function (s) { return s.path === p.step; });
        var line = document.createElementNS(NS, "polyline");
        line.setAttribute("points", p.points.map(function (q) { return (((q[0] - V.from) / (V.to - V.from)) * 1000).toFixed(2) + "," + (100 - q[1] * 96 - 2).toFixed(2); }).join(" "));
        line.setAttribute("data-step", p.step);
        svg.appendChild(line);
        var first = p.points[0], last = p.points[p.points.length - 1];
        line.setAttribute("data-tip", (step ? step.path + " " + step.label : "step " + p.step) + ": " + Math.round(last[1] * 100) + "%" + (last[2] !== null ? " (" + last[2] + " bytes)" : "") + " at " + secs(last[0]) + ", from " + secs(first[0]));
        clickable(line, { t0: first[0], t1: last[0], label: "progress of step " + p.step, board: p.board || undefined });
      });
    });
  }

  // The simulated fleet: its devices by state, stacked (one band per state), and a lane with its
  // requests a second and the update check's p99, each scaled to its own peak.
  var FLEET_COLORS = { idle: "#c9d3df", downloading: "#3b6fb6", installing: "#d08a00", offline: "#999", updated: "#2a9a4a", reverted: "#a66300", failed: "#b00020", rejected: "#7a3fb0" };
  function fleetLanes() {
    var F = D.fleet;
    if (!F || !F.samples.length) return;
    var NS = "http://www.w3.org/2000/svg";
    function svgIn(track) {
      var svg = document.createElementNS(NS, "svg");
      svg.setAttribute("class", "curve fleet");
      svg.setAttribute("viewBox", "0 0 1000 100");
      svg.setAttribute("preserveAspectRatio", "none");
      track.appendChild(svg);
      return svg;
    }
    function x(t) { return (((t - V.from) / (V.to - V.from)) * 1000).toFixed(2); }
    var track = lane("fleet states", 60);
    track.previousSibling.title = "the fleet's " + F.devices + " devices by state, stacked: " + F.states.join(", ");
    track.setAttribute("id", "fleet-lane");
    var svg = svgIn(track);
    var below = F.samples.map(function () { return 0; });
    F.states.forEach(function (name, k) {
      var top = F.samples.map(function (s, i) { return below[i] + s[k + 1]; });
      if (top.every(function (v, i) { return v === below[i]; })) return;
      var pts = F.samples.map(function (s, i) { return x(s[0]) + "," + (100 - (top[i] / F.devices) * 100).toFixed(2); });
      for (var i = F.samples.length - 1; i >= 0; i--) pts.push(x(F.samples[i][0]) + "," + (100 - (below[i] / F.devices) * 100).toFixed(2));
      var poly = document.createElementNS(NS, "polygon");
      poly.setAttribute("points", pts.join(" "));
      poly.setAttribute("fill", FLEET_COLORS[name] || "#888");
      poly.setAttribute("data-state", name);
      var last = F.samples[F.samples.length - 1];
      poly.setAttribute("data-tip", name + ": " + last[k + 1] + " of " + F.devices + " at the end (peak " + Math.max.apply(null, F.samples.map(function (s) { return s[k + 1]; })) + ")");
      svg.appendChild(poly);
      below = top;
    });
    var maxRps = Math.max(1, Math.max.apply(null, F.rps));
    var p99s = F.checkP99.filter(function (v) { return v !== null; });
    var maxP99 = Math.max(1, Math.max.apply(null, p99s.length ? p99s : [1]));
    var rtrack = lane("fleet req/s, p99", 40);
    rtrack.previousSibling.title = "blue: requests a second (peak " + maxRps + "); red: update check p99 (peak " + maxP99 + " ms)";
    rtrack.setAttribute("id", "fleet-rate-lane");
    var rsvg = svgIn(rtrack);
    function line(values, max, cls, label) {
      var pts = [];
      values.forEach(function (v, i) { if (v !== null) pts.push(x(F.samples[i][0]) + "," + (100 - (v / max) * 96 - 2).toFixed(2)); });
      var l = document.createElementNS(NS, "polyline");
      l.setAttribute("points", pts.join(" "));
      l.setAttribute("class", cls);
      l.setAttribute("data-tip", label);
      rsvg.appendChild(l);
    }
    line(F.rps, maxRps, "rps", "requests a second, peak " + maxRps);
    line(F.checkP99, maxP99, "p99", "update check p99 in each second, peak " + maxP99 + " ms");
  }

  // ---- server requests table ----
  function drawRequests() {
    var body = $("requests").tBodies[0];
    var sel = state.sel;
    var list = D.requests.filter(function (r) { return !sel || (r.end >= sel.t0 && r.t <= sel.t1); });
    body.innerHTML = list.map(function (r) {
      return '<tr class="' + (isErr(r) ? "err" : "") + '"><td>' + secs(r.t) + "</td><td>" + esc(r.method) + "</td><td>" + esc(r.path) + "</td><td>" + r.status + (r.aborted ? " aborted" : "") + "</td><td>" + esc(r.device || "") + "</td><td>" + (r.end - r.t) + "</td></tr>";
    }).join("");
    $("requests-count").textContent = sel ? list.length + " of " + D.requests.length + " in the selected moment" : D.requests.length + " requests";
  }

  // ---- console pane (virtualised) ----
  var view = $("console-view"), spacer = $("console-spacer");
  var drawn = [];
  function refreshConsole(scrollToTop) {
    var c = D.console[state.board] || { t: [], text: [], gaps: [] };
    var q = state.search.toLowerCase(), sel = state.sel, rows = [];
    var lo = 0, hi = c.t.length;
    if (sel) { lo = lowerBound(c.t, sel.t0); hi = lowerBound(c.t, sel.t1 + 1); }
    if (!q && !sel) rows = null; // all lines: no index array for 100,000 rows
    else for (var i = lo; i < hi; i++) if (!q || c.text[i].toLowerCase().indexOf(q) >= 0) rows.push(i);
    state.rows = rows;
    state.gapSet = new Set(c.gaps);
    var n = rows ? rows.length : c.t.length;
    spacer.style.height = n * ROW + "px";
    $("console-count").textContent = rows ? n + " of " + c.t.length + " lines" : c.t.length + " lines";
    if (scrollToTop) view.scrollTop = 0;
    drawConsole(true);
  }
  function lowerBound(a, t) {
    var lo = 0, hi = a.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (a[mid] < t) lo = mid + 1; else hi = mid; }
    return lo;
  }
  function drawConsole(force) {
    var c = D.console[state.board] || { t: [], text: [] };
    var n = state.rows ? state.rows.length : c.t.length;
    var first = Math.max(0, Math.floor(view.scrollTop / ROW) - 10);
    var last = Math.min(n, Math.ceil((view.scrollTop + view.clientHeight) / ROW) + 10);
    if (!force && drawn[0] === first && drawn[1] === last) return;
    drawn = [first, last];
    var html = "";
    for (var k = first; k < last; k++) {
      var i = state.rows ? state.rows[k] : k;
      var marked = state.mark && c.t[i] >= state.mark.t0 && c.t[i] <= state.mark.t1;
      var cls = "row" + (state.gapSet.has(i) ? " gap" : marked ? " mark" : state.search ? " hit" : "");
      html += '<div class="' + cls + '" data-line="' + i + '" style="top:' + k * ROW + 'px"><span class="ts">' + stamp(c.t[i]) + "</span>" + ansi(c.text[i]) + "</div>";
    }
    var old = spacer.querySelectorAll(".row");
    for (var j = 0; j < old.length; j++) old[j].remove();
    spacer.insertAdjacentHTML("beforeend", html);
  }
  var pending = false;
  view.addEventListener("scroll", function () {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; drawConsole(false); });
  });
  spacer.style.position = "relative";

  // ---- controls ----
  var boardSel = $("console-board");
  function boardLabel(b) { return b + " (" + ((D.console[b] && D.console[b].t.length) || 0) + " lines)"; }
  D.boards.forEach(function (b) { var o = el("option", "", boardSel); o.value = b; o.textContent = boardLabel(b); });
  boardSel.addEventListener("change", function () { state.board = boardSel.value; refreshConsole(true); });
  var timer = 0;
  $("console-search").addEventListener("input", function (e) {
    clearTimeout(timer);
    timer = setTimeout(function () { state.search = e.target.value; refreshConsole(true); }, 120);
  });
  var jump = $("jump-step");
  D.steps.forEach(function (s) { var o = el("option", "", jump); o.value = s.path; o.textContent = s.path + " " + s.label; });
  function selectStep(path) {
    var s = D.steps.find(function (x) { return x.path === path; });
    if (!s) return;
    select(stepSel(s), timeline.querySelector('.bar[data-step="' + CSS.escape(path) + '"]'));
    $("console-section").scrollIntoView({ block: "start" });
  }
  // Jump: the whole log stays, scrolled to the step's first line, the step's lines marked.
  function jumpToStep(path) {
    var s = D.steps.find(function (x) { return x.path === path; });
    if (!s) return;
    if (state.sel) select(null, null);
    if (s.board && D.console[s.board]) { state.board = s.board; boardSel.value = s.board; refreshConsole(false); }
    state.mark = { t0: s.start, t1: s.end };
    var c = D.console[state.board] || { t: [] };
    var k = 0;
    if (state.rows) { while (k < state.rows.length && c.t[state.rows[k]] < s.start) k++; }
    else k = lowerBound(c.t, s.start);
    view.scrollTop = Math.max(0, k - 2) * ROW;
    drawConsole(true);
  }
  jump.addEventListener("change", function () { if (jump.value) jumpToStep(jump.value); });
  document.addEventListener("click", function (e) {
    var a = e.target.closest ? e.target.closest("a.jump") : null;
    if (a) { e.preventDefault(); selectStep(a.getAttribute("data-step")); }
  });
  $("clear-selection").addEventListener("click", function () { select(null, null); });

  // ---- the lines around the failure, under the header ----
  function failureLines() {
    var box = $("failure-lines");
    if (!box || !D.failure) return;
    var board = D.failure.board || D.boards[0];
    var c = D.console[board];
    if (!c || !c.t.length) { box.textContent = "(no console output)"; return; }
    var at = Math.max(0, lowerBound(c.t, D.failure.t + 1) - 1);
    var from = Math.max(0, at - 14), to = Math.min(c.t.length, at + 6);
    var html = "";
    for (var i = from; i < to; i++) html += '<div class="' + (i === at ? "at" : "") + '">' + stamp(c.t[i]) + " " + ansi(c.text[i]) + "</div>";
    box.innerHTML = '<div class="dim">' + esc(board) + ", lines " + (from + 1) + "–" + to + " of " + c.t.length + "</div>" + html;
  }

  // ---- zoom: the timeline shows the selected moment, or the whole run again ----
  function drawTimeline() {
    timeline.innerHTML = "";
    windowMarks = [];
    axis();
    stepsLane();
    consoleLanes();
    markersLane();
    serverLane();
    progressLanes();
    fleetLanes();
    $("zoom-out").hidden = V.from === 0 && V.to === DUR;
  }
  $("zoom-in").addEventListener("click", function () {
    var sel = state.sel;
    if (!sel) return;
    var pad = Math.max(20, (sel.t1 - sel.t0) * 0.1);
    V = { from: Math.max(0, sel.t0 - pad), to: Math.min(DUR, sel.t1 + pad) };
    drawTimeline();
    select(sel, sel.step ? timeline.querySelector('.bar[data-step="' + CSS.escape(sel.step) + '"]') : null);
  });
  $("zoom-out").addEventListener("click", function () {
    V = { from: 0, to: DUR };
    drawTimeline();
    select(state.sel, state.sel && state.sel.step ? timeline.querySelector('.bar[data-step="' + CSS.escape(state.sel.step) + '"]') : null);
  });

  // ---- a live page (rig run --serve): the run's changes as they happen ----
  function follow(url) {
    var dirty = false, newRequests = false, stepRows = {};
    var table = document.querySelector("#steps-section table.steps");
    function apply(d) {
      if (d.reload) { location.reload(); return; }
      if (d.t > DUR) {
        var whole = V.from === 0 && V.to === DUR;
        DUR = d.t;
        if (whole) V.to = DUR;
      }
      if (d.line) {
        var c = D.console[d.line.board] || (D.console[d.line.board] = { t: [], text: [], gaps: [] });
        if (D.boards.indexOf(d.line.board) < 0) D.boards.push(d.line.board);
        if (d.line.gap) c.gaps.push(c.t.length);
        c.t.push(d.t);
        c.text.push(d.line.text);
      } else if (d.step) {
        var i = D.steps.findIndex(function (s) { return s.path === d.step.path; });
        if (i >= 0) D.steps[i] = d.step;
        else {
          D.steps.push(d.step);
          var o = el("option", "", jump); o.value = d.step.path; o.textContent = d.step.path + " " + d.step.label;
        }
        stepRow(d.step);
      } else if (d.marker) D.markers.push(d.marker);
      else if (d.request) { D.requests.push(d.request); newRequests = true; }
      else if (d.progress) {
        var p = D.progress.find(function (q) { return q.board === d.progress.board && q.step === d.progress.step; });
        if (!p) D.progress.push((p = { board: d.progress.board, step: d.progress.step, points: [] }));
        p.points.push(d.progress.point);
      } else if (d.attachment) D.attachments.push(d.attachment);
      if (!dirty) { dirty = true; setTimeout(redraw, 100); }
    }
    function stepRow(s) {
      if (!table) return;
      var row = stepRows[s.path] || (stepRows[s.path] = el("tr", "", table.tBodies[0] || table));
      row.className = s.status;
      row.setAttribute("data-step", s.path);
      var mark = s.status === "passed" ? "✓" : s.status === "failed" ? "✗" : s.status === "running" ? "…" : "–";
      row.innerHTML = "<td>" + esc(s.path) + '</td><td class="' + s.status + '">' + mark + '</td><td><a href="#" class="jump" data-step="' + esc(s.path) + '">' + esc(s.label) + "</a>" +
        (s.detail ? '<div class="dim">' + esc(s.detail) + "</div>" : "") + (s.error ? '<pre class="message">' + esc(s.error) + "</pre>" : "") +
        "</td><td>" + secs(s.start) + "</td><td>" + (s.status === "running" ? "" : (s.end - s.start) + "ms") + "</td>";
    }
    function redraw() {
      dirty = false;
      var atEnd = view.scrollTop + view.clientHeight >= view.scrollHeight - 2 * ROW;
      drawTimeline();
      drawWindow(state.sel);
      if (newRequests) { D.requests.sort(function (a, b) { return a.t - b.t; }); drawRequests(); newRequests = false; }
      for (var k = 0; k < boardSel.options.length; k++) boardSel.options[k].textContent = boardLabel(boardSel.options[k].value);
      if (!state.board && D.boards.length) state.board = D.boards[0];
      refreshConsole(false);
      if (atEnd) { view.scrollTop = view.scrollHeight; drawConsole(true); } // following the newest line
      document.body.setAttribute("data-live-t", String(DUR));
    }
    var source = new EventSource(url);
    source.onmessage = function (m) { apply(JSON.parse(m.data)); };
  }

  drawTimeline();
  drawRequests();
  refreshConsole(true);
  failureLines();
  // Other views of the page (the brick maps) select a moment through this.
  window.otarigRunPage = { select: function (sel) { select(sel, null); } };
  if (D.live) follow(D.live);
  document.body.setAttribute("data-ready", String(Math.round(performance.now()))); // ms from navigation: the bench reads it
})();
