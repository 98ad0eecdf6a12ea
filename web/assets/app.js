// The ShopEase dashboard: polls /api/dashboard and the server-drawn SVG charts every 2 s. Table
// cells are set with textContent, never parsed as HTML; the SVG comes from our own server, which
// escapes every text in it.
"use strict";

const POLL_MS = 2000;

function fmtInt(n) { return Number(n || 0).toLocaleString("en-US"); }
function fmtPct(x) { return x == null ? "–" : (x * 100).toFixed(1) + "%"; }
function fmtRatio(x) { return x == null ? "–" : Number(x).toFixed(2); }

// fillTable replaces a table's rows: header is a list of column names, rows a list of cell lists.
function fillTable(id, header, rows) {
  const t = document.getElementById(id);
  t.replaceChildren();
  const hr = t.insertRow();
  for (const h of header) { const th = document.createElement("th"); th.textContent = h; hr.appendChild(th); }
  for (const r of rows) {
    const tr = t.insertRow();
    for (const c of r) tr.insertCell().textContent = c;
  }
  if (rows.length === 0) {
    const td = t.insertRow().insertCell();
    td.colSpan = header.length; td.textContent = "no data yet"; td.className = "muted";
  }
}

function render(d) {
  const status = document.getElementById("status");
  status.textContent = d.ready.ready ? "ready" : "starting: " + Object.entries(d.ready.checks)
    .filter(([, v]) => v !== "ok").map(([k, v]) => k + " " + v).join("; ");
  status.className = "status " + (d.ready.ready ? "ready" : "waiting");
  document.getElementById("updated").textContent = "updated " + new Date(d.now).toLocaleTimeString();
  if (d.lake_dir) document.getElementById("lake").textContent = "lake: " + d.lake_dir;
  document.getElementById("notes").textContent = [d.realtime_error, d.reports_error].filter(Boolean).join(" · ");

  const ms = d.minutes || [];
  const newest = ms.length ? ms[ms.length - 1] : null;
  document.getElementById("kpi-active").textContent = newest ? fmtInt(newest.active) : "–";
  document.getElementById("kpi-conversion").textContent = newest ? fmtPct(newest.conversion) : "–";
  document.getElementById("kpi-events").textContent = newest ? fmtInt(newest.events) : "–";
  const lag = Object.values(d.metrics.lag.groups || {}).reduce((a, b) => a + b, 0);
  document.getElementById("kpi-lag").textContent = d.metrics.lag.measured_at ? fmtInt(lag) : "–";

  fillTable("alerts", ["minute", "metric", "observed", "expected", "score"],
    (d.alerts || []).map(a => [a.window.replace("T", " ").replace(":00Z", " UTC"), a.metric,
      fmtInt(a.observed), Number(a.expected).toFixed(1), Number(a.score).toFixed(1)]));
  const top = d.top_products || { rows: [] };
  document.getElementById("top-month").textContent = (top.month || "") + (d.top_products_note ? " (" + d.top_products_note + ")" : "");
  fillTable("top-products", ["#", "product", "units", "gross"],
    (top.products || []).map(r => [r.rank, r.product_id, fmtInt(r.units), r.gross]));
  fillTable("monthly-revenue", ["month", "net", "gross", "refunds", "returns", "orders", "change"],
    (d.monthly_revenue || []).slice(-12).map(r => [r.month, r.net, r.gross, r.refunds, r.returns,
      fmtInt(r.orders), r.change_pct == null ? "–" : r.change_pct.toFixed(1) + "%"]));
  const tr = d.inventory_turnover || [];
  document.getElementById("turnover-month").textContent = tr.length ? tr[0].month : "";
  fillTable("inventory-turnover", ["product", "units sold", "avg on hand", "turnover", "days of inventory"],
    tr.map(r => [r.product_id, fmtInt(r.units_sold), Number(r.avg_on_hand).toFixed(1), fmtRatio(r.turnover),
      r.days_of_inventory == null ? "–" : r.days_of_inventory.toFixed(1)]));
  fillTable("processors", ["processor", "in", "out", "duplicates", "rejected", "reasons"],
    (d.metrics.processors || []).map(p => [p.processor, fmtInt(p.in), fmtInt(p.out),
      fmtInt(p.outcomes.duplicate), fmtInt(p.outcomes.rejected),
      Object.entries(p.rejected || {}).map(([k, v]) => k + "=" + v).join(" ")]));
  fillTable("lag", ["consumer group", "lag"],
    Object.entries(d.metrics.lag.groups || {}).sort().map(([g, n]) => [g, fmtInt(n)]));
}

async function loadChart(fig) {
  const res = await fetch("/charts/" + fig.dataset.chart + ".svg", { cache: "no-store" });
  if (res.ok) {
    fig.innerHTML = await res.text();
  } else {
    const err = await res.json().catch(() => ({ error: res.statusText }));
    fig.innerHTML = "";
    const p = document.createElement("p");
    p.className = "muted"; p.textContent = fig.dataset.chart + ": " + err.error;
    fig.appendChild(p);
  }
}

async function poll() {
  try {
    const res = await fetch("/api/dashboard", { cache: "no-store" });
    render(await res.json());
    await Promise.all([...document.querySelectorAll("figure[data-chart]")].map(loadChart));
    document.body.dataset.updates = String(Number(document.body.dataset.updates) + 1);
  } catch (e) {
    const status = document.getElementById("status");
    status.textContent = "no answer: " + e; status.className = "status";
  }
  setTimeout(poll, POLL_MS);
}

poll();
