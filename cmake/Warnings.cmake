# Project-wide warnings and sanitizers, applied through the inferwatch_options interface target.
add_library(inferwatch_options INTERFACE)
target_compile_options(inferwatch_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                                    -Wno-unused-parameter)
if(INFERWATCH_WERROR)
  target_compile_options(inferwatch_options INTERFACE -Werror)
endif()
if(INFERWATCH_SANITIZE)
  # GCC 12 reports false -Wmaybe-uninitialized inside <regex> under sanitizers.
  target_compile_options(inferwatch_options INTERFACE -fsanitize=${INFERWATCH_SANITIZE} -fno-omit-frame-pointer
                                                      -Wno-maybe-uninitialized)
  target_link_options(inferwatch_options INTERFACE -fsanitize=${INFERWATCH_SANITIZE})
endif()

# Debian's hardening flags (what dpkg-buildflags gives packages): stack protector, fortified
# libc calls, format checks, read-only relocations bound at load time.
target_compile_options(inferwatch_options INTERFACE -fstack-protector-strong -Wformat
                                                    -Werror=format-security
                                                    $<$<NOT:$<CONFIG:Debug>>:-D_FORTIFY_SOURCE=2>)
target_link_options(inferwatch_options INTERFACE -Wl,-z,relro -Wl,-z,now)
