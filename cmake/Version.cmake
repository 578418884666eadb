# generated/version.cpp: the project version and the git revision (short commit, "-dirty" with
# local changes, "unknown" outside git). Regenerated on every build, not only at configure time,
# so `inferwatch --version` names the commit it was built from; the file is rewritten only when
# the text changes, so an unchanged revision costs no recompilation.
find_package(Git QUIET)
set(INFERWATCH_VERSION_CPP ${PROJECT_BINARY_DIR}/generated/version.cpp)
set(_inferwatch_version_args
    -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -DOUTPUT=${INFERWATCH_VERSION_CPP}
    -DPROJECT_VERSION=${PROJECT_VERSION} -DGIT_EXECUTABLE=${GIT_EXECUTABLE}
    -P ${PROJECT_SOURCE_DIR}/cmake/WriteVersion.cmake)
execute_process(COMMAND ${CMAKE_COMMAND} ${_inferwatch_version_args})
add_custom_target(inferwatch_version
                  COMMAND ${CMAKE_COMMAND} ${_inferwatch_version_args}
                  BYPRODUCTS ${INFERWATCH_VERSION_CPP}
                  COMMENT "Stamping the git revision")
