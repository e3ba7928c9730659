-- io_tls_spec.lua -- TLS over OpenSSL: asched.tcp.connect(..., {tls = ...}),
-- asched.tcp.listen(..., {tls = {cert =, key =}}) and
-- asched.http.listen(..., {tls = ...}). asched against itself, against Python's
-- ssl module and against curl; verification on by default; a peer that does
-- not speak TLS; cancellation leaving no descriptor open; argument errors.
-- Loopback only. The certificates come from the openssl program
-- (spec/tls_certs.lua), made once for the whole file.
--
-- Under the virtual clock, pending I/O holds the clock only 0.05 s until the
-- next timer: where a subprocess is awaited no timer is armed (the HTTP
-- servers have timeout = math.huge), and the guards (asched.timeout) around
-- in-process TLS exchanges are generous, there only to turn a hang into a
-- failure.
local helpers = require("spec.helpers")
local certs = require("spec.tls_certs")
local error_of, assert_error_named = helpers.error_of, helpers.assert_error_named
local tcp, http, process = asched.tcp, asched.http, asched.process

local FAR = math.huge
-- No deadline around exchanges in this process: under --virtual-time a timer
-- is where the clock jumps when real I/O is slow to answer (a loaded machine,
-- ASan), so a 60 s guard fired while handshakes were still under way. A hang
-- is caught by ctest's own timeout instead.
local GUARD = math.huge
local UNREACHABLE = "127.0.0.1"   -- port 1: nothing listens there

local function open_fds() return #asched.fs.list_dir("/proc/self/fd") end

local function have(program)
  return process.run({"sh", "-c", "command -v " .. program .. " >/dev/null && echo yes"}).stdout == "yes\n"
end

-- Asserts that `err` is the IOError of a failed TLS handshake (or TLS record).
local function assert_tls_error(err, fragment)
  assert_error_named("IOError", err)
  assert.equal("EPROTO", err.code, "code of: " .. tostring(err.message))
  if fragment then assert.matches(fragment, err.message, 1, true) end
end

-- Reads `s` to its end and returns everything read.
local function read_all(s)
  local parts = {}
  for chunk in function() return s:read() end do parts[#parts + 1] = chunk end
  return table.concat(parts)
end

-- Reads exactly n bytes (fewer only at the end of the stream).
local function read_exactly(s, n)
  local parts, got = {}, 0
  while got < n do
    local chunk = s:read(n - got)
    if not chunk then break end
    parts[#parts + 1] = chunk
    got = got + #chunk
  end
  return table.concat(parts)
end

-- Lets the loop turn and real time pass (a close completes in a later loop
-- turn) until the descriptor count is `before` again, or a while has passed;
-- with no `before`, for a few turns.
local function settle_fds(before)
  for _ = 1, before and 100 or 5 do
    if open_fds() == before then return end
    asched.sleep(0)
    process.run({"true"})
  end
end

describe("TLS", function()
  local c          -- the certificates: c.ca, c.server_cert, c.server_key, ...

  setup(function() c = certs.make() end)
  teardown(function() if c then certs.remove(c.dir) end end)
  after_each(helpers.cancel_leftovers)

  local function server_tls() return {cert = c.server_cert, key = c.server_key} end

  -- A TLS echo server: each line comes back prefixed with "echo: ".
  local function tls_echo_server(host, tls)
    return tcp.listen(host or "127.0.0.1", 0, function(s)
      for line in function() return s:read_line() end do s:write("echo: " .. line .. "\n") end
    end, {tls = tls or server_tls()})
  end

  -- A server whose handler swallows whatever its stream raises (a failed
  -- handshake seen on the server's side is not this spec's concern).
  local function quiet_tls_server(tls)
    return tcp.listen("127.0.0.1", 0, function(s)
      pcall(function() for line in function() return s:read_line() end do s:write("echo: " .. line .. "\n") end end)
    end, {tls = tls})
  end

  describe("asched client and asched server", function()
    it("echo lines, verified against the CA (localhost: a DNS name)", function()
      local server <close> = tls_echo_server()
      asched.timeout(GUARD, function()
        local s <close> = tcp.connect("localhost", server.port, {tls = {ca = c.ca}})
        s:write("hello\nworld\r\n")
        assert.equal("echo: hello", s:read_line())
        assert.equal("echo: world", s:read_line())
        s:write("abc\n")
        assert.equal("echo", read_exactly(s, 4))
        assert.equal(": abc", s:read_line())
        s:write("")
        s:write("x")
        s:write("y\n")
        assert.equal("echo: xy", s:read_line())
      end)
    end)

    it("verify an IPv4 address against the certificate's IP names", function()
      local server <close> = tls_echo_server()
      asched.timeout(GUARD, function()
        local s <close> = tcp.connect("127.0.0.1", server.port, {tls = {ca = c.ca}})
        s:write("v4\n")
        assert.equal("echo: v4", s:read_line())
      end)
    end)

    it("work over IPv6 (::1), verified against the certificate's IP names", function()
      local ok, server = pcall(tls_echo_server, "::1")
      if not ok then return pending("no IPv6 loopback here: " .. tostring(server)) end
      local _ <close> = server
      asched.timeout(GUARD, function()
        local s <close> = tcp.connect("::1", server.port, {tls = {ca = c.ca}})
        s:write("over six\n")
        assert.equal("echo: over six", s:read_line())
      end)
    end)

    it("move 1 MiB each way intact, at the same time", function()
      local MiB = 1024 * 1024
      local up, down = {}, {}
      for i = 1, MiB // 8 do
        up[i] = string.format("%07d\n", i)
        down[i] = string.format("%07x;", MiB - i)
      end
      up, down = table.concat(up), table.concat(down)
      assert.equal(MiB, #up)
      local received
      local server_got
      local server <close> = tcp.listen("127.0.0.1", 0, function(s)
        -- Writes its MiB while it reads the client's: both directions in flight.
        local writer = asched.spawn(function() s:write(down) end)
        server_got = read_exactly(s, MiB)
        writer:await()
      end, {tls = server_tls()})
      asched.timeout(GUARD, function()
        local s <close> = tcp.connect("localhost", server.port, {tls = {ca = c.ca}})
        local writer = asched.spawn(function() s:write(up) end)
        received = read_all(s)
        writer:await()
      end)
      assert.equal(MiB, #received)
      assert.is_true(received == down, "the client received a different MiB")
      assert.equal(MiB, #server_got)
      assert.is_true(server_got == up, "the server received a different MiB")
    end)

    it("end the server's reads with nil when the client closes", function()
      local seen, done = {}, asched.event()
      local server <close> = tcp.listen("127.0.0.1", 0, function(s)
        local ok, err = pcall(function()
          for chunk in function() return s:read() end do seen[#seen + 1] = chunk end
          seen.last = s:read()          -- still nil after the end
        end)
        seen.ok, seen.err = ok, err
        done:set()
      end, {tls = server_tls()})
      asched.timeout(GUARD, function()
        local s = tcp.connect("localhost", server.port, {tls = {ca = c.ca}})
        s:write("last words")
        s:close()
        done:wait()
      end)
      assert.is_true(seen.ok, "the server's read raised: " .. tostring(seen.err))
      assert.equal("last words", table.concat(seen))
      assert.is_nil(seen.last)
    end)

    it("end the client's reads with nil when the server's handler returns", function()
      local server <close> = tcp.listen("127.0.0.1", 0, function(s) s:write("one\ntwo") end, {tls = server_tls()})
      asched.timeout(GUARD, function()
        local s <close> = tcp.connect("localhost", server.port, {tls = {ca = c.ca}})
        assert.equal("one", s:read_line())
        assert.equal("two", s:read_line())
        assert.is_nil(s:read_line())
        assert.is_nil(s:read())
      end)
    end)

    it("serve 20 concurrent TLS clients", function()
      local server <close> = tls_echo_server()
      local clients = {}
      for i = 1, 20 do
        clients[i] = function()
          local s <close> = tcp.connect("localhost", server.port, {tls = {ca = c.ca}})
          s:write("client " .. i .. "\n")
          return s:read_line()
        end
      end
      local replies = asched.timeout(GUARD, asched.gather, clients)
      for i = 1, 20 do assert.equal("echo: client " .. i, replies[i]) end
    end)

    it("raise IOError on a closed TLS stream; close is idempotent", function()
      local server <close> = tls_echo_server()
      asched.timeout(GUARD, function()
        local s = tcp.connect("localhost", server.port, {tls = {ca = c.ca}})
        s:close()
        s:close()
        assert_error_named("IOError", error_of(s.read, s))
        assert_error_named("IOError", error_of(s.write, s, "x"))
      end)
    end)
  end)

  describe("verification, on by default", function()
    it("refuses a self-signed server with {tls = true}: IOError EPROTO, certificate verify failed", function()
      local server <close> = quiet_tls_server({cert = c.self_cert, key = c.self_key})
      local err = error_of(asched.timeout, GUARD, tcp.connect, "localhost", server.port, {tls = true})
      assert_tls_error(err, "certificate verify failed")
      assert.matches("tcp.connect", err.message, 1, true)
    end)

    it("refuses a self-signed server with {tls = {}} (verify defaults to true)", function()
      local server <close> = quiet_tls_server({cert = c.self_cert, key = c.self_key})
      assert_tls_error(error_of(asched.timeout, GUARD, tcp.connect, "localhost", server.port, {tls = {}}),
                       "certificate verify failed")
    end)

    it("refuses a self-signed server the given CA did not sign", function()
      local server <close> = quiet_tls_server({cert = c.self_cert, key = c.self_key})
      assert_tls_error(error_of(asched.timeout, GUARD, tcp.connect, "localhost", server.port, {tls = {ca = c.ca}}),
                       "certificate verify failed")
    end)

    it("refuses the CA's certificate when the system's CAs are used ({tls = true})", function()
      local server <close> = quiet_tls_server(server_tls())
      assert_tls_error(error_of(asched.timeout, GUARD, tcp.connect, "localhost", server.port, {tls = true}),
                       "certificate verify failed")
    end)

    it("accepts a self-signed server with {verify = false}", function()
      local server <close> = quiet_tls_server({cert = c.self_cert, key = c.self_key})
      asched.timeout(GUARD, function()
        local s <close> = tcp.connect("localhost", server.port, {tls = {verify = false}})
        s:write("unverified\n")
        assert.equal("echo: unverified", s:read_line())
      end)
    end)

    it("accepts a name mismatch with {verify = false}", function()
      local server <close> = quiet_tls_server({cert = c.other_cert, key = c.other_key})
      asched.timeout(GUARD, function()
        local s <close> = tcp.connect("127.0.0.1", server.port, {tls = {verify = false, ca = c.ca}})
        s:write("anyone\n")
        assert.equal("echo: anyone", s:read_line())
      end)
    end)

    it("checks the name: server_name = 'wrong.example' fails though the CA signed the certificate", function()
      local server <close> = quiet_tls_server(server_tls())
      assert_tls_error(error_of(asched.timeout, GUARD, tcp.connect, "localhost", server.port,
                                {tls = {ca = c.ca, server_name = "wrong.example"}}),
                       "certificate verify failed")
    end)

    it("checks the name by default: a certificate for other.example does not do for localhost", function()
      local server <close> = quiet_tls_server({cert = c.other_cert, key = c.other_key})
      assert_tls_error(error_of(asched.timeout, GUARD, tcp.connect, "localhost", server.port, {tls = {ca = c.ca}}),
                       "certificate verify failed")
    end)

    it("checks an IP address too: a certificate without IP names does not do for 127.0.0.1", function()
      local server <close> = quiet_tls_server({cert = c.other_cert, key = c.other_key})
      assert_tls_error(error_of(asched.timeout, GUARD, tcp.connect, "127.0.0.1", server.port, {tls = {ca = c.ca}}),
                       "certificate verify failed")
    end)

    it("verifies against server_name, not the host connected to, when given", function()
      local server <close> = quiet_tls_server({cert = c.other_cert, key = c.other_key})
      asched.timeout(GUARD, function()
        local s <close> = tcp.connect("127.0.0.1", server.port, {tls = {ca = c.ca, server_name = "other.example"}})
        s:write("named\n")
        assert.equal("echo: named", s:read_line())
      end)
    end)

    it("raises an IOError (no crash) when the CA file does not exist", function()
      local server <close> = quiet_tls_server(server_tls())
      local err = error_of(asched.timeout, GUARD, tcp.connect, "localhost", server.port,
                           {tls = {ca = c.dir .. "/no-such-ca.pem"}})
      assert_error_named("IOError", err)
    end)
  end)

  describe("a peer that does not speak TLS", function()
    it("a plain client at a TLS server: the handler's read raises EPROTO or ends, and the server serves on", function()
      local outcomes, handled = {}, asched.event()
      local server <close> = tcp.listen("127.0.0.1", 0, function(s)
        local ok, got = pcall(s.read, s)
        outcomes[#outcomes + 1] = {ok = ok, got = got}
        if #outcomes == 1 then handled:set() end
        if ok and got then      -- the TLS client below: echo a line
          s:write("echo: " .. got)
        end
      end, {tls = server_tls()})
      asched.timeout(GUARD, function()
        local plain <close> = tcp.connect("127.0.0.1", server.port)
        plain:write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        -- The server closes the connection, perhaps after a TLS alert; never
        -- a plaintext answer.
        local ok, answer = pcall(read_all, plain)
        if ok then
          assert.is_true(answer == "" or answer:byte(1) == 0x15,
                         "the TLS server answered plaintext with: " .. string.format("%q", answer))
        else
          assert_error_named("IOError", answer)
        end
      end)
      assert.is_true((asched.move_on_after(GUARD, handled.wait, handled)), "the handler never ran for the plain client")
      local first = outcomes[1]
      if first.ok then
        assert.is_nil(first.got, "the handler read plaintext from a TLS stream: " .. tostring(first.got))
      else
        assert_tls_error(first.got)
      end
      asched.timeout(GUARD, function()
        local s <close> = tcp.connect("localhost", server.port, {tls = {ca = c.ca}})
        s:write("still serving\n")
        assert.equal("echo: still serving\n", read_all(s))
      end)
    end)

    it("a TLS client at a plain server that closes at once: tcp.connect raises an IOError, no hang", function()
      local server <close> = tcp.listen("127.0.0.1", 0, function(s) s:close() end)
      local err = error_of(asched.timeout, GUARD, tcp.connect, "127.0.0.1", server.port, {tls = {ca = c.ca}})
      assert_error_named("IOError", err)
    end)

    it("a TLS client at a plain server that writes garbage: tcp.connect raises IOError EPROTO", function()
      local server <close> = tcp.listen("127.0.0.1", 0, function(s)
        s:write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        pcall(read_all, s)
      end)
      local err = error_of(asched.timeout, GUARD, tcp.connect, "127.0.0.1", server.port, {tls = {ca = c.ca}})
      assert_tls_error(err)
    end)

    it("a TLS client at a plain server that writes garbage and closes: tcp.connect raises an IOError", function()
      local server <close> = tcp.listen("127.0.0.1", 0, function(s)
        s:write(string.rep("garbage ", 100))
      end)
      local err = error_of(asched.timeout, GUARD, tcp.connect, "127.0.0.1", server.port, {tls = {verify = false}})
      assert_error_named("IOError", err)
    end)
  end)

  describe("interop with Python's ssl module", function()
    it("asched's client talks to a Python ssl server", function()
      local python <close> = process.spawn({"python3", "-u", "-c", [[
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
with socket.create_server(("127.0.0.1", 0)) as listener:
    print(listener.getsockname()[1], flush=True)
    conn, _ = listener.accept()
    with ctx.wrap_socket(conn, server_side=True) as tls:
        line = tls.makefile("rb").readline()
        tls.sendall(b"python echo: " + line)
        print(tls.version(), flush=True)
]], c.server_cert, c.server_key}, {stdout = "pipe"})
      local port = tonumber(python.stdout:read_line())
      assert.is_truthy(port, "the Python server did not print its port")
      local s <close> = tcp.connect("127.0.0.1", port, {tls = {ca = c.ca}})
      s:write("from asched\n")
      assert.equal("python echo: from asched", s:read_line())
      assert.matches("^TLSv1%.[23]$", python.stdout:read_line())
      -- Python closes without a close_notify: the end of the stream, or an
      -- IOError for the truncation, but no hang and nothing more.
      local ok, rest = pcall(asched.timeout, GUARD, s.read_line, s)
      assert.is_true(ok and rest == nil or not ok and rest.name == "IOError", tostring(rest))
      assert.equal(0, (python:wait()))
    end)

    it("a Python ssl client, verifying against the CA, talks to asched's TLS server", function()
      local server <close> = tls_echo_server()
      local r = process.run({"python3", "-c", [[
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
with socket.create_connection(("127.0.0.1", int(sys.argv[2]))) as sock:
    with ctx.wrap_socket(sock, server_hostname="localhost") as tls:
        tls.sendall(b"from python\nand more\n")
        f = tls.makefile("rb")
        print(f.readline().decode(), end="")
        print(f.readline().decode(), end="")
        print(tls.version())
]], c.ca, tostring(server.port)})
      assert.equal(0, r.code, r.stderr)
      assert.matches("^echo: from python\necho: and more\nTLSv1%.[23]\n$", r.stdout)
    end)

    it("a Python ssl client refuses asched's server with the self-signed certificate", function()
      local server <close> = quiet_tls_server({cert = c.self_cert, key = c.self_key})
      local r = process.run({"python3", "-c", [[
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
try:
    with socket.create_connection(("127.0.0.1", int(sys.argv[2]))) as sock:
        with ctx.wrap_socket(sock, server_hostname="localhost") as tls:
            print("connected")
except ssl.SSLCertVerificationError as e:
    print("refused", e.verify_message)
]], c.ca, tostring(server.port)})
      assert.equal(0, r.code, r.stderr)
      assert.matches("^refused ", r.stdout)
    end)
  end)

  describe("http.listen with opts.tls", function()
    local function handler(req)
      return 200, "secure " .. req.method .. " " .. req.path .. " " .. tostring(req.query) .. " [" .. req.body .. "]",
             {["X-Served"] = "asched"}
    end

    local function https_server()
      return http.listen("127.0.0.1", 0, handler, {tls = server_tls(), timeout = FAR})
    end

    it("serves curl over HTTPS, curl verifying against the CA", function()
      if not have("curl") then return pending("no curl on this machine") end
      local server <close> = https_server()
      local base = "https://localhost:" .. server.port
      local resolve = "localhost:" .. server.port .. ":127.0.0.1"
      local r = process.run({"curl", "-s", "-S", "--cacert", c.ca, "--resolve", resolve, "-i", base .. "/page?x=1"})
      assert.equal(0, r.code, r.stderr)
      assert.matches("^HTTP/1%.1 200", r.stdout)
      assert.matches("\r\nX%-Served: asched\r\n", r.stdout)
      assert.matches("\r\n\r\nsecure GET /page x=1 %[%]$", r.stdout)
      r = process.run({"curl", "-s", "-S", "--cacert", c.ca, "--resolve", resolve, "-d", "a=b", base .. "/form"})
      assert.equal(0, r.code, r.stderr)
      assert.equal("secure POST /form nil [a=b]", r.stdout)
      -- Two URLs on one connection.
      r = process.run({"curl", "-s", "-S", "-v", "--cacert", c.ca, "--resolve", resolve,
                       base .. "/one", base .. "/two", "--stderr", "-"})
      assert.equal(0, r.code, r.stdout)
      assert.matches("secure GET /one nil []", r.stdout, 1, true)
      assert.matches("secure GET /two nil []", r.stdout, 1, true)
      assert.matches("Re%-using existing connection", r.stdout)
    end)

    it("is refused by curl without the CA, and gives curl no plaintext HTTP", function()
      if not have("curl") then return pending("no curl on this machine") end
      local server <close> = https_server()
      local resolve = "localhost:" .. server.port .. ":127.0.0.1"
      local r = process.run({"curl", "-s", "--resolve", resolve, "https://localhost:" .. server.port .. "/"})
      assert.equal(60, r.code, "curl should not trust the test CA: " .. r.stdout)     -- CURLE_PEER_FAILED_VERIFICATION
      r = process.run({"curl", "-s", "http://127.0.0.1:" .. server.port .. "/plain"})
      assert.are_not.equal(0, r.code)
      assert.not_matches("secure", r.stdout, 1, true)
      -- ... and serves on.
      r = process.run({"curl", "-s", "-S", "--cacert", c.ca, "--resolve", resolve,
                       "https://localhost:" .. server.port .. "/after"})
      assert.equal(0, r.code, r.stderr)
      assert.equal("secure GET /after nil []", r.stdout)
    end)

    it("serves Python's HTTPSConnection, two requests on one kept-alive connection", function()
      local server <close> = https_server()
      local r = process.run({"python3", "-c", [[
import http.client, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
c = http.client.HTTPSConnection("localhost", int(sys.argv[2]), context=ctx)
c.request("GET", "/first?a=1")
resp = c.getresponse()
print(resp.status, resp.getheader("X-Served"), resp.read().decode())
first = c.sock
c.request("POST", "/second", body="posted")
resp = c.getresponse()
print(resp.status, resp.read().decode())
print("same connection:", first is not None and c.sock is first)
print("tls:", c.sock.version())
]], c.ca, tostring(server.port)})
      assert.equal(0, r.code, r.stderr)
      assert.matches("^200 asched secure GET /first a=1 %[%]\n" ..
                     "200 secure POST /second nil %[posted%]\n" ..
                     "same connection: True\n" ..
                     "tls: TLSv1%.[23]\n$", r.stdout)
    end)

    it("asched's TLS client speaks HTTP/1.1 to asched's HTTPS server", function()
      local server <close> = https_server()
      asched.timeout(GUARD, function()
        local s <close> = tcp.connect("localhost", server.port, {tls = {ca = c.ca}})
        s:write("GET /raw HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        local response = read_all(s)
        assert.matches("^HTTP/1%.1 200 ", response)
        assert.matches("\r\n\r\nsecure GET /raw nil %[%]$", response)
      end)
    end)
  end)

  describe("cancellation", function()
    it("a handshake that never completes, under asched.timeout: TimeoutError, and no descriptor left open", function()
      -- Warm up: a full TLS exchange and a process first, so whatever OpenSSL
      -- and the loop open once is open before counting.
      do
        local server <close> = tls_echo_server()
        local s <close> = tcp.connect("localhost", server.port, {tls = {ca = c.ca}})
        s:write("warm\n")
        assert.equal("echo: warm", s:read_line())
      end
      process.run({"true"})
      local silent <close> = tcp.listen("127.0.0.1", 0, function(s)
        pcall(read_all, s)      -- takes the ClientHello, never answers; ends when the client goes
      end)
      collectgarbage()
      collectgarbage()
      settle_fds()
      local before = open_fds()
      for _ = 1, 3 do
        local t0 = asched.now()
        local err = error_of(asched.timeout, 0.2, tcp.connect, "localhost", silent.port, {tls = {ca = c.ca}})
        assert_error_named("TimeoutError", err)
        local elapsed = asched.now() - t0          -- 0.2 exactly under the virtual clock
        assert.is_true(elapsed >= 0.2 - 1e-9 and elapsed < 0.7, "timed out after " .. elapsed .. " s")
      end
      settle_fds(before)
      assert.equal(before, open_fds())
    end)

    it("a cancelled TLS connect by task:cancel() leaves no descriptor open", function()
      local silent <close> = tcp.listen("127.0.0.1", 0, function(s) pcall(read_all, s) end)
      settle_fds()
      local before = open_fds()
      local connecting = asched.spawn(tcp.connect, "localhost", silent.port, {tls = {ca = c.ca}})
      for _ = 1, 5 do asched.sleep(0) end
      process.run({"true"})       -- the ClientHello really goes out
      connecting:cancel()
      assert_error_named("CancelledError", error_of(connecting.await, connecting))
      settle_fds(before)
      assert.equal(before, open_fds())
    end)

    it("a TLS read cancelled by a timeout leaves the stream usable", function()
      local release = asched.event()
      local server <close> = tcp.listen("127.0.0.1", 0, function(s)
        s:write("first\n")
        release:wait()
        s:write("late\n")
        for line in function() return s:read_line() end do s:write("echo: " .. line .. "\n") end
      end, {tls = server_tls()})
      local s <close> = asched.timeout(GUARD, tcp.connect, "localhost", server.port, {tls = {ca = c.ca}})
      assert.equal("first", asched.timeout(GUARD, s.read_line, s))
      assert_error_named("TimeoutError", error_of(asched.timeout, 0.2, s.read_line, s))
      assert_error_named("TimeoutError", error_of(asched.timeout, 0.2, s.read, s))
      release:set()
      asched.timeout(GUARD, function()
        assert.equal("late", s:read_line())
        s:write("after\n")
        assert.equal("echo: after", s:read_line())
      end)
    end)
  end)

  describe("arguments", function()
    local function argument_error(fn, ...)
      local err = error_of(fn, ...)
      assert.equals("string", type(err), "expected an argument error, got: " .. tostring(err))
      return err
    end

    it("tcp.connect refuses an unknown key in the tls table, naming it, before connecting", function()
      local err = argument_error(function() return tcp.connect(UNREACHABLE, 1, {tls = {verfy = false}}) end)
      assert.matches("bad argument #3 to 'connect'", err, 1, true)
      assert.matches("unknown", err, 1, true)
      assert.matches("verfy", err, 1, true)
    end)

    it("tcp.connect refuses a tls that is neither true nor a table, and mistyped fields", function()
      for _, tls in ipairs({5, "yes", {verify = "no"}, {verify = 1}, {ca = {}}, {server_name = true}}) do
        local err = argument_error(function() return tcp.connect(UNREACHABLE, 1, {tls = tls}) end)
        assert.matches("bad argument #3 to 'connect'", err, 1, true)
      end
    end)

    it("tcp.connect accepts tls = false as no TLS", function()
      local server <close> = tcp.listen("127.0.0.1", 0, function(s) s:write("plain\n") end)
      local s <close> = tcp.connect("127.0.0.1", server.port, {tls = false})
      assert.equal("plain", s:read_line())
    end)

    local function listen_error(listen, opts)
      local ok, err = pcall(function() return listen(UNREACHABLE, 0, function() end, opts) end)
      if ok then
        if err then err:close() end
        error("listen returned a server although its options were refused", 2)
      end
      return err
    end

    for _, case in ipairs({{"tcp", tcp.listen}, {"http", http.listen}}) do
      local name, listen = case[1], case[2]
      it(name .. ".listen refuses tls = true, a cert without a key, a key without a cert, an unknown key", function()
        local cases = {
          {tls = true}, {tls = 5}, {tls = {cert = c.server_cert}}, {tls = {key = c.server_key}},
          {tls = {cert = c.server_cert, key = true}},
        }
        for i, opts in ipairs(cases) do
          local err = listen_error(listen, opts)
          assert.equals("string", type(err), "case " .. i .. ": " .. tostring(err))
          assert.matches("bad argument #4 to 'listen'", err, 1, true)
        end
        local err = listen_error(listen, {tls = {cert = c.server_cert, key = c.server_key, kee = "x"}})
        assert.equals("string", type(err), tostring(err))
        assert.matches("bad argument #4 to 'listen'", err, 1, true)
        assert.matches("kee", err, 1, true)
      end)

      it(name .. ".listen raises IOError (no crash) for a missing certificate or key file", function()
        assert_error_named("IOError", listen_error(listen, {tls = {cert = c.dir .. "/missing.pem", key = c.server_key}}))
        assert_error_named("IOError", listen_error(listen, {tls = {cert = c.server_cert, key = c.dir .. "/missing.key"}}))
        assert_error_named("IOError", listen_error(listen, {tls = {cert = c.server_key, key = c.server_key}}))
      end)

      it(name .. ".listen raises IOError for a key that does not match the certificate", function()
        assert_error_named("IOError", listen_error(listen, {tls = {cert = c.server_cert, key = c.self_key}}))
      end)
    end
  end)
end)
