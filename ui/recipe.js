// recipe.js -- the recipe view: applied overlays, the deployment order
// graph, the components (version, namespace, chart and source), the
// constraints, and for the selected component its fields and values, each
// with where it came from (the RecipeExplanation of GET
// /v1/recipe?explain=true: shown on hover as a title, and in the Source
// column when expanded).
import { h, set, show } from "./dom.js";
import * as graph from "./graph.js";

// source(item) -> "overlay gb200-eks-training" / "registry" / "values.yaml"
function source(o) {
  if (!o) return "";
  return [o.via, o.overlay].filter(Boolean).join(" ");
}
const sourceTitle = (o) => (o ? [source(o), o.file].filter(Boolean).join(" — ") : "");

// the Source cell: how (via, overlay); the file on hover, and in the cell
// once "show source files" is on
function sourceCell(o) {
  return h("td", { class: "src", "data-label": "Source", title: sourceTitle(o) },
    o ? [h("span", { class: "via" }, source(o) || "—"), o.file ? h("small", { class: "file" }, o.file) : null] : "…");
}

export class RecipeView {
  constructor(root, { onSelect }) {
    this.root = root;
    this.onSelect = onSelect;
    this.recipe = null;
    this.explain = null;
    this.selected = null;
  }

  // show(recipe, explanation|null, selected|null)
  show(recipe, explain, selected) {
    this.recipe = recipe;
    this.explain = explain;
    const refs = recipe.componentRefs || [];
    if (!selected || !refs.some((r) => r.name === selected)) selected = null;
    this.selected = selected;
    const ex = explain || { overlays: [], constraints: [], components: [] };
    const reason = new Map(ex.overlays.map((o) => [o.name, o]));
    const overlays = (recipe.metadata && recipe.metadata.appliedOverlays) || [];
    const warnings = (recipe.metadata && recipe.metadata.warnings) || [];
    this.svg = graph.render(recipe, (n) => this.onSelect(n, false));
    const files = h("input", { type: "checkbox", id: "show-files", checked: this.root.classList.contains("show-files"),
      onchange: (e) => this.root.classList.toggle("show-files", e.target.checked) });
    set(this.root,
      h("p", { class: "check files-toggle" }, files, h("label", { for: "show-files" }, " Show the source file of every value")),
      h("section", { class: "card", "aria-labelledby": "h-overlays" },
        h("details", { class: "overlays" },
          h("summary", {}, h("h2", { id: "h-overlays" }, `Applied overlays (${overlays.length})`), " ",
            h("span", { class: "chain" }, overlays.join(" → "))),
          h("ol", { class: "overlays" }, overlays.map((n) => {
            const o = reason.get(n);
            return h("li", { title: o ? `${o.reason} — ${o.file}` : n }, n, o ? h("small", {}, o.reason) : null);
          }))),
        warnings.length ? h("ul", { class: "warnings" }, warnings.map((w) => h("li", {}, w))) : null),
      h("section", { class: "card", "aria-labelledby": "h-order" },
        h("h2", { id: "h-order" }, "Deployment order"),
        h("p", { class: "muted" }, "Left to right, each column after the ones it depends on. " +
          "Select a component to see its values."),
        h("div", { class: "graph-wrap" }, this.svg)),
      h("section", { class: "card", id: "component-detail", "aria-labelledby": "h-detail", tabindex: "-1" },
        this.detail(selected, ex)),
      h("section", { class: "card", "aria-labelledby": "h-components" },
        h("h2", { id: "h-components" }, `Components (${refs.length})`),
        this.components(refs, ex)),
      h("section", { class: "card", "aria-labelledby": "h-constraints" },
        h("h2", { id: "h-constraints" }, `Constraints (${(recipe.constraints || []).length})`),
        this.constraints(recipe.constraints || [], ex)));
    graph.select(this.svg, selected);
  }

  components(refs, ex) {
    const fieldsOf = new Map(ex.components.map((c) => [c.name, new Map(c.fields.map((f) => [f.field, f]))]));
    const order = new Map((this.recipe.deploymentOrder || []).map((n, i) => [n, i + 1]));
    const cell = (ref, f, label) => {
      const src = fieldsOf.get(ref.name) && fieldsOf.get(ref.name).get(f);
      return h("td", { "data-label": label, title: sourceTitle(src) }, ref[f] === undefined ? "" : show(ref[f]));
    };
    return h("div", { class: "table-wrap" }, h("table", { class: "components" },
      h("thead", {}, h("tr", {}, ["Step", "Component", "Version", "Namespace", "Chart", "Source", "Type"]
        .map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, [...refs].sort((a, b) => (order.get(a.name) || 1e9) - (order.get(b.name) || 1e9))
        .map((r) => h("tr", { dataset: { component: r.name } },
        h("td", { "data-label": "Step" }, order.get(r.name) || ""),
        h("th", { scope: "row", "data-label": "Component" },
          h("button", { type: "button", class: "link", onclick: () => this.onSelect(r.name, true),
            "aria-controls": "component-detail" }, r.name)),
        cell(r, "version", "Version"), cell(r, "namespace", "Namespace"), cell(r, "chart", "Chart"),
        cell(r, "source", "Source"), cell(r, "type", "Type"))))));
  }

  constraints(list, ex) {
    const src = new Map(ex.constraints.map((c) => [c.name, c]));
    if (!list.length) return h("p", { class: "muted" }, "This recipe states no constraints.");
    return h("div", { class: "table-wrap" }, h("table", { class: "constraints" },
      h("thead", {}, h("tr", {}, ["Constraint", "Expected", "Severity", "Remediation", "Source"]
        .map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, list.map((c) => h("tr", { dataset: { constraint: c.name } },
        h("th", { scope: "row", "data-label": "Constraint" }, h("code", {}, c.name)),
        h("td", { "data-label": "Expected" }, h("code", {}, show(c.value))),
        h("td", { "data-label": "Severity" }, c.severity || "error"),
        h("td", { "data-label": "Remediation" }, c.remediation || ""),
        sourceCell(this.explain ? src.get(c.name) : null))))));
  }

  // the selected component: its fields and values with their sources
  detail(name, ex) {
    if (!name) {
      return [h("h2", { id: "h-detail" }, "Component values"),
        h("p", { class: "muted" }, "Select a component in the graph or the table.")];
    }
    const c = ex.components.find((x) => x.name === name);
    const rows = (list, key) => list.map((f) => h("tr", {},
      h("th", { scope: "row", "data-label": key === "field" ? "Field" : "Value path" }, h("code", {}, f[key])),
      h("td", { "data-label": "Value", title: sourceTitle(f) }, h("code", { class: "value" }, show(f.value))),
      sourceCell(f)));
    const table = (list, key, caption) => h("div", { class: "table-wrap" }, h("table", { class: "values" },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, [key === "field" ? "Field" : "Value path", "Value", "Source"]
        .map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows(list, key))));
    return [
      h("h2", { id: "h-detail" }, h("span", { class: "muted" }, "Component "), name),
      !this.explain ? h("p", { class: "muted" }, "Loading where each value comes from…")
        : !c ? h("p", {}, "No explanation for this component.")
          : [table(c.fields, "field", `Fields of ${name}`),
            c.values && c.values.length ? table(c.values, "path", `Values of ${name} (${c.values.length})`)
              : h("p", { class: "muted" }, "No Helm values.")],
    ];
  }

  // select(name): show name's values and mark it in the graph
  select(name) {
    if (!this.recipe) return;
    this.selected = name;
    const d = this.root.querySelector("#component-detail");
    set(d, ...[].concat(this.detail(name, this.explain || { components: [] })));
    graph.select(this.svg, name);
  }
}
