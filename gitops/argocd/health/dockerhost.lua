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
if ready ~= nil then
  return { status = "Progressing", message = progress(status, nil, explain(ready)) }
end
return { status = "Progressing", message = progress(status, nil, "waiting for the first heartbeat") }
