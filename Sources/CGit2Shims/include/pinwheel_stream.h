#ifndef PINWHEEL_STREAM_H
#define PINWHEEL_STREAM_H

#include <git2.h>
#include <stdint.h>

/// One network operation (clone, fetch, push) with a deadline.
///
/// Streams created on a thread while an operation is current (see
/// `pw_op_set_current`) register their sockets with it, honour its deadline
/// in every connect/read/write, and are shut down by `pw_op_expire`, which
/// any thread may call (the watchdog) to abort the operation at once.
typedef struct pw_op pw_op;

/// Creates an operation whose deadline is `timeout_ms` from now. Reference count 1.
pw_op *pw_op_new(int64_t timeout_ms);
/// Drops one reference; frees the operation with the last one.
void pw_op_release(pw_op *op);
/// Makes `op` the current operation of the calling thread (NULL to clear).
void pw_op_set_current(pw_op *op);
/// Marks the operation expired and shuts down all of its sockets so that any
/// blocked read/write (ours or libssh2's) returns immediately. Thread-safe.
void pw_op_expire(pw_op *op);
/// Whether the deadline passed or `pw_op_expire` was called.
int pw_op_is_expired(pw_op *op);
/// Milliseconds left before the deadline (0 when passed).
int64_t pw_op_remaining_ms(pw_op *op);

/// Registers the deadline-aware standard stream with libgit2 (once per process).
int pw_stream_register(void);

/// Caps how many pack files libgit2 keeps open at once (git_libgit2_opts is variadic, which Swift cannot call).
/// Returns libgit2's result.
int pw_set_mwindow_file_limit(size_t limit);

/// Turns libgit2's cache of decoded objects on or off, for every repository of the process.
int pw_enable_caching(int enabled);

/// Ignores SIGPIPE if it still has its default disposition, so writing to a
/// socket shut down by the peer (libssh2 uses plain send) cannot kill the process.
void pw_ignore_sigpipe_if_default(void);

#endif
