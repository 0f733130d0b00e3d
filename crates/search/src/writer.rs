//! The index writer's own thread, at a lower CPU priority than the threads serving requests.
//!
//! Indexing is background work: tokenizing new documents, committing segments, merging them
//! and building the facet tables of new segments took a fifth of a busy server's core, at the
//! same priority as the requests, whose tail latency paid for it. Tantivy's indexing, segment
//! updater and merge threads are started by the thread that creates the writer or commits, and
//! a Linux thread inherits its creator's priority; so the writer is created and driven on one
//! thread that lowers its own priority first. Under load the index then yields the CPU to the
//! requests and catches up in larger batches; when the server is idle nothing changes.

use std::sync::mpsc;
use std::thread::JoinHandle;

use tantivy::IndexWriter;

use crate::SearchError;

type Job = Box<dyn FnOnce(&mut IndexWriter) + Send>;

/// Owns the tantivy writer on a background-priority thread; jobs run there one at a time.
pub(crate) struct WriterThread {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl WriterThread {
    /// Starts the thread and creates the writer on it with `create`; its error is returned
    /// here (for instance when another process holds the index).
    pub(crate) fn start(
        create: impl FnOnce() -> Result<IndexWriter, SearchError> + Send + 'static,
    ) -> Result<Self, SearchError> {
        let (ready_sender, ready) = mpsc::sync_channel(1);
        let (jobs, receiver) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("consailt-index".to_owned())
            .spawn(move || {
                lower_priority();
                let mut writer = match create() {
                    Ok(writer) => writer,
                    Err(error) => {
                        let _ = ready_sender.send(Err(error));
                        return;
                    }
                };
                let _ = ready_sender.send(Ok(()));
                for job in receiver {
                    job(&mut writer);
                }
                // The writer drops here: tantivy finishes its merges and releases the index lock.
            })
            .map_err(|e| SearchError::Index(format!("cannot start the index writer thread: {e}")))?;
        let started = ready.recv().unwrap_or_else(|_| Err(stopped()));
        let writer = Self { jobs: Some(jobs), thread: Some(thread) };
        started.map(|()| writer)
    }

    /// Runs `job` on the writer's thread and waits for its result.
    pub(crate) fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut IndexWriter) -> Result<T, SearchError> + Send + 'static,
    ) -> Result<T, SearchError> {
        let (sender, result) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |writer| {
            let _ = sender.send(job(writer));
        });
        self.jobs.as_ref().ok_or_else(stopped)?.send(job).map_err(|_| stopped())?;
        // A job that panicked drops its sender without an answer.
        result.recv().map_err(|_| stopped())?
    }
}

impl Drop for WriterThread {
    /// Waits for the thread, so that the index lock is released when the index is dropped and
    /// the same directory can be opened again at once.
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the search index writer thread panicked");
        }
    }
}

fn stopped() -> SearchError {
    SearchError::Index("the search index writer thread has stopped".to_owned())
}

/// Lowers the calling thread's CPU priority by 10 nice levels, to a tenth of a request thread's
/// CPU weight when both want the CPU (Linux: priority is per thread, and the threads it starts
/// inherit it). Elsewhere the writer keeps the process's priority.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getpriority_process, setpriority_process};
        let me = Some(rustix::thread::gettid());
        let lowered = getpriority_process(me).and_then(|nice| setpriority_process(me, (nice + 10).min(19)));
        if let Err(error) = lowered {
            tracing::debug!(%error, "cannot lower the search index writer's priority; it runs at the server's");
        }
    }
}
