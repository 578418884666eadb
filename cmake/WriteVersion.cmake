# Script mode (cmake -P): write OUTPUT from cmake/version.cpp.in with the current git revision.
set(INFERWATCH_GIT_REVISION "unknown")
if(GIT_EXECUTABLE AND EXISTS "${SOURCE_DIR}/.git")
  execute_process(COMMAND ${GIT_EXECUTABLE} describe --always --dirty --abbrev=10
                  WORKING_DIRECTORY ${SOURCE_DIR}
                  OUTPUT_VARIABLE INFERWATCH_GIT_REVISION OUTPUT_STRIP_TRAILING_WHITESPACE
                  ERROR_QUIET)
  if(NOT INFERWATCH_GIT_REVISION)
    set(INFERWATCH_GIT_REVISION "unknown")
  endif()
endif()
configure_file(${SOURCE_DIR}/cmake/version.cpp.in ${OUTPUT} @ONLY)
