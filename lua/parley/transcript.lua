--- Transcripts that run: a session pasted from a telnet guide (`> ` / `< `, `C:` / `S:`), a
-- parley transcript (`<-`, ` ->`, `<~`, ` ~>`, `===`, `[n]`, `-v` timestamps) or a swaks one
-- (`<-`, ` ->`, `<~`, ` ~>`, `===`, `***`) becomes a conversation plan: lines to send, replies
-- to check, the TLS upgrade and the AUTH exchange; `run` plays the plan against a server.
--
-- Replies are checked by their code (SMTP, a multi-line reply taken as one), their status
-- (POP3 `+OK`/`-ERR`) or their tagged status (IMAP, tags renumbered `t1`, `t2`, ...); with
-- `exact` the text is compared too, with the volatile words left out (see `M.normalize`).
--
--     local transcript = require "parley.transcript"
--     local plan = assert(transcript.parse(text, "session.txt"))
--     transcript.run(plan, { args = args, exact = false })
--
-- Parsing is one pass over the lines with anchored patterns: linear in the input.
-- @module parley.transcript

local parley = require "parley"
local parse = require "parley.transcript.parse"
local volatile = require "parley.transcript.volatile"
local run = require "parley.transcript.run"

local M = {}

-- Reading (parley.transcript.parse), the volatile words (parley.transcript.volatile) and
-- running a plan (parley.transcript.run).

--- Whether a text looks like a transcript: its notation ("telnet", "rfc", "parley", "swaks")
-- or nil (see parley.transcript.parse).
M.detect = parse.detect
--- Reads a transcript into a conversation plan, or nil and why (see parley.transcript.parse).
M.parse = parse.parse
--- Whether one word of a reply is volatile (see parley.transcript.volatile).
M.volatile = volatile.volatile
--- A reply's text with its volatile words replaced by `*`.
M.normalize = volatile.normalize
--- The argument that gives a conversation's port when `port=` does not (`smtp_port`,
-- `imaps_port`, ...; see parley.transcript.run).
M.port_arg = run.port_arg
--- Plays a plan against a server (see parley.transcript.run).
M.run = run.run

--- Reads a file and parses it.
-- @return the plan, or nil and a message
function M.load(path, opts)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local text = f:read("a")
  f:close()
  return M.parse(text, path, opts)
end

--- `parley run TRANSCRIPT`: `cfg` holds `path`, `exact`, `ask_password`, `proto`, and
-- `lua_error` (why the file is not a Lua script, shown when it is no transcript either).
function M.main(cfg)
  local plan, err = M.load(cfg.path, { proto = cfg.proto })
  if not plan then
    if cfg.lua_error and not err:find(":%d+: ") then
      err = cfg.lua_error .. "\n  (nor is it a transcript: " .. err .. ")"
    end
    parley.raise(2, "script", err)
  end
  M.run(plan, { args = parley.args, exact = cfg.exact, ask_password = cfg.ask_password })
end

return M
