//! The searcher against the naive reference: codes split across buffer
//! boundaries at every offset, random inputs (proptest) read with random
//! buffer sizes and in random tail-mode chunks, and resuming.

mod matcher_reference;

use faultline::matcher::Matcher;
use faultline::search::{Searcher, Sink, StreamTotals};
use matcher_reference::{
    Chunked, Collect, catalog_codes, naive_totals, reference, via_searcher, via_tail,
};
use proptest::prelude::*;
use std::sync::OnceLock;

fn codes() -> &'static [String] {
    static C: OnceLock<Vec<String>> = OnceLock::new();
    C.get_or_init(catalog_codes)
}

fn code_refs() -> Vec<&'static str> {
    codes().iter().map(String::as_str).collect()
}

fn matcher() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| Matcher::new(code_refs()).unwrap())
}

/// Dense input: codes, unknown codes and near misses glued with every kind
/// of neighbour, so that some code straddles every buffer offset.
fn dense_input() -> Vec<u8> {
    let mut v = Vec::new();
    let seps: &[&[u8]] = &[
        b" ",
        b"\n",
        b"\r\n",
        b"",
        b".",
        b"_",
        b"x",
        b"7",
        "，".as_bytes(),
        b"\0",
        b"\xff",
        b"=",
        b"\t",
    ];
    let words: &[&[u8]] = &[
        b"Ecs.0013",
        b"BackupService.6133",
        b"CSBS.9006",
        b"IMG.0015",
        b"Ecs.9876",
        b"Pdp.0001",
        b"Common.0024",
        b"ecs.0013",
        b"Ecs.00131",
        b"Ecs.001",
        b"Ecs..0013",
        b"BackupService.",
        b"CSBS",
        b"img.3367.com",
        b"core.1234",
        b"Ecs.Ecs.0013",
        b"IMG.9999",
        b"BackupServic",
        b"Pdp.0002",
    ];
    for i in 0..400 {
        v.extend_from_slice(words[(i * 7) % words.len()]);
        v.extend_from_slice(seps[(i * 5 + i / 13) % seps.len()]);
    }
    v
}

#[test]
fn every_buffer_size_1_to_40() {
    let m = matcher();
    let input = dense_input();
    let want = reference(&code_refs(), &input);
    assert!(want.len() > 60, "{}", want.len());
    assert!(want.iter().any(|h| !h.known));
    for buffer in 1..=40 {
        let (hits, totals) = via_searcher(m, &input, buffer, usize::MAX);
        assert_eq!(hits, want, "buffer {buffer}");
        assert_eq!(totals, naive_totals(&input), "buffer {buffer}");
        // Short reads (smaller than the buffer) too.
        let (hits, _) = via_searcher(m, &input, buffer, 3);
        assert_eq!(hits, want, "buffer {buffer}, reads of 3");
    }
}

#[test]
fn search_slice_equals_reader() {
    let m = matcher();
    let input = dense_input();
    let want = reference(&code_refs(), &input);
    for buffer in [1, 2, 5, 17, 40, 1 << 20] {
        let mut sink = Collect::new(m);
        let t = Searcher::new(buffer)
            .search_slice(m, &input, &mut sink)
            .unwrap();
        assert_eq!(sink.hits, want, "{buffer}");
        assert_eq!(t, naive_totals(&input));
    }
}

#[test]
fn lines_and_bytes() {
    let m = matcher();
    for input in [
        &b""[..],
        b"\n",
        b"a",
        b"a\n",
        b"a\nb",
        b"\n\n",
        b"a\r\nb\r\n",
        b"\r",
        b"Ecs.0013",
    ] {
        for buffer in [1, 2, 1024] {
            let (_, t) = via_searcher(m, input, buffer, usize::MAX);
            assert_eq!(t, naive_totals(input), "{input:?}");
        }
    }
    // Tail mode: the unterminated last line counts only at finish.
    let mut s = Searcher::new(4);
    let mut sink = Collect::new(m);
    s.read_available(m, &b"one\ntwo\nthr"[..], &mut sink)
        .unwrap();
    assert_eq!(
        s.totals(),
        StreamTotals {
            bytes: 11,
            lines: 2
        }
    );
    assert_eq!(
        s.finish(m, &mut sink).unwrap(),
        StreamTotals {
            bytes: 11,
            lines: 3
        }
    );
    // finish() resets: the next stream starts at 0.
    assert_eq!(s.totals(), StreamTotals::default());
}

#[test]
fn undecided_code_waits_for_next_byte_or_finish() {
    let m = matcher();
    let mut s = Searcher::new(8);
    let mut sink = Collect::new(m);
    s.read_available(m, &b"x Ecs.0013"[..], &mut sink).unwrap();
    assert!(sink.hits.is_empty(), "decided too early");
    let p = s.resume_point();
    assert_eq!((p.offset, p.line, p.before), (2, 1, Some(b' ')));
    // A digit follows: not a hit.
    s.read_available(m, &b"1 "[..], &mut sink).unwrap();
    assert!(sink.hits.is_empty());
    s.read_available(m, &b"\nEcs.0013"[..], &mut sink).unwrap();
    assert!(sink.hits.is_empty());
    s.finish(m, &mut sink).unwrap();
    assert_eq!(sink.hits.len(), 1);
    assert_eq!((sink.hits[0].offset, sink.hits[0].line), (13, 2));
}

#[test]
fn huge_line_costs_only_the_buffer() {
    // 64 MiB without a newline, a code at each end and in the middle; the
    // reader produces bytes on the fly, so only the searcher's buffer exists.
    struct Gen {
        pos: u64,
        len: u64,
    }
    impl std::io::Read for Gen {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = (self.len - self.pos).min(buf.len() as u64) as usize;
            for (i, b) in buf[..n].iter_mut().enumerate() {
                let at = self.pos + i as u64;
                let code = b"Ecs.0013";
                let mid = self.len / 2;
                *b = if at < 8 {
                    code[at as usize]
                } else if at >= mid && at < mid + 8 {
                    code[(at - mid) as usize]
                } else if at >= self.len - 8 {
                    code[(at - (self.len - 8)) as usize]
                } else {
                    b'-'
                };
            }
            self.pos += n as u64;
            Ok(n)
        }
    }
    #[derive(Default)]
    struct Offsets(Vec<u64>);
    impl Sink for Offsets {
        type Error = std::io::Error;

        fn known(
            &mut self,
            _: u32,
            pos: faultline::search::Position,
        ) -> std::io::Result<faultline::search::Flow> {
            assert_eq!(pos.line, 1);
            self.0.push(pos.offset);
            Ok(faultline::search::Flow::Continue)
        }
    }
    let len = 64 << 20;
    let mut sink = Offsets::default();
    let t = Searcher::new(64 * 1024)
        .search_reader(matcher(), Gen { pos: 0, len }, &mut sink)
        .unwrap();
    assert_eq!(sink.0, [0, len / 2, len - 8]);
    assert_eq!(
        t,
        StreamTotals {
            bytes: len,
            lines: 1
        }
    );
}

#[test]
fn read_errors_are_returned_and_interrupts_retried() {
    struct Flaky(u32);
    impl std::io::Read for Flaky {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.0 += 1;
            match self.0 {
                1 => Err(std::io::ErrorKind::Interrupted.into()),
                2 => {
                    buf[..9].copy_from_slice(b"Ecs.0013 ");
                    Ok(9)
                }
                _ => Err(std::io::Error::other("disk on fire")),
            }
        }
    }
    let m = matcher();
    let mut sink = Collect::new(m);
    let mut s = Searcher::new(64);
    let e = s.search_reader(m, Flaky(0), &mut sink).unwrap_err();
    assert_eq!(e.to_string(), "disk on fire");
    assert_eq!(sink.hits.len(), 1);
}

/// Pieces random inputs are made of.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    let code = prop::sample::select(code_refs());
    prop_oneof![
        3 => code.clone().prop_map(|c| c.as_bytes().to_vec()),
        // Near misses: a case change, 3 or 5 digits, a word byte on either
        // side, a doubled dot, an unknown number of a known prefix.
        3 => (code, 0..9usize, 0..10000u32).prop_map(|(c, k, n)| {
            let (p, d) = c.split_once('.').unwrap();
            match k {
                0 => c.to_lowercase(),
                1 => format!("{p}.{}", &d[..3]),
                2 => format!("{c}{}", n % 10),
                3 => format!("_{c}"),
                4 => format!("{c}a"),
                5 => format!("{p}..{d}"),
                6 => format!("{p}.{n:04}"),
                7 => format!("{}.{d}", &p[1..]),
                _ => p.to_string() + ".",
            }
            .into_bytes()
        }),
        4 => prop::collection::vec(
            prop::sample::select(vec![b' ', b'\n', b'\r', b'\t', b'.', b'_', b'a', b'Z', b'7', 0, 0xff, 0xe9, b'=', b'(', b'"']),
            0..4
        ),
    ]
}

fn input() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(piece(), 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn searcher_equals_reference(input in input(), buffer in 1usize..64, chunk in 1usize..100) {
        let m = matcher();
        let want = reference(&code_refs(), &input);
        let (hits, totals) = via_searcher(m, &input, buffer, chunk);
        prop_assert_eq!(&hits, &want);
        prop_assert_eq!(totals, naive_totals(&input));
        let mut sink = Collect::new(m);
        let t = Searcher::new(buffer)
            .search_slice(m, &input, &mut sink)
            .unwrap();
        prop_assert_eq!(&sink.hits, &want);
        prop_assert_eq!(t, naive_totals(&input));
    }

    #[test]
    fn tail_chunks_equal_reference(
        input in input(),
        cuts in prop::collection::vec(0usize..600, 0..8),
        buffer in 1usize..48,
    ) {
        let m = matcher();
        let want = reference(&code_refs(), &input);
        let (hits, totals) = via_tail(m, &input, &cuts, buffer, None);
        prop_assert_eq!(&hits, &want);
        prop_assert_eq!(totals, naive_totals(&input));
    }

    #[test]
    fn resume_equals_one_pass(
        input in input(),
        cuts in prop::collection::vec(0usize..600, 1..8),
        restart in 0usize..8,
        buffer in 1usize..48,
    ) {
        let m = matcher();
        let want = reference(&code_refs(), &input);
        let restart = restart % (cuts.len() + 1);
        let (hits, totals) = via_tail(m, &input, &cuts, buffer, Some(restart));
        prop_assert_eq!(&hits, &want);
        prop_assert_eq!(totals, naive_totals(&input));
    }
}

#[test]
fn resume_point_at_start_and_reader_api() {
    let m = matcher();
    let s = Searcher::new(16);
    assert_eq!(s.resume_point(), faultline::search::ResumePoint::START);
    // search_reader continues a resumed stream: offsets and lines are of the
    // whole stream.
    let input = b"a\nb Ecs.0013\nEcs.0013 x";
    let mut s = Searcher::new(3);
    let mut sink = Collect::new(m);
    s.read_available(
        m,
        Chunked {
            data: &input[..6],
            chunk: 2,
        },
        &mut sink,
    )
    .unwrap();
    let p = s.resume_point();
    let mut s2 = Searcher::new(5);
    s2.resume(p);
    let t = s2
        .search_reader(m, &input[p.offset as usize..], &mut sink)
        .unwrap();
    assert_eq!(t, naive_totals(input));
    assert_eq!(sink.hits, reference(&code_refs(), input));
}

#[test]
fn would_block_ends_read_available() {
    struct NonBlocking<'a>(&'a [u8], bool);
    impl std::io::Read for NonBlocking<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.1 || self.0.is_empty() {
                return Err(std::io::ErrorKind::WouldBlock.into());
            }
            self.1 = true;
            let n = self.0.len().min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let m = matcher();
    let mut s = Searcher::new(1024);
    let mut sink = Collect::new(m);
    let n = s
        .read_available(m, NonBlocking(b"Ecs.0013 IMG.0015", false), &mut sink)
        .unwrap();
    assert_eq!(n, 17);
    assert_eq!(sink.hits.len(), 1);
    s.finish(m, &mut sink).unwrap();
    assert_eq!(sink.hits.len(), 2);
}

/// A sink's answer is honoured: after `Stop` or an error no more hits are
/// reported (the rest of the window is dropped), `Stop` ends the search
/// with the totals so far, and the error reaches the caller.
#[test]
fn sink_stop_and_error_end_the_search() {
    use faultline::search::{Flow, Position};
    struct Until {
        seen: Vec<u64>,
        after: usize,
        fail: bool,
    }
    impl Sink for Until {
        type Error = std::io::Error;
        fn known(&mut self, _: u32, pos: Position) -> std::io::Result<Flow> {
            self.seen.push(pos.offset);
            if self.seen.len() < self.after {
                Ok(Flow::Continue)
            } else if self.fail {
                Err(std::io::Error::other("sink failed"))
            } else {
                Ok(Flow::Stop)
            }
        }
    }
    let m = matcher();
    let input = b"Ecs.0013 Ecs.0013 Ecs.0013\nEcs.0013 Ecs.0013\n".repeat(100);
    for buffer in [1, 7, 1 << 20] {
        for fail in [false, true] {
            let mut sink = Until {
                seen: Vec::new(),
                after: 2,
                fail,
            };
            let got = Searcher::new(buffer).search_reader(m, &input[..], &mut sink);
            assert_eq!(sink.seen, [0, 9], "buffer {buffer}, fail {fail}");
            match got {
                Ok(t) => {
                    assert!(!fail);
                    assert!(t.bytes < input.len() as u64 || buffer == 1 << 20);
                }
                Err(e) => {
                    assert!(fail);
                    assert_eq!(e.to_string(), "sink failed");
                }
            }
            let mut sink = Until {
                seen: Vec::new(),
                after: 2,
                fail,
            };
            let got = Searcher::new(buffer).search_slice(m, &input, &mut sink);
            assert_eq!(sink.seen, [0, 9], "slice, buffer {buffer}, fail {fail}");
            assert_eq!(got.is_err(), fail);
        }
    }
}
