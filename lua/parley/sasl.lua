--- SASL mechanisms as pure step functions, shared by SMTP, POP3 and IMAP.
--
-- A mechanism object knows nothing about the protocol that carries it: the protocol module
-- sends `m:initial()` (when the protocol allows an initial response), then feeds each server
-- challenge, already base64-decoded, to `m:step(challenge)` and sends back what it returns
-- (base64-encoding it itself). When the server reports success it calls `m:finish()`, which
-- for SCRAM insists that the server proved it knows the password.
--
-- Passwords and tokens are registered as secrets (see `secret`: they stay plain strings), and
-- so is every encoding computed from them (parley.crypto registers what it derives from a
-- secret), so transcripts show `****` instead of credentials while the wire gets the real bytes.
--
--     local sasl = require "parley.sasl"
--     local m = sasl.start("SCRAM-SHA-256", "alice", secret(args.password))
--     local first = m:initial()                 -- "n,,n=alice,r=..."
--     local final = assert(m:step(server_first)) -- "c=biws,r=...,p=..." (p= is masked)
--     assert(m:step(server_final))               -- checks v=, returns ""
--     assert(m:finish())
--
-- @module parley.sasl

local parley = require "parley"
local crypto = require "parley.crypto"

local M = {}

--- The mechanisms this module speaks, strongest first (the order `choose` prefers).
M.mechanisms = { "SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN", "LOGIN", "XOAUTH2",
                 "EXTERNAL", "ANONYMOUS" }

--- Highest iteration count accepted from a SCRAM server (pbkdf2 runs on the event loop).
M.MAX_SCRAM_ITERATIONS = 1000000

-- A value as a string registered as a secret.
local function as_secret(v)
  if v == nil then return nil end
  return parley.secret(tostring(v))
end

local function check_text(what, v)
  if v == nil then return end
  if tostring(v):find("%z") then
    parley.raise(2, "script", "sasl: the " .. what .. " holds a NUL byte")
  end
end

local Mech = {}
Mech.__index = Mech

--- The initial response, or nil when the mechanism starts with a server challenge.
-- Calling it tells the object that the response went out with the command; a protocol that
-- cannot send it there (IMAP without SASL-IR) instead calls `step("")` first and gets it then.
-- @return string, or nil
function Mech:initial()
  if self._initial == nil then return nil end
  self.initial_sent = true
  return self._initial(self)
end

--- Whether the mechanism has an initial response at all.
function Mech:has_initial()
  return self._initial ~= nil
end

--- Answers one server challenge (raw bytes, already base64-decoded).
-- @return the response (a string), or nil, a message and a kind ("protocol" for a
--   malformed challenge, "security" for a server that failed to prove itself)
function Mech:step(challenge)
  challenge = challenge or ""
  if self._initial and not self.initial_sent then
    self.initial_sent = true
    if challenge ~= "" then
      return nil, self.name .. ": the server sent a challenge before the initial response", "protocol"
    end
    return self._initial(self)
  end
  self.steps = self.steps + 1
  return self._step(self, challenge)
end

--- Called when the server reports success; `additional` is optional success data.
-- @return true, or nil and a message when the exchange is not acceptable (a SCRAM server that
--   never proved it knows the password)
function Mech:finish(additional)
  if self._finish then return self._finish(self, additional) end
  self.done = true
  return true
end

---------------------------------------------------------------------------------------------
-- PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login), CRAM-MD5 (RFC 2195)

local function plain(m)
  return (m.authzid or "") .. "\0" .. m.user .. "\0" .. m.pass
end

local function no_more(m, challenge)
  return nil, m.name .. ": unexpected challenge after the exchange was complete (" ..
    string.format("%q", challenge:sub(1, 60)) .. ")", "protocol"
end

local function login_step(m, challenge)
  if m.steps == 1 then return m.user end
  if m.steps == 2 then return m.pass end
  return no_more(m, challenge)
end

local function cram_step(m, challenge)
  if m.steps > 1 then return no_more(m, challenge) end
  if challenge == "" then return nil, "CRAM-MD5: the server sent an empty challenge", "protocol" end
  return m.user .. " " .. crypto.hex(crypto.hmac("md5", m.pass, challenge))
end

---------------------------------------------------------------------------------------------
-- XOAUTH2 (Google/Microsoft), EXTERNAL and ANONYMOUS (RFC 4422, RFC 4505)

local function xoauth2(m)
  return "user=" .. m.user .. "\1auth=Bearer " .. m.pass .. "\1\1"
end

-- After a failure the server sends a JSON error as a challenge; the client answers with an
-- empty response and the server then sends its final refusal.
local function xoauth2_step(m, challenge)
  if m.steps > 1 then return no_more(m, challenge) end
  m.error = challenge
  return ""
end

---------------------------------------------------------------------------------------------
-- SCRAM (RFC 5802, RFC 7677)

-- The saslname encoding of a user name: "=" and "," escaped.
local function saslname(s)
  return (s:gsub("=", "=3D"):gsub(",", "=2C"))
end

local function gs2_header(m)
  if m.authzid and m.authzid ~= "" then return "n,a=" .. saslname(m.authzid) .. "," end
  return "n,,"
end

local function scram_initial(m)
  m.cnonce = m.opts.nonce or (crypto.b64encode(crypto.random(18)))
  local name = saslname(m.user)
  if name ~= m.user and parley.is_secret(m.user) then parley.derived(name) end
  m.client_first_bare = "n=" .. name .. ",r=" .. m.cnonce
  return gs2_header(m) .. m.client_first_bare
end

-- "k=v,k=v" -> table; the first attribute's name is kept as `first`.
local function attributes(msg)
  local t, first = {}, nil
  for part in (msg .. ","):gmatch("([^,]*),") do
    local k, v = part:match("^(%a)=(.*)$")
    if not k then return nil end
    first = first or k
    if t[k] == nil then t[k] = v end
  end
  return t, first
end

local function scram_server_first(m, msg)
  local a, first = attributes(msg)
  if not a then return nil, m.name .. ": malformed server-first-message " .. string.format("%q", msg), "protocol" end
  if first == "m" then return nil, m.name .. ": the server requires an unsupported extension (m=)", "protocol" end
  if a.e then return nil, m.name .. ": the server refused: " .. a.e, "protocol" end
  local nonce, salt, iter = a.r, a.s and crypto.b64decode(a.s), tonumber(a.i or "")
  if not nonce or nonce:sub(1, #m.cnonce) ~= m.cnonce or #nonce <= #m.cnonce then
    return nil, m.name .. ": the server nonce does not extend the client nonce", "security"
  end
  if not salt or salt == "" then return nil, m.name .. ": the server sent no usable salt (s=)", "protocol" end
  if not iter or iter ~= math.floor(iter) or iter < 1 then
    return nil, m.name .. ": bad iteration count (i=" .. tostring(a.i) .. ")", "protocol"
  end
  if iter > (m.opts.max_iterations or M.MAX_SCRAM_ITERATIONS) then
    return nil, string.format("%s: the server asks for %d iterations, more than the limit of %d",
      m.name, iter, m.opts.max_iterations or M.MAX_SCRAM_ITERATIONS), "protocol"
  end
  return nonce, salt, math.tointeger(iter)
end

local function scram_final(m, server_first)
  local nonce, salt, iter = scram_server_first(m, server_first)
  if not nonce then return nil, salt, iter end
  local h = m.digest
  local salted = crypto.pbkdf2(h, m.pass, salt, iter, #crypto.digest(h, ""))
  local client_key = crypto.hmac(h, salted, "Client Key")
  local stored_key = crypto.digest(h, client_key)
  local without_proof = "c=" .. crypto.b64encode(gs2_header(m)) .. ",r=" .. nonce
  local auth_message = m.client_first_bare .. "," .. server_first .. "," .. without_proof
  local signature = crypto.hmac(h, stored_key, auth_message)
  local proof = crypto.xor(client_key, signature)
  local server_key = crypto.hmac(h, salted, "Server Key")
  m.server_signature = crypto.b64encode(crypto.hmac(h, server_key, auth_message))
  return without_proof .. ",p=" .. crypto.b64encode(proof)
end

local function scram_verify(m, msg)
  local a = attributes(msg)
  if not a then return nil, m.name .. ": malformed server-final-message", "protocol" end
  if a.e then return nil, m.name .. ": the server refused: " .. a.e, "protocol" end
  if a.v ~= m.server_signature then
    return nil, m.name .. ": the server signature does not match: the server does not know " ..
      "the password (or someone in between is answering for it)", "security"
  end
  m.verified = true
  return ""
end

local function scram_step(m, challenge)
  if m.steps == 1 then return scram_final(m, challenge) end
  if m.steps == 2 then return scram_verify(m, challenge) end
  return no_more(m, challenge)
end

-- Success without (or with) the server-final message as additional data.
local function scram_finish(m, additional)
  if not m.verified and additional and additional ~= "" and m.steps == 1 then
    m.steps = 2
    local ok, err = scram_verify(m, additional)
    if not ok then return nil, err end
  end
  if not m.verified then
    return nil, m.name .. ": the server reported success without proving it knows the " ..
      "password (no valid server signature)"
  end
  m.done = true
  return true
end

---------------------------------------------------------------------------------------------

local defs = {
  PLAIN = { initial = plain, step = no_more, secret = true },
  LOGIN = { step = login_step, secret = true },
  ["CRAM-MD5"] = { step = cram_step, secret = true },
  XOAUTH2 = { initial = xoauth2, step = xoauth2_step, secret = true },
  EXTERNAL = { initial = function(m) return m.authzid or "" end, step = no_more },
  ANONYMOUS = { initial = function(m) return m.user or "" end, step = no_more },
  ["SCRAM-SHA-256"] = { initial = scram_initial, step = scram_step, finish = scram_finish,
                        digest = "sha256", secret = true },
  ["SCRAM-SHA-1"] = { initial = scram_initial, step = scram_step, finish = scram_finish,
                      digest = "sha1", secret = true },
}

--- Whether this module speaks `mech` (case-insensitive).
function M.supported(mech)
  return type(mech) == "string" and defs[mech:upper()] ~= nil
end

--- The strongest mechanism that both sides speak.
-- @param offered a set (`{PLAIN=true}`) or an array of names, as the server advertised them
-- @param preference optional array of names to try in order (default `sasl.mechanisms`)
-- @return a mechanism name, or nil
function M.choose(offered, preference)
  local set = {}
  for k, v in pairs(offered or {}) do
    if type(k) == "string" and v then set[k:upper()] = true end
    if type(v) == "string" then set[v:upper()] = true end
  end
  for _, name in ipairs(preference or M.mechanisms) do
    if set[name:upper()] and defs[name:upper()] then return name:upper() end
  end
  return nil
end

--- Starts a client exchange.
-- @param mech mechanism name (case-insensitive): PLAIN, LOGIN, CRAM-MD5, XOAUTH2,
--   SCRAM-SHA-256, SCRAM-SHA-1, EXTERNAL, ANONYMOUS
-- @param user user name (for XOAUTH2 the account; for ANONYMOUS the trace text)
-- @param pass password (or the OAuth bearer token for XOAUTH2); registered as a secret
-- @param opts optional `{authzid=, nonce=, max_iterations=}` (nonce: a fixed SCRAM client
--   nonce, for tests)
-- @return the mechanism object (`initial`, `step`, `finish`, fields `name`, `done`, `verified`)
function M.start(mech, user, pass, opts)
  if type(mech) ~= "string" or not defs[mech:upper()] then
    parley.raise(2, "script", "sasl: unknown mechanism " .. tostring(mech) ..
      " (known: " .. table.concat(M.mechanisms, ", ") .. ")")
  end
  local name = mech:upper()
  local def = defs[name]
  opts = opts or {}
  if def.secret and pass == nil then
    parley.raise(2, "script", "sasl: " .. name .. " needs a password (or token)")
  end
  check_text("user name", user)
  check_text("password", pass)
  local m = setmetatable({
    name = name, user = user or "", pass = as_secret(pass),
    authzid = opts.authzid, opts = opts, digest = def.digest, steps = 0,
    _initial = def.initial, _step = def.step, _finish = def.finish,
  }, Mech)
  return m
end

return M
