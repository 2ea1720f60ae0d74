//! The boundary table of SPEC section 2, with hand-written expectations, run
//! against the naive reference, the matcher, and the searcher (with several
//! buffer sizes); plus user-style catalogs whose prefixes overlap.

mod matcher_reference;

use faultline::matcher::{Matcher, MatcherError};
use matcher_reference::{Hit, reference, via_matcher, via_searcher, via_tail};

const CODES: &[&str] = &[
    "Ecs.0013",
    "IMG.0015",
    "BackupService.6133",
    "CSBS.9006",
    "Ecs.0001",
    "Common.0024",
];

/// Expected hits: `(offset, code, known)`.
type Expect = &'static [(u64, &'static str, bool)];

/// `(input, [(offset, code, known)])`: every example of SPEC section 2 and
/// more. `?` in a comment marks what the case is about.
#[rustfmt::skip]
const TABLE: &[(&[u8], Expect)] = &[
    // Whole input, start and end of input as boundaries.
    (b"Ecs.0013", &[(0, "Ecs.0013", true)]),
    (b"", &[]),
    (b"Ecs.001", &[]),
    (b"Ecs.", &[]),
    (b"Ec", &[]),
    // SPEC: not hits.
    (b"Ecs.00131", &[]),
    (b"XEcs.0013", &[]),
    (b"Ecs.0013a", &[]),
    (b"_Ecs.0013", &[]),
    (b"Ecs.0013_x", &[]),
    (b"7Ecs.0013", &[]),
    (b"Ecs.0013Ecs.0013", &[]),
    (b"ecs.0013", &[]),
    (b"ECS.0013", &[]),
    (b"Ecs.013 Ecs.13", &[]),
    (b"Ecs..0013", &[]),
    (b"Ecs.0O13", &[]),
    (b"Ecs 0013", &[]),
    (b"Ecs-0013", &[]),
    (b"img.0015 iMG.0015", &[]),
    (b"Ecs.0013Ecs.0013Ecs.0013", &[]),
    (b"aEcs.0013 Ecs.0013b", &[]),
    // SPEC: hits.
    (b"Ecs.0013.", &[(0, "Ecs.0013", true)]),
    (b"(Ecs.0013)", &[(1, "Ecs.0013", true)]),
    (b"\"Ecs.0013\"", &[(1, "Ecs.0013", true)]),
    (b"code=Ecs.0013&", &[(5, "Ecs.0013", true)]),
    (b"Ecs.Ecs.0013", &[(4, "Ecs.0013", true)]),
    ("错误码Ecs.0013，".as_bytes(), &[(9, "Ecs.0013", true)]),
    // Separators of every kind.
    (b"a:Ecs.0013/b", &[(2, "Ecs.0013", true)]),
    (b"\tEcs.0013\t", &[(1, "Ecs.0013", true)]),
    (b"x\r\nEcs.0013\r\n", &[(3, "Ecs.0013", true)]),
    (b"\0Ecs.0013\0", &[(1, "Ecs.0013", true)]),
    (b"\xffEcs.0013\xfe", &[(1, "Ecs.0013", true)]),
    (b"-Ecs.0013-", &[(1, "Ecs.0013", true)]),
    (b"[Ecs.0013]{IMG.0015}", &[(1, "Ecs.0013", true), (11, "IMG.0015", true)]),
    (b"Ecs.0013,Ecs.0013", &[(0, "Ecs.0013", true), (9, "Ecs.0013", true)]),
    (b"Ecs.0013.0001", &[(0, "Ecs.0013", true)]),
    (b"x.Ecs.0013", &[(2, "Ecs.0013", true)]),
    (b"Ecs.0013\n", &[(0, "Ecs.0013", true)]),
    (b"\nEcs.0013", &[(1, "Ecs.0013", true)]),
    // Several per line, and across lines.
    (b"Ecs.0013 IMG.0015 CSBS.9006\nBackupService.6133 Common.0024\n",
     &[(0, "Ecs.0013", true), (9, "IMG.0015", true), (18, "CSBS.9006", true),
       (28, "BackupService.6133", true), (47, "Common.0024", true)]),
    // Long prefixes, and one prefix a suffix of another word.
    (b"MyBackupService.6133 BackupService.61330", &[]),
    (b"XCSBS.9006 CSBS.9006x", &[]),
    // Unknown codes: same shape and boundaries, known prefix.
    (b"Ecs.9876", &[(0, "Ecs.9876", false)]),
    (b"(Ecs.9876)", &[(1, "Ecs.9876", false)]),
    (b"x=IMG.0000;", &[(2, "IMG.0000", false)]),
    (b"Ecs.9876a _Ecs.9876 Ecs.98765 Ecs.987", &[]),
    ("错Ecs.9999。".as_bytes(), &[(3, "Ecs.9999", false)]),
    (b"Ecs.9876\r\nPdp.0001 Foo.0013", &[(0, "Ecs.9876", false)]),
    (b"Ecs.Ecs.9876", &[(4, "Ecs.9876", false)]),
    (b"Ecs.0013 Ecs.0014", &[(0, "Ecs.0013", true), (9, "Ecs.0014", false)]),
];

fn expected(input: &[u8], e: &[(u64, &str, bool)]) -> Vec<Hit> {
    e.iter()
        .map(|&(offset, code, known)| Hit {
            offset,
            line: 1 + input[..offset as usize]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64,
            code: code.to_string(),
            known,
        })
        .collect()
}

#[test]
fn boundary_table() {
    let m = Matcher::new(CODES.iter().copied()).unwrap();
    for (input, e) in TABLE {
        let want = expected(input, e);
        let show = String::from_utf8_lossy(input);
        assert_eq!(reference(CODES, input), want, "reference on {show:?}");
        assert_eq!(via_matcher(&m, input), want, "matcher on {show:?}");
        for buffer in [1, 2, 3, 7, 64 * 1024] {
            let (hits, totals) = via_searcher(&m, input, buffer, usize::MAX);
            assert_eq!(hits, want, "searcher({buffer}) on {show:?}");
            assert_eq!(totals, matcher_reference::naive_totals(input), "{show:?}");
        }
        for cut in 0..=input.len() {
            let (hits, _) = via_tail(&m, input, &[cut], 4, None);
            assert_eq!(hits, want, "tail cut at {cut} on {show:?}");
            let (hits, _) = via_tail(&m, input, &[cut], 4, Some(0));
            assert_eq!(hits, want, "tail resumed at {cut} on {show:?}");
        }
    }
}

#[test]
fn whole_table_as_one_input() {
    let m = Matcher::new(CODES.iter().copied()).unwrap();
    let mut input = Vec::new();
    for (i, _) in TABLE {
        input.extend_from_slice(i);
        input.push(b'\n');
    }
    let want = reference(CODES, &input);
    assert!(want.len() > 30, "{}", want.len());
    assert_eq!(via_matcher(&m, &input), want);
    for buffer in 1..=20 {
        assert_eq!(
            via_searcher(&m, &input, buffer, usize::MAX).0,
            want,
            "{buffer}"
        );
    }
}

/// User catalogs: prefixes that are suffixes or extensions of each other,
/// single-letter prefixes, digits in prefixes.
#[test]
fn overlapping_prefixes() {
    let codes: &[&str] = &[
        "S.0001",
        "CSBS.0001",
        "Ecs.0013",
        "EcsX.0013",
        "A1.0000",
        "A.0000",
        "BS.1234",
    ];
    let m = Matcher::new(codes.iter().copied()).unwrap();
    let inputs: &[&[u8]] = &[
        b"CSBS.0001 S.0001 BS.1234 CSBS.1234 S.1234",
        b"EcsX.0013 Ecs.0013 EcsX.0014 Ecs.X.0013 EcsEcs.0013",
        b"A1.0000 A.0000 A1A.0000 1A.0000 A.A1.0000 A..0000",
        b"CSBS.S.0001.BS.0001",
        b"xS.0001 CS.0001 .S.0001 S.0001S.0001",
    ];
    for input in inputs {
        let want = reference(codes, input);
        assert_eq!(
            via_matcher(&m, input),
            want,
            "{}",
            String::from_utf8_lossy(input)
        );
        for buffer in 1..=12 {
            assert_eq!(via_searcher(&m, input, buffer, usize::MAX).0, want);
        }
    }
    // Spot checks of the reference itself.
    let hits = reference(codes, b"CSBS.0001 S.0001 BS.1234 CSBS.1234");
    let got: Vec<(u64, &str, bool)> = hits
        .iter()
        .map(|h| (h.offset, h.code.as_str(), h.known))
        .collect();
    assert_eq!(
        got,
        [
            (0, "CSBS.0001", true),
            (10, "S.0001", true),
            (17, "BS.1234", true),
            (25, "CSBS.1234", false)
        ]
    );
}

#[test]
fn real_catalog_every_code_found() {
    let codes = matcher_reference::catalog_codes();
    assert_eq!(codes.len(), 589);
    let m = Matcher::new(codes.iter().map(String::as_str)).unwrap();
    assert_eq!(m.prefix_count(), 6);
    assert_eq!(m.max_code_len(), "BackupService.6133".len());
    let mut input = String::new();
    for (i, c) in codes.iter().enumerate() {
        // Alternate separators, so every code sees several neighbours.
        input.push_str(c);
        input.push_str(["\n", " ", ",", "。", "\r\n", "\t"][i % 6]);
    }
    let hits = via_matcher(&m, input.as_bytes());
    assert_eq!(hits.len(), 589);
    assert!(
        hits.iter()
            .zip(&codes)
            .all(|(h, c)| h.known && &h.code == c)
    );
    let refs: Vec<&str> = codes.iter().map(String::as_str).collect();
    assert_eq!(reference(&refs, input.as_bytes()), hits);
}

#[test]
fn bad_codes_are_rejected_with_their_name() {
    for bad in ["ecs 0013", "", "Ecs.", "-1", "a/b", "Ecs.001\u{e9}", "_x"] {
        assert_eq!(
            Matcher::new(["Ecs.0013", bad]).unwrap_err(),
            MatcherError::BadCode {
                code: bad.to_string()
            },
            "{bad:?}"
        );
    }
    let e = Matcher::new(["Ecs.0013", "Ecs.0013"]).unwrap_err();
    assert!(e.to_string().contains("Ecs.0013"), "{e}");
}

/// A catalog with every shape of SPEC section 1, and codes that are
/// prefixes of other codes: a word code and a longer code through a dot
/// (`AuthFailure`, `AuthFailure.SignatureFailure`) and the family under both
/// (`AuthFailure.0001`); a word code inside a longer word code
/// (`Throttling`, `ThrottlingException`); a word code that is the stem of a
/// family (`HTTP`, `HTTP2`); two digit counts under one stem (`DBS.`).
const SHAPES: &[&str] = &[
    "Ecs.0013",
    "DBS.200001",
    "DBS.0001",
    "CBC.18000016",
    "ORA-00942",
    "SVCSTG.CCE-ADDONMGR.4000003",
    "APIGW.0301",
    "InvalidParameterValue",
    "AuthFailure",
    "AuthFailure.SignatureFailure",
    "AuthFailure.0001",
    "Throttling",
    "ThrottlingException",
    "HTTP",
    "HTTP2",
    "111404022",
    "10000000",
    "a:b_c-d.e",
];

/// Contexts around a code that leave it a hit, and that do not.
const HIT_AROUND: &[(&str, &str)] = &[
    ("", ""),
    (" ", " "),
    ("(", ")"),
    ("\"", "\""),
    ("code=", "&"),
    ("x.", "."),
    ("\n", "\r\n"),
    ("错误码", "，"),
    ("-", "-"),
    (":", ":"),
    ("\t", "/"),
];
const MISS_AROUND: &[(&str, &str)] = &[
    ("X", ""),
    ("_", ""),
    ("7", ""),
    ("", "a"),
    ("", "_x"),
    ("", "Z"),
];

fn check(codes: &[&str], m: &Matcher, input: &[u8], want: &[Hit]) {
    let show = String::from_utf8_lossy(input);
    assert_eq!(reference(codes, input), want, "reference on {show:?}");
    assert_eq!(via_matcher(m, input), want, "matcher on {show:?}");
    for buffer in [1, 2, 5, 64 * 1024] {
        let (hits, _) = via_searcher(m, input, buffer, 3);
        assert_eq!(hits, want, "searcher({buffer}) on {show:?}");
    }
    for cut in 0..=input.len() {
        let (hits, _) = via_tail(m, input, &[cut], 4, Some(0));
        assert_eq!(hits, want, "tail resumed at {cut} on {show:?}");
    }
}

/// Every shape × every boundary case, with hand-written expectations.
#[test]
fn every_shape_every_boundary() {
    let m = Matcher::new(SHAPES.iter().copied()).unwrap();
    for code in SHAPES {
        for (l, r) in HIT_AROUND {
            let input = format!("{l}{code}{r}");
            let want = expected(input.as_bytes(), &[(l.len() as u64, code, true)]);
            check(SHAPES, &m, input.as_bytes(), &want);
        }
        for (l, r) in MISS_AROUND {
            let input = format!("{l}{code}{r}");
            // Not a hit of this code; what else is there, the reference says
            // (`HTTP` + `a`: nothing; `HTTP2` + `Z`: nothing).
            let want = reference(SHAPES, input.as_bytes());
            assert!(!want.iter().any(|h| h.code == *code), "{input:?}: {want:?}");
            check(SHAPES, &m, input.as_bytes(), &want);
        }
    }
}

/// Overlapping codes, near misses with one digit more or less, unknown
/// codes per family, by hand.
#[rustfmt::skip]
const SHAPE_TABLE: &[(&str, Expect)] = &[
    ("AuthFailure.SignatureFailure:", &[(0, "AuthFailure.SignatureFailure", true)]),
    ("AuthFailure.Other", &[(0, "AuthFailure", true)]),
    ("AuthFailure.SignatureFailureX", &[(0, "AuthFailure", true)]),
    ("AuthFailure.SignatureFailure.SignatureFailure", &[(0, "AuthFailure.SignatureFailure", true)]),
    ("AuthFailure.0001 AuthFailure.9999 AuthFailure.999", &[
        (0, "AuthFailure.0001", true), (17, "AuthFailure.9999", false), (34, "AuthFailure", true)]),
    ("ThrottlingException Throttling-Exception ThrottlingExceptions", &[
        (0, "ThrottlingException", true), (20, "Throttling", true)]),
    ("DBS.200001 DBS.0001 DBS.299999 DBS.29999 DBS.2000010 DBS.0002", &[
        (0, "DBS.200001", true), (11, "DBS.0001", true), (20, "DBS.299999", false),
        (53, "DBS.0002", false)]),
    ("DBS.00001 DBS.001 DBS.20000", &[]),
    ("HTTP HTTP2 HTTP3 HTTP22 HTTPS", &[
        (0, "HTTP", true), (5, "HTTP2", true), (11, "HTTP3", false)]),
    ("ORA-00942 ORA-00943 ORA-0094 ORA-009421 ORA.00942", &[
        (0, "ORA-00942", true), (10, "ORA-00943", false)]),
    ("SVCSTG.CCE-ADDONMGR.4000003 SVCSTG.CCE-ADDONMGR.4000004 CCE-ADDONMGR.4000003", &[
        (0, "SVCSTG.CCE-ADDONMGR.4000003", true), (28, "SVCSTG.CCE-ADDONMGR.4000004", false)]),
    ("CBC.18000016 CBC.1800001 CBC.180000160 CBC.18000017", &[
        (0, "CBC.18000016", true), (39, "CBC.18000017", false)]),
    ("111404022 1114040221 11140402 0111404022 111404023", &[(0, "111404022", true)]),
    ("10000000.10000000-100000000", &[(0, "10000000", true), (9, "10000000", true)]),
    ("Ecs.Ecs.0013 Ecs.Ecs.Ecs. Ecs.", &[(4, "Ecs.0013", true)]),
    ("InvalidParameterValueInvalidParameterValue", &[]),
    ("a:b_c-d.e:b_c-d.e a:b_c-d.f", &[(0, "a:b_c-d.e", true)]),
    ("APIGW.0301.APIGW.0302", &[(0, "APIGW.0301", true), (11, "APIGW.0302", false)]),
];

#[test]
fn every_shape_overlaps_and_near_misses() {
    let m = Matcher::new(SHAPES.iter().copied()).unwrap();
    for (input, e) in SHAPE_TABLE {
        let want = expected(input.as_bytes(), e);
        check(SHAPES, &m, input.as_bytes(), &want);
    }
}

/// Stretches of text full of stems without a digit (`Ecs.Ecs.Ecs.`) make
/// the matcher switch to its dense automaton (stem + first digit) for a
/// while and back (matcher module docs): hits and near misses placed
/// before, inside and after such stretches, and inside the runs
/// themselves, are found exactly as the reference finds them, whole and
/// through the searcher's buffers.
#[test]
fn hits_around_runs_of_stems_without_digits() {
    let m = Matcher::new(CODES.iter().copied()).unwrap();
    let mut input = Vec::new();
    let mut seed = 7u64;
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    // About 3 MiB: runs long enough to switch (hundreds of rejects), and
    // plain stretches longer than the dense span (1 MiB) between them.
    while input.len() < 3 << 20 {
        match next(6) {
            0 => {
                let stem: &[u8] = if next(2) == 0 { b"Ecs." } else { b"CSBS." };
                for _ in 0..next(5_000) {
                    input.extend_from_slice(stem);
                }
                // Codes of other stems right after a run, before any hit
                // restarts the search; a code right after a run (word
                // byte before it: no hit), and one after a separator.
                input.extend_from_slice(b" IMG.0015 Common.0024 Ecs.0013 IMG.Ecs.0001 ");
            }
            1 => input.extend_from_slice(b"Ecs.0013 Ecs.9876 (IMG.0015) Ecs.00131 xEcs.0013\n"),
            2 => input.extend_from_slice(b"Ecs.Ecs.Ecs.0001 CSBS.CSBS.9006 Common.0024."),
            _ => {
                for _ in 0..next(20_000) {
                    input.push(b"abc def\n"[next(8) as usize]);
                }
            }
        }
    }
    let want = reference(CODES, &input);
    assert!(want.len() > 300, "{}", want.len());
    assert_eq!(via_matcher(&m, &input), want);
    for buffer in [4096, 64 * 1024, 1 << 20] {
        assert_eq!(
            via_searcher(&m, &input, buffer, usize::MAX).0,
            want,
            "{buffer}"
        );
    }
}
