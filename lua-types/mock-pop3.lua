---@meta parley.mock.pop3
-- lua-language-server definitions of parley.mock.pop3, the mock POP3 server (the options and the
-- server object are in mock-store.lua). Reference: README.md, "Mock servers".

---@class parley.mock.pop3
local pop3 = {}

--- Starts a mock POP3 server (in this process, on loopback by default).
---@param opts? parley.mock.Options
---@return parley.mock.Server
function pop3.start(opts) end

return pop3
