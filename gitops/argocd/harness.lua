-- Runs an Argo CD health script the way Argo CD does, for tests and for
-- trying a script by hand:
--
--   npx tsx scripts/generate-gitops.ts --print DockerContainer > /tmp/health.lua
--   lua5.4 gitops/argocd/harness.lua /tmp/health.lua < object.json
--
-- (the scripts in health/ include common.lua; --print writes one composed, as
-- argocd-cm holds it).
--
-- Reads one Kubernetes object as JSON on stdin, gives it to the script as the
-- global `obj` (Argo CD does the same: JSON objects become tables, arrays
-- 1-based tables, null nil), runs it and prints {"status": ..., "message": ...}
-- as JSON. JSON comes from dkjson (Debian package lua-dkjson).

local ok, json = pcall(require, "dkjson")
if not ok then
  io.stderr:write("harness.lua: the Lua module dkjson is missing; install the Debian package lua-dkjson\n")
  os.exit(2)
end

local scriptPath = arg[1]
if scriptPath == nil then
  io.stderr:write("usage: lua5.4 harness.lua <health.lua> < object.json\n")
  os.exit(2)
end

local input = io.read("a")
local object, _, err = json.decode(input, 1, nil)
if object == nil then
  io.stderr:write("harness.lua: stdin is not a JSON object: " .. tostring(err) .. "\n")
  os.exit(2)
end

-- Like Argo CD: `obj` is a global of the script's environment.
local env = setmetatable({ obj = object }, { __index = _G })
local chunk, loadErr = loadfile(scriptPath, "t", env)
if chunk == nil then
  io.stderr:write("harness.lua: " .. tostring(loadErr) .. "\n")
  os.exit(2)
end

local hs = chunk()
if type(hs) ~= "table" then
  io.stderr:write("harness.lua: the script returned " .. type(hs) .. ", not a table\n")
  os.exit(1)
end
io.write(json.encode({ status = hs.status, message = hs.message }), "\n")
