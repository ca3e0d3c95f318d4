//! What a follow that resumes (the recorder after a restart, a late viewer
//! joining a shared log) gets again of what it already has.
//!
//! The engine does not write a container's stdout and stderr in time
//! order: each stream is stamped as it is read, and the two are written as
//! they come, so a message can follow one a few microseconds newer. A
//! follow resumed "from the last time" would lose the older one, and one
//! that skipped everything up to that time would too. So a follow resumes
//! [`WINDOW`] earlier, and skips exactly the messages it already has in
//! that window, each once.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

/// How far back a follow resumes; far more than the engine's streams ever
/// drift apart.
pub const WINDOW: i64 = 2_000_000_000;

/// The messages already had in the last [`WINDOW`] before a resume.
#[derive(Default)]
pub struct Overlap {
    seen: HashMap<u64, u32>,
    /// After a message this new, nothing more can be a repeat.
    until: i64,
}

fn key(time: i64, stream: u8, bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    (time, stream, bytes).hash(&mut h);
    h.finish()
}

impl Overlap {
    /// From the messages (time in ns, stream, bytes) had so far; only
    /// those within [`WINDOW`] of the newest count.
    pub fn new<'a>(had: impl IntoIterator<Item = (i64, u8, &'a [u8])>) -> Overlap {
        let had: Vec<_> = had.into_iter().collect();
        let newest = had.iter().map(|(t, ..)| *t).max().unwrap_or(i64::MIN);
        let mut seen = HashMap::new();
        for (t, s, b) in had {
            if t >= newest.saturating_sub(WINDOW) {
                *seen.entry(key(t, s, b)).or_insert(0) += 1;
            }
        }
        Overlap {
            seen,
            until: newest.saturating_add(WINDOW),
        }
    }

    /// Where a follow should resume for these messages (ns), if anywhere.
    pub fn resume_from(newest: i64) -> i64 {
        newest.saturating_sub(WINDOW).max(0)
    }

    /// Whether this message is one already had (each counts once).
    pub fn repeat(&mut self, time: i64, stream: u8, bytes: &[u8]) -> bool {
        if self.seen.is_empty() {
            return false;
        }
        if time > self.until {
            self.seen.clear();
            return false;
        }
        let k = key(time, stream, bytes);
        match self.seen.get_mut(&k) {
            Some(n) => {
                *n -= 1;
                if *n == 0 {
                    self.seen.remove(&k);
                }
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_skipped_once_and_older_newcomers_kept() {
        let had: Vec<(i64, u8, &[u8])> = vec![(10, 1, b"a"), (12, 2, b"b"), (12, 2, b"b")];
        let mut o = Overlap::new(had);
        assert!(o.repeat(10, 1, b"a"));
        assert!(!o.repeat(10, 1, b"a"), "once each");
        // Older than the newest had, but never had: kept.
        assert!(!o.repeat(11, 1, b"late"));
        assert!(o.repeat(12, 2, b"b") && o.repeat(12, 2, b"b"));
        assert!(!o.repeat(12, 2, b"b"));
        // The same bytes on the other stream are another message.
        let mut o = Overlap::new(vec![(5, 1, &b"x"[..])]);
        assert!(!o.repeat(5, 2, b"x"));
        assert!(!o.repeat(5 + WINDOW + 1, 1, b"x"));
        assert!(!o.repeat(5, 1, b"x"), "cleared after the window");
    }
}
