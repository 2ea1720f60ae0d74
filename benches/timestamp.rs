//! Criterion benchmark of finding a hit line's timestamp: the hand parsers
//! of [`faultline::timestamp`] against a `regex-automata` search for the
//! same formats. The regex only *locates* the stamp (its fields would still
//! have to be parsed and validated), so it is a lower bound on the cost of
//! that design; the hand parsers do the whole job.
//!
//! Lines: one per format the module supports, plus a line without a
//! timestamp (the worst case: every position is looked at).
//!
//! Run: `cargo bench --bench timestamp` (about 30 s).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use faultline::timestamp::{Finder, LocalZone};
use regex_automata::meta::Regex;
use std::hint::black_box;

const LINES: [&str; 8] = [
    "2026-11-30T02:04:20.123Z ERROR ecs request failed: Ecs.0013 quota exceeded for instance i-0abc",
    "2026-11-30 02:04:20,123 ERROR [main] c.example.Client - call failed with DBS.200001 (retrying)",
    "Nov 30 02:04:20 web-3 app[2211]: upstream answered InvalidParameterValue: bad volume size",
    "10.1.2.3 - - [30/Nov/2026:02:04:20 +0000] \"POST /v1/servers HTTP/1.1\" 403 112 \"Ecs.0013\"",
    "2026-11-30T02:04:20.123456789Z stderr F level=error msg=\"create failed\" code=Ecs.0013",
    r#"{"level":"error","ts":1796004260.123,"caller":"api/client.go:88","msg":"Ecs.0013 quota"}"#,
    r#"{"level":"error","msg":"Ecs.0013 quota exceeded after 3 retries","time":1796004260123}"#,
    "ERROR ecs request failed: Ecs.0013 quota exceeded for instance i-0abc, no time on this line",
];

const PATTERN: &str = r#"(?x)
    \b\d{4}-\d{2}-\d{2}[Tt\x20]\d{2}:\d{2}:\d{2}([.,]\d+)?([Zz]|[+-]\d{2}(:?\d{2})?|\x20UTC)?
  | \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2}(\x20[+-]\d{4})?\]
  | \b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\x20[\x200-9]\d\x20\d{2}:\d{2}:\d{2}
  | "(ts|time|timestamp)"\s*:\s*\d+(\.\d+)?
"#;

fn timestamps(c: &mut Criterion) {
    let bytes: usize = LINES.iter().map(|l| l.len()).sum();
    let mut g = c.benchmark_group("timestamp");
    g.throughput(Throughput::Elements(LINES.len() as u64));
    let mut finder = Finder::new(1_796_083_200, LocalZone::fixed(0));
    for l in LINES {
        assert!(
            finder.find(l.as_bytes()).is_some() || l.contains("no time"),
            "{l}"
        );
    }
    g.bench_function("hand_parsers", |b| {
        b.iter(|| {
            for l in LINES {
                black_box(finder.find(black_box(l.as_bytes())));
            }
        })
    });
    let re = Regex::new(PATTERN).expect("the pattern compiles");
    for l in LINES {
        assert!(
            re.find(l.as_bytes()).is_some() || l.contains("no time"),
            "{l}"
        );
    }
    g.bench_function("regex_locate_only", |b| {
        b.iter(|| {
            for l in LINES {
                black_box(re.find(black_box(l.as_bytes())));
            }
        })
    });
    let mut local = Finder::new(1_796_083_200, LocalZone::system());
    g.bench_function("hand_parsers_system_zone", |b| {
        b.iter(|| {
            for l in LINES {
                black_box(local.find(black_box(l.as_bytes())));
            }
        })
    });
    g.finish();
    let _ = bytes;
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(4));
    targets = timestamps
}
criterion_main!(benches);
