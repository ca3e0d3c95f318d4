//! Incremental decoder for the engine's JSON-lines streams: events, stats,
//! and the progress of pull, push, build, import and load.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;

use crate::buffer::Pending;

/// Feed it bytes with [`JsonLines::push`], take values with
/// [`JsonLines::next_value`]. Lines end in `\n` or `\r\n`; blank lines are
/// skipped. A line that is not a `T` yields an error and decoding goes on
/// with the next line.
#[derive(Debug)]
pub struct JsonLines<T> {
    pending: Pending,
    _values: PhantomData<fn() -> T>,
}

impl<T> Default for JsonLines<T> {
    fn default() -> Self {
        JsonLines {
            pending: Pending::default(),
            _values: PhantomData,
        }
    }
}

impl<T: DeserializeOwned> JsonLines<T> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, chunk: &[u8]) {
        self.pending.push(chunk);
    }

    pub fn next_value(&mut self) -> Option<Result<T, serde_json::Error>> {
        loop {
            let rest = self.pending.unread();
            let end = rest.iter().position(|&b| b == b'\n')?;
            let line = rest[..end].trim_ascii();
            let value = (!line.is_empty()).then(|| serde_json::from_slice(line));
            self.pending.consume(end + 1);
            if value.is_some() {
                return value;
            }
        }
    }

    /// Call at the end of the stream: the last value if it had no newline.
    pub fn finish(&mut self) -> Option<Result<T, serde_json::Error>> {
        let rest = self.pending.unread();
        let line = rest.trim_ascii();
        let value = (!line.is_empty()).then(|| serde_json::from_slice(line));
        self.pending.consume(rest.len());
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lines_across_any_cut() {
        let bytes = b"{\"a\":1}\r\n\n{\"a\":2}\n{\"a\":3}";
        for cut in 0..=bytes.len() {
            let mut dec = JsonLines::<serde_json::Value>::new();
            let mut got = Vec::new();
            for part in [&bytes[..cut], &bytes[cut..]] {
                dec.push(part);
                while let Some(v) = dec.next_value() {
                    got.push(v.unwrap()["a"].as_i64().unwrap());
                }
            }
            if let Some(v) = dec.finish() {
                got.push(v.unwrap()["a"].as_i64().unwrap());
            }
            assert_eq!(got, [1, 2, 3], "cut at {cut}");
        }
    }

    #[test]
    fn a_bad_line_does_not_stop_the_stream() {
        let mut dec = JsonLines::<serde_json::Value>::new();
        dec.push(b"not json\n{\"ok\":true}\n");
        assert!(dec.next_value().unwrap().is_err());
        assert_eq!(dec.next_value().unwrap().unwrap()["ok"], true);
        assert!(dec.next_value().is_none());
    }
}
