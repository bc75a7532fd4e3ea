// docs.js -- documents the user gives the console (snapshots, recipes):
// a DocInput is a labelled text area to paste into, a file chooser and a
// drop zone, and yields named texts; stream() joins several of them into
// one YAML stream for a request body (the server reads YAML and JSON: a
// JSON document is compacted onto one line, which is YAML too).
import { h, set, bytes } from "./dom.js";
import { typeOf } from "./api.js";

let seq = 0;

export class DocInput {
  // {label, multiple, name}: multiple keeps every chosen or dropped file as
  // a document of its own; single puts a file's text into the text area
  constructor({ id = `doc-${++seq}`, label, multiple = false, name = "document", onchange }) {
    this.multiple = multiple;
    this.name = name;
    this.onchange = onchange;
    this.files = [];
    this.area = h("textarea", { id, rows: "8", spellcheck: "false", autocomplete: "off",
      placeholder: "kind: Snapshot\napiVersion: …", "aria-describedby": `${id}-help` });
    this.picker = h("input", { id: `${id}-file`, type: "file", multiple: multiple || undefined,
      accept: ".yaml,.yml,.json,application/json,application/yaml" });
    this.list = h("ul", { class: "files", "aria-live": "polite" });
    this.area.addEventListener("input", () => this.changed());
    this.picker.addEventListener("change", () => this.add([...this.picker.files]).then(() => { this.picker.value = ""; }));
    this.el = h("div", { class: "doc-input" },
      h("label", { for: id }, label),
      h("p", { id: `${id}-help`, class: "muted" }, multiple
        ? "Paste a document (YAML or JSON), or drop or choose files: one document per file."
        : "Paste a document (YAML or JSON), or drop or choose a file."),
      this.area,
      h("div", { class: "file-row" }, h("label", { for: `${id}-file` },
        multiple ? "Or choose files:" : "Or choose a file:"), this.picker),
      this.list);
    for (const t of ["dragenter", "dragover"]) {
      this.el.addEventListener(t, (e) => { e.preventDefault(); this.el.classList.add("dragging"); });
    }
    this.el.addEventListener("dragleave", () => this.el.classList.remove("dragging"));
    this.el.addEventListener("drop", (e) => {
      e.preventDefault();
      this.el.classList.remove("dragging");
      this.add([...(e.dataTransfer ? e.dataTransfer.files : [])]);
    });
  }

  async add(files) {
    for (const f of files) {
      const text = await f.text();
      if (this.multiple) this.files.push({ name: f.name, text });
      else { this.area.value = text; this.fileName = f.name; }
    }
    this.changed();
  }

  changed() {
    set(this.list, this.files.map((f, i) => h("li", {}, h("span", {}, f.name), " ", h("small", {}, bytes(f.text.length)),
      " ", h("button", { type: "button", class: "link", "aria-label": `remove ${f.name}`,
        onclick: () => { this.files.splice(i, 1); this.changed(); } }, "remove"))));
    if (this.onchange) this.onchange(this.docs);
  }

  // docs -> [{name, text}]: the files, then the text area when not blank
  get docs() {
    const out = [...this.files];
    if (this.area.value.trim()) out.push({ name: this.fileName || `pasted ${this.name}`, text: this.area.value });
    return out;
  }

  clear() {
    this.files = [];
    this.area.value = "";
    this.fileName = null;
    this.changed();
  }
}

// stream(texts) -> {body, type}: one document as given; several as one
// YAML stream, JSON ones compacted (valid YAML) and YAML ones without
// their own start and end markers
export function stream(texts) {
  if (texts.length === 1) return { body: texts[0], type: typeOf(texts[0]) };
  const parts = texts.map((t) => {
    if (typeOf(t) === "application/json") {
      try { return JSON.stringify(JSON.parse(t)); } catch { return t; } // the server names the error
    }
    return t.replace(/^\s*---[^\n]*\n/, "").replace(/\n\.\.\.\s*$/, "\n");
  });
  return { body: parts.join("\n---\n"), type: "application/yaml" };
}
