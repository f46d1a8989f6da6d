-- scripts/bench (6): one TLS handshake (implicit TLS, TLS 1.3), then close.
local c = connect { host = "127.0.0.1", port = args.port, tls = true, verify = false }
c:close()
