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
  if status.readySummary ~= nil then
    where = where .. " (" .. status.readySummary .. " ready)"
  end
  if text == nil or text == "" then
    return where
  end
  return where .. ": " .. text
end

local annotations = obj.metadata.annotations
if annotations ~= nil and annotations["dockyard.io/paused"] == "true" then
  hs.status = "Suspended"
  hs.message = "Paused (dockyard.io/paused): the rollout takes no step until it is resumed"
  return hs
end
if obj.spec ~= nil and obj.spec.paused == true then
  hs.status = "Suspended"
  hs.message = "Paused (spec.paused): the rollout takes no step until it is resumed"
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

local ready = condition(status, "Ready")
if ready ~= nil and ready.status ~= "True" and SUSPENDED_REASONS[ready.reason] then
  hs.status = "Suspended"
  hs.message = explain(ready)
  return hs
end

local stalled = condition(status, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = explain(stalled)
  return hs
end

if ready ~= nil and ready.status ~= "True" and ROLLOUT_FAILED_REASONS[ready.reason] then
  hs.status = "Degraded"
  hs.message = explain(ready)
  return hs
end

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message ~= "" and ready.message or ready.reason
  return hs
end

local reconciling = condition(status, "Reconciling")
hs.status = "Progressing"
if reconciling ~= nil and reconciling.status == "True" then
  hs.message = progress(status, reconciling.message)
elseif ready ~= nil then
  hs.message = progress(status, explain(ready))
else
  hs.message = progress(status, "waiting for the controller to report conditions")
end
return hs
