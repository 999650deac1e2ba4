# tsunagu_add_plugin(NAME <name> KIND adapter|channel SOURCES <files...> [LIBRARIES <libs...>] [OUTPUT_DIR <dir>])
# Builds a Boost.DLL plugin: a MODULE library with hidden visibility, linked against the plugin SDK
# (Tsunagu::sdk). The library file is named tsunagu-<kind>-<name>.so so a directory scan can tell
# plugins apart. The same file serves the source tree and the installed SDK (find_package(Tsunagu)).
# When TSUNAGU_PLUGIN_INSTALL_DIR is set (in-tree: lib/tsunagu/plugins) a plugin built without
# OUTPUT_DIR is installed there (component runtime); test plugins give OUTPUT_DIR and are not.
function(tsunagu_add_plugin)
  cmake_parse_arguments(P "" "NAME;KIND;OUTPUT_DIR" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT P_NAME OR NOT P_KIND OR NOT P_SOURCES)
    message(FATAL_ERROR "tsunagu_add_plugin: NAME, KIND and SOURCES are required")
  endif()
  if(NOT P_KIND MATCHES "^(adapter|channel)$")
    message(FATAL_ERROR "tsunagu_add_plugin(${P_NAME}): KIND must be adapter or channel, not '${P_KIND}'")
  endif()
  set(target tsunagu_${P_KIND}_${P_NAME})
  add_library(${target} MODULE ${P_SOURCES})
  target_link_libraries(${target} PRIVATE Tsunagu::sdk ${P_LIBRARIES})
  if(TARGET tsunagu_warnings)
    target_link_libraries(${target} PRIVATE tsunagu_warnings tsunagu_plugin_flags)
  endif()
  if(NOT P_OUTPUT_DIR AND TSUNAGU_PLUGIN_INSTALL_DIR)
    install(TARGETS ${target} LIBRARY DESTINATION ${TSUNAGU_PLUGIN_INSTALL_DIR} COMPONENT runtime)
  endif()
  if(NOT P_OUTPUT_DIR)
    if(TSUNAGU_PLUGIN_OUTPUT_DIR)
      set(P_OUTPUT_DIR ${TSUNAGU_PLUGIN_OUTPUT_DIR})
    else()
      set(P_OUTPUT_DIR ${CMAKE_CURRENT_BINARY_DIR})
    endif()
  endif()
  set_target_properties(${target} PROPERTIES
    PREFIX "" OUTPUT_NAME "tsunagu-${P_KIND}-${P_NAME}"
    LIBRARY_OUTPUT_DIRECTORY ${P_OUTPUT_DIR}
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
endfunction()
