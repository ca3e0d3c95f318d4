//! Several engine streams over one response: the relay's `/_berth/fanin`.
//!
//! A browser keeps at most six HTTP/1.1 connections to one host, so a page
//! with a stream per container (merged logs, stats for every row) would
//! starve itself. The relay opens the engine streams and interleaves their
//! bytes as frames: `[kind, source, len as u32 big-endian]` then `len`
//! bytes. `source` is the stream's index in the request; `kind` is
//! [`DATA`] (bytes of that stream, unchanged), [`END`] (it ended) or
//! [`ERROR`] (it failed; the payload says why, in words).

use crate::buffer::Pending;

pub const DATA: u8 = 0;
pub const END: u8 = 1;
pub const ERROR: u8 = 2;
/// The most streams one fan-in may carry.
pub const MAX_SOURCES: usize = 64;
const HEADER: usize = 6;

/// One frame of a fan-in response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fanned {
    Data { source: u8, bytes: Vec<u8> },
    End { source: u8 },
    Error { source: u8, message: String },
}

/// Encodes one frame (the relay's side).
pub fn frame(kind: u8, source: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.push(kind);
    out.push(source);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// Decodes frames from bytes split anyhow (the console's side).
#[derive(Debug, Default)]
pub struct FaninDecoder {
    pending: Pending,
}

impl FaninDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, chunk: &[u8]) {
        self.pending.push(chunk);
    }

    /// The next whole frame, `None` when more bytes are needed. Unknown
    /// kinds are skipped.
    pub fn next_frame(&mut self) -> Option<Fanned> {
        loop {
            let rest = self.pending.unread();
            if rest.len() < HEADER {
                return None;
            }
            let (kind, source) = (rest[0], rest[1]);
            let len = u32::from_be_bytes(rest[2..HEADER].try_into().expect("4 bytes")) as usize;
            if rest.len() < HEADER + len {
                return None;
            }
            let payload = &rest[HEADER..HEADER + len];
            let item = match kind {
                DATA => Some(Fanned::Data {
                    source,
                    bytes: payload.to_vec(),
                }),
                END => Some(Fanned::End { source }),
                ERROR => Some(Fanned::Error {
                    source,
                    message: String::from_utf8_lossy(payload).into_owned(),
                }),
                _ => None,
            };
            self.pending.consume(HEADER + len);
            if item.is_some() {
                return item;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_at_every_split() {
        let mut wire = frame(DATA, 0, b"hello");
        wire.extend(frame(DATA, 3, b""));
        wire.extend(frame(9, 1, b"ignored"));
        wire.extend(frame(ERROR, 1, "no such container: x".as_bytes()));
        wire.extend(frame(END, 0, b""));
        let want = vec![
            Fanned::Data {
                source: 0,
                bytes: b"hello".to_vec(),
            },
            Fanned::Data {
                source: 3,
                bytes: vec![],
            },
            Fanned::Error {
                source: 1,
                message: "no such container: x".into(),
            },
            Fanned::End { source: 0 },
        ];
        for split in 0..=wire.len() {
            let mut d = FaninDecoder::new();
            let mut got = vec![];
            for part in [&wire[..split], &wire[split..]] {
                d.push(part);
                while let Some(f) = d.next_frame() {
                    got.push(f);
                }
            }
            assert_eq!(got, want, "split at {split}");
        }
    }
}
