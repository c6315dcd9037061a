-- Runs an Argo CD health check as Argo CD does: the object is the global OBJ,
-- the script returns a table {status, message}. Lua 5.1 and 5.4 alike.
-- arg[1]: the health.lua; stdin: "return <table constructor>" (the object).
local load_chunk = loadstring or load
obj = assert(load_chunk(io.read("*a"), "=obj"))()
local hs = assert(loadfile(arg[1]))()
io.write(tostring(hs.status), "\n", tostring(hs.message or ""))
