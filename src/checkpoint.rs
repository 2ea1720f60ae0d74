//! The checkpoint of `tail --state-dir DIR`: where each followed file has
//! been read to, and the cumulative totals, saved together.
//!
//! Exactness rests on one invariant: **positions and totals are written in
//! the same atomic file replacement**. Whatever moment a crash (`kill -9`)
//! hits, the state on disk is one in which the totals are exactly the
//! counts of the bytes before the saved positions; after a restart the
//! bytes after them are read and counted again from those totals, so
//! nothing is lost and nothing is counted twice. (Events written between
//! the last save and a crash are written again after the restart: events
//! are at-least-once, totals exactly-once.)
//!
//! The file is `DIR/checkpoint.json`, versioned JSON written to a temporary
//! file, fsynced, renamed over the old one, and the directory fsynced, so a
//! reader sees the old or the new state, never a mix. `DIR/lock` is held
//! while an agent runs, so two agents cannot share a state directory.
//!
//! A checkpoint that cannot be read is an error that says how to recover
//! (`--reset-state`); faultline never silently starts from zero.

use crate::window::CumulativeTotals;
use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The version this build writes and reads.
pub const VERSION: u32 = 1;
/// How many bytes identify a file's content (its head) and the content
/// just before a saved position.
pub const FINGERPRINT_BYTES: usize = 256;

/// A hash of up to [`FINGERPRINT_BYTES`] bytes, with their number: two
/// fingerprints can only be compared over the same length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub len: u32,
    /// FNV-1a 64 of the bytes, as 16 hex digits in JSON.
    #[serde(with = "hex_u64")]
    pub hash: u64,
}

impl Fingerprint {
    pub fn of(bytes: &[u8]) -> Fingerprint {
        // FNV-1a: tiny, stable across Rust versions (unlike the std
        // hasher), and good enough to tell log files apart.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        Fingerprint {
            len: bytes.len() as u32,
            hash: h,
        }
    }
}

/// The fingerprint of no bytes: what is before offset 0. (A derived
/// `Default` would be a hash no byte string has, so a reset position would
/// never match its file again.)
impl Default for Fingerprint {
    fn default() -> Fingerprint {
        Fingerprint::of(&[])
    }
}

mod hex_u64 {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{v:016x}"))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let s = String::deserialize(d)?;
        u64::from_str_radix(&s, 16)
            .map_err(|_| D::Error::custom(format!("{s:?} is not 16 hex digits")))
    }
}

/// Where one file has been read to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileState {
    /// The path it had when last seen (rotation may have renamed it).
    pub path: PathBuf,
    /// Device and inode when last seen: a hint, since inodes are reused.
    pub dev: u64,
    pub ino: u64,
    /// The file's first bytes: its identity.
    pub head: Fingerprint,
    /// The first byte not yet decided (a code at the end of what had been
    /// written waits for the next byte); reading resumes here.
    pub offset: u64,
    /// The 1-based line number at `offset`.
    pub line: u64,
    /// The byte before `offset`, which decides the left boundary of a code
    /// that starts at `offset`.
    pub prev_byte: Option<u8>,
    /// The bytes just before `offset`: if they differ when the file is seen
    /// again, its content was replaced (copytruncate while stopped) and it
    /// is read from the start.
    pub before: Fingerprint,
}

/// Everything `tail` saves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub version: u32,
    /// When this state was first created (RFC 3339).
    pub created: String,
    /// When it was saved (RFC 3339).
    pub saved: String,
    pub totals: CumulativeTotals,
    pub files: Vec<FileState>,
    /// The events file as the checkpoint covers it (`--events FILE`):
    /// absent without one, or when its length could not be vouched for.
    /// Optional, so checkpoints written before it existed still read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<EventsMark>,
}

/// The events file at a checkpoint: which file (device and inode, its path
/// for messages) and how long it was once the events of every hit the
/// checkpoint counts were written and synced. A restart cuts that file,
/// and only that file, back to `length`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsMark {
    pub path: PathBuf,
    pub dev: u64,
    pub ino: u64,
    pub length: u64,
    /// The bytes just before `length`: a file with the same inode but
    /// other content (inode reused) is not the one to cut.
    pub before: Fingerprint,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("cannot use state directory {dir}")]
    Dir { dir: PathBuf, source: io::Error },
    #[error(
        "cannot use state directory {dir}: {file} is a file, not a directory; \
         give --state-dir a directory (it is created when missing), or move the file away"
    )]
    NotADirectory { dir: PathBuf, file: PathBuf },
    #[error(
        "state directory {dir} is in use by another faultline (lock held on {lock}); give each agent its own --state-dir"
    )]
    Locked { dir: PathBuf, lock: PathBuf },
    #[error("cannot read the checkpoint {path}")]
    Read { path: PathBuf, source: io::Error },
    #[error(
        "the checkpoint {path} is corrupt (line {line}, column {column}: {reason}); \
         faultline will not silently start from zero: fix the file, or start again with --reset-state, \
         which keeps the old file as checkpoint.json.corrupt"
    )]
    Corrupt {
        path: PathBuf,
        line: usize,
        column: usize,
        reason: String,
    },
    #[error(
        "the checkpoint {path} has version {found}, this faultline reads version {VERSION}; \
         use the faultline that wrote it, or start again with --reset-state"
    )]
    Version { path: PathBuf, found: u64 },
    #[error("cannot save the checkpoint {path}")]
    Write { path: PathBuf, source: io::Error },
}

/// The first of `dir` and its ancestors that exists and is not a
/// directory (following links, as creating the directory would).
fn plain_file_in(dir: &Path) -> Option<PathBuf> {
    let mut ancestors: Vec<&Path> = dir
        .ancestors()
        .filter(|a| !a.as_os_str().is_empty())
        .collect();
    ancestors.reverse();
    ancestors
        .into_iter()
        .find(|a| fs::metadata(a).is_ok_and(|m| !m.is_dir()))
        .map(Path::to_path_buf)
}

/// The state directory, locked for this process while the store lives.
pub struct CheckpointStore {
    dir: PathBuf,
    _lock: File,
}

impl CheckpointStore {
    pub const FILE: &'static str = "checkpoint.json";

    /// Creates the directory if needed and takes its lock.
    pub fn open(dir: &Path) -> Result<CheckpointStore, CheckpointError> {
        let dir_err = |source| CheckpointError::Dir {
            dir: dir.to_path_buf(),
            source,
        };
        if let Err(e) = fs::create_dir_all(dir) {
            // `File exists` or `Not a directory` alone does not say which
            // file is in the way.
            return Err(match plain_file_in(dir) {
                Some(file) => CheckpointError::NotADirectory {
                    dir: dir.to_path_buf(),
                    file,
                },
                None => dir_err(e),
            });
        }
        let lock_path = dir.join("lock");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(dir_err)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(CheckpointError::Locked {
                    dir: dir.to_path_buf(),
                    lock: lock_path,
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(dir_err(e)),
        }
        Ok(CheckpointStore {
            dir: dir.to_path_buf(),
            _lock: lock,
        })
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(Self::FILE)
    }

    /// The saved checkpoint, or `None` when there is none yet.
    pub fn load(&self) -> Result<Option<Checkpoint>, CheckpointError> {
        let path = self.path();
        let text = match fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(CheckpointError::Read { path, source }),
        };
        parse(&path, &text).map(Some)
    }

    /// Moves an unreadable checkpoint aside (`--reset-state`).
    pub fn reset(&self) -> Result<(), CheckpointError> {
        let path = self.path();
        match fs::rename(&path, self.dir.join("checkpoint.json.corrupt")) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(CheckpointError::Write { path, source }),
        }
    }

    /// Replaces the checkpoint atomically: temporary file, fsync, rename,
    /// fsync of the directory.
    pub fn save(&self, checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
        let path = self.path();
        let tmp = self.dir.join("checkpoint.json.tmp");
        let write = || -> io::Result<()> {
            let mut f = File::create(&tmp)?;
            f.write_all(to_json(checkpoint).as_bytes())?;
            f.sync_all()?;
            fs::rename(&tmp, &path)?;
            File::open(&self.dir)?.sync_all()
        };
        write().map_err(|source| CheckpointError::Write { path, source })
    }
}

/// The checkpoint's JSON text, as saved.
pub fn to_json(checkpoint: &Checkpoint) -> String {
    let mut s = serde_json::to_string_pretty(checkpoint).expect("a checkpoint serializes");
    s.push('\n');
    s
}

/// Reads a checkpoint's JSON, checking its version first so that a newer
/// format is reported as such, not as corruption.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Checkpoint, CheckpointError> {
    let corrupt = |e: serde_json::Error| CheckpointError::Corrupt {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        reason: e.to_string(),
    };
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(corrupt)?;
    match value.get("version").and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(VERSION) => {}
        Some(found) => {
            return Err(CheckpointError::Version {
                path: path.to_path_buf(),
                found,
            });
        }
        None => {
            return Err(CheckpointError::Corrupt {
                path: path.to_path_buf(),
                line: 1,
                column: 1,
                reason: "no \"version\" number".into(),
            });
        }
    }
    serde_json::from_slice(bytes).map_err(corrupt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chained_error_states_its_os_cause_once() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("plain");
        fs::write(&file, b"x").unwrap();
        // A name longer than the file system allows: ENAMETOOLONG from the OS.
        let e = CheckpointStore::open(&tmp.path().join("x".repeat(300)))
            .err()
            .unwrap();
        let os = io::Error::from_raw_os_error(libc::ENAMETOOLONG).to_string();
        let shown = format!("{:#}", anyhow::Error::from(e));
        assert_eq!(shown.matches(&os).count(), 1, "{shown}");
        assert!(shown.starts_with("cannot use state directory"), "{shown}");
        // A directory under a regular file: said in our words, which name
        // the file in the way, not as the OS's ENOTDIR.
        let e = CheckpointStore::open(&file.join("state")).err().unwrap();
        let shown = format!("{:#}", anyhow::Error::from(e));
        let os = io::Error::from_raw_os_error(libc::ENOTDIR).to_string();
        assert!(!shown.contains(&os), "{shown}");
        assert!(
            shown.contains(&format!("{} is a file, not a directory", file.display())),
            "{shown}"
        );
    }

    fn sample() -> Checkpoint {
        Checkpoint {
            version: VERSION,
            created: "2026-11-23T10:00:00Z".into(),
            saved: "2026-11-23T10:05:00Z".into(),
            totals: CumulativeTotals {
                lines: 1200,
                bytes: 180000,
                hits: 14,
                unknown: 1,
                by_code: [("Ecs.0013".to_string(), 5), ("IMG.0013".to_string(), 9)]
                    .into_iter()
                    .collect(),
            },
            files: vec![FileState {
                path: "/var/log/app/app.log".into(),
                dev: 2049,
                ino: 1234567,
                head: Fingerprint::of(b"2026-11-23 first line\n"),
                offset: 180000,
                line: 1201,
                prev_byte: Some(b'\n'),
                before: Fingerprint::of(b"last bytes\n"),
            }],
            events: None,
        }
    }

    /// The format is a contract with every checkpoint already on disk:
    /// this golden file may only change together with VERSION.
    #[test]
    fn golden_format_v1() {
        let golden = include_str!("../fixtures/checkpoint/v1.json");
        assert_eq!(to_json(&sample()), golden);
        assert_eq!(
            parse(Path::new("v1.json"), golden.as_bytes()).unwrap(),
            sample()
        );
    }

    /// The events mark is an optional addition to version 1: checkpoints
    /// without it (older ones) read as before, and one with it round-trips.
    #[test]
    fn golden_format_v1_with_events() {
        let golden = include_str!("../fixtures/checkpoint/v1-events.json");
        let mut with = sample();
        with.events = Some(EventsMark {
            path: "/var/log/faultline/events.jsonl".into(),
            dev: 2049,
            ino: 7654321,
            length: 4096,
            before: Fingerprint::of(b"\"remedy\":null}\n"),
        });
        assert_eq!(to_json(&with), golden);
        assert_eq!(
            parse(Path::new("v1-events.json"), golden.as_bytes()).unwrap(),
            with
        );
    }

    #[test]
    fn fnv1a_matches_published_vectors() {
        assert_eq!(Fingerprint::of(b"").hash, 0xcbf29ce484222325);
        assert_eq!(Fingerprint::of(b"a").hash, 0xaf63dc4c8601ec8c);
        assert_eq!(Fingerprint::of(b"foobar").hash, 0x85944171f73967e8);
    }

    #[test]
    fn save_load_round_trip_and_lock() {
        let dir = tempfile::tempdir().unwrap();
        let store = CheckpointStore::open(dir.path()).unwrap();
        assert_eq!(store.load().unwrap(), None);
        store.save(&sample()).unwrap();
        assert_eq!(store.load().unwrap(), Some(sample()));
        assert!(!dir.path().join("checkpoint.json.tmp").exists());
        match CheckpointStore::open(dir.path()) {
            Err(CheckpointError::Locked { .. }) => {}
            other => panic!("second open should be refused: {:?}", other.err()),
        }
        drop(store);
        CheckpointStore::open(dir.path()).unwrap();
    }

    #[test]
    fn corrupt_and_future_checkpoints_are_errors_that_say_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let store = CheckpointStore::open(dir.path()).unwrap();
        fs::write(store.path(), "{\"version\": 1, \"files\": [tru").unwrap();
        let e = store.load().unwrap_err().to_string();
        assert!(e.contains("is corrupt (line 1, column"), "{e}");
        assert!(e.contains("--reset-state"), "{e}");
        fs::write(store.path(), "{\"version\": 2}").unwrap();
        let e = store.load().unwrap_err().to_string();
        assert!(e.contains("has version 2"), "{e}");
        store.reset().unwrap();
        assert_eq!(store.load().unwrap(), None);
        assert!(dir.path().join("checkpoint.json.corrupt").exists());
    }
}
