//! The byte buffer both stream decoders keep between chunks.

/// Bytes received but not yet decoded. Consumed bytes are dropped lazily,
/// before growing, so a long stream keeps about one partial item buffered.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    buf: Vec<u8>,
    start: usize,
}

impl Pending {
    pub(crate) fn push(&mut self, chunk: &[u8]) {
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(chunk);
    }

    /// What has not been consumed yet.
    pub(crate) fn unread(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    pub(crate) fn consume(&mut self, n: usize) {
        self.start += n;
    }
}
