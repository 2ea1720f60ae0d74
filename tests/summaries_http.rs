//! `tail --summaries http://...` against a receiver in the test: a small
//! HTTP/1.1 server on std threads that records what is POSTed, can be
//! taken down and brought back on the same port, or can accept requests
//! and never answer them.
//!
//! What must hold: summaries arrive as JSON with the SPEC shape; while the
//! endpoint is down or hangs, faultline keeps counting (metrics and events
//! advance exactly), memory stays bounded, and the drops are counted and
//! logged; when it is back, delivery resumes with the current totals. The
//! queue is shrunk (hidden --summaries-queue) and windows made short, so
//! that the bound is reached many times over within seconds: that is what
//! a minute of a dead endpoint does with the defaults.

mod support;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use support::append;
use support::services::{Proc, free_port, get_ok, series, start_serving, wait_for};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// Record each request and answer 204.
    Answer,
    /// Read requests and never answer.
    Hang,
}

#[derive(Debug, Clone)]
struct Post {
    method: String,
    path: String,
    content_type: String,
    body: Value,
}

#[derive(Default)]
struct State {
    posts: Vec<Post>,
    /// Requests read and left unanswered.
    hung: usize,
    open: usize,
    max_open: usize,
}

struct Receiver {
    addr: SocketAddr,
    mode: Mode,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    threads: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: Option<JoinHandle<()>>,
}

impl Receiver {
    fn start(port: u16, mode: Mode, state: Arc<Mutex<State>>) -> Receiver {
        // The port was just freed by a previous receiver; std sets
        // SO_REUSEADDR, so binding it again succeeds at once.
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let threads: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let accept = {
            let (state, stop, threads) = (state.clone(), stop.clone(), threads.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((conn, _)) => {
                            let (state, stop) = (state.clone(), stop.clone());
                            let t = std::thread::spawn(move || serve(conn, mode, &state, &stop));
                            threads.lock().unwrap().push(t);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        Receiver {
            addr,
            mode,
            state,
            stop,
            threads,
            accept: Some(accept),
        }
    }

    fn posts(&self) -> Vec<Post> {
        self.state.lock().unwrap().posts.clone()
    }

    /// Closes the listener and every connection; the port refuses
    /// connections from then on.
    fn stop(mut self) -> Arc<Mutex<State>> {
        self.shutdown();
        self.state.clone()
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.accept.take() {
            t.join().unwrap();
        }
        for t in self.threads.lock().unwrap().drain(..) {
            t.join().unwrap();
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// One connection: requests one after another (the client keeps the
/// connection alive) until EOF or stop.
fn serve(conn: TcpStream, mode: Mode, state: &Mutex<State>, stop: &AtomicBool) {
    {
        let mut s = state.lock().unwrap();
        s.open += 1;
        s.max_open = s.max_open.max(s.open);
    }
    conn.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let mut out = conn.try_clone().unwrap();
    let mut reader = BufReader::new(conn);
    'requests: while !stop.load(Ordering::Relaxed) {
        // Request line and headers.
        let mut head = Vec::<String>::new();
        // Kept across read timeouts: read_line keeps what it read so far.
        let mut line = String::new();
        loop {
            match reader.read_line(&mut line) {
                Ok(0) => break 'requests,
                Ok(_) if line == "\r\n" && !head.is_empty() => break,
                Ok(_) => {
                    if line.trim_end().is_empty() {
                        line.clear();
                        continue;
                    }
                    head.push(line.trim_end().to_string());
                    line.clear();
                }
                Err(_) if stop.load(Ordering::Relaxed) => break 'requests,
                // A read timeout, to look at `stop`.
                Err(_) => {}
            }
        }
        let header = |name: &str| {
            head.iter()
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        let len: usize = header("content-length").parse().unwrap_or(0);
        let mut body = vec![0; len];
        let mut got = 0;
        while got < len {
            match reader.read(&mut body[got..]) {
                Ok(0) => break 'requests,
                Ok(n) => got += n,
                Err(_) if stop.load(Ordering::Relaxed) => break 'requests,
                Err(_) => {}
            }
        }
        let mut parts = head[0].split_whitespace();
        let post = Post {
            method: parts.next().unwrap_or_default().to_string(),
            path: parts.next().unwrap_or_default().to_string(),
            content_type: header("content-type"),
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        };
        match mode {
            Mode::Answer => {
                state.lock().unwrap().posts.push(post);
                if out.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").is_err() {
                    break;
                }
            }
            Mode::Hang => state.lock().unwrap().hung += 1,
        }
    }
    state.lock().unwrap().open -= 1;
}

/// `faultline tail` POSTing summaries to `url`, with metrics.
fn start_faultline(dir: &Path, url: &str, interval: &str, queue: &str) -> (Proc, SocketAddr) {
    let metrics: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let mut cmd = Command::new(support::bin_path());
    cmd.current_dir(dir)
        .args(["tail", "--from", "beginning", "--poll-interval", "100ms"])
        .args(["--interval", interval, "--summaries", url])
        .args(["--summaries-queue", queue])
        .args(["--metrics-addr", &metrics.to_string()])
        .arg("--events")
        .arg(dir.join("events.jsonl"))
        .arg(dir.join("app.log"));
    (start_serving(cmd, dir, metrics), metrics)
}

/// The metrics that matter here.
#[derive(Debug, Default, Clone, Copy)]
struct Figures {
    hits: f64,
    sent: f64,
    failed: f64,
    dropped: f64,
    queued: f64,
}

fn figures(metrics: SocketAddr) -> Result<Figures, String> {
    let s = series(&get_ok(metrics, "/metrics")?);
    Ok(Figures {
        hits: s
            .iter()
            .filter(|(k, _)| k.starts_with("faultline_hits_total{"))
            .map(|(_, v)| v)
            .sum(),
        sent: s["faultline_summaries_sent_total"],
        failed: s["faultline_summaries_failed_total"],
        dropped: s["faultline_summaries_dropped_total"],
        queued: s["faultline_summaries_queued"],
    })
}

fn events_count(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("events.jsonl"))
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

/// `n` lines, each with one hit of a quota code.
fn hit_lines(n: usize, tag: &str) -> String {
    let codes = ["IMG.0015", "Ecs.0001", "CSBS.9006"];
    (0..n)
        .map(|i| format!("{tag} {i} ERROR code={} retry later\n", codes[i % 3]))
        .collect()
}

fn assert_spec_shape(p: &Post) {
    assert_eq!(p.method, "POST");
    assert_eq!(p.content_type, "application/json");
    let b = &p.body;
    let is_time = |v: &Value| {
        v.as_str()
            .is_some_and(|s| s.len() == 20 && s.ends_with('Z') && s.as_bytes()[10] == b'T')
    };
    assert!(
        is_time(&b["window_start"]) && is_time(&b["window_end"]),
        "{b}"
    );
    for k in ["lines", "bytes", "hits", "unknown"] {
        assert!(b[k].is_u64(), "{k}: {b}");
    }
    assert!(b["by_service_category"].is_object(), "{b}");
    assert!(b["unknown_codes"].is_object(), "{b}");
    for t in b["top_codes"].as_array().expect("top_codes") {
        for k in ["code", "service", "category", "message"] {
            assert!(t[k].is_string(), "{k}: {t}");
        }
        assert!(t["count"].is_u64(), "{t}");
    }
    for k in ["p50", "p99", "max"] {
        assert!(b["latency_ms"][k].is_number(), "{k}: {b}");
    }
    for k in ["lines", "hits", "unknown"] {
        assert!(b["totals"][k].is_u64(), "totals.{k}: {b}");
    }
    assert!(b["totals"]["by_code"].is_object(), "{b}");
}

#[test]
fn summaries_arrive_with_the_spec_shape_and_the_last_one_at_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let rx = Receiver::start(0, Mode::Answer, Arc::default());
    let url = format!("http://{}/ingest/faultline", rx.addr);
    append(&dir.join("app.log"), "");
    // A window longer than the test: the only summary is the one written
    // at shutdown, which must still go out.
    let (mut fl, _) = start_faultline(dir, &url, "1h", "64");
    append(
        &dir.join("app.log"),
        "E IMG.0015\nE IMG.0015 Ecs.0001\nW Ecs.9876\n",
    );
    wait_for(
        Duration::from_secs(10),
        "the events",
        || match events_count(dir) {
            4 => Ok(()),
            n => Err(format!("{n} events")),
        },
    );
    assert!(rx.posts().is_empty());
    let status = fl.terminate(Duration::from_secs(10));
    assert!(
        status.is_some_and(|s| s.success()),
        "{status:?}: {}",
        fl.log_text()
    );
    let posts = rx.posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    let p = &posts[0];
    assert_spec_shape(p);
    assert_eq!(p.path, "/ingest/faultline");
    let b = &p.body;
    assert_eq!(
        (b["lines"].as_u64(), b["hits"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(b["unknown"], 1);
    assert_eq!(b["unknown_codes"]["Ecs.9876"], 1);
    assert_eq!(b["top_codes"][0]["code"], "IMG.0015");
    assert_eq!(b["top_codes"][0]["count"], 2);
    let catalog = support::catalog();
    let img = &catalog["IMG.0015"];
    assert_eq!(b["top_codes"][0]["service"], img["service"]);
    assert_eq!(b["top_codes"][0]["category"], img["category"]);
    assert_eq!(b["totals"]["by_code"]["Ecs.0001"], 1);
}

#[test]
fn a_dead_endpoint_costs_no_scanning_and_delivery_resumes_when_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let state: Arc<Mutex<State>> = Arc::default();
    let rx = Receiver::start(0, Mode::Answer, state.clone());
    let port = rx.addr.port();
    let url = format!("http://{}/s", rx.addr);
    append(&dir.join("app.log"), "");
    let (mut fl, metrics) = start_faultline(dir, &url, "100ms", "4");
    wait_for(
        Duration::from_secs(10),
        "summaries delivered",
        || match state.lock().unwrap().posts.len() {
            n if n >= 2 => Ok(()),
            n => Err(format!("{n} posts")),
        },
    );

    // Down: connections refused.
    let state = rx.stop();
    let down_at = Instant::now();
    let mut written = 0usize;
    for round in 0..8 {
        let text = hit_lines(500, &format!("down{round}"));
        append(&dir.join("app.log"), &text);
        written += 500;
        // Counting goes on, exactly, while summaries cannot go out.
        let f = wait_for(Duration::from_secs(5), "hits counted while down", || {
            let f = figures(metrics)?;
            if f.hits == written as f64 && events_count(dir) == written {
                Ok(f)
            } else {
                Err(format!("{f:?}, {} events", events_count(dir)))
            }
        });
        assert!(f.queued <= 4.0, "{f:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let f = wait_for(Duration::from_secs(10), "drops", || {
        let f = figures(metrics)?;
        if f.dropped > 0.0 && f.failed > 0.0 {
            Ok(f)
        } else {
            Err(format!("{f:?}"))
        }
    });
    assert!(f.queued <= 4.0, "{f:?}");
    wait_for(Duration::from_secs(5), "the drops logged", || {
        let log = fl.log_text();
        if log.contains("dropped the oldest") && log.contains(&url) {
            Ok(())
        } else {
            Err(log)
        }
    });
    let posts_while_down = state.lock().unwrap().posts.len();
    eprintln!("down for {:?}: {f:?}", down_at.elapsed());

    // Back, on the same port: delivery resumes, with the current totals.
    let rx = Receiver::start(port, Mode::Answer, state.clone());
    let latest = wait_for(Duration::from_secs(10), "delivery to resume", || {
        let posts = rx.posts();
        match posts[posts_while_down..]
            .iter()
            .find(|p| p.body["totals"]["hits"] == written as u64)
        {
            Some(p) => Ok(p.clone()),
            None => Err(format!("{} new posts", posts.len() - posts_while_down)),
        }
    });
    assert_spec_shape(&latest);
    let f = wait_for(Duration::from_secs(5), "the queue to empty", || {
        let f = figures(metrics)?;
        if f.queued <= 1.0 && f.sent as usize > posts_while_down {
            Ok(f)
        } else {
            Err(format!("{f:?}"))
        }
    });
    assert_eq!(f.hits, written as f64);
    assert!(
        fl.log_text().contains("takes them again"),
        "{}",
        fl.log_text()
    );
    let status = fl.terminate(Duration::from_secs(10));
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
}

#[test]
fn a_hanging_endpoint_costs_no_scanning_and_no_memory() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let state: Arc<Mutex<State>> = Arc::default();
    let rx = Receiver::start(0, Mode::Hang, state.clone());
    assert_eq!(rx.mode, Mode::Hang);
    let url = format!("http://{}/hang", rx.addr);
    append(&dir.join("app.log"), "");
    // 50 ms windows: about a hundred summaries while the endpoint hangs,
    // against a queue of 4; each request gives up after 1 s.
    let (mut fl, metrics) = start_faultline(dir, &url, "50ms", "4");
    let started = Instant::now();
    let mut written = 0usize;
    let mut round = 0;
    while started.elapsed() < Duration::from_secs(4) {
        append(
            &dir.join("app.log"),
            &hit_lines(20_000, &format!("r{round}")),
        );
        written += 20_000;
        round += 1;
        std::thread::sleep(Duration::from_millis(150));
    }
    let wrote_all = Instant::now();
    let f = wait_for(Duration::from_secs(10), "every hit counted", || {
        let f = figures(metrics)?;
        if f.hits == written as f64 {
            Ok(f)
        } else {
            Err(format!("{f:?} of {written}"))
        }
    });
    let caught_up = wrote_all.elapsed();
    eprintln!(
        "{written} hits in {round} rounds; counted {caught_up:?} after the last write; {f:?}"
    );
    assert!(
        caught_up < Duration::from_secs(3),
        "scanning fell behind: {caught_up:?}"
    );
    assert!(
        f.dropped > 0.0 && f.failed > 0.0 && f.queued <= 4.0,
        "{f:?}"
    );
    assert_eq!(f.sent, 0.0);
    {
        let s = state.lock().unwrap();
        assert!(s.hung >= 2, "requests reached the endpoint: {}", s.hung);
        // One request at a time: a timed-out one is closed before the next.
        assert!(s.max_open <= 2, "{} connections at once", s.max_open);
        assert!(s.posts.is_empty());
    }
    // Peak memory of the whole run, as the kernel counts it.
    let status = std::fs::read_to_string(format!("/proc/{}/status", fl.pid())).unwrap();
    let peak_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!(peak_kib < 64 * 1024, "peak RSS {peak_kib} KiB");

    // Shutdown does not wait for the endpoint beyond its short deadline.
    let t = Instant::now();
    let status = fl.terminate(Duration::from_secs(10));
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert!(fl.log_text().contains("not delivered"), "{}", fl.log_text());
}
