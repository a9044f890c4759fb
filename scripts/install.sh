#!/usr/bin/env bash
# Installs a built AutoGLM like a system library, or removes it (`make install` / `make uninstall`):
#   PREFIX/bin/autoglm
#   PREFIX/lib/libautoglm.so.M.N                the C API library (M.N: autoglm.h's API version)
#   PREFIX/lib/libautoglm.so.M                  its soname, a link
#   PREFIX/lib/libautoglm.so                    for -lautoglm, a link
#   PREFIX/lib/autoglm/plugins/libaglm_*.so     the bundled plugins (autoglm and libautoglm find them here)
#   PREFIX/include/autoglm/{plugin,helpers,autoglm}.h
#   PREFIX/lib/pkgconfig/autoglm.pc             relocatable: its prefix is its own location
# The binaries carry the Swift runtime (linked statically, see Package.swift), so the tree works
# anywhere it is copied, without the build directory or a Swift toolchain.
#
# Usage: scripts/install.sh install PREFIX BUILD_DIR     (BUILD_DIR: .build/release after `make build`)
#        scripts/install.sh uninstall PREFIX
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: $0 install PREFIX BUILD_DIR | $0 uninstall PREFIX" >&2; exit 2; }
[ $# -ge 2 ] || usage
action=$1 prefix=$2
header=include/autoglm/autoglm.h
major=$(sed -n 's/^#define AGLM_API_MAJOR \([0-9]*\)$/\1/p' "$header")
minor=$(sed -n 's/^#define AGLM_API_MINOR \([0-9]*\)$/\1/p' "$header")
[ -n "$major" ] && [ -n "$minor" ] || { echo "install: cannot read the API version from $header" >&2; exit 1; }
headers=(plugin.h helpers.h autoglm.h)

case "$action" in
install)
    [ $# -eq 3 ] || usage
    build=$3
    for file in autoglm libAutoGLMC.so; do
        [ -f "$build/$file" ] || { echo "install: $build/$file is missing: run \`make build\` first" >&2; exit 1; }
    done
    plugins=("$build"/libaglm_*.so)
    [ -e "${plugins[0]}" ] || { echo "install: no bundled plugins (libaglm_*.so) in $build: run \`make build\` first" >&2; exit 1; }
    install -d "$prefix/bin" "$prefix/lib/autoglm/plugins" "$prefix/lib/pkgconfig" "$prefix/include/autoglm"
    install -m 755 "$build/autoglm" "$prefix/bin/autoglm"
    install -m 755 "$build/libAutoGLMC.so" "$prefix/lib/libautoglm.so.$major.$minor"
    ln -sfn "libautoglm.so.$major.$minor" "$prefix/lib/libautoglm.so.$major"
    ln -sfn "libautoglm.so.$major" "$prefix/lib/libautoglm.so"
    install -m 755 "${plugins[@]}" "$prefix/lib/autoglm/plugins/"
    for h in "${headers[@]}"; do install -m 644 "include/autoglm/$h" "$prefix/include/autoglm/$h"; done
    cat > "$prefix/lib/pkgconfig/autoglm.pc" <<EOF
# AutoGLM: the C embedding API (autoglm/autoglm.h, libautoglm) and the plugin ABI (autoglm/plugin.h).
# A plugin needs only the Cflags:  cc -shared -fPIC \$(pkg-config --cflags autoglm) my.c -o my.so
# The prefix is where this file lies, so a copied tree stays usable.
prefix=\${pcfiledir}/../..
libdir=\${prefix}/lib
includedir=\${prefix}/include
plugindir=\${libdir}/autoglm/plugins

Name: autoglm
Description: AutoGLM training host: C embedding API and plugin ABI
Version: $major.$minor
Cflags: -I\${includedir}
Libs: -L\${libdir} -Wl,-rpath,\${libdir} -lautoglm
EOF
    echo "installed AutoGLM (C API $major.$minor) into $prefix"
    ;;
uninstall)
    [ $# -eq 2 ] || usage
    rm -f "$prefix/bin/autoglm" "$prefix/lib/libautoglm.so" "$prefix/lib/libautoglm.so.$major" \
        "$prefix/lib/libautoglm.so.$major.$minor" "$prefix/lib/pkgconfig/autoglm.pc" \
        "$prefix"/lib/autoglm/plugins/libaglm_*.so
    for h in "${headers[@]}"; do rm -f "$prefix/include/autoglm/$h"; done
    # The folders only AutoGLM uses, when nothing else is left in them.
    rmdir "$prefix/lib/autoglm/plugins" "$prefix/lib/autoglm" "$prefix/include/autoglm" 2>/dev/null || true
    echo "removed AutoGLM from $prefix"
    ;;
*) usage ;;
esac
