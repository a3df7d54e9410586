-- What every Dockyard health check shares. Argo CD needs each script
-- self-contained, so scripts/generate-gitops.ts writes this file in place of
-- the line `-- #include common.lua` of a kind's script (in argocd-cm, and for
-- gitops/argocd-health.test.ts). Lua 5.1, like the scripts.

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

-- "Phase (count): text", e.g. "Creating (1/2 hosts ready): pulling".
local function progress(status, count, text)
  local where = status.phase or "Pending"
  if count ~= nil then
    where = where .. " (" .. count .. ")"
  end
  if text == nil or text == "" then
    return where
  end
  return where .. ": " .. text
end

-- Suspended while dockyard.io/paused is "true"; nil otherwise.
local function suspendedByAnnotation(object, message)
  local annotations = object.metadata.annotations
  if annotations ~= nil and annotations["dockyard.io/paused"] == "true" then
    return { status = "Suspended", message = message }
  end
  return nil
end

-- Progressing while the status is about an older spec (or there is none yet); nil otherwise.
local function staleStatus(object)
  local status = object.status
  local generation = object.metadata.generation
  if status == nil or status.observedGeneration == nil
      or (generation ~= nil and status.observedGeneration ~= generation) then
    return { status = "Progressing", message = "Waiting for the controller to observe the latest spec" }
  end
  return nil
end

-- Degraded while Stalled=True (it needs a change from you); nil otherwise.
local function degradedIfStalled(status)
  local stalled = condition(status, "Stalled")
  if stalled ~= nil and stalled.status == "True" then
    return { status = "Degraded", message = explain(stalled) }
  end
  return nil
end

-- Healthy while Ready=True; nil otherwise.
local function healthyIfReady(ready)
  if ready ~= nil and ready.status == "True" then
    return { status = "Healthy", message = ready.message ~= "" and ready.message or ready.reason }
  end
  return nil
end

-- The checks most kinds make first, in this order: paused by annotation
-- (Suspended), a status about an older spec (Progressing), Stalled=True
-- (Degraded), Ready=True (Healthy). nil when none decides.
local function settledHealth(object, pausedMessage)
  local decided = suspendedByAnnotation(object, pausedMessage) or staleStatus(object)
  if decided ~= nil then
    return decided
  end
  return degradedIfStalled(object.status) or healthyIfReady(condition(object.status, "Ready"))
end

-- Progressing, saying what a placed object is doing and on how many of its hosts.
local function progressingOnHosts(status, ready)
  local hostsReady = nil
  if status.hostsReady ~= nil then
    hostsReady = status.hostsReady .. " hosts ready"
  end
  local reconciling = condition(status, "Reconciling")
  local text = "waiting for the controller to report conditions"
  if reconciling ~= nil then
    text = reconciling.message
  elseif ready ~= nil then
    text = ready.message
  end
  return { status = "Progressing", message = progress(status, hostsReady, text) }
end
