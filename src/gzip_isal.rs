//! gzip decoding with Intel's ISA-L inflater (the library behind `igzip`),
//! loaded at run time when the system has it.
//!
//! Why: ISA-L inflates about twice as fast as flate2's backends (zlib-rs,
//! miniz_oxide) on this machine (numbers in `benches/NOTES.md`, "gzip"),
//! and a gzip archive is searched at its decompressor's speed. Why loaded
//! at run time (`dlopen("libisal.so.2")`) rather than linked: building then
//! needs nothing beyond the README's two commands (no nasm, no autotools,
//! no `libisal-dev`), and a machine without the library still scans gzip,
//! through flate2 ([`crate::input`] falls back when [`Isal::get`] is
//! `None`). Debian ships the library as `libisal2` (pulled in by the `isal`
//! package, which also installs `igzip`).
//!
//! Only the streaming inflate API is used: `isal_inflate_init`,
//! `isal_inflate_reset`, `isal_inflate` with `crc_flag = ISAL_GZIP` (ISA-L
//! parses each member's header and checks its CRC-32 and length). The
//! state is a C struct the caller allocates; its size and the offsets of
//! the fields used here are those of `igzip_lib.h` in ISA-L 2.x (the ABI of
//! soname 2, checked with `offsetof` against Debian's 2.30 header). So
//! that a library with another layout can never be misused, [`Isal::get`]
//! first inflates a known member and compares the output; any mismatch and
//! flate2 is used instead.
//!
//! Costs: one 85 KiB state and one input buffer per decoder; no copy of
//! the output (ISA-L writes straight into the caller's buffer).

use std::io::{self, Read};
use std::sync::OnceLock;

/// `sizeof(struct inflate_state)` in ISA-L 2.30, rounded up generously: a
/// larger state in a later 2.x only ever appends (ABI of soname 2).
const STATE_BYTES: usize = 96 * 1024;
// Field offsets in `struct inflate_state` (x86-64, ISA-L 2.x).
const NEXT_OUT: usize = 0;
const AVAIL_OUT: usize = 8;
const NEXT_IN: usize = 16;
const AVAIL_IN: usize = 32;
const BLOCK_STATE: usize = 21160;
const CRC_FLAG: usize = 21172;
/// `crc_flag`: parse the gzip header, check the trailer.
const ISAL_GZIP: u32 = 1;
/// `block_state` once a member's trailer has been read and checked.
const ISAL_BLOCK_FINISH: u32 = 5;

type StateFn = unsafe extern "C" fn(*mut u8);
type InflateFn = unsafe extern "C" fn(*mut u8) -> i32;

/// The ISA-L inflate functions of the loaded library.
#[derive(Clone, Copy)]
pub struct Isal {
    init: StateFn,
    reset: StateFn,
    inflate: InflateFn,
}

impl Isal {
    /// The library, loaded and checked once per process; `None` when the
    /// system has no `libisal.so.2` or it does not decode as expected.
    pub fn get() -> Option<&'static Isal> {
        static LOADED: OnceLock<Option<Isal>> = OnceLock::new();
        LOADED
            .get_or_init(|| {
                if std::env::var_os("FAULTLINE_NO_ISAL").is_some() {
                    return None;
                }
                let isal = Isal::load()?;
                isal.decodes_known_member().then_some(isal)
            })
            .as_ref()
    }

    fn load() -> Option<Isal> {
        // SAFETY: dlopen/dlsym with NUL-terminated names; the library is
        // never closed, so the function pointers stay valid.
        unsafe {
            let lib = libc::dlopen(c"libisal.so.2".as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
            if lib.is_null() {
                return None;
            }
            let sym = |name: &std::ffi::CStr| {
                let p = libc::dlsym(lib, name.as_ptr());
                (!p.is_null()).then_some(p)
            };
            Some(Isal {
                init: std::mem::transmute::<*mut libc::c_void, StateFn>(sym(c"isal_inflate_init")?),
                reset: std::mem::transmute::<*mut libc::c_void, StateFn>(sym(
                    c"isal_inflate_reset",
                )?),
                inflate: std::mem::transmute::<*mut libc::c_void, InflateFn>(sym(c"isal_inflate")?),
            })
        }
    }

    /// Inflates two members written by gzip (`printf 'Ecs.0013\n' | gzip
    /// -n` and an empty one) and compares: the check that the state layout
    /// assumed above is the library's.
    fn decodes_known_member(&self) -> bool {
        const MEMBER: [u8; 29] = [
            0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x73, 0x4d, 0x2e, 0xd6,
            0x33, 0x30, 0x30, 0x34, 0xe6, 0x02, 0x00, 0xe0, 0x18, 0x53, 0xac, 0x09, 0x00, 0x00,
            0x00,
        ];
        const EMPTY: [u8; 20] = [
            0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x03, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        let mut input = MEMBER.to_vec();
        input.extend_from_slice(&EMPTY);
        input.extend_from_slice(&MEMBER);
        let mut out = Vec::new();
        let mut decoder = IsalGzDecoder::with(self, &input[..]);
        let mut buf = [0u8; 7];
        loop {
            match decoder.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(_) => return false,
            }
        }
        out == b"Ecs.0013\nEcs.0013\n"
    }
}

/// Input read from the compressed stream at a time.
const INPUT_BYTES: usize = 128 * 1024;

/// A multi-member gzip stream decoded by ISA-L, as a [`Read`]: the same
/// bytes and the same failures as flate2's `MultiGzDecoder` (every member,
/// one after the other; a corrupt or truncated member is an
/// `InvalidData`/`UnexpectedEof` error after the bytes before it).
pub struct IsalGzDecoder<R> {
    isal: Isal,
    /// `struct inflate_state`, 8-byte aligned.
    state: Box<[u64]>,
    inner: R,
    input: Box<[u8]>,
    /// `input[at..len]` is not yet given to ISA-L.
    at: usize,
    len: usize,
    inner_done: bool,
    /// The current member's trailer was read: the next byte starts a new
    /// member, or the stream ends.
    member_done: bool,
    /// Returned `Ok(0)` or an error: stays there.
    over: bool,
}

impl<R: Read> IsalGzDecoder<R> {
    /// A decoder of `inner` (the stream from its first byte).
    pub fn new(isal: &Isal, inner: R) -> IsalGzDecoder<R> {
        IsalGzDecoder::with(isal, inner)
    }

    fn with(isal: &Isal, inner: R) -> IsalGzDecoder<R> {
        let isal = *isal;
        let mut state = vec![0u64; STATE_BYTES / 8].into_boxed_slice();
        // SAFETY: the state is larger than `struct inflate_state` and
        // aligned for it; init writes only inside it.
        unsafe {
            (isal.init)(state.as_mut_ptr().cast());
        }
        let mut decoder = IsalGzDecoder {
            isal,
            state,
            inner,
            input: vec![0u8; INPUT_BYTES].into_boxed_slice(),
            at: 0,
            len: 0,
            inner_done: false,
            member_done: false,
            over: false,
        };
        decoder.put_u32(CRC_FLAG, ISAL_GZIP);
        decoder
    }

    fn put_u32(&mut self, offset: usize, v: u32) {
        let bytes = self.state_bytes();
        bytes[offset..offset + 4].copy_from_slice(&v.to_ne_bytes());
    }

    fn get_u32(&mut self, offset: usize) -> u32 {
        let bytes = self.state_bytes();
        u32::from_ne_bytes(bytes[offset..offset + 4].try_into().expect("4 bytes"))
    }

    fn put_ptr(&mut self, offset: usize, p: *mut u8) {
        let bytes = self.state_bytes();
        bytes[offset..offset + 8].copy_from_slice(&(p as usize).to_ne_bytes());
    }

    fn state_bytes(&mut self) -> &mut [u8] {
        // SAFETY: a `[u64]` seen as bytes: same memory, no padding.
        unsafe { std::slice::from_raw_parts_mut(self.state.as_mut_ptr().cast::<u8>(), STATE_BYTES) }
    }

    /// Reads more compressed bytes when all were given to ISA-L.
    fn refill(&mut self) -> io::Result<()> {
        while self.at == self.len && !self.inner_done {
            match self.inner.read(&mut self.input) {
                Ok(0) => self.inner_done = true,
                Ok(n) => {
                    self.at = 0;
                    self.len = n;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// One `isal_inflate` call over the pending input into `out`: returns
    /// (input bytes consumed, output bytes written).
    fn inflate(&mut self, out: &mut [u8]) -> io::Result<(usize, usize)> {
        let avail_in = (self.len - self.at) as u32;
        let next_in = self.input[self.at..].as_mut_ptr();
        // ISA-L takes 32-bit lengths.
        let out_len = out.len().min(u32::MAX as usize);
        self.put_ptr(NEXT_IN, next_in);
        self.put_u32(AVAIL_IN, avail_in);
        self.put_ptr(NEXT_OUT, out.as_mut_ptr());
        self.put_u32(AVAIL_OUT, out_len as u32);
        // SAFETY: next_in/avail_in describe `input[at..len]` and
        // next_out/avail_out `out[..out_len]`, both live for the call; ISA-L
        // reads and writes only inside them and the state.
        let ret = unsafe { (self.isal.inflate)(self.state.as_mut_ptr().cast()) };
        if ret < 0 {
            return Err(corrupt(ret));
        }
        let consumed = (avail_in - self.get_u32(AVAIL_IN)) as usize;
        let written = out_len - self.get_u32(AVAIL_OUT) as usize;
        self.at += consumed;
        if self.get_u32(BLOCK_STATE) == ISAL_BLOCK_FINISH {
            self.member_done = true;
        }
        Ok((consumed, written))
    }
}

impl<R: Read> Read for IsalGzDecoder<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() || self.over {
            return Ok(0);
        }
        let result = loop {
            if let Err(e) = self.refill() {
                break Err(e);
            }
            let no_input = self.at == self.len;
            if self.member_done {
                if no_input {
                    break Ok(0);
                }
                // Another member follows (logrotate, `cat a.gz b.gz`).
                // SAFETY: as in `with`.
                unsafe { (self.isal.reset)(self.state.as_mut_ptr().cast()) };
                self.put_u32(CRC_FLAG, ISAL_GZIP);
                self.member_done = false;
            }
            match self.inflate(out) {
                Err(e) => break Err(e),
                Ok((_, written)) if written > 0 => return Ok(written),
                Ok(_) if self.member_done => {}
                // All input taken, nothing out: ISA-L waits for more.
                Ok(_) if no_input => {
                    break Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the gzip data ends in the middle of a member (truncated file?)",
                    ));
                }
                Ok((0, 0)) => {
                    break Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "corrupt gzip data (the decoder made no progress)",
                    ));
                }
                Ok(_) => {}
            }
        };
        self.over = true;
        result
    }
}

/// An `isal_inflate` failure as an error that says what is wrong.
fn corrupt(ret: i32) -> io::Error {
    let what = match ret {
        -1 => "invalid deflate block",
        -2 => "invalid deflate symbol",
        -3 => "invalid back-reference distance",
        -4 => "invalid gzip header",
        -5 => "unsupported compression method",
        -6 => "checksum mismatch",
        _ => "undecodable data",
    };
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("corrupt gzip data ({what})"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip_members(parts: &[&[u8]], level: u32) -> Vec<u8> {
        let mut all = Vec::new();
        for p in parts {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
            e.write_all(p).unwrap();
            all.extend(e.finish().unwrap());
        }
        all
    }

    /// Reads `r` in pieces of `step` bytes.
    fn read_in(mut r: impl Read, step: usize) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; step];
        loop {
            match r.read(&mut buf)? {
                0 => return Ok(out),
                n => out.extend_from_slice(&buf[..n]),
            }
        }
    }

    /// Delivers `data` `piece` bytes per read, like a pipe.
    struct Pieces<'a>(&'a [u8], usize);
    impl Read for Pieces<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.1).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn text(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed;
        (0..len)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                b"Ecs.0013 abc\n xyz"[(x >> 59) as usize % 17]
            })
            .collect()
    }

    #[test]
    fn members_decode_like_flate2_whatever_the_read_sizes() {
        let Some(isal) = Isal::get() else {
            eprintln!("libisal.so.2 not installed: nothing to compare");
            return;
        };
        let a = text(300_000, 1);
        let b = text(70_000, 2);
        let stream = gzip_members(&[&a, b"", &b, b"x"], 6);
        let mut want = a.clone();
        want.extend_from_slice(&b);
        want.push(b'x');
        let reference = read_in(flate2::read::MultiGzDecoder::new(&stream[..]), 4096).unwrap();
        assert!(reference == want);
        for (piece, step) in [(1, 1000), (7, 65536), (INPUT_BYTES, 1), (1 << 20, 1 << 20)] {
            let got = read_in(IsalGzDecoder::new(isal, Pieces(&stream, piece)), step).unwrap();
            assert!(
                got == want,
                "pieces {piece}, reads {step}: {} bytes",
                got.len()
            );
        }
    }

    #[test]
    fn corrupt_and_truncated_members_are_errors_after_the_bytes_before() {
        let Some(isal) = Isal::get() else {
            return;
        };
        let a = text(200_000, 3);
        let stream = gzip_members(&[&a, &a], 1);
        let one = stream.len() / 2;
        // Cut inside the second member.
        let cut = &stream[..one + 100];
        let mut d = IsalGzDecoder::new(isal, cut);
        let mut got = Vec::new();
        let err = d.read_to_end(&mut got).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert!(got.len() >= a.len() && a[..] == got[..a.len()]);
        // A flipped byte in the first member's data: the CRC or the
        // deflate stream says so.
        let mut bad = stream.clone();
        bad[one / 2] ^= 0x55;
        let err = read_in(IsalGzDecoder::new(isal, &bad[..]), 4096).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
        // Garbage after a member is not a member.
        let mut tail = gzip_members(&[b"abc"], 6);
        tail.extend_from_slice(b"this is not a gzip member, only text");
        let err = read_in(IsalGzDecoder::new(isal, &tail[..]), 4096).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
    }
}
