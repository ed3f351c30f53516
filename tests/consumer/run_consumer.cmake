# cmake -P script: builds and runs the consumer project in MODE add_subdirectory or find_package.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
endfunction()

set(common -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Release)
if(MODE STREQUAL "find_package")
  # Install corio from its own build tree (the one under test) into a private prefix.
  run(${CMAKE_COMMAND} --install ${CORIO_BUILD_DIR} --prefix ${WORK}/prefix)
  run(${CMAKE_COMMAND} -S ${SOURCE} -B ${WORK}/build ${common} -DCORIO_MODE=find_package
      -DCMAKE_PREFIX_PATH=${WORK}/prefix)
else()
  run(${CMAKE_COMMAND} -S ${SOURCE} -B ${WORK}/build ${common} -DCORIO_MODE=add_subdirectory
      -DCORIO_SOURCE_DIR=${CORIO_SOURCE_DIR})
endif()
run(${CMAKE_COMMAND} --build ${WORK}/build -j 2)
run(${WORK}/build/consumer)
message(STATUS "consumer (${MODE}) built and ran")
