-- io_http_spec.lua -- asched.http: request, get and post through libcurl's
-- multi interface on the loop, against a local python3 http.server on a free
-- 127.0.0.1 port. HTTP error statuses are returned, network failures raise an
-- IOError, an expired timeout a TimeoutError; a cancelled request is dropped.
local helpers = require("spec.helpers")
local error_of, assert_error_named = helpers.error_of, helpers.assert_error_named
local http = asched.http

-- python3's http.server with a deep listen queue (its default of 5 resets
-- concurrent connections), a /slow path that answers after 2 s and a /redirect
-- path; it writes the port it got to `portfile`.
local SERVER = [[
import http.server, sys, time
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args): pass
    def do_GET(self):
        if self.path.startswith("/slow"):
            time.sleep(2)
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "/hello.txt")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        return super().do_GET()
http.server.ThreadingHTTPServer.request_queue_size = 1024
httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(httpd.server_address[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
httpd.serve_forever()
]]

local function read_all(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local data = f:read("a")
  f:close()
  return data
end

describe("asched.http", function()
  local dir, base, pid

  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir " .. dir))
    local f = assert(io.open(dir .. "/server.py", "w"))
    f:write(SERVER)
    f:close()
    f = assert(io.open(dir .. "/hello.txt", "w"))
    f:write("hello\n")
    f:close()
    assert(os.execute("cd " .. dir .. " && python3 server.py " .. dir .. "/port >/dev/null 2>&1 & echo $! > "
                      .. dir .. "/pid"))
    pid = read_all(dir .. "/pid"):match("%d+")
    local port
    for _ = 1, 200 do
      port = read_all(dir .. "/port")
      if port then break end
      os.execute("sleep 0.05")
    end
    assert(port, "the test server did not start")
    base = "http://127.0.0.1:" .. port
  end)

  teardown(function()
    if pid then os.execute("kill " .. pid .. " 2>/dev/null") end
    if dir then os.execute("rm -rf " .. dir) end
  end)

  after_each(helpers.cancel_leftovers)

  it("gets a file: status 200, the body and lowercased headers", function()
    local r = http.get(base .. "/hello.txt")
    assert.equal(200, r.status)
    assert.equal("hello\n", r.body)
    assert.equal("6", r.headers["content-length"])
    assert.equal("text/plain", r.headers["content-type"])
    assert.is_nil(r.headers["Content-Length"])
  end)

  it("does the same through request, and follows redirects", function()
    local r = http.request{url = base .. "/hello.txt", headers = {Accept = "text/plain"}, timeout = 10}
    assert.equal(200, r.status)
    assert.equal("hello\n", r.body)
    r = http.get(base .. "/redirect")
    assert.equal(200, r.status)
    assert.equal("hello\n", r.body)
  end)

  it("returns error statuses instead of raising them", function()
    local r = http.get(base .. "/missing")
    assert.equal(404, r.status)
    assert.is_string(r.body)
    -- http.server has no POST: 501, returned too.
    r = http.post(base .. "/hello.txt", "some data", {headers = {["Content-Type"] = "text/plain"}})
    assert.equal(501, r.status)
    r = http.request{method = "POST", url = base .. "/hello.txt", body = "x"}
    assert.equal(501, r.status)
  end)

  it("raises an IOError when the connection is refused", function()
    local err = error_of(http.get, "http://127.0.0.1:1/")
    assert_error_named("IOError", err)
    assert.matches("127.0.0.1", err.message, 1, true)
  end)

  it("runs 50 requests at once", function()
    local tasks = {}
    for i = 1, 50 do tasks[i] = asched.spawn(http.get, base .. "/hello.txt") end
    local results = asched.gather(tasks)
    assert.equal(50, #results)
    for _, r in ipairs(results) do
      assert.equal(200, r.status)
      assert.equal("hello\n", r.body)
    end
  end)

  it("raises a TimeoutError when the timeout expires", function()
    local err = error_of(http.get, base .. "/slow", {timeout = 0.2})
    assert_error_named("TimeoutError", err)
  end)

  it("drops a cancelled request, and works on afterwards", function()
    -- Under virtual time a sleep's end depends on how long the request holds
    -- the clock (up to the autojump threshold): yield until it has started.
    local t = asched.spawn(http.get, base .. "/slow")
    asched.sleep(0)
    asched.sleep(0)
    local started = asched.now()
    t:cancel()
    local ok, err = pcall(t.await, t)
    assert.is_false(ok)
    assert_error_named("CancelledError", err)
    assert.equal(started, asched.now())
    assert.equal(200, http.get(base .. "/hello.txt").status)
  end)

  it("rejects bad arguments in Lua's style", function()
    assert.matches("bad argument #1", error_of(http.get, 42))
    assert.matches("bad argument #1", error_of(http.get))
    assert.matches("bad argument #2", error_of(http.get, base, 5))
    assert.matches("bad argument #2", error_of(http.post, base))
    assert.matches("bad argument #1", error_of(http.request, "url"))
    assert.matches("option 'url' must be a string", error_of(http.request, {}))
    assert.matches("method", error_of(http.request, {url = base, method = "GET /x"}))
    assert.matches("headers", error_of(http.get, base, {headers = {a = {}}}))
    assert.matches("header", error_of(http.get, base, {headers = {a = "x\r\ny: z"}}))
    assert.matches("timeout", error_of(http.get, base, {timeout = -1}))
    assert.matches("timeout", error_of(http.get, base, {timeout = "soon"}))
  end)
end)
