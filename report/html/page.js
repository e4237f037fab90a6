// report.html's script: draws each study's trial table from the embedded JSON (sort by
// any column, filter by outcome and axis value, search by key prefix, virtual scrolling:
// only the visible rows exist in the DOM) and the trial panel (config, attempts, metrics,
// warnings, `orch show KEY`). Data is only ever set with textContent, never as markup.
"use strict";
(function () {
  performance.mark("orch-start");
  const data = JSON.parse(document.getElementById("orch-data").textContent);
  const ROW_H = 24;
  const VERDICT = ["baseline", "slower", "faster", "no measurable difference",
    "one replicate: within-run only", "not compared"];

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function bytes(b) {
    if (b === undefined || b === null) return "--";
    const KiB = 1024, MiB = KiB * 1024, GiB = MiB * 1024;
    if (b >= GiB) return (b / GiB).toFixed(2) + " GiB";
    if (b >= MiB) return (b / MiB).toFixed(2) + " MiB";
    return (b / KiB).toFixed(2) + " KiB";
  }
  // A bound the report could not make finite (an interval of fewer than 6 tokens) is
  // null in the data: shown as "inf".
  function ci(v, d) {
    const f = function (x) { return x === null ? "inf" : x.toFixed(d); };
    return f(v[0]) + " [" + f(v[1]) + ", " + f(v[2]) + "]";
  }

  // A key prefix (12 hex digits in the report's text) to the trial's index.
  const byKey = new Map();
  data.cells.forEach(function (c, i) { byKey.set(c.k, i); });
  function findTrial(prefix) {
    if (byKey.has(prefix)) return byKey.get(prefix);
    for (let i = 0; i < data.cells.length; i++) if (data.cells[i].k.startsWith(prefix)) return i;
    return -1;
  }
  function configOf(c) {
    const all = Object.assign({}, data.fixed, c.c);
    return Object.keys(all).sort().map(function (k) { return [k, all[k]]; });
  }

  // ---- the trial panel ----
  const panel = document.getElementById("panel");
  function kvTable(rows) {
    const t = el("table", "kv");
    rows.forEach(function (r) {
      const tr = el("tr");
      tr.appendChild(el("th", null, r[0]));
      tr.appendChild(el("td", null, r[1]));
      t.appendChild(tr);
    });
    return t;
  }
  function openTrial(i) {
    const c = data.cells[i];
    panel.replaceChildren();
    const close = el("button", "close", "close");
    close.addEventListener("click", function () {
      panel.hidden = true;
      if (location.hash.startsWith("#trial=")) history.replaceState(null, "", location.pathname);
    });
    panel.appendChild(close);
    panel.appendChild(el("h2", null, "Trial " + c.k.slice(0, 12)));
    const p = el("p", "outcome");
    p.appendChild(el("span", "badge", c.o));
    p.lastChild.dataset.outcome = c.o;
    if (c.r) p.appendChild(el("span", null, " " + c.r));
    panel.appendChild(p);
    panel.appendChild(el("p", null, "The same from the command line:"));
    panel.appendChild(el("pre", "cmd", "orch show " + c.k));
    panel.appendChild(el("h3", null, "Measurements"));
    const meas = [["key", c.k], ["PPL", c.p !== undefined ? c.p.toFixed(2) : "--"],
      ["TPOT median [95% CI] ms", c.t ? ci(c.t, 2) : "--"], ["peak memory", bytes(c.m)]];
    panel.appendChild(kvTable(meas));
    panel.appendChild(el("h3", null, "Attempts (" + c.a.length + ")"));
    if (c.a.length === 0) panel.appendChild(el("p", null, "None yet: the trial is pending."));
    c.a.forEach(function (a) {
      const box = el("div", "attempt");
      const head = el("p");
      head.appendChild(el("strong", null, "#" + a[0] + " "));
      head.appendChild(el("span", "badge", a[2]));
      head.lastChild.dataset.outcome = a[2];
      head.appendChild(el("span", null, " replicate " + a[1]));
      box.appendChild(head);
      const sig = a[5] === null ? "none" : String(a[5]);
      box.appendChild(kvTable([["reason", a[3] || "--"],
        ["exit code", a[4] === null ? "none" : String(a[4])], ["signal", sig],
        ["slot", a[6] || "--"], ["duration", a[7] === null ? "--" : a[7].toFixed(2) + " s"],
        ["started", a[8] || "--"]].concat(a[10] ? [["job", a[10]]] : [])));
      if (a[9]) {
        box.appendChild(el("p", "small", "log tail (stderr):"));
        box.appendChild(el("pre", "log", a[9]));
      }
      panel.appendChild(box);
    });
    panel.appendChild(el("h3", null, "Config"));
    panel.appendChild(kvTable(configOf(c)));
    panel.appendChild(el("h3", null, "Metrics of the final attempt"));
    if (c.x) panel.appendChild(kvTable(Object.keys(c.x).sort().map(function (k) { return [k, c.x[k]]; })));
    else panel.appendChild(el("p", null, "None."));
    panel.appendChild(el("h3", null, "Warnings"));
    const ul = el("ul");
    (c.w || ["None."]).forEach(function (w) { ul.appendChild(el("li", null, w)); });
    panel.appendChild(ul);
    panel.hidden = false;
    panel.scrollTop = 0;
  }
  function openFromHash() {
    const m = /^#trial=([0-9a-f]+)$/.exec(location.hash);
    if (!m) return;
    const i = findTrial(m[1]);
    if (i >= 0) openTrial(i);
  }
  window.addEventListener("hashchange", openFromHash);
  document.addEventListener("click", function (e) {
    const a = e.target.closest("a.key");
    if (!a) return;
    e.preventDefault();
    const i = findTrial(a.dataset.key);
    if (i >= 0) { history.replaceState(null, "", "#trial=" + a.dataset.key); openTrial(i); }
  });

  // ---- the trial tables ----
  function StudyTable(host, si) {
    const study = data.studies[si];
    const axes = study.axes;
    // Columns: key, axes..., PPL, TPOT, ratio, verdict, memory, outcome.
    const cols = [{ name: "trial", text: function (r) { return data.cells[r[0]].k.slice(0, 12); },
      sort: function (r) { return data.cells[r[0]].k; } }];
    axes.forEach(function (ax) {
      cols.push({ name: ax, text: function (r) { const v = data.cells[r[0]].c[ax]; return v === undefined ? (data.fixed[ax] || "") : v; },
        sort: function (r) { const v = data.cells[r[0]].c[ax]; const n = Number(v); return v !== "" && !isNaN(n) ? n : v; } });
    });
    const num = function (f) { return function (r) { const v = f(r); return v === undefined || v === null ? null : v; }; };
    cols.push({ name: "PPL", cls: "num", text: function (r) { const p = data.cells[r[0]].p; return p === undefined ? "--" : p.toFixed(2); },
      sort: num(function (r) { return data.cells[r[0]].p; }) });
    cols.push({ name: "TPOT median [95% CI] ms", cls: "num", text: function (r) { const t = data.cells[r[0]].t; return t ? ci(t, 2) : "--"; },
      sort: num(function (r) { const t = data.cells[r[0]].t; return t ? t[0] : null; }) });
    cols.push({ name: "ratio to baseline [95% CI]", cls: "num", text: function (r) {
      return r.length > 2 ? ci([r[2], r[3], r[4]], 3) : (r[1] === 0 && data.cells[r[0]].o === "ok" ? "baseline" : "--"); },
      sort: num(function (r) { return r.length > 2 ? r[2] : (r[1] === 0 ? 1 : null); }) });
    cols.push({ name: "verdict", text: function (r) { return data.cells[r[0]].o === "ok" ? VERDICT[r[1]] : "--"; },
      sort: function (r) { return data.cells[r[0]].o === "ok" ? VERDICT[r[1]] : null; } });
    cols.push({ name: "peak memory", cls: "num", text: function (r) { return bytes(data.cells[r[0]].m); },
      sort: num(function (r) { return data.cells[r[0]].m; }) });
    cols.push({ name: "outcome", text: function (r) { return data.cells[r[0]].o; },
      sort: function (r) { return data.cells[r[0]].o; } });

    const state = { sort: -1, desc: false, outcome: "", prefix: "", axis: {} };
    let view = study.rows.slice();

    // Controls.
    const controls = el("div", "controls");
    const search = el("input");
    search.type = "search";
    search.placeholder = "key prefix";
    search.setAttribute("aria-label", "search by key prefix");
    search.className = "search";
    controls.appendChild(search);
    function select(label, values, onChange, cls) {
      const s = el("select", cls);
      s.setAttribute("aria-label", label);
      s.appendChild(el("option", null, label + ": all"));
      s.lastChild.value = "";
      values.forEach(function (v) { const o = el("option", null, v); o.value = v; s.appendChild(o); });
      s.addEventListener("change", function () { onChange(s.value); update(); });
      controls.appendChild(s);
      return s;
    }
    const outcomes = Array.from(new Set(study.rows.map(function (r) { return data.cells[r[0]].o; }))).sort();
    select("outcome", outcomes, function (v) { state.outcome = v; }, "f-outcome");
    axes.forEach(function (ax) {
      const seen = new Set();  // first-seen order; a Set, as an axis may have thousands of values
      study.rows.forEach(function (r) { const v = data.cells[r[0]].c[ax]; if (v !== undefined) seen.add(v); });
      const vals = Array.from(seen);
      select(ax, vals, function (v) { state.axis[ax] = v; }, "f-axis").dataset.axis = ax;
    });
    const count = el("span", "count");
    controls.appendChild(count);
    host.appendChild(controls);

    // Header, then the scroller: a spacer as tall as all rows, the visible rows on top.
    // Fixed pixel widths: the header and every row are separate grids with different
    // fonts, so neither fr nor em units would line them up.
    const axisPx = axes.map(function (ax) {
      let n = ax.length;
      study.rows.forEach(function (r) { const v = data.cells[r[0]].c[ax]; if (v && v.length > n) n = v.length; });
      return Math.min(240, Math.max(70, n * 8 + 20));
    });
    const grid = "grid-template-columns: 112px " + axisPx.map(function (px) { return px + "px"; }).join(" ") +
      " 70px 200px 215px 170px 110px 90px";
    const head = el("div", "thead");
    head.style.cssText = grid;
    cols.forEach(function (c, i) {
      const h = el("div", "th" + (c.cls ? " " + c.cls : ""), c.name);
      h.addEventListener("click", function () {
        state.desc = state.sort === i ? !state.desc : false;
        state.sort = i;
        update();
      });
      head.appendChild(h);
    });
    const scroller = el("div", "scroller");
    const spacer = el("div", "spacer");
    const body = el("div", "tbody");
    scroller.appendChild(spacer);
    scroller.appendChild(body);
    const wrap = el("div", "table");
    wrap.appendChild(head);
    wrap.appendChild(scroller);
    host.appendChild(wrap);

    function compare(a, b) {
      if (a === b) return 0;
      if (a === null || a === undefined) return 1;  // missing values last either way
      if (b === null || b === undefined) return -1;
      if (typeof a === typeof b) return a < b ? -1 : 1;
      return typeof a === "number" ? -1 : 1;
    }
    function update() {
      state.prefix = search.value.trim().toLowerCase();
      view = study.rows.filter(function (r) {
        const c = data.cells[r[0]];
        if (state.outcome && c.o !== state.outcome) return false;
        if (state.prefix && !c.k.startsWith(state.prefix)) return false;
        for (const ax in state.axis) if (state.axis[ax] && c.c[ax] !== state.axis[ax]) return false;
        return true;
      });
      if (state.sort >= 0) {
        const key = cols[state.sort].sort, sign = state.desc ? -1 : 1;
        const keyed = view.map(function (r, i) { return [key(r), i, r]; });
        keyed.sort(function (a, b) {
          const na = a[0] === null || a[0] === undefined, nb = b[0] === null || b[0] === undefined;
          if (na !== nb) return na ? 1 : -1;
          return sign * compare(a[0], b[0]) || a[1] - b[1];
        });
        view = keyed.map(function (k) { return k[2]; });
      }
      Array.prototype.forEach.call(head.children, function (h, i) {
        h.dataset.sort = i === state.sort ? (state.desc ? "desc" : "asc") : "";
      });
      count.textContent = view.length + " of " + study.rows.length + " trials";
      spacer.style.height = view.length * ROW_H + "px";
      scroller.style.height = Math.min(view.length, 16) * ROW_H + 2 + "px";
      scroller.scrollTop = 0;  // a new view starts at its top (else a short one may be out of sight)
      draw(true);
    }
    let drawn = [-1, -1];
    function draw(force) {
      const first = Math.max(0, Math.floor(scroller.scrollTop / ROW_H) - 5);
      const last = Math.min(view.length, first + Math.ceil(scroller.clientHeight / ROW_H) + 10);
      if (!force && drawn[0] === first && drawn[1] === last) return;
      drawn = [first, last];
      body.style.transform = "translateY(" + first * ROW_H + "px)";
      const frag = document.createDocumentFragment();
      for (let i = first; i < last; i++) {
        const r = view[i], c = data.cells[r[0]];
        const tr = el("div", "tr");
        tr.style.cssText = grid;
        tr.dataset.key = c.k;
        tr.dataset.outcome = c.o;
        cols.forEach(function (col) { tr.appendChild(el("div", "td" + (col.cls ? " " + col.cls : ""), col.text(r))); });
        frag.appendChild(tr);
      }
      body.replaceChildren(frag);
    }
    scroller.addEventListener("scroll", function () { draw(false); }, { passive: true });
    body.addEventListener("click", function (e) {
      const tr = e.target.closest(".tr");
      if (!tr) return;
      history.replaceState(null, "", "#trial=" + tr.dataset.key.slice(0, 12));
      openTrial(byKey.get(tr.dataset.key));
    });
    search.addEventListener("input", update);
    update();
  }

  document.querySelectorAll("div.trials").forEach(function (host) {
    host.replaceChildren();
    StudyTable(host, Number(host.dataset.study));
  });
  openFromHash();
  // Script start to every table drawn: what the browser test measures.
  performance.measure("orch-render", "orch-start");
})();
