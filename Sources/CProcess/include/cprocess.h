/*
 * cprocess.h: starting a search trial's child process, in C because the steps between fork and
 * exec must be async-signal-safe system calls (no Swift code may run in the forked child of a
 * multithreaded process).
 */
#ifndef AUTOGLM_CPROCESS_H
#define AUTOGLM_CPROCESS_H

#include <sys/types.h>

/*
 * Starts `path` with `argv` and `envp` (NULL-terminated) in a new process group, with standard
 * input from /dev/null and standard output and error appended to `output_fd`, every other
 * descriptor closed, the default signal dispositions and mask, and SIGTERM delivered to it if
 * the calling thread's process dies (PR_SET_PDEATHSIG; the caller keeps the calling thread alive
 * until it has reaped the child). Returns 0 and the child's pid in `*pid`, or an errno value:
 * the fork's, or the exec's (reported back through a close-on-exec pipe).
 * Thread-safe; blocks until the child has exec'd or failed to.
 */
int aglm_spawn(const char *path, char *const argv[], char *const envp[], int output_fd, pid_t *pid);

#endif
