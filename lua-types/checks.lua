---@meta parley.checks
-- lua-language-server definitions of parley.checks (the ready checks in examples/checks/).
-- Reference: docs/checks.md.

---@class parley.checks
local checks = {}

--- The host to check (`host=`, or `NAME_host=` for one service), failing clearly without one.
---@param service string
---@return string
function checks.host(service) end

--- The port of a service: `NAME_port=` or its standard number.
---@param service string
---@param default integer
---@return integer
function checks.port(service, default) end

--- TLS options from the arguments: `ca=FILE` (else the system's CAs), `sni=NAME` (the name the
--- certificate must carry; default the host), `verify=false` to look without checking.
---@param host string
---@param extra? table
---@return parley.TlsOptions
function checks.tls_options(host, extra) end

--- The deadline of each wait of a check's conversation: a third of the case's (--timeout), so
--- that a server that never answers is reported with the reason before the case's own deadline
--- cuts it short.
---@return number
function checks.wait() end

--- Days before expiry below which a certificate fails (`days=`, default 21).
---@return number
function checks.min_days() end

--- What to do about a certificate that failed verification: for a name mismatch the names it
--- carries and `sni=`; for an unknown issuer (a private CA) `ca=`; `verify=false` always.
---@param tls parley.TlsInfo
---@param checked? boolean
---@return string
function checks.verify_advice(tls, checked) end

--- Fails unless the certificate facts of `c.tls` pass: verified against the trusted CAs,
--- matching the name, and not expiring within min_days().
---@param c parley.Connection|{tls: parley.TlsInfo?}
---@param what string
---@param record? fun(name: string, value: any) function(name, value), e.g. the test file's `capture`
function checks.certificate(c, what, record) end

--- Fails when `handshake(tls_max)` succeeds with TLS 1.1 or older: `handshake` opens the
--- service and runs the TLS handshake with the given maximum version (nil: the defaults). The
--- premise is checked first: when no handshake succeeds at all, not even with TLS 1.2 or 1.3,
--- refusing the old versions proves nothing, and the check fails saying why.
---@param what string
---@param handshake fun(tls_max: parley.TlsVersion?): ...
function checks.old_tls_refused(what, handshake) end

--- Opens a plaintext session with `open()` (and returns its results), failing at once (with the
--- advice) when an earlier case found that `host:port` speaks TLS first. When `open` times out,
--- a probe tells whether the port speaks TLS first, and the failure says so.
---@param host string
---@param port integer
---@param open fun(): ...
---@return any ...
function checks.plain(host, port, open) end

--- Whether a TLS handshake on `host:port` succeeds (the certificate unchecked): a probe for a
--- port that said nothing to a plaintext client.
---@param host string
---@param port integer
---@return boolean
function checks.speaks_tls_first(host, port) end

return checks
