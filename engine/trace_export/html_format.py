"""Trace as one self-contained HTML report that works offline.

The page embeds the trace as JSON inside `<script type="application/json">` (with `<`, `>`,
`&` and line separators escaped as `\\uXXXX`) and builds every element from it with
`createElement`/`textContent` in inline JavaScript, so no workflow value is ever parsed
as markup. Header (status, duration, inputs), failures, a waterfall with one lane per
thread, a sortable table with expandable inputs/outputs, and the workflow graph (SVG).
"""

# ruff: noqa: E501  (the embedded CSS and JavaScript read better unwrapped)

from __future__ import annotations

import base64
import hashlib
import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.trace_export import write_text_atomically
from engine.trace_export.jsonsafe import to_json_text

if TYPE_CHECKING:
    from engine.trace import WorkflowTrace

_SCRIPT_ESCAPES = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def embed_json(value: Any) -> str:
    """JSON that is inert inside a `<script type="application/json">` element."""
    text = to_json_text(value, separators=(",", ":"))
    return text.translate(_SCRIPT_ESCAPES)


def render(trace: WorkflowTrace) -> str:
    title = html.escape(f"Trace: {trace.workflow_name or 'workflow'}", quote=True)
    return (
        _TEMPLATE.replace("__SCRIPT_HASH__", _script_hash())
        .replace("__TITLE__", title)
        .replace("__STYLE__", _STYLE)
        .replace("__SCRIPT__", _SCRIPT)
        .replace("__DATA__", embed_json(_page_data(trace)))
    )


def _page_data(trace: WorkflowTrace) -> dict[str, Any]:
    """The trace dict plus numeric start offsets (ISO strings lose sub-millisecond detail)."""
    data = trace.to_dict()
    for node_dict, node in zip(data["nodes"], trace.nodes, strict=True):
        node_dict["offset_seconds"] = max(node.start_time - trace.start_time, 0.0)
    return data


def _script_hash() -> str:
    """CSP hash of the report's one script: injected scripts and inline handlers stay blocked."""
    return base64.b64encode(hashlib.sha256(_SCRIPT.encode("utf-8")).digest()).decode("ascii")


def export(trace: WorkflowTrace, path: Path, **_options: Any) -> None:
    write_text_atomically(path, render(trace))


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-__SCRIPT_HASH__'; img-src data:">
<title>__TITLE__</title>
<style>__STYLE__</style>
</head>
<body>
<header id="header"></header>
<section id="failures-section" hidden><h2>Failures</h2><ul id="failures"></ul></section>
<section><h2>Timeline</h2><div id="axis"></div><div id="waterfall"></div></section>
<section><h2>Nodes</h2><p class="hint">Click a column heading to sort. Click a bar in the timeline to jump to its row.</p>
<table id="nodes"><thead><tr id="head"></tr></thead><tbody id="rows"></tbody></table>
<div id="more"></div></section>
<section><h2>Workflow graph</h2><div id="graph"></div></section>
<script type="application/json" id="trace-data">__DATA__</script>
<script>__SCRIPT__</script>
</body>
</html>
"""

_STYLE = """
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 24px 48px;color:#1d2330;background:#fafbfc}
h1{font-size:20px;margin:16px 0 4px}h2{font-size:16px;margin:24px 0 8px}
.badge{display:inline-block;padding:2px 10px;border-radius:10px;font-weight:600;color:#fff}
.ok{background:#2e7d32}.fail{background:#c62828}.unknown{background:#6b7280}
.meta{color:#4b5563;margin:4px 0}.hint{color:#6b7280;font-size:12px}
pre{background:#f1f3f5;padding:8px;border-radius:4px;max-height:320px;overflow:auto;white-space:pre-wrap;word-break:break-word;margin:4px 0}
#waterfall{border:1px solid #d0d7de;background:#fff}
.lane{display:flex;border-bottom:1px solid #eef0f2;height:24px}
.lane-label{width:180px;flex:none;padding:2px 6px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;font-size:12px;border-right:1px solid #d0d7de;background:#f6f8fa}
.track{position:relative;flex:1}
.bar{position:absolute;top:4px;height:16px;min-width:2px;border-radius:2px;background:#4c8bf5;cursor:pointer;opacity:.9}
.bar.failed{background:#d32f2f}.bar.skipped{background:#9ca3af}.bar:hover{opacity:1;outline:1px solid #111}
#axis{margin-left:181px;position:relative;height:18px;font-size:11px;color:#6b7280}
#axis span{position:absolute;transform:translateX(-50%)}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border:1px solid #d0d7de;padding:3px 6px;text-align:left;vertical-align:top;font-size:13px}
th{background:#f6f8fa;cursor:pointer;user-select:none;white-space:nowrap}
th.sorted-asc::after{content:" \\25B2"}th.sorted-desc::after{content:" \\25BC"}
tr.failed td{background:#fdecea}tr.failed td.err{color:#b71c1c;font-weight:600}
tr.flash td{background:#fff7cc}
td.num{text-align:right;font-variant-numeric:tabular-nums}
details summary{cursor:pointer;color:#1f6feb}
#failures li{margin:4px 0}#failures .err{color:#b71c1c}
#graph svg{background:#fff;border:1px solid #d0d7de}
.gnode rect{stroke:#374151;stroke-width:1}.gnode text{font-size:11px}
"""

_SCRIPT = r"""
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('trace-data').textContent);
  var nodes = data.nodes || [];
  var SVG = 'http://www.w3.org/2000/svg';

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined) e.textContent = String(text);
    return e;
  }
  function pretty(v) {
    try { return JSON.stringify(v, null, 2); } catch (err) { return String(v); }
  }
  function fmt(seconds) {
    if (seconds === null || seconds === undefined) return '';
    if (seconds < 0.001) return (seconds * 1e6).toFixed(0) + ' \u00b5s';
    if (seconds < 1) return (seconds * 1000).toFixed(1) + ' ms';
    return seconds.toFixed(3) + ' s';
  }
  function off(n) { return n.offset_seconds || 0; }
  function expandable(label, value) {
    var d = el('details');
    d.appendChild(el('summary', null, label));
    var pre = el('pre');
    d.appendChild(pre);
    d.addEventListener('toggle', function () {
      if (d.open && !pre.textContent) pre.textContent = pretty(value);
    });
    return d;
  }

  // Header
  var header = document.getElementById('header');
  header.appendChild(el('h1', null, data.workflow || 'workflow'));
  var status = data.success === true ? 'succeeded' : data.success === false ? 'failed' : 'unfinished';
  var badge = el('span', 'badge ' + (data.success === true ? 'ok' : data.success === false ? 'fail' : 'unknown'), status);
  var line = el('p', 'meta');
  line.appendChild(badge);
  line.appendChild(document.createTextNode('  duration ' + fmt(data.duration_seconds) +
    ' \u00b7 ' + nodes.length + ' node records \u00b7 execution ' + (data.execution_id || '-') +
    ' \u00b7 started ' + (data.start_time || '-')));
  header.appendChild(line);
  if (data.error) header.appendChild(el('p', 'meta err', 'Error: ' + data.error));
  var inputs = el('details');
  inputs.open = true;
  inputs.appendChild(el('summary', null, 'Inputs'));
  inputs.appendChild(el('pre', null, pretty(data.inputs)));
  header.appendChild(inputs);
  header.appendChild(expandable('Outputs', data.outputs));

  // Failures
  var failed = nodes.filter(function (n) { return n.success === false; });
  if (failed.length) {
    document.getElementById('failures-section').hidden = false;
    var list = document.getElementById('failures');
    failed.slice(0, 200).forEach(function (n) {
      var li = el('li');
      li.appendChild(el('strong', null, n.node_id));
      li.appendChild(document.createTextNode(' (' + n.thread + ', ' + n.attempts + ' attempt(s)): '));
      li.appendChild(el('span', 'err', n.error || 'failed'));
      list.appendChild(li);
    });
  }

  // Waterfall: one lane per thread
  var total = data.duration_seconds || 0;
  nodes.forEach(function (n) {
    var end = off(n) + (n.duration_seconds || 0);
    if (end > total) total = end;
  });
  if (!(total > 0)) total = 1e-6;
  var axis = document.getElementById('axis');
  for (var i = 0; i <= 4; i++) {
    var tick = el('span', null, fmt(total * i / 4));
    tick.style.left = (i * 25) + '%';
    if (i === 4) tick.style.transform = 'translateX(-100%)';
    axis.appendChild(tick);
  }
  var lanes = {}, laneOrder = [];
  function lane(name) {
    if (!lanes[name]) {
      var row = el('div', 'lane');
      row.appendChild(el('div', 'lane-label', name));
      var track = el('div', 'track');
      row.appendChild(track);
      lanes[name] = track;
      laneOrder.push(row);
    }
    return lanes[name];
  }
  lane('main');
  var rowsById = [];
  var frag = document.createDocumentFragment();
  nodes.forEach(function (n, index) {
    var bar = el('div', 'bar' + (n.success === false ? ' failed' : (n.status === 'skipped' || n.status === 'cancelled') ? ' skipped' : ''));
    var left = (off(n) / total) * 100;
    bar.style.left = Math.max(0, Math.min(left, 100)) + '%';
    bar.style.width = Math.max(((n.duration_seconds || 0) / total) * 100, 0) + '%';
    bar.setAttribute('title', n.node_id + ' (' + n.node_type + ') ' + fmt(n.duration_seconds) +
      (n.error ? ' \u2014 ' + n.error : ''));
    bar.addEventListener('click', function () { reveal(index); });
    lane(n.thread || 'main').appendChild(bar);
  });
  laneOrder.forEach(function (row) { frag.appendChild(row); });
  document.getElementById('waterfall').appendChild(frag);

  // Table
  var columns = [
    ['#', function (n, i) { return i + 1; }, true],
    ['node', function (n) { return n.node_id; }],
    ['type', function (n) { return n.node_type; }],
    ['thread', function (n) { return n.thread; }],
    ['start', function (n) { return off(n); }, true],
    ['duration', function (n) { return n.duration_seconds || 0; }, true],
    ['attempts', function (n) { return n.attempts; }, true],
    ['status', function (n) { return n.status; }],
    ['tools', function (n) { return (n.tool_calls || []).length; }, true],
    ['error', function (n) { return n.error || ''; }]
  ];
  var order = nodes.map(function (n, i) { return i; });
  var limit = 500;
  var sortColumn = -1, ascending = true;
  var head = document.getElementById('head');
  columns.forEach(function (col, c) {
    var th = el('th', null, col[0]);
    th.addEventListener('click', function () { sortBy(c); });
    head.appendChild(th);
  });
  head.appendChild(el('th', null, 'inputs / outputs'));
  function renderRows() {
    var body = document.getElementById('rows');
    body.textContent = '';
    rowsById = [];
    var out = document.createDocumentFragment();
    order.slice(0, limit).forEach(function (i) {
      var n = nodes[i];
      var tr = el('tr', n.success === false ? 'failed' : null);
      columns.forEach(function (col, c) {
        var v = col[1](n, i);
        var text = (c === 4 || c === 5) ? fmt(v) : v;
        tr.appendChild(el('td', col[2] ? 'num' : (c === 9 ? 'err' : null), text));
      });
      var io = el('td');
      io.appendChild(expandable('inputs', n.inputs));
      io.appendChild(expandable('outputs', n.outputs));
      if ((n.tool_calls || []).length) io.appendChild(expandable('tool calls', n.tool_calls));
      tr.appendChild(io);
      rowsById[i] = tr;
      out.appendChild(tr);
    });
    body.appendChild(out);
    var more = document.getElementById('more');
    more.textContent = '';
    if (order.length > limit) {
      var button = el('button', null, 'Show all ' + order.length + ' rows');
      button.addEventListener('click', function () { limit = order.length; renderRows(); });
      more.appendChild(button);
    }
  }
  function sortBy(c) {
    ascending = sortColumn === c ? !ascending : c !== 5;
    sortColumn = c;
    var key = columns[c][1];
    order.sort(function (a, b) {
      var x = key(nodes[a], a), y = key(nodes[b], b);
      var r = x < y ? -1 : x > y ? 1 : a - b;
      return ascending ? r : -r;
    });
    Array.prototype.forEach.call(head.children, function (th, i) {
      th.className = i === c ? (ascending ? 'sorted-asc' : 'sorted-desc') : '';
    });
    renderRows();
  }
  function reveal(index) {
    if (!rowsById[index]) { limit = order.length; renderRows(); }
    var tr = rowsById[index];
    if (!tr) return;
    tr.scrollIntoView({block: 'center'});
    tr.classList.add('flash');
    setTimeout(function () { tr.classList.remove('flash'); }, 1200);
  }
  renderRows();

  // Workflow graph: layered drawing (longest path over forward edges; back edges dashed).
  (function drawGraph() {
    var graph = data.graph || {nodes: [], edges: []};
    var holder = document.getElementById('graph');
    var gnodes = graph.nodes || [];
    if (!gnodes.length) { holder.appendChild(el('p', 'hint', 'No graph recorded.')); return; }
    if (gnodes.length > 400) {
      holder.appendChild(el('p', 'hint', 'The graph has ' + gnodes.length + ' nodes; too many to draw.'));
      return;
    }
    var ids = gnodes.map(function (n) { return n.id; });
    var known = {};
    ids.forEach(function (id) { known[id] = true; });
    var out = {};
    ids.forEach(function (id) { out[id] = []; });
    var edges = (graph.edges || []).filter(function (e) { return known[e.source] && known[e.target]; });
    edges.forEach(function (e) { out[e.source].push(e); });
    var stateOf = {};
    nodes.forEach(function (n) {
      if (n.success === false) stateOf[n.node_id] = 'failed';
      else if (!stateOf[n.node_id]) stateOf[n.node_id] = 'ran';
    });
    // DFS marks back edges so loops do not break the layering.
    var colour = {}, back = new Set(), topo = [];
    function dfs(start) {
      var stack = [[start, 0]];
      colour[start] = 1;
      while (stack.length) {
        var top = stack[stack.length - 1], id = top[0], edgesOut = out[id];
        if (top[1] < edgesOut.length) {
          var e = edgesOut[top[1]++];
          if (colour[e.target] === 1) back.add(e);
          else if (!colour[e.target]) { colour[e.target] = 1; stack.push([e.target, 0]); }
        } else { colour[id] = 2; topo.push(id); stack.pop(); }
      }
    }
    if (graph.start && known[graph.start]) dfs(graph.start);
    ids.forEach(function (id) { if (!colour[id]) dfs(id); });
    topo.reverse();
    var layer = {};
    topo.forEach(function (id) { if (layer[id] === undefined) layer[id] = 0; });
    topo.forEach(function (id) {
      out[id].forEach(function (e) {
        if (!back.has(e) && layer[e.target] < layer[id] + 1) layer[e.target] = layer[id] + 1;
      });
    });
    var byLayer = [];
    ids.forEach(function (id) { (byLayer[layer[id]] = byLayer[layer[id]] || []).push(id); });
    var W = 150, H = 30, GX = 30, GY = 40, pos = {};
    var widest = 0;
    byLayer.forEach(function (row) { if (row && row.length > widest) widest = row.length; });
    var width = Math.max(widest * (W + GX) + GX, 300) + 80, height = byLayer.length * (H + GY) + GY;
    byLayer.forEach(function (row, L) {
      if (!row) return;
      var offset = (width - 80 - row.length * (W + GX) + GX) / 2;
      row.forEach(function (id, k) { pos[id] = {x: offset + k * (W + GX), y: GY / 2 + L * (H + GY)}; });
    });
    var root = svg('svg', {width: width, height: height, viewBox: '0 0 ' + width + ' ' + height, role: 'img'});
    var defs = svg('defs', {});
    var marker = svg('marker', {id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse'});
    marker.appendChild(svg('path', {d: 'M 0 0 L 10 5 L 0 10 z', fill: '#6b7280'}));
    defs.appendChild(marker);
    root.appendChild(defs);
    edges.forEach(function (e) {
      var a = pos[e.source], b = pos[e.target];
      var d;
      if (back.has(e) || e.source === e.target) {
        var x = Math.max(a.x, b.x) + W, bend = x + 40;
        d = 'M ' + (a.x + W) + ' ' + (a.y + H / 2) + ' C ' + bend + ' ' + (a.y + H / 2) + ' ' + bend + ' ' + (b.y + H / 2) + ' ' + (b.x + W) + ' ' + (b.y + H / 2);
      } else {
        d = 'M ' + (a.x + W / 2) + ' ' + (a.y + H) + ' L ' + (b.x + W / 2) + ' ' + b.y;
      }
      var path = svg('path', {d: d, fill: 'none', stroke: '#6b7280', 'stroke-width': 1.2, 'marker-end': 'url(#arrow)'});
      if (back.has(e)) path.setAttribute('stroke-dasharray', '4 3');
      root.appendChild(path);
      if (e.label !== null && e.label !== undefined && e.label !== '') {
        var mx = back.has(e) ? Math.max(a.x, b.x) + W + 30 : (a.x + b.x + W) / 2 + 4;
        var my = back.has(e) ? (a.y + b.y + H) / 2 : (a.y + H + b.y) / 2;
        root.appendChild(svg('text', {x: mx, y: my, 'font-size': 10, fill: '#374151'}, e.label));
      }
    });
    var typeOf = {};
    gnodes.forEach(function (n) { typeOf[n.id] = n.type; });
    ids.forEach(function (id) {
      var p = pos[id], g = svg('g', {'class': 'gnode'});
      var fill = stateOf[id] === 'failed' ? '#f8b4b4' : stateOf[id] === 'ran' ? '#b7e4c7' : '#e5e7eb';
      g.appendChild(svg('rect', {x: p.x, y: p.y, width: W, height: H, rx: 5, fill: fill}));
      var label = id.length > 22 ? id.slice(0, 21) + '\u2026' : id;
      g.appendChild(svg('text', {x: p.x + W / 2, y: p.y + 13, 'text-anchor': 'middle'}, label));
      g.appendChild(svg('text', {x: p.x + W / 2, y: p.y + 25, 'text-anchor': 'middle', 'font-size': 9, fill: '#4b5563'}, typeOf[id] || ''));
      var tip = svg('title', {}, id + ' (' + (typeOf[id] || '') + ')' + (stateOf[id] ? ' \u2014 ' + stateOf[id] : ' \u2014 not run'));
      g.appendChild(tip);
      root.appendChild(g);
    });
    holder.appendChild(root);
  })();
  document.documentElement.setAttribute('data-rendered', 'true');
})();
"""
