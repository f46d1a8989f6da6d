--- What every script has from its first line: print (secrets masked) and require (a short
-- message for a module that does not exist); `step` is C (src/script/bind_core.cpp). Loaded at
-- every start, so kept small: parley.core (expect, on, off) is loaded when a connection is
-- first asked for one of them, or by the modules that require it.
-- @module parley.prelude

local parley = require "parley"

--- print, with every secret masked: a value the script read back from a server (a password
-- echoed by a mock, say) must not leak through a debugging print either.
local raw_print = print
function print(...)
  local n = select("#", ...)
  local parts = {}
  for i = 1, n do parts[i] = parley.mask(tostring((select(i, ...)))) end
  raw_print(table.unpack(parts, 1, n))
end

--- require, with a short message for a module that does not exist: the modules parley has
-- (and the closest name) instead of every path searched (parley.core builds it).
local raw_require = require

--- The message for a name that a connection, listener or task has neither as a method nor as
-- a field (the bindings raise it): parley.session's, as for the sessions.
function parley.no_method(label, name, names, fields)
  return raw_require("parley.session").no_method(label, name, names, fields)
end

local function parley_require(name)
  local loaded = package.loaded[name]
  if loaded ~= nil then return loaded end
  local ok, mod, extra = pcall(raw_require, name)
  if ok then return mod, extra end
  if type(name) == "string" and type(mod) == "string" and
     mod:find("module '" .. name .. "' not found:", 1, true) == 1 then
    error(raw_require("parley.core").module_not_found(name, mod), 2)
  end
  error(mod, 0)
end
rawset(_G, "require", parley_require)

return {}
