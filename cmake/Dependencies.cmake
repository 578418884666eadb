# Every third-party dependency, found once, as an imported target (Debian 12 packages only).
#   inferwatch::torch   LibTorch (libtorch-dev), or a CUDA LibTorch via CMAKE_PREFIX_PATH
#   inferwatch::opencv  OpenCV core + imgproc + imgcodecs (no CMake config without libopencv-dev)
#   Boost::json Boost::url Boost::headers, libuv::uv, SQLite::SQLite3, prometheus-cpp::core,
#   SQLiteCpp, fmt::fmt, spdlog::spdlog, tomlplusplus::tomlplusplus, CLI11::CLI11, TBB::tbb, doctest::doctest,
#   OpenSSL::Crypto, inferwatch::systemd, LibArchive::LibArchive (model version uploads)

find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)

# LibTorch: Debian's version file says 1.13.0.
find_package(Torch 1.13 REQUIRED)
add_library(inferwatch_torch_dep INTERFACE)
target_link_libraries(inferwatch_torch_dep INTERFACE ${TORCH_LIBRARIES})
target_include_directories(inferwatch_torch_dep SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
add_library(inferwatch::torch ALIAS inferwatch_torch_dep)
# INFERWATCH_CUDA: refuse a CPU-only LibTorch instead of building a daemon that cannot use the GPU.
if(INFERWATCH_CUDA AND NOT TORCH_CUDA_LIBRARIES AND NOT CUDA_FOUND)
  message(FATAL_ERROR "INFERWATCH_CUDA=ON but the LibTorch found (${Torch_DIR}) has no CUDA; point "
                      "CMAKE_PREFIX_PATH at a CUDA LibTorch, e.g. $(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')")
endif()
# LibTorch's intra-op threads are OpenMP's; infer/ sets them per thread (intra_op_threads.hpp).
find_package(OpenMP REQUIRED COMPONENTS CXX)

find_package(Boost 1.81 REQUIRED CONFIG COMPONENTS json url)
find_package(fmt REQUIRED CONFIG)
find_package(spdlog REQUIRED CONFIG)
find_package(tomlplusplus REQUIRED CONFIG)
find_package(CLI11 REQUIRED CONFIG)
find_package(TBB REQUIRED CONFIG)
find_package(prometheus-cpp REQUIRED CONFIG)
find_package(SQLite3 REQUIRED)
find_package(SQLiteCpp REQUIRED CONFIG)
find_package(OpenSSL REQUIRED COMPONENTS Crypto)
find_package(doctest REQUIRED CONFIG)
find_package(LibArchive 3.6 REQUIRED)  # libarchive-dev; CMake's FindLibArchive

pkg_check_modules(libuv REQUIRED IMPORTED_TARGET libuv)
add_library(libuv::uv ALIAS PkgConfig::libuv)
pkg_check_modules(libsystemd REQUIRED IMPORTED_TARGET libsystemd)
add_library(inferwatch::systemd ALIAS PkgConfig::libsystemd)

# OpenCV: Debian ships no CMake/pkg-config file without the heavy libopencv-dev.
find_path(OpenCV_INCLUDE_DIR opencv2/imgcodecs.hpp PATH_SUFFIXES opencv4 REQUIRED)
add_library(inferwatch_opencv_dep INTERFACE)
target_include_directories(inferwatch_opencv_dep SYSTEM INTERFACE ${OpenCV_INCLUDE_DIR})
foreach(module imgcodecs imgproc core)
  find_library(OpenCV_${module}_LIBRARY opencv_${module} REQUIRED)
  target_link_libraries(inferwatch_opencv_dep INTERFACE ${OpenCV_${module}_LIBRARY})
endforeach()
add_library(inferwatch::opencv ALIAS inferwatch_opencv_dep)
