-- libfuzzer.lua -- the Lua side of the libFuzzer target (libfuzzer.c): the
-- same generator and checks as tests/fuzz/run, driven by the fuzzer's bytes.
-- Loaded once with the folder of tests/fuzz; returns the function the target
-- calls for each input: true when the program kept every invariant, else
-- false after writing the program and what it broke to stderr.
local dir = ...
local gen = dofile(dir .. "gen.lua")
local check = dofile(dir .. "check.lua")

return function(bytes)
  -- The first byte picks the schedule (FIFO or one of three seeds), the
  -- rest are the generator's choices.
  local schedule = (bytes:byte(1) or 0) % 4
  local source = gen.render(gen.generate(gen.from_bytes(bytes:sub(2))))
  local options = {virtual_time = true, seed = schedule > 0 and schedule or nil}
  local broken = asched.run(options, check.run, asched, source, "fuzz-input")
  if #broken == 0 then return true end
  io.stderr:write("-- a program that broke an invariant", schedule > 0 and " under seed " .. schedule or "", ":\n",
                  source, "\n-- broken:\n", table.concat(broken, "\n"), "\n")
  return false
end
