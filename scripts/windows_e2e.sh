#!/usr/bin/env bash
# The Windows build, cross-built here and run under Wine (#19): builds
# x86_64-pc-windows-gnu with mingw-w64, makes a temporary Wine prefix holding the
# ProcessPrng shim (contrib/windows/bcryptprimitives_shim.c: Wine 8 lacks the DLL Rust's
# standard library imports it from), then runs tests/windows_build.rs, which compares the
# Windows build's outputs with the Linux build's.
#
# Needs: `rustup target add x86_64-pc-windows-gnu`, Debian's gcc-mingw-w64-x86-64 and
# wine64. Without them it says what is missing and exits 0 (CI goes on): the tests
# themselves need none of it.
#
#   scripts/windows_e2e.sh            # debug build (what CI runs)
#   PROFILE=release scripts/windows_e2e.sh
set -euo pipefail
cd "$(dirname "$0")/.."

target=x86_64-pc-windows-gnu
missing=()
rustup target list --installed 2>/dev/null | grep -qx "$target" || missing+=("rust target $target (rustup target add $target)")
command -v x86_64-w64-mingw32-gcc >/dev/null || missing+=("x86_64-w64-mingw32-gcc (apt-get install gcc-mingw-w64-x86-64)")
wine=""
for candidate in /usr/lib/wine/wine64 "$(command -v wine64 2>/dev/null || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then wine=$candidate; break; fi
done
[ -n "$wine" ] || missing+=("wine64 (apt-get install wine64)")
if [ ${#missing[@]} -gt 0 ]; then
    echo "windows e2e: SKIPPED, missing: ${missing[*]}"
    exit 0
fi

profile=${PROFILE:-debug}
flag=()
[ "$profile" = release ] && flag=(--release)
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
echo "windows e2e: building $target ($profile)"
cargo build --quiet "${flag[@]}" --target "$target" --bin netsession-scan
exe="$PWD/target/$target/$profile/netsession-scan.exe"

prefix=$(mktemp -d "${TMPDIR:-/tmp}/netsession-wine.XXXXXX")
trap 'wineserver -k >/dev/null 2>&1 || true; rm -rf "$prefix"' EXIT
export WINEPREFIX="$prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
echo "windows e2e: Wine prefix in $prefix"
wineboot -i >/dev/null 2>&1 || "$wine" wineboot -i >/dev/null 2>&1
x86_64-w64-mingw32-gcc -shared -O2 -o "$prefix/drive_c/windows/system32/bcryptprimitives.dll" \
    contrib/windows/bcryptprimitives_shim.c -lbcrypt

# Runtime DLLs beyond the system's would make the .exe unusable when copied alone.
if x86_64-w64-mingw32-objdump -p "$exe" | grep -iE "DLL Name: (libgcc|libwinpthread|libstdc)"; then
    echo "windows e2e: the .exe needs mingw runtime DLLs" >&2
    exit 1
fi
"$wine" "$exe" --version

NETSESSION_WINDOWS_EXE="$exe" NETSESSION_WINE="$wine" \
    cargo test --quiet --test windows_build -- --test-threads=1
echo "windows e2e: passed"
