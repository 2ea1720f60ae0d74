//! What `tail` follows: the PATH|GLOB arguments as patterns, the
//! directories to watch for them, and the regular files they match now.
//!
//! An argument with a glob metacharacter (`* ? [ {`) is a glob, matched
//! against whole paths; the directory before its first such component is
//! watched (recursively only for `**`). A directory argument means the
//! files directly in it. Anything else is a file, which need not exist yet:
//! its directory is watched so it is picked up when it appears. Symlinks
//! to files match as the files do (their targets' directories are watched
//! by the engine, which knows the targets).

use globset::{GlobBuilder, GlobMatcher};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
#[error("bad pattern {pattern:?}: {reason}")]
pub struct PatternError {
    pub pattern: String,
    pub reason: String,
}

#[derive(Debug)]
enum Pattern {
    File(PathBuf),
    Dir(PathBuf),
    Glob {
        base: PathBuf,
        matcher: GlobMatcher,
        recursive: bool,
        /// The glob names no directory (`*.log`): its base is `.`, which
        /// is not put in front of the paths it matches.
        implicit_base: bool,
    },
}

/// See [`Patterns::listing_stamp`].
pub type ListingStamp = Option<(u64, i64, i64)>;

/// The patterns of a `tail` command line.
#[derive(Debug, Default)]
pub struct Patterns {
    items: Vec<Pattern>,
    /// Where relative patterns are relative to.
    cwd: PathBuf,
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '[', '{'])
}

impl Patterns {
    pub fn parse(args: &[PathBuf]) -> Result<Patterns, PatternError> {
        let mut items = Vec::new();
        for arg in args {
            let text = arg.to_string_lossy();
            if is_glob(&text) {
                // `*` stays within one path component (only `**` crosses
                // `/`), as in a shell: `*.log` must not match the absolute
                // `/srv/./app.log` a watcher reports, nor `sub/app.log`.
                let matcher = GlobBuilder::new(&text)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| PatternError {
                        pattern: text.to_string(),
                        reason: e.kind().to_string(),
                    })?
                    .compile_matcher();
                let mut base = PathBuf::new();
                for c in arg.components() {
                    if is_glob(&c.as_os_str().to_string_lossy()) {
                        break;
                    }
                    base.push(c);
                }
                let implicit_base = base.as_os_str().is_empty();
                if implicit_base {
                    base.push(".");
                }
                items.push(Pattern::Glob {
                    base,
                    matcher,
                    recursive: text.contains("**"),
                    implicit_base,
                });
            } else if arg.is_dir() {
                items.push(Pattern::Dir(arg.clone()));
            } else {
                items.push(Pattern::File(arg.clone()));
            }
        }
        Ok(Patterns {
            items,
            cwd: std::env::current_dir().unwrap_or_default(),
        })
    }

    /// Directories to watch, and whether recursively.
    pub fn watch_dirs(&self) -> Vec<(PathBuf, bool)> {
        let mut dirs: Vec<(PathBuf, bool)> = self
            .items
            .iter()
            .map(|p| match p {
                Pattern::File(f) => (parent_dir(f), false),
                Pattern::Dir(d) => (d.clone(), false),
                Pattern::Glob {
                    base, recursive, ..
                } => (base.clone(), *recursive),
            })
            .collect();
        dirs.sort();
        dirs.dedup();
        dirs
    }

    /// What the poll compares to skip listing directories that did not
    /// change: each watched directory's modification time (creating,
    /// deleting or renaming a file in it changes that) and, for a file
    /// pattern, the identity of the file it leads to (a symlink may be
    /// pointed elsewhere without its directory changing). `None` when a
    /// recursive glob makes it not enough, or when a directory changed in
    /// the last two seconds (timestamps are coarse on some file systems: a
    /// file created in the same tick as the last change would not move the
    /// time): then the poll lists again. `now` is the wall-clock time.
    pub fn listing_stamp(&self, now: std::time::SystemTime) -> Option<Vec<ListingStamp>> {
        use std::os::unix::fs::MetadataExt;
        let recent = now - std::time::Duration::from_secs(2);
        let mut out = Vec::new();
        for (dir, recursive) in self.watch_dirs() {
            if recursive {
                return None;
            }
            let m = std::fs::metadata(&dir).ok();
            if m.as_ref()
                .and_then(|m| m.modified().ok())
                .is_some_and(|t| t >= recent)
            {
                return None;
            }
            out.push(m.map(|m| (m.ino(), m.mtime(), m.mtime_nsec())));
        }
        for p in &self.items {
            if let Pattern::File(f) = p {
                let m = std::fs::metadata(f).ok();
                out.push(m.map(|m| (m.ino(), m.dev() as i64, 0)));
            }
        }
        Some(out)
    }

    /// Whether `path` is one the patterns follow.
    pub fn matches(&self, path: &Path) -> bool {
        self.items.iter().any(|p| match p {
            Pattern::File(f) => f == path,
            Pattern::Dir(d) => path.parent() == Some(d.as_path()),
            Pattern::Glob { matcher, .. } => matcher.is_match(path),
        })
    }

    /// An event path in the spelling the patterns (and so the followers)
    /// use: a watch on `.` reports `./app.log` for the pattern `app.log`.
    /// The watcher reports absolute paths (`/srv/./app.log` for a watch
    /// on `.`); relative patterns are matched in the spelling the user
    /// gave, relative to the directory faultline was started in.
    pub fn spelling(&self, path: PathBuf) -> PathBuf {
        if self.matches(&path) {
            return path;
        }
        let plain = without_dots(&path);
        for (dir, _) in self.watch_dirs() {
            let Ok(rest) = plain.strip_prefix(without_dots(&self.cwd.join(&dir))) else {
                continue;
            };
            let given = dir.join(rest);
            if self.matches(&given) {
                return given;
            }
            if let Ok(bare) = given.strip_prefix(".")
                && self.matches(bare)
            {
                return bare.to_path_buf();
            }
        }
        path
    }

    /// The regular files the patterns match now, sorted, without repeats.
    pub fn expand(&self) -> Vec<PathBuf> {
        self.expand_complete().0
    }

    /// [`Patterns::expand`], and whether every directory could be listed
    /// (false when one could not be opened, e.g. no descriptor left: then
    /// a path missing from the list is not known to be gone).
    pub fn expand_complete(&self) -> (Vec<PathBuf>, bool) {
        let mut complete = true;
        let mut out = Vec::new();
        for p in &self.items {
            match p {
                Pattern::File(f) => {
                    if f.is_file() {
                        out.push(f.clone());
                    }
                }
                Pattern::Dir(d) => complete &= list(d, 1, false, &mut out, |_| true),
                Pattern::Glob {
                    base,
                    matcher,
                    recursive,
                    implicit_base,
                } => {
                    let depth = if *recursive {
                        usize::MAX
                    } else {
                        glob_depth(base, matcher)
                    };
                    complete &= list(base, depth, *implicit_base, &mut out, |p| {
                        matcher.is_match(p)
                    });
                }
            }
        }
        out.sort();
        out.dedup();
        (out, complete)
    }
}

/// How many components below `base` a non-recursive glob reaches.
fn glob_depth(base: &Path, matcher: &GlobMatcher) -> usize {
    let glob = Path::new(matcher.glob().glob());
    glob.components()
        .count()
        .saturating_sub(base.components().count())
        .max(1)
}

/// `path` without its `.` components.
fn without_dots(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect()
}

fn parent_dir(f: &Path) -> PathBuf {
    match f.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Lists `dir` into `out`; false when a directory could not be read (a
/// directory that does not exist is listed completely: it is empty).
fn list(
    dir: &Path,
    depth: usize,
    strip_dot: bool,
    out: &mut Vec<PathBuf>,
    keep: impl Fn(&Path) -> bool,
) -> bool {
    let mut complete = true;
    let walker = walkdir::WalkDir::new(dir).min_depth(1).max_depth(depth);
    let entries = walker.into_iter().filter_map(|e| {
        e.map_err(|e| {
            let missing = e
                .io_error()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound);
            complete &= missing;
        })
        .ok()
    });
    for entry in entries {
        // A symlink to a file is a file (the Kubernetes layout:
        // /var/log/containers/*.log are links into /var/log/pods).
        let ft = entry.file_type();
        if ft.is_file() || (ft.is_symlink() && entry.path().is_file()) {
            let path = entry.into_path();
            let path = match path.strip_prefix(".") {
                Ok(rest) if strip_dot => rest.to_path_buf(),
                _ => path,
            };
            if keep(&path) {
                out.push(path);
            }
        }
    }
    complete
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_files_and_directories() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        for f in [
            "app.log",
            "app.log.1",
            "app.log.2.gz",
            "other.txt",
            "sub/deep.log",
        ] {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x").unwrap();
        }
        let glob = root.join("app.log*");
        let p = Patterns::parse(&[glob]).unwrap();
        let names: Vec<String> = p
            .expand()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["app.log", "app.log.1", "app.log.2.gz"]);
        assert_eq!(p.watch_dirs(), [(root.to_path_buf(), false)]);
        assert!(p.matches(&root.join("app.log.7")));
        assert!(!p.matches(&root.join("other.txt")));

        let p = Patterns::parse(&[root.join("**/*.log")]).unwrap();
        assert_eq!(
            p.expand(),
            [root.join("app.log"), root.join("sub/deep.log")]
        );
        assert_eq!(p.watch_dirs(), [(root.to_path_buf(), true)]);

        let p = Patterns::parse(&[root.to_path_buf(), root.join("later.log")]).unwrap();
        assert_eq!(p.expand().len(), 4, "directory: files directly in it");
        assert!(p.matches(&root.join("later.log")));
        assert!(p.matches(&root.join("new-in-dir.log")));
        assert!(!p.matches(&root.join("sub/x.log")));
    }

    #[test]
    fn watcher_paths_take_the_relative_spelling_of_the_patterns() {
        let p = Patterns {
            cwd: PathBuf::from("/srv"),
            ..Patterns::parse(&[PathBuf::from("*.log*"), PathBuf::from("logs/*.log")]).unwrap()
        };
        // `*` does not cross `/`: the absolute path is not matched as given.
        assert!(!p.matches(Path::new("/srv/./app.log")));
        assert!(!p.matches(Path::new("sub/app.log")));
        assert_eq!(
            p.spelling("/srv/./app.log".into()),
            PathBuf::from("app.log")
        );
        assert_eq!(
            p.spelling("/srv/./app.log.1".into()),
            PathBuf::from("app.log.1")
        );
        assert_eq!(
            p.spelling("/srv/logs/a.log".into()),
            PathBuf::from("logs/a.log")
        );
        // Not ours: left alone.
        assert_eq!(
            p.spelling("/elsewhere/a.log".into()),
            PathBuf::from("/elsewhere/a.log")
        );
    }

    #[test]
    fn a_bad_glob_is_an_error_naming_it() {
        let e = Patterns::parse(&[PathBuf::from("/var/log/[a.log")]).unwrap_err();
        assert!(e.to_string().contains("/var/log/[a.log"), "{e}");
    }
}
