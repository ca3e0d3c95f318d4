//! Streamed answers written in fewer, larger pieces.
//!
//! The engine sends a followed or read log as one HTTP chunk per line
//! (about 85 bytes each). Passed on one by one, every line costs the relay a
//! chunk of its own and the client a chunk to parse: berth read a long log
//! at half the engine's speed. [`Coalesce`] joins whatever the engine has
//! already sent into one piece, up to [`MAX`], and never waits for more: a
//! lone line goes out the moment it arrives.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Bytes;
use hyper::body::{Body, Frame, SizeHint};

/// The most one piece holds.
pub const MAX: usize = 64 * 1024;

/// Pieces joined into one: the first is kept as it is until a second comes.
#[derive(Default)]
pub struct Joined {
    first: Option<Bytes>,
    more: Vec<u8>,
}

impl Joined {
    pub fn len(&self) -> usize {
        self.first.as_ref().map_or(0, Bytes::len) + self.more.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn push(&mut self, data: Bytes) {
        if data.is_empty() {
            return;
        }
        match self.first.take() {
            None if self.more.is_empty() => self.first = Some(data),
            first => {
                if self.more.capacity() == 0 {
                    self.more.reserve(MAX + data.len());
                }
                if let Some(first) = first {
                    self.more.extend_from_slice(&first);
                }
                self.more.extend_from_slice(&data);
            }
        }
    }

    /// What was joined, leaving it empty.
    pub fn take(&mut self) -> Bytes {
        match self.first.take() {
            Some(first) => first,
            None => Bytes::from(std::mem::take(&mut self.more)),
        }
    }
}

/// A body that passes on its data joined as described above; anything but
/// data (trailers, an error) comes after the data before it.
pub struct Coalesce<B: Body> {
    inner: B,
    joined: Joined,
    /// What came after joined data and waits for it to go first.
    held: Option<Option<Result<Frame<Bytes>, B::Error>>>,
    /// A held error waited one turn already (see `poll_frame`).
    flushed: bool,
}

impl<B: Body> Coalesce<B> {
    pub fn new(inner: B) -> Self {
        Coalesce {
            inner,
            joined: Joined::default(),
            held: None,
            flushed: false,
        }
    }
}

impl<B> Body for Coalesce<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.get_mut();
        if let Some(held) = this.held.take() {
            // An error ends the client's connection at once; the server
            // writes out what it has only when the body has nothing ready,
            // so the data before the error gets that turn first.
            if matches!(held, Some(Err(_))) && !this.flushed {
                this.flushed = true;
                this.held = Some(held);
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            return Poll::Ready(held);
        }
        loop {
            let next = match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending if this.joined.is_empty() => return Poll::Pending,
                Poll::Pending => return Poll::Ready(Some(Ok(Frame::data(this.joined.take())))),
                Poll::Ready(next) => next,
            };
            match next {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => {
                        this.joined.push(data);
                        if this.joined.len() >= MAX {
                            return Poll::Ready(Some(Ok(Frame::data(this.joined.take()))));
                        }
                    }
                    Err(other) => return this.after_joined(Some(Ok(other))),
                },
                other => return this.after_joined(other),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.joined.is_empty() && self.held.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B: Body<Data = Bytes>> Coalesce<B> {
    /// `next` goes out now if nothing is joined, else after what is.
    fn after_joined(
        &mut self,
        next: Option<Result<Frame<Bytes>, B::Error>>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        if self.joined.is_empty() {
            return Poll::Ready(next);
        }
        self.held = Some(next);
        Poll::Ready(Some(Ok(Frame::data(self.joined.take()))))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::convert::Infallible;

    use http_body_util::BodyExt;

    use super::*;

    /// Frames handed out as a test says: `None` is "nothing yet".
    struct Script(VecDeque<Option<Frame<Bytes>>>);

    impl Body for Script {
        type Data = Bytes;
        type Error = Infallible;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            match self.0.pop_front() {
                Some(Some(f)) => Poll::Ready(Some(Ok(f))),
                Some(None) => {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
                None => Poll::Ready(None),
            }
        }
    }

    fn data(s: &str) -> Option<Frame<Bytes>> {
        Some(Frame::data(Bytes::from(s.to_owned())))
    }

    async fn pieces(script: Vec<Option<Frame<Bytes>>>) -> Vec<String> {
        let mut body = Coalesce::new(Script(script.into()));
        let mut out = vec![];
        while let Some(frame) = body.frame().await {
            let frame = frame.unwrap();
            out.push(match frame.into_data() {
                Ok(d) => String::from_utf8(d.to_vec()).unwrap(),
                Err(f) => format!("trailers:{}", f.is_trailers()),
            });
        }
        out
    }

    #[tokio::test]
    async fn what_is_ready_goes_as_one_and_nothing_waits() {
        assert_eq!(
            pieces(vec![data("a\n"), data("b\n"), None, data("c\n"), None]).await,
            vec!["a\nb\n", "c\n"]
        );
        // Trailers come after the data before them.
        let trailers = Some(Frame::trailers(Default::default()));
        assert_eq!(
            pieces(vec![data("a"), data("b"), trailers]).await,
            vec!["ab", "trailers:true"]
        );
        assert!(pieces(vec![]).await.is_empty());
    }

    #[tokio::test]
    async fn pieces_stop_growing_at_the_limit() {
        let line = "x".repeat(1000);
        let script = (0..200).map(|_| data(&line)).collect();
        let got = pieces(script).await;
        assert!(got.iter().all(|p| p.len() <= MAX + 1000));
        assert_eq!(got.concat().len(), 200_000);
        assert!(got.len() <= 4, "{}", got.len());
    }
}
