# The include fence: every #include "..." of the product's sources must name a header of a layer its folder
# may use (ARCHITECTURE.md). Run as `cmake -DROOT=<tree> -P include_fence.cmake`; prints each violation as
# "file:line: includes X, which <folder> may not use" and fails when there is any.
#
# The per-target include directories (mtag_expose_folder in the top-level CMakeLists.txt) make most of
# these violations compile errors too; this test also catches those the compiler cannot see (a header-only
# header of a layer reachable through another path, a file that is not compiled).
if(NOT ROOT)
  message(FATAL_ERROR "include_fence.cmake: pass -DROOT=<source tree>")
endif()

# Each folder (most specific first) and the include prefixes it may use, comma-separated.
set(error "dsp/error.hpp")
set(pipeline "data/pipeline/,data/sets/")
set(rules
  "dsp/|dsp/"
  "nn/|nn/,${error}"
  "data/sets/|data/sets/,dsp/"
  "data/pipeline/|${pipeline},dsp/"
  "data/synth/|data/synth/,data/sets/,dsp/"
  "data/progress/|data/progress/,${error}"
  "data/distributed/|data/distributed/,nn/,${error}"
  "data/run/|data/run/,${pipeline},nn/,dsp/"
  "data/train/|data/train/,data/run/,${pipeline},data/distributed/,data/progress/,nn/,dsp/"
  "data/sweep/|data/sweep/,data/train/,data/run/,${pipeline},nn/,dsp/"
  "data/tag/|data/tag/,data/run/,${pipeline},data/progress/,nn/,dsp/"
  "data/pretrained/|data/pretrained/,data/run/,${pipeline},data/progress/,nn/,dsp/"
  "data/extract/|data/extract/,data/sets/,data/progress/,data/distributed/communicator.hpp,dsp/,mtag_version.hpp"
  "app/python/|app/python/,data/,dsp/,mtag_version.hpp"
  "data/plot/|data/plot/,dsp/"
  "data/report/|data/report/,data/plot/,data/tag/,data/run/,${pipeline},nn/,dsp/"
  "app/|app/,data/,nn/,dsp/,mtag_version.hpp")

file(GLOB_RECURSE files RELATIVE ${ROOT} ${ROOT}/dsp/*.[ch]pp ${ROOT}/nn/*.[ch]pp ${ROOT}/data/*.[ch]pp
     ${ROOT}/app/*.[ch]pp)
set(violations 0)
foreach(file ${files})
  set(allowed "")
  set(folder "")
  foreach(rule ${rules})
    string(REPLACE "|" ";" parts "${rule}")
    list(GET parts 0 prefix)
    string(FIND "${file}" "${prefix}" at)
    if(at EQUAL 0 AND folder STREQUAL "")
      set(folder ${prefix})
      list(GET parts 1 allowed)
      string(REPLACE "," ";" allowed "${allowed}")
    endif()
  endforeach()
  if(folder STREQUAL "")
    message(SEND_ERROR "${file}: in no layer of the fence (add its folder to tests/fence/include_fence.cmake)")
    math(EXPR violations "${violations} + 1")
    continue()
  endif()
  file(STRINGS ${ROOT}/${file} lines)
  set(number 0)
  foreach(line IN LISTS lines)
    math(EXPR number "${number} + 1")
    if(line MATCHES "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\"")
      set(header ${CMAKE_MATCH_1})
      set(ok FALSE)
      foreach(prefix ${allowed})
        string(FIND "${header}" "${prefix}" at)
        if(at EQUAL 0)
          set(ok TRUE)
        endif()
      endforeach()
      if(NOT ok)
        message("${file}:${number}: includes ${header}, which ${folder} may not use")
        math(EXPR violations "${violations} + 1")
      endif()
    endif()
  endforeach()
endforeach()
list(LENGTH files count)
if(violations GREATER 0)
  message(FATAL_ERROR "include fence: ${violations} forbidden include(s) in ${count} files")
endif()
message("include fence: ${count} files, no forbidden include")
