# What `cmake --install` and `cpack` put where. Two components, two Debian packages:
#   runtime → tsunagu      programs, plugins, mappings, /etc/tsunagu, the systemd unit
#   sdk     → tsunagu-dev  the plugin SDK: headers, the codec as a static library, find_package(Tsunagu)
# The package is for prefix /usr: /etc/tsunagu and the unit are absolute destinations, and the
# packaged tsunagu.xml names /usr/lib/tsunagu/plugins and /usr/share/tsunagu/mappings. A staged
# install of the SDK alone (`cmake --install build --prefix DIR --component sdk`) writes nothing
# outside DIR.
include(CMakePackageConfigHelpers)

set(TSUNAGU_INSTALL_SYSCONFDIR /etc/tsunagu CACHE PATH "Where the package puts tsunagu.xml and the routing files")
set(TSUNAGU_INSTALL_UNITDIR /lib/systemd/system CACHE PATH "Where the package puts tsunagud.service")
set(TSUNAGU_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/Tsunagu)

# runtime
install(TARGETS tsunagud RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR} COMPONENT runtime)
install(TARGETS tsunagu RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
# (each in-tree plugin installs itself into ${TSUNAGU_PLUGIN_INSTALL_DIR}: cmake/TsunaguPlugin.cmake)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/mappings/ DESTINATION ${CMAKE_INSTALL_DATADIR}/tsunagu/mappings
        COMPONENT runtime FILES_MATCHING PATTERN "*.xml" PATTERN "*.xsd" PATTERN "*.md")
install(FILES ${PROJECT_SOURCE_DIR}/packaging/etc/tsunagu.xml
              ${PROJECT_SOURCE_DIR}/config/policies.xml ${PROJECT_SOURCE_DIR}/config/roster.xml
              ${PROJECT_SOURCE_DIR}/config/holidays.xml ${PROJECT_SOURCE_DIR}/config/routes.xml
        DESTINATION ${TSUNAGU_INSTALL_SYSCONFDIR} COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/tsunagu
        COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/config/README.md DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/tsunagu
        RENAME routing-config.md COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/tsunagud.service
        DESTINATION ${TSUNAGU_INSTALL_UNITDIR} COMPONENT runtime)

# sdk: Tsunagu::sdk (headers, C++20, Boost.DLL's headers, the codec) and tsunagu_add_plugin().
install(DIRECTORY ${PROJECT_SOURCE_DIR}/core/include/tsunagu/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tsunagu
        COMPONENT sdk FILES_MATCHING PATTERN "*.hpp")
# Adapters write #include <codec/cp932.hpp>, in-tree and out of tree alike.
install(FILES ${PROJECT_SOURCE_DIR}/core/src/codec/cp932.hpp ${PROJECT_SOURCE_DIR}/core/src/codec/csv_reader.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tsunagu/codec COMPONENT sdk)
install(TARGETS tsunagu_sdk tsunagu_codec EXPORT TsunaguTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT sdk
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT TsunaguTargets NAMESPACE Tsunagu:: DESTINATION ${TSUNAGU_INSTALL_CMAKEDIR} COMPONENT sdk)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/TsunaguConfig.cmake.in
  ${PROJECT_BINARY_DIR}/TsunaguConfig.cmake INSTALL_DESTINATION ${TSUNAGU_INSTALL_CMAKEDIR})
# The plugin ABI (kPluginApiVersion) is what really has to match; the loader checks it.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/TsunaguConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/TsunaguConfig.cmake ${PROJECT_BINARY_DIR}/TsunaguConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/TsunaguPlugin.cmake
        DESTINATION ${TSUNAGU_INSTALL_CMAKEDIR} COMPONENT sdk)

# CPack: cpack -G DEB in the build directory → tsunagu_<version>_<arch>.deb, tsunagu-dev_….deb
set(CPACK_PACKAGE_NAME tsunagu)
set(CPACK_PACKAGE_VENDOR "Tsunagu")
set(CPACK_PACKAGE_CONTACT "Tsunagu maintainers <tsunagu@example.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Tsunagu つなぐ — child-support integration hub")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_GENERATOR DEB)
# With DESTDIR (so that the absolute /etc and unit destinations land in the package, not on the
# build host) CPack installs under CPACK_INSTALL_PREFIX, whatever CMAKE_INSTALL_PREFIX is.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)  # RelWithDebInfo programs lose their debug sections in the package
set(CPACK_COMPONENTS_ALL runtime sdk)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # the Debian runtime libraries, from the ELF files (dpkg-dev)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME tsunagu)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS "adduser")
# The synopsis is CPACK_PACKAGE_DESCRIPTION_SUMMARY; these are the extended descriptions.
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION "Connects the ward health centre, public assistance, the \
child guidance centre and the schools so that what one office learns about a child at risk \
reaches the officers who must act on it: tsunagud (daemon, systemd unit), the tsunagu \
administration tool, the adapter plugins and the mappings. Configuration in /etc/tsunagu, data \
in /var/lib/tsunagu.")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/packaging/debian/postinst ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
  ${PROJECT_SOURCE_DIR}/packaging/debian/postrm ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles)
set(CPACK_DEBIAN_SDK_PACKAGE_NAME tsunagu-dev)
set(CPACK_DEBIAN_SDK_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_SDK_PACKAGE_DEPENDS "libboost-dev (>= 1.74), cmake (>= 3.20)")
set(CPACK_COMPONENT_SDK_DESCRIPTION "The Tsunagu plugin SDK: headers, the CP932/CSV codec as a \
static library and the CMake package (find_package(Tsunagu): Tsunagu::sdk, tsunagu_add_plugin) \
to build adapter and channel plugins out of tree.")
include(CPack)
