# Fails when the code block between the begin/end markers for FILE in DOC
# differs from FILE, so documented code is the code that is compiled.
# Usage: cmake -DDOC=... -DFILE=... -DNAME=examples/hello/hello.c -P check_snippet.cmake
file(READ "${DOC}" doc)
file(READ "${FILE}" code)
set(begin "<!-- begin ${NAME} -->\n```c\n")
set(end "```\n<!-- end ${NAME} -->")
string(FIND "${doc}" "${begin}" b)
string(FIND "${doc}" "${end}" e)
if(b EQUAL -1 OR e EQUAL -1)
  message(FATAL_ERROR "${DOC}: no snippet markers for ${NAME}")
endif()
string(LENGTH "${begin}" blen)
math(EXPR start "${b} + ${blen}")
math(EXPR len "${e} - ${start}")
string(SUBSTRING "${doc}" ${start} ${len} snippet)
if(NOT snippet STREQUAL code)
  message(FATAL_ERROR "${DOC}: the snippet for ${NAME} differs from the file")
endif()
