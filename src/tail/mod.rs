//! `faultline tail`: the long-running agent. This module is the async
//! shell around the synchronous [`follow::Tailer`]: it turns file-system
//! events (`notify`: inotify on Linux), the safety-net poll, the window
//! ticker, stdin, the caller's shutdown and catalog reloads into calls on
//! the tailer, and writes the summaries and the checkpoint.
//!
//! [`run`] takes plain options ([`Config`]), a `shutdown` future and a
//! channel of catalogs, so it knows nothing of the command line, signals
//! or the runtime: the command layer maps SIGINT/SIGTERM to `shutdown` and
//! SIGHUP to a reloaded catalog, builds the runtime and raises the
//! open-files limit.
//!
//! One task does all the work, in this order of priority: shutdown,
//! catalog reloads, window ends, file events, polls, stdin, then more
//! reading while a file still has data (each round reads at most a budget
//! per file, so events and ticks are served between rounds). With nothing
//! to do it sleeps: no busy polling.
//!
//! With `--state-dir` and `--events FILE`, the events file is part of the
//! checkpoint (`events_file`): cut back at start to its length at the
//! last checkpoint, synced and measured at every save, so each hit's event
//! appears once through `kill -9` and restarts.
//!
//! Shutdown, in this order (see the end of [`run`]):
//!
//! 1. stop reading: what the files hold beyond this is read by the next
//!    start, from the saved positions;
//! 2. write the last (partial) window's summary (to a file: written; to a
//!    URL: queued);
//! 3. save the state, so that the positions and totals on disk are those
//!    of the summaries written: a kill during the next step loses no count
//!    and doubles none;
//! 4. give the summaries queued for a URL a short, bounded time to go out
//!    ([`crate::sink::summaries::SummaryOut::finish`]);
//! 5. stop the metrics server, last, so that the final counts can be
//!    scraped until then.
//!
//! A reloaded catalog closes the window (its counters are indexed by the
//! old catalog); one whose matcher cannot be built is reported and the
//! old one kept.
//!
//! With a metrics address, [`Metrics`] serves Prometheus as a task on the
//! caller's runtime, beside the summaries' delivery task; both run on the
//! runtime's worker thread, never the thread that reads (the command
//! layer's multi-thread runtime runs this future on the thread that
//! called it). The tailer feeds the metrics' counters hit by hit (through
//! the window aggregator's [`crate::window::HitObserver`]), and this loop
//! tells it the number of files followed and catalog changes.

mod cri;
mod discovery;
mod events_file;
pub mod follow;
mod identity;
mod k8s;
pub mod patterns;
mod state;

use crate::agent::{self, AgentError};
use crate::catalog::Catalog;
use crate::checkpoint::{CheckpointError, CheckpointStore};
use crate::metrics::{Metrics, MetricsAddr};
use events_file::{CutBack, EventsFile};
use follow::Tailer;
use notify::{EventKind, RecursiveMode, Watcher};
use patterns::{PatternError, Patterns};
use std::collections::HashSet;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::mpsc;

/// Why the agent could not start or stopped: its own causes (the
/// patterns, the checkpoint), or those it shares with Kafka's.
#[derive(Debug, thiserror::Error)]
pub enum TailError {
    #[error(transparent)]
    Pattern(#[from] PatternError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    Agent(#[from] AgentError),
}

/// A file-system event, as seen: which path, when, and whether it may
/// have added, removed or renamed files.
struct Wake {
    path: PathBuf,
    at: Instant,
    structural: bool,
}

/// Capacity of the event queue. When it is full, events are dropped and
/// the next loop looks at every file instead (memory stays bounded under
/// event floods; nothing is missed, since reading is by position).
const WAKE_QUEUE: usize = 4096;
/// Stdin chunks in flight between the reading thread and the engine.
const STDIN_QUEUE: usize = 4;
const STDIN_CHUNK: usize = 64 * 1024;

/// How to tail, independent of the command line.
#[derive(Clone, Debug)]
pub struct Config {
    /// Files, directories (the files directly in them) or globs to follow;
    /// `-` follows stdin until it ends.
    pub paths: Vec<PathBuf>,
    /// Without saved state, start files that exist at start-up at their end
    /// (else at their beginning).
    pub from_end: bool,
    /// Length of a summary window.
    pub interval: Duration,
    /// Where summaries go: a file, `-` (stdout) or an http(s) URL.
    pub summaries: String,
    /// Summaries queued at most for a URL.
    pub summaries_queue: usize,
    /// Serve Prometheus metrics here.
    pub metrics_addr: Option<MetricsAddr>,
    /// Also write every hit as a JSON line here (`-`: stdout).
    pub events: Option<PathBuf>,
    /// Save positions and totals here.
    pub state_dir: Option<PathBuf>,
    /// Set aside the saved state and start from zero.
    pub reset_state: bool,
    /// How often to look at every file even without a file-system event.
    pub poll_interval: Duration,
    /// Ask the kernel for file-system events (else the poll alone).
    pub file_events: bool,
    /// The process's descriptor limit (RLIMIT_NOFILE, soft): at most this
    /// many less [`follow::DESCRIPTOR_RESERVE`] files are followed at once;
    /// more wait until descriptors free up. `None`: no limit known.
    pub open_files: Option<u64>,
}

/// Runs the agent until `shutdown` completes (or stdin, when it is the
/// only input, ends): follows the files, writes a summary per window and
/// saves the state. Each catalog received on `reloads` replaces the
/// current one (SIGHUP, read by the caller). Needs a tokio runtime with
/// time and I/O; the caller chooses the runtime and the signals. The
/// metrics server and the summaries' delivery are spawned on that runtime:
/// for them never to wait for the reading (which is synchronous, in this
/// future), it should be a multi-thread runtime with a worker for them.
pub async fn run(
    catalog: Catalog,
    config: Config,
    mut reloads: mpsc::Receiver<Catalog>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), TailError> {
    let follow_stdin = config.paths.iter().any(|p| p.as_os_str() == "-");
    let file_args: Vec<PathBuf> = config
        .paths
        .iter()
        .filter(|p| p.as_os_str() != "-")
        .cloned()
        .collect();
    let patterns = Patterns::parse(&file_args)?;

    let store = match &config.state_dir {
        Some(dir) => Some(CheckpointStore::open(dir)?),
        None => None,
    };
    if let (Some(s), true) = (&store, config.reset_state) {
        s.reset()?;
    }
    let saved = match &store {
        Some(s) => s.load()?,
        None => None,
    };
    // With a state directory the events file is part of the checkpoint:
    // cut back to its length at the checkpoint before anything is written.
    let mut events_file = None;
    let events: Option<Box<dyn io::Write + Send>> = match &config.events {
        None => None,
        Some(p) if p.as_os_str() == "-" => Some(Box::new(io::stdout())),
        Some(p) => {
            let mark = saved.as_ref().and_then(|c| c.events.as_ref());
            let (file, writer, cut) =
                EventsFile::open(p, mark).map_err(|source| AgentError::Events {
                    path: p.clone(),
                    source,
                })?;
            match cut {
                CutBack::Cut(bytes) => log::info!(
                    "{}: cut back {bytes} bytes of events written after the last checkpoint; \
                     they are written again as their hits are counted again",
                    p.display()
                ),
                CutBack::NotTheFile(why) => log::warn!(
                    "{}: {why}; left as it is, so events after the last checkpoint may appear twice",
                    p.display()
                ),
                CutBack::NoMark | CutBack::Nothing => {}
            }
            if store.is_some() {
                events_file = Some(file);
            }
            Some(Box::new(writer))
        }
    };
    let mut summaries =
        agent::open_summaries(&config.summaries, config.interval, config.summaries_queue)?;
    let mut tailer = Tailer::new(
        catalog,
        patterns,
        events,
        saved
            .as_ref()
            .map(|c| (c.totals.clone(), c.created.clone())),
        SystemTime::now(),
    )
    .map_err(AgentError::from)?;
    if let Some(n) = config.open_files {
        tailer.limit_descriptors(n);
    }
    // The metrics take their labels from the tailer's matcher, and the
    // tailer feeds them from then on.
    let metrics = match &config.metrics_addr {
        Some(addr) => {
            let m = Metrics::start(
                addr,
                tailer.catalog(),
                tailer.matcher(),
                summaries.delivery(),
            )
            .map_err(AgentError::from)?;
            tailer.observe(Box::new(m.feed()));
            Some(m)
        }
        None => None,
    };
    // Its own outputs are never followed, whatever the patterns match.
    let summaries_file = PathBuf::from(&config.summaries);
    let own_files: Vec<&std::path::Path> = config
        .events
        .iter()
        .map(PathBuf::as_path)
        .chain(Some(summaries_file.as_path()))
        .filter(|p| p.as_os_str() != "-")
        .collect();
    let own_dirs: Vec<&std::path::Path> = config.state_dir.iter().map(PathBuf::as_path).collect();
    tailer.never_follow(&own_files, &own_dirs);

    // Watch before the first look, so nothing written in between is missed.
    let (wake_tx, mut wake_rx) = mpsc::channel::<Wake>(WAKE_QUEUE);
    let overflow = Arc::new(AtomicBool::new(false));
    let mut watcher = if !config.file_events {
        Err(notify::Error::generic("--no-file-events"))
    } else {
        let overflow = overflow.clone();
        notify::recommended_watcher(move |res: notify::Result<notify::Event>| match res {
            Ok(ev) => {
                let at = Instant::now();
                let structural = matches!(
                    ev.kind,
                    EventKind::Create(_)
                        | EventKind::Remove(_)
                        | EventKind::Modify(notify::event::ModifyKind::Name(_))
                );
                for path in ev.paths {
                    if wake_tx
                        .try_send(Wake {
                            path,
                            at,
                            structural,
                        })
                        .is_err()
                    {
                        overflow.store(true, Ordering::Relaxed);
                    }
                }
            }
            Err(_) => overflow.store(true, Ordering::Relaxed),
        })
    };
    if let Err(e) = &watcher {
        log::warn!(
            "no file-system events ({e}); relying on the poll every {:?}",
            config.poll_interval
        );
    }
    let mut watched: Vec<PathBuf> = Vec::new();
    let mut watch_dirs = |tailer: &Tailer, watched: &mut Vec<PathBuf>| {
        let Ok(w) = &mut watcher else { return };
        let targets = tailer.link_target_dirs().into_iter().map(|d| (d, false));
        for (dir, recursive) in tailer.patterns().watch_dirs().into_iter().chain(targets) {
            if watched.contains(&dir) || !dir.is_dir() {
                continue;
            }
            let mode = if recursive {
                RecursiveMode::Recursive
            } else {
                RecursiveMode::NonRecursive
            };
            match w.watch(&dir, mode) {
                Ok(()) => watched.push(dir),
                Err(e) => log::warn!("cannot watch {}: {e}; relying on the poll", dir.display()),
            }
        }
    };
    watch_dirs(&tailer, &mut watched);
    tailer.start(saved.as_ref(), config.from_end, Instant::now());
    // Links found by the first look: watch their targets' directories too.
    watch_dirs(&tailer, &mut watched);

    let mut stdin_rx = if follow_stdin {
        Some(spawn_stdin_reader())
    } else {
        None
    };
    let only_stdin = follow_stdin && file_args.is_empty();

    let shutdown = std::pin::pin!(shutdown);
    let mut shutdown = shutdown;
    let start = tokio::time::Instant::now();
    let mut window = tokio::time::interval_at(start + config.interval, config.interval);
    let mut poll = tokio::time::interval_at(start + config.poll_interval, config.poll_interval);
    let mut listed = None;
    window.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    // Events first, then the counts that include their hits: the mark of
    // the events file is taken after the tailer handed over all it
    // rendered, and saved in the same checkpoint as the counts.
    let save = |tailer: &mut Tailer| {
        let Some(s) = &store else { return };
        tailer.flush_events();
        let mut checkpoint = tailer.checkpoint(SystemTime::now());
        checkpoint.events = events_file.as_ref().and_then(EventsFile::mark);
        if let Err(e) = s.save(&checkpoint) {
            log::error!("{}", agent::with_causes(&e));
        }
    };

    loop {
        if let Some(m) = &metrics {
            m.set_files_watched(tailer.files_watched());
            m.set_files_unopened(tailer.files_unopened());
        }
        let more = tailer.read_ready(Instant::now());
        if overflow.swap(false, Ordering::Relaxed) {
            // Events were dropped: look at every file instead. The queued
            // events say nothing a full look does not, so drop them too.
            // No `continue`: under a flood this would starve the window
            // ticker and the signals below.
            while wake_rx.try_recv().is_ok() {}
            let now = Instant::now();
            tailer.rescan(now);
            tailer.poll(now);
        }
        tokio::select! {
            biased;
            _ = &mut shutdown => break,
            Some(catalog) = reloads.recv() => match tailer.reload(catalog, SystemTime::now()) {
                Ok(summary) => {
                    log::info!("catalog reloaded");
                    if let Some(m) = &metrics {
                        m.catalog_changed(tailer.catalog(), tailer.matcher());
                    }
                    summaries.write(&summary).map_err(AgentError::WriteSummary)?;
                    save(&mut tailer);
                }
                Err(e) => log::error!("catalog reload failed, keeping the old one: {e}"),
            },
            _ = window.tick() => {
                let summary = tailer.close_window(SystemTime::now());
                summaries.write(&summary).map_err(AgentError::WriteSummary)?;
                save(&mut tailer);
            }
            Some(first) = wake_rx.recv() => {
                // Paths that may have appeared, gone or been renamed: looked
                // at one by one (a full look per event would cost
                // files × events when a thousand files are created).
                let mut look: Vec<PathBuf> = Vec::new();
                let mut seen: HashSet<PathBuf> = HashSet::new();
                let mut wake = Some(first);
                while let Some(mut w) = wake {
                    w.path = tailer.patterns().spelling(w.path);
                    if (w.structural || !tailer.changed(&w.path, w.at)) && seen.insert(w.path.clone()) {
                        look.push(w.path);
                    }
                    wake = wake_rx.try_recv().ok();
                }
                if !look.is_empty() {
                    tailer.look_at(&look, Instant::now());
                }
            }
            _ = poll.tick() => {
                let now = Instant::now();
                watch_dirs(&tailer, &mut watched);
                // Listing a directory of 1,000 idle files each second is
                // most of an idle agent's CPU; skip it while no watched
                // directory changed.
                let stamp = tailer.patterns().listing_stamp(SystemTime::now());
                if stamp.is_none() || stamp != listed || tailer.links_moved() {
                    tailer.rescan(now);
                    listed = stamp;
                }
                tailer.poll(now);
            }
            chunk = recv_stdin(&mut stdin_rx) => match chunk {
                Some(bytes) => tailer.stdin_chunk(&bytes, Instant::now()),
                None => {
                    tailer.stdin_end();
                    stdin_rx = None;
                    if only_stdin {
                        break;
                    }
                }
            },
            _ = std::future::ready(()), if more => {}
        }
    }
    // Shutdown, in the order of the module docs.
    tailer.end_of_input(Instant::now());
    let summary = tailer.close_window(SystemTime::now());
    summaries
        .write(&summary)
        .map_err(AgentError::WriteSummary)?;
    save(&mut tailer);
    summaries.finish().await;
    if let Some(m) = metrics {
        m.stop().await;
    }
    Ok(())
}

/// The next stdin chunk; pending forever when stdin is not followed.
async fn recv_stdin(rx: &mut Option<mpsc::Receiver<Vec<u8>>>) -> Option<Vec<u8>> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Reads stdin on its own thread (reads from a pipe block) into a small
/// bounded queue: a fast writer waits for the engine, memory stays bounded.
fn spawn_stdin_reader() -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel(STDIN_QUEUE);
    std::thread::spawn(move || {
        let mut stdin = io::stdin().lock();
        loop {
            let mut buf = vec![0u8; STDIN_CHUNK];
            match stdin.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    buf.truncate(n);
                    if tx.blocking_send(buf).is_err() {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    log::error!("reading stdin: {e}");
                    break;
                }
            }
        }
    });
    rx
}
