-- Argo CD health check for dockyard.io/DockerImage, DockerNetwork and
-- DockerVolume: the placed kinds whose status is the managed reconciler's
-- summary alone (argocd-cm gets one copy per kind).
--
-- Argo CD runs this with gopher-lua (Lua 5.1 syntax) and the live object in
-- `obj`; it is embedded in argocd-cm by `scripts/generate-gitops.ts` and run
-- against real controller status by gitops/argocd-health.test.ts.
--
-- It reads the kstatus conditions Dockyard writes (Ready, Reconciling,
-- Stalled and status.observedGeneration), in this order:
--   dockyard.io/paused: "true"               -> Suspended
--   status older than metadata.generation    -> Progressing
--   Stalled=True                             -> Degraded (needs a change from you:
--                                               NameConflict, RecreateRequired, PolicyViolation)
--   Ready=True                               -> Healthy
--   Ready=False                              -> Degraded (retried, but broken now:
--                                               HostNotReady, DockerError, NoMatchingHosts,
--                                               DuplicateNetworks, NotFound, Unauthorized,
--                                               RegistryUnreachable, ImageNotPresent...)
--   Reconciling=True / Ready=Unknown / none  -> Progressing (Pending, Creating, Pulling, Checking)

local hs = {}

local function condition(status, conditionType)
  if status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

local function explain(c)
  if c.message == nil or c.message == "" then
    return c.reason
  end
  return c.reason .. ": " .. c.message
end

local function progress(status, text)
  local where = status.phase or "Pending"
  if status.hostsReady ~= nil then
    where = where .. " (" .. status.hostsReady .. " hosts ready)"
  end
  if text == nil or text == "" then
    return where
  end
  return where .. ": " .. text
end

local annotations = obj.metadata.annotations
if annotations ~= nil and annotations["dockyard.io/paused"] == "true" then
  hs.status = "Suspended"
  hs.message = "Paused (dockyard.io/paused): Dockyard observes but changes nothing"
  return hs
end

local status = obj.status
local generation = obj.metadata.generation
if status == nil or status.observedGeneration == nil
    or (generation ~= nil and status.observedGeneration ~= generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the controller to observe the latest spec"
  return hs
end

local stalled = condition(status, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = explain(stalled)
  return hs
end

local ready = condition(status, "Ready")
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message ~= "" and ready.message or ready.reason
  return hs
end
if ready ~= nil and ready.status == "False" then
  hs.status = "Degraded"
  hs.message = explain(ready)
  return hs
end

local reconciling = condition(status, "Reconciling")
hs.status = "Progressing"
if reconciling ~= nil then
  hs.message = progress(status, reconciling.message)
elseif ready ~= nil then
  hs.message = progress(status, ready.message)
else
  hs.message = progress(status, "waiting for the controller to report conditions")
end
return hs
