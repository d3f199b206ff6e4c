/* A stand-in bcryptprimitives.dll for running the Windows build under Wine 8.
 *
 * Rust's standard library (1.78 and later) imports ProcessPrng from
 * bcryptprimitives.dll, which Windows 10 and later have and Wine 8 lacks. This DLL
 * provides it by calling BCryptGenRandom, which Wine has. It is only for testing under
 * Wine (scripts/windows_e2e.sh builds it into a temporary Wine prefix); a real Windows
 * system needs nothing of it.
 *
 * Build: x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll \
 *            bcryptprimitives_shim.c -lbcrypt
 */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    return BCryptGenRandom(NULL, data, (ULONG)len, BCRYPT_USE_SYSTEM_PREFERRED_RNG) == 0;
}
