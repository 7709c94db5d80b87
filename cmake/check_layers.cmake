# The layering check: cmake -DSRC=<dir> -P check_layers.cmake
#
# Every directory under src/ is a layer; data flows one way, from the lowest
# layer up:
#
#   core < store < codec < format < array < exec < ops < cli
#
# (DESIGN.md). A file may include headers of its own layer or of a lower one,
# and the public headers (scout/...). It may not include a header of a higher
# layer, nor another layer's private inside (a header named *_impl.h). A
# directory that is not in the list is an error too, so a new layer is placed
# on purpose. The build runs this check before compiling the library and fails
# on the first violation listed; tests/CMakeLists.txt proves that it fails on a
# planted violation.
set(LAYERS core store codec format array exec ops cli)

if(NOT SRC)
  message(FATAL_ERROR "check_layers: pass -DSRC=<the src directory>")
endif()

get_filename_component(SRC "${SRC}" ABSOLUTE)
file(GLOB_RECURSE files RELATIVE ${SRC} ${SRC}/*.c ${SRC}/*.h)
list(SORT files)
set(violations "")
foreach(f ${files})
  string(REGEX MATCH "^[^/]+" layer "${f}")
  list(FIND LAYERS "${layer}" rank)
  if(rank LESS 0)
    string(APPEND violations "  ${f}: directory '${layer}' is not a layer (cmake/check_layers.cmake)\n")
    continue()
  endif()
  file(STRINGS ${SRC}/${f} lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  foreach(line ${lines})
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\".*" "\\1" inc "${line}")
    if(inc MATCHES "^scout/")
      continue() # public API
    endif()
    # resolve the included layer: "../x/h.h", "x/h.h" (from src/) or "h.h" (own directory)
    if(inc MATCHES "^\\.\\./([^/]+)/")
      set(target "${CMAKE_MATCH_1}")
    elseif(inc MATCHES "^([^/]+)/")
      set(target "${CMAKE_MATCH_1}")
    else()
      set(target "${layer}")
    endif()
    list(FIND LAYERS "${target}" trank)
    if(trank LESS 0)
      string(APPEND violations "  ${f}: includes \"${inc}\" from '${target}', which is not a layer\n")
    elseif(trank GREATER rank)
      string(APPEND violations "  ${f}: includes \"${inc}\": layer '${target}' is above '${layer}'\n")
    elseif(NOT target STREQUAL layer AND inc MATCHES "_impl\\.h$")
      string(APPEND violations "  ${f}: includes \"${inc}\", the inside of layer '${target}'\n")
    endif()
  endforeach()
endforeach()

if(violations)
  message(FATAL_ERROR "layering check failed (core < store < codec < format < array < exec < ops < cli):\n${violations}")
endif()
list(LENGTH files n)
message(STATUS "layering check: ${n} files, layers respected")
