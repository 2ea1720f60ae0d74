//! `faultline tail` as the command line asks: flags to [`tail::Config`],
//! and the process's side of the agent: the open-files limit, the one
//! runtime, SIGINT/SIGTERM as the shutdown and SIGHUP as a catalog reload.

use super::{StartFrom, TailArgs};
use anyhow::{Context, Result};
use faultline::catalog::Catalog;
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
    raise_open_files_limit();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the tail engine")?;
    rt.block_on(async {
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
                match reload() {
                    Ok(catalog) => {
                        if reloads.send(catalog).await.is_err() {
                            break;
                        }
                    }
                    Err(e) => log::error!("catalog reload failed, keeping the old one: {e:#}"),
                }
            }
        });
        tail::run(catalog, config(args), reloaded, shutdown)
            .await
            .map_err(Into::into)
    })
}

fn config(args: &TailArgs) -> Config {
    Config {
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
/// limit is 1024. Raise it to the hard limit.
fn raise_open_files_limit() {
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}
