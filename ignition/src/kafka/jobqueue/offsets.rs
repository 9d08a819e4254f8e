//! Offset bookkeeping: which consumed jobs are still outstanding on each partition of
//! the current assignment, where the group may safely resume, and the latest link seen
//! of each job chain.
//!
//! Plain data with no Kafka client in it, so the rules that make delivery at-least-once
//! (commit only up to the oldest unfinished job; forget a partition when it is revoked)
//! are unit-tested on their own.

use std::collections::{BTreeSet, HashMap};

use tokio_util::sync::CancellationToken;

/// Which consumed jobs are still outstanding, per partition of the current assignment.
#[derive(Default)]
pub(super) struct Offsets {
    partitions: HashMap<i32, PartitionOffsets>,
}

struct PartitionOffsets {
    /// Consumed, not finished.
    outstanding: BTreeSet<i64>,
    /// One past the highest offset consumed (None before the first message).
    next: Option<i64>,
    /// The last position committed.
    committed: Option<i64>,
    /// Cancelled when the partition is revoked: its waiting jobs stop.
    generation: CancellationToken,
    /// The latest link seen of each unfinished job chain.
    chains: HashMap<String, u64>,
}

impl PartitionOffsets {
    fn new() -> Self {
        Self {
            outstanding: BTreeSet::new(),
            next: None,
            committed: None,
            generation: CancellationToken::new(),
            chains: HashMap::new(),
        }
    }

    /// Where the group may resume: the oldest outstanding job, or past the last one seen.
    fn position(&self) -> Option<i64> {
        self.outstanding.first().copied().or(self.next)
    }
}

impl Offsets {
    /// Starts tracking newly assigned partitions (kept as they are if already tracked).
    pub(super) fn assign(&mut self, partitions: &[i32]) {
        for partition in partitions {
            self.partitions
                .entry(*partition)
                .or_insert_with(PartitionOffsets::new);
        }
    }

    /// Forgets revoked partitions (their waiting jobs stop); returns their positions.
    pub(super) fn revoke(&mut self, partitions: &[i32]) -> Vec<(i32, i64)> {
        let mut positions = Vec::new();
        for partition in partitions {
            if let Some(state) = self.partitions.remove(partition) {
                state.generation.cancel();
                if let Some(position) = state.position().filter(|p| Some(*p) != state.committed) {
                    positions.push((*partition, position));
                }
            }
        }
        positions
    }

    /// Records a consumed message; returns the token cancelled when its partition is
    /// revoked.
    pub(super) fn received(&mut self, partition: i32, offset: i64) -> CancellationToken {
        let state = self
            .partitions
            .entry(partition)
            .or_insert_with(PartitionOffsets::new);
        state.outstanding.insert(offset);
        state.next = Some(state.next.map_or(offset + 1, |next| next.max(offset + 1)));
        state.generation.clone()
    }

    /// Whether link `seq` of `chain` is the latest seen on `partition` (recording it as
    /// the latest when `observe`).
    pub(super) fn current(&mut self, partition: i32, chain: &str, seq: u64, observe: bool) -> bool {
        let Some(state) = self.partitions.get_mut(&partition) else {
            return true;
        };
        match state.chains.get_mut(chain) {
            Some(latest) if *latest > seq => false,
            Some(latest) => {
                if observe {
                    *latest = seq;
                }
                true
            }
            None => {
                if observe {
                    state.chains.insert(chain.to_string(), seq);
                }
                true
            }
        }
    }

    /// Forgets a finished chain.
    pub(super) fn chain_done(&mut self, partition: i32, chain: &str) {
        if let Some(state) = self.partitions.get_mut(&partition) {
            state.chains.remove(chain);
        }
    }

    /// Marks a consumed message finished (unless its partition was revoked meanwhile).
    pub(super) fn done(&mut self, partition: i32, offset: i64, generation: &CancellationToken) {
        if let Some(state) = self.partitions.get_mut(&partition) {
            // A job of an earlier assignment of this partition no longer counts.
            if !generation.is_cancelled() {
                state.outstanding.remove(&offset);
            }
        }
    }

    /// Positions that moved since the last commit (and are taken as committed).
    pub(super) fn positions_to_commit(&mut self) -> Vec<(i32, i64)> {
        let mut positions = Vec::new();
        for (partition, state) in &mut self.partitions {
            if let Some(position) = state.position() {
                if state.committed != Some(position) {
                    state.committed = Some(position);
                    positions.push((*partition, position));
                }
            }
        }
        positions
    }

    /// Consumed jobs not yet finished, over every partition.
    pub(super) fn outstanding(&self) -> usize {
        self.partitions.values().map(|p| p.outstanding.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commit_position_waits_for_the_oldest_outstanding_job() {
        let mut offsets = Offsets::default();
        offsets.assign(&[0]);
        let g = offsets.received(0, 10);
        offsets.received(0, 11);
        offsets.received(0, 12);
        assert_eq!(offsets.positions_to_commit(), vec![(0, 10)]);
        offsets.done(0, 11, &g);
        offsets.done(0, 12, &g);
        assert_eq!(
            offsets.positions_to_commit(),
            vec![],
            "10 still outstanding: nothing moves"
        );
        offsets.done(0, 10, &g);
        assert_eq!(offsets.positions_to_commit(), vec![(0, 13)]);
        assert_eq!(offsets.positions_to_commit(), vec![], "committed once");
    }

    #[test]
    fn revoking_stops_waiting_jobs_and_hands_over_the_position() {
        let mut offsets = Offsets::default();
        offsets.assign(&[0, 1]);
        let g0 = offsets.received(0, 5);
        offsets.received(0, 6);
        offsets.done(0, 5, &g0);
        let revoked = offsets.revoke(&[0]);
        assert_eq!(revoked, vec![(0, 6)]);
        assert!(g0.is_cancelled());
        // a late finish of a revoked job changes nothing
        offsets.done(0, 6, &g0);
        assert_eq!(offsets.outstanding(), 0);
        // a new assignment starts afresh
        offsets.assign(&[0]);
        let g1 = offsets.received(0, 6);
        assert!(!g1.is_cancelled());
        assert_eq!(offsets.outstanding(), 1);
    }

    #[test]
    fn an_older_link_of_a_chain_is_stale_once_a_later_one_was_seen() {
        let mut offsets = Offsets::default();
        offsets.assign(&[0]);
        assert!(offsets.current(0, "c", 4, true), "first sight");
        assert!(offsets.current(0, "c", 5, true), "the next link");
        assert!(!offsets.current(0, "c", 4, false), "replayed older link");
        assert!(
            offsets.current(0, "d", 0, true),
            "other chains are independent"
        );
        offsets.chain_done(0, "c");
        assert!(
            offsets.current(0, "c", 1, false),
            "a finished chain is forgotten"
        );
        offsets.revoke(&[0]);
        offsets.assign(&[0]);
        assert!(
            offsets.current(0, "d", 0, false),
            "a new assignment starts afresh"
        );
    }
}
