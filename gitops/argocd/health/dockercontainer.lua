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
  if not WAITING_REASONS[ready.reason] then
    hs.status = "Degraded"
    hs.message = explain(ready)
    return hs
  end
  local host = failedHost(status)
  if host ~= nil then
    hs.status = "Degraded"
    hs.message = host.phase .. " on " .. host.name
    if host.message ~= nil and host.message ~= "" then
      hs.message = hs.message .. ": " .. host.message
    end
    return hs
  end
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
