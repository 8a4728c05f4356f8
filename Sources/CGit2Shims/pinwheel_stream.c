#define _GNU_SOURCE
#include "pinwheel_stream.h"
#include <git2/sys/stream.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PW_MAX_FDS 16

struct pw_op {
	atomic_int refcount;
	atomic_int expired;
	int64_t deadline_ns; /* CLOCK_MONOTONIC */
	pthread_mutex_t lock; /* guards fds */
	int fds[PW_MAX_FDS];
	int nfds;
};

static __thread pw_op *pw_current_op = NULL;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

pw_op *pw_op_new(int64_t timeout_ms)
{
	pw_op *op = calloc(1, sizeof(*op));
	if (!op)
		return NULL;
	atomic_init(&op->refcount, 1);
	atomic_init(&op->expired, 0);
	op->deadline_ns = now_ns() + timeout_ms * 1000000LL;
	pthread_mutex_init(&op->lock, NULL);
	return op;
}

static void pw_op_retain(pw_op *op)
{
	atomic_fetch_add(&op->refcount, 1);
}

void pw_op_release(pw_op *op)
{
	if (!op)
		return;
	if (atomic_fetch_sub(&op->refcount, 1) == 1) {
		pthread_mutex_destroy(&op->lock);
		free(op);
	}
}

void pw_op_set_current(pw_op *op)
{
	pw_current_op = op;
}

void pw_op_expire(pw_op *op)
{
	if (!op)
		return;
	atomic_store(&op->expired, 1);
	pthread_mutex_lock(&op->lock);
	for (int i = 0; i < op->nfds; i++)
		shutdown(op->fds[i], SHUT_RDWR);
	pthread_mutex_unlock(&op->lock);
}

int pw_op_is_expired(pw_op *op)
{
	if (!op)
		return 0;
	return atomic_load(&op->expired) || now_ns() >= op->deadline_ns;
}

int64_t pw_op_remaining_ms(pw_op *op)
{
	if (!op)
		return INT64_MAX;
	if (atomic_load(&op->expired))
		return 0;
	int64_t left = op->deadline_ns - now_ns();
	return left <= 0 ? 0 : (left + 999999) / 1000000;
}

static void op_add_fd(pw_op *op, int fd)
{
	if (!op)
		return;
	pthread_mutex_lock(&op->lock);
	if (op->nfds < PW_MAX_FDS)
		op->fds[op->nfds++] = fd;
	int expired = atomic_load(&op->expired);
	pthread_mutex_unlock(&op->lock);
	if (expired)
		shutdown(fd, SHUT_RDWR);
}

/* Removes fd from the op and closes it under the lock, so the watchdog can
 * never shut down a descriptor number that was reused elsewhere. */
static void op_close_fd(pw_op *op, int fd)
{
	if (op)
		pthread_mutex_lock(&op->lock);
	if (op) {
		for (int i = 0; i < op->nfds; i++) {
			if (op->fds[i] == fd) {
				op->fds[i] = op->fds[--op->nfds];
				break;
			}
		}
	}
	close(fd);
	if (op)
		pthread_mutex_unlock(&op->lock);
}

/*
 * Must mirror libgit2 1.5.1's internal git_socket_stream
 * (src/libgit2/streams/socket.h): the SSH transport casts the standard stream
 * to it and hands `s` to libssh2. Extra fields go after it.
 */
typedef struct {
	git_stream parent;
	char *host;
	char *port;
	int s; /* GIT_SOCKET on POSIX */
	pw_op *op;
} pw_stream;

static void set_timeout_error(pw_stream *st, const char *what)
{
	char msg[512];
	snprintf(msg, sizeof(msg), "network %s with %s:%s timed out (operation deadline passed)",
		what, st->host ? st->host : "?", st->port ? st->port : "?");
	git_error_set_str(GIT_ERROR_NET, msg);
}

static void set_os_error(pw_stream *st, const char *what, int err)
{
	char msg[512];
	snprintf(msg, sizeof(msg), "%s %s:%s failed: %s", what,
		st->host ? st->host : "?", st->port ? st->port : "?", strerror(err));
	git_error_set_str(GIT_ERROR_NET, msg);
}

static int poll_ms(pw_stream *st)
{
	int64_t ms = pw_op_remaining_ms(st->op);
	if (ms > 1000000000LL)
		return -1; /* no deadline */
	return (int)ms;
}

/* Waits until fd is ready for `events`. 0 ready, -1 error (message set). */
static int wait_fd(pw_stream *st, short events, const char *what)
{
	for (;;) {
		if (st->op && pw_op_is_expired(st->op)) {
			set_timeout_error(st, what);
			return -1;
		}
		struct pollfd p = { .fd = st->s, .events = events };
		int timeout = poll_ms(st);
		int rc = poll(&p, 1, timeout);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			set_os_error(st, what, errno);
			return -1;
		}
		if (rc == 0) {
			set_timeout_error(st, what);
			return -1;
		}
		return 0;
	}
}

/*
 * A name lookup on a thread of its own, so that the operation's deadline bounds it: getaddrinfo cannot be
 * interrupted, and a resolver that never answers would otherwise hang the fetch. When the deadline passes first,
 * the waiting side abandons the lookup and the thread frees it when getaddrinfo finally returns.
 */
typedef struct {
	pthread_mutex_t lock;
	pthread_cond_t done_cv;
	int done;
	int abandoned;
	int rc;
	char *host;
	char *port;
	struct addrinfo *info;
} pw_lookup;

static void lookup_free(pw_lookup *l)
{
	if (l->info)
		freeaddrinfo(l->info);
	free(l->host);
	free(l->port);
	pthread_cond_destroy(&l->done_cv);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

static void *lookup_thread(void *arg)
{
	pw_lookup *l = arg;
	struct addrinfo hints = { 0 }, *info = NULL;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_family = AF_UNSPEC;
	int rc = getaddrinfo(l->host, l->port, &hints, &info);
	pthread_mutex_lock(&l->lock);
	l->rc = rc;
	l->info = info;
	l->done = 1;
	int abandoned = l->abandoned;
	pthread_cond_signal(&l->done_cv);
	pthread_mutex_unlock(&l->lock);
	if (abandoned)
		lookup_free(l);
	return NULL;
}

/* Resolves st->host within the operation's deadline. 0 and *out on success; -1 with the error set. */
static int resolve(pw_stream *st, struct addrinfo **out)
{
	pw_lookup *l = calloc(1, sizeof(*l));
	if (!l || !(l->host = strdup(st->host)) || !(l->port = strdup(st->port))) {
		if (l) {
			free(l->host);
			free(l);
		}
		git_error_set_str(GIT_ERROR_NET, "out of memory resolving an address");
		return -1;
	}
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&l->done_cv, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&l->lock, NULL);

	pthread_attr_t thread_attr;
	pthread_attr_init(&thread_attr);
	pthread_attr_setdetachstate(&thread_attr, PTHREAD_CREATE_DETACHED);
	pthread_t thread;
	int started = pthread_create(&thread, &thread_attr, lookup_thread, l) == 0;
	pthread_attr_destroy(&thread_attr);
	if (!started)
		lookup_thread(l); /* no thread to be had: resolve here, unbounded, as before */

	pthread_mutex_lock(&l->lock);
	while (!l->done) {
		if (st->op && pw_op_is_expired(st->op)) {
			l->abandoned = 1;
			pthread_mutex_unlock(&l->lock);
			set_timeout_error(st, "name lookup");
			return -1;
		}
		/* Wake at least every 100 ms, so an operation expired from outside is noticed too. */
		int64_t wait_ms = pw_op_remaining_ms(st->op);
		if (wait_ms > 100)
			wait_ms = 100;
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += (long)(wait_ms * 1000000LL);
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&l->done_cv, &l->lock, &until);
	}
	int rc = l->rc;
	struct addrinfo *info = l->info;
	l->info = NULL;
	pthread_mutex_unlock(&l->lock);
	lookup_free(l);
	if (rc != 0) {
		char msg[512];
		snprintf(msg, sizeof(msg), "failed to resolve address for %s: %s", st->host, gai_strerror(rc));
		git_error_set_str(GIT_ERROR_NET, msg);
		return -1;
	}
	*out = info;
	return 0;
}

static int pw_connect(git_stream *stream)
{
	pw_stream *st = (pw_stream *)stream;
	struct addrinfo *info = NULL, *p;
	int rc, last_err = ECONNREFUSED;

	if (resolve(st, &info) < 0)
		return -1;

	for (p = info; p != NULL; p = p->ai_next) {
		int fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, p->ai_protocol);
		if (fd < 0) {
			last_err = errno;
			continue;
		}
		st->s = fd;
		op_add_fd(st->op, fd);
		int flags = fcntl(fd, F_GETFL, 0);
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
		rc = connect(fd, p->ai_addr, p->ai_addrlen);
		if (rc < 0 && errno == EINPROGRESS) {
			if (wait_fd(st, POLLOUT, "connection") < 0) {
				op_close_fd(st->op, fd);
				st->s = -1;
				freeaddrinfo(info);
				return -1;
			}
			int soerr = 0;
			socklen_t len = sizeof(soerr);
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
			rc = soerr ? -1 : 0;
			if (soerr)
				errno = soerr;
		}
		if (rc == 0) {
			/* Back to blocking: libssh2 (blocking session) uses the socket directly. */
			fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
			freeaddrinfo(info);
			return 0;
		}
		last_err = errno;
		op_close_fd(st->op, fd);
		st->s = -1;
	}
	freeaddrinfo(info);
	if (st->op && pw_op_is_expired(st->op)) {
		set_timeout_error(st, "connection");
		return -1;
	}
	set_os_error(st, "failed to connect to", last_err);
	return -1;
}

static ssize_t pw_read(git_stream *stream, void *data, size_t len)
{
	pw_stream *st = (pw_stream *)stream;
	if (wait_fd(st, POLLIN, "read") < 0)
		return -1;
	for (;;) {
		ssize_t n = recv(st->s, data, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			set_os_error(st, "read from", errno);
			return -1;
		}
		if (n == 0 && st->op && pw_op_is_expired(st->op)) {
			set_timeout_error(st, "read");
			return -1;
		}
		return n;
	}
}

static ssize_t pw_write(git_stream *stream, const char *data, size_t len, int flags)
{
	pw_stream *st = (pw_stream *)stream;
	size_t off = 0;
	(void)flags;
	while (off < len) {
		if (wait_fd(st, POLLOUT, "write") < 0)
			return -1;
		ssize_t n = send(st->s, data + off, len - off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			if (st->op && pw_op_is_expired(st->op))
				set_timeout_error(st, "write");
			else
				set_os_error(st, "write to", errno);
			return -1;
		}
		off += (size_t)n;
	}
	return (ssize_t)off;
}

static int pw_close(git_stream *stream)
{
	pw_stream *st = (pw_stream *)stream;
	if (st->s >= 0) {
		op_close_fd(st->op, st->s);
		st->s = -1;
	}
	return 0;
}

static void pw_free(git_stream *stream)
{
	pw_stream *st = (pw_stream *)stream;
	if (st->s >= 0)
		pw_close(stream);
	free(st->host);
	free(st->port);
	pw_op_release(st->op);
	free(st);
}

static int pw_init(git_stream **out, const char *host, const char *port)
{
	pw_stream *st = calloc(1, sizeof(*st));
	if (!st) {
		git_error_set_str(GIT_ERROR_NOMEMORY, "out of memory");
		return -1;
	}
	st->host = strdup(host ? host : "");
	st->port = strdup(port ? port : "");
	st->s = -1;
	st->op = pw_current_op;
	if (st->op)
		pw_op_retain(st->op);
	st->parent.version = GIT_STREAM_VERSION;
	st->parent.connect = pw_connect;
	st->parent.read = pw_read;
	st->parent.write = pw_write;
	st->parent.close = pw_close;
	st->parent.free = pw_free;
	*out = (git_stream *)st;
	return 0;
}

int pw_stream_register(void)
{
	static git_stream_registration reg = {
		.version = GIT_STREAM_VERSION,
		.init = pw_init,
		.wrap = NULL,
	};
	return git_stream_register(GIT_STREAM_STANDARD, &reg);
}

void pw_ignore_sigpipe_if_default(void)
{
	struct sigaction old;
	if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL) {
		struct sigaction ign = { 0 };
		ign.sa_handler = SIG_IGN;
		sigemptyset(&ign.sa_mask);
		sigaction(SIGPIPE, &ign, NULL);
	}
}

int pw_set_mwindow_file_limit(size_t limit)
{
	return git_libgit2_opts(GIT_OPT_SET_MWINDOW_FILE_LIMIT, limit);
}

int pw_enable_caching(int enabled)
{
	return git_libgit2_opts(GIT_OPT_ENABLE_CACHING, enabled);
}
