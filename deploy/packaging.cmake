# The Debian package (CPack, DEB generator): /usr/bin/boundwise, the hardened systemd
# unit, the default config as a conffile at /etc/boundwise/boundwise.yaml, the
# copyright file (Apache-2.0, the LICENSE at the top of the source), the Debian
# changelog, the man page boundwise(8), and a `boundwise` system user created by
# postinst. Build it from a configured build tree:
#   cmake --build build && (cd build && cpack -G DEB)
# The binary's install rule is in daemon/CMakeLists.txt; runtime library dependencies
# come from dpkg-shlibdeps. Tested by tests/deploy/deb_test.py, and checked by lintian
# in tests/deploy/lintian_test.py (ctest label deploy).
set(BOUNDWISE_DEPLOY_DIR ${CMAKE_CURRENT_LIST_DIR})
set(BOUNDWISE_PACKAGE_DIR ${PROJECT_BINARY_DIR}/package)

# The man page carries the project's version; the changelog's newest entry must name
# the same version (deb_test.py checks it).
configure_file(${BOUNDWISE_DEPLOY_DIR}/debian/boundwise.8.in ${BOUNDWISE_PACKAGE_DIR}/boundwise.8
               @ONLY)
# Debian compresses man pages and changelogs with `gzip -9n` (no name or time stamp in
# the header, so the package is reproducible); lintian checks both.
add_custom_command(
  OUTPUT ${BOUNDWISE_PACKAGE_DIR}/boundwise.8.gz ${BOUNDWISE_PACKAGE_DIR}/changelog.gz
  COMMAND sh -c "gzip -9nc '${BOUNDWISE_PACKAGE_DIR}/boundwise.8' > '${BOUNDWISE_PACKAGE_DIR}/boundwise.8.gz'"
  COMMAND sh -c "gzip -9nc '${BOUNDWISE_DEPLOY_DIR}/debian/changelog' > '${BOUNDWISE_PACKAGE_DIR}/changelog.gz'"
  DEPENDS ${BOUNDWISE_PACKAGE_DIR}/boundwise.8 ${BOUNDWISE_DEPLOY_DIR}/debian/changelog
  COMMENT "Compressing the man page and the Debian changelog"
  VERBATIM)
add_custom_target(boundwise_package_docs ALL DEPENDS ${BOUNDWISE_PACKAGE_DIR}/boundwise.8.gz
                                                     ${BOUNDWISE_PACKAGE_DIR}/changelog.gz)
install(FILES ${BOUNDWISE_PACKAGE_DIR}/boundwise.8.gz DESTINATION share/man/man8)
# A native package (the version has no Debian revision): its changelog is changelog.gz.
install(FILES ${BOUNDWISE_PACKAGE_DIR}/changelog.gz DESTINATION share/doc/boundwise)
# The tags lintian may not fail on, each with its reason (tests/deploy/lintian_test.py).
install(FILES ${BOUNDWISE_DEPLOY_DIR}/debian/lintian-overrides DESTINATION share/lintian/overrides
        RENAME boundwise)
# The configuration reference the man page points at.
install(FILES ${PROJECT_SOURCE_DIR}/docs/CONFIG.md DESTINATION share/doc/boundwise)

install(FILES ${BOUNDWISE_DEPLOY_DIR}/systemd/boundwise.service
        DESTINATION lib/systemd/system)
# Absolute: /etc whatever the prefix (CPack's is /usr). So `cmake --install` writes
# /etc/boundwise/boundwise.yaml too, as the package does.
install(FILES ${BOUNDWISE_DEPLOY_DIR}/systemd/boundwise.yaml DESTINATION /etc/boundwise)
install(FILES ${BOUNDWISE_DEPLOY_DIR}/README.md DESTINATION share/doc/boundwise)
# Debian's place for the licence: /usr/share/doc/PACKAGE/copyright (machine-readable;
# it points at the system's copy of the Apache-2.0 text).
install(FILES ${BOUNDWISE_DEPLOY_DIR}/debian/copyright DESTINATION share/doc/boundwise)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME boundwise)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
# The project has no mailing list yet: `.invalid` (RFC 2606) says so honestly, where
# `localhost` is an error for lintian (bogus-mail-host). Must match the signature of
# deploy/debian/changelog.
set(CPACK_PACKAGE_CONTACT "boundwise maintainers <maintainers@boundwise.invalid>")
# lintian: a synopsis under 80 characters, description lines under 80.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "profiling agent telling whether workloads are CPU- or I/O-bound")
set(CPACK_PACKAGE_DESCRIPTION
    "boundwise samples the processes of a host, classifies each workload's\n\
bottleneck (CPU, GIL, network, disk, locks, saturation) and recommends a\n\
concurrency model: threads, processes, asyncio, a free-threaded Python or\n\
scaling out, with a worker count, its cost and risks. The answer is published\n\
on a Prometheus /metrics endpoint, a JSON /recommend endpoint, a web page and\n\
a command line (boundwise status, boundwise explain).\n\
\n\
License: Apache-2.0.")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# postinst creates the user with adduser (Priority important, not Essential).
set(CPACK_DEBIAN_PACKAGE_DEPENDS adduser)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${BOUNDWISE_DEPLOY_DIR}/debian/conffiles ${BOUNDWISE_DEPLOY_DIR}/debian/postinst
    ${BOUNDWISE_DEPLOY_DIR}/debian/prerm ${BOUNDWISE_DEPLOY_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
