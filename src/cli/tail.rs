//! `faultline tail` as the command line asks: flags to [`tail::Config`]
//! (files) or, with `--kafka-brokers`, to [`kafka::Config`] (a consumer
//! group), and the process's side of the agent: the open-files limit, the one
//! runtime, SIGINT/SIGTERM as the shutdown and SIGHUP as a catalog reload.

use super::{CrashAt, StartFrom, TailArgs};
use anyhow::{Context, Result};
use faultline::catalog::Catalog;
use faultline::kafka;
use faultline::tail::{self, Config};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

/// Runs the agent until SIGINT or SIGTERM (or the end of stdin when it is
/// the only input). `reload` loads the catalog again on SIGHUP; when it
/// fails the error is logged and the old catalog kept.
pub fn run(
    catalog: Catalog,
    args: &TailArgs,
    reload: impl Fn() -> Result<Catalog> + Send + 'static,
) -> Result<()> {
    let open_files = raise_open_files_limit();
    // The one runtime of the agent. Its future (the reading, synchronous)
    // runs on this thread; the metrics server, the summaries' delivery and
    // the signal tasks on the one worker, so a scrape or a POST never
    // waits for the reading, nor the reading for them. Blocking threads:
    // the Kafka loop and name lookups for summaries, bounded so that a
    // hanging lookup is not joined by another at every retry.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(4)
        .thread_name("faultline-agent")
        .enable_all()
        .build()
        .context("cannot start the tail engine")?;
    let result = rt.block_on(async {
        let mut sigint = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
        let mut sigterm = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        let mut sighup = signal(SignalKind::hangup()).context("cannot handle SIGHUP")?;
        let shutdown = async move {
            tokio::select! {
                _ = sigint.recv() => {}
                _ = sigterm.recv() => {}
            }
        };
        // One catalog at a time: a reload waits for the agent to take the
        // previous one.
        let (reloads, reloaded) = mpsc::channel(1);
        tokio::spawn(async move {
            while sighup.recv().await.is_some() {
                // Loading a catalog takes a while: off the worker, so the
                // metrics and summaries' tasks are not held up.
                match tokio::task::block_in_place(&reload) {
                    Ok(catalog) => {
                        if reloads.send(catalog).await.is_err() {
                            break;
                        }
                    }
                    Err(e) => log::error!("catalog reload failed, keeping the old one: {e:#}"),
                }
            }
        });
        match kafka_config(args) {
            Some(config) => kafka::run(catalog, config, reloaded, shutdown)
                .await
                .map_err(Into::into),
            None => tail::run(catalog, config(args, open_files), reloaded, shutdown)
                .await
                .map_err(Into::into),
        }
    });
    // A name lookup hanging on a blocking thread must not hold the exit.
    rt.shutdown_timeout(SHUTDOWN_WAIT);
    result
}

/// How long the runtime's leftover tasks may take at exit; the agent has
/// finished its shutdown by then (summaries flushed, state saved).
const SHUTDOWN_WAIT: std::time::Duration = std::time::Duration::from_millis(100);

/// The Kafka options, when `--kafka-brokers` is given (clap requires the
/// topic, the group and the state directory with it).
fn kafka_config(args: &TailArgs) -> Option<kafka::Config> {
    let brokers = args.kafka_brokers.clone()?;
    Some(kafka::Config {
        brokers,
        topics: args.kafka_topic.clone(),
        group: args.kafka_group.clone().unwrap_or_default(),
        session_timeout: args.kafka_session_timeout,
        from_end: args.from == StartFrom::End,
        interval: args.interval,
        summaries: args.summaries.clone(),
        summaries_queue: args.summaries_queue,
        metrics_addr: args.metrics_addr,
        events: args.events.clone(),
        state_dir: args.state_dir.clone().unwrap_or_default(),
        reset_state: args.reset_state,
        crash_at: args.kafka_crash_at.map(|c| match c {
            CrashAt::Save => kafka::CrashAt::Save,
            CrashAt::Commit => kafka::CrashAt::Commit,
        }),
    })
}

fn config(args: &TailArgs, open_files: Option<u64>) -> Config {
    Config {
        open_files,
        paths: args.paths.clone(),
        from_end: args.from == StartFrom::End,
        interval: args.interval,
        summaries: args.summaries.clone(),
        summaries_queue: args.summaries_queue,
        metrics_addr: args.metrics_addr,
        events: args.events.clone(),
        state_dir: args.state_dir.clone(),
        reset_state: args.reset_state,
        poll_interval: args.poll_interval,
        file_events: !args.no_file_events,
    }
}

/// Following a thousand files needs a thousand descriptors; the usual soft
/// limit is 1024. Raise it to the hard limit; the limit in force after.
fn raise_open_files_limit() -> Option<u64> {
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return None;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim = raised;
            }
        }
        (lim.rlim_cur != libc::RLIM_INFINITY).then_some(lim.rlim_cur)
    }
}
