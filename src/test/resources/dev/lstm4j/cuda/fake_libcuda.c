/* A stand-in for libcuda.so.1 that CudaDriverTest compiles with cc, so detection's FFM calls are exercised without a
   GPU. -DFAKE_NO_DEVICE makes cuInit fail as a driver without a device does (CUDA_ERROR_NO_DEVICE = 100). */
#include <string.h>
#include <stddef.h>

static const char *NAMES[] = {"Fake GPU Alpha", "Fake GPU Beta"};

int cuInit(unsigned int flags) {
#ifdef FAKE_NO_DEVICE
    return 100;
#else
    return flags == 0 ? 0 : 1;
#endif
}
int cuDriverGetVersion(int *v) { *v = 12040; return 0; }
int cuDeviceGetCount(int *n) { *n = 2; return 0; }
int cuDeviceGet(int *d, int ordinal) { if (ordinal < 0 || ordinal > 1) return 101; *d = ordinal; return 0; }
int cuDeviceGetName(char *name, int len, int d) { strncpy(name, NAMES[d], (size_t) len); name[len - 1] = 0; return 0; }
int cuDeviceGetAttribute(int *v, int attr, int d) {
    if (attr == 75) { *v = d == 0 ? 8 : 9; return 0; }
    if (attr == 76) { *v = d == 0 ? 6 : 0; return 0; }
    return 1;
}
int cuDeviceTotalMem_v2(size_t *bytes, int d) { *bytes = (size_t) (d + 1) * 1024u * 1024u * 1024u; return 0; }
int cuGetErrorName(int s, const char **p) { *p = s == 100 ? "CUDA_ERROR_NO_DEVICE" : "CUDA_ERROR_OTHER"; return 0; }
int cuGetErrorString(int s, const char **p) { *p = s == 100 ? "no CUDA-capable device is detected" : "other"; return 0; }
