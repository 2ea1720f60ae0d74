//! The exactly-once bookkeeping of `tail` from Kafka: what one instance
//! saves in its state directory, and the *ledger* it writes into the
//! metadata of every offset it commits to Kafka. The protocol that uses
//! them is described in [`crate::kafka`].
//!
//! - [`KafkaState`] (`DIR/kafka.json`): the instance's id, the number of
//!   its last commit (`seq`), the totals of every commit known to have
//!   landed, and at most one [`PendingCommit`]: a commit whose outcome is
//!   not known yet, with the counts it would make stand. Saved like the
//!   file checkpoint: temporary file, fsync, rename, fsync of the
//!   directory; `DIR/lock` keeps two instances off one directory.
//! - [`Ledger`]: per partition, for every instance that ever committed
//!   it, the number of its last landed commit. Every commit of a partition
//!   carries the ledger it started from forward, with the committer's own
//!   entry raised, so whoever owns the partition later keeps the record
//!   that an earlier owner's commit landed.

use crate::checkpoint::{CheckpointError, CheckpointStore};
use crate::window::CumulativeTotals;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The version of `kafka.json` this build writes and reads.
pub const VERSION: u32 = 1;
/// The ledger's text starts with this tag (and its version).
const LEDGER_TAG: &str = "faultline1";
/// A ledger entry older than this may be dropped when the ledger is full:
/// Kafka itself forgets a group's offsets after 7 days without members
/// (`offsets.retention.minutes`), so an instance that is down longer cannot
/// resume exactly anyway.
pub const LEDGER_KEEP_SECS: u64 = 7 * 24 * 3600;
/// Entries kept at most while younger ones exist: about 40 bytes each,
/// well under Kafka's default 4096-byte limit on commit metadata.
pub const LEDGER_MAX_ENTRIES: usize = 64;

/// Which commits of which instances landed on one partition.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    /// Instance id -> (number of its last landed commit, when it was made
    /// in seconds since the Unix epoch).
    entries: BTreeMap<String, (u64, u64)>,
}

impl Ledger {
    /// Reads the metadata of a committed offset. Metadata written by
    /// anything else (another tool, an older faultline) is an empty
    /// ledger: no faultline commit is recorded in it.
    pub fn parse(metadata: &str) -> Ledger {
        let mut entries = BTreeMap::new();
        let mut words = metadata.split(' ');
        if words.next() != Some(LEDGER_TAG) {
            return Ledger::default();
        }
        for w in words {
            let mut f = w.split(':');
            if let (Some(id), Some(Ok(seq)), Some(Ok(at)), None) = (
                f.next(),
                f.next().map(str::parse),
                f.next().map(str::parse),
                f.next(),
            ) {
                entries.insert(id.to_string(), (seq, at));
            }
        }
        Ledger { entries }
    }

    /// The metadata text: `faultline1 ID:SEQ:UNIXSECS ...`.
    pub fn render(&self) -> String {
        let mut s = String::from(LEDGER_TAG);
        for (id, (seq, at)) in &self.entries {
            s.push_str(&format!(" {id}:{seq}:{at}"));
        }
        s
    }

    /// Whether commit number `seq` of `instance` (or a later one) landed.
    pub fn landed(&self, instance: &str, seq: u64) -> bool {
        self.entries.get(instance).is_some_and(|&(s, _)| s >= seq)
    }

    /// This ledger with `instance`'s commit `seq`, made at `now_secs`,
    /// recorded: the metadata of that commit. When full, entries older
    /// than [`LEDGER_KEEP_SECS`] make room, oldest first.
    pub fn with(&self, instance: &str, seq: u64, now_secs: u64) -> Ledger {
        let mut l = self.clone();
        l.entries.insert(instance.to_string(), (seq, now_secs));
        while l.entries.len() > LEDGER_MAX_ENTRIES {
            let oldest = l
                .entries
                .iter()
                .filter(|(_, (_, at))| now_secs.saturating_sub(*at) > LEDGER_KEEP_SECS)
                .min_by_key(|(_, (_, at))| *at)
                .map(|(id, _)| id.clone());
            match oldest {
                Some(id) => {
                    l.entries.remove(&id);
                }
                None => break,
            }
        }
        l
    }
}

/// One partition of a commit that may or may not have landed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingPartition {
    pub topic: String,
    pub partition: i32,
    /// The offset committed: the next message to read.
    pub offset: i64,
    /// What the messages since the partition's previous commit counted.
    pub counts: CumulativeTotals,
}

/// A commit whose outcome is not known yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCommit {
    /// The instance's commit number, recorded in each partition's ledger.
    pub seq: u64,
    pub partitions: Vec<PendingPartition>,
}

/// Everything one instance saves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KafkaState {
    pub version: u32,
    /// The instance's id in the ledgers; made when the state is created.
    pub instance: String,
    /// When this state was created and last saved (RFC 3339).
    pub created: String,
    pub saved: String,
    /// The number of the last commit this instance made or started.
    pub seq: u64,
    /// The counts of every commit of this instance known to have landed.
    pub totals: CumulativeTotals,
    pub pending: Option<PendingCommit>,
}

impl KafkaState {
    /// A new state; `instance` should be unique in the group's history.
    pub fn new(instance: String, now: &str) -> KafkaState {
        KafkaState {
            version: VERSION,
            instance,
            created: now.to_string(),
            saved: now.to_string(),
            seq: 0,
            totals: CumulativeTotals::default(),
            pending: None,
        }
    }
}

/// Adds `b` to `a`.
pub fn add_totals(a: &mut CumulativeTotals, b: &CumulativeTotals) {
    a.lines += b.lines;
    a.bytes += b.bytes;
    a.hits += b.hits;
    a.unknown += b.unknown;
    for (code, n) in &b.by_code {
        *a.by_code.entry(code.clone()).or_insert(0) += n;
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(transparent)]
    Dir(#[from] CheckpointError),
    #[error("cannot read the Kafka state {path}")]
    Read { path: PathBuf, source: io::Error },
    #[error(
        "the Kafka state {path} is unreadable ({reason}); faultline will not silently start \
         from zero: fix the file, or start again with --reset-state, which keeps it as kafka.json.corrupt"
    )]
    Corrupt { path: PathBuf, reason: String },
    #[error("cannot save the Kafka state {path}")]
    Write { path: PathBuf, source: io::Error },
}

/// The state directory of one instance, locked while it runs.
pub struct StateStore {
    dir: PathBuf,
    /// Holds `DIR/lock`.
    _lock: CheckpointStore,
}

impl StateStore {
    pub const FILE: &'static str = "kafka.json";

    pub fn open(dir: &Path) -> Result<StateStore, StateError> {
        Ok(StateStore {
            _lock: CheckpointStore::open(dir)?,
            dir: dir.to_path_buf(),
        })
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(Self::FILE)
    }

    pub fn load(&self) -> Result<Option<KafkaState>, StateError> {
        let path = self.path();
        let text = match fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StateError::Read { path, source }),
        };
        let state: KafkaState = serde_json::from_slice(&text).map_err(|e| StateError::Corrupt {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        if state.version != VERSION {
            return Err(StateError::Corrupt {
                path,
                reason: format!(
                    "version {}, this faultline reads version {VERSION}",
                    state.version
                ),
            });
        }
        Ok(Some(state))
    }

    /// Moves an unreadable state aside (`--reset-state`).
    pub fn reset(&self) -> Result<(), StateError> {
        let path = self.path();
        match fs::rename(&path, self.dir.join("kafka.json.corrupt")) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StateError::Write { path, source }),
        }
    }

    /// Replaces the state atomically: temporary file, fsync, rename, fsync
    /// of the directory. When this returns, a crash leaves this state.
    pub fn save(&self, state: &KafkaState) -> Result<(), StateError> {
        let path = self.path();
        let tmp = self.dir.join("kafka.json.tmp");
        let write = || -> io::Result<()> {
            let mut f = File::create(&tmp)?;
            let mut text = serde_json::to_vec_pretty(state).expect("a state serializes");
            text.push(b'\n');
            f.write_all(&text)?;
            f.sync_all()?;
            fs::rename(&tmp, &path)?;
            File::open(&self.dir)?.sync_all()
        };
        write().map_err(|source| StateError::Write { path, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_round_trips_and_carries_every_instance_forward() {
        let l = Ledger::parse("").with("a1", 3, 100).with("b2", 7, 200);
        let text = l.render();
        assert_eq!(text, "faultline1 a1:3:100 b2:7:200");
        let back = Ledger::parse(&text);
        assert_eq!(back, l);
        assert!(back.landed("a1", 3) && back.landed("a1", 2) && !back.landed("a1", 4));
        assert!(!back.landed("c3", 1));
        // Another owner's commit keeps a1's record.
        let later = back.with("b2", 8, 300);
        assert!(later.landed("a1", 3));
        assert_eq!(Ledger::parse("written by kcat"), Ledger::default());
        assert_eq!(
            Ledger::parse("faultline1 a1:3:100 junk x:y:z"),
            Ledger::parse("").with("a1", 3, 100)
        );
    }

    #[test]
    fn a_full_ledger_forgets_only_entries_older_than_the_retention() {
        let mut l = Ledger::default();
        for i in 0..LEDGER_MAX_ENTRIES as u64 {
            l = l.with(&format!("i{i}"), 1, 1000 + i);
        }
        let now = 1000 + LEDGER_KEEP_SECS + 10;
        // Ten entries are past the retention: only the oldest one goes.
        let full = l.with("new", 1, now);
        assert_eq!(full.entries.len(), LEDGER_MAX_ENTRIES);
        assert!(!full.entries.contains_key("i0") && full.landed("i1", 1));
        // None is past it: nothing is forgotten, the ledger grows.
        let young = l.with("new", 1, 1000 + LEDGER_MAX_ENTRIES as u64);
        assert_eq!(young.entries.len(), LEDGER_MAX_ENTRIES + 1);
    }

    #[test]
    fn state_saves_atomically_and_loads_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::open(dir.path()).unwrap();
        assert_eq!(store.load().unwrap(), None);
        let mut s = KafkaState::new("abc".into(), "2026-11-30T00:00:00Z");
        s.seq = 4;
        s.pending = Some(PendingCommit {
            seq: 4,
            partitions: vec![PendingPartition {
                topic: "logs".into(),
                partition: 2,
                offset: 99,
                counts: CumulativeTotals {
                    hits: 1,
                    by_code: [("Ecs.0013".to_string(), 1)].into_iter().collect(),
                    ..CumulativeTotals::default()
                },
            }],
        });
        store.save(&s).unwrap();
        assert_eq!(store.load().unwrap(), Some(s));
        assert!(!dir.path().join("kafka.json.tmp").exists());
        assert!(StateStore::open(dir.path()).is_err(), "the lock is held");
        fs::write(store.path(), "{\"version\":1,").unwrap();
        let e = store.load().unwrap_err().to_string();
        assert!(e.contains("--reset-state"), "{e}");
    }
}
