//! Incremental decoder for the engine's multiplexed stdout/stderr stream
//! (`application/vnd.docker.multiplexed-stream`, and `raw-stream` bodies of
//! containers without a TTY before API 1.42).
//!
//! Each frame is an 8-byte header `[stream, 0, 0, 0, len as u32 big-endian]`
//! followed by `len` bytes of payload.

use crate::buffer::Pending;

const HEADER: usize = 8;

/// Which of the process's streams a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamKind {
    Stdin,
    Stdout,
    Stderr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub stream: StreamKind,
    pub payload: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MuxError {
    #[error("not a multiplexed stream: bad frame header {0:02x?}")]
    BadHeader([u8; HEADER]),
    #[error("the stream ended inside a frame ({0} bytes left over)")]
    Truncated(usize),
}

impl StreamKind {
    fn byte(self) -> u8 {
        match self {
            StreamKind::Stdin => 0,
            StreamKind::Stdout => 1,
            StreamKind::Stderr => 2,
        }
    }
}

/// One frame as the engine writes it (the relay's side, when it hands on
/// a stream it reframed).
pub fn encode(stream: StreamKind, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.extend_from_slice(&[stream.byte(), 0, 0, 0]);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// Feed it bytes as they arrive with [`MuxDecoder::push`], then take whole
/// frames with [`MuxDecoder::next_frame`] until it returns `None`.
#[derive(Debug, Default)]
pub struct MuxDecoder {
    pending: Pending,
    failed: bool,
}

impl MuxDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, chunk: &[u8]) {
        self.pending.push(chunk);
    }

    /// The next whole frame, `None` when more bytes are needed. After an
    /// error the decoder stays failed: the rest of the stream is not framed.
    pub fn next_frame(&mut self) -> Option<Result<Frame, MuxError>> {
        if self.failed {
            return None;
        }
        let rest = self.pending.unread();
        if rest.len() < HEADER {
            return None;
        }
        let header: [u8; HEADER] = rest[..HEADER].try_into().expect("8 bytes");
        let stream = match (header[0], header[1..4] == [0, 0, 0]) {
            (0, true) => StreamKind::Stdin,
            (1, true) => StreamKind::Stdout,
            (2, true) => StreamKind::Stderr,
            _ => {
                self.failed = true;
                return Some(Err(MuxError::BadHeader(header)));
            }
        };
        let len = u32::from_be_bytes(header[4..].try_into().expect("4 bytes")) as usize;
        if rest.len() < HEADER + len {
            return None;
        }
        let payload = rest[HEADER..HEADER + len].to_vec();
        self.pending.consume(HEADER + len);
        Some(Ok(Frame { stream, payload }))
    }

    /// Call at the end of the stream: an error if it stopped inside a frame.
    pub fn finish(&self) -> Result<(), MuxError> {
        match self.pending.unread().len() {
            0 => Ok(()),
            left => Err(MuxError::Truncated(left)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(stream: u8, payload: &[u8]) -> Vec<u8> {
        let kind = [StreamKind::Stdin, StreamKind::Stdout, StreamKind::Stderr][stream as usize];
        encode(kind, payload)
    }

    #[test]
    fn decodes_frames_across_any_split() {
        let mut bytes = frame(1, b"out\n");
        bytes.extend(frame(2, b"err\n"));
        bytes.extend(frame(1, b""));
        for cut in 0..=bytes.len() {
            let mut dec = MuxDecoder::new();
            let mut frames = Vec::new();
            for part in [&bytes[..cut], &bytes[cut..]] {
                dec.push(part);
                while let Some(f) = dec.next_frame() {
                    frames.push(f.unwrap());
                }
            }
            dec.finish().unwrap();
            assert_eq!(frames.len(), 3, "cut at {cut}");
            assert_eq!(frames[0].stream, StreamKind::Stdout);
            assert_eq!(frames[1].payload, b"err\n");
            assert_eq!(frames[2].payload, b"");
        }
    }

    #[test]
    fn rejects_a_raw_stream() {
        let mut dec = MuxDecoder::new();
        dec.push(b"hello, world\n");
        assert!(matches!(
            dec.next_frame(),
            Some(Err(MuxError::BadHeader(_)))
        ));
        assert_eq!(dec.next_frame(), None);
    }

    #[test]
    fn reports_truncation() {
        let mut dec = MuxDecoder::new();
        dec.push(&frame(1, b"abcdef")[..10]);
        assert_eq!(dec.next_frame(), None);
        assert_eq!(dec.finish(), Err(MuxError::Truncated(10)));
    }
}
