#!/bin/sh
# `luarocks make --local` of the rockspec in the source tree $1, with HOME a
# temporary directory
# (no network: the rock depends only on the system's Lua 5.4), then the
# installed module and program, with the rock's version checked against
# asched.version.
set -eu
src=$1
tree=$(mktemp -d)
home=$tree
trap 'rm -rf "$home"' EXIT
cd "$src"
rockspec=$(ls asched-*.rockspec)
# --local installs under $HOME/.luarocks: HOME is the temporary directory
HOME="$tree" luarocks --lua-version=5.4 make --local "$rockspec" >"$tree/log" 2>&1 || { cat "$tree/log"; exit 1; }
tree="$tree/.luarocks"
version=$(LUA_CPATH="$tree/lib/lua/5.4/?.so" lua5.4 -e 'local a = require "asched" io.write(a.run(function() a.sleep(0) return a.version end))')
rock_version=$(echo "$rockspec" | sed 's/^asched-\(.*\)-[0-9]*\.rockspec$/\1/')
test "$version" = "$rock_version" || { echo "module says $version, rockspec $rock_version"; exit 1; }
out=$("$tree/bin/asched" -e 'io.write(asched.version)')
test "$out" = "$version" || { echo "installed program says $out"; exit 1; }
echo "luarocks make into $tree: asched $version ok"
