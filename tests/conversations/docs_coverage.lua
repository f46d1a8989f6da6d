-- docs_coverage.lua: the reference in docs/ and the binary agree. Every public function the
-- binary exports (parley's globals, the methods of connections, listeners and tasks, the
-- functions of the public parley.* modules, the methods of SMTP, POP3 and IMAP sessions) has
-- a heading in docs/, and every function documented there exists in the binary.
--
-- A function is documented by a level-3 heading that starts with its call in backquotes:
-- "### `connect(host, port)`", "### `c:send(line)`", "### `srv:accept([timeout])`" and
-- "### `task:join([timeout])`" in core.md, "### `smtp.connect(opts)`" and
-- "### `s:rcpt(to, opts)`" in smtp.md (`s:` is a session of that file's module).
-- exit: 0
-- args: --timeout 10
-- stdout: docs cover [0-9]+ functions
-- within: 10

local docs = "../../docs/"

-- Modules whose functions are for parley itself, not for scripts (documented as such in
-- docs/README.md): parley.core (expect and on, installed on connections), parley.json (the
-- reports of parley test), parley.testrun (parley test), parley.transcript (parley run
-- TRANSCRIPT), parley.mock.* (parley serve).
local PUBLIC = { "smtp", "pop3", "imap", "sasl", "mime", "codes", "crypto", "checks", "load",
                 "session", "dial" }
local SESSIONS = { smtp = true, pop3 = true, imap = true }

-- Lua's own globals: not parley's to document.
local LUA_GLOBALS = {}
for name in ("assert collectgarbage dofile error getmetatable ipairs load loadfile next pairs " ..
             "pcall rawequal rawget rawlen rawset select setmetatable tonumber tostring type " ..
             "xpcall warn"):gmatch("%S+") do
  LUA_GLOBALS[name] = true
end

local function read(path)
  local f = assert(io.open(path, "r"), "cannot read " .. path)
  local text = f:read("a")
  f:close()
  return text
end

-- What the binary has: "core:NAME", "c:NAME", "MOD.NAME", "MOD:NAME".
local have = {}
local function add(set, key) set[key] = true end
for name, v in pairs(_G) do
  if type(v) == "function" and not LUA_GLOBALS[name] then add(have, "core:" .. name) end
end
local parley = require "parley"
-- expect, on and off join the connection methods when parley.core loads (a connection loads
-- it when first asked for one of them).
require "parley.core"
-- The objects the bindings make: a connection (c), a listener (srv), a task.
local OBJECTS = { c = parley.conn_methods, srv = parley.listener_methods, task = parley.task_methods }
for obj, methods in pairs(OBJECTS) do
  local n = 0
  for name in pairs(methods) do
    add(have, obj .. ":" .. name)
    n = n + 1
  end
  assert(n > 0, "the binary exports no methods for " .. obj)
end
for _, mod in ipairs(PUBLIC) do
  for name, v in pairs(require("parley." .. mod)) do
    if type(v) == "function" and name:sub(1, 1) ~= "_" then add(have, mod .. "." .. name) end
  end
end
for proto in pairs(SESSIONS) do
  for name, v in pairs(require("parley.session").classes[proto]) do
    if type(v) == "function" then add(have, proto .. ":" .. name) end
  end
end

-- What docs/ documents.
local documented, where, twice = {}, {}, {}
local function note(key, file)
  if documented[key] then twice[#twice + 1] = key .. " (" .. file .. ".md)" end
  documented[key] = true
  where[key] = file
end
for _, file in ipairs { "core", "smtp", "pop3", "imap", "sasl", "mime", "codes", "crypto",
                        "checks", "load", "session" } do
  local text = read(docs .. file .. ".md")
  for call in text:gmatch("\n### `([^`]+)`") do
    local obj, sep, name = call:match("^([%w_]+)([.:])([%w_]+)")
    if not obj then obj, sep, name = "", "", call:match("^([%w_]+)") end
    if file == "core" then
      if sep == "" then note("core:" .. name, file)
      elseif OBJECTS[obj] then note(obj .. ":" .. name, file) end
    elseif sep == ":" and obj == "s" then
      note(file .. ":" .. name, file)
    elseif sep == "." then
      note(obj .. "." .. name, file)
    end
  end
end

local missing, extra = {}, {}
for key in pairs(have) do if not documented[key] then missing[#missing + 1] = key end end
have["core:args"] = args ~= nil  -- a table, documented beside the functions
for key in pairs(documented) do if not have[key] then extra[#extra + 1] = key .. " (" .. where[key] .. ".md)" end end
table.sort(missing)
table.sort(extra)
table.sort(twice)
if #missing > 0 or #extra > 0 or #twice > 0 then
  fail("docs/ and the binary disagree.\n  exported but not documented: " ..
    (#missing > 0 and table.concat(missing, ", ") or "none") ..
    "\n  documented but not in the binary: " .. (#extra > 0 and table.concat(extra, ", ") or "none") ..
    "\n  documented twice: " .. (#twice > 0 and table.concat(twice, ", ") or "none"))
end
local n = 0
for _ in pairs(have) do n = n + 1 end
print("docs cover " .. n .. " functions")
