/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qemu-storage-daemon as a child process (see qsd.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qsd.h"

const char *qsd_path(void)
{
	static char found[512];
	const char *env = getenv("VUBLK_QSD"), *path = getenv("PATH");

	if (env && *env)
		return access(env, X_OK) == 0 ? env : NULL;
	for (const char *p = path ? path : "/usr/bin:/bin"; p && *p;) {
		const char *end = strchr(p, ':');
		int n = end ? (int)(end - p) : (int)strlen(p);

		snprintf(found, sizeof(found), "%.*s/qemu-storage-daemon", n, p);
		if (n && access(found, X_OK) == 0)
			return found;
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

static void child_exec(const struct qsd *q, const char *bin, uint64_t size, bool null_co)
{
	char dev[256], exp[512];
	int fd = open(q->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	if (null_co)
		snprintf(dev, sizeof(dev), "driver=null-co,node-name=disk0,size=%llu",
			 (unsigned long long)size);
	else
		snprintf(dev, sizeof(dev), "driver=file,node-name=file0,filename=%s", q->image);
	snprintf(exp, sizeof(exp),
		 "type=vhost-user-blk,id=exp0,node-name=disk0,addr.type=unix,addr.path=%s,"
		 "writable=on,num-queues=1", q->sock);
	if (null_co)
		execl(bin, bin, "--blockdev", dev, "--export", exp, (char *)NULL);
	else
		execl(bin, bin, "--blockdev", dev, "--blockdev",
		      "driver=raw,node-name=disk0,file=file0", "--export", exp, (char *)NULL);
	_exit(127);
}

static void show_log(const struct qsd *q)
{
	char buf[4096];
	FILE *f = fopen(q->log, "r");
	size_t n;

	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	if (n)
		fprintf(stderr, "qemu-storage-daemon log:\n%s", buf);
}

static int make_image(const struct qsd *q, uint64_t size)
{
	int fd = open(q->image, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* Wait until the socket exists, or the child exits, or 10 s pass. */
static int wait_socket(struct qsd *q)
{
	struct timespec d = { 0, 20 * 1000 * 1000 };
	struct stat st;
	int status;

	for (int i = 0; i < 500; i++) {
		if (stat(q->sock, &st) == 0 && S_ISSOCK(st.st_mode))
			return 0;
		if (waitpid(q->pid, &status, WNOHANG) == q->pid) {
			q->pid = 0;
			fprintf(stderr, "qsd: qemu-storage-daemon exited (status %d)\n", status);
			show_log(q);
			return -ECHILD;
		}
		nanosleep(&d, NULL);
	}
	fprintf(stderr, "qsd: no socket after 10 s\n");
	show_log(q);
	return -ETIMEDOUT;
}

int qsd_start(struct qsd *q, uint64_t size, bool null_co)
{
	const char *bin = qsd_path();
	int rc;

	memset(q, 0, sizeof(*q));
	if (!bin)
		return -ENOENT;
	strcpy(q->dir, "/tmp/vublk-XXXXXX");
	if (!mkdtemp(q->dir))
		return -errno;
	snprintf(q->sock, sizeof(q->sock), "%s/vhost.sock", q->dir);
	snprintf(q->image, sizeof(q->image), "%s/disk.img", q->dir);
	snprintf(q->log, sizeof(q->log), "%s/qsd.log", q->dir);
	rc = null_co ? 0 : make_image(q, size);
	if (rc)
		return rc;
	fflush(NULL);
	q->pid = fork();
	if (q->pid < 0) {
		q->pid = 0;
		return -errno;
	}
	if (q->pid == 0)
		child_exec(q, bin, size, null_co);
	return wait_socket(q);
}

static bool wait_exit(struct qsd *q, int ms)
{
	struct timespec d = { 0, 10 * 1000 * 1000 };

	for (int i = 0; i < ms / 10; i++) {
		if (waitpid(q->pid, NULL, WNOHANG) == q->pid) {
			q->pid = 0;
			return true;
		}
		nanosleep(&d, NULL);
	}
	return false;
}

int qsd_stop(struct qsd *q)
{
	if (!q->pid)
		return -ESRCH;
	kill(q->pid, SIGTERM);
	if (wait_exit(q, 5000))
		return 0;
	qsd_kill(q);
	return -ETIMEDOUT;
}

void qsd_kill(struct qsd *q)
{
	if (!q->pid)
		return;
	kill(q->pid, SIGKILL);
	waitpid(q->pid, NULL, 0);
	q->pid = 0;
}

void qsd_cleanup(struct qsd *q)
{
	if (q->pid)
		qsd_stop(q);
	if (!q->dir[0])
		return;
	unlink(q->sock);
	unlink(q->image);
	unlink(q->log);
	rmdir(q->dir);
	q->dir[0] = 0;
}

static struct qsd *volatile sig_qsd;

static void on_fatal_signal(int sig)
{
	struct qsd *q = sig_qsd;

	if (q && q->dir[0]) { /* async-signal-safe calls only */
		if (q->pid)
			kill(q->pid, SIGKILL);
		unlink(q->sock);
		unlink(q->image);
		unlink(q->log);
		rmdir(q->dir);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

void qsd_cleanup_on_signal(struct qsd *q)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGABRT, SIGSEGV };
	struct sigaction sa = { .sa_handler = on_fatal_signal, .sa_flags = SA_RESETHAND };

	sig_qsd = q;
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

int qsd_count_regions(const struct qsd *q)
{
	char path[64], line[512];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)q->pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "memfd:swiotlb-pool"))
			n++;
	fclose(f);
	return n;
}
