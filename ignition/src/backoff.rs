//! The one backoff of the crate: a delay doubled per attempt up to a cap, and jitter to
//! spread out retries that would otherwise fire together.
//!
//! Used by the task monitor (polls that fail) and the Kafka job queue (re-queues the
//! broker refused, consumer errors, jobs no handler here can run).

use std::time::Duration;

/// `base` doubled per attempt (from the first: attempt 1 waits `base`), capped at `cap`.
/// Attempt 0 counts as the first.
pub(crate) fn backoff(base: Duration, attempt: u32, cap: Duration) -> Duration {
    base.saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1).min(16)))
        .min(cap)
}

/// `delay` plus a random extra of up to `fraction` of it (`0.1`: up to 10 % more).
pub(crate) fn jitter(delay: Duration, fraction: f64) -> Duration {
    delay + delay.mul_f64(fastrand::f64() * fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let got: Vec<u64> = (1..=6)
            .map(|a| backoff(Duration::from_secs(1), a, Duration::from_secs(10)).as_secs())
            .collect();
        assert_eq!(got, [1, 2, 4, 8, 10, 10]);
    }

    #[test]
    fn backoff_does_not_overflow_on_many_attempts() {
        let cap = Duration::from_secs(10);
        assert_eq!(backoff(Duration::from_secs(1), u32::MAX, cap), cap);
        assert_eq!(backoff(Duration::MAX, 3, cap), cap);
        assert_eq!(
            backoff(Duration::from_secs(1), 0, cap),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn jitter_adds_at_most_the_fraction() {
        let delay = Duration::from_secs(1);
        for _ in 0..1000 {
            let jittered = jitter(delay, 0.1);
            assert!(
                jittered >= delay && jittered <= Duration::from_millis(1100),
                "{jittered:?}"
            );
        }
        assert_eq!(jitter(delay, 0.0), delay);
    }
}
