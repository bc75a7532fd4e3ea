-- Explicit file arguments accept pipes and character devices as a shell
-- user writes them (bash process substitution <(...), /dev/fd/N,
-- /dev/stdin, a named FIFO), under the size limit and a read deadline
-- (EIDOS_INPUT_TIMEOUT): a pipe that never closes is exit 5 naming it, not
-- a hang. Other kinds (sockets, directories) are exit 2 naming the type.
-- (--kubeconfig <(...) against the test API server: k8s_spec.)
local support = require("support")

local ROOT = support.root
local SNAP = ROOT .. "/spec/fixtures/snapshots/validate-small.yaml"
local q = support.q

local function have(cmd) return os.execute("command -v " .. cmd .. " >/dev/null 2>&1") == true end

-- bash(script, dir) -> {code, out, err}: $E is eidos, $SNAP a snapshot
local function bash(script, dir, env)
  return support.sh(string.format("EIDOS_HOME=%s E=%s SNAP=%s %s bash -c %s", q(ROOT), q(support.eidos_abs), q(SNAP),
    env or "", q(script)), dir)
end

local describe_if = have("bash") and describe or pending

describe_if("pipes and devices as file arguments", function()
  local dir
  setup(function()
    dir = support.tmpdir()
    local r = bash("$E recipe --service eks --accelerator h100 --os ubuntu --intent training -o r.yaml -q", dir)
    assert.are.equal(0, r.code, r.err)
  end)
  teardown(function() os.execute("rm -rf " .. q(dir)) end)

  it("--criteria, --snapshot, --recipe and --values from <(...) and /dev/stdin", function()
    local r = bash("$E recipe --criteria <(printf 'kind: RecipeCriteria\\napiVersion: eidos.nvidia.com/v1alpha1\\n" ..
      "spec: {service: eks, accelerator: h100, intent: training}\\n') -t json", dir)
    assert.are.equal(0, r.code, r.err)
    assert.truthy(r.out:find('"RecipeResult"', 1, true), r.out)
    r = bash("$E recipe --snapshot <(cat \"$SNAP\") --intent training --allow-partial -q -o /dev/null", dir)
    assert.are.equal(0, r.code, r.err)
    r = bash("cat r.yaml | $E validate -r /dev/stdin -s <(cat \"$SNAP\") -t json", dir)
    assert.are.equal(0, r.code, r.err)
    assert.truthy(r.out:find('"ValidationResult"', 1, true), r.out)
    r = bash("$E bundle -r <(cat r.yaml) --values <(printf 'gpu-operator: {driver: {version: 1.2.3}}\\n') -o b1", dir)
    assert.are.equal(0, r.code, r.err)
    assert.truthy(support.read(dir .. "/b1/values.yaml"):find("1.2.3", 1, true))
  end)

  local it_keys = have("openssl") and it or pending
  it_keys("--sign-key and verify --key from <(...)", function()
    local r = bash("openssl genpkey -algorithm ed25519 -out k.pem 2>/dev/null && " ..
      "openssl pkey -in k.pem -pubout -out pub.pem && " ..
      "$E bundle -r r.yaml -o b2 --sign-key <(cat k.pem) && $E verify b2 --key <(cat pub.pem)", dir)
    assert.are.equal(0, r.code, r.err)
    assert.truthy(r.out:find("signature verified", 1, true), r.out)
  end)

  it("a named FIFO whose writer comes late is waited for; one that never ends is exit 5 within the deadline", function()
    -- (the writer gives up after 60 s, so nothing can hang if eidos never opens the FIFO)
    local r = bash("mkfifo late; (sleep 0.5; timeout 60 cp \"$SNAP\" late) & $E validate -s late -c 'OS.release.ID ubuntu' " ..
      "-t json; rc=$?; wait; exit $rc", dir, "EIDOS_INPUT_TIMEOUT=20s")
    assert.are.equal(0, r.code, r.err)
    assert.truthy(r.out:find('"passed"', 1, true), r.out)
    -- a writer that keeps the pipe open: the deadline, not a hang
    local t0 = os.time()
    r = bash("mkfifo open; timeout 30 sh -c 'printf \"kind: Snapshot\\n\"; sleep 30' > open & w=$!; " ..
      "$E validate -s open -c 'OS.release.ID ubuntu'; rc=$?; kill $w 2>/dev/null; exit $rc", dir, "EIDOS_INPUT_TIMEOUT=1s")
    assert.are.equal(5, r.code, r.err)
    assert.truthy(r.err:find('snapshot "open": the FIFO did not end within 1s (EIDOS_INPUT_TIMEOUT', 1, true), r.err)
    assert.is_true(os.time() - t0 < 15, "took " .. (os.time() - t0) .. " s")
    -- <(...) that never ends: the same
    r = bash("$E recipe --criteria <(sleep 30)", dir, "EIDOS_INPUT_TIMEOUT=1s")
    assert.are.equal(5, r.code, r.err)
    assert.truthy(r.err:find("the FIFO did not end within 1s", 1, true), r.err)
  end)

  it("a pipe over the size limit is refused at the limit", function()
    local r = bash("$E recipe --max-input-size 64Ki --criteria <(head -c 1000000 /dev/zero | tr '\\0' 'a')", dir)
    assert.are.equal(2, r.code, r.err)
    assert.truthy(r.err:find("more than the limit of 65536 bytes", 1, true), r.err)
  end)

  it("a socket or a directory is exit 2 naming its type", function()
    local sock = dir .. "/s.sock"
    local r = bash("python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' " .. q(sock) ..
      " && $E recipe --criteria " .. q(sock), dir)
    assert.are.equal(2, r.code, r.err)
    assert.truthy(r.err:find('is a socket, not a regular file (accepted: a file, a pipe', 1, true), r.err)
    -- (validate -s DIR reads every snapshot in DIR: a fleet; recipe -s takes one file)
    r = bash("$E recipe -s .", dir)
    assert.are.equal(2, r.code, r.err)
    assert.truthy(r.err:find('snapshot "." is a directory, not a regular file', 1, true), r.err)
  end)
end)
