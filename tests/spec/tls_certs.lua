-- tls_certs.lua -- test certificates for the TLS specs (a helper, not a spec).
-- certs.make() runs the openssl command-line tool, synchronously (os.execute,
-- before any asynchronous work), in a fresh temporary directory:
--   ca.pem, ca.key          a CA
--   server.pem, server.key  a server certificate signed by that CA, for
--                           DNS:localhost, IP:127.0.0.1 and IP:::1
--   self.pem, self.key      a self-signed certificate for localhost
--   other.pem, other.key    a certificate signed by the CA for DNS:other.example
--                           only (no localhost, no IP address)
-- EC keys (prime256v1): generated in milliseconds. The extensions are those
-- strict verifiers (Python's VERIFY_X509_STRICT) want: a critical
-- basicConstraints, keyUsage, subject and authority key identifiers.
local certs = {}

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local CONFIG = [[
[req]
distinguished_name = dn
prompt = no
[dn]
CN = asched test
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_other]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:other.example
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_self]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
]]

-- Runs one openssl command; raises with its stderr when it fails.
local function run(cmd, dir)
  local err = dir .. "/openssl.err"
  local ok = os.execute(cmd .. " >/dev/null 2>" .. quote(err))
  if not ok then
    local f = io.open(err)
    local text = f and f:read("a") or ""
    if f then f:close() end
    error("openssl failed: " .. cmd .. "\n" .. text, 2)
  end
end

local function exists(path)
  local f = io.open(path, "rb")
  if not f then return false end
  local size = f:seek("end")
  f:close()
  return size > 0
end

-- A fresh, empty directory under /tmp, named as os.tmpname names its files.
function certs.tmpdir()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -m 700 " .. quote(dir)), "cannot make " .. dir)
  return dir
end

-- Removes a directory made by certs.tmpdir (and only one under /tmp).
function certs.remove(dir)
  if dir and dir:match("^/tmp/[^/]+$") then os.execute("rm -rf " .. quote(dir)) end
end

-- Generates the certificates into `dir` (a fresh temporary directory when
-- nil) and returns their paths: {dir, ca, ca_key, server_cert, server_key,
-- self_cert, self_key, other_cert, other_key}.
function certs.make(dir)
  dir = dir or certs.tmpdir()
  local p = {
    dir = dir,
    config = dir .. "/openssl.cnf",
    ca = dir .. "/ca.pem", ca_key = dir .. "/ca.key",
    server_cert = dir .. "/server.pem", server_key = dir .. "/server.key",
    self_cert = dir .. "/self.pem", self_key = dir .. "/self.key",
    other_cert = dir .. "/other.pem", other_key = dir .. "/other.key",
  }
  local f = assert(io.open(p.config, "w"))
  f:write(CONFIG)
  f:close()
  local q = {}
  for k, v in pairs(p) do q[k] = quote(v) end
  local function key(path)
    return "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out " .. path
  end
  local function signed(name, cn, extensions)
    local csr = quote(dir .. "/" .. name .. ".csr")
    return "openssl req -new -config " .. q.config .. " -key " .. q[name .. "_key"] ..
             " -subj '/CN=" .. cn .. "' -out " .. csr .. " && " ..
           "openssl x509 -req -in " .. csr .. " -CA " .. q.ca .. " -CAkey " .. q.ca_key ..
             " -set_serial " .. (name == "server" and 2 or 3) .. " -days 3650 -sha256 -extfile " .. q.config ..
             " -extensions " .. extensions .. " -out " .. q[name .. "_cert"]
  end
  local steps = {
    key(q.ca_key),
    "openssl req -new -x509 -config " .. q.config .. " -extensions v3_ca -key " .. q.ca_key ..
      " -subj '/CN=asched test CA' -days 3650 -sha256 -out " .. q.ca,
    key(q.server_key),
    signed("server", "localhost", "v3_server"),
    key(q.other_key),
    signed("other", "other.example", "v3_other"),
    key(q.self_key),
    "openssl req -new -x509 -config " .. q.config .. " -extensions v3_self -key " .. q.self_key ..
      " -subj '/CN=localhost' -days 3650 -sha256 -out " .. q.self_cert,
  }
  for _, step in ipairs(steps) do run(step, dir) end
  for _, name in ipairs({"ca", "ca_key", "server_cert", "server_key", "self_cert", "self_key",
                         "other_cert", "other_key"}) do
    assert(exists(p[name]), "openssl did not make " .. p[name])
  end
  return p
end

return certs
