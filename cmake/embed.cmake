# embed.cmake -- turns a Lua source file into a C array, so the facade is
# compiled into the binary and never read from disk.
#   cmake -DIN=file.lua -DOUT=file.c -DSYMBOL=name -P embed.cmake
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
get_filename_component(name "${IN}" NAME)
file(WRITE "${OUT}"
  "/* Generated from ${name} by embed.cmake: edit the Lua file instead. */\n"
  "#include <stddef.h>\n"
  "const char ${SYMBOL}[] = {${bytes} 0};\n"
  "const size_t ${SYMBOL}_size = sizeof ${SYMBOL} - 1;\n")
