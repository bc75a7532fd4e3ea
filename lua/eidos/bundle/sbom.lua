-- eidos.bundle.sbom: SPDX 2.3 JSON software bills of materials. bundle(b)
-- describes a bundle: its charts (name, version, repository) and the
-- container images its component values and rendered manifests name
-- (image: "repo:tag" strings, and repository/image/tag|version maps as the
-- NVIDIA operators write them). binary() describes the eidos binary and the
-- third-party packages it is built from, read from vendor/README.md
-- (embedded). Both are deterministic: keys in schema order, packages
-- sorted, `created` from SOURCE_DATE_EPOCH (else the recipe's
-- metadata.timestamp, else the build date for the binary and 1970-01-01
-- for a bundle), the document namespace derived from content digests.
local errors = require("eidos.errors")
local doc = require("eidos.doc")
local sha256 = require("eidos.core.sha256")

local M = {}

M.FILE = "sbom.spdx.json"
M.NAMESPACE = "https://eidos.nvidia.com/spdx/"

local DOC_ORDER = { "spdxVersion", "dataLicense", "SPDXID", "name", "documentNamespace", "creationInfo",
                    "documentDescribes", "packages", "relationships" }
local PKG_ORDER = { "name", "SPDXID", "versionInfo", "supplier", "downloadLocation", "filesAnalyzed",
                    "licenseConcluded", "licenseDeclared", "licenseComments", "copyrightText", "summary",
                    "comment", "primaryPackagePurpose", "externalRefs" }
local REF_ORDER = { "referenceCategory", "referenceType", "referenceLocator" }
local REL_ORDER = { "spdxElementId", "relationshipType", "relatedSpdxElement" }

-- SPDXRef-<kind>-<name>: letters, digits, '.' and '-' only
local function spdxid(kind, name)
  return "SPDXRef-" .. kind .. "-" .. tostring(name):gsub("[^%w.-]", "-")
end

-- created(fallback) -> RFC 3339 UTC time for creationInfo.created
local function created(fallback)
  local pin = os.getenv("SOURCE_DATE_EPOCH")
  if pin and pin ~= "" then
    local n = math.tointeger(tonumber(pin))
    if not n or n < 0 then
      errors.raise("invalid", string.format("SOURCE_DATE_EPOCH %q is not a number of seconds since 1970", pin))
    end
    return require("eidos.timeutil").format(n)
  end
  local t = require("eidos.timeutil").parse(fallback)
  return require("eidos.timeutil").format(t or 0)
end

local function package(p)
  p.downloadLocation = p.downloadLocation or "NOASSERTION"
  p.filesAnalyzed = false
  p.licenseConcluded = p.licenseConcluded or "NOASSERTION"
  p.licenseDeclared = p.licenseDeclared or "NOASSERTION"
  p.copyrightText = p.copyrightText or "NOASSERTION"
  p.supplier = p.supplier or "NOASSERTION"
  if p.externalRefs then
    for i, r in ipairs(p.externalRefs) do p.externalRefs[i] = doc.ordered(r, REF_ORDER) end
    p.externalRefs = doc.list(p.externalRefs)
  end
  return doc.ordered(p, PKG_ORDER)
end

local function rel(a, t, b) return doc.ordered({ spdxElementId = a, relationshipType = t, relatedSpdxElement = b }, REL_ORDER) end

local function document(name, namespace, when, top, pkgs, rels)
  table.sort(pkgs, function(a, b) return a.SPDXID < b.SPDXID end)
  table.insert(pkgs, 1, top)
  table.sort(rels, function(a, b)
    if a.spdxElementId ~= b.spdxElementId then return a.spdxElementId < b.spdxElementId end
    return a.relatedSpdxElement < b.relatedSpdxElement
  end)
  table.insert(rels, 1, rel("SPDXRef-DOCUMENT", "DESCRIBES", top.SPDXID))
  local b = require("eidos.core.build")
  return doc.encode(doc.ordered({
    spdxVersion = "SPDX-2.3", dataLicense = "CC0-1.0", SPDXID = "SPDXRef-DOCUMENT", name = name,
    documentNamespace = namespace,
    creationInfo = doc.ordered({ created = when, creators = doc.list({ "Tool: eidos-" .. tostring(b.version) }) },
      { "created", "creators" }),
    documentDescribes = doc.list({ top.SPDXID }),
    packages = doc.list(pkgs), relationships = doc.list(rels),
  }, DOC_ORDER), "json")
end

-- images ------------------------------------------------------------------

local function image_ref(s)
  return type(s) == "string" and #s < 512 and not s:find("[%s{}\"'$]") and (s:find("/", 1, true) or s:find(":", 1, true))
    and s:match("^[%w][%w./:@_-]*$") ~= nil
end

-- split "registry/path/name:tag" or "...@sha256:x" -> name, version
local function split_image(ref)
  local name, digest = ref:match("^(.-)@(sha256:%x+)$")
  if name then return name, digest end
  name, ref = ref:match("^(.-)(:[%w_.-]+)$")
  if name and not name:find(":[%d]+$") and not ref:find("/", 1, true) then return name, ref:sub(2) end
  return nil
end

-- walk a decoded document and collect image references into set
local function find_images(v, set, depth)
  if type(v) ~= "table" or depth > 64 then return end
  local s = function(x) return type(x) == "string" and x ~= "" and x or (math.type(x) and tostring(x)) or nil end
  local repo, tag = s(v.repository), s(v.tag) or s(v.version) or s(v.digest)
  if repo and tag and not repo:find("%s") then
    local img = s(v.image)
    local full = (s(v.registry) and (v.registry .. "/") or "") .. repo .. (img and ("/" .. img) or "")
    local sep = tag:match("^sha256:") and "@" or ":"
    if full:find("/", 1, true) and image_ref(full .. sep .. tag) then set[full .. sep .. tag] = true end
  end
  if image_ref(v.image) and split_image(v.image) then set[v.image] = true end
  for _, k in ipairs(doc.keys(v)) do find_images(v[k] or v[tonumber(k)], set, depth + 1) end
end

-- bundle(b) -> SPDX JSON of a built bundle (before finish: b.files holds
-- the content files)
function M.bundle(b)
  local model = b.model
  local files = {}
  for _, f in ipairs(b.files) do files[#files + 1] = f end
  table.sort(files, function(x, y) return x.path < y.path end)
  local sums = require("eidos.bundle.output").checksums_text(files)
  local digest = errors.check(sha256.hex(sums))
  local top = package({
    name = model.Chart.Name, SPDXID = "SPDXRef-Package-bundle", versionInfo = model.Chart.Version,
    summary = string.format("eidos %s bundle of %d components", model.Deployer, #model.Components),
    comment = "bundle digest sha256:" .. digest .. " (sha256 of checksums.txt over the other files)",
    primaryPackagePurpose = "APPLICATION",
  })
  local pkgs, rels, seen = {}, {}, {}
  for _, c in ipairs(model.Components) do
    local cid = spdxid("Component", c.Name)
    local p = { name = c.Name, SPDXID = cid, versionInfo = c.Version ~= "" and c.Version or nil,
                summary = c.HasChart and ("Helm chart " .. c.Chart) or "manifests only",
                primaryPackagePurpose = "INSTALL" }
    if c.HasChart then
      p.downloadLocation = c.Repository
      p.externalRefs = { { referenceCategory = "PACKAGE-MANAGER", referenceType = "purl",
        referenceLocator = string.format("pkg:helm/%s@%s?repository_url=%s", c.Chart, c.Version,
          (c.Repository:gsub("[^%w%-._~:/]", function(ch) return string.format("%%%02X", ch:byte()) end))) } }
    end
    pkgs[#pkgs + 1] = package(p)
    rels[#rels + 1] = rel(top.SPDXID, "DEPENDS_ON", cid)
    local set = {}
    find_images(c.Values, set, 0)
    for _, m in ipairs(c.Manifests) do
      local ok, docs = pcall(doc.decode_all, m.Text, m.Source)
      if ok then for _, d in ipairs(docs) do find_images(d, set, 0) end end
    end
    local imgs = {}
    for k in pairs(set) do imgs[#imgs + 1] = k end
    table.sort(imgs)
    for _, img in ipairs(imgs) do
      local name, version = split_image(img)
      local iid = spdxid("Image", img)
      if not seen[iid] then
        seen[iid] = true
        local base = name:match("([^/]+)$")
        pkgs[#pkgs + 1] = package({ name = name, SPDXID = iid, versionInfo = version, primaryPackagePurpose = "CONTAINER",
          externalRefs = { { referenceCategory = "PACKAGE-MANAGER", referenceType = "purl",
            referenceLocator = version:match("^sha256:") and
              string.format("pkg:oci/%s@%s?repository_url=%s", base, version:gsub(":", "%%3A"), name) or
              string.format("pkg:oci/%s?repository_url=%s&tag=%s", base, name, version) } } })
      end
      rels[#rels + 1] = rel(cid, "DEPENDS_ON", iid)
    end
  end
  local meta = type(b.recipe_meta) == "table" and b.recipe_meta or
    (type(model.recipe) == "table" and type(model.recipe.metadata) == "table" and model.recipe.metadata) or {}
  return document(model.Chart.Name, M.NAMESPACE .. "bundle/" .. digest, created(meta.timestamp), top, pkgs, rels)
end

-- binary -------------------------------------------------------------------

-- licence text of vendor/README.md -> SPDX expression or nil
local function spdx_licence(text)
  local l = text:gsub("%b()", ""):gsub("^%s+", ""):gsub("%s+$", "")
  l = l:gsub(" with LLVM exception", " WITH LLVM-exception"):gsub(" or ", " OR "):gsub(" and ", " AND ")
  l = l:gsub("([%w.-]+)%+", "%1-or-later")
  if l:match("^[%w.-]+$") or l:match("^[%w.-]+ [A-Z]+ [%w.-]+$") then return l end
  return nil
end

-- the runtime rows of the vendor/README.md table: {names=, version=,
-- licence=, use=, how=}
function M.vendor_rows(text)
  local rows = {}
  for line in text:gmatch("[^\n]+") do
    local cells = {}
    for c in line:gmatch("|([^|]*)") do cells[#cells + 1] = c:gsub("^%s+", ""):gsub("%s+$", ""):gsub("`", "") end
    if #cells >= 5 and cells[1] ~= "package" and not cells[1]:match("^%-+$") then
      local how = cells[5]:lower()
      local dev = how:match("^(%a+) only") -- tests only, specs only, bench only, fuzz only, image only
      if not (dev and dev ~= "linked") then
        local names = {}
        for n in cells[1]:gmatch("[^,]+") do names[#names + 1] = n:gsub("^%s+", ""):gsub("%s+$", "") end
        rows[#rows + 1] = { names = names, version = cells[2], licence = cells[3], use = cells[4], how = cells[5] }
      end
    end
  end
  return rows
end

-- binary() -> SPDX JSON of the eidos binary and its runtime dependencies
function M.binary()
  local b = require("eidos.core.build")
  local text = require("eidos.core.res").read("vendor/README.md")
  if not text then errors.raise("internal", "vendor/README.md is not embedded in this binary") end
  local top = package({ name = "eidos", SPDXID = "SPDXRef-Package-eidos", versionInfo = tostring(b.version),
    comment = "commit " .. tostring(b.commit), primaryPackagePurpose = "APPLICATION" })
  local pkgs, rels = {}, {}
  for _, r in ipairs(M.vendor_rows(text)) do
    local name = r.names[1]:match("^([%w.+-]+)") or r.names[1]
    local lic = spdx_licence(r.licence)
    local id = spdxid("Package", name)
    pkgs[#pkgs + 1] = package({
      name = name, SPDXID = id, versionInfo = r.version,
      downloadLocation = "https://packages.debian.org/bookworm/" .. name,
      licenseDeclared = lic, licenseComments = not lic and r.licence or nil,
      summary = r.use, comment = "Debian packages: " .. table.concat(r.names, ", ") .. "; linked: " .. r.how,
      primaryPackagePurpose = "LIBRARY",
      externalRefs = { { referenceCategory = "PACKAGE-MANAGER", referenceType = "purl",
        referenceLocator = string.format("pkg:deb/debian/%s@%s?distro=debian-12", name,
          (r.version:gsub("[^%w.+~-]", function(ch) return string.format("%%%02X", ch:byte()) end))) } },
    })
    rels[#rels + 1] = rel(top.SPDXID, r.how:lower():find("static", 1, true) and "STATIC_LINK" or "DYNAMIC_LINK", id)
  end
  local digest = errors.check(sha256.hex(tostring(b.version) .. "\0" .. tostring(b.commit) .. "\0" .. text))
  return document("eidos-" .. tostring(b.version), M.NAMESPACE .. "eidos/" .. digest, created(b.date), top, pkgs, rels)
end

return M
