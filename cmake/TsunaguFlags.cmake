# Shared compiler flags as INTERFACE targets (osquery cmake/flags.cmake style):
#   tsunagu_warnings      — every target of the project links it
#   tsunagu_plugin_flags  — plugins: hidden visibility, so only the descriptor and factory are exported
add_library(tsunagu_warnings INTERFACE)
target_compile_options(tsunagu_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual -Wcast-align
  -Wimplicit-fallthrough)
# Not -Wnull-dereference: GCC 12 reports false positives inside libstdc++ (streambuf) at -O2.
if(TSUNAGU_WERROR)
  target_compile_options(tsunagu_warnings INTERFACE -Werror)
endif()
add_library(tsunagu::warnings ALIAS tsunagu_warnings)

add_library(tsunagu_plugin_flags INTERFACE)
target_compile_options(tsunagu_plugin_flags INTERFACE -fvisibility=hidden -fvisibility-inlines-hidden)
# …and what a plugin links in statically from core (tsunagu::common) stays inside it too.
target_link_options(tsunagu_plugin_flags INTERFACE -Wl,--exclude-libs,ALL)
add_library(tsunagu::plugin_flags ALIAS tsunagu_plugin_flags)

if(TSUNAGU_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
