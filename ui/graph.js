// graph.js -- the deployment order as a picture: an inline SVG with one
// <g data-component="NAME"> per component, laid out in layers by
// deployment order (a component's layer is one more than the deepest of
// its dependencies; within a layer the recipe's deploymentOrder, then a
// few barycenter sweeps so edges cross less), left to right, and an edge
// from each dependency to what depends on it. Nodes are buttons: click,
// Enter or Space selects the component.
import { svg } from "./dom.js";

const W = 200, H = 46, GX = 64, GY = 16, PAD = 12;

// layout(refs, order) -> {nodes: Map name -> {name, layer, row, step, deps},
// layers (lists of names and of the waypoints of long edges), edges}. An
// edge that spans several layers passes through a waypoint in each layer
// between (a slot of its own), so it never runs behind another node.
export function layout(refs, order) {
  const byName = new Map(refs.map((r) => [r.name, r]));
  const step = new Map((order || []).map((n, i) => [n, i]));
  for (const r of refs) if (!step.has(r.name)) step.set(r.name, step.size);
  const depsOf = (n) => (byName.get(n).dependencyRefs || []).filter((d) => byName.has(d) && d !== n);
  const layerOf = new Map();
  const visiting = new Set();
  const layer = (name) => {
    if (layerOf.has(name)) return layerOf.get(name);
    if (visiting.has(name)) return 0; // a cycle: the engine refuses those; draw it anyway
    visiting.add(name);
    const deps = depsOf(name);
    const l = deps.length ? 1 + Math.max(...deps.map(layer)) : 0;
    visiting.delete(name);
    layerOf.set(name, l);
    return l;
  };
  const names = [...byName.keys()].sort((a, b) => step.get(a) - step.get(b));
  const layers = [];
  const put = (l, id) => (layers[l] ||= []).push(id);
  for (const n of names) put(layer(n), n);
  // edges, and the segments between consecutive layers (through waypoints)
  const edges = [], segs = [], rank = new Map(names.map((n) => [n, step.get(n)]));
  for (const n of names) {
    for (const d of depsOf(n)) {
      if (layerOf.get(d) >= layerOf.get(n)) continue; // a cycle's back edge
      const e = { from: d, to: n, via: [] };
      let prev = d;
      for (let l = layerOf.get(d) + 1; l < layerOf.get(n); l++) {
        const w = `\u0000${d}\u0000${n}\u0000${l}`;
        rank.set(w, step.get(n));
        put(l, w);
        e.via.push(w);
        segs.push([prev, w]);
        prev = w;
      }
      segs.push([prev, n]);
      edges.push(e);
    }
  }
  for (let i = 0; i < layers.length; i++) layers[i] ||= [];
  // barycenter sweeps: order each layer by the mean row of its neighbours
  const row = new Map();
  layers.forEach((l) => l.forEach((n, i) => row.set(n, i)));
  const mean = (list, fallback) => (list.length ? list.reduce((t, n) => t + row.get(n), 0) / list.length : fallback);
  for (let pass = 0; pass < 6; pass++) {
    const down = pass % 2 === 0;
    const seq = down ? layers.slice(1) : layers.slice(0, -1).reverse();
    for (const l of seq) {
      const key = new Map(l.map((n) => {
        const nb = segs.filter((g) => (down ? g[1] === n : g[0] === n)).map((g) => (down ? g[0] : g[1]));
        return [n, mean(nb, row.get(n))];
      }));
      l.sort((a, b) => key.get(a) - key.get(b) || rank.get(a) - rank.get(b));
      l.forEach((n, i) => row.set(n, i));
    }
  }
  const nodes = new Map();
  layers.forEach((l, li) => l.forEach((n, ri) => {
    if (byName.has(n)) {
      nodes.set(n, { name: n, layer: li, row: ri, step: step.get(n) + 1, ref: byName.get(n), deps: depsOf(n) });
    }
  }));
  const at = (id) => ({ layer: layers.findIndex((l) => l.includes(id)), row: row.get(id) });
  for (const e of edges) e.via = e.via.map(at);
  return { nodes, layers, edges };
}

const clip = (s, n) => (s.length > n ? s.slice(0, n - 1) + "…" : s);

// render(recipe, onSelect) -> <svg>
export function render(recipe, onSelect) {
  const refs = recipe.componentRefs || [];
  const { nodes, layers, edges } = layout(refs, recipe.deploymentOrder);
  const rows = Math.max(1, ...layers.map((l) => l.length));
  const width = PAD * 2 + layers.length * W + Math.max(0, layers.length - 1) * GX;
  const height = PAD * 2 + rows * H + (rows - 1) * GY;
  const pos = (n) => ({ x: PAD + n.layer * (W + GX), y: PAD + n.row * (H + GY) });
  const root = svg("svg", {
    viewBox: `0 0 ${width} ${height}`, width, height, class: "graph", role: "group",
    "aria-label": `Deployment order of ${refs.length} components in ${layers.length} layers; ` +
      "arrows go from a dependency to the component that needs it",
  });
  root.appendChild(svg("defs", {}, svg("marker", {
    id: "arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto",
  }, svg("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }))));
  const lines = svg("g", { class: "edges" });
  const curve = (x1, y1, x2, y2) => {
    const dx = Math.max(16, (x2 - x1) / 2);
    return ` C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`;
  };
  for (const e of edges) {
    const a = pos(nodes.get(e.from)), b = pos(nodes.get(e.to));
    let x = a.x + W, y = a.y + H / 2;
    let d = `M${x},${y}`;
    for (const w of e.via) { // through the slot of each layer it crosses
      const p = pos(w);
      d += curve(x, y, p.x, p.y + H / 2) + ` L${p.x + W},${p.y + H / 2}`;
      x = p.x + W;
      y = p.y + H / 2;
    }
    d += curve(x, y, b.x - 2, b.y + H / 2);
    lines.appendChild(svg("path", { d, class: "edge", "marker-end": "url(#arrow)", dataset: { from: e.from, to: e.to } }));
  }
  root.appendChild(lines);
  for (const n of nodes.values()) {
    const p = pos(n);
    const version = n.ref.version || n.ref.tag || "";
    const deps = n.deps.length ? `; needs ${n.deps.join(", ")}` : "";
    const g = svg("g", {
      class: "node", tabindex: "0", role: "button", transform: `translate(${p.x},${p.y})`,
      "aria-label": `${n.name} ${version}, step ${n.step}${deps}`, dataset: { component: n.name },
    },
    svg("title", {}, `${n.name} ${version}\nstep ${n.step} of ${refs.length}${deps}`),
    svg("rect", { width: W, height: H, rx: 7 }),
    svg("text", { x: 10, y: 19, class: "name" }, clip(n.name, 24)),
    svg("text", { x: 10, y: 36, class: "version" }, clip(`${n.step}. ${version || n.ref.type || ""}`, 28)));
    const pick = () => onSelect && onSelect(n.name);
    g.addEventListener("click", pick);
    g.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); pick(); }
    });
    g.addEventListener("mouseenter", () => highlight(root, n.name));
    g.addEventListener("mouseleave", () => highlight(root, null));
    g.addEventListener("focus", () => highlight(root, n.name));
    g.addEventListener("blur", () => highlight(root, null));
    root.appendChild(g);
  }
  return root;
}

// highlight(root, name): name's edges stand out (null: none)
function highlight(root, name) {
  for (const e of root.querySelectorAll(".edge")) {
    e.classList.toggle("hot", Boolean(name) && (e.dataset.from === name || e.dataset.to === name));
  }
}

// select(root, name): mark the selected node
export function select(root, name) {
  for (const g of root.querySelectorAll("g.node")) {
    g.classList.toggle("selected", g.dataset.component === name);
    g.setAttribute("aria-pressed", String(g.dataset.component === name));
  }
}
