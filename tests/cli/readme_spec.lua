-- The README is the tutorial: every ```lua block in it is a complete program
-- that runs under asched (virtual time, so the waiting costs nothing), and
-- where an unlabelled ``` block follows it closely, that block is its output.
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

describe("the README's Lua examples", function()
  local blocks = lua_blocks(readme)

  it("are there", function()
    assert.is_true(#blocks >= 10, #blocks .. " blocks")
  end)

  for _, block in ipairs(blocks) do
    it("run without error: the block at line " .. block.start, function()
      local r = support.run({script = table.concat(block.code, "\n") .. "\n", options = {"--virtual-time"}})
      assert.equal(0, r.status, support.describe(r))
      if block.output then
        assert.equal(block.output, r.stdout)
      end
    end)
  end
end)
