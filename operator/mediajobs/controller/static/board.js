// The mediajobs web view: read-only, fed by /events (Server-Sent Events).
// The first "board" event is the whole board, each "diff" what changed since. Rows are
// kept by id and updated in place; every text a user wrote is set with textContent.
// Each update's script time is a User Timing measure named "board-apply"; the end of
// the first render is the mark "board-first".
"use strict";
(() => {
  const PHASES = ["Pending", "Queued", "Running", "BackingOff", "WaitingForHuman", "Suspended"];
  const rows = new Map(); // id -> {d: row data, tr, cells, body}
  const bodies = new Map(); // "cat/group" -> {tbody, ids: Set}
  const sections = new Map(); // category -> {el, running, waiting, count}
  const filter = new URLSearchParams(location.hash.slice(1));
  const want = {ns: filter.get("ns") || "", cat: filter.get("cat") || "", phase: filter.get("phase") || ""};
  const $ = (id) => document.getElementById(id);
  let limits = {};
  let first = true;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function table(heads) {
    const t = el("table");
    const tr = t.createTHead().insertRow();
    for (const h of heads) tr.append(el("th", null, h));
    const tbody = t.createTBody();
    return [t, tbody];
  }

  function section(cat) {
    let s = sections.get(cat);
    if (s) return s;
    const box = el("section", "category");
    box.dataset.category = cat;
    const title = el("h2", null, cat);
    const count = el("span", "count");
    title.append(" ", count);
    const [run, running] = table(["job", "namespace", "operation", "progress", "phase", "attempts", "message"]);
    const [wait, waiting] = table(["#", "job", "namespace", "operation", "phase", "reason"]);
    box.append(title, el("h3", null, "Running"), run, el("h3", null, "Waiting"), wait);
    running.className = "running";
    waiting.className = "waiting";
    s = {el: box, running, waiting, count};
    sections.set(cat, s);
    const all = [...sections.keys()].sort();
    const next = sections.get(all[all.indexOf(cat) + 1]);
    $("categories").insertBefore(box, next ? next.el : null);
    box.hidden = Boolean(want.cat) && want.cat !== cat;
    return s;
  }

  function bodyOf(d) {
    const key = d.cat + "/" + (d.group === "running" ? "running" : "waiting");
    let b = bodies.get(key);
    if (!b) {
      const s = section(d.cat);
      b = {tbody: d.group === "running" ? s.running : s.waiting, ids: new Set()};
      bodies.set(key, b);
    }
    return b;
  }

  function makeRow(d) {
    const tr = el("tr");
    const c = {};
    if (d.group === "running") {
      c.name = el("td", "name"); c.ns = el("td"); c.op = el("td");
      const p = el("td", "progress");
      c.bar = el("progress"); c.bar.max = 100; c.bar.value = 0; c.pct = el("span", "pct");
      p.append(c.bar, c.pct);
      c.phase = el("td", "phase"); c.attempts = el("td", "num"); c.msg = el("td", "msg");
      tr.append(c.name, c.ns, c.op, p, c.phase, c.attempts, c.msg);
    } else {
      c.pos = el("td", "num"); c.name = el("td", "name"); c.ns = el("td"); c.op = el("td");
      c.phase = el("td", "phase"); c.msg = el("td", "msg");
      tr.append(c.pos, c.name, c.ns, c.op, c.phase, c.msg);
    }
    return {d: null, tr, cells: c, body: null, group: d.group};
  }

  function set(cell, text) {
    const t = text === null || text === undefined ? "" : String(text);
    if (cell.textContent !== t) cell.textContent = t;
  }

  function fill(r, d) {
    const c = r.cells;
    set(c.name, d.name); set(c.ns, d.ns); set(c.op, d.op); set(c.phase, d.phase);
    if (r.tr.dataset.phase !== d.phase) r.tr.dataset.phase = d.phase;
    if (c.bar) {
      const p = d.progress || 0;
      if (c.bar.value !== p) c.bar.value = p;
      set(c.pct, p + "%");
      set(c.attempts, d.attempts);
      set(c.msg, d.msg);
    } else {
      set(c.pos, d.pos === null ? "–" : d.pos);
      set(c.msg, d.reason || d.msg);
    }
    r.d = d;
    const hidden = !visible(d);
    if (r.tr.hidden !== hidden) r.tr.hidden = hidden; // an unchanged write still costs a style pass
  }

  function visible(d) {
    return (!want.ns || d.ns === want.ns) && (!want.phase || d.phase === want.phase);
  }

  function upsert(d, dirty) {
    let r = rows.get(d.id);
    const b = bodyOf(d);
    if (r && (r.group === "running") !== (d.group === "running")) {
      drop(d.id, dirty);
      r = undefined;
    }
    if (!r) {
      r = makeRow(d);
      rows.set(d.id, r);
    }
    if (r.body !== b) {
      if (r.body) { r.body.ids.delete(d.id); dirty.add(r.body); }
      r.body = b;
      b.ids.add(d.id);
      dirty.add(b);
    } else if (r.d.pos !== d.pos || r.d.group !== d.group) {
      dirty.add(b);
    }
    fill(r, d);
  }

  function drop(id, dirty) {
    const r = rows.get(id);
    if (!r) return;
    r.tr.remove();
    r.body.ids.delete(id);
    dirty.add(r.body);
    rows.delete(id);
  }

  function rank(d) {
    return d.group === "running" ? 0 : d.group === "waiting" ? (d.pos === null ? 1e9 : d.pos) : 2e9;
  }

  function reorder(b) {
    const list = [...b.ids].map((id) => rows.get(id));
    list.sort((x, y) => rank(x.d) - rank(y.d) || (x.d.id < y.d.id ? -1 : x.d.id > y.d.id ? 1 : 0));
    let at = b.tbody.firstChild;
    for (const r of list) {
      if (r.tr === at) at = at.nextSibling;
      else b.tbody.insertBefore(r.tr, at);
    }
  }

  function counts() {
    for (const [cat, s] of sections) {
      const run = bodies.get(cat + "/running");
      const wait = bodies.get(cat + "/waiting");
      const limit = limits[cat] === undefined ? "?" : limits[cat];
      set(s.count, `${run ? run.ids.size : 0}/${limit} running, ${wait ? wait.ids.size : 0} waiting`);
    }
  }

  function options(select, values) {
    const have = new Set([...select.options].map((o) => o.value));
    for (const v of [...values].sort()) {
      if (!have.has(v)) select.append(new Option(v, v));
    }
    select.value = want[select.dataset.key] || "";
  }

  function banners(list) {
    const box = $("banners");
    box.replaceChildren(...list.map((b) => {
      const e = el("div", "banner", b.text);
      e.dataset.platform = b.platform;
      e.setAttribute("role", "alert");
      return e;
    }));
  }

  function pools(list) {
    $("pools").replaceChildren(...list.map((p) => {
      const e = el("div", "pool");
      const m = el("meter");
      m.min = 0; m.max = Math.max(p.totalMiB, 1); m.value = p.usedMiB;
      m.high = m.max * 0.9;
      e.append(el("span", "pool-name", p.name), m,
        el("span", "pool-use", `${p.usedMiB} / ${p.totalMiB} MiB used`));
      return e;
    }));
  }

  function failures(list) {
    $("failures").replaceChildren(...list.map((f) => {
      const tr = el("tr");
      tr.dataset.ns = f.ns;
      tr.hidden = Boolean(want.ns) && want.ns !== f.ns;
      tr.append(el("td", "name", f.name), el("td", null, f.ns), el("td", null, f.op),
        el("td", null, f.at ? new Date(f.at).toLocaleString() : ""), el("td", "msg", f.msg));
      return tr;
    }));
  }

  function parts(m) {
    if (m.categories) {
      limits = Object.fromEntries(m.categories.map((c) => [c.name, c.limit]));
      for (const c of m.categories) section(c.name);
      options($("filter-cat"), m.categories.map((c) => c.name));
    }
    if (m.pools) pools(m.pools);
    if (m.banners) banners(m.banners);
    if (m.failures) failures(m.failures);
    if (m.ready !== undefined) document.body.classList.toggle("syncing", !m.ready);
  }

  function apply(m, whole) {
    const t0 = performance.now();
    const dirty = new Set();
    const before = rows.size;
    if (whole) {
      for (const id of [...rows.keys()]) if (!(id in m.jobs)) drop(id, dirty);
      for (const id in m.jobs) upsert(m.jobs[id], dirty);
    } else {
      for (const d of m.upsert || []) upsert(d, dirty);
      for (const id of m.remove || []) drop(id, dirty);
    }
    parts(m);
    for (const b of dirty) reorder(b);
    counts();
    if (whole || rows.size !== before) {
      const ns = new Set();
      for (const r of rows.values()) ns.add(r.d.ns);
      options($("filter-ns"), ns);
    }
    performance.measure("board-apply", {start: t0});
    performance.clearMeasures("board-apply"); // observers have it; the buffer stays small
    if (first) { first = false; performance.mark("board-first"); }
  }

  function refilter() {
    const hash = new URLSearchParams(Object.entries(want).filter(([, v]) => v));
    const text = hash.toString();
    history.replaceState(null, "", text ? "#" + text : location.pathname + location.search);
    for (const r of rows.values()) r.tr.hidden = !visible(r.d);
    for (const [cat, s] of sections) s.el.hidden = Boolean(want.cat) && want.cat !== cat;
    for (const tr of $("failures").rows) tr.hidden = Boolean(want.ns) && want.ns !== tr.dataset.ns;
  }

  function start() {
    for (const [id, key] of [["filter-ns", "ns"], ["filter-cat", "cat"], ["filter-phase", "phase"]]) {
      const s = $(id);
      s.dataset.key = key;
      s.addEventListener("change", () => { want[key] = s.value; refilter(); });
    }
    options($("filter-phase"), PHASES);
    const state = $("connection");
    const source = new EventSource("events");
    source.onopen = () => { state.textContent = "live"; state.className = "connection live"; };
    source.onerror = () => { state.textContent = "reconnecting…"; state.className = "connection lost"; };
    source.addEventListener("board", (e) => apply(JSON.parse(e.data), true));
    source.addEventListener("diff", (e) => apply(JSON.parse(e.data), false));
  }

  start();
})();
