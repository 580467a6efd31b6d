/*
 * shimpath.c -- where the bind-intercept shim is, and whether a program
 * can take it at all.
 */
#include <sys/stat.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "pmcd.h"

#ifndef PMC_SHIMDIR
#define PMC_SHIMDIR	"/usr/local/lib/pmc"
#endif

/*
 * $PMC_SHIM, else lib/libpmc-shim.so beside the bin/ of this pmcd (a
 * build tree), else the installed one.  Empty when none exists: apps with
 * intercept_bind then fail to start, saying so.
 */
void
shim_locate(char *buf, size_t len)
{
	char	 exe[PATH_MAX], *slash;
	ssize_t	 n;
	const char *s;

	char	 try[PATH_MAX + 32];

	buf[0] = '\0';
	if ((s = getenv("PMC_SHIM")) != NULL && *s != '\0') {
		if (*s != '/' || realpath(s, try) == NULL ||
		    access(try, R_OK) == -1)
			log_warnx("PMC_SHIM=%s: not a readable absolute path; "
			    "intercept_bind apps will not start", s);
		else
			strlcpy(buf, try, len);
		return;
	}
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL)
			*slash = '\0';
		snprintf(try, sizeof(try), "%s/../lib/libpmc-shim.so", exe);
		if (realpath(try, buf) != NULL && access(buf, R_OK) == 0)
			return;
	}
	snprintf(try, sizeof(try), "%s/libpmc-shim.so", PMC_SHIMDIR);
	if (realpath(try, buf) != NULL && access(buf, R_OK) == 0)
		return;
	buf[0] = '\0';
}

/* The file execvp would run for name, or -1. */
static int
open_program(const char *name, char *path, size_t len)
{
	const char	*p, *end;
	int		 fd;

	if (strchr(name, '/') != NULL) {
		strlcpy(path, name, len);
		return (open(path, O_RDONLY | O_CLOEXEC));
	}
	if ((p = getenv("PATH")) == NULL)
		p = "/usr/local/bin:/usr/bin:/bin";
	for (; *p != '\0'; p = *end == ':' ? end + 1 : end) {
		end = strchrnul(p, ':');
		snprintf(path, len, "%.*s/%s", (int)(end - p), p, name);
		if (access(path, X_OK) == 0 &&
		    (fd = open(path, O_RDONLY | O_CLOEXEC)) != -1)
			return (fd);
		if (*end == '\0')
			break;
	}
	return (-1);
}

/* Does the ELF file at fd name a program interpreter (dynamic loader)? */
static int
has_interp(int fd)
{
	Elf64_Ehdr	 e64;
	Elf64_Phdr	 p64;
	Elf32_Ehdr	*e32 = (Elf32_Ehdr *)&e64;
	Elf32_Phdr	 p32;
	off_t		 off;
	int		 i, n, is64;

	if (pread(fd, &e64, sizeof(e64), 0) < (ssize_t)sizeof(*e32) ||
	    memcmp(e64.e_ident, ELFMAG, SELFMAG) != 0)
		return (1);	/* not ELF (a script): not ours to judge */
	is64 = e64.e_ident[EI_CLASS] == ELFCLASS64;
	n = is64 ? e64.e_phnum : e32->e_phnum;
	for (i = 0; i < n; i++) {
		if (is64) {
			off = (off_t)(e64.e_phoff + (Elf64_Off)i * e64.e_phentsize);
			if (pread(fd, &p64, sizeof(p64), off) != sizeof(p64))
				return (1);
			if (p64.p_type == PT_INTERP)
				return (1);
		} else {
			off = (off_t)(e32->e_phoff + (Elf32_Off)i *
			    e32->e_phentsize);
			if (pread(fd, &p32, sizeof(p32), off) != sizeof(p32))
				return (1);
			if (p32.p_type == PT_INTERP)
				return (1);
		}
	}
	return (0);
}

/* In the child, before exec: 0, or -1 when a shim cannot enter argv0. */
int
shim_can_enter(const char *argv0)
{
	char	 path[PATH_MAX];
	int	 fd, ok;

	if ((fd = open_program(argv0, path, sizeof(path))) == -1)
		return (0);	/* exec will say why */
	ok = has_interp(fd);
	close(fd);
	return (ok ? 0 : -1);
}
