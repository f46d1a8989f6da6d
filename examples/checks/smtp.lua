-- Ready checks for an SMTP server that receives mail from the Internet (an MX, port 25).
--
--   parley test examples/checks/smtp.lua host=mail.example.net [smtp_port=25] [ca=FILE]
--       [sni=NAME] [days=21] [relay_to=someone@elsewhere.example] [known_user=postmaster]
--
-- Each failure says what is wrong and why it matters.
local smtp = require "parley.smtp"
local checks = require "parley.checks"

local host = checks.host("smtp")
local port = checks.port("smtp", 25)

local function session()
  return checks.plain(host, port, function()
    return smtp.connect { host = host, port = port, helo = "parley-check.invalid", timeout = checks.wait() }
  end)
end

test("greeting is a well-formed 220 naming the server", function()
  local c, r = checks.plain(host, port, function()
    local c = connect { host = host, port = port, timeout = checks.wait() }
    return c, c:expect {
      { 220 },
      { "5xx", function(r) fail("the server refuses connections from here: " .. r.code .. " " .. r.text) end },
    }
  end)
  expect_eq(r.violations, nil, "the greeting breaks the reply grammar")
  expect_match(r.lines[1], "^[%w%-]+[%.%w%-]*", "RFC 5321 wants the greeting to start with the server's name")
  c:send("QUIT")
  c:expect(221)
  c:close()
end)

test("EHLO is answered with a well-formed 250 reply", function()
  local s = session()
  local lines = s.caps_list or {}
  expect_true(#lines > 0, "EHLO lists no extension at all")
  expect_true(s.caps.ENHANCEDSTATUSCODES ~= nil or s.caps.PIPELINING ~= nil or s.caps.SIZE ~= nil,
    "EHLO lists none of the usual extensions (ENHANCEDSTATUSCODES, PIPELINING, SIZE)")
  s:quit()
end)

test("STARTTLS is offered", function()
  local s = session()
  if not s.caps.STARTTLS then
    fail("STARTTLS is not offered on port " .. port .. ": mail to this server travels in the " ..
      "clear, readable and changeable by anyone on the path")
  end
  s:quit()
end)

test("AUTH is not offered in the clear", function()
  local s = session()
  if s.caps.AUTH and next(s.caps.AUTH) then
    fail("AUTH is offered before STARTTLS on port " .. port .. ": clients may send their " ..
      "passwords unencrypted. Offer AUTH only under TLS (e.g. Postfix smtpd_tls_auth_only=yes).")
  end
  s:quit()
end)

test("relaying to other domains is refused", function()
  local s = session()
  s:mail(args.relay_from or "relay-check@parley-check.invalid")
  local r = s:rcpt(args.relay_to or "relay-check@relay-test.parley-check.invalid", { expect = { "4xx", "5xx", "2xx" } })
  if r.code // 100 == 2 then
    fail("the server accepts mail for a foreign domain from an unauthenticated client: it is an " ..
      "open relay, and spammers will use it (RCPT answered " .. r.code .. " " .. r.text .. ")")
  end
  capture("relay refusal", r.code .. " " .. (r.enhanced or ""))
  s:rset()
  s:quit()
end)

-- A user that surely does not exist, different on each run.
local function unknown_user()
  return string.format("parley-nosuchuser-%d%04d", os.time() % 100000, math.random(0, 9999))
end

local function answer(r)
  return r.code .. (r.enhanced and (" " .. r.enhanced) or "")
end

test("VRFY and EXPN do not confirm users", function()
  -- A known user (postmaster must exist, RFC 5321 section 4.5.1) and an unknown one: any
  -- difference between the two answers tells an attacker which names exist.
  local known = args.known_user or "postmaster"
  local unknown = unknown_user()
  local s = session()
  for _, cmd in ipairs { "VRFY", "EXPN" } do
    local any = { expect = { "2xx", "3xx", "4xx", "5xx" } }
    local rk = s:command(cmd .. " " .. known, any)
    local ru = s:command(cmd .. " " .. unknown, any)
    capture(cmd, answer(rk) .. " / " .. answer(ru))
    if rk.code == 250 or rk.code == 251 then
      fail(cmd .. " confirms addresses (" .. cmd .. " " .. known .. " answered " .. rk.code .. " " ..
        rk.text .. "): anyone can harvest valid addresses for spam and password guessing. " ..
        "Disable it (Postfix disable_vrfy_command=yes).")
    end
    if answer(rk) ~= answer(ru) then
      fail(cmd .. " tells users apart: " .. cmd .. " " .. known .. " answered " .. answer(rk) ..
        " but " .. cmd .. " " .. unknown .. " answered " .. answer(ru) .. " (" .. ru.text ..
        "), so probing names lists the users that exist. Answer every " .. cmd .. " the same " ..
        "way or disable it (Postfix disable_vrfy_command=yes).")
    end
  end
  s:quit()
end)

test("a size limit is advertised and enforced", function()
  local s = session()
  local limit = tonumber(s.caps.SIZE)
  if not limit or limit == 0 then
    fail("EHLO advertises no SIZE limit (RFC 1870): clients learn only after sending a whole " ..
      "message that it is too big, and the server may be flooded with huge messages")
  end
  capture("size limit", limit)
  local r = s:mail("size-check@parley-check.invalid", { size = limit + 1, expect = { "5xx", "4xx", "2xx" } })
  if r.code // 100 == 2 then
    fail("MAIL FROM with SIZE=" .. (limit + 1) .. ", above the advertised " .. limit ..
      ", was accepted: the limit is not enforced at the envelope (RFC 1870 wants 552)")
  end
  s:rset()
  s:quit()
end)

local function starttls_with(max)
  local s = session()
  s:starttls(checks.tls_options(host, { tls_max = max, verify = false }))
  s:quit()
end

test("TLS 1.0 and 1.1 are refused", function()
  checks.old_tls_refused("STARTTLS on port " .. port, starttls_with)
end)

test("the certificate is valid, matches the name and is not about to expire", function()
  local s = session()
  s:starttls(checks.tls_options(host, { verify = false }))
  checks.certificate(s.conn, "STARTTLS on port " .. port, capture)
  s:quit()
end)
