-- Every other conversation raises an error object whose fields raise when read.
local n = ...
if n % 2 == 1 then
  error(setmetatable({}, { __index = function() error("hostile index") end }))
end
