-- io_dns_spec.lua -- asched.dns.resolve: a host name's addresses from the
-- system resolver (uv_getaddrinfo on the libuv pool), an unknown name as an
-- IOError with its code, and a cancelled caller let go at once (issue 20).
-- Only names the machine answers itself: localhost, literals, and the
-- reserved `.invalid` top-level domain (RFC 6761), which never resolves.
local helpers = require("spec.helpers")
local error_of, assert_error_named = helpers.error_of, helpers.assert_error_named
local resolve = asched.dns.resolve

-- Fills the libuv pool with to_thread jobs that block until `flag` exists
-- (at most 10 s): a job queued behind them waits. Returns the jobs.
local function block_the_pool(flag)
  local jobs = {}
  for i = 1, tonumber(os.getenv("UV_THREADPOOL_SIZE")) or 4 do
    jobs[i] = asched.spawn(asched.to_thread, function(path)
      for _ = 1, 1000 do
        local f = io.open(path)
        if f then f:close() return true end
        os.execute("sleep 0.01")
      end
      return false
    end, flag)
  end
  asched.sleep(0)
  return jobs
end

describe("asched.dns.resolve", function()
  after_each(helpers.cancel_leftovers)

  it("resolves localhost to a list of address strings that holds 127.0.0.1", function()
    local addresses = resolve("localhost")
    assert.is_true(#addresses >= 1)
    local seen, has_ipv4 = {}, false
    for _, address in ipairs(addresses) do
      assert.is_string(address)
      assert.is_nil(seen[address], address .. " is listed twice")
      seen[address] = true
      has_ipv4 = has_ipv4 or address == "127.0.0.1"
    end
    assert.is_true(has_ipv4, "127.0.0.1 not in " .. table.concat(addresses, ", "))
  end)

  it("returns an address literal as itself, IPv4 and IPv6", function()
    assert.same({"127.0.0.1"}, resolve("127.0.0.1"))
    assert.same({"::1"}, resolve("::1"))
  end)

  it("raises an IOError with libuv's code for a name that does not exist", function()
    local err = error_of(resolve, "no-such-host.invalid")
    assert_error_named("IOError", err)
    assert.is_string(err.code)
    assert.matches("^EAI_", err.code)
    assert.matches("dns.resolve no-such-host.invalid: ", err.message, 1, true)
  end)

  it("is cancelled at its first suspension by an expired asched.timeout", function()
    assert_error_named("TimeoutError", error_of(asched.timeout, 0, resolve, "localhost"))
    assert.same({"127.0.0.1"}, resolve("127.0.0.1"))     -- and the next one works
  end)

  it("lets a cancelled caller go at once, while its job still waits for a pool thread", function()
    local flag = os.tmpname()
    os.remove(flag)
    local jobs = block_the_pool(flag)
    local caller = asched.spawn(resolve, "localhost")
    asched.sleep(0)
    caller:cancel()
    assert_error_named("CancelledError", error_of(caller.await, caller))
    for _, job in ipairs(jobs) do assert.is_false(job:done()) end   -- the pool was still full
    local f = assert(io.open(flag, "w"))                              -- not fs: it needs the pool
    f:close()
    for _, job in ipairs(jobs) do assert.is_true(job:await()) end
    os.remove(flag)
    assert.same({"127.0.0.1"}, resolve("127.0.0.1"))
  end)

  it("rejects bad arguments in Lua's style", function()
    assert.matches("bad argument #1 to 'resolve' %(string expected, got number%)",
      error_of(function() resolve(5) end))
    assert.matches("bad argument #1 to 'resolve' %(string expected, got no value%)",
      error_of(function() resolve() end))
    assert.matches("bad argument #1 to 'resolve' %(host name contains a zero byte%)",
      error_of(function() resolve("localhost\0.invalid") end))
  end)
end)
