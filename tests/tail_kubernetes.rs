//! `faultline tail` over a Kubernetes node's logs (SPEC section 3, `tail`;
//! issue 11): CRI records whose long lines the runtime split into partial
//! (`P`) records, and events that name the pod's workload. A fake pods
//! tree in a temporary directory (`var/log/pods/<ns>_<pod>_<uid>/<c>/0.log`
//! and the `var/log/containers/` links into it); the test writes logical
//! lines it composed itself, splits them into records at random points
//! (inside codes too) and interleaves stdout and stderr, so every
//! expected hit, offset and line comes from what it wrote.

mod support;

use serde_json::Value;
use std::io::Write;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::agent::Agent;

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One expected event: offset, line, code.
type Hit = (u64, u64, String);

/// A hit the test wrote, and whether its line's place is known: a line
/// whose first record comes while the other stream's split line is still
/// open is placed after that line (only its code is checked).
type Written = (Hit, bool);

/// A container's log as the runtime writes it, and what it holds.
#[derive(Default)]
struct PodLog {
    bytes: Vec<u8>,
    lines: u64,
    hits: Vec<Written>,
}

/// A logical line: its text and where its code is in it, if anywhere.
struct Logical {
    text: String,
    code: Option<(usize, &'static str)>,
}

fn logical(rng: &mut Rng, i: usize) -> Logical {
    let filler = "x".repeat(rng.below(60) as usize);
    match rng.below(4) {
        0 | 1 => {
            let code = ["Ecs.0013", "IMG.0015", "CSBS.9006"][rng.below(3) as usize];
            let head = format!("{i} ERROR {filler} failed code=");
            Logical {
                text: format!("{head}{code} after"),
                code: Some((head.len(), code)),
            }
        }
        // Near misses: no hit in the joined line, though a record split
        // inside them may look like one on its own.
        2 => Logical {
            text: format!("{i} WARN {filler} Ecs.00135 xEcs.0013 ok"),
            code: None,
        },
        _ => Logical {
            text: format!("{i} INFO {filler} all well"),
            code: None,
        },
    }
}

/// A record to write: its text, whether it is partial, and the code of
/// its logical line (on the line's first record) with its place there.
type Piece = (String, bool, Option<(usize, &'static str)>);

impl PodLog {
    /// Writes `n` logical lines per stream, each split into one to four
    /// records at random points, the two streams' records interleaved.
    fn write_lines(&mut self, rng: &mut Rng, n: usize) {
        let mut pending: [Vec<Piece>; 2] = [vec![], vec![]];
        for (s, queue) in pending.iter_mut().enumerate() {
            for i in 0..n {
                let l = logical(rng, i * 2 + s);
                let mut cuts: Vec<usize> = (0..rng.below(4))
                    .map(|_| 1 + rng.below(l.text.len() as u64 - 1) as usize)
                    .collect();
                // A cut inside the code, every other line that has one.
                if let Some((at, code)) = l.code
                    && i % 2 == 0
                {
                    cuts.push(at + 1 + rng.below(code.len() as u64 - 1) as usize);
                }
                cuts.sort();
                cuts.dedup();
                let mut from = 0;
                for (k, &cut) in cuts.iter().chain([l.text.len()].iter()).enumerate() {
                    let partial = cut < l.text.len();
                    let code = (k == 0).then_some(l.code).flatten();
                    queue.push((l.text[from..cut].to_string(), partial, code));
                    from = cut;
                }
            }
            queue.reverse();
        }
        // The code of a logical line is at its first record's text start
        // plus its place in the joined text.
        let mut open = [false; 2];
        while !pending[0].is_empty() || !pending[1].is_empty() {
            let s = if pending[1].is_empty() || (!pending[0].is_empty() && rng.below(2) == 0) {
                0
            } else {
                1
            };
            let (text, partial, code) = pending[s].pop().unwrap();
            let placed = !open[s] && !open[1 - s];
            open[s] = partial;
            let prefix = format!(
                "2026-11-30T01:02:{:02}.{:09}Z {} {} ",
                rng.below(60),
                rng.below(1_000_000_000),
                ["stdout", "stderr"][s],
                if partial { "P" } else { "F" }
            );
            if let Some((at, c)) = code {
                let offset = (self.bytes.len() + prefix.len() + at) as u64;
                self.hits
                    .push(((offset, self.lines + 1, c.to_string()), placed));
            }
            self.bytes.extend_from_slice(prefix.as_bytes());
            self.bytes.extend_from_slice(text.as_bytes());
            self.bytes.push(b'\n');
            self.lines += 1;
        }
    }
}

/// Appends `data` to `path` in random chunks (records split across
/// writes too).
fn append_chunked(path: &Path, data: &[u8], rng: &mut Rng) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    let mut i = 0;
    while i < data.len() {
        let n = (1 + rng.below(200) as usize).min(data.len() - i);
        f.write_all(&data[i..i + n]).unwrap();
        i += n;
        if rng.below(10) == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Starts `tail` in `dir` with its summaries in `dir/summaries.jsonl`.
fn start(dir: &Path, args: &[&str]) -> Agent {
    Agent::start(dir, &dir.join("summaries.jsonl"), args, Stdio::null())
}

/// Waits (bounded) for totals of (lines, bytes, hits), then stops the
/// agent (SIGTERM, exit 0).
fn stop_at(agent: Agent, want: (u64, u64, u64)) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let got = last_totals(&agent.summaries).unwrap();
        if got == want {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "totals (lines, bytes, hits) {got:?}, want {want:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    agent.stop();
}

fn last_totals(path: &Path) -> Option<(u64, u64, u64)> {
    let text = std::fs::read_to_string(path).ok()?;
    let v: Value = serde_json::from_str(text.lines().last()?).ok()?;
    let t = &v["totals"];
    Some((
        t["lines"].as_u64()?,
        t["bytes"].as_u64()?,
        t["hits"].as_u64()?,
    ))
}

/// A pod's container log in a fake node tree, and the kubelet-style link
/// to it.
struct Container {
    log: PathBuf,
    link: PathBuf,
    namespace: &'static str,
    pod: &'static str,
    name: &'static str,
}

fn container(
    root: &Path,
    namespace: &'static str,
    pod: &'static str,
    name: &'static str,
) -> Container {
    let dir = root
        .join("var/log/pods")
        .join(format!(
            "{namespace}_{pod}_0b1c2d3e-aaaa-bbbb-cccc-123456789abc"
        ))
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("0.log");
    std::fs::write(&log, b"").unwrap();
    let links = root.join("var/log/containers");
    std::fs::create_dir_all(&links).unwrap();
    let link = links.join(format!(
        "{pod}_{namespace}_{name}-{}.log",
        "e3b0c442".repeat(8)
    ));
    symlink(&log, &link).unwrap();
    Container {
        log,
        link,
        namespace,
        pod,
        name,
    }
}

#[test]
fn split_cri_lines_count_once_and_events_name_the_pod() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let pods = [
        container(root, "shop", "api-7d9f8b6c5-x2x4z", "api"),
        container(root, "kube-system", "coredns-5d78c9869d-abcde", "coredns"),
    ];
    let agent = start(
        root,
        &[
            "--from",
            "beginning",
            "--events",
            "events.jsonl",
            "var/log/containers/*.log",
        ],
    );
    let mut rng = Rng::new(11);
    let mut logs = [PodLog::default(), PodLog::default()];
    for round in 0..3 {
        for (c, log) in pods.iter().zip(logs.iter_mut()) {
            let before = log.bytes.len();
            log.write_lines(&mut rng, 30 + round * 10);
            let fresh = log.bytes[before..].to_vec();
            append_chunked(&c.log, &fresh, &mut rng);
        }
    }
    let lines: u64 = logs.iter().map(|l| l.lines).sum();
    let bytes: u64 = logs.iter().map(|l| l.bytes.len() as u64).sum();
    let hits: u64 = logs.iter().map(|l| l.hits.len() as u64).sum();
    let placed = logs.iter().flat_map(|l| &l.hits).filter(|h| h.1).count() as u64;
    assert!(
        hits > 100 && placed > hits / 4,
        "the test's own premise: {hits} hits, {placed} at their place"
    );
    stop_at(agent, (lines, bytes, hits));

    let text = std::fs::read_to_string(root.join("events.jsonl")).unwrap();
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (c, log) in pods.iter().zip(&logs) {
        assert_eq!(std::fs::read(&c.log).unwrap(), log.bytes, "bookkeeping");
        let link_name = c.link.file_name().unwrap().to_str().unwrap();
        let mut got: Vec<Hit> = events
            .iter()
            .filter(|e| e["source"].as_str().unwrap().ends_with(link_name))
            .map(|e| {
                assert_eq!(
                    e["k8s"],
                    serde_json::json!({"namespace": c.namespace, "pod": c.pod, "container": c.name}),
                    "{e}"
                );
                (
                    e["offset"].as_u64().unwrap(),
                    e["line"].as_u64().unwrap(),
                    e["code"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        // Lines at their place: exact offset and line; the others: their
        // codes.
        for (hit, _) in log.hits.iter().filter(|h| h.1) {
            let at = got.iter().position(|g| g == hit);
            let at =
                at.unwrap_or_else(|| panic!("{hit:?} not in the events of {}", c.log.display()));
            got.swap_remove(at);
        }
        let mut rest: Vec<&str> = got.iter().map(|g| g.2.as_str()).collect();
        let mut want: Vec<&str> = log
            .hits
            .iter()
            .filter(|h| !h.1)
            .map(|h| h.0.2.as_str())
            .collect();
        rest.sort();
        want.sort();
        assert_eq!(
            rest,
            want,
            "codes of lines after another stream's, {}",
            c.log.display()
        );
    }
    assert_eq!(events.len() as u64, hits);
}

/// A plain log (no CRI records) in a pods tree gets the workload too, and
/// a plain log elsewhere gets no `k8s` member.
#[test]
fn a_plain_log_outside_pods_has_no_k8s_member() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let c = container(root, "prod", "web-1", "nginx");
    std::fs::write(root.join("app.log"), b"").unwrap();
    let agent = start(
        root,
        &[
            "--from",
            "beginning",
            "--events",
            "events.jsonl",
            "var/log/containers/*.log",
            "app.log",
        ],
    );
    let line = b"2026-11-30 01:02:03 ERROR quota Ecs.0013\n";
    support::append(&c.log, std::str::from_utf8(line).unwrap());
    support::append(&root.join("app.log"), std::str::from_utf8(line).unwrap());
    stop_at(agent, (2, 2 * line.len() as u64, 2));
    let text = std::fs::read_to_string(root.join("events.jsonl")).unwrap();
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 2);
    for e in events {
        if e["source"].as_str().unwrap().ends_with("app.log") {
            assert!(e.get("k8s").is_none(), "{e}");
        } else {
            assert_eq!(e["k8s"]["pod"], "web-1", "{e}");
            assert_eq!(e["offset"], 32, "{e}");
        }
    }
}
