-- eidos.snapshot.filter: which collected values a snapshot leaves out. The
-- C collectors report everything they find; this policy drops what is noise
-- or changes from one read to the next (so the same node gives the same
-- snapshot), and keeps upstream's own drops (grub `root`, a few SystemD
-- properties). Patterns use `*` as a wildcard: `prefix*`, `*suffix`,
-- `*mid*`, exact. Keyed by measurement type, then subtype ("*" = any).
local M = {}

M.drop = {
  OS = {
    grub = { "root" },
    sysctl = {
      -- different on every read
      "/proc/sys/kernel/random/uuid", "/proc/sys/kernel/random/boot_id",
      "/proc/sys/kernel/random/entropy_avail", "/proc/sys/kernel/ns_last_pid",
      "/proc/sys/fs/dentry-state", "/proc/sys/fs/file-nr", "/proc/sys/fs/inode-nr",
      "/proc/sys/fs/inode-state", "/proc/sys/fs/aio-nr", "/proc/sys/kernel/pty/nr",
      "/proc/sys/fs/quota/*", "/proc/sys/fs/fscache/*",
    },
  },
  SystemD = {
    ["*"] = { "AllowedCPUs", "AllowedMemoryNodes", "Asserts", "BPFProgram", "BusName", "Id",
              "*Credential*" },
  },
}

local cache = {}

local function compile(p)
  local c = cache[p]
  if c then return c end
  local parts = {}
  for part in (p .. "*"):gmatch("([^*]*)%*") do parts[#parts + 1] = part end
  -- parts[1] must prefix, parts[#parts] must suffix (when p does not end in *)
  c = { parts = parts, open_end = p:sub(-1) == "*" }
  cache[p] = c
  return c
end

-- match(pattern, s) -> boolean
function M.match(p, s)
  if not p:find("*", 1, true) then return p == s end
  local c = compile(p)
  local parts = c.parts
  local first = parts[1]
  if s:sub(1, #first) ~= first then return false end
  local pos = #first + 1
  local last = c.open_end and "" or parts[#parts]
  local upto = c.open_end and #parts or #parts - 1
  for i = 2, upto do
    local part = parts[i]
    if part ~= "" then
      local a, b = s:find(part, pos, true)
      if not a then return false end
      pos = b + 1
    end
  end
  if last ~= "" then
    return #s - #last + 1 >= pos and s:sub(-#last) == last
  end
  return true
end

local function patterns(mtype, subtype)
  local t = M.drop[mtype]
  if not t then return nil end
  local a, b = t[subtype], t["*"]
  if a and b then
    local all = {}
    for _, p in ipairs(a) do all[#all + 1] = p end
    for _, p in ipairs(b) do all[#all + 1] = p end
    return all
  end
  return a or b
end

-- measurement(m): drop the filtered keys of a measurement in place;
-- returns the number of keys dropped
function M.measurement(m)
  local n = 0
  for _, st in ipairs(m.subtypes or {}) do
    local ps = patterns(m.type, st.subtype)
    if ps and type(st.data) == "table" then
      local keys = {}
      for k in pairs(st.data) do keys[#keys + 1] = k end
      for _, k in ipairs(keys) do
        for _, p in ipairs(ps) do
          if M.match(p, k) then
            st.data[k] = nil
            n = n + 1
            break
          end
        end
      end
    end
  end
  return n
end

return M
