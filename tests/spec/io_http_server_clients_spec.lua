-- io_http_server_clients_spec.lua -- asched.http.listen against clients it
-- did not write (issue 20): curl, Python's http.client, a crowd of 1,000
-- keep-alive connections from Python's asyncio, and a raw-socket fuzz of
-- broken request lines and headers. Each client runs as a subprocess, on
-- loopback. The servers have no timeout (math.huge): under the virtual
-- clock, pending I/O holds the clock only until the next timer, and a slow
-- subprocess would otherwise meet its connection's idle deadline.
local helpers = require("spec.helpers")
local http, tcp, process = asched.http, asched.tcp, asched.process

local FAR = math.huge

local function open_fds() return #asched.fs.list_dir("/proc/self/fd") end

local function have(program)
  return process.run({"sh", "-c", "command -v " .. program .. " >/dev/null && echo yes"}).stdout == "yes\n"
end

local function echo_handler(req)
  return 200, req.method .. " " .. req.path .. " " .. tostring(req.query) .. " " .. tostring(req.headers["x-a"]) ..
              " [" .. req.body .. "]"
end

describe("asched.http.listen with other clients", function()
  after_each(helpers.cancel_leftovers)

  it("serves curl: GET with a header, POST, a chunked upload, HTTP/1.0, two URLs on one connection", function()
    if not have("curl") then return pending("no curl on this machine") end
    local server <close> = http.listen(nil, 0, echo_handler, {timeout = FAR})
    local base = "http://127.0.0.1:" .. server.port
    local function curl(...)
      local r = process.run({"curl", "-s", "-S", ...})
      assert.equal(0, r.code, r.stderr)
      return r.stdout
    end
    assert.equal("GET /g x=1 va []", curl("-H", "X-A: va", base .. "/g?x=1"))
    assert.equal("POST /p nil nil [a=b]", curl("-d", "a=b", base .. "/p"))
    local chunked = process.run({"sh", "-c", "printf 'streamed body' | curl -s -S -H 'Transfer-Encoding: chunked' " ..
                                             "--data-binary @- " .. base .. "/c"})
    assert.equal("POST /c nil nil [streamed body]", chunked.stdout)
    assert.equal("GET /old nil nil []", curl("-0", base .. "/old"))
    local both = curl("-v", base .. "/one", base .. "/two", "--stderr", "-")
    assert.matches("GET /one nil nil []", both, 1, true)
    assert.matches("GET /two nil nil []", both, 1, true)
    assert.matches("Re%-using existing connection", both)
    local head = curl("-I", base .. "/h")
    assert.matches("^HTTP/1%.1 200 OK\r\n", head)
    assert.matches("Content%-Length: %d+", head)
  end)

  it("serves Python's http.client, several requests on one kept-alive connection", function()
    local server <close> = http.listen(nil, 0, echo_handler, {timeout = FAR})
    local r = process.run({"python3", "-c", [[
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
for path, body in (("/a?q=1", None), ("/b", "posted"), ("/c", None)):
    c.request("POST" if body else "GET", path, body=body, headers={"X-A": "py"})
    resp = c.getresponse()
    print(resp.status, resp.read().decode())
print(c.sock is not None)
]], tostring(server.port)})
    assert.equal(0, r.code, r.stderr)
    assert.equal("200 GET /a q=1 py []\n200 POST /b nil py [posted]\n200 GET /c nil py []\nTrue\n", r.stdout)
  end)

  it("serves 1,000 concurrent keep-alive connections, two requests each, and gives every descriptor back", function()
    local limit = process.run({"sh", "-c", "ulimit -n"}).stdout
    if (tonumber(limit) or math.huge) < 2200 then return pending("descriptor limit " .. limit) end
    local server <close> = http.listen(nil, 0, function(req) return 200, req.path end, {timeout = FAR})
    assert.equal(200, http.get("http://127.0.0.1:" .. server.port .. "/warm").status)   -- libuv's reserve fd
    local before = open_fds()
    local r = process.run({"python3", "-c", [[
import asyncio, sys
port = int(sys.argv[1])
async def client(i):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    bodies = []
    for n in range(2):
        writer.write(f"GET /{i}/{n} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        await writer.drain()
        status = await reader.readline()
        length = 0
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b""): break
            if line.lower().startswith(b"content-length:"): length = int(line.split(b":")[1])
        body = await reader.readexactly(length)
        bodies.append((status.split()[1], body))
    writer.close()
    await writer.wait_closed()
    return all(s == b"200" and b == f"/{i}/{n}".encode() for n, (s, b) in enumerate(bodies))
async def main():
    results = await asyncio.gather(*(client(i) for i in range(1000)))
    print(sum(results))
asyncio.run(main())
]], tostring(server.port)})
    assert.equal(0, r.code, r.stderr)
    assert.equal("1000\n", r.stdout)
    asched.sleep(0.1)
    assert.equal(before, open_fds())
  end)

  it("answers every broken request line and header with 400 (or serves it, when still valid), and keeps serving", function()
    local server <close> = http.listen(nil, 0, echo_handler, {timeout = FAR, max_body = 64})
    local valid = "GET /path?q=1 HTTP/1.1\r\nHost: example\r\nX-A: value\r\nContent-Length: 4\r\n\r\nbody"
    local rng = 20261207
    local function random(n)
      rng = (rng * 1103515245 + 12345) % 2147483648
      return rng % n + 1
    end
    local mutate = {
      function(s) local i = random(#s) return s:sub(1, i - 1) .. string.char(random(256) - 1) .. s:sub(i + 1) end,
      function(s) local i = random(#s) return s:sub(1, i - 1) .. s:sub(i + 1) end,
      function(s) local i = random(#s) return s:sub(1, i) .. string.rep(string.char(random(256) - 1), random(8)) .. s:sub(i + 1) end,
      function(s) return s:gsub("\r\n", "\n", 1) end,
      function(s) return s:gsub("HTTP/1%.1", ({"HTTP/1.", "HTP/1.1", "HTTP/11", "http/1.1"})[random(4)], 1) end,
      function(s) return s:gsub("Content%-Length: 4", ({"Content-Length: x", "Content-Length: 99999999999999999999",
                                                        "Content-Length: -1", "Content-Length: 4\r\nContent-Length: 5"})[random(4)], 1) end,
    }
    local seen = {}
    for case = 1, 300 do
      local request = valid
      for _ = 1, random(3) do request = mutate[random(#mutate)](request) end
      local s <close> = tcp.connect("127.0.0.1", server.port)
      s:write(request)
      -- A request cut short waits for its missing bytes: no answer yet.
      local ok, line = pcall(asched.wait_for, function() return s:read_line() end, 5)
      if not ok then assert.equal("TimeoutError", line.name) line = nil end
      local status = line and tonumber(line:match("^HTTP/1%.1 (%d%d%d) "))
      -- A mutation may leave a valid request (200), truncate one that then
      -- waits for more bytes (nothing yet: close), or break it (400, or 413
      -- for a huge Content-Length).
      assert(status == nil and line == nil or status == 200 or status == 400 or status == 413,
             string.format("case %d: %q got %q", case, request, tostring(line)))
      seen[status or "none"] = (seen[status or "none"] or 0) + 1
    end
    assert.is_true((seen[400] or 0) > 100, "most mutations should be malformed")
    assert.equal(200, http.get("http://127.0.0.1:" .. server.port .. "/after").status)
  end)
  it("asched's client fetches from Python's http.server, a server it did not write", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir " .. dir))
    asched.fs.write_file(dir .. "/hello.txt", "served by python\n")
    -- Port 0: the kernel picks a free one (a random pick once collided in
    -- CI), and Python's banner names it once it listens.
    local python <close> = process.spawn({"python3", "-u", "-m", "http.server", "--bind", "127.0.0.1",
                                          "--directory", dir, "0"}, {stdout = "pipe", stderr = "null"})
    local banner = python.stdout:read_line()     -- "Serving HTTP on 127.0.0.1 port N (...) ..."
    local port = assert(tonumber(tostring(banner):match("port (%d+)")), "no port in banner: " .. tostring(banner))
    local r = http.get("http://127.0.0.1:" .. port .. "/hello.txt")
    assert.equal(200, r.status)
    assert.equal("served by python\n", r.body)
    assert.equal(404, http.get("http://127.0.0.1:" .. port .. "/missing").status)
    os.execute("rm -rf " .. dir)
  end)
end)
