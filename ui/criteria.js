// criteria.js -- the criteria pickers, built from the engine's own enums
// (GET /v1/criteria: values, aliases, curated recipes per value), the
// criteria <-> query string mapping (the URL holds the criteria, so a link
// reproduces the view), and the hints shown next to a picker when the
// server refuses the criteria.
import { h, set } from "./dom.js";

export const FIELDS = ["service", "accelerator", "intent", "os", "platform", "nodes"];
const LABELS = { service: "Service", accelerator: "Accelerator", intent: "Intent", os: "OS", platform: "Platform",
  nodes: "GPU nodes" };

// canonical(catalog, field, raw) -> the canonical value (any case, aliases
// resolved), or raw when the catalog does not know it (the server says why)
export function canonical(catalog, field, raw) {
  const v = String(raw).trim().toLowerCase();
  const f = catalog && catalog.fields.find((x) => x.name === field);
  if (!f || field === "nodes") return String(raw).trim();
  if (v === "any" || f.values.includes(v)) return v;
  if (f.aliases[v]) return f.aliases[v];
  return String(raw);
}

// fromQuery(search, catalog) -> {field: value} (gpu= is accelerator's alias)
export function fromQuery(search, catalog) {
  const p = new URLSearchParams(search);
  const c = {};
  for (const f of FIELDS) {
    let v = p.get(f);
    if (f === "accelerator" && !v) v = p.get("gpu");
    if (v !== null && v !== "") c[f] = canonical(catalog, f, v);
  }
  if (c.nodes === "0") delete c.nodes;
  return c;
}

// toQuery(c) -> URLSearchParams of the stated criteria, in field order
export function toQuery(c, extra = {}) {
  const p = new URLSearchParams();
  for (const f of FIELDS) if (c[f] !== undefined && c[f] !== "") p.set(f, c[f]);
  for (const [k, v] of Object.entries(extra)) if (v !== undefined && v !== null && v !== "") p.set(k, v);
  return p;
}

export const stated = (c) => FIELDS.some((f) => c[f] !== undefined && c[f] !== "");

// "eks · gb200 · training · ubuntu" (what a person reads)
export function summary(c) {
  const parts = FIELDS.filter((f) => c[f] && c[f] !== "any").map((f) => (f === "nodes" ? `${c[f]} nodes` : c[f]));
  return parts.length ? parts.join(" · ") : "no criteria";
}

// Pickers: one labelled control per field in form, each with its aliases
// and a hint slot (described-by), calling onChange(criteria) on a pick
export class Pickers {
  constructor(form, catalog, { prefix = "c", onChange }) {
    this.form = form;
    this.catalog = catalog;
    this.prefix = prefix;
    this.onChange = onChange;
    this.controls = {};
    this.hints = {};
    const row = h("div", { class: "pickers" });
    for (const f of FIELDS) row.appendChild(this.picker(f));
    set(form, row);
    form.addEventListener("submit", (e) => e.preventDefault());
  }

  picker(name) {
    const id = `${this.prefix}-${name}`;
    const spec = this.catalog.fields.find((x) => x.name === name) || { values: [], aliases: {} };
    const hint = h("div", { id: `${id}-hint`, class: "hint", role: "status", "aria-live": "polite" });
    const byTarget = new Map();
    for (const [a, v] of Object.entries(spec.aliases || {})) byTarget.set(v, [...(byTarget.get(v) || []), a]);
    const note = byTarget.size
      ? h("small", { id: `${id}-aliases`, class: "aliases" },
        "aliases: ", [...byTarget].map(([v, as]) => `${as.join(", ")} → ${v}`).join("; "))
      : null;
    const describedby = [`${id}-hint`, note && `${id}-aliases`].filter(Boolean).join(" ");
    let control;
    if (name === "nodes") {
      control = h("input", { id, name, type: "number", min: "0", step: "1", inputmode: "numeric", placeholder: "any",
        "aria-describedby": describedby });
    } else {
      const counts = spec.recipes || {};
      control = h("select", { id, name, "aria-describedby": describedby },
        h("option", { value: "" }, "not set"),
        spec.values.map((v) => h("option", { value: v }, counts[v] !== undefined ? `${v} (${counts[v]})` : v)),
        h("option", { value: "any" }, "any"));
    }
    control.addEventListener("change", () => this.onChange && this.onChange(this.value));
    this.controls[name] = control;
    this.hints[name] = hint;
    return h("div", { class: "picker", dataset: { field: name } },
      h("label", { for: id }, LABELS[name]), control, note, hint);
  }

  get value() {
    const c = {};
    for (const f of FIELDS) {
      const v = this.controls[f].value.trim();
      if (v !== "" && !(f === "nodes" && v === "0")) c[f] = v;
    }
    return c;
  }

  set value(c) {
    for (const f of FIELDS) {
      const el = this.controls[f];
      const v = c[f] === undefined ? "" : String(c[f]);
      if (el.tagName === "SELECT" && v !== "" && ![...el.options].some((o) => o.value === v)) {
        el.appendChild(h("option", { value: v }, `${v} (unknown)`)); // from a link: the server explains
      }
      el.value = v;
    }
  }

  clearHints() {
    for (const f of FIELDS) {
      set(this.hints[f]);
      this.controls[f].removeAttribute("aria-invalid");
    }
  }

  // hint(field, ...content): shown next to the picker, which is marked invalid
  hint(field, ...content) {
    const f = FIELDS.includes(field) ? field : "service";
    set(this.hints[f], ...content);
    this.controls[f].setAttribute("aria-invalid", "true");
  }
}
