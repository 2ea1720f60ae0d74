//! `tail` from Kafka as a consumer group, against a broker over TCP:
//! librdkafka's mock cluster, run by this test process and served on
//! loopback ports to the faultline processes, with Debian's `kcat` as an
//! independent producer. The expected totals are counted by the test from
//! the messages it made, never from faultline's output.
//!
//! The scenarios kill instances with SIGKILL at random moments, restart
//! them, add one and remove one for good, and move partitions while their
//! previous owner is down; two more crash an instance deterministically
//! inside a commit (hidden `--kafka-crash-at`): after its state was saved
//! and before the commit ("checkpoint updated, commit lost"), and after
//! the commit landed and before the state recorded it. In every case the
//! sum of the instances' final `totals` must be exactly what was produced.

mod support;

use rdkafka::mocking::MockCluster;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Short, since the mock cluster holds every rebalance about this long; more
/// than its 3 s initial rebalance delay, or a first member times out while
/// it waits to be elected.
const SESSION: &str = "4s";

fn kcat() -> &'static str {
    assert!(
        Command::new("kcat")
            .arg("-V")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok(),
        "these tests need kcat (Debian package kcat; .ci/run installs it)"
    );
    "kcat"
}

/// What the test produced, counted by the test.
#[derive(Default, Debug, PartialEq)]
struct Expected {
    lines: u64,
    bytes: u64,
    hits: u64,
    by_code: BTreeMap<String, u64>,
}

/// A tiny deterministic generator (xorshift), seeded per run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Catalog codes of the plain `PREFIX.DIGITS` shape, so that a code
/// between spaces is a hit by the SPEC's rule and nothing else is.
fn codes() -> Vec<String> {
    let mut codes: Vec<String> = support::catalog()
        .into_keys()
        .filter(|c| {
            c.split_once('.').is_some_and(|(p, n)| {
                p.len() >= 2
                    && p.bytes().all(|b| b.is_ascii_alphabetic())
                    && n.len() >= 4
                    && n.bytes().all(|b| b.is_ascii_digit())
            })
        })
        .collect();
    // Forty codes spread over the catalog's services.
    let step = (codes.len() / 40).max(1);
    codes = codes.into_iter().step_by(step).take(40).collect();
    assert!(codes.len() >= 10, "too few plain codes in the catalog");
    codes
}

/// Makes `n` messages of one to three lines, most with codes, and counts
/// them into `expected`.
fn messages(rng: &mut Rng, codes: &[String], n: usize, expected: &mut Expected) -> Vec<String> {
    const WORDS: [&str; 8] = [
        "request", "failed", "upstream", "retrying", "volume", "attach", "status", "done",
    ];
    (0..n)
        .map(|_| {
            let mut m = String::new();
            let lines = 1 + rng.below(3);
            for l in 0..lines {
                m.push_str("2026-11-30T04:00:00Z worker ");
                for _ in 0..1 + rng.below(4) {
                    m.push_str(WORDS[rng.below(8) as usize]);
                    m.push(' ');
                }
                if rng.below(3) > 0 {
                    let code = &codes[rng.below(codes.len() as u64) as usize];
                    m.push_str("error_code: ");
                    m.push_str(code);
                    m.push_str(" (see docs)");
                    *expected.by_code.entry(code.clone()).or_insert(0) += 1;
                    expected.hits += 1;
                }
                // The last line ends without a newline in half the
                // messages: the end of a message is a boundary.
                if l + 1 < lines || rng.below(2) == 0 {
                    m.push('\n');
                }
            }
            expected.lines += lines;
            expected.bytes += m.len() as u64;
            m
        })
        .collect()
}

/// Produces `msgs` to one partition with kcat, one message per record
/// (records separated by the byte 0x1e).
fn produce(brokers: &str, topic: &str, partition: i32, msgs: &[String], scratch: &Path) {
    let file = scratch.join(format!("produce-{topic}-{partition}.bin"));
    let mut body = Vec::new();
    for m in msgs {
        body.extend_from_slice(m.as_bytes());
        body.push(0x1e);
    }
    std::fs::write(&file, &body).unwrap();
    let out = Command::new(kcat())
        .args(["-P", "-q", "-b", brokers, "-t", topic, "-p"])
        .arg(partition.to_string())
        .args(["-D", "\\x1e", "-l"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kcat -P failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One faultline instance: its state directory survives its processes.
struct Instance {
    name: String,
    state: PathBuf,
    child: Option<Child>,
    runs: Vec<PathBuf>,
    /// Exited for good (SIGTERM): its last summary is final.
    gone: bool,
}

struct Group {
    brokers: String,
    topic: String,
    dir: PathBuf,
    instances: Vec<Instance>,
}

impl Group {
    fn add(&mut self, name: &str) -> usize {
        let state = self.dir.join(format!("state-{name}"));
        self.instances.push(Instance {
            name: name.into(),
            state,
            child: None,
            runs: Vec::new(),
            gone: false,
        });
        self.instances.len() - 1
    }

    fn start(&mut self, i: usize, extra: &[&str]) {
        let inst = &mut self.instances[i];
        assert!(inst.child.is_none());
        let run = self
            .dir
            .join(format!("{}-run{}.jsonl", inst.name, inst.runs.len()));
        let err = std::fs::File::create(run.with_extension("err")).unwrap();
        let child = Command::new(support::bin_path())
            .arg("tail")
            .args(["--kafka-brokers", &self.brokers])
            .args(["--kafka-topic", &self.topic])
            .args(["--kafka-group", "faultline-test"])
            .args(["--kafka-session-timeout", SESSION])
            .arg("--state-dir")
            .arg(&inst.state)
            .args(if extra.contains(&"--from") {
                &[][..]
            } else {
                &["--from", "beginning"][..]
            })
            .args(["--interval", "500ms"])
            .arg("--summaries")
            .arg(&run)
            .args(extra)
            .args(
                std::env::var("FAULTLINE_TEST_LOG")
                    .ok()
                    .map(|l| vec!["--log-level".to_string(), l])
                    .unwrap_or_default(),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .unwrap();
        inst.child = Some(child);
        inst.runs.push(run);
    }

    fn kill9(&mut self, i: usize) {
        let mut c = self.instances[i].child.take().expect("running");
        c.kill().unwrap();
        c.wait().unwrap();
    }

    /// Waits for a process that ends by itself (`--kafka-crash-at`).
    fn wait_exit(&mut self, i: usize, timeout: Duration) -> i32 {
        let mut c = self.instances[i].child.take().expect("running");
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = c.try_wait().unwrap() {
                return s.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                c.kill().unwrap();
                c.wait().unwrap();
                panic!(
                    "{} did not exit: {}",
                    self.instances[i].name,
                    self.stderr(i)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stderr(&self, i: usize) -> String {
        let inst = &self.instances[i];
        inst.runs
            .iter()
            .map(|r| std::fs::read_to_string(r.with_extension("err")).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n---\n")
    }

    /// SIGTERM: the instance commits, writes its last summary, exits 0.
    fn stop(&mut self, i: usize) {
        self.stop_timed(i);
    }

    /// [`Group::stop`], returning how long the exit took.
    fn stop_timed(&mut self, i: usize) -> Duration {
        let sent = Instant::now();
        let mut c = self.instances[i].child.take().expect("running");
        // SAFETY: a signal to our own child, by pid.
        unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(s) = c.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                let _ = c.wait();
                panic!(
                    "{} did not stop on SIGTERM: {}",
                    self.instances[i].name,
                    self.stderr(i)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let took = sent.elapsed();
        assert!(
            status.success(),
            "{} exited with {status}: {}",
            self.instances[i].name,
            self.stderr(i)
        );
        took
    }

    fn signal(&self, i: usize, sig: i32) {
        let c = self.instances[i].child.as_ref().expect("running");
        // SAFETY: a signal to our own child, by pid.
        unsafe { libc::kill(c.id() as i32, sig) };
    }

    /// The totals of an instance's latest summary (its latest process).
    fn totals(&self, i: usize) -> Option<Value> {
        let run = self.instances[i].runs.last()?;
        let text = std::fs::read_to_string(run).ok()?;
        let last = text.lines().rfind(|l| !l.trim().is_empty())?;
        Some(serde_json::from_str::<Value>(last).ok()?["totals"].clone())
    }

    /// The group's totals: the sum of every instance's latest totals.
    fn sum(&self) -> Expected {
        let mut s = Expected::default();
        for i in 0..self.instances.len() {
            let Some(t) = self.totals(i) else { continue };
            s.lines += t["lines"].as_u64().unwrap();
            s.bytes += t["bytes"].as_u64().unwrap();
            s.hits += t["hits"].as_u64().unwrap();
            for (code, n) in t["by_code"].as_object().unwrap() {
                *s.by_code.entry(code.clone()).or_insert(0) += n.as_u64().unwrap();
            }
        }
        s
    }

    /// Waits until the group's totals reach `expected` (or pass it).
    fn settle(&self, expected: &Expected, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.sum();
            if s.hits >= expected.hits && s.lines >= expected.lines {
                return;
            }
            if Instant::now() > deadline {
                let errs: Vec<String> = (0..self.instances.len()).map(|i| self.stderr(i)).collect();
                panic!(
                    "the group's totals did not reach what was produced: {} of {} hits, {} of {} lines\n{}",
                    s.hits,
                    expected.hits,
                    s.lines,
                    expected.lines,
                    errs.join("\n===\n")
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Stops every running instance and checks the final sum exactly.
    fn finish(&mut self, expected: &Expected) {
        self.settle(expected, Duration::from_secs(120));
        // One more commit round, so a double count would show too.
        std::thread::sleep(Duration::from_millis(1500));
        for i in 0..self.instances.len() {
            if self.instances[i].child.is_some() {
                self.stop(i);
            }
        }
        let s = self.sum();
        assert_eq!(
            s, *expected,
            "the instances' final totals must add up to what was produced"
        );
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        for inst in &mut self.instances {
            if let Some(mut c) = inst.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}

fn group(
    cluster: &MockCluster<'static, rdkafka::producer::DefaultProducerContext>,
    topic: &str,
    partitions: i32,
    dir: &Path,
) -> Group {
    cluster.create_topic(topic, partitions, 1).unwrap();
    Group {
        brokers: cluster.bootstrap_servers(),
        topic: topic.into(),
        dir: dir.to_path_buf(),
        instances: Vec::new(),
    }
}

fn seed() -> u64 {
    let s = std::env::var("FAULTLINE_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("seed {s} (FAULTLINE_TEST_SEED={s} repeats this run)");
    s
}

#[test]
fn three_instances_six_partitions_kills_joins_leaves_and_moves_add_up_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = MockCluster::new(1).unwrap();
    let mut g = group(&cluster, "logs", 6, dir.path());
    let mut rng = Rng(seed());
    let codes = codes();
    let mut expected = Expected::default();
    let batch = |g: &Group, rng: &mut Rng, expected: &mut Expected, n: usize| {
        for p in 0..6 {
            let msgs = messages(rng, &codes, n, expected);
            produce(&g.brokers, &g.topic, p, &msgs, &g.dir);
        }
    };

    batch(&g, &mut rng, &mut expected, 200);
    let (a, b, c) = (g.add("a"), g.add("b"), g.add("c"));
    for i in [a, b, c] {
        g.start(i, &[]);
    }
    std::thread::sleep(Duration::from_secs(3));

    // Random kill -9s, each at a random moment, with traffic in between.
    for _ in 0..4 {
        batch(&g, &mut rng, &mut expected, 100);
        std::thread::sleep(Duration::from_millis(200 + rng.below(1500)));
        let victim = [a, b, c][rng.below(3) as usize];
        g.kill9(victim);
        std::thread::sleep(Duration::from_millis(rng.below(1500)));
        g.start(victim, &[]);
    }

    // A partition moved while its previous owner is down: kill c and wait
    // past the session timeout, so its partitions go to a and b, then
    // bring it back.
    batch(&g, &mut rng, &mut expected, 100);
    std::thread::sleep(Duration::from_millis(rng.below(800)));
    g.kill9(c);
    std::thread::sleep(Duration::from_secs(9));
    batch(&g, &mut rng, &mut expected, 100);
    std::thread::sleep(Duration::from_secs(2));
    g.start(c, &[]);

    // One joins, one leaves for good.
    let d = g.add("d");
    g.start(d, &[]);
    batch(&g, &mut rng, &mut expected, 100);
    std::thread::sleep(Duration::from_secs(3));
    g.stop(b);
    g.instances[b].gone = true;

    // Two more kills at random moments.
    for _ in 0..2 {
        batch(&g, &mut rng, &mut expected, 100);
        std::thread::sleep(Duration::from_millis(200 + rng.below(1500)));
        let victim = [a, c, d][rng.below(3) as usize];
        g.kill9(victim);
        std::thread::sleep(Duration::from_millis(rng.below(1000)));
        g.start(victim, &[]);
    }
    batch(&g, &mut rng, &mut expected, 100);
    g.finish(&expected);
}

/// Crashes instance a inside its first commit, lets b take every
/// partition while a is down, then brings a back.
fn crash_inside_a_commit(at: &str) -> (u64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let cluster = MockCluster::new(1).unwrap();
    let mut g = group(&cluster, "logs", 2, dir.path());
    let mut rng = Rng(seed());
    let codes = codes();
    let mut expected = Expected::default();
    for p in 0..2 {
        let msgs = messages(&mut rng, &codes, 300, &mut expected);
        produce(&g.brokers, &g.topic, p, &msgs, &g.dir);
    }
    let (a, b) = (g.add("a"), g.add("b"));
    g.start(a, &["--kafka-crash-at", at]);
    assert_eq!(
        g.wait_exit(a, Duration::from_secs(60)),
        86,
        "{}",
        g.stderr(a)
    );
    let state = state_of(&g.instances[a].state);
    let pending = state["pending"]["partitions"]
        .as_array()
        .expect("a pending commit");
    let pending_hits: u64 = pending
        .iter()
        .map(|p| p["counts"]["hits"].as_u64().unwrap())
        .sum();
    assert!(pending_hits > 0, "{state}");
    // b owns everything while a is down.
    g.start(b, &[]);
    if at == "save" {
        // a's commit never happened: b alone must reach every message.
        g.settle(&expected, Duration::from_secs(60));
    } else {
        // a's commit landed: b resumes after it and can never reach the
        // total alone; let it take over, then bring a back.
        std::thread::sleep(Duration::from_secs(9));
    }
    g.start(a, &[]);
    // a decides its pending commit once it has rejoined the group.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !state_of(&g.instances[a].state)["pending"].is_null() {
        assert!(
            Instant::now() < deadline,
            "a never decided: {}",
            g.stderr(a)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    g.finish(&expected);
    let a_hits = g.totals(a).unwrap()["hits"].as_u64().unwrap();
    (a_hits, pending_hits)
}

/// An instance's saved state (written atomically, so always whole).
fn state_of(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("kafka.json")).unwrap()).unwrap()
}

#[test]
fn checkpoint_saved_but_commit_lost_rolls_the_counts_back() {
    let (a_hits, _) = crash_inside_a_commit("save");
    assert_eq!(a_hits, 0, "a's commit never happened: b counted everything");
}

#[test]
fn commit_landed_but_checkpoint_not_updated_keeps_the_counts() {
    let (a_hits, pending_hits) = crash_inside_a_commit("commit");
    assert!(
        a_hits >= pending_hits,
        "a's landed commit must stand: {a_hits} < {pending_hits}"
    );
}

/// SIGTERM while the broker is down: the instance exits within a few
/// seconds (its last commit and its leave are bounded; librdkafka's
/// synchronous commit would wait forever), and once the broker is back a
/// restart brings the totals to exactly what was produced: a commit left
/// without an answer is decided by the protocol at the next start.
#[test]
fn sigterm_with_the_broker_down_exits_promptly_and_totals_stay_exact() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = MockCluster::new(1).unwrap();
    let mut g = group(&cluster, "logs", 2, dir.path());
    let mut rng = Rng(seed());
    let codes = codes();
    let mut expected = Expected::default();
    let batch = |g: &Group, rng: &mut Rng, expected: &mut Expected| {
        for p in 0..2 {
            let msgs = messages(rng, &codes, 300, expected);
            produce(&g.brokers, &g.topic, p, &msgs, &g.dir);
        }
    };
    batch(&g, &mut rng, &mut expected);
    let a = g.add("a");
    g.start(a, &[]);
    g.settle(&expected, Duration::from_secs(60));
    // More messages, read and maybe committed when the broker goes.
    batch(&g, &mut rng, &mut expected);
    std::thread::sleep(Duration::from_millis(rng.below(700)));
    cluster.broker_down(1).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let took = g.stop_timed(a);
    assert!(
        took < Duration::from_secs(8),
        "SIGTERM with the broker down took {took:?}: {}",
        g.stderr(a)
    );
    cluster.broker_up(1).unwrap();
    g.start(a, &[]);
    g.finish(&expected);
}

/// The instance's /metrics, as series.
fn metrics(addr: std::net::SocketAddr) -> Result<BTreeMap<String, f64>, String> {
    Ok(support::services::series(&support::services::get_ok(
        addr, "/metrics",
    )?))
}

fn lag_series(topic: &str, partition: i32) -> String {
    format!("faultline_kafka_consumer_lag{{partition=\"{topic}/{partition}\"}}")
}

/// `--from end`: a new group starts at the end of each partition, so the
/// messages produced before its first start are not counted and those
/// produced after are, exactly. Its consumer lag per partition, on
/// /metrics, is what was produced minus what it consumed: zero before and
/// after the second batch (all of it read), since the first batch is
/// behind its start.
#[test]
fn from_end_counts_only_what_comes_after_the_first_start_and_reports_lag() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = MockCluster::new(1).unwrap();
    let mut g = group(&cluster, "logs", 2, dir.path());
    let mut rng = Rng(seed());
    let codes = codes();
    let mut before = Expected::default();
    for p in 0..2 {
        let msgs = messages(&mut rng, &codes, 200, &mut before);
        produce(&g.brokers, &g.topic, p, &msgs, &g.dir);
    }
    let port = support::services::free_port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let a = g.add("a");
    let addr_arg = addr.to_string();
    g.start(a, &["--from", "end", "--metrics-addr", &addr_arg]);
    // Both partitions owned and positioned (their end fetched): the lag
    // series appear, at zero (nothing after the start yet).
    support::services::wait_for(
        Duration::from_secs(60),
        "the lag of both partitions",
        || {
            let m = metrics(addr)?;
            let lags: Vec<Option<f64>> = (0..2)
                .map(|p| m.get(&lag_series("logs", p)).copied())
                .collect();
            if lags == [Some(0.0), Some(0.0)] {
                Ok(())
            } else {
                Err(format!("{lags:?}"))
            }
        },
    );
    let mut after = Expected::default();
    let mut produced = [0u64; 2];
    for (p, n) in [(0, 150), (1, 250)] {
        let msgs = messages(&mut rng, &codes, n, &mut after);
        produce(&g.brokers, &g.topic, p, &msgs, &g.dir);
        produced[p as usize] = n as u64;
    }
    g.settle(&after, Duration::from_secs(60));
    // Everything produced since the start is consumed: zero lag again on
    // both partitions (the next window's figures).
    support::services::wait_for(Duration::from_secs(10), "zero lag", || {
        let m = metrics(addr)?;
        let lags: Vec<Option<f64>> = (0..2)
            .map(|p| m.get(&lag_series("logs", p)).copied())
            .collect();
        if lags == [Some(0.0), Some(0.0)] {
            Ok(())
        } else {
            Err(format!("{lags:?} after producing {produced:?}"))
        }
    });
    g.finish(&after);
}

/// SIGHUP reloads `--catalog`: a code added to the user catalog is counted
/// by name from then on (before, it is an unknown code of a known prefix).
#[test]
fn sighup_reloads_the_catalog_and_a_new_code_counts_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = MockCluster::new(1).unwrap();
    let mut g = group(&cluster, "logs", 1, dir.path());
    let user = dir.path().join("user.json");
    let entry = |code: &str| {
        format!(r#"{{"code": "{code}", "service": "ZZZ", "category": "quota", "message": "m"}}"#)
    };
    std::fs::write(&user, format!("[{}]", entry("Zzz.0001"))).unwrap();
    let msgs = |n: usize, code: &str| -> Vec<String> {
        (0..n)
            .map(|i| format!("req {i} failed: error_code {code} (see docs)\n"))
            .collect()
    };
    let a = g.add("a");
    g.start(
        a,
        &["--catalog", user.to_str().unwrap(), "--log-level", "info"],
    );
    produce(&g.brokers, &g.topic, 0, &msgs(30, "Zzz.0002"), &g.dir);
    produce(&g.brokers, &g.topic, 0, &msgs(20, "Zzz.0001"), &g.dir);
    support::services::wait_for(Duration::from_secs(60), "the first 50 codes", || {
        let t = g.totals(a).ok_or("no summary yet")?;
        if t["hits"] == 20 && t["unknown"] == 30 {
            Ok(())
        } else {
            Err(t.to_string())
        }
    });
    let t = g.totals(a).unwrap();
    assert_eq!(t["by_code"]["Zzz.0001"], 20, "{t}");
    assert!(
        t["by_code"].get("Zzz.0002").is_none(),
        "not in the catalog yet: {t}"
    );
    assert_eq!(t["unknown"], 30, "{t}");

    std::fs::write(
        &user,
        format!("[{},{}]", entry("Zzz.0001"), entry("Zzz.0002")),
    )
    .unwrap();
    g.signal(a, libc::SIGHUP);
    support::services::wait_for(Duration::from_secs(30), "the reload", || {
        if g.stderr(a).contains("catalog reloaded") {
            Ok(())
        } else {
            Err(g.stderr(a))
        }
    });
    produce(&g.brokers, &g.topic, 0, &msgs(40, "Zzz.0002"), &g.dir);
    support::services::wait_for(Duration::from_secs(60), "the 40 new hits", || {
        let t = g.totals(a).ok_or("no summary")?;
        if t["hits"].as_u64() >= Some(60) {
            Ok(())
        } else {
            Err(t.to_string())
        }
    });
    g.stop(a);
    let t = g.totals(a).unwrap();
    assert_eq!(
        t["by_code"]["Zzz.0002"], 40,
        "counted by name after the reload: {t}"
    );
    assert_eq!(t["by_code"]["Zzz.0001"], 20, "{t}");
    assert_eq!(t["unknown"], 30, "{t}");
    assert_eq!(t["hits"], 60, "{t}");
}
