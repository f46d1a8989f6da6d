-- secret_in_fail.lua: a secret is usable wherever a string is, fail() included: a message built
-- with a secret fails the run as an expectation failure (exit 1) with the value masked, not as
-- "bad argument to 'fail'".
-- exit: 1
-- args: --timeout 2
-- params: password=hunter2
-- stderr: secret_in_fail\.lua:[0-9]+: login refused for password \*\*\*\*
-- stderr-not: hunter2
-- stderr-not: bad argument
-- within: 3

fail("login refused for password " .. args.password)
