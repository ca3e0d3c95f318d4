//! The log workbench's model: lines decoded from the engine's log streams
//! (multiplexed or a TTY's raw bytes), kept in time order across sources,
//! and the filter over them.

use berth_engine::logline::{nanos, split_time};
use berth_engine::{MuxDecoder, StreamKind};

use super::ansi;

/// Lines kept; beyond, the oldest go (and the page says so).
pub const CAP: usize = 200_000;

/// One line as a source wrote it.
pub struct Line {
    /// The engine's timestamp with the fraction padded to nine digits, so
    /// that text order is time order.
    key: String,
    /// Which of the workbench's sources wrote it.
    pub source: u8,
    pub stderr: bool,
    /// As the container wrote it, escape sequences included.
    pub text: String,
    /// Without escape sequences: what filters and downloads see.
    pub plain: String,
}

impl Line {
    /// A line as the engine sends it with `timestamps=1`: the time, a
    /// space, the text.
    pub fn new(source: u8, stderr: bool, raw: &[u8]) -> Line {
        let (key, text) = split_time(raw).unwrap_or((String::new(), raw));
        let text = String::from_utf8_lossy(text.strip_suffix(b"\r").unwrap_or(text)).into_owned();
        Line {
            key,
            source,
            stderr,
            plain: ansi::strip(&text),
            text,
        }
    }

    /// `2026-11-23 02:12:24.214`, UTC.
    pub fn time(&self) -> &str {
        self.key.get(..23).unwrap_or("")
    }
}

/// What the person asked to see.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub text: String,
    pub regex: bool,
    pub case: bool,
    pub stdout: bool,
    pub stderr: bool,
}

impl Default for Filter {
    fn default() -> Filter {
        Filter {
            text: String::new(),
            regex: false,
            case: false,
            stdout: true,
            stderr: true,
        }
    }
}

impl Filter {
    /// Whether it lets every line through.
    pub fn is_open(&self) -> bool {
        self.text.is_empty() && self.stdout && self.stderr
    }
}

/// A compiled regular expression. The console compiles the browser's own
/// (no regex engine in the wasm).
pub type Regex = Box<dyn Fn(&str) -> bool>;

/// A filter's text, ready to test lines with.
pub enum Matcher {
    All,
    Text { needle: String, case: bool },
    Re(Regex),
}

impl Matcher {
    /// `compile` makes the regular expression from a pattern and whether
    /// case matters, or says why it can't.
    pub fn new(
        f: &Filter,
        compile: impl FnOnce(&str, bool) -> Result<Regex, String>,
    ) -> Result<Matcher, String> {
        Ok(if f.text.is_empty() {
            Matcher::All
        } else if f.regex {
            Matcher::Re(compile(&f.text, f.case)?)
        } else if f.case {
            Matcher::Text {
                needle: f.text.clone(),
                case: true,
            }
        } else {
            Matcher::Text {
                needle: f.text.to_lowercase(),
                case: false,
            }
        })
    }

    fn matches(&self, line: &Line) -> bool {
        match self {
            Matcher::All => true,
            Matcher::Text { needle, case: true } => line.plain.contains(needle.as_str()),
            Matcher::Text {
                needle,
                case: false,
            } => {
                if line.plain.is_ascii() && needle.is_ascii() {
                    contains_ignore_ascii_case(&line.plain, needle)
                } else {
                    line.plain.to_lowercase().contains(needle.as_str())
                }
            }
            Matcher::Re(re) => re(&line.plain),
        }
    }
}

fn contains_ignore_ascii_case(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

fn passes(line: &Line, m: &Matcher, f: &Filter) -> bool {
    (if line.stderr { f.stderr } else { f.stdout }) && m.matches(line)
}

/// One source's bytes into lines: how they are framed (learnt from the
/// first bytes: a TTY's stream is not), and the unfinished line of each of
/// its streams.
#[derive(Default)]
pub struct Decoder {
    /// `None` until the first bytes tell.
    mux: Option<Option<MuxDecoder>>,
    sniff: Vec<u8>,
    partial: [Vec<u8>; 2],
}

impl Decoder {
    /// Adds what arrived; finished lines go to `out`.
    pub fn push(&mut self, bytes: &[u8], source: u8, out: &mut Vec<Line>) {
        if self.mux.is_none() {
            self.sniff.extend_from_slice(bytes);
            if self.sniff.len() < 8 {
                return;
            }
            let framed = self.sniff[0] <= 2 && self.sniff[1..4] == [0, 0, 0];
            self.mux = Some(framed.then(MuxDecoder::new));
            let bytes = std::mem::take(&mut self.sniff);
            return self.push(&bytes, source, out);
        }
        match self.mux.as_mut().and_then(Option::as_mut) {
            Some(mux) => {
                mux.push(bytes);
                let mut frames = vec![];
                while let Some(Ok(f)) = mux.next_frame() {
                    frames.push(f);
                }
                for f in frames {
                    self.lines(f.stream == StreamKind::Stderr, &f.payload, source, out);
                }
            }
            None => self.lines(false, bytes, source, out),
        }
    }

    fn lines(&mut self, stderr: bool, bytes: &[u8], source: u8, out: &mut Vec<Line>) {
        let partial = &mut self.partial[usize::from(stderr)];
        partial.extend_from_slice(bytes);
        if let Some(last) = partial.iter().rposition(|&b| b == b'\n') {
            let rest = partial.split_off(last + 1);
            let done = std::mem::replace(partial, rest);
            for raw in done[..done.len() - 1].split(|&b| b == b'\n') {
                out.push(Line::new(source, stderr, raw));
            }
        }
    }

    /// The stream ended: an unfinished last line is still a line, and so
    /// are fewer than eight bytes that never told their framing.
    pub fn finish(&mut self, source: u8, out: &mut Vec<Line>) {
        if self.mux.is_none() && !self.sniff.is_empty() {
            self.mux = Some(None);
            let bytes = std::mem::take(&mut self.sniff);
            self.lines(false, &bytes, source, out);
        }
        for (i, partial) in self.partial.iter_mut().enumerate() {
            if !partial.is_empty() {
                out.push(Line::new(source, i == 1, partial));
                partial.clear();
            }
        }
    }
}

/// Every line received, and which of them the filter lets through.
#[derive(Default)]
pub struct Store {
    lines: Vec<Line>,
    shown: Vec<u32>,
    dropped: usize,
}

impl Store {
    /// Lines shown, lines kept, lines let go to the cap.
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.shown.len(), self.lines.len(), self.dropped)
    }

    /// The shown lines from the `first`th, at most `n` of them.
    pub fn shown(&self, first: usize, n: usize) -> impl Iterator<Item = &Line> {
        self.shown
            .iter()
            .skip(first)
            .take(n)
            .map(|&i| &self.lines[i as usize])
    }

    /// Where, among the shown lines, the first at or after `ns`
    /// (nanoseconds since the epoch) is: the line a search match points
    /// at. (Lines are in time order.)
    pub fn first_at(&self, ns: i64) -> Option<usize> {
        let i = self
            .shown
            .partition_point(|&i| nanos(&self.lines[i as usize].key).is_none_or(|t| t < ns));
        (i < self.shown.len()).then_some(i)
    }

    pub fn refilter(&mut self, m: &Matcher, f: &Filter) {
        self.shown = (0..self.lines.len() as u32)
            .filter(|&i| passes(&self.lines[i as usize], m, f))
            .collect();
    }

    /// Adds lines in time order; only new lines are filtered unless some
    /// arrived older than what is there (merged sources catching up).
    /// Returns how many old lines the cap dropped.
    pub fn add(&mut self, mut batch: Vec<Line>, m: &Matcher, f: &Filter, merged: bool) -> usize {
        if batch.is_empty() {
            return 0;
        }
        if merged {
            batch.sort_by(|a, b| a.key.cmp(&b.key));
        }
        let in_order = !merged
            || self
                .lines
                .last()
                .is_none_or(|last| last.key <= batch[0].key);
        if in_order {
            let start = self.lines.len() as u32;
            for (i, line) in batch.iter().enumerate() {
                if passes(line, m, f) {
                    self.shown.push(start + i as u32);
                }
            }
            self.lines.extend(batch);
        } else {
            let old = std::mem::take(&mut self.lines);
            let mut merged_lines = Vec::with_capacity(old.len() + batch.len());
            let (mut a, mut b) = (old.into_iter().peekable(), batch.into_iter().peekable());
            while let (Some(x), Some(y)) = (a.peek(), b.peek()) {
                merged_lines
                    .push(if x.key <= y.key { a.next() } else { b.next() }.expect("peeked"));
            }
            merged_lines.extend(a);
            merged_lines.extend(b);
            self.lines = merged_lines;
            self.refilter(m, f);
        }
        let over = self.lines.len().saturating_sub(CAP);
        if over > 0 {
            // Drop a tenth more than needed, so this happens rarely.
            let drop = (over + CAP / 10).min(self.lines.len());
            self.lines.drain(..drop);
            self.dropped += drop;
            let d = drop as u32;
            self.shown.retain(|&i| i >= d);
            for i in &mut self.shown {
                *i -= d;
            }
            return drop;
        }
        0
    }

    /// The shown lines as a text file: with their time, and (merged) the
    /// name of their source.
    pub fn text(&self, times: bool, names: Option<&[String]>) -> String {
        let mut out = String::new();
        for l in self.shown(0, usize::MAX) {
            if times {
                out.push_str(l.time());
                out.push(' ');
            }
            if let Some(names) = names {
                out.push_str(names.get(usize::from(l.source)).map_or("", String::as_str));
                out.push(' ');
            }
            out.push_str(&l.plain);
            out.push('\n');
        }
        out
    }
}

/// What the count above the lines says.
pub fn count_text(counts: (usize, usize, usize), filter: &Filter) -> String {
    let (shown, total, dropped) = counts;
    let mut s = if filter.is_open() {
        format!("{total} lines")
    } else {
        format!("{shown} of {total} lines match")
    };
    if dropped > 0 {
        s += &format!(
            "; the oldest {dropped} were let go to stay fast (at most {CAP} are kept; narrow the time window to see them)"
        );
    }
    s
}

/// Where each source's stream is.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Opening,
    Live,
    Ended,
    Failed(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(stream: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![stream, 0, 0, 0];
        f.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    fn decode(chunks: &[&[u8]]) -> Vec<Line> {
        let mut d = Decoder::default();
        let mut out = vec![];
        for c in chunks {
            d.push(c, 0, &mut out);
        }
        d.finish(0, &mut out);
        out
    }

    fn plain(lines: &[Line]) -> Vec<(&str, bool)> {
        lines.iter().map(|l| (l.plain.as_str(), l.stderr)).collect()
    }

    #[test]
    fn multiplexed_streams_split_however_they_arrive() {
        let mut bytes = frame(1, b"2026-11-23T02:12:24.2Z one\n2026-11-23T02:12:25Z tw");
        bytes.extend(frame(2, b"2026-11-23T02:12:26.000000001Z oops\n"));
        bytes.extend(frame(1, b"o\r\n"));
        for at in [1, 5, 9, 30, bytes.len() - 1] {
            let (a, b) = bytes.split_at(at);
            let lines = decode(&[a, b]);
            assert_eq!(
                plain(&lines),
                [("one", false), ("oops", true), ("two", false)],
                "split at {at}"
            );
            assert_eq!(lines[0].time(), "2026-11-23 02:12:24.200");
        }
    }

    #[test]
    fn a_tty_stream_is_raw_and_a_short_last_line_still_counts() {
        let lines = decode(&[b"\x1b[31mred\x1b[0m\nlast"]);
        assert_eq!(plain(&lines), [("red", false), ("last", false)]);
        assert_eq!(lines[0].text, "\x1b[31mred\x1b[0m");
        // One short line, then the container stopped: fewer than eight bytes.
        assert_eq!(plain(&decode(&[b"hi\n"])), [("hi", false)]);
    }

    #[test]
    fn one_line_then_the_end_through_the_fan_in() {
        // As the relay sent it for a container that printed one line and stopped.
        let wire: &[u8] = &[
            0, 0, 0, 0, 0, 53, 1, 0, 0, 0, 0, 0, 0, 45, 50, 48, 50, 54, 45, 49, 49, 45, 50, 55, 84,
            49, 56, 58, 53, 52, 58, 49, 50, 46, 50, 57, 48, 50, 51, 50, 53, 57, 49, 90, 32, 116,
            104, 101, 45, 111, 110, 108, 121, 45, 108, 105, 110, 101, 10, 1, 0, 0, 0, 0, 0,
        ];
        let mut fanin = berth_engine::FaninDecoder::new();
        fanin.push(wire);
        let (mut d, mut out) = (Decoder::default(), vec![]);
        while let Some(f) = fanin.next_frame() {
            match f {
                berth_engine::Fanned::Data { source, bytes } => d.push(&bytes, source, &mut out),
                berth_engine::Fanned::End { source } => d.finish(source, &mut out),
                berth_engine::Fanned::Error { message, .. } => panic!("{message}"),
            }
        }
        assert_eq!(plain(&out), [("the-only-line", false)]);
    }

    fn lines(source: u8, texts: &[&str]) -> Vec<Line> {
        texts
            .iter()
            .map(|t| Line::new(source, false, t.as_bytes()))
            .collect()
    }

    fn regex(pattern: &str, _case: bool) -> Result<Regex, String> {
        // A stand-in: the console compiles the browser's RegExp.
        match pattern.strip_prefix('^') {
            Some(p) => {
                let p = p.to_owned();
                Ok(Box::new(move |s: &str| s.starts_with(&p)))
            }
            None => Err("only ^prefix here".into()),
        }
    }

    #[test]
    fn the_filter_by_text_case_regex_and_stream() {
        let mut store = Store::default();
        let mut all = lines(0, &["Alpha", "beta", "ALPHABET"]);
        all.push(Line::new(0, true, b"alpha on stderr"));
        let open = Filter::default();
        store.add(all, &Matcher::All, &open, false);
        let shown = |store: &Store| {
            store
                .shown(0, 10)
                .map(|l| l.plain.clone())
                .collect::<Vec<_>>()
        };

        let f = Filter {
            text: "alpha".into(),
            ..Filter::default()
        };
        store.refilter(&Matcher::new(&f, regex).unwrap(), &f);
        assert_eq!(shown(&store), ["Alpha", "ALPHABET", "alpha on stderr"]);
        assert_eq!(count_text(store.counts(), &f), "3 of 4 lines match");

        let f = Filter {
            case: true,
            stderr: false,
            ..f
        };
        store.refilter(&Matcher::new(&f, regex).unwrap(), &f);
        assert!(shown(&store).is_empty());

        let f = Filter {
            text: "^ALPHA".into(),
            regex: true,
            ..Filter::default()
        };
        store.refilter(&Matcher::new(&f, regex).unwrap(), &f);
        assert_eq!(shown(&store), ["ALPHABET"]);
        let bad = Filter {
            text: "(".into(),
            regex: true,
            ..Filter::default()
        };
        assert!(Matcher::new(&bad, regex).is_err());

        // New lines are filtered as they come.
        store.add(
            lines(0, &["ALPHA again"]),
            &Matcher::new(&f, regex).unwrap(),
            &f,
            false,
        );
        assert_eq!(shown(&store), ["ALPHABET", "ALPHA again"]);
        assert_eq!(count_text(store.counts(), &Filter::default()), "5 lines");
    }

    #[test]
    fn merged_sources_interleave_by_time_and_download_with_names() {
        let mut store = Store::default();
        let open = Filter::default();
        store.add(
            lines(0, &["2026-01-01T00:00:01Z a1", "2026-01-01T00:00:03Z a3"]),
            &Matcher::All,
            &open,
            true,
        );
        // A late source catching up.
        store.add(
            lines(1, &["2026-01-01T00:00:02Z b2", "2026-01-01T00:00:04Z b4"]),
            &Matcher::All,
            &open,
            true,
        );
        let names = ["web".to_owned(), "db".to_owned()];
        assert_eq!(
            store.text(false, Some(&names)),
            "web a1\ndb b2\nweb a3\ndb b4\n"
        );
        assert_eq!(
            store.text(true, None).lines().next(),
            Some("2026-01-01 00:00:01.000 a1")
        );
    }

    #[test]
    fn a_moment_is_found_among_the_lines_shown() {
        let mut store = Store::default();
        let lines = lines(
            0,
            &[
                "2026-11-23T02:12:24.1Z before",
                "2026-11-23T02:12:24.25Z match",
                "2026-11-23T02:12:24.25Z same moment",
                "2026-11-23T02:12:30Z after",
            ],
        );
        store.add(lines, &Matcher::All, &Filter::default(), false);
        let at = nanos("2026-11-23 02:12:24.250000000").unwrap();
        assert_eq!(store.first_at(at), Some(1));
        assert_eq!(store.first_at(at + 1), Some(3));
        assert_eq!(store.first_at(at + 10_000_000_000), None);
        // Filtered out, the next line shown stands in.
        let only = Filter {
            text: "after".into(),
            ..Filter::default()
        };
        store.refilter(&Matcher::new(&only, regex).unwrap(), &only);
        assert_eq!(store.first_at(at), Some(0));
    }

    #[test]
    fn the_cap_lets_the_oldest_go() {
        let mut store = Store::default();
        let batch: Vec<Line> = (0..CAP + 5)
            .map(|i| Line::new(0, false, i.to_string().as_bytes()))
            .collect();
        let dropped = store.add(batch, &Matcher::All, &Filter::default(), false);
        assert_eq!(dropped, 5 + CAP / 10);
        let (shown, total, gone) = store.counts();
        assert_eq!(
            (shown, total, gone),
            (CAP - CAP / 10, CAP - CAP / 10, dropped)
        );
        assert_eq!(store.shown(0, 1).next().unwrap().plain, dropped.to_string());
        assert!(count_text(store.counts(), &Filter::default()).contains("were let go"));
    }
}
