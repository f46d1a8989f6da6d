--- `parley send`: one message in one command (the swaks one-liner), built on parley.smtp.
--
-- The command line's options (src/cli/cmd_send.cpp) arrive as `args`; `script(o)` writes the
-- conversation script that does the submission, and `main` either prints it (`--script`) or
-- runs it. Running the printed script with `parley run` therefore does exactly what
-- `parley send` does: there is one code path, and it is a plain parley script.
--
-- @module parley.send

local parley = require "parley"

local M = {}

local function usage(msg)
  parley.raise(2, "script", "send: " .. msg)
end

-- --quit-after, as swaks names the points of a transaction, mapped to ours (in order).
local STEPS = { "banner", "first-ehlo", "tls", "ehlo", "auth", "mail", "rcpt" }
local STEP_NAMES = {
  CONNECT = "banner", BANNER = "banner", ["FIRST-HELO"] = "first-ehlo",
  ["FIRST-EHLO"] = "first-ehlo", ["FIRST-LHLO"] = "first-ehlo", STARTTLS = "tls", TLS = "tls",
  HELO = "ehlo", EHLO = "ehlo", LHLO = "ehlo", AUTH = "auth", MAIL = "mail", FROM = "mail",
  RCPT = "rcpt", TO = "rcpt",
}

local MIME_TYPES = {
  txt = "text/plain", csv = "text/csv", html = "text/html", htm = "text/html",
  pdf = "application/pdf", json = "application/json", zip = "application/zip",
  gz = "application/gzip", png = "image/png", jpg = "image/jpeg", jpeg = "image/jpeg",
  gif = "image/gif", eml = "message/rfc822",
}

local function list(v)
  local out = {}
  for item in tostring(v or ""):gmatch("[^\n]+") do out[#out + 1] = item end
  return out
end

-- "host", "host:port", "[v6]:port", "v6" -> host, port (number or nil)
local function split_server(s)
  local host, port = s:match("^%[(.+)%]:(%d+)$")
  if not host then host = s:match("^%[(.+)%]$") end
  if not host then
    local h, p = s:match("^([^:]+):(%d+)$")
    if h then host, port = h, p else host = s end
  end
  if host == "" then usage("--server wants HOST[:PORT], not " .. string.format("%q", s)) end
  port = port and tonumber(port)
  if port and (port < 1 or port > 65535) then usage("--server: port " .. port .. " is out of range") end
  return host, port
end

-- A Lua string literal; line ends as \n, not as an escaped line break.
local function q(v)
  return (string.format("%q", v):gsub("\\\n", "\\n"))
end

--- The options of the command line, checked, from `args`.
-- @return a table: host, port, tls ("none"|"starttls"|"implicit"), from, to (array), auth
--   (mechanism, "" for the best offered, or nil), user, ehlo, subject, body, body_file,
--   headers (array of {name, value}), attach (array of paths), quit_after, dsn, size,
--   eightbit, smtputf8, ca, sni, verify
function M.options(a)
  local o = {}
  o.tls = a.tls or "none"
  if o.tls ~= "none" and o.tls ~= "starttls" and o.tls ~= "implicit" then
    usage("tls must be none, starttls or implicit")
  end
  o.host, o.port = split_server(a.server or "127.0.0.1")
  o.port = o.port or (o.tls == "implicit" and 465 or 25)
  o.to = {}
  for _, t in ipairs(list(a.to)) do
    for addr in t:gmatch("[^,%s]+") do o.to[#o.to + 1] = addr end
  end
  if #o.to == 0 then usage("who to? (--to ADDRESS; several --to, or commas, for more)") end
  o.from = a.from
  if not o.from or o.from == "" then usage("who from? (--from ADDRESS)") end
  o.user = a.user
  if a.auth ~= nil then
    o.auth = tostring(a.auth):upper()
    if o.auth ~= "" and not require("parley.sasl").supported(o.auth) then
      usage("--auth: unknown mechanism " .. o.auth)
    end
  elseif o.user then
    o.auth = ""
  end
  if o.auth and not o.user then usage("--auth needs --user") end
  o.ehlo = a.ehlo
  o.subject = a.subject
  o.body, o.body_file = a.body, a.body_file
  if o.body and o.body_file then usage("give --body or --body-file, not both") end
  o.headers = {}
  for _, h in ipairs(list(a.header)) do
    local name, value = h:match("^([%w%-]+):%s*(.*)$")
    if not name then usage("--header wants \"Name: value\", not " .. q(h)) end
    o.headers[#o.headers + 1] = { name, value }
  end
  o.attach = list(a.attach)
  if a.quit_after then
    o.quit_after = STEP_NAMES[tostring(a.quit_after):upper()]
    if not o.quit_after then
      usage("--quit-after: one of CONNECT, BANNER, FIRST-EHLO, TLS, EHLO, AUTH, MAIL, RCPT; not " ..
        q(a.quit_after))
    end
    if o.quit_after == "auth" and not o.auth then usage("--quit-after AUTH without --auth") end
  end
  o.dsn = a.dsn and tostring(a.dsn):upper()
  if o.dsn and not o.dsn:match("^[%u,]+$") then usage("--dsn wants e.g. SUCCESS,FAILURE or NEVER") end
  o.size = a.size == "1"
  o.eightbit = a.eightbit == "1"
  o.smtputf8 = a.smtputf8 == "1"
  o.ca, o.sni = a.ca, a.sni
  o.verify = a.verify ~= "0"
  return o
end

--- The conversation script that does the submission `o` describes.
-- The password is never in it: the script reads `args.password` or PARLEY_PASSWORD.
function M.script(o)
  local L = {}
  local function add(fmt, ...) L[#L + 1] = select("#", ...) > 0 and string.format(fmt, ...) or fmt end
  local stop = 0
  for i, s in ipairs(STEPS) do if s == o.quit_after then stop = i end end
  local function reached(step)   -- whether `step` is past the --quit-after point
    if stop == 0 then return false end
    for i, s in ipairs(STEPS) do if s == step then return i > stop end end
    return false
  end

  add("-- Written by `parley send --script`; run it with `parley run FILE`.")
  add("-- host= and port= override the server%s.", o.auth and "; the password comes from " ..
    "password=... or from the environment variable PARLEY_PASSWORD" or "")
  add('local smtp = require "parley.smtp"')
  add('local mime = require "parley.mime"')
  add("")
  add("local host = args.host or %s", q(o.host))
  add("local port = tonumber(args.port) or %d", o.port)
  if o.auth and not reached("auth") then
    add("local password = args.password or (os.getenv(\"PARLEY_PASSWORD\") and " ..
      "secret(os.getenv(\"PARLEY_PASSWORD\")))")
    add("if not password then error(\"AUTH needs a password: password=... or PARLEY_PASSWORD\", 0) end")
  end
  add("")
  if not reached("mail") then
    if o.body_file or #o.attach > 0 then
      add("local function read_file(path)")
      add("  local f, err = io.open(path, \"rb\")")
      add("  if not f then error(err, 0) end")
      add("  local data = f:read(\"a\")")
      add("  f:close()")
      add("  return data")
      add("end")
    end
    -- The message is built first: --size declares its length in MAIL FROM.
    local function file_data(path)
      return string.format("read_file(%s)", q(path))
    end
    local body
    if o.body_file then body = file_data(o.body_file)
    else body = q(o.body or "This is a test message sent by parley send.\n") end
    add("local message = mime.build {")
    local headers, seen = {}, {}
    for _, h in ipairs(o.headers) do
      local lname = h[1]:lower()
      if lname == "subject" or lname == "from" or lname == "to" then seen[lname] = h[2]
      else headers[#headers + 1] = string.format("{ %s, %s }", q(h[1]), q(h[2])) end
    end
    add("  from = %s,", q(seen.from or o.from))
    if seen.to then add("  to = %s,", q(seen.to))
    else
      local tos = {}
      for _, t in ipairs(o.to) do tos[#tos + 1] = q(t) end
      add("  to = { %s },", table.concat(tos, ", "))
    end
    if seen.subject or o.subject then add("  subject = %s,", q(seen.subject or o.subject))
    else add("  subject = \"test \" .. mime.date(),") end
    add("  body = %s,", body)
    if #headers > 0 then add("  headers = { %s },", table.concat(headers, ", ")) end
    if #o.attach > 0 then
      add("  attachments = {")
      for _, path in ipairs(o.attach) do
        local name = path:match("([^/]+)$") or path
        local ext = name:match("%.(%w+)$")
        add("    { name = %s, type = %s, data = %s },", q(name),
          q(MIME_TYPES[ext and ext:lower() or ""] or "application/octet-stream"),
          file_data(path))
      end
      add("  },")
    end
    add("}")
  end
  local conn = { "host = host", "port = port" }
  if o.tls == "implicit" then conn[#conn + 1] = 'tls = "implicit"' end
  if o.ca then conn[#conn + 1] = "ca = " .. q(o.ca) end
  if o.sni then conn[#conn + 1] = "sni = " .. q(o.sni) end
  if not o.verify then conn[#conn + 1] = "verify = false" end
  add("local s = smtp.connect { %s }", table.concat(conn, ", "))
  local function done()
    add("s:quit()")
    return table.concat(L, "\n") .. "\n"
  end
  if reached("first-ehlo") then return done() end
  add("s:ehlo(%s)", o.ehlo and q(o.ehlo) or "")
  if o.tls == "starttls" then
    if reached("tls") then return done() end
    add("s:starttls { caps = false }")
    if reached("ehlo") then return done() end
    add("s:ehlo()")
  end
  if reached("auth") then return done() end
  if o.auth then
    add("s:auth(%s, %s, password)", o.auth == "" and "nil" or q(o.auth), q(o.user))
  end
  if reached("mail") then return done() end
  local mail = {}
  if o.size then mail[#mail + 1] = "size = #message" end
  if o.eightbit then mail[#mail + 1] = 'body = "8BITMIME"' end
  if o.smtputf8 then mail[#mail + 1] = "smtputf8 = true" end
  add("s:mail(%s%s)", q(o.from), #mail > 0 and ", { " .. table.concat(mail, ", ") .. " }" or "")
  if reached("rcpt") then return done() end
  for _, t in ipairs(o.to) do
    add("s:rcpt(%s%s)", q(t), o.dsn and ", { notify = " .. q(o.dsn) .. " }" or "")
  end
  if stop > 0 then return done() end
  add("local r = s:data(message)")
  add('print("sent" .. (r.queue_id and ", queued as " .. r.queue_id or ""))')
  return done()
end

--- `parley send`: prints the script (`args.print_script`) or runs it.
function M.main(a)
  local o = M.options(a)
  local text = M.script(o)
  if a.print_script == "1" then
    io.write(text)
    return
  end
  local chunk, err = load(text, "=parley send", "t")
  if not chunk then parley.raise(2, "script", "send: " .. err) end
  chunk()
end

return M
