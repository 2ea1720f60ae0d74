//! Inputs of `scan`: turning the PATH arguments into a list of inputs
//! (files, directories walked recursively, stdin) and opening each input as
//! a plain byte stream, decompressing gzip and zstd.
//!
//! Compression is recognised by the magic bytes at the start of the data,
//! never by the file name: a rotated `app.log.1` that was gzipped is read
//! decompressed, and a `.gz` file that is really plain text is read as is.
//! Concatenated gzip members and zstd frames are all read (logrotate and
//! `cat a.gz b.gz` produce them). gzip is inflated by ISA-L when the
//! system has `libisal.so.2` ([`crate::gzip_isal`]), else by flate2.
//!
//! A compressed input is decompressed on a thread of its own, a few chunks
//! ahead of the search ([`Pipelined`]): decompression and search each take
//! a core, so a `.zst` or `.gz` file is searched at the decompressor's
//! speed rather than at the sum of both costs.
//!
//! Plain regular files of some size are memory-mapped instead of read
//! ([`map_plain`]): searching in place saves the copy that `read(2)` makes,
//! about half the time of a scan. A mapped file truncated under the scan
//! does not end the process with SIGBUS ([`crate::map_guard`]); it is
//! reported as changed ([`PlainMap::changed`]).
//!
//! Problems with one input (missing, unreadable, a directory entry that
//! cannot be listed) are returned as [`InputError`]s for the report; they
//! never stop the other inputs.

use crate::matcher::Matcher;
use crate::search::{Searcher, Sink, StreamTotals};
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

/// One thing to scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    /// The name used in reports and events: the path as given, or `-`.
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "-".to_string(),
            Input::File(p) => p.display().to_string(),
        }
    }
}

/// An input that could not be (fully) read.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct InputError {
    pub path: String,
    pub error: String,
}

impl InputError {
    pub fn new(path: impl Into<String>, error: &io::Error) -> InputError {
        InputError {
            path: path.into(),
            error: describe(error),
        }
    }
}

/// An I/O error as a short lower-case phrase (`permission denied`), without
/// Rust's `(os error 13)` suffix.
pub fn describe(e: &io::Error) -> String {
    let text = match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    };
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// What the PATH arguments expand to.
#[derive(Debug, Default)]
pub struct Discovered {
    pub inputs: Vec<Input>,
    pub errors: Vec<InputError>,
}

/// Expands PATH arguments: `-` is stdin, a directory is walked recursively
/// (hidden entries included; symbolic links followed only with `follow`),
/// anything else is taken as a file. Files under a directory are in sorted
/// order, so reports and events are reproducible.
pub fn discover(paths: &[PathBuf], follow: bool) -> Discovered {
    let mut found = Discovered::default();
    for path in paths {
        if path.as_os_str() == "-" {
            found.inputs.push(Input::Stdin);
            continue;
        }
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => walk(path, follow, &mut found),
            Ok(_) => found.inputs.push(Input::File(path.clone())),
            Err(e) => found
                .errors
                .push(InputError::new(path.display().to_string(), &e)),
        }
    }
    found
}

fn walk(dir: &Path, follow: bool, found: &mut Discovered) {
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(follow)
        .sort_by_file_name();
    for entry in walker {
        match entry {
            Ok(e) if e.file_type().is_file() => found.inputs.push(Input::File(e.into_path())),
            // Directories are walked; without --follow, links are not read.
            Ok(_) => {}
            Err(e) => {
                let path = e
                    .path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| dir.display().to_string());
                let error = match e.io_error() {
                    Some(io) => describe(io),
                    None => e.to_string(),
                };
                found.errors.push(InputError { path, error });
            }
        }
    }
}

/// The compression of a stream, from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn detect(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
            || (head.len() >= 4 && head[0] & 0xf0 == 0x50 && head[1..4] == [0x2a, 0x4d, 0x18])
        {
            // A zstd frame, or a skippable frame (magic 0x184D2A50..5F,
            // little-endian): pzstd and seekable zstd start with one. The
            // decoder skips skippable frames wherever they are, as
            // `zstd -dc` does.
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// Wraps a raw stream in the decompressor its magic bytes call for.
/// `progress` is told how many decompressed bytes are delivered, for the
/// progress bar (the size a report counts).
///
/// Plain data is returned without an extra buffer, so the searcher reads
/// straight into its own buffer: one copy from the page cache, not two.
pub fn decompressed<R: Read + Send + 'static>(
    raw: R,
    progress: impl FnMut(u64) + Send + 'static,
) -> io::Result<(Compression, Box<dyn Read + Send>)> {
    let mut raw = raw;
    let mut head = [0u8; 4];
    let mut have = 0;
    // A pipe may deliver fewer bytes per read than are coming.
    while have < head.len() {
        match raw.read(&mut head[have..]) {
            Ok(0) => break,
            Ok(n) => have += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let compression = Compression::detect(&head[..have]);
    let stream = io::Cursor::new(head[..have].to_vec()).chain(raw);
    // The decompressors read in small pieces; give them a buffer.
    const DECODER_BUFFER: usize = 128 * 1024;
    let reader: Box<dyn Read + Send> = match compression {
        Compression::None => Box::new(Counted {
            inner: stream,
            progress,
        }),
        // ISA-L when the system has it (about twice flate2's speed), else
        // flate2 (`crate::gzip_isal`).
        Compression::Gzip => Box::new(Counted {
            inner: match crate::gzip_isal::Isal::get() {
                Some(isal) => pipelined(crate::gzip_isal::IsalGzDecoder::new(isal, stream)),
                None => pipelined(flate2::bufread::MultiGzDecoder::new(
                    BufReader::with_capacity(DECODER_BUFFER, stream),
                )),
            },
            progress,
        }),
        Compression::Zstd => Box::new(Counted {
            inner: pipelined(zstd::stream::read::Decoder::with_buffer(
                BufReader::with_capacity(DECODER_BUFFER, stream),
            )?),
            progress,
        }),
    };
    Ok((compression, reader))
}

/// `inner` on a thread of its own ([`Pipelined`]), or read in place when
/// the system refuses the thread.
fn pipelined<R: Read + Send + 'static>(inner: R) -> Box<dyn Read + Send> {
    match Pipelined::spawn(inner) {
        Ok(p) => Box::new(p),
        Err((inner, e)) => {
            threads_refused(&e);
            Box::new(inner)
        }
    }
}

/// Tells the user, once per process, that the system refused a thread
/// (RLIMIT_NPROC, cgroup pids.max, memory): the work goes on with the
/// threads there are, only slower.
pub fn threads_refused(e: &io::Error) {
    static TOLD: std::sync::Once = std::sync::Once::new();
    TOLD.call_once(|| {
        log::warn!(
            "the system refused more threads ({}): going on with fewer",
            describe(e)
        );
    });
}

/// A reader whose inner reader runs on its own thread, [`PIPELINE_CHUNKS`]
/// chunks of [`PIPELINE_CHUNK_BYTES`] ahead at most (bounded memory: the
/// chunks are recycled). A read error is passed on in order, after the
/// bytes read before it. Dropping the reader stops the thread at its next
/// chunk; it is not joined, since a blocked read (stdin) may never return.
pub struct Pipelined {
    full: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    empty: std::sync::mpsc::SyncSender<Vec<u8>>,
    chunk: Vec<u8>,
    at: usize,
    done: bool,
}

const PIPELINE_CHUNK_BYTES: usize = 256 * 1024;
const PIPELINE_CHUNKS: usize = 3;

impl Pipelined {
    /// Starts the thread; when the system refuses it, gives `inner` back.
    pub fn spawn<R: Read + Send + 'static>(inner: R) -> Result<Pipelined, (R, io::Error)> {
        use std::sync::mpsc::sync_channel;
        let (full_tx, full) = sync_channel::<io::Result<Vec<u8>>>(PIPELINE_CHUNKS);
        let (empty, empty_rx) = sync_channel::<Vec<u8>>(PIPELINE_CHUNKS + 1);
        // `inner` is handed over once the thread runs, so that a refused
        // thread leaves it with the caller.
        let (inner_tx, inner_rx) = sync_channel::<R>(1);
        let started = std::thread::Builder::new()
            .name("decompress".into())
            .spawn(move || {
                let Ok(mut inner) = inner_rx.recv() else {
                    return;
                };
                loop {
                    let mut chunk = empty_rx.try_recv().unwrap_or_default();
                    chunk.resize(PIPELINE_CHUNK_BYTES, 0);
                    // Fill the chunk (the decoders return small pieces).
                    let mut n = 0;
                    let failed = loop {
                        match inner.read(&mut chunk[n..]) {
                            Ok(0) => break None,
                            Ok(k) => {
                                n += k;
                                if n == chunk.len() {
                                    break None;
                                }
                            }
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                            Err(e) => break Some(e),
                        }
                    };
                    chunk.truncate(n);
                    let end = n < PIPELINE_CHUNK_BYTES;
                    if n > 0 && full_tx.send(Ok(chunk)).is_err() {
                        return;
                    }
                    if let Some(e) = failed {
                        let _ = full_tx.send(Err(e));
                        return;
                    }
                    if end {
                        return;
                    }
                }
            });
        if let Err(e) = started {
            return Err((inner, e));
        }
        let _ = inner_tx.send(inner);
        Ok(Pipelined {
            full,
            empty,
            chunk: Vec::new(),
            at: 0,
            done: false,
        })
    }
}

impl Read for Pipelined {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.chunk.len() {
            if self.done {
                return Ok(0);
            }
            match self.full.recv() {
                Ok(Ok(next)) => {
                    let used = std::mem::replace(&mut self.chunk, next);
                    let _ = self.empty.try_send(used);
                    self.at = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                // The thread finished: everything was delivered.
                Err(_) => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// An input opened for reading.
pub struct Opened {
    pub compression: Compression,
    /// The decompressed bytes.
    pub reader: Box<dyn Read + Send>,
    /// A regular file's size when it was opened: a plain file read to its
    /// end in fewer bytes was cut under the scan (a file that grows is a
    /// live log: what was there is read, no error).
    pub size_at_open: Option<u64>,
}

/// Opens an input for reading, decompressed.
pub fn open(input: &Input, progress: impl FnMut(u64) + Send + 'static) -> io::Result<Opened> {
    let (raw, size_at_open): (Box<dyn Read + Send>, _) = match input {
        Input::Stdin => (Box::new(io::stdin()), None),
        Input::File(path) => {
            let file = File::open(path)?;
            let meta = file.metadata()?;
            (Box::new(file), meta.is_file().then_some(meta.len()))
        }
    };
    let (compression, reader) = decompressed(raw, progress)?;
    Ok(Opened {
        compression,
        reader,
        size_at_open,
    })
}

/// A plain (not compressed) regular file, memory-mapped: searched in
/// place with no copy, which is what lets one core keep up with the page
/// cache (`read(2)` alone costs about as much as the search).
pub struct PlainMap {
    /// Declared before `map`: unregistered before the map is unmapped.
    guard: crate::map_guard::Guard,
    map: memmap2::Mmap,
    file: File,
}

/// The pages behind the search are dropped from the mapping every this many
/// bytes, so the resident memory stays small whatever the file's size (they
/// stay in the page cache; only this process's mapping lets go of them).
const MAP_RELEASE_BYTES: usize = 8 * 1024 * 1024;

/// Maps `path` when it is a regular file of at least `min_bytes` whose
/// content is not compressed; `None` means "read it as a stream instead".
pub fn map_plain(path: &Path, min_bytes: u64) -> io::Result<Option<PlainMap>> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() || meta.len() < min_bytes.max(1) {
        return Ok(None);
    }
    // SAFETY: the map is only read. If another process truncates the file
    // while it is mapped, reading the lost pages raises SIGBUS; the guard
    // turns that into zero pages and `PlainMap::changed` (no guard: no map).
    let map = match unsafe { memmap2::Mmap::map(&file) } {
        Ok(map) => map,
        // Some file systems cannot map; reading works everywhere.
        Err(_) => return Ok(None),
    };
    let Some(guard) = crate::map_guard::Guard::register(map.as_ptr(), map.len()) else {
        return Ok(None);
    };
    if Compression::detect(&map[..map.len().min(4)]) != Compression::None {
        return Ok(None);
    }
    let _ = map.advise(memmap2::Advice::Sequential);
    Ok(Some(PlainMap { guard, map, file }))
}

impl PlainMap {
    /// Whether the file shrank while it was mapped: the pages past its new
    /// end were read as zeros, so the search saw only part of it.
    pub fn changed(&self) -> bool {
        self.guard.faulted()
            || self
                .file
                .metadata()
                .is_ok_and(|m| m.len() < self.map.len() as u64)
    }

    /// The mapped bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// Drops the pages wholly inside `range` from this mapping (they stay
    /// in the page cache), once a chunk's search is done with them.
    pub fn release(&self, range: std::ops::Range<usize>) {
        let page = 4096;
        let from = range.start.div_ceil(page) * page;
        let to = range.end / page * page;
        if to > from {
            // SAFETY: as in `search`: dropped pages of a file mapping read
            // back from the file if they ever were touched again.
            let _ = unsafe {
                self.map
                    .unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, from, to - from)
            };
        }
    }

    /// Searches the whole file, telling `progress` the bytes done as it goes.
    pub fn search<S: Sink>(
        &self,
        searcher: &Searcher,
        matcher: &Matcher,
        sink: &mut S,
        progress: &mut dyn FnMut(u64),
    ) -> Result<StreamTotals, S::Error> {
        let page = 4096;
        let mut released = 0usize;
        let mut reported = 0usize;
        let totals = searcher.search_slice_stepped(matcher, &self.map, sink, &mut |done| {
            if done - reported >= MAP_RELEASE_BYTES {
                progress((done - reported) as u64);
                reported = done;
                let upto = done / page * page;
                // SAFETY: the search never looks at bytes before `done`
                // again, and a dropped page of a file mapping reads back
                // from the file if it ever were.
                let _ = unsafe {
                    self.map.unchecked_advise_range(
                        memmap2::UncheckedAdvice::DontNeed,
                        released,
                        upto - released,
                    )
                };
                released = upto;
            }
        });
        progress((self.map.len() - reported) as u64);
        totals
    }
}

/// Counts the bytes a stream delivers.
struct Counted<R, F> {
    inner: R,
    progress: F,
}

impl<R: Read, F: FnMut(u64)> Read for Counted<R, F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.progress)(n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A reader that hands out one byte per read, like a slow pipe.
    struct Trickle(Vec<u8>, usize);
    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.1 >= self.0.len() || buf.is_empty() {
                return Ok(0);
            }
            buf[0] = self.0[self.1];
            self.1 += 1;
            Ok(1)
        }
    }

    fn read_all(data: Vec<u8>) -> (Compression, Vec<u8>, u64) {
        let seen = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let s = seen.clone();
        let (c, mut r) = decompressed(Trickle(data, 0), move |n| {
            s.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        })
        .unwrap();
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        (c, out, seen.load(std::sync::atomic::Ordering::Relaxed))
    }

    #[test]
    fn plain_short_and_empty_streams_pass_through() {
        for data in [&b""[..], b"a", b"ab\n", b"Ecs.0013 plain text"] {
            let (c, out, raw) = read_all(data.to_vec());
            assert_eq!(c, Compression::None);
            assert_eq!(out, data);
            assert_eq!(raw, data.len() as u64);
        }
    }

    #[test]
    fn a_pipelined_reader_passes_every_byte_then_the_error_in_order() {
        /// Yields `data` in odd-sized pieces, then fails (if `fail`).
        struct Pieces {
            data: Vec<u8>,
            at: usize,
            fail: bool,
        }
        impl Read for Pieces {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.at == self.data.len() {
                    return if self.fail {
                        Err(io::Error::new(io::ErrorKind::InvalidData, "corrupt block"))
                    } else {
                        Ok(0)
                    };
                }
                let n = buf.len().min(7919).min(self.data.len() - self.at);
                buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
                self.at += n;
                Ok(n)
            }
        }
        // Several chunks and a partial one, and exactly one chunk.
        for len in [3 * PIPELINE_CHUNK_BYTES + 12345, PIPELINE_CHUNK_BYTES, 0] {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            for fail in [false, true] {
                let Ok(mut r) = Pipelined::spawn(Pieces {
                    data: data.clone(),
                    at: 0,
                    fail,
                }) else {
                    panic!("no thread");
                };
                let mut got = Vec::new();
                let mut buf = vec![0u8; 100_000];
                let err = loop {
                    match r.read(&mut buf) {
                        Ok(0) => break None,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                        Err(e) => break Some(e),
                    }
                };
                assert!(
                    got == data,
                    "len {len}: {} bytes of {}",
                    got.len(),
                    data.len()
                );
                assert_eq!(
                    err.map(|e| e.to_string()),
                    fail.then(|| "corrupt block".to_string())
                );
                assert_eq!(r.read(&mut buf).unwrap(), 0, "stays at its end");
            }
        }
    }

    #[test]
    fn gzip_members_and_zstd_frames_are_all_read() {
        let gz = |s: &[u8]| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(s).unwrap();
            e.finish().unwrap()
        };
        let mut two = gz(b"first Ecs.0013\n");
        two.extend(gz(b"second\n"));
        let (c, out, seen) = read_all(two.clone());
        assert_eq!(c, Compression::Gzip);
        assert_eq!(out, b"first Ecs.0013\nsecond\n");
        assert_eq!(seen, out.len() as u64, "progress in decompressed bytes");

        let mut z = zstd::encode_all(&b"one "[..], 1).unwrap();
        z.extend(zstd::encode_all(&b"two"[..], 1).unwrap());
        let (c, out, _) = read_all(z);
        assert_eq!(c, Compression::Zstd);
        assert_eq!(out, b"one two");
    }
}
