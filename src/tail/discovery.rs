//! Finding the files `tail` follows: what the patterns match now (a full
//! look, or a look at the few paths a file-system event named) and which
//! followed files changed since the last poll. It answers with paths and
//! identities ([`Sighting`]); what a sighting means for a followed file
//! (renamed, back, new, gone) is decided in one place, `follow`.
//!
//! Cost: a full look lists the watched directories and `stat`s each match;
//! a look at event paths `stat`s only those; a poll `fstat`s each followed
//! file (1,000 idle files cost 1,000 `fstat`s a poll, no reading).

use super::identity::Key;
use super::patterns::Patterns;
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A path the patterns follow and the file it leads to now, if any.
pub struct Sighting {
    pub path: PathBuf,
    pub key: Option<Key>,
}

/// Every regular file the patterns match now, and whether the look was
/// complete (every directory listed; see [`Patterns::expand_complete`]).
pub fn look_all(patterns: &Patterns) -> (Vec<Sighting>, bool) {
    let (paths, complete) = patterns.expand_complete();
    let sightings = paths
        .into_iter()
        .filter_map(|path| {
            let meta = std::fs::metadata(&path).ok()?;
            Some(Sighting {
                key: Some((meta.dev(), meta.ino())),
                path,
            })
        })
        .collect();
    (sightings, complete)
}

/// Just these paths, from file-system events that may have added, removed
/// or renamed files: those the patterns match or a follower is known by
/// (`known`), each with the regular file matched there now, if any.
pub fn look_at<'a>(
    patterns: &'a Patterns,
    paths: &'a [PathBuf],
    known: impl Fn(&Path) -> bool + 'a,
) -> impl Iterator<Item = Sighting> + 'a {
    paths
        .iter()
        .filter(move |p| patterns.matches(p) || known(p))
        .map(|path| {
            let key = std::fs::metadata(path)
                .ok()
                .filter(|m| m.is_file() && patterns.matches(path))
                .map(|m| (m.dev(), m.ino()));
            Sighting {
                path: path.clone(),
                key,
            }
        })
}

/// A followed file's size and modification time at the last poll.
pub type PollStamp = Option<(u64, Option<SystemTime>)>;

/// Whether `file` changed since the stamp `last` (which it updates): a
/// poll reads only the files whose `fstat` changed.
pub fn changed_since(file: &File, last: &mut PollStamp) -> bool {
    let stat = file.metadata().ok().map(|m| (m.len(), m.modified().ok()));
    let changed = stat.is_none() || stat != *last;
    *last = stat;
    changed
}
