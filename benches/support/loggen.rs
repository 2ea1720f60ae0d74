//! A deterministic generator of realistic logs for benchmarks and timing.
//!
//! Mostly ordinary lines in five shapes taken from common server logs
//! (application log with thread and logger, HTTP access log, JSON lines,
//! HDFS-style and OpenStack-style lines: timestamps, levels, request ids,
//! paths, IPs), `code_per_mille` lines per thousand holding an error code
//! (10% of them unknown numbers of a known prefix), and as many again holding
//! near misses (`ecs.0013`, `Ecs.00131`, `img.3367.com`, `core.1234`, ...)
//! that must not count. The same seed and codes give the same bytes.
#![allow(dead_code)]

use std::io::Write;

/// SplitMix64: tiny, fast, good enough to vary log lines.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next() >> 32) * n) >> 32
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

const LEVELS: &[&str] = &[
    "INFO", "INFO", "INFO", "INFO", "DEBUG", "DEBUG", "WARN", "ERROR",
];
const LOGGERS: &[&str] = &[
    "c.h.ecs.agent.InstanceSync",
    "o.a.hadoop.hdfs.DataNode",
    "nova.compute.manager",
    "com.example.billing.InvoiceJob",
    "org.springframework.web.servlet.DispatcherServlet",
    "ims.image.ImportTask",
    "cbr.backup.PolicyRunner",
    "io.netty.channel.nio.NioEventLoop",
];
const MESSAGES: &[&str] = &[
    "Request processed in {n} ms",
    "Connection established to {ip}:{port}",
    "Cache miss for key user:{n}:profile, loading from store",
    "Scheduled task sync-images completed, {n} items",
    "Retrying upload of part {n} after timeout",
    "Received heartbeat from node-{n}",
    "Session {hex} expired after {n} s idle",
    "Flushing {n} records to /var/lib/app/queue/segment-{n}.log",
    "GC pause {n} ms (young), heap 1.2G/4G",
    "User {n} logged in from {ip}",
    "Loaded configuration from /etc/app/app.yaml (version {n})",
    "Snapshot snap-{hex} created for volume vol-{hex}",
    "PacketResponder {n} for block blk_{n} terminating",
    "Failed to resolve host mirror{n}.example.com, using fallback",
];
const PATHS: &[&str] = &[
    "/v2/{hex}/servers/detail",
    "/v1/{hex}/cloudimages?limit=50&marker={hex}",
    "/api/v3/backups/{hex}/restore",
    "/healthz",
    "/static/js/app.{hex}.js",
    "/v1/{hex}/cloudservers/action",
    "/metrics",
];
const CODE_SHAPES: &[&str] = &[
    "{ts} ERROR [{thread}] {logger} - request failed: {\"error_code\":\"{code}\",\"error_msg\":\"request rejected\",\"request_id\":\"{hex}\"}",
    "{ts} WARN  [{thread}] {logger} - call to ECS returned 400, code={code}, retrying",
    "{\"ts\":\"{ts}\",\"level\":\"error\",\"svc\":\"backup-agent\",\"err\":\"{code}\",\"msg\":\"operation failed\",\"req\":\"req-{hex}\"}",
    "{ts} ERROR 调用接口失败，错误码：{code}，请求ID：{hex}",
    "{ip} - - [{clf}] \"POST /v1/{hex}/cloudimages/action HTTP/1.1\" 400 187 \"errorCode: {code}\"",
    "{ts} ERROR [{thread}] {logger} - task {n} failed (errors: {code}, {code2})",
];
const NEAR_MISSES: &[&str] = &[
    "{ts} INFO  [{thread}] {logger} - fetched http://img.3367.com/a/{n}.png",
    "{ts} DEBUG [{thread}] {logger} - loaded core.1234 plugin, ecs.0013 compat mode",
    "{ts} INFO  [{thread}] {logger} - build Ecs.00131 deployed, IMG.0015a ignored",
    "{ts} DEBUG [{thread}] {logger} - class Common.java line {n}, XEcs.0013 legacy id",
    "{ts} INFO  [{thread}] {logger} - metric backupservice.6133 value {n}",
];

/// The generator; one line per [`LogGen::line`] call.
pub struct LogGen {
    rng: Rng,
    codes: Vec<String>,
    prefixes: Vec<String>,
    code_per_mille: u64,
    /// Milliseconds since an epoch; advances a little per line.
    clock: u64,
}

impl LogGen {
    pub fn new(seed: u64, codes: &[String], code_per_mille: u64) -> LogGen {
        let mut prefixes: Vec<String> = codes
            .iter()
            .filter_map(|c| c.rsplit_once('.').map(|(p, _)| p.to_string()))
            .collect();
        prefixes.sort();
        prefixes.dedup();
        LogGen {
            rng: Rng::new(seed),
            codes: codes.to_vec(),
            prefixes,
            code_per_mille,
            clock: 1_700_000_000_000,
        }
    }

    /// `bytes` (or a line more) of log in memory.
    pub fn generate(seed: u64, codes: &[String], code_per_mille: u64, bytes: usize) -> Vec<u8> {
        let mut g = LogGen::new(seed, codes, code_per_mille);
        let mut out = Vec::with_capacity(bytes + 512);
        while out.len() < bytes {
            g.line(&mut out);
        }
        out
    }

    fn code(&mut self) -> String {
        if self.codes.is_empty() {
            return String::new();
        }
        // One in ten: an unknown number of a known prefix (most numbers in
        // 9000..9999 are unused; a collision with a real code is harmless).
        if self.rng.below(10) == 0 {
            let p = self.rng.pick(&self.prefixes).clone();
            format!("{p}.{:04}", 9000 + self.rng.below(1000))
        } else {
            // Skewed: a few codes are much more frequent, as in real logs.
            let n = self.codes.len() as u64;
            let i = if self.rng.below(2) == 0 {
                self.rng.below(n.min(16))
            } else {
                self.rng.below(n)
            };
            self.codes[i as usize].clone()
        }
    }

    /// Appends one line, with its LF.
    pub fn line(&mut self, out: &mut Vec<u8>) {
        self.clock += self.rng.below(40);
        let r = self.rng.below(1000);
        let shape: &str = if r < self.code_per_mille {
            self.rng.pick::<&str>(CODE_SHAPES)
        } else if r < 2 * self.code_per_mille {
            self.rng.pick::<&str>(NEAR_MISSES)
        } else {
            match self.rng.below(10) {
                0..=3 => "{ts} {level} [{thread}] {logger} - {msg}",
                4..=5 => {
                    "{ip} - - [{clf}] \"{method} {path} HTTP/1.1\" {status} {n} {n}ms \"-\" \"python-requests/2.31\""
                }
                6..=7 => {
                    "{\"ts\":\"{ts}\",\"level\":\"{level}\",\"logger\":\"{logger}\",\"req\":\"req-{hex}\",\"msg\":\"{msg}\"}"
                }
                8 => "{hdfs} {n} {level} dfs.DataNode$PacketResponder: {msg}",
                _ => {
                    "nova-api.log.1 {ts} {n} {level} nova.osapi_compute.wsgi.server [req-{hex} {hex} - - -] {ip} \"GET {path} HTTP/1.1\" status: {status} len: {n} time: 0.{n}"
                }
            }
        };
        self.expand(shape, out, 0);
        out.push(b'\n');
    }

    fn expand(&mut self, shape: &str, out: &mut Vec<u8>, depth: u32) {
        let mut rest = shape;
        while let Some(i) = rest.find('{') {
            let Some(j) = rest[i..].find('}') else { break };
            let key = &rest[i + 1..i + j];
            let is_key = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric());
            if !is_key {
                // A literal brace (JSON): copy it.
                out.extend_from_slice(&rest.as_bytes()[..=i]);
                rest = &rest[i + 1..];
                continue;
            }
            out.extend_from_slice(&rest.as_bytes()[..i]);
            rest = &rest[i + j + 1..];
            let r = &mut self.rng;
            match key {
                "ts" => {
                    let s = self.clock / 1000;
                    let (d, h, m, sec, ms) = (
                        s / 86400 % 28 + 1,
                        s / 3600 % 24,
                        s / 60 % 60,
                        s % 60,
                        self.clock % 1000,
                    );
                    let _ = write!(out, "2026-11-{d:02}T{h:02}:{m:02}:{sec:02}.{ms:03}Z");
                }
                "clf" => {
                    let s = self.clock / 1000;
                    let _ = write!(
                        out,
                        "{:02}/Nov/2026:{:02}:{:02}:{:02} +0000",
                        s / 86400 % 28 + 1,
                        s / 3600 % 24,
                        s / 60 % 60,
                        s % 60
                    );
                }
                "hdfs" => {
                    let s = self.clock / 1000;
                    let _ = write!(
                        out,
                        "2611{:02} {:02}{:02}{:02}",
                        s / 86400 % 28 + 1,
                        s / 3600 % 24,
                        s / 60 % 60,
                        s % 60
                    );
                }
                "level" => out.extend_from_slice(r.pick(LEVELS).as_bytes()),
                "logger" => out.extend_from_slice(r.pick(LOGGERS).as_bytes()),
                "thread" => {
                    let _ = write!(out, "pool-{}-thread-{}", r.below(8), r.below(64));
                }
                "n" => {
                    let max = if r.below(4) == 0 { 1_000_000 } else { 1000 };
                    let _ = write!(out, "{}", r.below(max));
                }
                "hex" => {
                    let _ = write!(out, "{:016x}{:08x}", r.next(), r.next() as u32);
                }
                "ip" => {
                    let _ = write!(out, "10.{}.{}.{}", r.below(256), r.below(256), r.below(256));
                }
                "port" => {
                    let _ = write!(out, "{}", 1024 + r.below(60000));
                }
                "method" => out.extend_from_slice(
                    r.pick(&["GET", "GET", "GET", "POST", "PUT", "DELETE"])
                        .as_bytes(),
                ),
                "status" => out.extend_from_slice(
                    r.pick(&[
                        "200", "200", "200", "200", "201", "204", "304", "404", "500",
                    ])
                    .as_bytes(),
                ),
                "msg" | "path" if depth < 2 => {
                    let s = if key == "msg" {
                        *r.pick(MESSAGES)
                    } else {
                        *r.pick(PATHS)
                    };
                    self.expand(s, out, depth + 1);
                }
                "code" | "code2" => {
                    let c = self.code();
                    out.extend_from_slice(c.as_bytes());
                }
                _ => {}
            }
        }
        out.extend_from_slice(rest.as_bytes());
    }
}

/// Parses sizes like `64M`, `1G`, `1000000`, `512K` (powers of 1024).
pub fn parse_size(s: &str) -> Option<usize> {
    let s = s.trim();
    let (num, mult) = match s.as_bytes().last()? {
        b'K' | b'k' => (&s[..s.len() - 1], 1 << 10),
        b'M' | b'm' => (&s[..s.len() - 1], 1 << 20),
        b'G' | b'g' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<usize>().ok()?.checked_mul(mult)
}

/// The codes of fixtures/matcher/codes.txt.
pub fn fixture_codes() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/matcher/codes.txt");
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .map(str::to_string)
        .collect()
}
