-- scripts/examples/tls_client.lua, run as a user runs it (under --virtual-time,
-- as scripts_spec.lua runs every script, and in real time): it makes its
-- certificates with openssl, serves HTTPS with http.listen and fetches a page
-- with tcp.connect over TLS, and leaves no scratch directory behind.
local here = debug.getinfo(1, "S").source:match("^@(.-)[^/]*$")
local support = dofile(here .. "support.lua")
local script = here .. "../../scripts/examples/tls_client.lua"

-- Runs the script with TMPDIR set to a directory of its own; returns the
-- result of support.run and what that directory still holds afterwards.
local function run(options)
  local tmp = support.tmpdir()
  local r = support.run({
    script = assert(support.read(script), "cannot read " .. script),
    script_name = "tls_client.lua",
    options = options,
    env = {TMPDIR = tmp},
  })
  local p = assert(io.popen("ls -A " .. support.quote(tmp)))
  local left = p:read("a")
  p:close()
  support.remove(tmp)
  return r, left
end

-- Asserts that `text` contains every needle (plain text), in this order.
local function assert_in_order(text, needles)
  local from = 1
  for _, needle in ipairs(needles) do
    local s, e = text:find(needle, from, true)
    assert(s, string.format("expected %q after position %d in:\n%s", needle, from, text))
    from = e + 1
  end
end

describe("scripts/examples/tls_client.lua", function()
  for _, mode in ipairs({{"--virtual-time"}, {}}) do
    local name = mode[1] and "under " .. mode[1] or "in real time"
    it("fetches a page over TLS from its own HTTPS server, " .. name, function()
      local r, left = run(mode)
      assert.equal(0, r.status, support.describe(r))
      assert.equal("", r.stderr, support.describe(r))
      assert.matches("HTTPS server on 127%.0%.0%.1, port %d+\n", r.stdout)
      assert_in_order(r.stdout, {
        "made a CA and a certificate for localhost with openssl\n",
        "HTTPS server on 127.0.0.1, port ",
        "trusting the system's CAs only: IOError: tcp.connect ",
        "certificate verify failed",
        "\nstatus: HTTP/1.1 200 OK\n",
        "body: hello over TLS, you asked for /\n",
      })
      assert.equal("", left, "the script left its scratch directory behind: " .. left)
    end)
  end
end)
