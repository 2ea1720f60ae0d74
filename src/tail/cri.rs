//! Kubernetes CRI log records, as the container runtime writes them under
//! `/var/log/pods/`: one record per line, `<time> <stream> <tag> <text>`,
//! where the stream is `stdout` or `stderr` and the tag `F` (the record
//! ends a log line) or `P` (partial: the runtime split a long line, and the
//! next record *of the same stream* goes on with its text). A code split
//! across two partial records is one code of the joined line, and the
//! record prefixes are not log text: nothing may be matched in them, and a
//! partial record's text must not be joined with the next record's prefix.
//!
//! [`CriReader`] sits between a followed file and the searcher and turns
//! the file's bytes into the *texts* the searcher sees, with the same
//! length and the same number of LFs, so that every position the tail
//! keeps (resume points, checkpoint offsets, content fingerprints) stays a
//! file offset:
//!
//! - a record's prefix becomes spaces (boundaries: nothing matches there);
//! - a complete `F` record is otherwise unchanged, so its codes have their
//!   exact file offset and line;
//! - a chain of `P` records ending with the stream's `F` record becomes
//!   its joined text at the place of its first record, then spaces for the
//!   other records' prefixes, then their LFs. In events, a code of a split
//!   line has the line number of the line's first record and the offset
//!   that record's text start plus the code's position in the joined text
//!   (exact for codes in the first record; later ones are placed earlier
//!   by the prefixes and LFs in between).
//!
//! Records of the other stream may come between a chain's records; a
//! line whose first record comes while the other stream's split line is
//! still open is placed right after that line (its offset and line number
//! are then later than its record's). A
//! *unit* is a run of records at whose end no chain is open, and a unit is
//! only given to the searcher whole. After a unit the reader's output and
//! the file are at the same offset and at a line start, so the searcher's
//! resume point is a file offset from which a new reader starts again,
//! after a restart too. A unit not complete yet (a chain whose `F` has not
//! been written) is read again by the next round.
//!
//! Which files: a pod's log (`k8s::is_pod_log`: its real path ends in
//! `pods/<ns>_<pod>_<uid>/<container>/<N>.log`, under any root, so nothing
//! depends on where the host mounts `/var/log`) whose first line has the
//! shape of a record (read from its start, or its first bytes as known) is
//! read as records; in it, lines without the shape pass unchanged. Other
//! files are never sniffed: a plain log's first partial line would
//! otherwise wait (up to [`PREFIX_MAX`] bytes) until its shape is known,
//! and the totals would lag what was written (the model test of the tail
//! engine caught this).
//!
//! Bounds: a unit is at most [`UNIT_MAX`] bytes. A longer one (a line
//! split into more than sixteen of kubelet's 16 KiB records, or a chain
//! whose `F` never comes) is ended there: a code across that cut may be
//! missed, as a line is searched in pieces; memory stays two buffers of
//! [`UNIT_MAX`], shared by all files. A single record longer than that
//! is read as it comes, and a code across its end is not joined.

use std::io::{self, Read};

/// The longest record prefix (`2026-11-30T01:02:03.123456789+00:00 stdout P `
/// is 47 bytes).
pub const PREFIX_MAX: usize = 64;
/// The most bytes of records given to the searcher as one unit.
pub const UNIT_MAX: usize = 256 * 1024;

/// What a line's first bytes say about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A record: its text starts at this index; which stream; partial.
    Record {
        text: usize,
        stderr: bool,
        partial: bool,
    },
    /// Not a record.
    Plain,
    /// Not known until more of the line is there.
    Unknown,
}

/// The shape of the line that starts `line` (its bytes up to its LF, or
/// all there is); `whole`: no more bytes of it will come.
pub fn shape(line: &[u8], whole: bool) -> Shape {
    let more = |at: usize| {
        if !whole && at >= line.len() && line.len() < PREFIX_MAX {
            Shape::Unknown
        } else {
            Shape::Plain
        }
    };
    // The time: RFC 3339, `YYYY-` then digits and `T:.+-Z`.
    let mut i = 0;
    while i < line.len() && line[i] != b' ' {
        let ok = if i < 4 {
            line[i].is_ascii_digit()
        } else if i == 4 {
            line[i] == b'-'
        } else {
            line[i].is_ascii_digit() || b"T:.+-Z".contains(&line[i])
        };
        if !ok || i >= 40 {
            return Shape::Plain;
        }
        i += 1;
    }
    if i == line.len() {
        return more(i);
    }
    if i < 19 {
        return Shape::Plain;
    }
    i += 1;
    // The stream.
    let rest = &line[i..];
    let stderr = if rest.starts_with(b"stdout ") {
        false
    } else if rest.starts_with(b"stderr ") {
        true
    } else if b"stdout ".starts_with(rest) || b"stderr ".starts_with(rest) {
        return more(line.len());
    } else {
        return Shape::Plain;
    };
    i += 7;
    // The tag: `P` or `F`, possibly with more `:`-separated tags.
    let tag = i;
    while i < line.len() && (line[i].is_ascii_uppercase() || line[i] == b':') {
        i += 1;
    }
    if i - tag > 8 {
        return Shape::Plain;
    }
    if i == line.len() {
        if !whole {
            return more(i);
        }
        // A record with no text and no space after its tag.
        if i == tag {
            return Shape::Plain;
        }
    } else if line[i] != b' ' || i == tag {
        return Shape::Plain;
    }
    let partial = line[tag] == b'P';
    Shape::Record {
        text: (i + 1).min(line.len()),
        stderr,
        partial,
    }
}

/// Whether a file whose first bytes are `head` may be one of records.
pub fn may_be_records(head: &[u8]) -> bool {
    let line = memchr::memchr(b'\n', head).map_or(head, |i| &head[..i]);
    let whole = line.len() < head.len();
    !head.is_empty() && shape(line, whole) != Shape::Plain
}

/// Whether a followed file read from `offset` (its first bytes `head`)
/// goes through a [`CriReader`]: from its start (the reader looks at the
/// first line itself), or when its first line is a record.
pub fn applies(offset: u64, head: &[u8]) -> bool {
    offset == 0 || may_be_records(head)
}

/// Room for reading records, shared by all files (allocated on first use).
#[derive(Default)]
pub struct CriRoom {
    input: Vec<u8>,
    output: Vec<u8>,
    records: Vec<Record>,
}

/// A whole record in the input buffer.
#[derive(Clone, Copy, Debug)]
struct Record {
    start: usize,
    text: usize,
    /// Index of its LF.
    lf: usize,
    stderr: bool,
    partial: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// At the start of the file: its first line decides.
    Sniff,
    Records,
    /// Not a file of records: bytes pass unchanged.
    Plain,
}

/// Reads a file of CRI records as the texts the searcher must see (see
/// the module): same length, same LFs, prefixes blanked, split lines
/// joined. Returns 0 at the end of what is complete, unless told the input
/// ends there.
pub struct CriReader<'a, R> {
    inner: R,
    room: &'a mut CriRoom,
    /// `room.input[consumed..filled]` is read and not yet given out.
    consumed: usize,
    filled: usize,
    /// `room.output[given..]` is made and not yet given out.
    given: usize,
    mode: Mode,
    /// Inside a line whose start was given already: it passes unchanged up
    /// to its LF.
    mid_line: bool,
    /// The inner reader returned 0: it is not asked again.
    drained: bool,
    /// The input ends where `inner` ends (the file is gone): incomplete
    /// units are given out as they are.
    end_of_input: bool,
}

impl<'a, R: Read> CriReader<'a, R> {
    /// A reader of `inner`, positioned after the byte `before` (`None`: at
    /// the file's start, whose first line decides whether it holds records).
    pub fn new(inner: R, room: &'a mut CriRoom, before: Option<u8>, end_of_input: bool) -> Self {
        room.output.clear();
        let mode = if before.is_none() {
            Mode::Sniff
        } else {
            Mode::Records
        };
        CriReader {
            inner,
            room,
            consumed: 0,
            filled: 0,
            given: 0,
            mode,
            mid_line: before.is_some_and(|b| b != b'\n'),
            drained: false,
            end_of_input,
        }
    }

    /// Reads more input; false when the inner reader has no more now.
    fn fill(&mut self) -> io::Result<bool> {
        if self.drained {
            return Ok(false);
        }
        let input = &mut self.room.input;
        if input.len() < UNIT_MAX {
            input.resize(UNIT_MAX, 0);
        }
        input.copy_within(self.consumed..self.filled, 0);
        self.filled -= self.consumed;
        self.consumed = 0;
        if self.filled == UNIT_MAX {
            return Ok(false);
        }
        let n = loop {
            match self.inner.read(&mut input[self.filled..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => break r?,
            }
        };
        self.filled += n;
        self.drained = n == 0;
        Ok(n > 0)
    }

    /// Whether no more input can come into the buffer now: it is full, or
    /// the inner reader has no more.
    fn stuck(&self) -> bool {
        self.drained || self.filled - self.consumed == UNIT_MAX
    }

    /// Makes output from the input there is; false when more input is
    /// needed first.
    fn produce(&mut self) -> bool {
        let avail = &self.room.input[self.consumed..self.filled];
        if avail.is_empty() {
            return false;
        }
        let last = self.end_of_input && self.drained;
        if self.mid_line || self.mode == Mode::Plain {
            let n = match memchr::memchr(b'\n', avail) {
                Some(i) if self.mode != Mode::Plain => {
                    self.mid_line = false;
                    i + 1
                }
                _ => avail.len(),
            };
            self.pass(n);
            return true;
        }
        let lf = memchr::memchr(b'\n', avail);
        let line = &avail[..lf.unwrap_or(avail.len())];
        let whole = lf.is_some() || last || avail.len() == UNIT_MAX;
        let first = shape(line, whole);
        if self.mode == Mode::Sniff {
            self.mode = match first {
                Shape::Record { .. } => Mode::Records,
                Shape::Plain => Mode::Plain,
                // The first line is not whole yet, and more of it will
                // come (else it would be whole).
                Shape::Unknown => return false,
            };
            return self.produce();
        }
        match (first, lf) {
            // A prefix not whole yet: it is whole at the end of input or
            // once PREFIX_MAX bytes are there.
            (Shape::Unknown, _) => false,
            (Shape::Plain, Some(i)) => {
                self.pass(i + 1);
                true
            }
            (Shape::Plain, None) => {
                self.mid_line = true;
                self.pass(avail.len());
                true
            }
            (Shape::Record { text, partial, .. }, None) => {
                // A record not whole yet: wait for it, unless no more can
                // come now; then its text so far passes as it is.
                if !self.stuck() || (partial && !last && avail.len() < UNIT_MAX) {
                    return false;
                }
                self.blank_prefix(text, avail.len());
                self.mid_line = true;
                true
            }
            (Shape::Record { text, partial, .. }, Some(i)) if !partial => {
                self.blank_prefix(text, i + 1);
                true
            }
            (Shape::Record { .. }, Some(_)) => self.unit(last),
        }
    }

    /// Gives out the next `n` input bytes unchanged.
    fn pass(&mut self, n: usize) {
        let CriRoom { input, output, .. } = &mut *self.room;
        output.clear();
        output.extend_from_slice(&input[self.consumed..self.consumed + n]);
        self.given = 0;
        self.consumed += n;
    }

    /// Gives out the next `n` input bytes with the first `text` blanked.
    fn blank_prefix(&mut self, text: usize, n: usize) {
        self.pass(n);
        self.room.output[..text.min(n)].fill(b' ');
    }

    /// A unit that starts with a partial record: found whole (or cut at
    /// [`UNIT_MAX`], or at the end of input) and given out joined. False
    /// when it is not whole yet.
    fn unit(&mut self, last: bool) -> bool {
        let CriRoom {
            input,
            output,
            records,
        } = &mut *self.room;
        records.clear();
        let mut open = [false; 2];
        let mut at = self.consumed;
        let end = loop {
            let Some(lf) = memchr::memchr(b'\n', &input[at..self.filled]).map(|i| at + i) else {
                // The unit goes on beyond what is read.
                if last || self.filled - self.consumed == UNIT_MAX {
                    break at;
                }
                return false;
            };
            let Shape::Record {
                text,
                stderr,
                partial,
            } = shape(&input[at..lf], true)
            else {
                break at;
            };
            records.push(Record {
                start: at,
                text: at + text,
                lf,
                stderr,
                partial,
            });
            open[usize::from(stderr)] = partial;
            at = lf + 1;
            if open == [false; 2] {
                break at;
            }
        };
        // Each line at its first record's place: its prefix blanked, its
        // texts joined, its LF; then spaces and LFs for the other records,
        // so the unit keeps its length and its LFs. A line whose first
        // record comes while the other stream's split line is still open
        // cannot have its place (that line's joined text covers it): it
        // follows right after.
        output.clear();
        let mut open = [false; 2];
        let mut lfs = 0;
        for (i, r) in records.iter().enumerate() {
            let s = usize::from(r.stderr);
            let continues = open[s];
            open[s] = r.partial;
            if continues {
                continue;
            }
            // Before it: as many LFs as records, and its offset, if there
            // is room.
            let place = r.start - self.consumed;
            if output.len() + (i - lfs) <= place {
                output.resize(place - (i - lfs), b' ');
                output.resize(place, b'\n');
                lfs = i;
            }
            output.resize(output.len() + (r.text - r.start), b' ');
            output.extend_from_slice(&input[r.text..r.lf]);
            if r.partial {
                for next in records[i + 1..].iter().filter(|n| n.stderr == r.stderr) {
                    output.extend_from_slice(&input[next.text..next.lf]);
                    if !next.partial {
                        break;
                    }
                }
            }
            output.push(b'\n');
            lfs += 1;
        }
        let unit = end - self.consumed;
        let lfs_left = records.len() - lfs;
        // Room is left: every line's text and LF come from records at or
        // after the last line placed at its offset.
        debug_assert!(output.len() + lfs_left <= unit);
        output.resize(unit - lfs_left, b' ');
        output.resize(unit, b'\n');
        self.given = 0;
        self.consumed = end;
        true
    }
}

impl<R: Read> Read for CriReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let pending = &self.room.output[self.given..];
            if !pending.is_empty() {
                let n = pending.len().min(buf.len());
                buf[..n].copy_from_slice(&pending[..n]);
                self.given += n;
                return Ok(n);
            }
            if self.mode == Mode::Plain && self.consumed == self.filled && !self.drained {
                return self.inner.read(buf);
            }
            if self.produce() {
                continue;
            }
            if !self.fill()? {
                // Nothing more now: give out what is there if it cannot
                // be completed, else wait for the next round.
                if self.stuck() && self.produce() {
                    continue;
                }
                return Ok(0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::Matcher;
    use crate::search::{Flow, Position, Searcher, Sink};

    const TS: &str = "2026-11-30T01:02:03.123456789Z";

    fn rec(stream: &str, tag: &str, text: &str) -> String {
        format!("{TS} {stream} {tag} {text}\n")
    }

    /// The whole output of a reader over `input`, read in `step`-byte
    /// pieces from an inner reader that gives `chunk` bytes at a time.
    fn through(input: &[u8], before: Option<u8>, end: bool, chunk: usize) -> Vec<u8> {
        struct Chunks<'a>(&'a [u8], usize);
        impl Read for Chunks<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut room = CriRoom::default();
        let mut out = Vec::new();
        let mut r = CriReader::new(Chunks(input, chunk), &mut room, before, end);
        let mut buf = [0u8; 7];
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    }

    #[derive(Default)]
    struct Found(Vec<(u64, u64)>);
    impl Sink for Found {
        type Error = io::Error;
        fn known(&mut self, _: crate::catalog::CodeId, pos: Position) -> io::Result<Flow> {
            self.0.push((pos.offset, pos.line));
            Ok(Flow::Continue)
        }
    }

    /// Searches `input` the way the tail does: rounds that each start a
    /// new reader at the searcher's resume point, the file growing by
    /// `grow` bytes per round; the last round is the end of input.
    fn tail_search(input: &[u8], grow: usize) -> Vec<(u64, u64)> {
        let m = Matcher::new(["Ecs.0013"]).unwrap();
        let mut s = Searcher::new(64);
        let mut room = CriRoom::default();
        let mut found = Found::default();
        let mut written = 0;
        let mut point = crate::search::ResumePoint::START;
        loop {
            written = (written + grow).min(input.len());
            let end = written == input.len();
            s.resume(point);
            let from = &input[point.offset as usize..written];
            let mut r = CriReader::new(from, &mut room, point.before, end);
            s.read_available(&m, &mut r, &mut found).unwrap();
            if end {
                s.finish(&m, &mut found).unwrap();
                return found.0;
            }
            point = s.resume_point();
        }
    }

    #[test]
    fn shapes_of_lines() {
        let r = |s: &str| shape(s.as_bytes(), true);
        assert_eq!(
            r(&format!("{TS} stdout P abc")),
            Shape::Record {
                text: TS.len() + 10,
                stderr: false,
                partial: true
            }
        );
        assert!(matches!(
            r(&format!("{TS} stderr F ")),
            Shape::Record {
                stderr: true,
                partial: false,
                ..
            }
        ));
        assert!(matches!(
            r("2026-11-30T01:02:03+01:00 stdout F y"),
            Shape::Record { .. }
        ));
        for plain in [
            "2026-11-30 01:02:03 ERROR Ecs.0013",
            "hello world",
            &format!("{TS} stdin F x"),
            &format!("{TS} stdout X-1 x"),
            &format!("{TS} stdout"),
            "",
        ] {
            assert_eq!(r(plain), Shape::Plain, "{plain:?}");
        }
        assert_eq!(shape(b"2026-11-30T01:02", false), Shape::Unknown);
        assert_eq!(shape(format!("{TS} std").as_bytes(), false), Shape::Unknown);
        assert_eq!(shape(b"2026-11-30 x", false), Shape::Plain);
    }

    #[test]
    fn records_keep_their_length_and_lfs_and_lose_their_prefixes() {
        let input = [
            rec("stdout", "F", "plain Ecs.0013 line"),
            rec("stdout", "P", "split Ecs.00"),
            rec("stdout", "F", "13 here"),
            "not a record Ecs.0013\n".to_string(),
            rec("stderr", "F", ""),
        ]
        .concat();
        let out = through(input.as_bytes(), None, true, 5);
        assert_eq!(out.len(), input.len());
        let text = String::from_utf8(out).unwrap();
        let pad = " ".repeat(TS.len() + 10);
        let want = format!(
            "{pad}plain Ecs.0013 line\n{pad}split Ecs.0013 here\n{pad}\nnot a record Ecs.0013\n{pad}\n"
        );
        assert_eq!(text, want);
    }

    #[test]
    fn a_code_split_across_partial_records_is_found_once_and_prefixes_never_join() {
        // Expected offsets and lines by hand: the first record's text
        // starts at its prefix's end; a code in the second record is
        // placed after the first record's text.
        let pre = TS.len() + 10;
        let a = rec("stdout", "P", "x Ecs.00");
        let b = rec("stdout", "F", "13 y");
        // A P text ending in letters must not run into the next prefix;
        // a code at the end of a P record is not decided by its LF.
        let c = rec("stdout", "P", "Ecs.0013");
        let d = rec("stdout", "F", "5 no hit: Ecs.00135");
        let e = rec("stderr", "P", "z Ecs");
        let f = rec("stderr", "F", ".0013");
        let input = [a.as_str(), &b, &c, &d, &e, &f].concat();
        // The second: `z ` then the code, at the stderr chain's first
        // record (line 5).
        let e_start = a.len() + b.len() + c.len() + d.len();
        let want = vec![((pre + 2) as u64, 1), ((e_start + pre + 2) as u64, 5)];
        for grow in [1, 3, 17, 64, input.len()] {
            assert_eq!(
                tail_search(input.as_bytes(), grow),
                want,
                "growing by {grow}"
            );
        }
    }

    #[test]
    fn interleaved_streams_join_each_stream_with_its_own_records() {
        let input = [
            rec("stdout", "P", "a Ecs."),
            rec("stderr", "F", "b Ecs.0013 c"),
            rec("stdout", "F", "0013 d"),
        ]
        .concat();
        let pre = TS.len() + 10;
        let out = String::from_utf8(through(input.as_bytes(), None, false, 1000)).unwrap();
        assert_eq!(out.len(), input.len());
        assert_eq!(out.matches('\n').count(), 3);
        assert!(
            out.starts_with(&format!("{}a Ecs.0013 d\n", " ".repeat(pre))),
            "{out:?}"
        );
        assert!(
            out.contains(&format!("{}b Ecs.0013 c\n", " ".repeat(pre))),
            "{out:?}"
        );
        for grow in [1, 9, input.len()] {
            assert_eq!(tail_search(input.as_bytes(), grow).len(), 2);
        }
    }

    #[test]
    fn an_incomplete_unit_waits_unless_the_input_ends() {
        let input = [rec("stdout", "F", "one"), rec("stdout", "P", "two Ecs.00")].concat();
        let first = rec("stdout", "F", "one");
        let out = through(input.as_bytes(), None, false, 4);
        assert_eq!(out.len(), first.len(), "only the whole record");
        let out = through(input.as_bytes(), None, true, 4);
        assert_eq!(out.len(), input.len());
    }

    #[test]
    fn plain_files_and_lines_pass_unchanged() {
        let plain = b"2026-11-30 01:02:03 ERROR Ecs.0013\nnext line Ecs.00";
        assert_eq!(through(plain, None, false, 3), plain);
        // Resumed in the middle of a line of a file of records.
        let mid = format!("13 tail of a line\n{}", rec("stdout", "F", "x"));
        let out = through(mid.as_bytes(), Some(b'0'), false, 3);
        assert!(out.starts_with(b"13 tail of a line\n"));
        assert_eq!(out.len(), mid.len());
        assert!(!may_be_records(b"plain\n"));
        assert!(may_be_records(rec("stdout", "F", "x").as_bytes()));
        assert!(may_be_records(&TS.as_bytes()[..12]));
    }

    #[test]
    fn a_chain_longer_than_a_unit_is_cut_and_memory_stays_bounded() {
        let piece = format!("{} ", "y".repeat(16 * 1024 - 1));
        let mut input = String::new();
        for _ in 0..40 {
            input.push_str(&rec("stdout", "P", &piece));
        }
        input.push_str(&rec("stdout", "F", "Ecs.0013"));
        let out = through(input.as_bytes(), None, false, 1 << 20);
        assert_eq!(out.len(), input.len());
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 41);
        let mut room = CriRoom::default();
        let mut r = CriReader::new(input.as_bytes(), &mut room, None, false);
        io::copy(&mut r, &mut io::sink()).unwrap();
        assert!(room.input.capacity() <= 2 * UNIT_MAX && room.output.capacity() <= 2 * UNIT_MAX);
        assert_eq!(tail_search(input.as_bytes(), 5000).len(), 1);
    }
}
