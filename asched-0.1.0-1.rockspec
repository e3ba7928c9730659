-- The luarocks package: `luarocks make` builds the module (and the asched
-- program) with CMake against the system's Lua 5.4, libuv and libcurl.
package = "asched"
version = "0.1.0-1"
source = {
  url = "git+file:///asched",   -- `luarocks make` builds the checkout it runs in
  tag = "v0.1.0",
}
description = {
  summary = "asyncio's concurrency toolkit for Lua coroutines, in C on libuv",
  detailed = [[
asched runs Lua coroutines as tasks on a libuv event loop: sleep, gather,
as_completed, wait_for, timeouts, semaphores, locks, events, queues, threads,
files, processes, TCP and HTTP. require "asched" and call asched.run(fn).
]],
  license = "MIT",
}
dependencies = {
  "lua >= 5.4, < 5.5",
}
-- libuv, libcurl and OpenSSL are found by CMake through pkg-config, and
-- http-parser by its header and library (Debian puts
-- curl's headers under a multiarch directory luarocks does not search).
build = {
  type = "cmake",
  variables = {
    CMAKE_BUILD_TYPE = "Release",
    CMAKE_INSTALL_PREFIX = "$(PREFIX)",
    ASCHED_INSTALL_CMODDIR = "$(LIBDIR)",
    ASCHED_INSTALL_BINDIR = "$(BINDIR)",
    ASCHED_BUILD_TESTS = "OFF",
  },
}
