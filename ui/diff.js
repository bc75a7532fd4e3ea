// diff.js -- the diff view: two snapshots (pasted or dropped) or two
// recipes (the criteria on screen against a second set), sent to POST
// /v1/diff; the findings of the DiffResult side by side, old beside new,
// each row marked by its change (not by colour alone).
import { h, set, show } from "./dom.js";
import { getJSON, postJSON } from "./api.js";
import { DocInput, stream } from "./docs.js";
import { Pickers, toQuery, summary, stated } from "./criteria.js";

const MARK = { changed: "~", added: "+", removed: "−", moved: "↕" };

function cell(v) {
  return v === undefined ? "" : h("code", {}, show(v));
}

export function render(d, oldName, newName) {
  const s = d.summary || {};
  const findings = d.findings || [];
  return h("section", { class: "card", "aria-labelledby": "h-diff-result", dataset: { total: String(findings.length) } },
    h("h2", { id: "h-diff-result" }, findings.length ? `${findings.length} differences` : "No differences"),
    h("p", {}, ["changed", "added", "removed", "moved", "ignored"].filter((k) => s[k]).map((k) => `${s[k]} ${k}`)
      .join(", ") || "The documents are the same (after the ignored paths)."),
    findings.length ? h("div", { class: "table-wrap" }, h("table", { class: "diff" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Path"), h("th", { scope: "col" }, oldName),
        h("th", { scope: "col" }, newName))),
      h("tbody", {}, findings.map((f) => h("tr", { class: `diff-${f.change}`, dataset: { change: f.change, path: f.path } },
        h("th", { scope: "row", "data-label": "Path" }, h("span", { class: "mark", "aria-hidden": "true" },
          MARK[f.change] || "•"), h("span", { class: "visually-hidden" }, `${f.change}: `), h("code", {}, f.path),
        f.change === "moved" && f.from !== undefined ? h("small", {}, ` from ${f.from} to ${f.to}`) : null),
        h("td", { class: "old", "data-label": oldName }, cell(f.old)),
        h("td", { class: "new", "data-label": newName }, cell(f.new))))))) : null);
}

export class DiffView {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.old = new DocInput({ id: "d-old", label: "Old snapshot", name: "old" });
    this.new = new DocInput({ id: "d-new", label: "New snapshot", name: "new" });
    this.mode = "snapshots";
    const radio = (value, label) => h("label", { class: "check" },
      h("input", { type: "radio", name: "diff-mode", value, checked: value === this.mode,
        onchange: () => this.setMode(value) }), ` ${label}`);
    this.snapshots = h("div", { class: "side-by-side" }, this.old.el, this.new.el);
    this.bForm = h("form", { class: "criteria", "aria-label": "Criteria of the second recipe" });
    this.recipes = h("div", { hidden: true },
      h("p", { class: "muted", id: "diff-a" }),
      h("h3", {}, "Compare with the recipe for"), this.bForm);
    this.ignore = h("input", { id: "d-ignore", type: "text", autocomplete: "off", spellcheck: "false",
      placeholder: "OS.sysctl.*, /metadata/timestamp", "aria-describedby": "d-ignore-help" });
    this.result = h("div", { class: "result", "aria-live": "polite" });
    const form = h("form", { class: "card", "aria-labelledby": "h-diff" },
      h("h2", { id: "h-diff" }, "Diff"),
      h("fieldset", { class: "modes" }, h("legend", {}, "Compare"), radio("snapshots", "two snapshots"),
        radio("recipes", "two recipes")),
      this.snapshots, this.recipes,
      h("div", { class: "field" }, h("label", { for: "d-ignore" }, "Ignore paths"), this.ignore,
        h("small", { id: "d-ignore-help", class: "muted" }, "Comma-separated; * matches any run of characters. " +
          "Timestamps are ignored by default.")),
      h("div", { class: "actions" }, h("button", { type: "submit" }, "Compare")));
    form.addEventListener("submit", (e) => { e.preventDefault(); this.run(); });
    set(root, form, this.result);
  }

  setMode(m) {
    this.mode = m;
    this.snapshots.hidden = m !== "snapshots";
    this.recipes.hidden = m !== "recipes";
    if (m === "recipes") this.refresh();
  }

  // the criteria on screen changed (recipe A)
  refresh() {
    const a = this.ctx.criteria();
    if (this.mode !== "recipes") return;
    if (!this.b && this.ctx.catalog()) {
      this.b = new Pickers(this.bForm, this.ctx.catalog(), { prefix: "b" });
      this.b.value = a;
    }
    set(this.root.querySelector("#diff-a"), stated(a) ? `Old: the recipe for ${summary(a)} (the criteria above).`
      : "Pick the criteria of the old recipe above.");
  }

  async run() {
    this.root.dataset.state = "loading";
    set(this.result, h("p", { class: "muted" }, "Comparing…"));
    const q = new URLSearchParams();
    for (const p of this.ignore.value.split(",")) if (p.trim()) q.append("ignore", p.trim());
    try {
      let d, names;
      if (this.mode === "snapshots") {
        const docs = [...this.old.docs, ...this.new.docs];
        if (this.old.docs.length !== 1 || this.new.docs.length !== 1) {
          throw new Error("Give both snapshots: the old one and the new one.");
        }
        const { body, type } = stream(docs.map((x) => x.text));
        d = await postJSON(`/v1/diff?${q}`, body, { type });
        names = [docs[0].name, docs[1].name];
      } else {
        const a = this.ctx.criteria(), b = this.b ? this.b.value : {};
        if (!stated(a) || !stated(b)) throw new Error("Pick the criteria of both recipes.");
        const [ra, rb] = await Promise.all([getJSON(`/v1/recipe?${toQuery(a)}`), getJSON(`/v1/recipe?${toQuery(b)}`)]);
        d = await postJSON(`/v1/diff?${q}`, [ra, rb]);
        names = [summary(a), summary(b)];
      }
      set(this.result, render(d, names[0], names[1]));
      this.result.scrollIntoView({ block: "start" });
      this.root.dataset.state = "ready";
    } catch (e) {
      set(this.result, h("p", { class: "error", role: "alert" }, e.message));
      this.root.dataset.state = "error";
    }
  }
}
