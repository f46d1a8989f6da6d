-- starttls_injection.lua: the STARTTLS injection attack (CVE-2011-0411). The server answers
-- STARTTLS with "220 go" and, in the same write, a "250 injected" that would be read as if it
-- came under TLS. The client's starttls must refuse with exit 3 ("STARTTLS refused"), name the
-- peer and show the injected bytes.
-- exit: 3
-- args: --timeout 5
-- stderr: starttls_injection\.lua:[0-9]+: STARTTLS refused: [0-9]+ byte\(s\) of plaintext arrived from 127\.0\.0\.1:[0-9]+ before the TLS handshake
-- stderr: 250 injected
-- stderr: CVE-2011-0411
-- within: 6

local srv = listen { host = "127.0.0.1", port = 0, tls = "starttls" }
spawn(function()
  local s = srv:accept()
  s:send("220 ready")
  assert(s:read_line() == "STARTTLS")
  s:send_raw("220 go\r\n250 injected\r\n")
  s:read_line(3)
end)

local c = connect("127.0.0.1", srv.port)
c:expect(220)
c:send("STARTTLS")
c:expect(220)
sleep(0.1) -- let the injected line arrive (it came in the same write, this is belt and braces)
c:starttls { ca_pem = srv.cert_pem }
print("not reached")
