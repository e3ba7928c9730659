-- The README is the tutorial: every ```lua block in it is a complete program
-- that runs under asched, and where an unlabelled ``` block follows it
-- closely, that block is its output. An example says what it means: it prints
-- exactly that both with --virtual-time and in real time (so what it prints
-- must not hang on how fast the clock or the machine runs; times are printed
-- rounded), with nothing on stderr, since the README shows none. A block with
-- no output shown must at least print the same both ways. The real-time runs
-- take as long as the examples sleep: about half a minute in all.
local here = debug.getinfo(1, "S").source:match("^@(.-)[^/]*$")
local support = dofile(here .. "support.lua")

local readme = assert(support.read(here .. "../../README.md"))

-- The ```lua blocks, each with the output block that follows within a few
-- lines of prose (or nil), and the line it starts on.
local function lua_blocks(text)
  local lines, blocks = {}, {}
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  local i = 1
  while i <= #lines do
    if lines[i] == "```lua" then
      local block = {start = i + 1, code = {}}
      i = i + 1
      while lines[i] ~= "```" do block.code[#block.code + 1] = lines[i]; i = i + 1 end
      local j = i + 1
      while j <= #lines and j <= i + 3 and not lines[j]:match("^```") do j = j + 1 end
      if lines[j] == "```" then
        local output = {}
        j = j + 1
        while lines[j] ~= "```" do output[#output + 1] = lines[j]; j = j + 1 end
        block.output = table.concat(output, "\n") .. "\n"
      end
      blocks[#blocks + 1] = block
    end
    i = i + 1
  end
  return blocks
end

-- The two ways every example runs; the first one's stdout stands in for a
-- missing output block when the second runs.
local MODES = {
  {name = "with --virtual-time", options = {"--virtual-time"}},
  {name = "in real time", options = {}},
}

describe("the README's Lua examples", function()
  local blocks = lua_blocks(readme)

  it("are there", function()
    assert.is_true(#blocks >= 10, #blocks .. " blocks")
  end)

  for _, block in ipairs(blocks) do
    local script = table.concat(block.code, "\n") .. "\n"
    local first   -- stdout of the first mode's run
    for m, mode in ipairs(MODES) do
      it(string.format("print what the README shows %s: the block at line %d", mode.name, block.start), function()
        local r = support.run({script = script, options = mode.options})
        local expected = block.output or first
        if m == 1 then first = r.stdout end
        assert.equal(0, r.status, support.describe(r))
        if expected then
          assert.equal(expected, r.stdout, string.format("the block at line %d prints, %s, not %s:\n%s",
            block.start, mode.name, block.output and "what the README shows" or ("what it prints " .. MODES[1].name),
            support.describe(r)))
        end
        assert.equal("", r.stderr, string.format(
          "the block at line %d writes on stderr, %s, what the README does not show:\n%s",
          block.start, mode.name, support.describe(r)))
      end)
    end
  end
end)
