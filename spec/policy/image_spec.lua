-- spec/policy/image_spec.lua: the container image's definition and the
-- manifests that run it agree: deploy/image/Dockerfile is FROM scratch plus
-- the rootfs tar of deploy/image/mkrootfs, as the non-root user 65532;
-- mkrootfs installs every library eidos and eidosd load; every image in
-- deploy/ is pinned to the release tag v<project version> (never :latest
-- with IfNotPresent) and the eidosd pod runs as the image's user.
-- (The image itself is built and pushed to a real registry in
-- spec/e2e/oci_spec.lua.)
local support = require("support")
local yaml = require("eidos.core.yaml")

local function read(p) return assert(support.read(support.root .. "/" .. p), p) end

describe("the eidos image", function()
  local release = "v" .. read("CMakeLists.txt"):match("project%(eidos VERSION (%d+%.%d+%.%d+)")

  it("Dockerfile: FROM scratch, the mkrootfs tar, non-root, eidos as entrypoint", function()
    local lines = {}
    for l in read("deploy/image/Dockerfile"):gmatch("[^\n]+") do
      if not l:match("^%s*#") then lines[#lines + 1] = l end
    end
    assert.are.equal("FROM scratch", lines[1])
    local text = table.concat(lines, "\n")
    assert.matches("\nADD rootfs.tar /\n", text, 1, true)
    assert.matches("\nUSER 65532:65532\n", text, 1, true)
    assert.matches('ENTRYPOINT ["/usr/bin/eidos"]', text, 1, true)
  end)

  it("mkrootfs installs the libraries the binaries load, and both binaries", function()
    local s = read("deploy/image/mkrootfs")
    for _, pkg in ipairs({ "libc6", "libyaml-0-2", "lua-cjson", "libssl3", "libcurl4", "libarchive13", "libnettle8",
                           "libsystemd0", "libh2o-evloop0.13", "ca-certificates" }) do
      assert.matches("[ (]" .. pkg:gsub("%p", "%%%0") .. "[ )\n]", s)
    end
    assert.matches("copy-in $build/eidos $build/eidosd /usr/bin", s, 1, true)
    assert.matches("eidos:x:65532:65532:", s, 1, true)
    -- the sonames lazy.c opens are those packages' libraries
    local lazy = read("src/core/lazy.c")
    for _, so in ipairs({ "libcrypto.so.3", "libcurl.so.4", "libnettle.so.8", "libarchive.so.13" }) do
      assert.matches(so, lazy, 1, true)
    end
  end)

  it("every image in deploy/ is the release tag " .. release .. ", pulled IfNotPresent only when pinned", function()
    local p = io.popen("cd " .. support.q(support.root) .. " && ls deploy/*/*.yaml")
    local n = 0
    for f in p:lines() do
      for _, d in ipairs(assert(yaml.load_all(read(f)))) do
        local spec = type(d) == "table" and d.spec
        local pod = spec and (spec.template and spec.template.spec or spec.jobTemplate and spec.jobTemplate.spec.template.spec)
        for _, c in ipairs(pod and pod.containers or {}) do
          n = n + 1
          assert.are.equal("ghcr.io/nvidia/eidos:" .. release, c.image, f)
          assert.is_not_equal("latest", c.image:match(":([^:/]+)$"))
          if d.kind == "Deployment" then assert.are.equal(65532, pod.securityContext.runAsUser) end
        end
      end
    end
    p:close()
    assert.are.equal(2, n)
  end)
end)
