-- Argo CD health check for dockyard.io/DockerContainer.
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
--                                               PolicyViolation, NameConflict, Failed)
--   Ready=True                               -> Healthy (also phase Completed: a
--                                               run-once container that exited 0)
--   Ready=False, a failure reason            -> Degraded (retried, but broken now:
--                                               CrashLoopBackOff, Unhealthy, SecretNotFound...)
--   Ready=False, waiting on dependencies     -> Progressing, unless a host has failed
--   Reconciling=True / Ready=Unknown / none  -> Progressing (Pulling, Creating, Starting...)

-- The two tables below are WAITING_REASONS and FAILED_PHASES of
-- src/crds/reasons.ts: scripts/generate-gitops.ts writes their contents.

-- Ready=False reasons that only mean "waiting for something that comes by
-- itself" (the DockerNetworks, DockerVolumes or DockerImage it needs).
local WAITING_REASONS = {
  DependenciesNotReady = true,
  ResourcesNotReady = true,
}

-- Per-host phases that are failures whatever reason the summary shows first.
local FAILED_PHASES = {
  CrashLoopBackOff = true,
  Unhealthy = true,
  Failed = true,
  PolicyViolation = true,
  NameConflict = true,
  HostNotReady = true,
}

-- #include common.lua

local function failedHost(status)
  if status.hosts == nil then
    return nil
  end
  for _, h in ipairs(status.hosts) do
    if FAILED_PHASES[h.phase] then
      return h
    end
  end
  return nil
end

local settled = settledHealth(obj, "Paused (dockyard.io/paused): Dockyard observes but changes nothing")
if settled ~= nil then
  return settled
end

local status = obj.status
local ready = condition(status, "Ready")
if ready ~= nil and ready.status == "False" then
  if not WAITING_REASONS[ready.reason] then
    return { status = "Degraded", message = explain(ready) }
  end
  local host = failedHost(status)
  if host ~= nil then
    local message = host.phase .. " on " .. host.name
    if host.message ~= nil and host.message ~= "" then
      message = message .. ": " .. host.message
    end
    return { status = "Degraded", message = message }
  end
end
return progressingOnHosts(status, ready)
