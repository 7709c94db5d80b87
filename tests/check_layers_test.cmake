# Proves the layering check (cmake/check_layers.cmake) passes on src/ and
# fails, naming the file, on planted violations in a copy of src/:
#   cmake -DSRC=<src> -DCHECK=<check_layers.cmake> -DWORK=<scratch dir> -P check_layers_test.cmake
function(run_check dir out_rc out_text)
  execute_process(COMMAND ${CMAKE_COMMAND} -DSRC=${dir} -P ${CHECK}
    RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
  set(${out_rc} ${rc} PARENT_SCOPE)
  set(${out_text} "${o}${e}" PARENT_SCOPE)
endfunction()

set(failures 0)
run_check(${SRC} rc text)
if(NOT rc EQUAL 0)
  message(SEND_ERROR "the real src/ fails the check:\n${text}")
  math(EXPR failures "${failures} + 1")
else()
  message(STATUS "ok: src/ passes")
endif()

# each case: file to plant, the line, the text the failure must contain
set(cases
  "core/planted.c|#include \"../cli/cli.h\"|core/planted.c: includes \"../cli/cli.h\": layer 'cli' is above 'core'"
  "codec/planted.c|#include \"format/zarray.h\"|codec/planted.c: includes \"format/zarray.h\": layer 'format' is above 'codec'"
  "exec/planted.c|#include \"../array/array_impl.h\"|exec/planted.c: includes \"../array/array_impl.h\", the inside of layer 'array'"
  "store/planted.h|  #  include \"../ops/ops_internal.h\"|store/planted.h: includes \"../ops/ops_internal.h\": layer 'ops' is above 'store'"
  "newlayer/planted.c|#include \"../core/internal.h\"|newlayer/planted.c: directory 'newlayer' is not a layer")
set(n 0)
foreach(c ${cases})
  string(REPLACE "|" ";" parts "${c}")
  list(GET parts 0 file)
  list(GET parts 1 line)
  list(GET parts 2 expect)
  math(EXPR n "${n} + 1")
  set(copy ${WORK}/case${n})
  file(REMOVE_RECURSE ${copy})
  file(COPY ${SRC}/ DESTINATION ${copy})
  get_filename_component(d ${copy}/${file} DIRECTORY)
  file(MAKE_DIRECTORY ${d})
  file(WRITE ${copy}/${file} "/* planted */\n${line}\n")
  run_check(${copy} rc text)
  string(FIND "${text}" "${expect}" at)
  if(rc EQUAL 0 OR at LESS 0)
    message(SEND_ERROR "planted '${line}' in ${file}: rc ${rc}, expected a failure naming it:\n${text}")
    math(EXPR failures "${failures} + 1")
  else()
    message(STATUS "ok: fails on ${file} (${line})")
  endif()
  file(REMOVE_RECURSE ${copy})
endforeach()
if(failures)
  message(FATAL_ERROR "${failures} layering check cases failed")
endif()
message(STATUS "layering check: 1 pass + ${n} planted violations caught")
