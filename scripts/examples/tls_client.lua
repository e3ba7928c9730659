-- tls_client.lua -- a TLS client fetching a page from an HTTPS server, both in
-- this script, on the same loop. asched speaks TLS through OpenSSL:
-- tcp.connect(host, port, {tls = ...}) encrypts a stream and checks the
-- server's certificate (verification is on unless you turn it off), and
-- http.listen(..., {tls = {cert =, key =}}) serves HTTPS. A public site's
-- certificate comes from a public CA; here the openssl program makes a CA of
-- our own and a certificate for localhost, in a scratch directory.
--
--   asched scripts/examples/tls_client.lua

local run = asched.process.run

-- Runs a program (never through a shell); a failure is an error with its stderr.
local function check(argv, options)
  local r = run(argv, options)
  if r.code ~= 0 then error(argv[1] .. " failed: " .. r.stderr, 0) end
  return r.stdout
end

-- A scratch directory, removed when the script ends, even by an error.
local dir = check({"mktemp", "-d"}):gsub("%s+$", "")
local scratch <close> = setmetatable({}, {__close = function() run({"rm", "-rf", dir}) end})

-- openssl req -x509 with a fresh EC key (quick to make), valid for a day.
local function new_certificate(name, ...)
  check({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "1", "-keyout", name .. ".key", "-out", name .. ".pem", ...}, {cwd = dir})
end
-- The CA: a certificate that may sign others.
new_certificate("ca", "-subj", "/CN=asched example CA", "-addext", "basicConstraints=critical,CA:TRUE")
-- The server's: signed by the CA, for the names a client will connect to.
new_certificate("server", "-CA", "ca.pem", "-CAkey", "ca.key", "-subj", "/CN=localhost",
                "-addext", "basicConstraints=CA:FALSE", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
print("made a CA and a certificate for localhost with openssl")

-- An HTTPS server on a free port: the certificate and its private key.
local server <close> = asched.http.listen("127.0.0.1", 0, function(req)
  return 200, "hello over TLS, you asked for " .. req.path .. "\n"
end, {tls = {cert = dir .. "/server.pem", key = dir .. "/server.key"}})
print("HTTPS server on 127.0.0.1, port " .. server.port)

-- {tls = true} trusts only the system's CAs, which never signed this
-- certificate: the handshake fails with an IOError, and nothing is sent.
local ok, err = pcall(asched.tcp.connect, "localhost", server.port, {tls = true})
print("trusting the system's CAs only: " .. (ok and "connected?!" or tostring(err)))

-- Trusting our CA, the certificate checks out for "localhost". From here on
-- the stream works as a plain TCP one: write, read_line, read, close.
local stream <close> = asched.tcp.connect("localhost", server.port, {tls = {ca = dir .. "/ca.pem"}})
stream:write("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")

-- The answer: a status line, headers up to an empty line, then the body, up
-- to the end of the stream (Connection: close asked the server to close).
print("status: " .. stream:read_line())
repeat local header = stream:read_line() until header == "" or header == nil
local body = {}
for chunk in function() return stream:read() end do body[#body + 1] = chunk end
io.write("body: " .. table.concat(body))
stream:close()
