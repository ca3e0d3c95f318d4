//! The flight recorder's store: plain files, no database.
//!
//! `DIR/<container id>/` holds `meta.json` (what is known of the
//! container) and the log in append-only segments `<first ns>.log`, one
//! line a message: `<time in ns> <stream> <message>\n`. The stream is `o`,
//! `e` or `t` (stdout, stderr, a TTY's output), upper case when the message
//! did not end with a newline (a long line the engine split). A message is
//! written as it came, so a segment is searched as it lies. A crash can leave
//! at most a torn last line, which is cut off when the segment is opened
//! again. Writes are batched (see the recorder); segments roll at
//! [`SEGMENT`] bytes, and the oldest go first when the store holds more
//! than its cap.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use berth_engine::relay::LogStream;
use serde::{Deserialize, Serialize};

/// A segment rolls at this size, or at an eighth of the cap when that is
/// less (the cap drops whole segments).
pub const SEGMENT: u64 = 8 * 1024 * 1024;

/// The segment size for a store capped at `max`.
pub fn segment_size(max: u64) -> u64 {
    (max / 8).clamp(4096, SEGMENT)
}

/// Which stream a message came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stream {
    Stdout,
    Stderr,
    /// A TTY's output (one stream).
    Tty,
}

impl Stream {
    pub fn letter(self, whole: bool) -> u8 {
        let l = match self {
            Stream::Stdout => b'o',
            Stream::Stderr => b'e',
            Stream::Tty => b't',
        };
        if whole {
            l
        } else {
            l.to_ascii_uppercase()
        }
    }

    fn of(letter: u8) -> Option<(Stream, bool)> {
        let whole = letter.is_ascii_lowercase();
        let s = match letter.to_ascii_lowercase() {
            b'o' => Stream::Stdout,
            b'e' => Stream::Stderr,
            b't' => Stream::Tty,
            _ => return None,
        };
        Some((s, whole))
    }
}

/// As the recorder's documents name it.
impl From<Stream> for LogStream {
    fn from(s: Stream) -> LogStream {
        match s {
            Stream::Stdout => LogStream::Stdout,
            Stream::Stderr => LogStream::Stderr,
            Stream::Tty => LogStream::Tty,
        }
    }
}

/// One message of a container's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Nanoseconds since the epoch, the engine's time for it.
    pub time: i64,
    pub stream: Stream,
    /// As the container wrote it, the newline included when it had one.
    pub bytes: Vec<u8>,
}

impl Message {
    /// The message as lines of a segment: one a line of it (the engine
    /// sends one a line, so nearly always one), each as written, so a
    /// segment is searched as it lies.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut rest = &self.bytes[..];
        loop {
            let (piece, whole, next) = match rest.iter().position(|b| *b == b'\n') {
                Some(i) => (&rest[..i], true, &rest[i + 1..]),
                None => (rest, false, &rest[rest.len()..]),
            };
            out.extend_from_slice(self.time.to_string().as_bytes());
            out.push(b' ');
            out.push(self.stream.letter(whole));
            out.push(b' ');
            out.extend_from_slice(piece);
            out.push(b'\n');
            rest = next;
            if rest.is_empty() {
                return;
            }
        }
    }

    /// A line of a segment (without its newline) as the message it holds.
    pub fn decode(line: &[u8]) -> Option<Message> {
        let mut parts = line.splitn(3, |b| *b == b' ');
        let time: i64 = std::str::from_utf8(parts.next()?).ok()?.parse().ok()?;
        let (stream, whole) = match parts.next()? {
            [l] => Stream::of(*l)?,
            _ => return None,
        };
        let mut bytes = parts.next().unwrap_or_default().to_vec();
        if whole {
            bytes.push(b'\n');
        }
        Some(Message {
            time,
            stream,
            bytes,
        })
    }

    /// The message as text, its newline off.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(self.bytes.strip_suffix(b"\n").unwrap_or(&self.bytes)).into_owned()
    }
}

/// What the recorder knows of a container, kept as `meta.json`: the
/// history document itself (its `running` and `bytes` are worked out when
/// it is listed, not read from the file).
pub type Meta = berth_engine::relay::HistoryEntry;

/// Makes `dir` if need be, and checks that files can be written in it.
pub fn writable(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let probe = dir.join(".berth-probe");
    fs::write(&probe, b"")?;
    fs::remove_file(probe)
}

/// A segment file: its path and first message's time (from its name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub path: PathBuf,
    pub first: i64,
    pub size: u64,
}

/// A container's record on disk.
pub struct Record {
    pub dir: PathBuf,
}

impl Record {
    pub fn new(root: &Path, id: &str) -> Record {
        Record { dir: root.join(id) }
    }

    pub fn meta(&self) -> Option<Meta> {
        let text = fs::read(self.dir.join("meta.json")).ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// Writes `meta.json` whole or not at all (a rename replaces it).
    pub fn save_meta(&self, meta: &Meta) -> io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let tmp = self.dir.join("meta.json.new");
        fs::write(&tmp, serde_json::to_vec(meta).map_err(io::Error::other)?)?;
        fs::rename(tmp, self.dir.join("meta.json"))
    }

    /// Its segments, oldest first.
    pub fn segments(&self) -> Vec<Segment> {
        let mut out: Vec<Segment> = fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter_map(|e| {
                let path = e.path();
                let first = path
                    .file_name()?
                    .to_str()?
                    .strip_suffix(".log")?
                    .parse()
                    .ok()?;
                let size = e.metadata().ok()?.len();
                Some(Segment { path, first, size })
            })
            .collect();
        out.sort_by_key(|s| s.first);
        out
    }

    pub fn bytes(&self) -> u64 {
        self.segments().iter().map(|s| s.size).sum()
    }

    /// Cuts a torn last line off the newest segment (a crash mid-write):
    /// what is left ends with a whole message. The last message's time.
    pub fn repair(&self) -> io::Result<Option<i64>> {
        let Some(seg) = self.segments().pop() else {
            return Ok(None);
        };
        let mut f = OpenOptions::new().read(true).write(true).open(&seg.path)?;
        let len = f.metadata()?.len();
        // Read back from the end to the last newline.
        let tail = len.min(1024 * 1024);
        f.seek(SeekFrom::Start(len - tail))?;
        let mut buf = vec![0u8; tail as usize];
        f.read_exact(&mut buf)?;
        let keep = match buf.iter().rposition(|b| *b == b'\n') {
            Some(i) => len - tail + i as u64 + 1,
            None if tail == len => 0,
            None => len, // one line longer than we read back: leave it
        };
        if keep < len {
            f.set_len(keep)?;
        }
        let last = buf[..(keep - (len - tail)) as usize]
            .split(|b| *b == b'\n')
            .rev()
            .find(|l| !l.is_empty())
            .and_then(Message::decode)
            .map(|m| m.time);
        Ok(last)
    }

    /// Appends encoded messages (whole lines) to the newest segment,
    /// rolling to a new one, named by its first message's time, whenever
    /// one holds `segment` bytes. On a failed write the segment is cut back
    /// to what it held, so it stays whole.
    pub fn append(&self, mut encoded: &[u8], segment: u64) -> io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let (mut path, mut size) = match self.segments().pop() {
            Some(s) => (Some(s.path), s.size),
            None => (None, 0),
        };
        while !encoded.is_empty() {
            let path = match &path {
                Some(p) if size < segment => p.clone(),
                _ => {
                    let first = encoded
                        .split(|b| *b == b' ')
                        .next()
                        .and_then(|t| std::str::from_utf8(t).ok())
                        .and_then(|t| t.parse::<i64>().ok())
                        .ok_or_else(|| io::Error::other("a message without its time"))?;
                    let p = self.dir.join(format!("{first}.log"));
                    size = fs::metadata(&p).map_or(0, |m| m.len());
                    path = Some(p.clone());
                    p
                }
            };
            // Whole lines, up to what the segment has room for (one at
            // least).
            let room = (segment.saturating_sub(size) as usize).max(1);
            let cut = match encoded[..room.min(encoded.len())]
                .iter()
                .rposition(|b| *b == b'\n')
            {
                Some(i) => i + 1,
                None => encoded
                    .iter()
                    .position(|b| *b == b'\n')
                    .map_or(encoded.len(), |i| i + 1),
            };
            let mut f = OpenOptions::new().create(true).append(true).open(&path)?;
            let before = f.metadata()?.len();
            if let Err(e) = f.write_all(&encoded[..cut]) {
                let _ = f.set_len(before);
                return Err(e);
            }
            size = before + cut as u64;
            encoded = &encoded[cut..];
        }
        Ok(())
    }

    /// The messages between `since` and `until` (ns, inclusive), oldest
    /// first, each given to `each` until it says stop.
    pub fn read(
        &self,
        since: i64,
        until: i64,
        mut each: impl FnMut(Message) -> bool,
    ) -> io::Result<()> {
        let segs = self.segments();
        for (i, seg) in segs.iter().enumerate() {
            let next_first = segs.get(i + 1).map_or(i64::MAX, |s| s.first);
            if seg.first > until || next_first < since {
                continue;
            }
            let reader = BufReader::with_capacity(256 * 1024, File::open(&seg.path)?);
            for line in reader.split(b'\n') {
                let Some(m) = Message::decode(&line?) else {
                    continue;
                };
                if m.time < since {
                    continue;
                }
                if m.time > until || !each(m) {
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(time: i64, stream: Stream, bytes: &[u8]) -> Message {
        Message {
            time,
            stream,
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn messages_round_trip_whatever_they_hold() {
        for m in [
            msg(1, Stream::Stdout, b"hello\n"),
            msg(2, Stream::Stderr, b"no newline"),
            msg(3, Stream::Tty, b"back\\slash and \\n and\r\n"),
            msg(4, Stream::Stdout, b"\n"),
        ] {
            let mut line = Vec::new();
            m.encode(&mut line);
            assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1, "{line:?}");
            assert_eq!(Message::decode(line.strip_suffix(b"\n").unwrap()), Some(m));
        }
        // One with lines in it is kept as its lines, at its time.
        let mut lines = Vec::new();
        msg(6, Stream::Stderr, b"a\nb\nc").encode(&mut lines);
        let back: Vec<_> = lines
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| Message::decode(l).unwrap())
            .collect();
        assert_eq!(
            back,
            vec![
                msg(6, Stream::Stderr, b"a\n"),
                msg(6, Stream::Stderr, b"b\n"),
                msg(6, Stream::Stderr, b"c")
            ]
        );
    }

    #[test]
    fn a_torn_last_line_is_cut_and_segments_roll() {
        let dir = tempfile::tempdir().unwrap();
        let rec = Record::new(dir.path(), "abc");
        let mut buf = Vec::new();
        for t in 0..3 {
            msg(t, Stream::Stdout, b"line\n").encode(&mut buf);
        }
        rec.append(&buf, SEGMENT).unwrap();
        // A crash mid-write.
        rec.append(b"3 o torn-with", SEGMENT).unwrap();
        assert_eq!(rec.repair().unwrap(), Some(2));
        let mut got = vec![];
        rec.read(0, i64::MAX, |m| {
            got.push(m.time);
            true
        })
        .unwrap();
        assert_eq!(got, vec![0, 1, 2]);
        // Reading a window.
        let mut window = vec![];
        rec.read(1, 1, |m| {
            window.push(m.time);
            true
        })
        .unwrap();
        assert_eq!(window, vec![1]);
        assert_eq!(rec.segments().len(), 1);
        // A batch larger than a segment rolls over whole lines.
        let mut big = Vec::new();
        for t in 10..20 {
            msg(t, Stream::Stdout, b"0123456789\n").encode(&mut big);
        }
        rec.append(&big, 64).unwrap();
        let segs = rec.segments();
        assert_eq!(segs.len(), 3, "{segs:?}");
        assert!(segs[1..].iter().all(|s| s.size <= 64 + 16), "{segs:?}");
        let mut all = vec![];
        rec.read(0, i64::MAX, |m| {
            all.push(m.time);
            true
        })
        .unwrap();
        assert_eq!(all, [0, 1, 2].into_iter().chain(10..20).collect::<Vec<_>>());
    }
}
