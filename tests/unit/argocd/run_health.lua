-- Runs an Argo CD health check as Argo CD runs one from argocd-cm: the object
-- is the global OBJ, the script returns a table {status, message}, and it sees
-- the base and table libraries only (no string, math, io or os library, no
-- string methods: Argo CD's useOpenLibs is off by default). Lua 5.1 and 5.4.
-- arg[1]: the health.lua; stdin: "return <table constructor>" (the object).
local compile = loadstring or load
local object = assert(compile(io.read("*a"), "=obj"))()

local env = { obj = object, table = table }
for _, name in ipairs({
  "assert", "error", "getmetatable", "ipairs", "next", "pairs", "pcall", "rawequal",
  "rawget", "rawset", "select", "setmetatable", "tonumber", "tostring", "type",
  "unpack", "xpcall",
}) do
  env[name] = _G[name]
end
env._G = env

local file = assert(io.open(arg[1]))
local source = file:read("*a")
file:close()
local chunk
if setfenv then
  chunk = assert(loadstring(source, "=health.lua"))
  setfenv(chunk, env)
else
  chunk = assert(load(source, "=health.lua", "t", env))
end

local write = io.write
debug.setmetatable("", nil) -- no ("x"):upper() either
local hs = chunk()
write(tostring(hs.status), "\n", tostring(hs.message or ""))
