-- Argo CD health of a HitlSession (operator/mediajobs/api/hitl.py), written for
-- Argo CD's gopher-lua with the base and table libraries only. An open
-- session waits for a person, not for the cluster: Suspended, like a paused
-- rollout, so a sync that waits for health does not time out as if stuck in
-- Progressing, and the application shows that someone has to act.
local hs = {}
local spec = obj.spec or {}
local s = obj.status or {}
local phase = s.phase

local function who()
  return "log in to " .. (spec.platform or "the platform") .. " for " .. (spec.creatorProfile or "the creator")
end

if phase == nil or phase == "Pending" or phase == "InProgress" then
  hs.status = "Suspended"
  local ask = spec.alertMessage or who()
  local progress = phase == "InProgress" and "login in progress: " or ""
  local jobs = #(s.waitingJobs or {})
  local waiting = jobs > 0 and (" (" .. tostring(jobs) .. " job(s) waiting)") or ""
  local expires = s.expiresAt and ("; expires at " .. s.expiresAt) or ""
  hs.message = progress .. ask .. waiting .. expires
elseif phase == "Resolved" then
  hs.status = "Healthy"
  hs.message = "resolved" .. (s.resolutionMethod and (" by " .. s.resolutionMethod) or "")
elseif phase == "Cancelled" then
  hs.status = "Degraded"
  hs.message = "cancelled: the jobs waiting on it failed"
elseif phase == "Expired" then
  hs.status = "Degraded"
  local when = s.expiresAt and (" at " .. s.expiresAt) or ""
  hs.message = "expired" .. when .. " before anyone could " .. who() .. "; the jobs waiting on it failed"
else
  hs.status = "Unknown"
  hs.message = "unknown phase " .. tostring(phase)
end
return hs
