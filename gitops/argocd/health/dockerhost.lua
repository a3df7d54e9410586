-- Argo CD health check for dockyard.io/DockerHost.
--
-- Argo CD runs this with gopher-lua (Lua 5.1 syntax) and the live object in
-- `obj`; it is embedded in argocd-cm by `scripts/generate-gitops.ts` and run
-- against real controller status by gitops/argocd-health.test.ts.
--
-- A DockerHost is healthy while its daemon answers heartbeats. It reads the
-- kstatus conditions Dockyard writes, in this order:
--   dockyard.io/paused: "true"               -> Suspended
--   status older than metadata.generation    -> Progressing (also: not probed yet)
--   Stalled=True                             -> Degraded
--   Ready=True                               -> Healthy (Connected)
--   Ready=False                              -> Degraded (Unreachable, TLSError,
--                                               Unauthorized, Timeout, SecretNotFound...)
--   otherwise                                -> Progressing (Pending)

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

hs.status = "Progressing"
if ready ~= nil then
  hs.message = (status.phase or "Pending") .. ": " .. explain(ready)
else
  hs.message = (status.phase or "Pending") .. ": waiting for the first heartbeat"
end
return hs
