--- SASL on the server side of the mock servers: PLAIN (with the authorization identities
-- `act_as` allows), LOGIN and CRAM-MD5 against the mock's users. Part of the mock servers
-- (`session:sasl` in `parley.mock.server`).
-- @module parley.mock.sasl

local crypto = require "parley.crypto"
local scan = require "parley.mock.scan"

local M = {}

--- Runs a SASL exchange for a session of a mock. `challenge(bytes)` sends a challenge (the
-- protocol encodes it) and returns the client's answer line. `initial` is the initial
-- response, if one came.
-- @return the user name, or nil and "cancelled" | "malformed" | "failed" | "unsupported" |
--   "authzid"
function M.exchange(self, mech, initial, challenge)
  mech = mech:upper()
  local function decode(line)
    if line == "*" then return nil, "cancelled" end
    if line == "=" or line == "" then return "" end
    local raw = crypto.b64decode(line)
    if not raw then return nil, "malformed" end
    return raw
  end
  local srv = self.server
  if mech == "PLAIN" then
    local resp = initial
    if resp == nil then resp = challenge("") end
    local raw, err = decode(resp)
    if not raw then return nil, err end
    local authz, user, pass = raw:match("^([^%z]*)%z([^%z]*)%z([^%z]*)$")
    if not user then return nil, "malformed" end
    self.sasl_user = user
    local who, why = srv:authenticate(user, pass)
    if not who or authz == "" or authz:lower() == who:lower() then return who, why end
    -- an authorization identity other than the one authenticated: only when allowed
    local target = srv:may_act_as(who, authz)
    if target then
      self:log(who .. " acts as " .. target)
      return target
    end
    self:log(who .. " may not act as " .. scan.shown(authz))
    return nil, "authzid"
  elseif mech == "LOGIN" then
    local user, err
    if initial ~= nil then
      user, err = decode(initial)
    else
      user, err = decode(challenge("Username:"))
    end
    if not user then return nil, err end
    self.sasl_user = user
    local pass
    pass, err = decode(challenge("Password:"))
    if not pass then return nil, err end
    return srv:authenticate(user, pass)
  elseif mech == "CRAM-MD5" then
    local ch = string.format("<%d.%d@%s>", math.random(1, 999999999), os.time(), srv.hostname)
    local raw, err = decode(challenge(ch))
    if not raw then return nil, err end
    local user, digest = raw:match("^(.+) (%x+)$")
    if not user then return nil, "malformed" end
    self.sasl_user = user
    local pass = srv:password(user)
    if pass and crypto.hex(crypto.hmac("md5", pass, ch)):lower() == digest:lower() then
      return user
    end
    return nil, "failed"
  end
  return nil, "unsupported"
end

--- The SASL mechanisms the mocks speak.
M.MECHANISMS = { "PLAIN", "LOGIN", "CRAM-MD5" }

return M
