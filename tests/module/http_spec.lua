-- asched.http against servers on loopback, in real time (virtual time would
-- jump these servers' sleeps past requests in flight): the in-process server
-- written with asched.tcp.listen. No address outside 127.0.0.0/8.
local asched = require("asched")

-- Runs fn(base_url) as the main task beside an in-process HTTP server whose
-- GET /delay/D answers "slept D" after D seconds, /close closes the
-- connection halfway through a response, and anything else is a 404.
local function with_server(fn)
  return asched.run(function()
    local function respond(s, status, body)
      s:write(string.format("HTTP/1.1 %s\r\nContent-Length: %d\r\nX-Served-By: asched\r\n\r\n%s",
                            status, #body, body))
    end
    local connections = {}
    local server <close> = asched.tcp.listen("127.0.0.1", 0, function(s)
      local me = asched.current_task()
      connections[me] = true
      local request = s:read_line()
      while request do
        repeat local header = s:read_line() until header == nil or header == ""
        local path = request:match("^%u+ (%S+)")
        local delay = path and path:match("^/delay/([%d.]+)$")
        if delay then
          asched.sleep(tonumber(delay))
          respond(s, "200 OK", "slept " .. delay)
        elseif path == "/close" then
          s:write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly part of it")
          break
        else
          respond(s, "404 Not Found", "nothing at " .. tostring(path))
        end
        request = s:read_line()
      end
      s:close()
      connections[me] = nil
    end)
    local results = table.pack(fn(string.format("http://127.0.0.1:%d", server.port)))
    for task in pairs(connections) do task:cancel() end   -- idle keep-alive connections
    for task in pairs(connections) do pcall(task.await, task) end
    return table.unpack(results, 1, results.n)
  end)
end

local function open_fds()
  local n = 0
  for _ in io.popen("ls /proc/self/fd"):lines() do n = n + 1 end
  return n
end

describe("asched.http", function()
  it("gets a body, a status and lowercased headers", function()
    local r = with_server(function(base) return asched.http.get(base .. "/delay/0") end)
    assert.equal(200, r.status)
    assert.equal("slept 0", r.body)
    assert.equal("asched", r.headers["x-served-by"])
  end)

  it("returns an HTTP error status instead of raising it", function()
    local r = with_server(function(base) return asched.http.get(base .. "/missing") end)
    assert.equal(404, r.status)
    assert.equal("nothing at /missing", r.body)
  end)

  it("runs 200 requests at once, in about the time of the slowest (0.3 s), not the sum (60 s)", function()
    local elapsed, ok = with_server(function(base)
      local tasks = {}
      for i = 1, 200 do tasks[i] = asched.spawn(asched.http.get, base .. "/delay/0.3") end
      local start = asched.now()
      local results = asched.gather(tasks)
      local all_ok = true
      for i = 1, 200 do all_ok = all_ok and results[i].status == 200 end
      return asched.now() - start, all_ok
    end)
    assert.is_true(ok)
    assert.is_true(elapsed >= 0.3 and elapsed < 5, "took " .. elapsed .. " s")
  end)

  it("raises IOError when the connection is refused", function()
    local err = asched.run(function()
      local server = asched.tcp.listen("127.0.0.1", 0, function() end)
      local port = server.port
      server:close()
      local ok, e = pcall(asched.http.get, "http://127.0.0.1:" .. port .. "/")
      assert(not ok)
      return e
    end)
    assert.equal("IOError", err.name)
  end)

  it("raises IOError when the server closes in the middle of a response", function()
    local err = with_server(function(base)
      local ok, e = pcall(asched.http.get, base .. "/close")
      assert(not ok)
      return e
    end)
    assert.equal("IOError", err.name)
  end)

  it("cancels a slow transfer on timeout and closes its connection", function()
    local name, before, after = with_server(function(base)
      asched.http.get(base .. "/delay/0")    -- curl's own descriptors now exist
      local before = open_fds()
      local ok, e = pcall(asched.wait_for, function() return asched.http.get(base .. "/delay/5") end, 0.2)
      assert(not ok)
      local after
      for _ = 1, 50 do                         -- both ends close: the server's on EOF
        asched.sleep(0.02)
        after = open_fds()
        if after <= before then break end
      end
      return e.name, before, after
    end)
    assert.equal("TimeoutError", name)
    assert.is_true(after <= before, after .. " descriptors open, " .. before .. " before")
  end)

  it("also takes a timeout of its own", function()
    local err = with_server(function(base)
      local ok, e = pcall(asched.http.get, base .. "/delay/5", {timeout = 0.2})
      assert(not ok)
      return e
    end)
    assert.equal("TimeoutError", err.name)
  end)
end)
