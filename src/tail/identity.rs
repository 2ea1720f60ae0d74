//! Who a file is: its identity (device and inode while it is open) and
//! its content's fingerprints (the hash of its first bytes, and of the
//! bytes just before a read position), and the reader that proves with
//! every `read(2)` that a followed file still holds what was read of it.
//! `follow` decides what a file *is* (new, a copy, the same file renamed)
//! from these answers; this module only compares bytes.
//!
//! Cost: a check reads at most [`FINGERPRINT_BYTES`] twice with
//! `pread(2)`, into a caller-owned [`Scratch`]; no check allocates.

use super::follow::READ_BUDGET;
use crate::checkpoint::{FINGERPRINT_BYTES, Fingerprint};
use crate::input::Compression;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

/// A file's identity while it exists: device and inode.
pub type Key = (u64, u64);

/// The identity of what `path` leads to now (through symlinks).
pub fn key_of(path: &Path) -> Option<Key> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Caller-owned room for the bytes an identity check compares, so checks
/// (a thousand files looked at a second) never allocate.
pub struct Scratch {
    a: [u8; FINGERPRINT_BYTES],
    b: [u8; FINGERPRINT_BYTES],
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch {
            a: [0; FINGERPRINT_BYTES],
            b: [0; FINGERPRINT_BYTES],
        }
    }
}

impl Default for Scratch {
    fn default() -> Scratch {
        Scratch::new()
    }
}

/// A file that matched a pattern, opened and looked at.
pub(super) struct Candidate {
    pub path: PathBuf,
    pub file: File,
    pub key: Key,
    pub size: u64,
    pub head: Vec<u8>,
}

impl Candidate {
    pub fn open(path: &Path) -> io::Result<Candidate> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        let mut head = vec![0; FINGERPRINT_BYTES.min(meta.len() as usize)];
        let n = read_at_most(&file, 0, &mut head)?;
        head.truncate(n);
        Ok(Candidate {
            path: path.to_path_buf(),
            file,
            key: (meta.dev(), meta.ino()),
            size: meta.len(),
            head,
        })
    }

    pub fn compressed(&self) -> bool {
        Compression::detect(&self.head) != Compression::None
    }

    pub fn view(&self) -> View<'_> {
        View {
            file: &self.file,
            size: self.size,
            head: &self.head,
        }
    }
}

/// A file's size and first bytes, to compare with what is known.
pub(super) struct View<'a> {
    pub file: &'a File,
    pub size: u64,
    pub head: &'a [u8],
}

impl View<'_> {
    /// Reads `file`'s first bytes into `head` (reusing it); its size.
    pub fn of_file(file: &File, head: &mut Vec<u8>) -> io::Result<u64> {
        let size = file.metadata()?.len();
        head.resize(FINGERPRINT_BYTES.min(size as usize), 0);
        let n = read_at_most(file, 0, head)?;
        head.truncate(n);
        Ok(size)
    }

    /// Whether this file's content is, up to `offset`, the one described by
    /// `head` and `before`.
    pub fn holds(
        &self,
        head: Fingerprint,
        offset: u64,
        before: Fingerprint,
        scratch: &mut Scratch,
    ) -> bool {
        self.size >= offset
            && self.head.len() >= head.len as usize
            && Fingerprint::of(&self.head[..head.len as usize]) == head
            && before_matches(self.file, offset, before, scratch)
    }

    /// Whether this file is shorter than `offset` and its content so far is
    /// the start of a content whose first bytes are `head`: it may be a copy
    /// of that content still being written.
    pub fn may_become(&self, head: &[u8], offset: u64) -> bool {
        self.size < offset && head.len() >= self.head.len() && head[..self.head.len()] == *self.head
    }
}

/// Reads up to `buf.len()` bytes at `offset`; fewer only at end of file.
pub fn read_at_most(file: &File, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read_at(&mut buf[n..], offset + n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The fingerprint of the bytes just before `offset`.
pub fn before_at(file: &File, offset: u64, scratch: &mut Scratch) -> io::Result<Fingerprint> {
    let len = offset.min(FINGERPRINT_BYTES as u64) as usize;
    let n = read_at_most(file, offset - len as u64, &mut scratch.a[..len])?;
    Ok(Fingerprint::of(&scratch.a[..n]))
}

/// Whether `file` holds, just before `offset`, the bytes `before` describes.
pub fn before_matches(
    file: &File,
    offset: u64,
    before: Fingerprint,
    scratch: &mut Scratch,
) -> bool {
    let len = before.len as usize;
    if len as u64 > offset || len > FINGERPRINT_BYTES {
        return false;
    }
    let buf = &mut scratch.a[..len];
    matches!(read_at_most(file, offset - len as u64, buf), Ok(n) if n == len)
        && Fingerprint::of(buf) == before
}

/// Whether a file no longer holds what was read of it up to `offset`
/// (truncated, or replaced and regrown).
pub fn has_lost_content(
    file: &File,
    offset: u64,
    before: Fingerprint,
    scratch: &mut Scratch,
) -> bool {
    file.metadata().is_ok_and(|m| m.len() < offset)
        || !before_matches(file, offset, before, scratch)
}

/// Whether the first `size` bytes of `copy` can be the start of
/// `original`: the original is at least that long and their last
/// [`FINGERPRINT_BYTES`] bytes before `size` are the same. With the head
/// and the bytes before a reader's position this tells a copy from a new
/// file that only begins the same way (a common banner line), which the
/// first bytes alone cannot.
pub fn ends_within(
    copy: &File,
    size: u64,
    original: &File,
    scratch: &mut Scratch,
) -> io::Result<bool> {
    if original.metadata()?.len() < size {
        return Ok(false);
    }
    let len = size.min(FINGERPRINT_BYTES as u64) as usize;
    let (a, b) = (&mut scratch.a[..len], &mut scratch.b[..len]);
    let na = read_at_most(copy, size - len as u64, a)?;
    let nb = read_at_most(original, size - len as u64, b)?;
    Ok(na == len && nb == len && a == b)
}

/// Whether a file that holds `original`'s content up to `offset` is a
/// copy of it and not a new file that only begins the same way: its end
/// must lie within the original too. When the original has just lost its
/// content (copytruncate: copied, then truncated, before either was looked
/// at), that cannot be checked; the copy is taken as one, and the
/// original's truncation hands it over from the original's position.
pub fn copy_so_far(
    copy: &File,
    size: u64,
    original: &File,
    offset: u64,
    before: Fingerprint,
    scratch: &mut Scratch,
) -> bool {
    // Compared first, and the original's loss checked after: copytruncate
    // truncates right after copying, often while this very comparison
    // runs, and a loss checked before it would miss that.
    ends_within(copy, size, original, scratch).unwrap_or(false)
        || has_lost_content(original, offset, before, scratch)
}

/// Reads a followed file onward from a position, proving with every
/// `read(2)` that the bytes just before the position are still the ones
/// that were read there: each call asks for those bytes too and compares
/// them. A file truncated and written again between two looks (copytruncate
/// followed by new writes) is then caught whenever it happens — before the
/// first read of a round, between two reads, or after the last — instead of
/// being read on from the old position. On such a change the reader stops
/// (returns 0) and sets `replaced`; what it returned before was verified.
pub(super) struct CheckedReader<'a> {
    file: &'a File,
    pos: u64,
    budget: u64,
    /// Check of the bytes before `pos` for the next read: the fingerprint
    /// known at the start of the round, then the raw bytes last read.
    first: Option<Fingerprint>,
    /// Up to [`BEHIND_BYTES`] bytes just before `pos`, as read.
    behind: &'a mut Vec<u8>,
    scratch: &'a mut Vec<u8>,
    /// The file's first bytes, when a read started at offset 0.
    pub head: Option<Vec<u8>>,
    pub replaced: bool,
}

/// Bytes kept of what was read before the read position: enough for the
/// fingerprint before the searcher's resume point, which lies at most a
/// code's length before the read position.
pub(super) const BEHIND_BYTES: usize = 2 * FINGERPRINT_BYTES;

impl<'a> CheckedReader<'a> {
    pub fn new(
        file: &'a File,
        pos: u64,
        before: Fingerprint,
        behind: &'a mut Vec<u8>,
        scratch: &'a mut Vec<u8>,
    ) -> Self {
        behind.clear();
        CheckedReader {
            file,
            pos,
            budget: READ_BUDGET,
            first: Some(before),
            behind,
            scratch,
            head: None,
            replaced: false,
        }
    }

    /// Whether this round's budget is used up (the file may have more).
    pub fn spent(&self) -> bool {
        self.budget == 0
    }

    /// The fingerprint of the bytes before `offset` (at most `pos`), from
    /// what was read, if the reader still holds them.
    pub fn before(&self, offset: u64) -> Option<Fingerprint> {
        let want = offset.min(FINGERPRINT_BYTES as u64);
        let held_from = self.pos - self.behind.len() as u64;
        if self.first.is_some() || offset > self.pos || offset - want < held_from {
            return None;
        }
        let end = (offset - held_from) as usize;
        Some(Fingerprint::of(&self.behind[end - want as usize..end]))
    }
}

impl Read for CheckedReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = (buf.len() as u64).min(self.budget) as usize;
        if want == 0 || self.replaced {
            return Ok(0);
        }
        let check = match self.first {
            Some(fp) => fp.len as usize,
            None => self.behind.len().min(FINGERPRINT_BYTES),
        };
        if check as u64 > self.pos {
            self.replaced = true;
            return Ok(0);
        }
        self.scratch.resize(check + want, 0);
        // One call: the checked bytes and the new ones come from the file
        // as it was at one moment.
        let n = loop {
            match self.file.read_at(self.scratch, self.pos - check as u64) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => break r?,
            }
        };
        let same = n >= check
            && match self.first {
                Some(fp) => Fingerprint::of(&self.scratch[..check]) == fp,
                None => self.scratch[..check] == self.behind[self.behind.len() - check..],
            };
        if !same {
            self.replaced = true;
            return Ok(0);
        }
        let fresh = &self.scratch[check..n];
        buf[..fresh.len()].copy_from_slice(fresh);
        if self.pos == check as u64 {
            self.head = Some(self.scratch[..n.min(FINGERPRINT_BYTES)].to_vec());
        }
        if self.first.take().is_some() {
            self.behind.clear();
            self.behind.extend_from_slice(&self.scratch[..check]);
        }
        self.behind.extend_from_slice(fresh);
        let extra = self.behind.len().saturating_sub(BEHIND_BYTES);
        self.behind.drain(..extra);
        self.pos += fresh.len() as u64;
        self.budget -= fresh.len() as u64;
        Ok(fresh.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(bytes: &[u8]) -> (tempfile::NamedTempFile, File) {
        let mut t = tempfile::NamedTempFile::new().unwrap();
        t.write_all(bytes).unwrap();
        let f = File::open(t.path()).unwrap();
        (t, f)
    }

    fn text(n: usize, seed: u8) -> Vec<u8> {
        (0..n)
            .map(|i| b'a' + ((i as u8).wrapping_mul(7) ^ seed) % 26)
            .collect()
    }

    #[test]
    fn a_checked_reader_reads_on_while_the_bytes_behind_stay() {
        let old = text(3000, 1);
        let (_t, file) = file_with(&old);
        let (mut behind, mut scratch) = (Vec::new(), Vec::new());
        let at = 1000u64;
        let before = Fingerprint::of(&old[1000 - FINGERPRINT_BYTES..1000]);
        let mut r = CheckedReader::new(&file, at, before, &mut behind, &mut scratch);
        assert_eq!(r.before(at), None, "nothing read yet");
        let mut got = Vec::new();
        let mut buf = [0u8; 100]; // many small reads, each checked
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert!(!r.replaced);
        assert_eq!(got, &old[1000..]);
        assert_eq!(
            r.before(2990),
            Some(Fingerprint::of(&old[2990 - FINGERPRINT_BYTES..2990]))
        );
        assert_eq!(r.before(3000 - BEHIND_BYTES as u64), None, "no longer held");
        assert_eq!(r.head, None, "did not start at 0");

        // From the start: the head is what was read, and short befores.
        let mut r = CheckedReader::new(&file, 0, Fingerprint::default(), &mut behind, &mut scratch);
        let mut buf = [0u8; 50];
        assert_eq!(r.read(&mut buf).unwrap(), 50);
        assert_eq!(r.head.as_deref(), Some(&old[..50]));
        assert_eq!(r.before(40), Some(Fingerprint::of(&old[..40])));
    }

    #[test]
    fn a_checked_reader_stops_where_the_file_was_replaced() {
        let old = text(3000, 1);
        let (t, file) = file_with(&old);
        let (mut behind, mut scratch) = (Vec::new(), Vec::new());
        let before = Fingerprint::of(&old[1000 - FINGERPRINT_BYTES..1000]);
        let mut r = CheckedReader::new(&file, 1000, before, &mut behind, &mut scratch);
        let mut buf = [0u8; 500];
        assert_eq!(r.read(&mut buf).unwrap(), 500);
        assert_eq!(&buf[..], &old[1000..1500]);
        // copytruncate, then new writes past the position, between reads.
        std::fs::write(t.path(), text(4000, 2)).unwrap();
        assert_eq!(r.read(&mut buf).unwrap(), 0);
        assert!(r.replaced);
        // What was read is still described right, for the copy to match.
        assert_eq!(
            r.before(1500),
            Some(Fingerprint::of(&old[1500 - FINGERPRINT_BYTES..1500]))
        );

        // Replaced before the first read: caught by the saved fingerprint.
        let mut r = CheckedReader::new(&file, 1000, before, &mut behind, &mut scratch);
        assert_eq!(r.read(&mut buf).unwrap(), 0);
        assert!(r.replaced);

        // Truncated below the position.
        std::fs::write(t.path(), &old[..600]).unwrap();
        let mut r = CheckedReader::new(&file, 1000, before, &mut behind, &mut scratch);
        assert_eq!(r.read(&mut buf).unwrap(), 0);
        assert!(r.replaced);
    }
}
