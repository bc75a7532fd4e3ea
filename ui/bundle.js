// bundle.js -- the bundle view: a form built from GET /v1/bundle/options
// (the deployers and parameters this server takes), POST /v1/bundle with
// the recipe on screen, then the archive's files and checksums (checked in
// the browser against checksums.txt) and a link that saves it.
import { h, set, bytes, status } from "./dom.js";
import { getJSON, post } from "./api.js";
import * as zip from "./zip.js";
import { summary } from "./criteria.js";

// the texts of Warning headers (299 - "text"), in order
function warnings(header) {
  const out = [];
  for (const m of (header || "").matchAll(/\d{3} \S+ "((?:[^"\\]|\\.)*)"/g)) out.push(m[1].replace(/\\(.)/g, "$1"));
  return out;
}

export class BundleView {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.url = null;
  }

  async init() {
    if (this.form) return;
    const opts = await getJSON("/v1/bundle/options");
    this.params = opts.parameters;
    this.controls = {};
    const fields = opts.parameters.map((p) => {
      const id = `b-${p.name}`;
      let control;
      if (p.values) {
        control = h("select", { id, name: p.name, "aria-describedby": `${id}-help` },
          p.values.map((v) => h("option", { value: v, selected: v === p.default }, v)));
      } else if (p.repeatable) {
        control = h("textarea", { id, name: p.name, rows: "2", spellcheck: "false", placeholder: p.arg,
          "aria-describedby": `${id}-help` });
      } else {
        control = h("input", { id, name: p.name, type: p.type === "int" ? "number" : "text", placeholder: p.arg,
          min: p.type === "int" ? "0" : undefined, "aria-describedby": `${id}-help`, autocomplete: "off" });
      }
      this.controls[p.name] = control;
      return h("div", { class: ["field", p.repeatable && "wide"] },
        h("label", { for: id }, p.name, " ", h("code", {}, p.arg || "")),
        control,
        h("small", { id: `${id}-help`, class: "muted" }, p.help, p.repeatable ? " (one per line)" : ""));
    });
    this.status = h("div", { class: "result", "aria-live": "polite" });
    this.button = h("button", { type: "submit" }, "Build bundle");
    this.form = h("form", { class: "card bundle-form", "aria-labelledby": "h-bundle" },
      h("h2", { id: "h-bundle" }, "Bundle"),
      h("p", { class: "muted", id: "bundle-recipe" }),
      h("div", { class: "fields" }, fields),
      h("div", { class: "actions" }, this.button));
    this.form.addEventListener("submit", (e) => { e.preventDefault(); this.build(); });
    set(this.root, this.form, this.status);
    this.refresh();
  }

  // the recipe changed: say which one a build will use
  refresh() {
    if (!this.form) return;
    const r = this.ctx.recipe();
    set(this.form.querySelector("#bundle-recipe"), r
      ? `The recipe on screen: ${summary(r.criteria || {})}, ${(r.componentRefs || []).length} components.`
      : "Pick criteria first: the bundle is built from the recipe they give.");
    this.button.disabled = !r;
  }

  query() {
    const q = new URLSearchParams();
    for (const p of this.params) {
      const v = this.controls[p.name].value;
      if (p.repeatable) for (const line of v.split("\n")) { if (line.trim()) q.append(p.name, line.trim()); }
      else if (v.trim() !== "") q.set(p.name, v.trim());
    }
    return q;
  }

  async build() {
    const recipe = this.ctx.recipe();
    if (!recipe) return;
    this.root.dataset.state = "loading";
    set(this.status, h("p", { class: "muted" }, "Building…"));
    try {
      const q = this.query();
      const res = await post(`/v1/bundle?${q}`, recipe, { accept: "application/zip" });
      const buf = await res.arrayBuffer();
      const checked = await zip.check(buf);
      if (this.url) URL.revokeObjectURL(this.url);
      this.url = URL.createObjectURL(new Blob([buf], { type: "application/zip" }));
      const c = recipe.criteria || {};
      const name = ["bundle", c.service, c.accelerator, c.intent, c.os, q.get("deployer") || "helm"]
        .filter((x) => x && x !== "any").join("-") + ".zip";
      const bad = checked.sums.filter((s) => s.ok === false).length;
      set(this.status, h("section", { class: "card", "aria-labelledby": "h-bundle-result" },
        h("h2", { id: "h-bundle-result" }, "Bundle ready"),
        h("p", {}, `${res.headers.get("x-bundle-files")} files, ${bytes(Number(res.headers.get("x-bundle-size")))} ` +
          `before compression, built in ${res.headers.get("x-bundle-duration")}.`),
        warnings(res.headers.get("warning")).map((w) => h("p", { class: "warning", role: "note" }, w)),
        h("p", {}, h("a", { href: this.url, download: name, class: "button", id: "bundle-download" },
          `Download ${name} (${bytes(buf.byteLength)})`)),
        h("p", { id: "bundle-verdict" }, !checked.sums.length ? "The bundle has no checksums.txt."
          : !checked.checked ? "checksums.txt is listed below; this browser cannot compute SHA-256 here " +
            "(it needs https or localhost), so the files are not checked."
            : bad ? status("failed", `${bad} of ${checked.sums.length} files do not match checksums.txt`)
              : status("passed", `all ${checked.sums.length} files match checksums.txt`)),
        h("div", { class: "table-wrap" }, h("table", { class: "checksums" },
          h("caption", {}, "checksums.txt"),
          h("thead", {}, h("tr", {}, ["File", "SHA-256", "Check"].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {}, checked.sums.map((s) => h("tr", { dataset: { file: s.name } },
            h("th", { scope: "row", "data-label": "File" }, h("code", {}, s.name)),
            h("td", { "data-label": "SHA-256" }, h("code", { class: "sha" }, s.want)),
            h("td", { "data-label": "Check" }, s.ok === null ? "not checked"
              : status(s.ok ? "passed" : "failed", s.ok ? "matches" : s.got ? "differs" : "missing")))))))));
      this.status.scrollIntoView({ block: "start" });
      this.root.dataset.state = "ready";
    } catch (e) {
      set(this.status, h("p", { class: "error", role: "alert" }, e.message));
      this.root.dataset.state = "error";
    }
  }
}
