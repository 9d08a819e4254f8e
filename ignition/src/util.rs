//! Small helpers every layer uses, written once.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch (0 for a clock before 1970): the time stamps that
/// travel in jobs and spool records, so that they mean the same on every replica.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// [`within`]'s future did not finish within its limit (it was dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimedOut;

/// `future`'s output if it finishes within `limit` of now, else [`TimedOut`] (and the
/// future is dropped, so cancelled): `tokio::time::timeout`, with the timer armed only
/// when the future does not finish at its first poll. A timer costs a runtime-handle
/// lookup and the timer wheel's lock, on every request; most driver calls that finish at
/// once (a cached answer, a refusal) never need one.
pub(crate) fn within<F: Future>(limit: Duration, future: F) -> Within<F> {
    Within {
        future,
        // Too far to count: no limit (as `tokio::time::timeout` saturates).
        deadline: tokio::time::Instant::now().checked_add(limit),
        timer: None,
    }
}

pin_project_lite::pin_project! {
    /// The future of [`within`].
    pub(crate) struct Within<F> {
        #[pin]
        future: F,
        deadline: Option<tokio::time::Instant>,
        #[pin]
        timer: Option<tokio::time::Sleep>,
    }
}

impl<F: Future> Future for Within<F> {
    type Output = Result<F::Output, TimedOut>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        let Some(deadline) = *this.deadline else {
            return Poll::Pending;
        };
        if this.timer.is_none() {
            this.timer.set(Some(tokio::time::sleep_until(deadline)));
        }
        match this.timer.as_pin_mut().map(|timer| timer.poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(Err(TimedOut)),
            _ => Poll::Pending,
        }
    }
}

/// A random (version 4) UUID, lower-case and hyphenated: a test's resource id (the
/// request path writes its transaction ids with [`random_uuid_in`]).
#[cfg(any(test, feature = "testing"))]
pub(crate) fn random_uuid() -> String {
    random_uuid_in(&mut [0; uuid::fmt::Hyphenated::LENGTH]).to_string()
}

/// A random (version 4) UUID, lower-case and hyphenated, written into `buffer` (no
/// allocation): a generated transaction id. Its bits come from `fastrand` (no system
/// call per id: a request without a transaction id gets one).
pub(crate) fn random_uuid_in(buffer: &mut [u8; uuid::fmt::Hyphenated::LENGTH]) -> &str {
    let bytes = fastrand::u128(..).to_le_bytes();
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .encode_lower(buffer)
}

/// The message of a panic's payload (`panic!("...")` gives a `&str` or a `String`).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

/// Locks that ignore poisoning: the one policy of this crate. A panic while a lock was
/// held is caught and logged where it happens (a job handler, a request); the data
/// behind these locks (counters, maps of pending work) stays consistent at every
/// statement, so the next user carries on rather than panicking in turn.
#[cfg_attr(not(any(feature = "kafka", feature = "testing")), allow(dead_code))]
pub(crate) trait Locked<T: ?Sized> {
    /// The guard, poisoned or not.
    fn locked(&self) -> MutexGuard<'_, T>;
}

impl<T: ?Sized> Locked<T> for Mutex<T> {
    fn locked(&self) -> MutexGuard<'_, T> {
        self.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// [`Locked`] for read-write locks.
pub(crate) trait RwLocked<T: ?Sized> {
    /// A read guard, poisoned or not.
    fn read_locked(&self) -> RwLockReadGuard<'_, T>;
    /// A write guard, poisoned or not.
    fn write_locked(&self) -> RwLockWriteGuard<'_, T>;
}

impl<T: ?Sized> RwLocked<T> for RwLock<T> {
    fn read_locked(&self) -> RwLockReadGuard<'_, T> {
        self.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write_locked(&self) -> RwLockWriteGuard<'_, T> {
        self.write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn within_answers_at_once_in_time_and_times_out_past_its_limit() {
        let limit = Duration::from_secs(5);
        assert_eq!(within(limit, async { 1 }).await, Ok(1));
        let late = async {
            tokio::time::sleep(Duration::from_secs(4)).await;
            2
        };
        assert_eq!(within(limit, late).await, Ok(2));
        let started = tokio::time::Instant::now();
        let never = std::future::pending::<()>();
        assert_eq!(within(limit, never).await, Err(TimedOut));
        assert_eq!(started.elapsed(), limit);
        assert_eq!(within(Duration::MAX, async { 3 }).await, Ok(3));
    }

    #[test]
    fn a_panic_message_is_read_from_either_payload() {
        let text = std::panic::catch_unwind(|| panic!("plain")).unwrap_err();
        assert_eq!(panic_message(text.as_ref()), "plain");
        let formatted = std::panic::catch_unwind(|| panic!("n = {}", 5)).unwrap_err();
        assert_eq!(panic_message(formatted.as_ref()), "n = 5");
        let other = std::panic::catch_unwind(|| std::panic::panic_any(7_u8)).unwrap_err();
        assert_eq!(panic_message(other.as_ref()), "(no message)");
    }

    #[test]
    fn a_poisoned_lock_is_still_usable() {
        let lock = std::sync::Arc::new(Mutex::new(1));
        let held = lock.clone();
        let _ = std::thread::spawn(move || {
            let _guard = held.lock().unwrap();
            panic!("poison it");
        })
        .join();
        assert!(lock.is_poisoned());
        *lock.locked() += 1;
        assert_eq!(*lock.locked(), 2);
    }

    #[test]
    fn a_random_uuid_is_a_version_4_uuid() {
        let id = random_uuid();
        let parsed = uuid::Uuid::parse_str(&id).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        assert_eq!(id, parsed.hyphenated().to_string());
        assert_ne!(id, random_uuid());
    }

    #[test]
    fn now_is_after_2020() {
        assert!(now_ms() > 1_577_836_800_000);
    }
}
