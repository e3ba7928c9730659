#!/bin/sh
# Installs the build in $1 into a temporary prefix and runs what was
# installed with only that prefix on the paths: the program, the module from a
# plain lua5.4, the man page and the editor types.
set -eu
build=$1
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
test -x "$prefix/bin/asched"
test -f "$prefix/lib/lua/5.4/asched.so"
test -f "$prefix/share/man/man1/asched.1"
test -f "$prefix/share/lua/5.4/asched/asched.lua"
out=$(env -u LUA_PATH -u LUA_CPATH "$prefix/bin/asched" --virtual-time -e 'asched.sleep(1) print("program", asched.now())')
test "$out" = "program	1.0" || { echo "installed asched printed: $out"; exit 1; }
out=$(ASCHED_PREFIX="$prefix" LUA_CPATH="$prefix/lib/lua/5.4/?.so" LUA_PATH="$prefix/share/lua/5.4/?.lua" lua5.4 -e '
  local asched = require "asched"
  assert(package.searchpath("asched", package.cpath):find(os.getenv("ASCHED_PREFIX"), 1, true))
  print("module", asched.run(function() return asched.version end))')
test "$out" = "module	$(env -u LUA_PATH -u LUA_CPATH "$prefix/bin/asched" -e 'io.write(asched.version)')" || { echo "module printed: $out"; exit 1; }
echo "installed into $prefix: ok"
