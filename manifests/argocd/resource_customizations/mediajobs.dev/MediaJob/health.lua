-- Argo CD health of a MediaJob, from the status the operator writes
-- (operator/mediajobs/api/mediajob.py). Argo CD runs a check from argocd-cm in
-- gopher-lua (Lua 5.1) with the base and table libraries only: no string or
-- math library, and no string methods.
local hs = {}
local s = obj.status or {}
local phase = s.phase

local function condition_message(type_)
  for _, c in ipairs(s.conditions or {}) do
    if c.type == type_ and c.status == "True" and c.message ~= nil and c.message ~= "" then
      return c.message
    end
  end
  return nil
end

if phase == "Succeeded" then
  hs.status = "Healthy"
  hs.message = condition_message("Complete") or "succeeded"
elseif phase == "Failed" then
  hs.status = "Degraded"
  hs.message = s.message or condition_message("Failed") or "failed"
elseif phase == "Cancelled" then
  -- Final and without output: whatever waited for it will not get it.
  hs.status = "Degraded"
  hs.message = "cancelled by spec.cancel"
elseif phase == "Skipped" then
  -- onDependencyFailure: Skip asked for this end: the dependency that failed is the
  -- Degraded one; this job did what it was told.
  hs.status = "Healthy"
  hs.message = s.message or "skipped: a dependency failed"
elseif phase == "Pending" and s.waitingReason == "WaitingForDependency" then
  hs.status = "Progressing"
  hs.message = s.message or "waiting for its dependencies to succeed"
elseif phase == nil or phase == "Pending" then
  hs.status = "Progressing"
  hs.message = "waiting for the operator to queue it"
elseif phase == "Queued" then
  hs.status = "Progressing"
  local place = s.queuePosition and (" at position " .. tostring(s.queuePosition)) or ""
  hs.message = "queued" .. place .. ": " .. (s.waitingReason or "waiting for admission")
elseif phase == "Running" then
  hs.status = "Progressing"
  if s.waitingReason ~= nil then
    -- The attempt was admitted but its worker has not started (image pull, scheduling).
    hs.message = s.waitingReason .. ": " .. (s.message or "the worker has not started")
  elseif s.progress ~= nil then
    hs.message = "running: " .. tostring(s.progress) .. "% done"
  else
    hs.message = "running"
  end
elseif phase == "BackingOff" then
  hs.status = "Progressing"
  local after = s.retryAfter and (" after " .. s.retryAfter) or ""
  hs.message = "retrying" .. after .. ": " .. (s.message or "the last attempt failed")
elseif phase == "Suspended" then
  hs.status = "Suspended"
  hs.message = "suspended by spec.suspend; it resumes when suspend is false"
elseif phase == "WaitingForHuman" then
  hs.status = "Suspended"
  local session = s.hitlSession and (" (HitlSession " .. s.hitlSession .. ")") or ""
  hs.message = "waiting for a person" .. session .. ": " .. (s.message or "a platform login is needed")
else
  hs.status = "Unknown"
  hs.message = "unknown phase " .. tostring(phase)
end
return hs
