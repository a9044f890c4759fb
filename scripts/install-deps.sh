#!/usr/bin/env bash
# Installs the system packages AutoGLM needs, if missing (Debian/Ubuntu; run as root or with sudo):
#   libopenblas-dev  GEMM (cblas_sgemm, pthread build)
#   libffi-dev       calling C functions declared at run time (schedules, scalar hooks)
#   libcairo2-dev    drawing `autoglm plot`'s charts to SVG and PNG (the CCairo module, pkg-config cairo)
#   fonts-dejavu-core  a font for the charts' text (cairo finds it through fontconfig)
#   pkg-config       how SwiftPM finds cairo's include directory (pkgConfig "cairo" in Package.swift)
#   libssl-dev       OpenSSL's libcrypto: SHA-256 of plugin files for `autoglm plugins lock` (CLibCrypto)
#   libsqlite3-dev   SQLite for `autoglm search`'s study files (GRDB.swift links the system library)
#   fortunes         the default training corpus (/usr/share/games/fortunes)
#   gcc, g++         the system C compiler plugins are built with (and the tests use)
set -euo pipefail
need=()
for pkg in libopenblas-dev libffi-dev libcairo2-dev fonts-dejavu-core pkg-config libssl-dev libsqlite3-dev fortunes gcc g++ make; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
    echo "install-deps: missing ${need[*]}, and this is not a Debian-like system: install them with your package manager" >&2
    exit 1
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-deps: installing ${need[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
