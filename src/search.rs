//! The searcher: streams bytes from a reader through the [`Matcher`] into a
//! [`Sink`], with byte offsets and line numbers.
//!
//! This module owns reading (a fixed-size buffer, refilled from any
//! [`Read`]), deciding codes that straddle two reads, line numbering, and the
//! resume point that lets a tailing agent continue a stream after a restart
//! without losing or double-counting a hit. What a hit is belongs to
//! [`crate::matcher`].
//!
//! # Semantics
//!
//! - Every code the matcher defines is reported exactly once, in stream
//!   order, with [`Position::offset`] (of its first byte, from the start of
//!   the stream) and [`Position::line`] (1-based: one plus the number of LF
//!   bytes before it). Only LF ends a line; CR is an ordinary byte.
//! - A code at the very end of what has been read so far is *undecided*: the
//!   next byte may be a digit or a letter. [`Searcher::read_available`]
//!   leaves it for the next bytes; [`Searcher::finish`] (end of input)
//!   decides it. [`Searcher::search_reader`] does both.
//! - [`StreamTotals::lines`] counts LF-terminated lines plus a final unterminated
//!   line; the latter only once the stream is finished.
//!
//! # Costs
//!
//! - Memory: one buffer of `buffer_bytes + max_code_len + 1 +
//!   HIT_LINE_BYTES` bytes,
//!   allocated on first use and reused; independent of line length (a 1 GiB
//!   line costs only the buffer). Between reads the searcher keeps at most
//!   the last `max_code_len + 1` bytes (an undecided code and the byte before
//!   it).
//! - Time: per refill one `read`, a move of at most `max_code_len + 1` bytes,
//!   the matcher's scan and one SIMD newline count (`bytecount`) over the
//!   fresh bytes; per hit a newline count over the bytes since the previous
//!   hit. No allocation after the first refill. [`Sink`] methods get `Copy`
//!   values; a sink's [`Flow::Stop`] or error takes effect at the end of the
//!   window being scanned.

use crate::catalog::CodeId;
use crate::matcher::{Found, Matcher, UnknownCode};
use std::io::{self, Read};

/// Fresh bytes per read unless told otherwise: fits L2 next to the code, and
/// large enough that the per-read costs vanish.
pub const DEFAULT_BUFFER_BYTES: usize = 256 * 1024;

/// The most bytes on either side of a hit that [`Sink::hit_line`] is
/// given, so that hits on a huge line cost a bounded search each.
pub const HIT_LINE_BYTES: usize = 4096;

/// Where a code was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Position {
    /// Byte offset of the code's first byte from the start of the stream.
    pub offset: u64,
    /// 1-based line number of the code.
    pub line: u64,
}

/// What a [`Sink`] tells the searcher after a hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Go on searching.
    Continue,
    /// Stop: the sink wants no more hits of this stream.
    Stop,
}

/// Receives what a [`Searcher`] finds. Push style, as ripgrep's
/// `grep-searcher` sink: every method has a default that asks for more, so
/// a sink implements only what it needs, and each returns whether the
/// search goes on ([`Flow`]) or fails (`Err`, for instance an output that
/// cannot be written).
///
/// A stop or an error ends the search call at the end of the window being
/// scanned (at most the searcher's buffer size later; the matcher's scan is
/// not interrupted); no callback is made after it. The stream is then over:
/// the streaming searcher is reset.
///
/// The searcher's own read errors reach the caller as `Self::Error` too,
/// through `From<io::Error>`.
pub trait Sink {
    type Error: From<io::Error>;

    /// A catalog code (the id the matcher gave it).
    fn known(&mut self, id: CodeId, pos: Position) -> Result<Flow, Self::Error> {
        let _ = (id, pos);
        Ok(Flow::Continue)
    }
    /// A code of a known prefix whose number is not in the catalog.
    fn unknown(&mut self, code: UnknownCode, pos: Position) -> Result<Flow, Self::Error> {
        let _ = (code, pos);
        Ok(Flow::Continue)
    }
    /// Whether [`Sink::hit_line`] is wanted; asked once per hit.
    fn wants_hit_line(&self) -> bool {
        false
    }
    /// The bytes of the next hit's line that are in the buffer, at most
    /// [`HIT_LINE_BYTES`] on either side of the hit (from the line's start,
    /// or the buffer's if the line began before it, to its LF exclusive or
    /// the buffer's end); called just before that hit's
    /// `known`/`unknown` when [`Sink::wants_hit_line`]. Costs a search for
    /// the LFs around the hit, on hits only.
    fn hit_line(&mut self, line: &[u8]) {
        let _ = line;
    }
}

impl<S: Sink + ?Sized> Sink for &mut S {
    type Error = S::Error;

    fn known(&mut self, id: CodeId, pos: Position) -> Result<Flow, Self::Error> {
        (**self).known(id, pos)
    }
    fn unknown(&mut self, code: UnknownCode, pos: Position) -> Result<Flow, Self::Error> {
        (**self).unknown(code, pos)
    }
    fn wants_hit_line(&self) -> bool {
        (**self).wants_hit_line()
    }
    fn hit_line(&mut self, line: &[u8]) {
        (**self).hit_line(line)
    }
}

/// Size of a stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamTotals {
    /// Bytes of the stream (from its start, also when it was resumed).
    pub bytes: u64,
    /// LF-terminated lines, plus a final unterminated line once finished.
    pub lines: u64,
}

/// Where a stream can be resumed without losing or repeating a hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResumePoint {
    /// Offset of the first undecided byte: the reader must continue here.
    pub offset: u64,
    /// 1-based line number at `offset`.
    pub line: u64,
    /// The byte before `offset` (left boundary of a code at `offset`);
    /// `None` at the start of the stream.
    pub before: Option<u8>,
}

impl ResumePoint {
    /// The start of a stream.
    pub const START: ResumePoint = ResumePoint {
        offset: 0,
        line: 1,
        before: None,
    };
}

/// Streams bytes through a matcher. One searcher serves one stream at a
/// time; reuse it (after [`Searcher::finish`] or [`Searcher::reset`]) to
/// keep its buffer.
///
/// Buffer layout: `buf[..len]` holds stream bytes from offset `base`.
/// `buf[..start]` is decided (only `buf[start - 1]` is kept, as left
/// context) and `buf[start..len]` is not yet decided.
#[derive(Clone, Debug)]
pub struct Searcher {
    fresh: usize,
    buf: Vec<u8>,
    len: usize,
    base: u64,
    start: usize,
    /// LF bytes in the stream before `base + counted`.
    lines: u64,
    /// Index in `buf` up to which LFs are counted; `len` between calls.
    counted: usize,
}

impl Default for Searcher {
    fn default() -> Self {
        Searcher::new(DEFAULT_BUFFER_BYTES)
    }
}

impl Searcher {
    /// A searcher that reads up to `buffer_bytes` fresh bytes at a time
    /// (at least 1). The buffer is allocated on first use.
    pub fn new(buffer_bytes: usize) -> Searcher {
        Searcher {
            fresh: buffer_bytes.max(1),
            buf: Vec::new(),
            len: 0,
            base: 0,
            start: 0,
            lines: 0,
            counted: 0,
        }
    }

    /// Forgets the current stream (keeps the buffer): the next bytes are
    /// the start of a new stream.
    pub fn reset(&mut self) {
        self.len = 0;
        self.base = 0;
        self.start = 0;
        self.lines = 0;
        self.counted = 0;
    }

    /// Reads `rdr` to its end, reports every code and finishes the stream;
    /// returns its totals. Continues the current stream (a fresh one after
    /// [`Searcher::new`], [`Searcher::reset`] or [`Searcher::finish`]; the
    /// resumed one after [`Searcher::resume`]) and leaves the searcher reset.
    /// On a read error the stream is not finished: what was read before the
    /// error has been reported, and [`Searcher::resume_point`] tells where
    /// to continue (or call [`Searcher::reset`]). When the sink stops, the
    /// totals are those of what was read until then.
    pub fn search_reader<R: Read, S: Sink>(
        &mut self,
        m: &Matcher,
        mut rdr: R,
        sink: &mut S,
    ) -> Result<StreamTotals, S::Error> {
        while self.fill(m, &mut rdr)? > 0 {
            if self.scan(m, sink, false)? == Flow::Stop {
                let t = self.totals();
                self.reset();
                return Ok(t);
            }
        }
        self.finish(m, sink)
    }

    /// Tail mode: reads what `rdr` has now (until `read` returns 0 or fails
    /// with `WouldBlock`) and reports every code that is decided. A code at
    /// the end of what was read waits for the next bytes or
    /// [`Searcher::finish`]. Returns the number of bytes read. On a read
    /// error, what was read before it is searched and the state stays
    /// consistent: calling again continues. When the sink stops or fails,
    /// the stream is over (the searcher is reset).
    pub fn read_available<R: Read, S: Sink>(
        &mut self,
        m: &Matcher,
        mut rdr: R,
        sink: &mut S,
    ) -> Result<u64, S::Error> {
        let mut total = 0u64;
        loop {
            let n = match self.fill(m, &mut rdr) {
                Ok(n) => n,
                // A non-blocking reader with nothing more now: same as 0.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
                Err(e) => return Err(e.into()),
            };
            if n == 0 {
                return Ok(total);
            }
            total += n as u64;
            if self.scan(m, sink, false)? == Flow::Stop {
                self.reset();
                return Ok(total);
            }
        }
    }

    /// End of input: decides and reports the codes still waiting, returns
    /// the totals of the stream and resets the searcher for a new stream
    /// (also when the sink stops or fails).
    pub fn finish<S: Sink>(&mut self, m: &Matcher, sink: &mut S) -> Result<StreamTotals, S::Error> {
        let flow = self.scan(m, sink, true);
        let mut t = self.totals();
        if self.len > 0 && self.buf[self.len - 1] != b'\n' {
            t.lines += 1;
        }
        self.reset();
        flow.map(|_| t)
    }

    /// Searches a complete input that is already in memory (a memory map, a
    /// decompressed block), without copying it: the same results as
    /// [`Searcher::search_reader`] over those bytes. Works in windows of the
    /// buffer size so that the newline count and the match scan share the
    /// cache. Independent of (and leaves alone) the streaming state.
    pub fn search_slice<S: Sink>(
        &self,
        m: &Matcher,
        bytes: &[u8],
        sink: &mut S,
    ) -> Result<StreamTotals, S::Error> {
        self.search_slice_stepped(m, bytes, sink, &mut |_| {})
    }

    /// [`Searcher::search_slice`], telling `done` after each window how many
    /// leading bytes of `bytes` the search will not look at again (all but
    /// the byte before an undecided code). A memory-mapped input uses it to
    /// report progress and to drop the pages behind it, so the resident
    /// memory stays at a window whatever the size of the file. When the
    /// sink stops, the totals are those of the windows searched.
    pub fn search_slice_stepped<S: Sink>(
        &self,
        m: &Matcher,
        bytes: &[u8],
        sink: &mut S,
        done: &mut dyn FnMut(usize),
    ) -> Result<StreamTotals, S::Error> {
        let mut lines = 0u64;
        let mut start = 0usize;
        let mut end = 0usize;
        while end < bytes.len() {
            let counted = end;
            end = end.saturating_add(self.fresh).min(bytes.len());
            let hay = &bytes[..end];
            let flow;
            (start, flow) = scan_window(
                m,
                hay,
                start,
                end == bytes.len(),
                0,
                &mut lines,
                counted,
                sink,
            );
            if flow? == Flow::Stop {
                return Ok(StreamTotals {
                    bytes: end as u64,
                    lines,
                });
            }
            done(start.saturating_sub(1));
        }
        if bytes.last().is_some_and(|&b| b != b'\n') {
            lines += 1;
        }
        Ok(StreamTotals {
            bytes: bytes.len() as u64,
            lines,
        })
    }

    /// Searches one chunk of a complete input in memory, for a file split
    /// among threads: reports exactly the codes that *start* in `range`,
    /// with offsets from the start of `bytes` and line numbers given
    /// `lf_before` (the LF bytes in `bytes[..range.start]`). It looks one
    /// byte back (the left boundary) and up to `max_code_len + 1` bytes
    /// past the end (to decide a code across the split point), so chunks
    /// that tile `bytes` report every code once, as
    /// [`Searcher::search_slice`] over the whole does. Returns what the
    /// sink said last (a stop or an error ends the chunk's search) and the
    /// LF bytes in `bytes[range]`, counted by the search itself (no second
    /// pass; meaningless after a stop).
    pub fn search_range<S: Sink>(
        &self,
        m: &Matcher,
        bytes: &[u8],
        range: std::ops::Range<usize>,
        lf_before: u64,
        sink: &mut S,
    ) -> Result<(Flow, u64), S::Error> {
        // One byte of left context for the boundary rule; with hit lines,
        // as much of the line before the chunk as a hit's line may show.
        let context = if sink.wants_hit_line() {
            HIT_LINE_BYTES
        } else {
            1
        };
        let from = range.start.saturating_sub(context);
        let to = range
            .end
            .saturating_add(m.max_code_len() + 1)
            .min(bytes.len());
        let hay = &bytes[from..to];
        let mut sink = StartsBefore {
            inner: sink,
            end: range.end as u64,
        };
        let mut lines = lf_before;
        let mut start = range.start - from;
        let mut end = start;
        while end < hay.len() {
            let counted = end;
            end = end.saturating_add(self.fresh).min(hay.len());
            let last = end == hay.len() && to == bytes.len();
            let flow;
            (start, flow) = scan_window(
                m,
                &hay[..end],
                start,
                last,
                from as u64,
                &mut lines,
                counted,
                &mut sink,
            );
            if flow? == Flow::Stop {
                return Ok((Flow::Stop, lines - lf_before));
            }
        }
        // The search counted LFs up to `to`; the bytes past the range's
        // end (at most a code's length) belong to the next chunk.
        let past = bytecount::count(&bytes[range.end.min(to)..to], b'\n') as u64;
        Ok((Flow::Continue, lines - lf_before - past))
    }

    /// Bytes read so far in this stream (from its start) and LF-terminated
    /// lines among them.
    pub fn totals(&self) -> StreamTotals {
        StreamTotals {
            bytes: self.base + self.len as u64,
            lines: self.lines + self.count_lf(self.counted, self.len),
        }
    }

    /// Where a new reader must start so that nothing is lost or counted
    /// twice: the first undecided byte, its line and the byte before it.
    /// Give it to [`Searcher::resume`] and seek the reader to its `offset`.
    pub fn resume_point(&self) -> ResumePoint {
        // `lines` counts LFs up to `counted`, which may be past `start`.
        let line = if self.start <= self.counted {
            self.lines - self.count_lf(self.start, self.counted)
        } else {
            self.lines + self.count_lf(self.counted, self.start)
        };
        ResumePoint {
            offset: self.base + self.start as u64,
            line: line + 1,
            before: self.start.checked_sub(1).map(|i| self.buf[i]),
        }
    }

    /// Continues a stream at `p` (from [`Searcher::resume_point`]); the
    /// caller's reader must be positioned at `p.offset`. A `before` of `None`
    /// means a code at `p.offset` has a boundary on its left.
    pub fn resume(&mut self, p: ResumePoint) {
        self.reset();
        self.lines = p.line.saturating_sub(1);
        match p.before {
            Some(b) if p.offset > 0 => {
                if self.buf.is_empty() {
                    self.buf.push(0);
                }
                self.buf[0] = b;
                self.len = 1;
                self.start = 1;
                self.counted = 1;
                self.base = p.offset - 1;
            }
            _ => self.base = p.offset,
        }
    }

    fn count_lf(&self, from: usize, to: usize) -> u64 {
        bytecount::count(&self.buf[from..to], b'\n') as u64
    }

    /// Drops decided bytes (keeping one of left context) and reads once.
    /// Returns the number of fresh bytes, 0 at (current) end of input.
    fn fill<R: Read>(&mut self, m: &Matcher, rdr: &mut R) -> io::Result<usize> {
        // Also kept: the decided bytes of the current line, at most
        // HIT_LINE_BYTES, so that a hit's line is whole in the buffer
        // (Sink::hit_line) though it began in an earlier read.
        let context = self.start.saturating_sub(HIT_LINE_BYTES + 1);
        let line_start = memchr::memrchr(b'\n', &self.buf[context..self.start])
            .map_or(context, |i| context + i + 1);
        let keep = line_start.min(self.start.saturating_sub(1));
        if keep > 0 {
            self.buf.copy_within(keep..self.len, 0);
            self.len -= keep;
            self.start -= keep;
            self.counted -= keep;
            self.base += keep as u64;
        }
        // Invariant from `Matcher::scan`: len - start <= max_code_len, and at
        // most HIT_LINE_BYTES + 1 decided bytes are kept, so the buffer
        // below never grows for a fixed matcher.
        let need = (m.max_code_len() + 1 + HIT_LINE_BYTES).max(self.len) + self.fresh;
        if self.buf.len() < need {
            self.buf.resize(need, 0);
        }
        let end = self.len + self.fresh;
        loop {
            match rdr.read(&mut self.buf[self.len..end]) {
                Ok(n) => {
                    self.len += n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Runs the matcher over the undecided bytes, reports what it decides,
    /// and counts the LFs of the buffer; returns what the sink said.
    fn scan<S: Sink>(&mut self, m: &Matcher, sink: &mut S, at_eof: bool) -> Result<Flow, S::Error> {
        let hay = &self.buf[..self.len];
        let mut lines = self.lines;
        let (decided, flow) = scan_window(
            m,
            hay,
            self.start,
            at_eof,
            self.base,
            &mut lines,
            self.counted,
            sink,
        );
        self.lines = lines;
        self.counted = self.len;
        self.start = decided;
        flow
    }
}

/// Passes on the codes that start before `end` (stream offset): the rest
/// belong to the next chunk.
struct StartsBefore<'a, S> {
    inner: &'a mut S,
    end: u64,
}

impl<S: Sink> Sink for StartsBefore<'_, S> {
    type Error = S::Error;

    #[inline]
    fn wants_hit_line(&self) -> bool {
        self.inner.wants_hit_line()
    }
    #[inline]
    fn hit_line(&mut self, line: &[u8]) {
        self.inner.hit_line(line)
    }

    #[inline]
    fn known(&mut self, id: CodeId, pos: Position) -> Result<Flow, S::Error> {
        if pos.offset < self.end {
            self.inner.known(id, pos)
        } else {
            Ok(Flow::Continue)
        }
    }
    #[inline]
    fn unknown(&mut self, code: UnknownCode, pos: Position) -> Result<Flow, S::Error> {
        if pos.offset < self.end {
            self.inner.unknown(code, pos)
        } else {
            Ok(Flow::Continue)
        }
    }
}

/// Scans `hay[start..]` and reports hits with positions. On entry `*lines`
/// is the number of LFs before `hay[counted]` (stream offset
/// `base + counted`); on return, before `hay.len()`. Returns the first
/// undecided index and what the sink said last: after a stop or an error
/// the rest of the window's hits are not reported (and `*lines` is then
/// meaningless, the stream being over).
#[allow(clippy::too_many_arguments)]
#[inline]
fn scan_window<S: Sink>(
    m: &Matcher,
    hay: &[u8],
    start: usize,
    at_eof: bool,
    base: u64,
    lines: &mut u64,
    mut counted: usize,
    sink: &mut S,
) -> (usize, Result<Flow, S::Error>) {
    let mut l = *lines;
    let mut flow = Ok(Flow::Continue);
    let scanned = m.scan(hay, start, at_eof, |s, found| {
        if !matches!(flow, Ok(Flow::Continue)) {
            return;
        }
        // Only the first hit after a refill can lie before `counted` (in the
        // kept tail); every later one moves forward.
        if s >= counted {
            l += bytecount::count(&hay[counted..s], b'\n') as u64;
        } else {
            l -= bytecount::count(&hay[s..counted], b'\n') as u64;
        }
        counted = s;
        let pos = Position {
            offset: base + s as u64,
            line: l + 1,
        };
        if sink.wants_hit_line() {
            let back = s.saturating_sub(HIT_LINE_BYTES);
            let from = memchr::memrchr(b'\n', &hay[back..s]).map_or(back, |i| back + i + 1);
            let ahead = hay.len().min(s + HIT_LINE_BYTES);
            let to = memchr::memchr(b'\n', &hay[s..ahead]).map_or(ahead, |i| s + i);
            sink.hit_line(&hay[from..to]);
        }
        flow = match found {
            Found::Known(id) => sink.known(id, pos),
            Found::Unknown(u) => sink.unknown(u, pos),
        };
    });
    *lines = l + bytecount::count(&hay[counted..], b'\n') as u64;
    (scanned.decided, flow)
}
