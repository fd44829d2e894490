//! Background storage work runs at a lower CPU and I/O priority than the node's foreground work.
//!
//! fjall flushes full memtables and compacts tables on its own worker threads (named
//! `fjall:worker`). That work can wait a few hundred milliseconds; building, verifying and
//! committing a block cannot: a validator that falls behind them delays finality for everyone.
//! On a busy machine a 64 MiB flush (about a second of a core) otherwise competes on equal terms
//! with the block pipeline (ARCHITECTURE.md, "The tail is background storage work"). RocksDB
//! offers the same (`LowerThreadPoolCPUPriority`); fjall has no such setting.
//!
//! fjall starts its workers while the database opens, and on Linux a new thread inherits the nice
//! value of the thread that creates it. So [`with_lowered_priority`] opens the database on a
//! short-lived thread whose own priority was lowered first: the workers start lowered, no
//! privilege is needed (raising a thread's nice value never needs one), and no other thread of
//! the node changes. Only the CPU scheduling weight changes: under Linux's fair scheduler a
//! thread at nice 10 gets about a tenth of the share of one at nice 0 *when both want the CPU*,
//! and all of an idle CPU otherwise, so flushes are delayed under load but never starved (a full
//! set of memtables makes fjall stall writers, which then yields the CPU to the flush). Written
//! by hand because it is one system call; no crate does "spawn these threads at a lower priority".
//!
//! The same thread also takes the idle I/O scheduling class (`ioprio_set`), inherited the same
//! way: where the disk's scheduler honours classes (mq-deadline, BFQ), a flush's writes wait
//! while the node's own block commits (one fsync each) are queued, instead of delaying them.
//! mq-deadline still serves idle requests after a few seconds, and writers that outrun their
//! flushes are stalled by fjall until they finish, so a flush is late, never lost; schedulers
//! without classes (`none`, common for NVMe) ignore it.
//!
//! The opening itself (replaying fjall's journal after a crash) runs on that thread too, so a
//! restarting node replays at the lower priority; it then catches up through marshal at the
//! normal one.

/// Nice value given to fjall's worker threads (0 is the default priority, 19 the lowest).
pub const BACKGROUND_NICE: i32 = 10;

/// The thread name fjall gives its flush and compaction workers.
pub const WORKER_THREAD_NAME: &str = "fjall:worker";

/// Run `f` on a new thread whose nice value is `nice` and whose I/O class is
/// [`BACKGROUND_IO_CLASS`], so that every thread `f` starts inherits both, and return its result.
/// If a priority cannot be changed (or off Linux) `f` still runs, at the default one. Fails only if no thread can be started; a panic in `f` is resumed on
/// the caller's thread.
pub fn with_lowered_priority<T: Send>(
    nice: i32,
    f: impl FnOnce() -> T + Send,
) -> std::io::Result<T> {
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("xa-store-open".into())
            .spawn_scoped(scope, move || {
                imp::lower_current(nice);
                f()
            })?;
        handle
            .join()
            .map_err(|panic| std::panic::resume_unwind(panic))
    })
}

/// The nice value of thread `tid` of this process, if it can be read (Linux only; for tests and
/// diagnostics).
pub fn thread_nice(tid: u32) -> Option<i32> {
    imp::nice_of(tid)
}

/// The I/O scheduling class of thread `tid` of this process, 0 for the calling thread (Linux:
/// 0 none, 1 real-time, 2 best-effort, 3 idle), if it can be read; for tests and diagnostics.
pub fn thread_io_class(tid: u32) -> Option<i32> {
    imp::io_class_of(tid)
}

/// The I/O scheduling class of the storage workers: idle, served when no other I/O waits.
pub const BACKGROUND_IO_CLASS: i32 = 3;

/// The ids of this process's threads named `name` (Linux only).
pub fn threads_named(name: &str) -> Vec<u32> {
    imp::threads_named(name)
}

#[cfg(target_os = "linux")]
mod imp {
    use std::fs;

    pub fn threads_named(name: &str) -> Vec<u32> {
        let Ok(tasks) = fs::read_dir("/proc/self/task") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for task in tasks.flatten() {
            let Some(tid) = task
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            // `comm` holds the name, cut to 15 bytes, and a newline.
            let Ok(comm) = fs::read_to_string(task.path().join("comm")) else {
                continue;
            };
            if comm.trim_end_matches('\n') == name {
                out.push(tid);
            }
        }
        out.sort_unstable();
        out
    }

    pub fn lower_current(nice: i32) {
        // SAFETY: `gettid` takes no arguments and cannot fail; `setpriority` takes plain
        // integers and touches no memory of ours. On Linux, `PRIO_PROCESS` with a thread id
        // sets that one thread's nice value.
        let rc =
            unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, nice) };
        if rc != 0 {
            tracing::warn!(
                error = %std::io::Error::last_os_error(),
                "storage workers keep the default CPU priority"
            );
        }
        // SAFETY: plain integers; `IOPRIO_WHO_PROCESS` with id 0 names the calling thread.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_ioprio_set,
                IOPRIO_WHO_PROCESS,
                0,
                IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT,
            )
        };
        if rc != 0 {
            tracing::warn!(
                error = %std::io::Error::last_os_error(),
                "storage workers keep the default I/O priority"
            );
        }
    }

    /// Thread `tid`'s I/O priority class (`ioprio_get`; 0 = the calling thread), if the kernel
    /// tells.
    pub fn io_class_of(tid: u32) -> Option<i32> {
        // SAFETY: plain integers; `IOPRIO_WHO_PROCESS` names one thread, 0 the calling one.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_ioprio_get,
                IOPRIO_WHO_PROCESS,
                libc::c_long::from(tid),
            )
        };
        (rc >= 0).then_some((rc >> IOPRIO_CLASS_SHIFT) as i32)
    }

    // From the kernel's `include/uapi/linux/ioprio.h` (libc does not export them).
    const IOPRIO_WHO_PROCESS: libc::c_long = 1;
    const IOPRIO_CLASS_SHIFT: libc::c_long = 13;
    const IOPRIO_CLASS_IDLE: libc::c_long = super::BACKGROUND_IO_CLASS as libc::c_long;

    pub fn nice_of(tid: u32) -> Option<i32> {
        // `/proc/self/task/TID/stat`: the nice value is field 19; fields after the `(comm)`
        // start at 3, and comm may contain spaces, so split after its closing parenthesis.
        let stat = fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
        let rest = &stat[stat.rfind(')')? + 1..];
        rest.split_whitespace().nth(16)?.parse().ok()
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    pub fn threads_named(_name: &str) -> Vec<u32> {
        Vec::new()
    }

    pub fn lower_current(_nice: i32) {}

    pub fn io_class_of(_tid: u32) -> Option<i32> {
        None
    }

    pub fn nice_of(_tid: u32) -> Option<i32> {
        None
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use crate::{HashAlgo, Store};
    use std::time::{Duration, Instant};

    fn my_tid() -> u32 {
        // SAFETY: `gettid` takes no arguments and cannot fail.
        unsafe { libc::gettid() as u32 }
    }

    #[test]
    fn a_stores_workers_run_at_the_background_priority_and_its_caller_does_not() {
        let dir = tempfile::tempdir().expect("temp dir");
        let _store = Store::open(dir.path(), HashAlgo::Sha256).expect("open store");
        // A new thread names itself once it runs: wait for fjall's workers to appear.
        let deadline = Instant::now() + Duration::from_secs(10);
        let workers = loop {
            let workers = threads_named(WORKER_THREAD_NAME);
            if !workers.is_empty() || Instant::now() > deadline {
                break workers;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        assert!(!workers.is_empty(), "fjall runs worker threads");
        // Every store in this process opens through `Store::open`, so every worker is lowered.
        for tid in &workers {
            assert_eq!(thread_nice(*tid), Some(BACKGROUND_NICE), "worker {tid}");
            assert_eq!(
                thread_io_class(*tid),
                Some(BACKGROUND_IO_CLASS),
                "worker {tid}"
            );
        }
        assert_eq!(
            thread_nice(my_tid()),
            Some(0),
            "the opening thread keeps its priority"
        );
    }

    #[test]
    fn lowered_closure_runs_lowered_and_returns_its_value() {
        let (nice, io) = with_lowered_priority(7, || (thread_nice(my_tid()), thread_io_class(0)))
            .expect("thread");
        assert_eq!(nice, Some(7));
        assert_eq!(io, Some(BACKGROUND_IO_CLASS));
        assert_ne!(thread_io_class(0), Some(BACKGROUND_IO_CLASS));
        assert_eq!(thread_nice(my_tid()), Some(0));
        assert_eq!(thread_nice(u32::MAX), None);
    }
}
