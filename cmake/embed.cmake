# embed_text(INPUT OUTPUT SYMBOL): writes OUTPUT, a C file defining
# `const char SYMBOL[]` with INPUT's bytes (NUL-terminated), and re-runs
# CMake when INPUT changes.
function(embed_text input output symbol)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${input})
  file(READ ${input} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  file(WRITE ${output}.new
    "/* Generated from ${input} by cmake/embed.cmake. */\n"
    "const char ${symbol}[] = {\n  ${bytes}0x00\n};\n")
  file(COPY_FILE ${output}.new ${output} ONLY_IF_DIFFERENT)
  file(REMOVE ${output}.new)
endfunction()
