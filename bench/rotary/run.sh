#!/usr/bin/env bash
# Builds bench/rotary/main.swift against the release build of AutoGLMCore (run `swift build -c
# release` first) and runs it with the given options (see main.swift).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rel="$root/.build/release"
[ -f "$rel/Modules/AutoGLMCore.swiftmodule" ] || { echo "run 'swift build -c release' in $root first" >&2; exit 1; }
out="$rel/rotary-bench"
swiftc -O -module-name RotaryBench -I "$rel/Modules" \
    -Xcc -fmodule-map-file="$rel/CKernels.build/module.modulemap" \
    -Xcc -fmodule-map-file="$root/Sources/CBLAS/module.modulemap" -Xcc -I"$root/Sources/CBLAS" \
    "$root/bench/rotary/main.swift" "$rel"/AutoGLMCore.build/*.swift.o "$rel"/CKernels.build/*.c.o \
    -lopenblas -o "$out"
exec "$out" "$@"
