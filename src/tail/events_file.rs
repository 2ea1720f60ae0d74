//! The `--events FILE` of `tail` as part of the checkpoint, so that with
//! `--state-dir` each hit's event appears exactly once through `kill -9`
//! and restarts, as the totals do (SPEC section 3, `tail`).
//!
//! The protocol, and why it is exact:
//! 1. Events are written before the counts that include their hits are
//!    saved: the tailer hands its rendered events to the file after every
//!    round of reading, and a save first hands over whatever is left.
//! 2. At a save, the file is synced (`fdatasync`) and its length taken:
//!    the [`EventsMark`] saved in the same atomic checkpoint as the
//!    positions and totals. Every event of a hit the checkpoint counts
//!    lies before that length; every byte after it is an event of a hit
//!    the checkpoint does not count yet.
//! 3. On restart, before anything is written, the file is cut back
//!    (`ftruncate` on the descriptor just opened) to the mark's length. The
//!    hits after the checkpoint are then counted again from the saved
//!    positions, and their events written again, once.
//!
//! Only the file the mark names is ever cut: a regular file with the same
//! device and inode, at least as long as the mark, whose bytes before the
//! mark are the ones recorded. An events file replaced or rotated by the
//! user while faultline was stopped is another file (the events after the
//! checkpoint are in the old one): it is appended to and never cut, with a
//! warning that those events may appear again — faultline never destroys
//! lines it cannot prove it wrote itself. A file that is no regular file
//! (a pipe, `/dev/stdout`) is never cut, and `--events -` gets no mark at
//! all: standard output cannot be taken back, so there events are
//! at-least-once.
//!
//! A mark is not made (and the next restart cuts nothing) when the sync
//! fails or the file ends inside a line (a write failed part-way and the
//! writer closed): duplicates are possible then, losses are not.
//!
//! Cost: one `fdatasync` and one `pread` of at most
//! [`crate::checkpoint::FINGERPRINT_BYTES`] per checkpoint.

use super::identity::{Scratch, before_at, before_matches};
use crate::checkpoint::EventsMark;
use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

/// The events file, opened for appending, as the checkpoint sees it.
pub struct EventsFile {
    path: PathBuf,
    /// Shares its open file description with the writer's descriptor, so
    /// it syncs and measures exactly what the writer wrote.
    file: File,
}

/// What opening the events file did to it, for the log.
#[derive(Debug, PartialEq, Eq)]
pub enum CutBack {
    /// No mark to go back to (no checkpoint, or it had none).
    NoMark,
    /// The file is as long as the mark: nothing after the checkpoint.
    Nothing,
    /// This many bytes of events written after the checkpoint were cut.
    Cut(u64),
    /// The file at the path is not the one the mark names (why); left as
    /// it is.
    NotTheFile(&'static str),
}

impl EventsFile {
    /// Opens `path` for appending (created if missing) and, given the
    /// checkpoint's `mark`, cuts back what was written after it. Returns
    /// the file and the descriptor the event writer writes to.
    pub fn open(path: &Path, mark: Option<&EventsMark>) -> io::Result<(EventsFile, File, CutBack)> {
        // Readable too: the mark fingerprints the bytes before its length.
        let file = File::options()
            .create(true)
            .read(true)
            .append(true)
            .open(path)?;
        let cut = match mark {
            None => CutBack::NoMark,
            Some(m) => cut_back(&file, m)?,
        };
        let writer = file.try_clone()?;
        Ok((
            EventsFile {
                path: path.to_path_buf(),
                file,
            },
            writer,
            cut,
        ))
    }

    /// Makes every event written so far durable and returns the mark that
    /// vouches for them; `None` (logged) when that cannot be vouched for.
    /// Call after the tailer handed over all its rendered events.
    pub fn mark(&self) -> Option<EventsMark> {
        match self.try_mark() {
            Ok(mark) => mark,
            Err(e) => {
                log::warn!(
                    "{}: cannot sync the events file ({}); a restart may write some events again",
                    self.path.display(),
                    crate::input::describe(&e)
                );
                None
            }
        }
    }

    fn try_mark(&self) -> io::Result<Option<EventsMark>> {
        let meta = self.file.metadata()?;
        if !meta.is_file() {
            return Ok(None);
        }
        self.file.sync_data()?;
        let length = meta.len();
        let mut last = [0u8; 1];
        if length > 0 && (self.file.read_at(&mut last, length - 1)? != 1 || last[0] != b'\n') {
            // A write failed part-way (the writer is closed): no whole
            // line ends here, so no length to go back to.
            return Ok(None);
        }
        Ok(Some(EventsMark {
            path: self.path.clone(),
            dev: meta.dev(),
            ino: meta.ino(),
            length,
            before: before_at(&self.file, length, &mut Scratch::new())?,
        }))
    }
}

/// Cuts `file` back to `mark` if it is the file the mark names.
fn cut_back(file: &File, mark: &EventsMark) -> io::Result<CutBack> {
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Ok(CutBack::NotTheFile("not a regular file"));
    }
    if (meta.dev(), meta.ino()) != (mark.dev, mark.ino) {
        return Ok(CutBack::NotTheFile(
            "another file than at the checkpoint (replaced or rotated)",
        ));
    }
    if meta.len() < mark.length {
        return Ok(CutBack::NotTheFile(
            "shorter than at the checkpoint (truncated by someone else)",
        ));
    }
    if !before_matches(file, mark.length, mark.before, &mut Scratch::new()) {
        return Ok(CutBack::NotTheFile("its content at the checkpoint changed"));
    }
    let extra = meta.len() - mark.length;
    if extra == 0 {
        return Ok(CutBack::Nothing);
    }
    file.set_len(mark.length)?;
    file.sync_all()?;
    Ok(CutBack::Cut(extra))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn lines(n: usize) -> String {
        (0..n).map(|i| format!("{{\"event\":{i}}}\n")).collect()
    }

    #[test]
    fn a_restart_cuts_back_to_the_mark_and_only_the_marked_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let (events, mut w, cut) = EventsFile::open(&path, None).unwrap();
        assert_eq!(cut, CutBack::NoMark);
        w.write_all(lines(3).as_bytes()).unwrap();
        let mark = events.mark().unwrap();
        assert_eq!(mark.length, lines(3).len() as u64);
        // Written after the checkpoint, then killed.
        w.write_all(b"{\"event\":3}\n{\"event\":4}\n{\"ev").unwrap();
        drop((events, w));

        let (events, mut w, cut) = EventsFile::open(&path, Some(&mark)).unwrap();
        assert_eq!(cut, CutBack::Cut(12 + 12 + 4));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), lines(3));
        // Appends go after the cut, not at the old end.
        w.write_all(b"{\"event\":3}\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), lines(4));
        assert_eq!(events.mark().unwrap().length, lines(4).len() as u64);
        drop((events, w));

        // Cut again with the same mark: nothing after it now but one line.
        let (_e, _w, cut) = EventsFile::open(&path, Some(&mark)).unwrap();
        assert_eq!(cut, CutBack::Cut(12));

        // Replaced by the user: a longer file of its own is never cut.
        std::fs::rename(&path, dir.path().join("events.jsonl.1")).unwrap();
        std::fs::write(&path, lines(50)).unwrap();
        let (_e, _w, cut) = EventsFile::open(&path, Some(&mark)).unwrap();
        assert!(matches!(cut, CutBack::NotTheFile(_)), "{cut:?}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), lines(50));
    }

    #[test]
    fn same_inode_other_content_or_shorter_is_not_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let (events, mut w, _) = EventsFile::open(&path, None).unwrap();
        w.write_all(lines(5).as_bytes()).unwrap();
        let mark = events.mark().unwrap();
        drop((events, w));
        // Rewritten in place (same inode), longer, other lines.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .write_all(lines(9).replace("event", "other").as_bytes())
            .unwrap();
        let (_e, _w, cut) = EventsFile::open(&path, Some(&mark)).unwrap();
        assert!(matches!(cut, CutBack::NotTheFile(_)), "{cut:?}");
        // Truncated by someone else below the mark.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(3)
            .unwrap();
        let (_e, _w, cut) = EventsFile::open(&path, Some(&mark)).unwrap();
        assert!(matches!(cut, CutBack::NotTheFile(_)), "{cut:?}");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 3);
    }

    #[test]
    fn a_torn_last_line_or_a_pipe_gets_no_mark() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let (events, mut w, _) = EventsFile::open(&path, None).unwrap();
        w.write_all(b"{\"event\":0}\n{\"eve").unwrap();
        assert_eq!(events.mark(), None);
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo(3) with a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // A reader, so that opening the FIFO for writing does not block.
        let _reader = std::fs::File::options()
            .read(true)
            .write(true)
            .open(&fifo)
            .unwrap();
        let (events, _w, _) = EventsFile::open(&fifo, None).unwrap();
        assert_eq!(events.mark(), None);
    }
}
