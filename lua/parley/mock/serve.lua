--- `parley serve`: the mock SMTP, POP3 and IMAP servers on one shared store, until interrupted.
--
-- The command line builds the configuration and calls `main`. With `--script FILE`, the file
-- runs first; it receives a table `{ store = , users = , args = }` as `...` and may return
-- options for the mocks, per protocol or for all of them:
--
--     -- serve-hooks.lua: parley serve --smtp 2525 --user alice:pw --script serve-hooks.lua
--     local ctx = ...
--     return {
--       all  = { hostname = "mx.example.test" },
--       smtp = { on = { RCPT = function(cmd, s)
--                  if cmd.address:match("^spam@") then return "550 5.7.1 go away" end
--                end } },
--       imap = { faults = { FETCH = { delay = 1 } } },
--     }
--
-- `--fault [PROTO:]WHEN:WHAT[=VALUE][,WHAT[=VALUE]...]` adds a fault (see
-- `parley.mock.server`): `--fault smtp:RCPT:delay=2`, `--fault greeting:malformed=bare_lf`,
-- `--fault imap:tls:fail`, `--fault pop3:RETR:cut=20`. Without PROTO it applies to every
-- mock. In `raw=` values, `\r`, `\n`, `\t`, `\0`, `\\` and `\xHH` are escapes; `raw=` takes the
-- rest of the spec.
-- @module parley.mock.serve

local parley = require "parley"
local base = require "parley.mock.server"
local Store = require "parley.mock.store"

local M = {}

local PROTOCOLS = { "smtp", "pop3", "imap" }
local IS_PROTOCOL = { smtp = true, pop3 = true, imap = true }

local function usage(msg)
  parley.raise(2, "script", "serve: " .. msg)
end

local function unescape(s)
  return (s:gsub("\\(x%x%x)", function(h) return string.char(tonumber(h:sub(2), 16)) end)
           :gsub("\\([rnt0\\])", { r = "\r", n = "\n", t = "\t", ["0"] = "\0", ["\\"] = "\\" }))
end

local function fault_value(field, text, spec)
  local want = base.FAULT_FIELDS[field]
  if not want or field == "on" then
    usage("--fault " .. spec .. ": unknown fault \"" .. field ..
      "\" (delay, trickle, silent, hangup, cut, close, raw, malformed, size, fail, garbage, after, times, bare_lf_end)")
  end
  if want == "boolean" then
    if text == nil or text == "true" or text == "yes" or text == "1" then return true end
    if text == "false" or text == "no" or text == "0" then return false end
    usage("--fault " .. spec .. ": " .. field .. " is on or off (no value, or =true / =false)")
  elseif want == "number" then
    local n = tonumber(text or "")
    if not n or n < 0 then usage("--fault " .. spec .. ": " .. field .. " wants a number from 0 up") end
    return n
  end
  if text == nil then usage("--fault " .. spec .. ": " .. field .. " wants a value (" .. field .. "=...)") end
  return field == "raw" and unescape(text) or text
end

--- Parses one `--fault` spec.
-- @return the protocol (or nil for all), the key, and the fault table
function M.parse_fault(spec)
  local rest = spec
  local proto = rest:match("^(%a%w*):")
  if proto and IS_PROTOCOL[proto:lower()] then
    proto = proto:lower()
    rest = rest:sub(#proto + 2)
  else
    proto = nil
  end
  local when, what = rest:match("^([^:]+):(.+)$")
  if not when then
    usage("--fault " .. spec .. ": the form is [PROTO:]WHEN:WHAT[=VALUE] (e.g. smtp:RCPT:delay=2)")
  end
  local fault = {}
  while what and what ~= "" do
    local field, eq = what:match("^([%a_]+)(=?)")
    if not field then usage("--fault " .. spec .. ": cannot read \"" .. what .. "\"") end
    local after = what:sub(#field + #eq + 1)
    local value
    if eq == "=" then
      if field == "raw" then
        value, after = after, ""
      else
        value = after:match("^[^,]*")
        after = after:sub(#value + 1)
      end
    end
    fault[field] = fault_value(field, value, spec)
    if after ~= "" then
      what = after:match("^,(.*)$")
      if not what then usage("--fault " .. spec .. ": cannot read \"" .. after .. "\"") end
    else
      what = ""
    end
  end
  if fault.malformed and not base.MALFORMED[fault.malformed] then
    local names = {}
    for n in pairs(base.MALFORMED) do names[#names + 1] = n end
    table.sort(names)
    usage("--fault " .. spec .. ": unknown malformed reply \"" .. fault.malformed .. "\" (" ..
      table.concat(names, ", ") .. ")")
  end
  return proto, base.key(when), fault
end

local function merge(into, from)
  for k, v in pairs(from or {}) do
    if (k == "on" or k == "faults") and type(v) == "table" and type(into[k]) == "table" then
      local t = {}
      for kk, vv in pairs(into[k]) do t[kk] = vv end
      for kk, vv in pairs(v) do t[kk] = vv end
      into[k] = t
    else
      into[k] = v
    end
  end
  return into
end

local function say(line)
  io.stdout:write("parley serve: ", parley.mask(line), "\n")
  io.stdout:flush()
end

-- Writes the certificate the listeners use (made on the fly: its own CA) to `path`.
local function write_ca(path, pem)
  local f, err = io.open(path, "w")
  if not f then usage("--write-ca: cannot write " .. tostring(err)) end
  f:write(pem)
  f:close()
end

--- Runs the mock servers until the run is interrupted.
-- @param cfg `smtp`, `pop3`, `imap` (ports; none given: all three on kernel-chosen ports),
--   `tls` ("none", "starttls", "implicit"), `host`, `users` (a list of {name, password}),
--   `script` (a file), `faults` (a list of specs), `cert`, `key`, `cert_profile`,
--   `idle_timeout`, `max_connections` (for the three together), `allow_plaintext_auth`,
--   `write_ca` (a file)
function M.main(cfg)
  local users, names, seen = {}, {}, {}
  for _, u in ipairs(cfg.users or {}) do
    local low = u[1]:lower()
    if seen[low] then
      usage("--user " .. u[1] .. ": the user " .. seen[low] .. " exists already (user names are " ..
        "case-insensitive: " .. seen[low] .. " and " .. u[1] .. " would share one mailbox)")
    end
    seen[low] = u[1]
    -- the mocks register each password (and its encodings) as a secret: masked in every log
    users[u[1]] = u[2]
    names[#names + 1] = u[1]
  end
  local store = Store.new()
  local per = { smtp = {}, pop3 = {}, imap = {} }
  for _, spec in ipairs(cfg.faults or {}) do
    local proto, key, fault = M.parse_fault(spec)
    for _, p in ipairs(PROTOCOLS) do
      if proto == nil or proto == p then
        local f = per[p][key] or {}
        for k, v in pairs(fault) do f[k] = v end
        per[p][key] = f
      end
    end
  end
  local extra = {}
  if cfg.script then
    local chunk, err = loadfile(cfg.script)
    if not chunk then usage("cannot load the script: " .. tostring(err)) end
    local r = chunk { store = store, users = names, args = parley.args }
    if r ~= nil and type(r) ~= "table" then
      usage("the script " .. cfg.script .. " must return a table of options (or nothing)")
    end
    extra = r or {}
  end
  local any = cfg.smtp or cfg.pop3 or cfg.imap
  local log = nil
  if not parley.options.quiet then
    log = function(line)
      io.stdout:write(parley.mask(line), "\n")
      io.stdout:flush()
    end
  end
  local started = {}
  -- one limit for the three servers: the descriptors they draw on are the process's
  local limit = { max = cfg.max_connections or 1000, active = 0 }
  local ca_written = false
  for _, p in ipairs(PROTOCOLS) do
    if cfg[p] or not any then
      local opts = {
        host = cfg.host, port = cfg[p] or 0, tls = cfg.tls ~= "none" and cfg.tls or false,
        users = users, store = store, log = log, cert = cfg.cert, key = cfg.key,
        cert_profile = cfg.cert_profile, idle_timeout = cfg.idle_timeout,
        max_connections = limit, allow_plaintext_auth = cfg.allow_plaintext_auth,
      }
      merge(opts, extra.all)
      merge(opts, extra[p])
      if next(per[p]) then merge(opts, { faults = per[p] }) end
      local m = require("parley.mock." .. p).start(opts)
      started[#started + 1] = m
      local tls = opts.tls and (" (tls: " .. tostring(opts.tls) .. ")") or ""
      say(string.format("%s listening on %s:%d%s", p, m.host, m.port, tls))
      if cfg.write_ca and m.cert_pem and not ca_written then
        write_ca(cfg.write_ca, m.cert_pem)
        ca_written = true
        say("the CA of the TLS certificate is in " .. cfg.write_ca ..
          " (e.g. curl --cacert " .. cfg.write_ca .. ")")
      end
      local keys = {}
      for k in pairs(m.faults) do keys[#keys + 1] = k end
      table.sort(keys)
      if #keys > 0 then say(p .. " faults on: " .. table.concat(keys, ", ")) end
    end
  end
  if cfg.write_ca and not ca_written then
    usage("--write-ca: no listener uses TLS (add --tls starttls or --tls implicit)")
  end
  if cfg.tls == "starttls" and not cfg.allow_plaintext_auth then
    say("logins wait for STARTTLS / STLS (--allow-plaintext-auth to allow them in the clear)")
  end
  say(string.format("at most %d connections at once (--max-connections)", limit.max))
  if #names == 0 then
    say("no --user given: every recipient is refused and nobody can log in")
  else
    say("users: " .. table.concat(names, ", "))
  end
  while true do parley.sleep(3600) end
end

return M
