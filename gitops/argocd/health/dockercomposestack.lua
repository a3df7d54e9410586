-- Argo CD health check for dockyard.io/DockerComposeStack.
--
-- Argo CD runs this with gopher-lua (Lua 5.1 syntax) and the live object in
-- `obj`; it is embedded in argocd-cm by `scripts/generate-gitops.ts` and run
-- by gitops/argocd-health.test.ts.
--
-- A stack's health is its resources': the stack controller writes Ready from
-- their own Ready conditions. In this order:
--   dockyard.io/paused: "true"              -> Suspended
--   status older than metadata.generation   -> Progressing
--   Stalled=True                            -> Degraded (the Compose files do not load,
--                                              use keys Dockyard has no equivalent for,
--                                              or name a resource another one holds)
--   Ready=True                              -> Healthy (every resource Ready)
--   Ready=False, waiting (ResourcesNotReady) -> Progressing
--   Ready=False otherwise                   -> Degraded (ResourcesFailed names the
--                                              resource and its own reason; ConfigMapNotFound)
--   anything else                           -> Progressing

-- WAITING_REASONS of src/crds/reasons.ts (scripts/generate-gitops.ts writes its contents).
local WAITING_REASONS = {
  DependenciesNotReady = true,
  ResourcesNotReady = true,
}

-- #include common.lua

local settled = settledHealth(obj, "Paused (dockyard.io/paused)")
if settled ~= nil then
  return settled
end

local status = obj.status
local ready = condition(status, "Ready")
local summary = nil
if status.readySummary ~= nil then
  summary = status.readySummary .. " services ready"
end
if ready ~= nil and ready.status == "False" and not WAITING_REASONS[ready.reason] then
  return { status = "Degraded", message = explain(ready) }
end
local text = "waiting for the controller to report conditions"
if ready ~= nil then
  text = explain(ready)
end
if summary ~= nil then
  text = summary .. ": " .. text
end
return { status = "Progressing", message = text }
