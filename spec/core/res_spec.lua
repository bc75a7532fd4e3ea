-- eidos.core.res listing: list(prefix) reads only the part of each tree
-- that can hold the prefix; what it returns must be exactly the full
-- listing filtered by the prefix, with the same winner for each path
-- (the first root that has it, else the embedded copy); names(prefix) is
-- the same paths relative to the prefix.
local res = require("eidos.core.res")
local fs = require("eidos.core.fs")
local support = require("support")

describe("eidos.core.res listing", function()
  local dir1, dir2

  local function write(path, text)
    assert(fs.mkdir_p(path:match("^(.*)/[^/]*$")))
    support.write(path, text)
  end

  before_each(function()
    dir1 = support.tmpdir()
    dir2 = support.tmpdir()
    write(dir1 .. "/recipes/overlays/zz-extra.yaml", "kind: RecipeMetadata\n")
    write(dir1 .. "/recipes/registry.yaml", "components: []\n")
    write(dir2 .. "/recipes/registry.yaml", "components: []\n")
    write(dir2 .. "/recipes/overlays/aa-first.yaml", "kind: RecipeMetadata\n")
    write(dir2 .. "/templates/helm/extra.tpl", "x\n")
    write(dir2 .. "/other/ignored.txt", "x\n")
    res.set_roots({ dir1, dir2 })
  end)

  after_each(function()
    res.set_roots({ support.root })
    fs.remove_tree(dir1)
    fs.remove_tree(dir2)
  end)

  local function filtered(prefix)
    local out = {}
    for _, f in ipairs(res.list("")) do
      if f.path:sub(1, #prefix) == prefix then out[#out + 1] = f end
    end
    return out
  end

  it("gives for every prefix the full listing filtered by it", function()
    for _, prefix in ipairs({ "", "recipes/", "recipes/overlays/", "recipes/over", "recipes/registry.yaml",
                              "templates/helm/", "lua/eidos/cmd/", "lua", "r", "other/", "nothing/", "zzz" }) do
      assert.are.same(filtered(prefix), res.list(prefix), prefix)
    end
  end)

  it("lets the first root win, then the embedded copy", function()
    local by = {}
    for _, f in ipairs(res.list("recipes/")) do by[f.path] = f.origin end
    assert.are.equal(dir1 .. "/recipes/registry.yaml", by["recipes/registry.yaml"])
    assert.are.equal(dir2 .. "/recipes/overlays/aa-first.yaml", by["recipes/overlays/aa-first.yaml"])
    assert.are.equal(dir1 .. "/recipes/overlays/zz-extra.yaml", by["recipes/overlays/zz-extra.yaml"])
    assert.are.equal("embedded", by["recipes/overlays/base.yaml"])
    assert.is_nil(by["other/ignored.txt"])
  end)

  it("names the same paths relative to the prefix, sorted, with the ones on disk", function()
    local want, want_disk = {}, {}
    for _, f in ipairs(res.list("recipes/")) do
      local rel = f.path:sub(#"recipes/" + 1)
      want[#want + 1] = rel
      if f.origin ~= "embedded" then want_disk[rel] = f.origin end
    end
    local got, disk = res.names("recipes/")
    assert.are.same(want, got)
    assert.are.same(want_disk, disk)
    assert.are.equal(dir1 .. "/recipes/registry.yaml", disk["registry.yaml"])
    for i = 2, #got do assert.is_true(got[i - 1] < got[i]) end
  end)
end)
