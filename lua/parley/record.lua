--- `parley record`: a recording proxy. A real client connects to the listening port; parley
-- connects to the server and relays both ways, byte for byte as bytes arrive, and writes each
-- session out as a runnable script: Lua (the protocol library where it recognises the
-- commands, plain send/expect otherwise) or a transcript.
--
-- STARTTLS (and implicit TLS with `tls="implicit"`): parley ends TLS toward the client with a
-- certificate it makes (`write_ca` writes it, so the client can trust it) and speaks TLS to
-- the server with full verification. Credentials (AUTH, LOGIN, USER/PASS) are never written:
-- the scripts use `args.user` and `args.password`, and the run's own output masks them.
-- @module parley.record

local parley = require "parley"
local relay_mod = require "parley.relay"

local M = {}

---------------------------------------------------------------------------------------------
-- What a session said and its writing out (parley.record.tape)

local tape_mod = require "parley.record.tape"
--- A new tape (see parley.record.tape). `proto`: "smtp", "pop3", "imap" or nil (guessed).
M.tape = tape_mod.tape

---------------------------------------------------------------------------------------------
-- The proxy

local function write_file(path, text)
  local f, err = io.open(path, "wb")
  if not f then parley.raise(2, "script", "record: cannot write " .. path .. ": " .. tostring(err)) end
  f:write(text)
  f:close()
end

local function is_dir(path)
  local f = io.open(path .. "/.", "r")
  if f then
    f:close()
    return true
  end
  return false
end

-- Where session n goes.
function M.output_path(cfg, n)
  local o = cfg.output
  if not o then return nil end
  local ext = cfg.format == "transcript" and ".transcript" or ".lua"
  if o:sub(-1) == "/" or is_dir(o) then
    return (o:gsub("/$", "")) .. "/session-" .. n .. ext
  end
  return n == 1 and o or (o .. "." .. n)
end

local function relay_session(cfg, client, n)
  local tape = M.tape(cfg.proto)
  local server = parley.connect { host = cfg.to_host, port = cfg.to_port, framing = "line",
    tls = cfg.tls == "implicit", ca = cfg.ca, sni = cfg.sni }
  local relay = relay_mod.new(client, server)
  local conns = { client, server }
  while true do
    local side, bytes, why = relay:next(cfg.idle)
    if not side then
      parley.warn("record: session " .. n .. ": nothing from either side for " .. cfg.idle .. " s; closing it")
      break
    end
    if not bytes then
      if why ~= "eof" then parley.warn("record: session " .. n .. ": " .. why) end
      break
    end
    local lines, upgrade = tape:feed(side, bytes)
    for _, l in ipairs(lines) do relay:log(side, l .. "\n") end
    if upgrade then
      -- Nothing else may pass before the handshakes: the client waits for this reply.
      relay:stop()
      server:starttls { ca = cfg.ca, sni = cfg.sni }
      client:send_raw(bytes)
      client:starttls {}
      tape:mark_tls()
      relay = relay_mod.new(client, server)
    else
      relay:write(3 - side, bytes)
    end
  end
  relay:stop()
  for _, c in ipairs(conns) do
    if c:is_open() then pcall(c.close, c) end
  end
  return tape
end

local function save(cfg, tape, n)
  local meta = { when = os.date("!%Y-%m-%d %H:%M UTC"), to = cfg.to_host .. ":" .. cfg.to_port,
    implicit = cfg.tls == "implicit" }
  local text = cfg.format == "transcript" and tape:transcript(meta) or tape:lua(meta)
  local path = M.output_path(cfg, n)
  if path then
    write_file(path, text)
    io.stderr:write("parley record: session " .. n .. " written to " .. path .. "\n")
  else
    io.stdout:write(text)
    io.stdout:flush()
  end
end

--- Runs the proxy. `cfg`: listen_host, listen_port, to_host, to_port, proto, output,
-- format ("lua" or "transcript"), tls ("starttls" or "implicit"), ca, sni, write_ca,
-- sessions (stop after this many), idle (seconds of silence that end a session).
function M.main(cfg)
  cfg.idle = cfg.idle or 300
  local srv = parley.listen { host = cfg.listen_host or "127.0.0.1", port = cfg.listen_port or 0,
    tls = cfg.tls == "implicit" and "implicit" or "starttls" }
  if cfg.write_ca then write_file(cfg.write_ca, srv.cert_pem) end
  io.stderr:write(string.format("parley record: listening on %s:%d, relaying to %s:%d\n",
    cfg.listen_host or "127.0.0.1", srv.port, cfg.to_host, cfg.to_port))
  io.stderr:flush()
  local n = 0
  local tasks = {}
  while not cfg.sessions or n < cfg.sessions do
    local client = srv:accept(math.huge)
    n = n + 1
    local k = n
    tasks[#tasks + 1] = spawn(function()
      local ok, tape = pcall(relay_session, cfg, client, k)
      if not ok then
        parley.warn("record: session " .. k .. ": " .. tostring(tape))
        return
      end
      save(cfg, tape, k)
    end)
  end
  for _, t in ipairs(tasks) do t:join(math.huge) end
end

return M
