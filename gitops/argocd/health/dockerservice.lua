-- Argo CD health check for dockyard.io/DockerService.
--
-- Argo CD runs this with gopher-lua (Lua 5.1 syntax) and the live object in
-- `obj`; it is embedded in argocd-cm by `scripts/generate-gitops.ts` and run
-- by gitops/argocd-health.test.ts.
--
-- A DockerService has no hosts of its own: its health is its rollout's. It
-- reads the conditions the service controller writes (Ready, Reconciling,
-- Stalled and status.observedGeneration), in this order:
--   spec.paused or dockyard.io/paused: "true" -> Suspended
--   status older than metadata.generation     -> Progressing
--   Ready=False, a held rollout               -> Suspended (RolloutPaused, and a
--                                                Manual canary waiting: CanaryPaused)
--   Stalled=True                              -> Degraded (needs a change from you)
--   Ready=False, a failed rollout             -> Degraded (RollingBack, RolledBack,
--                                                RolloutFailed, ProgressDeadlineExceeded:
--                                                a rollback is never a successful update)
--   Ready=True                                -> Healthy (every replica at the spec's
--                                                revision and Available)
--   anything else                             -> Progressing (RollingUpdate; replicas not
--                                                Available yet, or on a host that is down)
-- The last line is Argo CD's own Deployment check: replicas that are not
-- Available are Progressing until the progress deadline says the rollout
-- failed (ProgressDeadlineExceeded, Degraded).

-- The two tables below are ROLLOUT_FAILED_REASONS and SUSPENDED_REASONS of
-- src/crds/reasons.ts: scripts/generate-gitops.ts writes their contents.

-- Ready=False reasons of a rollout that failed: the revision the spec asks
-- for is not what runs, and will not be by itself.
local ROLLOUT_FAILED_REASONS = {
  RollingBack = true,
  RolledBack = true,
  RolloutFailed = true,
  ProgressDeadlineExceeded = true,
}

-- Ready=False reasons of a rollout someone holds.
local SUSPENDED_REASONS = {
  RolloutPaused = true,
  CanaryPaused = true,
}

-- #include common.lua

local paused = suspendedByAnnotation(obj, "Paused (dockyard.io/paused): the rollout takes no step until it is resumed")
if paused ~= nil then
  return paused
end
if obj.spec ~= nil and obj.spec.paused == true then
  return { status = "Suspended", message = "Paused (spec.paused): the rollout takes no step until it is resumed" }
end
local stale = staleStatus(obj)
if stale ~= nil then
  return stale
end

local status = obj.status
local ready = condition(status, "Ready")
if ready ~= nil and ready.status ~= "True" and SUSPENDED_REASONS[ready.reason] then
  return { status = "Suspended", message = explain(ready) }
end

local stalled = degradedIfStalled(status)
if stalled ~= nil then
  return stalled
end

if ready ~= nil and ready.status ~= "True" and ROLLOUT_FAILED_REASONS[ready.reason] then
  return { status = "Degraded", message = explain(ready) }
end

local healthy = healthyIfReady(ready)
if healthy ~= nil then
  return healthy
end

local readyCount = nil
if status.readySummary ~= nil then
  readyCount = status.readySummary .. " ready"
end
local reconciling = condition(status, "Reconciling")
local hs = { status = "Progressing" }
if reconciling ~= nil and reconciling.status == "True" then
  hs.message = progress(status, readyCount, reconciling.message)
elseif ready ~= nil then
  hs.message = progress(status, readyCount, explain(ready))
else
  hs.message = progress(status, readyCount, "waiting for the controller to report conditions")
end
return hs
