//! Events: every hit and unknown code as one JSON line (SPEC section 3,
//! `--events`):
//!
//! ```json
//! {"source":"logs/app.log","offset":1234,"line":57,"code":"Ecs.0013","known":true,"service":"ECS","status":400,"category":"quota","message":"...","remedy":"..."}
//! ```
//!
//! Events of a pod's log followed by `tail` also carry `"k8s": {"namespace",
//! "pod", "container"}` after `"source"`.
//! An unknown code carries `"known":false` and no catalog fields. A scan
//! adds `"log_ts"`, the time written on the hit's line (RFC 3339, UTC),
//! when the line has one.
//! The part of a line that depends only on the code (everything from
//! `"code"` on) is rendered once per catalog entry when the
//! [`EventFormat`] is made, so writing an event appends three slices and
//! two integers to a buffer: no allocation and no JSON escaping per hit.
//!
//! [`EventWriter`] is the one output of events for every command: callers
//! render lines into a buffer of their own and hand it over in blocks of
//! whole lines, so that lines of different inputs (or scan threads) never
//! interleave mid-line. A write that fails closes the writer: the caller
//! whose block failed gets the error, later blocks are refused with
//! [`Flow::Stop`], so nothing is written after a partial line.

use crate::catalog::{Catalog, CodeId};
use crate::search::Flow;
use crate::timestamp::{self, UnixMs};
use std::io::{self, Write};
use std::sync::Mutex;

/// Pre-rendered event text for every catalog code.
pub struct EventFormat {
    /// Per [`CodeId`]: `"code":...,"remedy":...` without braces.
    known: Vec<String>,
}

impl EventFormat {
    pub fn new(catalog: &Catalog) -> EventFormat {
        let known = catalog
            .entries()
            .iter()
            .map(|e| {
                let remedy = e.remedy.preferred();
                format!(
                    "\"code\":{},\"known\":true,\"service\":{},\"status\":{},\"category\":\"{}\",\"message\":{},\"remedy\":{}",
                    json(&e.code),
                    json(&e.service),
                    e.status.map_or_else(|| "null".to_string(), |s| s.to_string()),
                    e.category,
                    json(&e.message),
                    remedy.map_or_else(|| "null".to_string(), json),
                )
            })
            .collect();
        EventFormat { known }
    }

    /// Appends the event of a known code. `source` is the JSON text of
    /// the `"source"` member, rendered once per input: the source name as
    /// a JSON string (see [`json`]), for a pod's log followed by the
    /// `"k8s"` member that names its workload (`tail::k8s`); `ts`, when
    /// given, is an RFC 3339 time added as `"ts"`; `log_ts`, the time
    /// written on the log line, added as `"log_ts"` when found.
    #[allow(clippy::too_many_arguments)]
    pub fn known(
        &self,
        out: &mut Vec<u8>,
        source: &str,
        offset: u64,
        line: u64,
        id: CodeId,
        ts: Option<&str>,
        log_ts: Option<UnixMs>,
    ) {
        Self::head(out, source, offset, line);
        out.extend_from_slice(self.known[id as usize].as_bytes());
        Self::tail(out, ts, log_ts);
    }

    /// Appends the event of an unknown code: its family's stem and digits
    /// (`DBS.299999`; a code is ASCII letters, digits and `.-_:`, so it
    /// needs no escaping); `ts` and `log_ts` as for [`EventFormat::known`].
    #[allow(clippy::too_many_arguments)]
    pub fn unknown(
        &self,
        out: &mut Vec<u8>,
        source: &str,
        offset: u64,
        line: u64,
        code: crate::matcher::UnknownText<'_>,
        ts: Option<&str>,
        log_ts: Option<UnixMs>,
    ) {
        Self::head(out, source, offset, line);
        let _ = write!(out, "\"code\":\"{code}\",\"known\":false");
        Self::tail(out, ts, log_ts);
    }

    fn head(out: &mut Vec<u8>, source: &str, offset: u64, line: u64) {
        let _ = write!(
            out,
            "{{\"source\":{source},\"offset\":{offset},\"line\":{line},"
        );
    }

    fn tail(out: &mut Vec<u8>, ts: Option<&str>, log_ts: Option<UnixMs>) {
        if let Some(ts) = ts {
            let _ = write!(out, ",\"ts\":\"{ts}\"");
        }
        if let Some(ms) = log_ts {
            out.extend_from_slice(b",\"log_ts\":\"");
            timestamp::write_rfc3339_utc(out, ms);
            out.push(b'"');
        }
        out.extend_from_slice(b"}\n");
    }
}

/// Where events go: the pre-rendered format and the output, shared by
/// every thread that renders events.
pub struct EventWriter {
    format: EventFormat,
    /// `None` once a write failed.
    out: Mutex<Option<Box<dyn Write + Send>>>,
}

impl EventWriter {
    pub fn new(catalog: &Catalog, out: Box<dyn Write + Send>) -> EventWriter {
        EventWriter {
            format: EventFormat::new(catalog),
            out: Mutex::new(Some(out)),
        }
    }

    pub fn format(&self) -> &EventFormat {
        &self.format
    }

    /// Renders for `catalog` from now on (the tail's SIGHUP).
    pub fn set_catalog(&mut self, catalog: &Catalog) {
        self.format = EventFormat::new(catalog);
    }

    /// Writes and flushes a block of whole lines. `Ok(Flow::Stop)` when an
    /// earlier write failed; an error closes the writer.
    pub fn write_block(&self, block: &[u8]) -> io::Result<Flow> {
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        let Some(w) = out.as_mut() else {
            return Ok(Flow::Stop);
        };
        if block.is_empty() {
            return Ok(Flow::Continue);
        }
        match w.write_all(block).and_then(|()| w.flush()) {
            Ok(()) => Ok(Flow::Continue),
            Err(e) => {
                *out = None;
                Err(e)
            }
        }
    }

    /// Whether a write failed (and nothing more is written).
    pub fn is_closed(&self) -> bool {
        self.out.lock().unwrap_or_else(|p| p.into_inner()).is_none()
    }
}

/// Writes an agent's rendered events (`tail`, Kafka) and empties `buf`.
/// An agent keeps running when its events cannot be written: the first
/// failure is logged and `events` set to `None`, so nothing more is
/// rendered for it.
pub fn flush_agent_events(events: &mut Option<EventWriter>, buf: &mut Vec<u8>) {
    let Some(w) = events else {
        return;
    };
    if buf.is_empty() {
        return;
    }
    let result = w.write_block(buf);
    buf.clear();
    if let Err(err) = result {
        log::error!(
            "writing events: {}; events are no longer written",
            crate::input::describe(&err)
        );
        *events = None;
    }
}

/// A string as a JSON string literal.
pub fn json(s: &str) -> String {
    serde_json::to_string(s).expect("a string always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Category, Entry, Texts};

    #[test]
    fn events_are_valid_json_with_the_spec_fields() {
        let catalog = Catalog::from_entries(vec![Entry {
            code: "Ecs.0013".into(),
            service: "ECS".into(),
            status: Some(400),
            message: "Say \"no\"".into(),
            description: Texts::default(),
            remedy: Texts {
                en: None,
                zh: Some("请重试。".into()),
            },
            category: Category::Quota,
            sources: vec![],
        }])
        .unwrap();
        let f = EventFormat::new(&catalog);
        let mut out = Vec::new();
        f.known(&mut out, &json("logs/a \"b\".log"), 1234, 57, 0, None, None);
        f.known(&mut out, &json("x"), 1, 1, 0, None, Some(1_795_996_800_250));
        let m = crate::matcher::Matcher::new(["Ecs.0013"]).unwrap();
        let code = crate::matcher::UnknownCode {
            prefix: 0,
            family: 0,
            number: 9876,
        };
        let text = m.unknown_text(code);
        f.unknown(
            &mut out,
            &json("-"),
            9,
            1,
            text,
            Some("2026-11-23T10:00:00Z"),
            None,
        );
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines[0],
            serde_json::json!({"source": "logs/a \"b\".log", "offset": 1234, "line": 57,
                "code": "Ecs.0013", "known": true, "service": "ECS", "status": 400,
                "category": "quota", "message": "Say \"no\"", "remedy": "请重试。"})
        );
        assert_eq!(lines[1]["log_ts"], "2026-11-30T00:00:00.250Z");
        assert_eq!(
            lines[2],
            serde_json::json!({"source": "-", "offset": 9, "line": 1, "code": "Ecs.9876",
                "known": false, "ts": "2026-11-23T10:00:00Z"})
        );
    }
}
