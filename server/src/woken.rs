//! Polling a stream only when it has something to say.
//!
//! A connection's task wakes for two reasons: the phone sent something, or the room put a
//! frame in its outbox. The second is by far the more common (one card reaches fifty phones),
//! and `select!` polls every branch on every wake. Polling the WebSocket's read side costs
//! real work even when nothing has arrived: tungstenite zero-fills its read buffer before each
//! read attempt, and the waker is registered anew at every layer. [`Woken`] remembers whether
//! the stream's own waker fired since it last said `Pending`, and answers `Pending` at once
//! when it did not.
//!
//! It relies on what every `Stream` promises: after `Pending`, the waker of that poll is woken
//! when there may be more. tokio-tungstenite keeps that waker in its read proxy, and its
//! writes never read; worth checking again when tokio-tungstenite or tungstenite is upgraded.

use futures_util::task::AtomicWaker;
use futures_util::{Stream, StreamExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

/// Set by the stream's waker, cleared when the stream says `Pending`.
struct Flag {
    woken: AtomicBool,
    task: AtomicWaker,
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.task.wake();
    }
}

/// Remembers whether a stream may have something: it has not said `Pending` yet, it gave an
/// item (and may hold more), or its waker fired since.
pub struct Woken {
    flag: Arc<Flag>,
    waker: Waker,
}

impl Default for Woken {
    fn default() -> Self {
        let flag = Arc::new(Flag {
            woken: AtomicBool::new(true),
            task: AtomicWaker::new(),
        });
        Self {
            waker: Waker::from(flag.clone()),
            flag,
        }
    }
}

impl Woken {
    /// Polls `stream` if it may have something, else only arranges for this task to be woken
    /// when it does. Always the same stream: the flag is about one stream's waker.
    pub fn poll_next<S: Stream + Unpin>(
        &mut self,
        stream: &mut S,
        cx: &mut Context<'_>,
    ) -> Poll<Option<S::Item>> {
        self.flag.task.register(cx.waker());
        if !self.flag.woken.swap(false, Ordering::AcqRel) {
            return Poll::Pending;
        }
        match stream.poll_next_unpin(&mut Context::from_waker(&self.waker)) {
            Poll::Ready(item) => {
                // It may hold more than it gave (two frames in one read): ask again next time.
                self.flag.woken.store(true, Ordering::Release);
                Poll::Ready(item)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::future::poll_fn;
    use std::pin::Pin;
    use std::sync::Mutex;

    /// A stream whose items are pushed from outside, counting how often it is polled.
    #[derive(Default)]
    struct Pushed {
        items: VecDeque<u32>,
        waker: Option<Waker>,
        polls: usize,
    }

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Pushed>>);

    impl Shared {
        fn push(&self, items: &[u32]) {
            let mut s = self.0.lock().unwrap();
            s.items.extend(items);
            if let Some(w) = s.waker.take() {
                w.wake();
            }
        }
        fn polls(&self) -> usize {
            self.0.lock().unwrap().polls
        }
    }

    impl Stream for Shared {
        type Item = u32;
        fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<u32>> {
            let mut s = self.0.lock().unwrap();
            s.polls += 1;
            match s.items.pop_front() {
                Some(i) => Poll::Ready(Some(i)),
                None => {
                    s.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        }
    }

    /// A task waker that counts its wakes.
    #[derive(Default)]
    struct Count(Mutex<usize>);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            *self.0.lock().unwrap() += 1;
        }
    }

    #[test]
    fn a_stream_is_polled_again_only_after_its_waker_fires() {
        let mut stream = Shared::default();
        let probe = stream.clone();
        let mut woken = Woken::default();
        let count = Arc::new(Count::default());
        let task = Waker::from(count.clone());
        let mut cx = Context::from_waker(&task);

        assert!(woken.poll_next(&mut stream, &mut cx).is_pending());
        assert_eq!(probe.polls(), 1);
        // Woken for something else (the outbox): the stream is left alone.
        for _ in 0..5 {
            assert!(woken.poll_next(&mut stream, &mut cx).is_pending());
        }
        assert_eq!(probe.polls(), 1);

        // Two items at once: the task is woken, and both come out before it waits again.
        probe.push(&[7, 8]);
        assert_eq!(*count.0.lock().unwrap(), 1);
        assert_eq!(woken.poll_next(&mut stream, &mut cx), Poll::Ready(Some(7)));
        assert_eq!(woken.poll_next(&mut stream, &mut cx), Poll::Ready(Some(8)));
        assert!(woken.poll_next(&mut stream, &mut cx).is_pending());
        assert_eq!(probe.polls(), 4);
        assert!(woken.poll_next(&mut stream, &mut cx).is_pending());
        assert_eq!(probe.polls(), 4);
    }

    #[tokio::test]
    async fn an_item_pushed_from_another_task_arrives() {
        let mut stream = Shared::default();
        let probe = stream.clone();
        let mut woken = Woken::default();
        let pusher = tokio::spawn(async move {
            tokio::task::yield_now().await;
            probe.push(&[1]);
        });
        let got = poll_fn(|cx| woken.poll_next(&mut stream, cx)).await;
        assert_eq!(got, Some(1));
        pusher.await.unwrap();
    }
}
