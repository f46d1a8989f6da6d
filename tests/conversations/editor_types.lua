-- editor_types.lua: the editor definitions in lua-types/ and the binary agree. Every function
-- the binary exports to scripts (the globals, those of a `parley test` file, the methods of
-- connections, listeners and tasks, the functions of `require "parley"` and of the public
-- parley.* modules, the methods of SMTP, POP3 and IMAP sessions and of SASL mechanisms, the
-- mock servers, their store and their methods) is declared in lua-types/, and everything
-- declared there exists in the binary.
--
-- A definition file declares `function name(...)` (a global), `function mod.name(...)` and
-- `function Class:name(...)`, where the local `mod` or `Class` follows a `---@class` line
-- that names what it stands for (parley.smtp, parley.smtp.Session, parley.Connection, ...).
-- exit: 0
-- args: --timeout 10
-- stdout: lua-types declares [0-9]+ functions
-- within: 10

local dir = "../../lua-types/"
local FILES = { "parley", "parley-test", "smtp", "pop3", "imap", "sasl", "mime", "codes",
                "crypto", "checks", "load", "session", "dial", "mock-smtp", "mock-pop3",
                "mock-imap", "mock-store" }
-- The mock servers a script may start (README.md, "Mock servers"); parley.mock.server and
-- parley.mock.serve are their machinery.
local MOCKS = { "smtp", "pop3", "imap", "store" }
-- The public modules, as in docs_coverage.lua (the others are parley's own machinery).
local PUBLIC = { "smtp", "pop3", "imap", "sasl", "mime", "codes", "crypto", "checks", "load",
                 "session", "dial" }

-- Lua's own globals, which lua-language-server knows already. parley's print and require keep
-- Lua's signatures (they mask secrets and find the compiled-in modules), so they are not
-- declared again: a second `require` would hide the editor's module resolution.
local LUA_GLOBALS = {}
for name in ("assert collectgarbage dofile error getmetatable ipairs load loadfile next pairs " ..
             "pcall rawequal rawget rawlen rawset select setmetatable tonumber tostring type " ..
             "xpcall warn print require"):gmatch("%S+") do
  LUA_GLOBALS[name] = true
end

-- What the binary has: "core:NAME", "test:NAME", "parley.NAME", "c:NAME", "listener:NAME",
-- "task:NAME", "MOD.NAME", "MOD:NAME" (a session), "mech:NAME", "mock.MOD.NAME",
-- "store:NAME", "mockserver:NAME".
local have = {}
local function functions_of(t, prefix, skip)
  for name, v in pairs(t) do
    if type(v) == "function" and type(name) == "string" and not (skip and skip(name)) then
      have[prefix .. name] = true
    end
  end
end
local function private(name) return name:sub(1, 1) == "_" end

functions_of(_G, "core:", function(name) return LUA_GLOBALS[name] end)
local parley = require "parley"
-- expect, on and off join the connection methods when parley.core loads (a connection loads
-- it when first asked for one of them).
require "parley.core"
functions_of(parley, "parley.")
functions_of(parley.conn_methods, "c:")
functions_of(parley.listener_methods, "listener:")
functions_of(parley.task_methods, "task:")
-- A test file's globals: those of its environment beyond parley's.
local env = require("parley.testrun").file_env { cases = {}, before = {}, after = {},
                                                 before_all = {}, after_all = {} }
for name, v in pairs(env) do
  if type(v) == "function" and rawget(_G, name) == nil then have["test:" .. name] = true end
end
for _, mod in ipairs(PUBLIC) do
  functions_of(require("parley." .. mod), mod .. ".", private)
end
for _, proto in ipairs { "smtp", "pop3", "imap" } do
  functions_of(require("parley.session").classes[proto], proto .. ":")
end
local mech = require("parley.sasl").start("PLAIN", "user", "password")
functions_of(getmetatable(mech), "mech:", private)

for _, mock in ipairs(MOCKS) do
  functions_of(require("parley.mock." .. mock), "mock." .. mock .. ".", private)
end
local store = require("parley.mock.store").new()
functions_of(getmetatable(store), "store:", private)
local mock = require("parley.mock.smtp").start { store = store }
functions_of(getmetatable(mock), "mockserver:", private)
mock:stop()

-- The live objects answer to the methods too (not only the tables listing them).
local srv = listen { port = 0 }
local task = spawn(function() end)
for key in pairs(have) do
  local kind, name = key:match("^(%a+):(.+)$")
  if kind == "listener" then assert(type(srv[name]) == "function", "srv." .. name) end
  if kind == "task" then assert(type(task[name]) == "function", "task." .. name) end
end
task:join()
srv:close()

-- What lua-types/ declares.
local CLASS_KEY = {
  ["parley"] = "parley.", ["parley.Connection"] = "c:", ["parley.Listener"] = "listener:",
  ["parley.Task"] = "task:", ["parley.sasl.Mechanism"] = "mech:",
  ["parley.mock.Store"] = "store:", ["parley.mock.Server"] = "mockserver:",
}
for _, m in ipairs(MOCKS) do CLASS_KEY["parley.mock." .. m] = "mock." .. m .. "." end
for _, mod in ipairs(PUBLIC) do
  CLASS_KEY["parley." .. mod] = mod .. "."
  CLASS_KEY["parley." .. mod .. ".Session"] = mod .. ":"
end

local declared, where, problems = {}, {}, {}
local function declare(key, file, line)
  if declared[key] then
    problems[#problems + 1] = key .. " declared twice (" .. where[key] .. " and " .. file .. ")"
  end
  declared[key] = true
  where[key] = file .. ":" .. line
end
for _, file in ipairs(FILES) do
  local path = dir .. file .. ".lua"
  local f = assert(io.open(path, "r"), "cannot read " .. path)
  local locals, class, n = {}, nil, 0
  for line in f:lines() do
    n = n + 1
    class = line:match("^%-%-%-@class ([%w_.]+)") or class
    local var = line:match("^local ([%w_]+) = {}")
    if var and class then
      locals[var] = CLASS_KEY[class]
      if not locals[var] then problems[#problems + 1] = path .. ":" .. n .. ": unknown class " .. class end
      class = nil
    end
    local global = line:match("^function ([%w_]+)%(")
    if global then declare((file == "parley-test" and "test:" or "core:") .. global, file, n) end
    local obj, _, name = line:match("^function ([%w_]+)([.:])([%w_]+)%(")
    if not obj then
      local rhs
      obj, _, name, rhs = line:match("^([%w_]+)(%.)([%w_]+) = ([%a_][%w_]*)$")
      if rhs == "nil" or rhs == "true" or rhs == "false" then obj = nil end
    end
    if obj then
      local prefix = locals[obj]
      if not prefix then
        problems[#problems + 1] = path .. ":" .. n .. ": '" .. obj .. "' is not a ---@class local"
      else
        declare(prefix .. name, file, n)
      end
    end
  end
  f:close()
  -- The file must load as Lua (its functions are stubs: running it declares them only).
  assert(loadfile(path, "t", setmetatable({}, { __index = _G })))
end

local missing, extra = {}, {}
for key in pairs(have) do if not declared[key] then missing[#missing + 1] = key end end
for key in pairs(declared) do if not have[key] then extra[#extra + 1] = key .. " (" .. where[key] .. ")" end end
table.sort(missing)
table.sort(extra)
if #missing > 0 or #extra > 0 or #problems > 0 then
  fail("lua-types/ and the binary disagree.\n  exported but not declared: " ..
    (#missing > 0 and table.concat(missing, ", ") or "none") ..
    "\n  declared but not in the binary: " .. (#extra > 0 and table.concat(extra, ", ") or "none") ..
    (#problems > 0 and "\n  " .. table.concat(problems, "\n  ") or ""))
end
local count = 0
for _ in pairs(have) do count = count + 1 end
print("lua-types declares " .. count .. " functions")
