-- Ready checks for an IMAP server (port 143 with STARTTLS).
--
--   parley test examples/checks/imap.lua host=mail.example.net [imap_port=143] [imap_host=]
--       [ca=FILE] [sni=NAME] [days=21]
local checks = require "parley.checks"

local host = checks.host("imap")
local port = checks.port("imap", 143)

-- The bare engine is enough here: one tagged command at a time, patterns on the lines.
local function open()
  local c = connect { host = host, port = port }
  c:expect {
    { "^%* OK" },
    { "^%* PREAUTH", function() fail("the server logs clients in without credentials (PREAUTH)") end },
    { "^%* BYE", function(r) fail("the server refuses connections from here: " .. r.text) end },
  }
  return c
end

local function capabilities(c, tag)
  c:send(tag .. " CAPABILITY")
  local caps = c:expect("^%* CAPABILITY (.*)")
  c:expect("^" .. tag .. " OK")
  local set = {}
  for word in caps.text:gsub("^%* CAPABILITY ", ""):gmatch("%S+") do set[word:upper()] = true end
  return set
end

local function logout(c)
  c:send("z1 LOGOUT")
  c:expect { { "^%* BYE" }, { "^z1 OK" } }
  c:close()
end

local function starttls(c)
  c:send("s1 STARTTLS")
  c:expect("^s1 OK")
  c:starttls(checks.tls_options(host, { verify = false }))
end

test("capabilities are sane and STARTTLS is offered", function()
  local c = open()
  local caps = capabilities(c, "c1")
  expect_true(caps.IMAP4REV1 or caps.IMAP4REV2, "CAPABILITY lists neither IMAP4rev1 nor IMAP4rev2")
  if not caps.STARTTLS then
    fail("STARTTLS is not offered on port " .. port .. ": logins and mail would travel in the clear")
  end
  logout(c)
end)

test("plaintext login is refused before STARTTLS", function()
  local c = open()
  local caps = capabilities(c, "c1")
  if not caps.LOGINDISABLED then
    -- Made-up credentials: the answer tells whether the server reads logins in the clear.
    c:send('c2 LOGIN "parley-probe" "not-a-password"')
    local r = c:expect { { "^%*" }, { "^c2 " } }
    if r.text:match("^%*") then r = c:expect("^c2 ") end
    if not r.text:match("PRIVACYREQUIRED") then
      fail("the server accepts LOGIN before STARTTLS (no LOGINDISABLED; LOGIN answered \"" ..
        r.text .. "\"): passwords may travel in the clear. Require TLS for authentication " ..
        "(Dovecot: disable_plaintext_auth = yes, ssl = required).")
    end
  end
  logout(c)
end)

test("after STARTTLS, login is possible", function()
  local c = open()
  starttls(c)
  local caps = capabilities(c, "c1")
  expect_false(caps.LOGINDISABLED, "LOGINDISABLED is still advertised under TLS: users cannot log in")
  logout(c)
end)

test("TLS 1.0 and 1.1 are refused", function()
  checks.old_tls_refused("STARTTLS on port " .. port, function(max)
    local c = open()
    c:send("s1 STARTTLS")
    c:expect("^s1 OK")
    c:starttls(checks.tls_options(host, { tls_max = max, verify = false }))
    logout(c)
  end)
end)

test("the certificate is valid, matches the name and is not about to expire", function()
  local c = open()
  starttls(c)
  checks.certificate(c, "IMAP port " .. port, capture)
  logout(c)
end)
