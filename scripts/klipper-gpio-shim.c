// An LD_PRELOAD shim that lets Klipper's Linux-process MCU (klipper.elf) run
// on a machine without GPIO: /dev/gpiochipN "exists", opening it gives a
// descriptor of /dev/null, a line request hands out another, and setting or
// reading line values succeeds (reads give 0). Only the GPIO ioctls are
// answered here; every other call goes to libc. For tests only
// (scripts/moonraker.sh builds it; internal/moonrakertest preloads it).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int is_chip(const char *path) {
	return path != NULL && strncmp(path, "/dev/gpiochip", 13) == 0;
}

int access(const char *path, int mode) {
	static int (*real)(const char *, int);
	if (is_chip(path))
		return 0;
	if (!real)
		real = (int (*)(const char *, int))dlsym(RTLD_NEXT, "access");
	return real(path, mode);
}

static int open_any(const char *sym, const char *path, int flags, mode_t mode) {
	int (*real)(const char *, int, ...) = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, sym);
	if (is_chip(path))
		return real("/dev/null", O_RDWR | (flags & O_CLOEXEC));
	return real(path, flags, mode);
}

// open and open64 (the same in a 64-bit build, but either may be called).
#define OPEN_SHIM(name)                                                         \
	int name(const char *path, int flags, ...) {                            \
		va_list ap;                                                     \
		va_start(ap, flags);                                            \
		mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0; \
		va_end(ap);                                                     \
		return open_any(#name, path, flags, mode);                      \
	}
OPEN_SHIM(open)
OPEN_SHIM(open64)

int ioctl(int fd, unsigned long req, ...) {
	static int (*real)(int, unsigned long, ...);
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	switch (req) {
	case GPIO_GET_LINEHANDLE_IOCTL: {
		struct gpiohandle_request *r = arg;
		r->fd = open("/dev/null", O_RDWR);
		return r->fd < 0 ? -1 : 0;
	}
	case GPIOHANDLE_GET_LINE_VALUES_IOCTL:
		memset(arg, 0, sizeof(struct gpiohandle_data));
		return 0;
	case GPIOHANDLE_SET_LINE_VALUES_IOCTL:
		return 0;
	}
	if (!real)
		real = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
	return real(fd, req, arg);
}
