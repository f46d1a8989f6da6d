--- What the protocol modules share to open a session's connection: the TLS mode and options
-- they accept, and the connect() call built from them.
-- @module parley.dial

local parley = require "parley"

local M = {}

local TLS_KEYS = { "sni", "verify", "ca", "ca_pem", "cert", "key", "tls_min", "tls_max" }

--- The TLS options among `opts` (what `connect` and `c:starttls` take).
function M.tls_options(opts)
  local t = {}
  for _, k in ipairs(TLS_KEYS) do t[k] = opts[k] end
  return t
end

-- Whether `opts` holds none of the TLS options.
local function no_tls_options(opts)
  return opts.sni == nil and opts.verify == nil and opts.ca == nil and opts.ca_pem == nil and
    opts.cert == nil and opts.key == nil and opts.tls_min == nil and opts.tls_max == nil
end

--- The TLS options of a session, overridden by those given to its starttls.
function M.merged_tls_options(session_opts, opts)
  local t = M.tls_options(session_opts)
  for k, v in pairs(M.tls_options(opts or {})) do t[k] = v end
  return t
end

--- `false`, "implicit" or "starttls" from a `tls=` option (true means implicit).
function M.tls_mode(v, what)
  if v == nil or v == false or v == "none" then return false end
  if v == true or v == "implicit" then return "implicit" end
  if v == "starttls" then return "starttls" end
  parley.raise(2, "script", what .. ": tls must be false, \"starttls\" or \"implicit\", not " .. tostring(v))
end

--- Same as `parley.session.class` (kept for modules written against it).
function M.session_class(name)
  return require("parley.session").class(name)
end

--- Opens the connection of a protocol session.
-- @param opts the options given to `PROTOCOL.connect` (`host`, `port`, `path`, `tls`, TLS
--   options, `timeout`, `transcript`)
-- @param proto `{ name = "imap", framing = "imap", port = 143, implicit_port = 993 }`
-- @return the connection and the TLS mode
function M.open(opts, proto)
  local tls = opts.tls
  local mode = false
  if tls ~= nil and tls ~= false then mode = M.tls_mode(tls, proto.name .. ".connect") end
  local host, port = opts.host, opts.port
  if not mode and proto.framing == "smtp" and opts.path == nil and opts.timeout == nil and
     opts.transcript == nil and (host == nil or type(host) == "string") then
    local port_type = type(port)  -- (one call of type() for the two tests)
    if (port_type == "number" or port_type == "string" or port == nil) and no_tls_options(opts) then
      -- What connect(host, port) does already (SMTP framing, the default timeout, no TLS): a
      -- load test opens thousands of connections a second, and the bindings read a table of
      -- options field by field.
      return parley.connect(host or "127.0.0.1", port or proto.port), mode
    end
  end
  local spec = M.tls_options(opts)
  spec.host = opts.host or (not opts.path and "127.0.0.1" or nil)
  spec.path = opts.path
  spec.port = opts.port or (not opts.path and (mode == "implicit" and proto.implicit_port or proto.port) or nil)
  spec.timeout, spec.framing, spec.tls = opts.timeout, proto.framing, mode == "implicit"
  spec.transcript = opts.transcript
  return parley.connect(spec), mode
end

return M
