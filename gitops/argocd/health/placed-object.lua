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

-- #include common.lua

local settled = settledHealth(obj, "Paused (dockyard.io/paused): Dockyard observes but changes nothing")
if settled ~= nil then
  return settled
end

local status = obj.status
local ready = condition(status, "Ready")
if ready ~= nil and ready.status == "False" then
  return { status = "Degraded", message = explain(ready) }
end
return progressingOnHosts(status, ready)
