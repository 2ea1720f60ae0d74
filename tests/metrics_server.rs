//! The `/metrics` server under slow and hostile clients, against the real
//! binary (`tail --metrics-addr 127.0.0.1:0`, the chosen address read
//! from its log): clients that pipeline `GET /metrics` and never read the
//! answers, and clients that trickle a request header a byte at a time,
//! together holding more connections than the server keeps, must not stop
//! a real scrape for longer than the server's per-connection timeouts.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use support::append;
use support::services::{Proc, series, wait_for};

/// How long a real scrape may wait behind stalled clients: the server's
/// read and write timeouts are 5 s; the rest is room for a loaded machine.
const SCRAPE_BOUND: Duration = Duration::from_secs(12);

/// `faultline tail --metrics-addr 127.0.0.1:0` and the address it logs.
fn start_faultline(dir: &std::path::Path) -> (Proc, SocketAddr) {
    let log = dir.join("app.log");
    append(&log, "starting\n");
    let mut cmd = Command::new(support::bin_path());
    cmd.current_dir(dir)
        .args(["tail", "--log-level", "info", "--interval", "1s"])
        .arg("--summaries")
        .arg(dir.join("summaries.jsonl"))
        .args(["--metrics-addr", "127.0.0.1:0"])
        .arg(&log);
    let mut p = Proc::start("faultline", cmd, dir);
    let addr = wait_for(
        Duration::from_secs(10),
        "the metrics address in the log",
        || {
            p.assert_running();
            let text = p.log_text();
            text.split("serving metrics at http://")
                .nth(1)
                .and_then(|rest| rest.split("/metrics").next())
                .and_then(|a| a.parse::<SocketAddr>().ok())
                .ok_or(text)
        },
    );
    (p, addr)
}

/// One scrape over HTTP/1.0 with an overall deadline of `limit`; the body.
fn scrape(addr: SocketAddr, limit: Duration) -> Result<String, String> {
    let mut s = TcpStream::connect_timeout(&addr, limit).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(limit)).unwrap();
    s.set_write_timeout(Some(limit)).unwrap();
    s.write_all(format!("GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .map_err(|e| format!("sending the request: {e}"))?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)
        .map_err(|e| format!("reading the answer: {e}"))?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no HTTP response: {text:?}"))?;
    if !head.starts_with("HTTP/1.") || head.split_whitespace().nth(1) != Some("200") {
        return Err(format!("not a 200 answer: {head:?}"));
    }
    Ok(body.to_string())
}

/// A client that pipelines `GET /metrics` and never reads: it writes until
/// its writes block (the server stopped reading because its answers are not
/// taken) or fail (the server cut it off), and returns its connection
/// still open.
fn pipeliner(addr: SocketAddr) -> JoinHandle<TcpStream> {
    std::thread::spawn(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_write_timeout(Some(Duration::from_secs(1))).unwrap();
        let request = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\n");
        let batch = request.repeat(64 * 1024 / request.len());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match s.write(batch.as_bytes()) {
                Ok(_) if Instant::now() < deadline => continue,
                Ok(_) => panic!("the server took 60 s of pipelined requests without stalling"),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return s;
                }
                // Cut off by the server: as held as it can be.
                Err(_) => return s,
            }
        }
    })
}

/// A client that sends a request header one byte a second, until `stop`.
fn trickler(addr: SocketAddr, stop: Arc<AtomicBool>) -> JoinHandle<()> {
    let mut s = TcpStream::connect(addr).unwrap();
    std::thread::spawn(move || {
        let header = b"GET /metrics HTTP/1.1\r\nHost: slow\r\nX-Padding: ".iter();
        for &b in header.chain(std::iter::repeat(&b'a')) {
            if stop.load(Ordering::Relaxed) || s.write_all(&[b]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    })
}

#[test]
fn stalled_clients_do_not_stop_a_scrape() {
    let dir = tempfile::tempdir().unwrap();
    let (mut fl, addr) = start_faultline(dir.path());
    // The server answers at all.
    let first = scrape(addr, Duration::from_secs(5)).unwrap();
    assert!(
        series(&first).contains_key("faultline_lines_total"),
        "{first}"
    );

    // More stalled connections than the server keeps open: 16 that
    // pipeline and never read, 8 that trickle a header.
    let stop = Arc::new(AtomicBool::new(false));
    let tricklers: Vec<_> = (0..8).map(|_| trickler(addr, stop.clone())).collect();
    let pipeliners: Vec<_> = (0..16).map(|_| pipeliner(addr)).collect();
    // Held open (never read, never closed) until the scrape is over.
    let held: Vec<TcpStream> = pipeliners.into_iter().map(|t| t.join().unwrap()).collect();

    let start = Instant::now();
    let body = scrape(addr, SCRAPE_BOUND + Duration::from_secs(5));
    let took = start.elapsed();
    fl.assert_running();
    let body = body.unwrap_or_else(|e| {
        panic!(
            "a scrape behind stalled clients failed after {took:?}: {e}\nfaultline's log:\n{}",
            fl.log_text()
        )
    });
    assert!(
        series(&body).contains_key("faultline_lines_total"),
        "{body}"
    );
    assert!(
        took <= SCRAPE_BOUND,
        "a scrape behind stalled clients took {took:?}, more than {SCRAPE_BOUND:?}"
    );

    // And again while the same clients are still held: the stalled ones
    // are gone for good, not merely waited out once.
    let start = Instant::now();
    scrape(addr, SCRAPE_BOUND).unwrap();
    assert!(start.elapsed() <= SCRAPE_BOUND);

    stop.store(true, Ordering::Relaxed);
    drop(held);
    for t in tricklers {
        t.join().unwrap();
    }
    assert!(
        fl.terminate(Duration::from_secs(10))
            .is_some_and(|s| s.success()),
        "faultline did not stop cleanly:\n{}",
        fl.log_text()
    );
}
