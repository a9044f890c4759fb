#define _GNU_SOURCE
#include "cprocess.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* In the child: only system calls until exec. Reports errno through `report` on failure. */
static void child(const char *path, char *const argv[], char *const envp[], int output_fd, int report,
                  pid_t parent) {
    sigset_t none;
    int sig, null_fd, err;
    setpgid(0, 0); /* its own group: the terminal's Ctrl-C goes to the search, which stops it */
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent) goto fail; /* parent already gone */
    for (sig = 1; sig < NSIG; ++sig) signal(sig, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    null_fd = open("/dev/null", O_RDONLY);
    if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(output_fd, 1) < 0 || dup2(output_fd, 2) < 0) goto fail;
    /* Everything else closes on exec (the report pipe among them, which tells the parent exec worked). */
    if (syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) != 0) {
        int fd;
        for (fd = 3; fd < 65536; ++fd) if (fd != report) fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    execve(path, argv, envp);
fail:
    err = errno;
    while (write(report, &err, sizeof err) < 0 && errno == EINTR) {}
    _exit(127);
}

int aglm_spawn(const char *path, char *const argv[], char *const envp[], int output_fd, pid_t *pid) {
    int fds[2], err = 0;
    ssize_t got;
    pid_t parent = getpid(), p;
    if (pipe2(fds, O_CLOEXEC) != 0) return errno;
    p = fork();
    if (p < 0) {
        err = errno;
        close(fds[0]);
        close(fds[1]);
        return err;
    }
    if (p == 0) child(path, argv, envp, output_fd, fds[1], parent);
    close(fds[1]);
    do got = read(fds[0], &err, sizeof err); while (got < 0 && errno == EINTR);
    close(fds[0]);
    if (got == (ssize_t)sizeof err) {
        int status;
        while (waitpid(p, &status, 0) < 0 && errno == EINTR) {}
        return err;
    }
    *pid = p;
    return 0;
}
