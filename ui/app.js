// app.js -- the eidos console: one page over eidosd's public API. The URL
// holds the view (/, /ui/validate, /ui/diff, /ui/bundle) and the criteria
// (?service=eks&accelerator=gb200&os=ubuntu&intent=training, and
// &component=NAME for the selected component), so a link reproduces what
// its sender saw. Picking a criterion updates the URL and the recipe at
// once; a 400 for criteria no recipe honours is a hint beside the picker.
import { h, set, $, $$ } from "./dom.js";
import { getJSON, ApiError } from "./api.js";
import { Pickers, fromQuery, toQuery, stated, summary, FIELDS } from "./criteria.js";
import { RecipeView } from "./recipe.js";

// the other views load when first shown (the recipe view comes first)
const MODULES = {
  validate: () => import("./validate.js").then((m) => m.ValidateView),
  diff: () => import("./diff.js").then((m) => m.DiffView),
  bundle: () => import("./bundle.js").then((m) => m.BundleView),
};

const PATHS = { recipe: "/", validate: "/ui/validate", diff: "/ui/diff", bundle: "/ui/bundle" };
const TITLES = { recipe: "Recipe", validate: "Validate", diff: "Diff", bundle: "Bundle" };

const state = { catalog: null, criteria: {}, partial: false, recipe: null, explain: null, selected: null,
  view: "recipe", loading: null };
const views = {};
let pickers;

function viewOf(path) {
  const p = path.replace(/\/+$/, "") || "/";
  if (p === "/" || p === "/ui" || p === "/ui/recipe") return "recipe";
  const v = p.replace(/^\/ui\//, "");
  return PATHS[v] ? v : "recipe";
}

// the URL of the current state (view, criteria, allow-partial, component)
function url(view = state.view) {
  const q = toQuery(state.criteria, {
    "allow-partial": state.partial ? "true" : undefined,
    component: view === "recipe" ? state.selected : undefined,
  });
  const s = q.toString();
  return PATHS[view] + (s ? `?${s}` : "");
}

function announce(text) {
  set($("#status"), text);
}

const ctx = {
  criteria: () => state.criteria,
  recipe: () => state.recipe,
  catalog: () => state.catalog,
};

// ---- views ----

function show(view) {
  state.view = view;
  for (const s of $$("main > section[data-view]")) s.hidden = s.dataset.view !== view;
  for (const a of $$("nav.views a")) {
    if (a.dataset.view === view) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.title = `${TITLES[view]} · eidos console`;
  const root = $(`#view-${view}`);
  if (!MODULES[view]) return Promise.resolve();
  return MODULES[view]().then((View) => {
    const v = views[view] ||= new View(root, ctx);
    return v.init ? v.init() : v.refresh();
  }).catch((e) => set(root, h("p", { class: "error", role: "alert" }, e.message)));
}

function refreshViews() {
  for (const v of Object.values(views)) if (v.refresh) v.refresh();
}

// ---- the recipe ----

function select(name, fromTable) {
  state.selected = name;
  history.replaceState(null, "", url());
  views.recipe.select(name);
  const d = $("#component-detail");
  if (d && fromTable) d.scrollIntoView({ block: "start", behavior: "smooth" });
}

function applyCriteria(c) {
  state.criteria = c;
  state.partial = false;
  pickers.value = c;
  history.replaceState(null, "", url());
  return loadRecipe();
}

// a refusal of the criteria, shown beside the picker it is about
function hint(e) {
  const d = e.details || {};
  const nodes = state.criteria.nodes;
  if (d.criterion) {
    pickers.hint(d.criterion,
      h("p", {}, `No curated recipe honours ${d.criterion}=${d.value || state.criteria[d.criterion]} ` +
        "together with the other criteria."),
      d.nearest && d.nearest.length ? h("p", {}, "Nearest curated recipes: ", d.nearest.map((n) => h("button", {
        type: "button", class: "chip", onclick: () => applyCriteria(nodes ? { ...n, nodes } : { ...n }),
      }, summary(n)))) : null,
      h("p", {}, h("button", { type: "button", class: "link", id: "allow-partial",
        onclick: () => { state.partial = true; history.replaceState(null, "", url()); loadRecipe(); } },
      "Show the recipe anyway (allow partial)")));
    return d.criterion;
  }
  const problems = d.problems || [{ path: d.field || d.parameter, message: e.message }];
  for (const p of problems) {
    const f = FIELDS.includes(p.path) ? p.path : (p.detail && p.detail.field) || "service";
    pickers.hint(f, h("p", {}, p.message));
  }
  return problems[0].path;
}

// answers asked for before they were needed: query -> promise (the
// recipe of the URL's criteria is asked at once, beside the catalog)
const early = new Map();
function fetchRecipe(q, signal) {
  const key = q.toString();
  const hit = early.get(key);
  early.clear();
  if (hit) return hit;
  return Promise.all([getJSON(`/v1/recipe?${key}`, signal),
    getJSON(`/v1/recipe?${key}&explain=true`, signal).catch((e) => { if (e.name === "AbortError") throw e; return null; })]);
}

async function loadRecipe() {
  pickers.clearHints();
  const root = $("#view-recipe");
  if (state.loading) state.loading.abort();
  if (!stated(state.criteria)) {
    state.recipe = null;
    set($("#recipe"), h("section", { class: "card empty" }, h("h2", {}, "Pick criteria"),
      h("p", {}, "Choose a service, an accelerator, an intent and an OS above: the recipe for them appears here, " +
        "with its components, their deployment order and where every value comes from. The address bar keeps " +
        "the criteria, so you can share the link.")));
    set($("#recipe-title"), "Recipe");
    root.dataset.state = "empty";
    refreshViews();
    return;
  }
  const ac = new AbortController();
  state.loading = ac;
  root.dataset.state = "loading";
  const q = toQuery(state.criteria, { "allow-partial": state.partial ? "true" : undefined });
  try {
    const [recipe, explain] = await fetchRecipe(q, ac.signal);
    state.recipe = recipe;
    state.explain = explain;
    set($("#recipe-title"), `Recipe for ${summary(recipe.criteria || state.criteria)}`);
    set($("#recipe-links"), "Download: ",
      h("a", { href: `/v1/recipe?${q}&format=yaml`, download: "recipe.yaml" }, "YAML"), " · ",
      h("a", { href: `/v1/recipe?${q}&format=json`, download: "recipe.json" }, "JSON"));
    views.recipe.show(recipe, explain, state.selected);
    root.dataset.state = "ready";
    announce(`Recipe for ${summary(state.criteria)}: ${(recipe.componentRefs || []).length} components.`);
  } catch (e) {
    if (e.name === "AbortError") return;
    state.recipe = null;
    root.dataset.state = "refused";
    set($("#recipe-title"), `No recipe for ${summary(state.criteria)}`);
    const field = e instanceof ApiError && e.status === 400 ? hint(e) : null;
    set($("#recipe"), h("section", { class: "card empty" }, h("h2", {}, "No recipe"),
      h("p", { role: field ? null : "alert" }, field ? `The criteria are refused: see the note beside ${field}.`
        : e.message)));
    set($("#recipe-links"));
    announce(field ? `No recipe: see the note beside ${field}.` : e.message);
  } finally {
    if (state.loading === ac) state.loading = null;
  }
  refreshViews();
}

// ---- start ----

function follow(e) {
  const a = e.target.closest("a[data-view]");
  if (!a || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  history.pushState(null, "", url(a.dataset.view));
  show(a.dataset.view);
  $("#main").focus();
}

async function start() {
  const first = fromQuery(location.search, null);
  if (stated(first) && viewOf(location.pathname) === "recipe") {
    const q = toQuery(first, { "allow-partial": new URLSearchParams(location.search).get("allow-partial") || undefined });
    const p = fetchRecipe(q);
    p.catch(() => {}); // seen (or asked again) by loadRecipe
    early.set(q.toString(), p);
  }
  getJSON("/").then((index) => set($("#server"), `eidosd ${index.version}`)).catch(() => {});
  const catalog = await getJSON("/v1/criteria");
  state.catalog = catalog;
  pickers = new Pickers($("#criteria"), catalog, {
    onChange: (c) => { state.criteria = c; state.partial = false; history.replaceState(null, "", url()); loadRecipe(); },
  });
  const read = () => {
    const p = new URLSearchParams(location.search);
    state.criteria = fromQuery(location.search, catalog);
    state.partial = p.get("allow-partial") === "true";
    state.selected = p.get("component");
    pickers.value = state.criteria;
  };
  read();
  views.recipe = new RecipeView($("#recipe"), { onSelect: select });
  $("nav.views").addEventListener("click", follow);
  window.addEventListener("popstate", () => { read(); show(viewOf(location.pathname)); loadRecipe(); });
  const view = viewOf(location.pathname);
  history.replaceState(null, "", url(view));
  await Promise.all([show(view), loadRecipe()]);
  document.documentElement.dataset.ready = "true";
  performance.mark("console-ready");
}

start().catch((e) => {
  set($("#recipe"), h("p", { class: "error", role: "alert" }, `The console could not start: ${e.message}`));
  document.documentElement.dataset.ready = "error";
});
