# Debian packages from the install rules: `cpack -G DEB` in a configured
# build tree writes one package per install component (docs/packaging.md):
#   libraries   -> libvae0       libvae.so.0 (the package name carries the
#                                SONAME's major version)
#   development -> libvae-dev    vae.h, libvae.so, libvae.a, vae.pc, CMake package
#   examples    -> vae-examples  vae-image, vae-text
# The packages install under /usr whatever CMAKE_INSTALL_PREFIX says; vae.pc,
# the CMake package and the examples' run path are relative to where they
# are installed, so the same files serve both. docs/packaging.md has the
# commands (Debian's multiarch libdir and hardening flags).

# The package of each component.
set(VAE_PACKAGE_libraries libvae${PROJECT_VERSION_MAJOR})
set(VAE_PACKAGE_development libvae-dev)
set(VAE_PACKAGE_examples vae-examples)

set(CPACK_PACKAGE_NAME libvae)
set(CPACK_PACKAGE_VENDOR "libvae developers")
set(CPACK_PACKAGE_CONTACT "libvae developers <libvae@libvae.example>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})

# Each package's copyright and Debian changelog, as Debian policy wants them
# in /usr/share/doc/PACKAGE. EXCLUDE_FROM_ALL: cpack installs them with
# their component, a plain `cmake --install` does not.
string(TIMESTAMP VAE_DEB_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
file(READ "${PROJECT_SOURCE_DIR}/LICENSE" VAE_LICENSE_TEXT)
# Debian control-file style: each line indented by one space, "." for a
# blank line.
string(REGEX REPLACE "\n$" "" VAE_LICENSE_TEXT "${VAE_LICENSE_TEXT}")
string(REGEX REPLACE "\n\n" "\n.\n" VAE_LICENSE_TEXT "${VAE_LICENSE_TEXT}")
string(REGEX REPLACE "\n" "\n " VAE_LICENSE_TEXT " ${VAE_LICENSE_TEXT}")
configure_file(${PROJECT_SOURCE_DIR}/lib/debian/copyright.in
  ${PROJECT_BINARY_DIR}/debian/copyright @ONLY)
configure_file(${PROJECT_SOURCE_DIR}/lib/debian/changelog.in
  ${PROJECT_BINARY_DIR}/debian/changelog @ONLY)
vae_gzip(${PROJECT_BINARY_DIR}/debian/changelog
         ${PROJECT_BINARY_DIR}/debian/changelog.Debian.gz)

set(VAE_DEB_COMPONENTS libraries development)
if(VAE_BUILD_EXAMPLES)
  list(APPEND VAE_DEB_COMPONENTS examples)
endif()
foreach(component IN LISTS VAE_DEB_COMPONENTS)
  install(FILES ${PROJECT_BINARY_DIR}/debian/copyright
                ${PROJECT_BINARY_DIR}/debian/changelog.Debian.gz
    DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${VAE_PACKAGE_${component}}
    COMPONENT ${component} EXCLUDE_FROM_ALL)
  string(TOUPPER ${component} upper)
  set(CPACK_DEBIAN_${upper}_PACKAGE_NAME ${VAE_PACKAGE_${component}})
endforeach()

set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_COMPONENTS_ALL ${VAE_DEB_COMPONENTS})
# The build may carry -g (dpkg-buildflags adds it); the packages do not.
set(CPACK_STRIP_FILES ON)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SOURCE libvae)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://libvae.example/")
# Run-time dependencies from the binaries themselves (dpkg-shlibdeps); a
# component's dependencies on other components as "= version".
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The examples link libvae.so.0, which no installed package provides yet:
# dpkg-shlibdeps finds it in the libraries component's staging directory
# (a sibling of the one it runs in), and the dependency on libvae0 comes
# from the component dependency below.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS
  ../libraries${CPACK_PACKAGING_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR})
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)

set(CPACK_DEBIAN_LIBRARIES_PACKAGE_SECTION libs)
# A shlibs file, so that packages built against libvae0 depend on it (only
# this package holds a shared library), and the ldconfig trigger.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_LIBRARIES_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/lib/debian/triggers)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_COMPONENT_LIBRARIES_DESCRIPTION
  "library for variational autoencoders\n\
libvae computes the ELBO of variational autoencoders and its exact\n\
gradients, steps Adam, samples latents and decodes them, and saves\n\
models to one checked file. Encoders and decoders are graphs of dense,\n\
convolutional, LSTM and embedding layers.\n\
.\n\
This package contains the shared library.")

set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_DEVELOPMENT_DEPENDS libraries)
# libvae.a needs OpenBLAS at link time; vae.pc requires its openblas module.
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS libopenblas-dev)
set(CPACK_COMPONENT_DEVELOPMENT_DESCRIPTION
  "library for variational autoencoders - development files\n\
libvae computes the ELBO of variational autoencoders and its exact\n\
gradients, steps Adam, samples latents and decodes them, and saves\n\
models to one checked file.\n\
.\n\
This package contains the header vae.h, the static library, the\n\
pkg-config file (vae.pc) and the CMake package (find_package(vae)).")

set(CPACK_DEBIAN_EXAMPLES_PACKAGE_SECTION science)
set(CPACK_COMPONENT_EXAMPLES_DEPENDS libraries)
set(CPACK_COMPONENT_EXAMPLES_DESCRIPTION
  "variational autoencoders for images and sentences (libvae examples)\n\
vae-image trains, evaluates and samples variational autoencoders of\n\
MNIST-style images (MLP, convolutional and LSTM models) and writes PNG\n\
grids; vae-text trains sentence VAEs with LSTMs on the Brown corpus,\n\
aclImdb reviews or any file of lines, and generates sentences.")

include(CPack)
