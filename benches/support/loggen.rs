//! A deterministic generator of realistic logs for benchmarks and timing.
//!
//! Mostly ordinary lines in five shapes taken from common server logs
//! (application log with thread and logger, HTTP access log, JSON lines,
//! HDFS-style and OpenStack-style lines: timestamps, levels, request ids,
//! paths, IPs), `code_per_mille` lines per thousand holding an error code
//! (10% of them unknown numbers of a known prefix), and as many again holding
//! near misses (`ecs.0013`, `Ecs.00131`, `img.3367.com`, `core.1234`, ...)
//! that must not count. The same seed and codes give the same bytes.
//!
//! With [`LogGen::with_pathological`], every so many bytes one
//! pathological line instead (in turn): a 4 MiB run of letters, a 1 MiB
//! base64 blob, a 1 MiB line of digits, 1 MiB of a family stem repeated
//! (`Ecs.Ecs.Ecs.`), and 1 MiB of ordinary text without line ends: what
//! minified payloads, dumps and binary-ish logs put in real files.
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
    /// Families (stem, digit count) of the codes, for unknown codes.
    families: Vec<(String, usize)>,
    code_per_mille: u64,
    /// Bytes between pathological lines (0: none), bytes emitted, next one.
    patho_every: u64,
    emitted: u64,
    patho_next: u64,
    patho_kind: u64,
    /// Milliseconds since an epoch; advances a little per line.
    clock: u64,
}

impl LogGen {
    pub fn new(seed: u64, codes: &[String], code_per_mille: u64) -> LogGen {
        let mut families: Vec<(String, usize)> = codes
            .iter()
            .filter_map(|c| {
                let d = c.len() - c.trim_end_matches(|x: char| x.is_ascii_digit()).len();
                (d > 0 && d < c.len() && d <= 18).then(|| (c[..c.len() - d].to_string(), d))
            })
            .collect();
        families.sort();
        families.dedup();
        LogGen {
            rng: Rng::new(seed),
            codes: codes.to_vec(),
            families,
            code_per_mille,
            patho_every: 0,
            emitted: 0,
            patho_next: 0,
            patho_kind: 0,
            clock: 1_700_000_000_000,
        }
    }

    /// One pathological line (module docs) every `every_bytes` (0: none),
    /// the first after `every_bytes / 2`.
    pub fn with_pathological(mut self, every_bytes: u64) -> LogGen {
        self.patho_every = every_bytes;
        self.patho_next = every_bytes / 2;
        self
    }

    fn pathological(&mut self, out: &mut Vec<u8>) {
        const MIB: usize = 1 << 20;
        let kind = self.patho_kind % 5;
        self.patho_kind += 1;
        let r = &mut self.rng;
        match kind {
            0 => {
                let letters = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
                out.extend((0..4 * MIB).map(|_| letters[r.below(52) as usize]));
            }
            1 => {
                let b64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
                out.extend_from_slice(b"{\"payload\":\"");
                out.extend((0..MIB).map(|_| b64[r.below(64) as usize]));
                out.extend_from_slice(b"==\"}");
            }
            2 => out.extend((0..MIB).map(|_| b'0' + r.below(10) as u8)),
            3 => {
                // The shortest stem: the most candidates per byte.
                let stem = match self.families.iter().min_by_key(|f| f.0.len()) {
                    Some((s, _)) => s.clone(),
                    None => "Ecs.".to_string(),
                };
                let start = out.len();
                while out.len() - start < MIB {
                    out.extend_from_slice(stem.as_bytes());
                }
            }
            _ => {
                let start = out.len();
                let every = std::mem::take(&mut self.patho_every);
                while out.len() - start < MIB {
                    self.line(out);
                    *out.last_mut().unwrap() = b' ';
                }
                self.patho_every = every;
            }
        }
        out.push(b'\n');
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
        if self.rng.below(10) == 0 && !self.families.is_empty() {
            let (stem, d) = self.rng.pick(&self.families).clone();
            let n = (self.rng.next() >> 4) % 10u64.pow(d as u32);
            format!("{stem}{n:0d$}")
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
        let before = out.len();
        if self.patho_every > 0 && self.emitted >= self.patho_next {
            self.patho_next += self.patho_every;
            self.pathological(out);
        } else {
            self.ordinary_line(out);
        }
        self.emitted += (out.len() - before) as u64;
    }

    fn ordinary_line(&mut self, out: &mut Vec<u8>) {
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

/// A user catalog for benchmarks: `codes` codes over `stems` stems, each
/// stem one family of 4, 6 or 8 digits; stems of 2-3 upper-case words
/// joined by `.` or `-`, ending in `.` or `-` (`KQX-PLRMA.`, `ZUV.WQ-`).
/// Deterministic for a seed; distinct codes, in no particular order.
pub fn user_catalog(seed: u64, codes: usize, stems: usize) -> Vec<String> {
    let mut r = Rng::new(seed ^ 0xC0DE);
    let mut seen = std::collections::HashSet::new();
    let mut stem_list = Vec::with_capacity(stems);
    while stem_list.len() < stems {
        let mut s = String::new();
        for w in 0..2 + r.below(2) {
            if w > 0 {
                s.push(*r.pick(&['.', '-']));
            }
            for _ in 0..2 + r.below(5) {
                s.push((b'A' + r.below(26) as u8) as char);
            }
        }
        s.push(*r.pick(&['.', '-']));
        if seen.insert(s.clone()) {
            let digits = *r.pick(&[4usize, 6, 8]);
            stem_list.push((s, digits));
        }
    }
    let mut out = Vec::with_capacity(codes);
    seen.clear();
    while out.len() < codes {
        let (stem, d) = &stem_list[out.len() % stems];
        let n = (r.next() >> 4) % 10u64.pow(*d as u32);
        let c = format!("{stem}{n:0d$}", d = *d);
        if seen.insert(c.clone()) {
            out.push(c);
        }
    }
    out
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
