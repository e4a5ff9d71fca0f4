//! Where `serve`'s log lines go: stderr, written in batches by a background thread.
//!
//! Strongbox logs one line per request. Writing each line to stderr from the request's own
//! thread costs a `write` system call per request; a channel to a logging thread (as
//! `tracing-appender` does) instead wakes that thread once per line, which on a busy machine
//! costs as much. Here a line is appended to a shared buffer under a lock, and the writer
//! thread is woken only when the buffer goes from empty to not empty. It then waits
//! [`GATHER`] for more lines and writes them all with one call, so a busy server makes tens of
//! writes a second instead of thousands. Measured in docs/BENCHMARKS.md
//! ("Request log written in batches").
//!
//! Order is kept (one buffer, appended under one lock). A line reaches stderr at most about
//! [`GATHER`] after it was logged; [`LogGuard`] writes out what is left when `serve` returns.
//! If stderr cannot keep up, a caller that finds [`MAX_BUFFERED`] bytes waiting writes them
//! itself, so memory stays bounded and nothing is dropped.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long the writer thread gathers lines after the first one arrives.
const GATHER: Duration = Duration::from_millis(10);

/// Buffered bytes past which the caller that logs writes them to stderr itself.
const MAX_BUFFERED: usize = 1 << 20;

#[derive(Default)]
struct State {
    buffer: Vec<u8>,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    /// Held while bytes taken from the buffer are written. It is taken while `state` is still
    /// held (never the other way round), so bytes reach stderr in the order they were taken:
    /// a caller writing a full buffer waits for the thread's write of the older batch.
    output: Mutex<()>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the buffered bytes and writes them, in order with every other write.
    fn write_out(&self, mut state: MutexGuard<'_, State>, out: &mut Vec<u8>) {
        std::mem::swap(out, &mut state.buffer);
        let _output = self.output.lock().unwrap_or_else(PoisonError::into_inner);
        drop(state);
        write_stderr(out);
        out.clear();
    }
}

/// The `tracing_subscriber` writer: each formatted line is appended to the shared buffer.
pub struct BatchedStderr {
    shared: Arc<Shared>,
}

/// Keeps the writer thread; dropping it writes out every buffered line and stops the thread.
pub struct LogGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// Starts the writer thread. Without a thread (the system refused one) lines are written
/// straight to stderr.
pub fn batched_stderr() -> (BatchedStderr, LogGuard) {
    let shared = Arc::new(Shared::default());
    let thread = {
        let shared = shared.clone();
        std::thread::Builder::new()
            .name("strongbox-log".into())
            .spawn(move || write_loop(&shared))
            .ok()
    };
    if thread.is_none() {
        shared.lock().closed = true;
    }
    (
        BatchedStderr {
            shared: shared.clone(),
        },
        LogGuard { shared, thread },
    )
}

fn write_loop(shared: &Shared) {
    let mut out = Vec::new();
    loop {
        let closed = {
            let mut state = shared.lock();
            while state.buffer.is_empty() && !state.closed {
                state = shared
                    .wake
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            state.closed
        };
        if !closed {
            std::thread::sleep(GATHER);
        }
        shared.write_out(shared.lock(), &mut out);
        if closed {
            return;
        }
    }
}

/// Writes to stderr, ignoring failure: a log line that cannot be written has nowhere else to
/// go, and must not fail the request that logged it.
fn write_stderr(bytes: &[u8]) {
    if !bytes.is_empty() {
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(bytes);
        let _ = stderr.flush();
    }
}

impl BatchedStderr {
    /// The same buffer as an output for lines formatted outside `tracing`
    /// ([`crate::wire::request_log`]), kept in order with every other line.
    pub fn line_output(&self) -> crate::wire::request_log::LineOutput {
        let shared = self.shared.clone();
        Box::new(move |line: &[u8]| {
            let _ = LineWriter { shared: &shared }.write_all(line);
        })
    }
}

/// One event's writer: borrows the shared buffer (no reference count per line).
pub struct LineWriter<'a> {
    shared: &'a Shared,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let mut state = self.shared.lock();
        let was_empty = state.buffer.is_empty();
        state.buffer.extend_from_slice(line);
        if state.closed || state.buffer.len() >= MAX_BUFFERED {
            // No writer thread (or it is stopping), or stderr is not keeping up: this caller
            // writes what is buffered, this line last.
            self.shared.write_out(state, &mut Vec::new());
        } else if was_empty {
            self.shared.wake.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BatchedStderr {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            shared: &self.shared,
        }
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        // Normally empty (once closed, callers write for themselves); kept for a thread that
        // ended early.
        self.shared.write_out(self.shared.lock(), &mut Vec::new());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(shared: &Shared) -> Vec<u8> {
        std::mem::take(&mut shared.lock().buffer)
    }

    #[test]
    fn lines_are_kept_in_order_and_whole() {
        let shared = Arc::new(Shared::default());
        let mut writer = LineWriter { shared: &shared };
        writer.write_all(b"one\n").unwrap();
        writer.write_all(b"two\n").unwrap();
        assert_eq!(take(&shared), b"one\ntwo\n");
    }

    #[test]
    fn a_full_buffer_is_written_by_the_caller() {
        let shared = Arc::new(Shared::default());
        let mut writer = LineWriter { shared: &shared };
        let line = vec![b'x'; MAX_BUFFERED];
        writer.write_all(&line).unwrap();
        assert!(take(&shared).is_empty(), "the caller wrote it out");
    }

    #[test]
    fn the_guard_stops_the_thread_and_empties_the_buffer() {
        let (sink, guard) = batched_stderr();
        let shared = sink.shared.clone();
        let mut writer = LineWriter { shared: &shared };
        writer.write_all(b"strongbox log_sink test line\n").unwrap();
        drop(guard);
        assert!(shared.lock().closed);
        assert!(take(&shared).is_empty());
        // After the guard, lines go straight to stderr.
        writer
            .write_all(b"strongbox log_sink test line after close\n")
            .unwrap();
        assert!(take(&shared).is_empty());
    }
}
