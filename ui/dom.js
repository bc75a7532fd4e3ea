// dom.js -- building the page without HTML strings: h() and svg() make
// elements from a tag, an attribute map and children (strings become text
// nodes, so nothing a server or a user sends is ever parsed as markup; the
// page's CSP forbids it anyway: require-trusted-types-for 'script').

const SVG_NS = "http://www.w3.org/2000/svg";

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.setAttribute("class", Array.isArray(v) ? v.filter(Boolean).join(" ") : v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "value" && "value" in el) el.value = v;
    else if (k === "checked" || k === "selected" || k === "disabled" || k === "hidden") el[k] = Boolean(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

// append(el, children): strings and numbers as text, arrays flattened, null skipped
export function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
  return el;
}

function split(args) {
  const a = args[0];
  if (a && typeof a === "object" && !(a instanceof Node) && !Array.isArray(a)) return [a, args.slice(1)];
  return [{}, args];
}

// h("p", {class: "x"}, "text", child, [more]) -> HTMLElement
export function h(tag, ...args) {
  const [attrs, children] = split(args);
  return build(document.createElement(tag), attrs, children);
}

// svg("rect", {x: 1}) -> SVGElement
export function svg(tag, ...args) {
  const [attrs, children] = split(args);
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

// set(el, ...children): replace el's children
export function set(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

// a value as one line of text (objects as compact JSON)
export function show(v) {
  if (v === null) return "null";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

// "12.3 KB" for a byte count
export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

// a status word with a symbol, so it does not rely on colour alone
const MARKS = { passed: "✓", pass: "✓", failed: "✗", fail: "✗", skipped: "–", partial: "!", warning: "!" };
export function status(word, label) {
  return h("span", { class: ["status", `status-${word}`] }, h("span", { "aria-hidden": "true" }, MARKS[word] || "•"),
    " ", label || word);
}
