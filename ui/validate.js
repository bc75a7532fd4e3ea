// validate.js -- the validate view: paste or drop one snapshot (or several,
// a fleet), POST /v1/validate with the criteria on screen, and show per
// constraint passed / failed / skipped with the reason and what to do
// (the ValidationResult); for a fleet the per-node matrix, the failing
// constraints and the outliers (the FleetValidationResult).
import { h, set, status, show } from "./dom.js";
import { postJSON } from "./api.js";
import { DocInput, stream } from "./docs.js";
import { toQuery, summary, stated } from "./criteria.js";

const STATUS_WORD = { pass: "passed", fail: "failed", partial: "partial" };

function counts(s) {
  return `${s.passed} passed, ${s.failed} failed${s.warnings ? ` (${s.warnings} warnings)` : ""}, ` +
    `${s.skipped} skipped of ${s.total}`;
}

// the table of one ValidationResult's results
function results(list) {
  return h("div", { class: "table-wrap" }, h("table", { class: "results" },
    h("thead", {}, h("tr", {}, ["Status", "Constraint", "Expected", "Actual", "Reason and suggestion"]
      .map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, list.map((r) => h("tr", { class: `row-${r.status}`, dataset: { constraint: r.name, status: r.status } },
      h("td", { "data-label": "Status" }, status(r.severity === "warning" && r.status === "failed" ? "warning" : r.status,
        r.severity === "warning" && r.status === "failed" ? "warning" : r.status)),
      h("th", { scope: "row", "data-label": "Constraint" }, h("code", {}, r.name)),
      h("td", { "data-label": "Expected" }, h("code", {}, r.expression || "")),
      h("td", { "data-label": "Actual" }, r.actual === undefined ? "—" : h("code", {}, show(r.actual))),
      h("td", { "data-label": "Reason" }, r.reason || "",
        r.remediation ? h("p", { class: "suggestion" }, h("strong", {}, "Suggestion: "), r.remediation) : null,
        r.nearest && r.nearest.length ? h("p", { class: "suggestion" }, "Nearest paths in the snapshot: ",
          r.nearest.map((n, i) => [i ? ", " : "", h("code", {}, n)])) : null))))));
}

export function single(d) {
  const word = STATUS_WORD[d.status] || d.status;
  return h("section", { class: "card", "aria-labelledby": "h-verdict", dataset: { status: d.status } },
    h("h2", { id: "h-verdict" }, "Result: ", status(word === "partial" ? "partial" : word, d.status)),
    h("p", {}, counts(d.summary), d.metadata && d.metadata.strict ? " (strict: skipped counts as failed)" : ""),
    results(d.results || []),
    // readiness is the table above; a result with other phases (from the CLI) shows them too
    (d.phases || []).filter((p) => p.name !== "readiness").map((p) => h("section", { class: "phase", dataset: { phase: p.name } },
      h("h3", {}, `Phase ${p.name}: `, status(STATUS_WORD[p.status] || p.status, p.status)),
      results((p.checks || []).map((c) => ({ name: c.name, status: c.status, reason: c.reason,
        expression: c.expected, actual: c.actual, remediation: c.remediation }))))));
}

// fleet(d) -> the FleetValidationResult: a matrix of every constraint on
// every node, the failing constraints with their nodes, and the outliers
// (paths where some nodes differ from the majority, even when all pass)
export function fleet(d) {
  const nodes = d.nodes || [];
  const names = nodes.map((n, i) => n.node || `node ${i + 1}`);
  const constraints = [];
  const seen = new Set();
  for (const n of nodes) {
    for (const r of (n.result && n.result.results) || []) {
      if (!seen.has(r.name)) { seen.add(r.name); constraints.push(r.name); }
    }
  }
  const cell = (n, c) => ((n.result && n.result.results) || []).find((r) => r.name === c);
  const s = d.summary || {};
  return h("section", { class: "card", "aria-labelledby": "h-fleet", dataset: { status: d.status || "" } },
    h("h2", { id: "h-fleet" }, `Fleet of ${nodes.length} nodes: `, status(STATUS_WORD[d.status] || d.status, d.status)),
    h("p", {}, `${s.passed || 0} passed, ${s.partial || 0} partial, ${s.failed || 0} failed, ` +
      `${s.constraints || constraints.length} constraints each.`),
    h("div", { class: "table-wrap" }, h("table", { class: "matrix" },
      h("caption", {}, "Each constraint on each node"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Constraint"),
        names.map((n, i) => h("th", { scope: "col", dataset: { node: n } }, n, " ",
          status(STATUS_WORD[nodes[i].result && nodes[i].result.status] || "partial",
            (nodes[i].result && nodes[i].result.status) || ""))))),
      h("tbody", {}, constraints.map((c) => h("tr", { dataset: { constraint: c } },
        h("th", { scope: "row" }, h("code", {}, c)),
        nodes.map((n, i) => {
          const r = cell(n, c);
          return h("td", { title: r ? `${names[i]}: ${r.reason || r.status}` : "", dataset: { node: names[i],
            status: r ? r.status : "" } }, r ? status(r.status, r.actual !== undefined ? show(r.actual) : r.status) : "—");
        })))))),
    (d.failing || []).length ? h("section", { class: "failing" }, h("h3", {}, "Failing constraints"),
      h("ul", {}, d.failing.map((f) => h("li", { dataset: { constraint: f.constraint } }, h("code", {}, f.constraint),
        " ", h("code", {}, f.expression || ""), ` fails on ${f.nodes.length}: `, f.nodes.join(", "))))) : null,
    (d.outliers || []).length ? h("section", { class: "outliers" }, h("h3", {}, "Outliers"),
      h("p", { class: "muted" }, "Nodes whose value differs from most nodes, even where every value passes."),
      h("ul", {}, d.outliers.map((o) => h("li", { dataset: { path: o.path } }, h("code", {}, o.path), ": most nodes (",
        String(o.count), ") have ", h("code", {}, show(o.majority)), "; ",
        (o.nodes || []).map((x, i) => [i ? ", " : "", h("strong", {}, x.node),
          x.value === null ? " has none" : [" has ", h("code", {}, show(x.value))]]))))) : null);
}

export class ValidateView {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.input = new DocInput({ id: "v-snapshots", label: "Snapshots", multiple: true, name: "snapshot" });
    this.strict = h("input", { type: "checkbox", id: "v-strict" });
    this.result = h("div", { class: "result", "aria-live": "polite" });
    this.recipeNote = h("p", { class: "muted" });
    const form = h("form", { class: "card", "aria-labelledby": "h-validate" },
      h("h2", { id: "h-validate" }, "Validate snapshots against the recipe"),
      this.recipeNote,
      this.input.el,
      h("div", { class: "actions" },
        h("label", { class: "check" }, this.strict, " strict: a constraint the snapshot cannot answer fails"),
        h("button", { type: "submit" }, "Validate")));
    form.addEventListener("submit", (e) => { e.preventDefault(); this.run(); });
    set(root, form, this.result);
    this.refresh();
  }

  refresh() {
    const c = this.ctx.criteria();
    set(this.recipeNote, stated(c)
      ? `Each constraint of the recipe for ${summary(c)} is checked against each snapshot; several snapshots ` +
        "give the fleet view (one column per node)."
      : "Pick criteria first: their recipe's constraints are what is checked.");
  }

  async run() {
    const docs = this.input.docs;
    if (!docs.length) {
      set(this.result, h("p", { class: "error", role: "alert" }, "Paste a snapshot or choose a file first."));
      return;
    }
    this.root.dataset.state = "loading";
    set(this.result, h("p", { class: "muted" }, `Validating ${docs.length} snapshot${docs.length > 1 ? "s" : ""}…`));
    try {
      const { body, type } = stream(docs.map((d) => d.text));
      const q = toQuery(this.ctx.criteria(), { strict: this.strict.checked ? "true" : undefined });
      const d = await postJSON(`/v1/validate?${q}`, body, { type });
      set(this.result, d.kind === "FleetValidationResult" ? fleet(d) : single(d));
      this.result.scrollIntoView({ block: "start" });
      this.root.dataset.state = "ready";
    } catch (e) {
      set(this.result, h("p", { class: "error", role: "alert" }, e.message));
      this.root.dataset.state = "error";
    }
  }
}
