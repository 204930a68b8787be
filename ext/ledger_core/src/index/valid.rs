//! The valid-time order of one key's facts, for bitemporal reads (see
//! doc/bitemporal.md): each fact's effective valid time (its `valid_time`,
//! else its transaction time) with its ordinal in the key's [`Timeline`],
//! sorted by (valid time, ordinal). "Valid at V" is then a binary search;
//! an `as_of` bound walks back from there over the facts recorded later.

use crate::index::Timeline;

/// (effective valid time, ordinal in append order), sorted by both.
#[derive(Debug, Clone, Default)]
pub struct ValidOrder {
    entries: Vec<(f64, u32)>,
}

impl ValidOrder {
    /// Adds the key's next fact (ordinal = the number added before it).
    /// Appends in valid-time order cost a push; an earlier valid time (a
    /// back-dated correction) is inserted after every entry it does not
    /// precede, so equal valid times stay in append order.
    pub fn push(&mut self, valid_time: f64) {
        let ordinal = self.entries.len() as u32;
        if self.entries.last().is_none_or(|(vt, _)| *vt <= valid_time) {
            self.entries.push((valid_time, ordinal));
        } else {
            let at = self.entries.partition_point(|(vt, _)| *vt <= valid_time);
            self.entries.insert(at, (valid_time, ordinal));
        }
    }

    /// The number of entries with valid time <= `valid_at`.
    fn upto(&self, valid_at: f64) -> usize {
        self.entries.partition_point(|(vt, _)| *vt <= valid_at)
    }

    /// The index (into the entries) of the fact that answers "valid at
    /// `valid_at`, as known at `as_of`": the greatest valid time <= `valid_at`
    /// among facts with transaction time <= `as_of`, the last appended of those.
    fn winner_at(&self, timeline: &Timeline, as_of: Option<f64>, valid_at: f64) -> Option<usize> {
        let hi = self.upto(valid_at);
        (0..hi)
            .rev()
            .find(|i| known(timeline, self.entries[*i].1, as_of))
    }

    /// The position (in the log) of the fact valid at `valid_at` as known at
    /// `as_of` (`None`: nothing was valid then, as far as was known).
    pub fn valid_at(&self, timeline: &Timeline, as_of: Option<f64>, valid_at: f64) -> Option<u32> {
        self.winner_at(timeline, as_of, valid_at)
            .map(|i| timeline.positions()[self.entries[i].1 as usize])
    }

    /// The positions of the facts in effect at some valid time within
    /// `valid_from ..= valid_to`, as known at `as_of`, in valid-time order:
    /// the fact valid at `valid_from`, then each fact starting later up to
    /// `valid_to`; of several facts with the same valid time only the last
    /// appended (the correction) is in effect.
    pub fn timeline(
        &self,
        timeline: &Timeline,
        as_of: Option<f64>,
        valid_from: Option<f64>,
        valid_to: Option<f64>,
    ) -> Vec<u32> {
        let hi = valid_to.map_or(self.entries.len(), |to| self.upto(to));
        let start = match valid_from {
            None => 0,
            Some(from) => match self.winner_at(timeline, as_of, from) {
                Some(i) => i,
                None => self.upto(from),
            },
        };
        let mut out: Vec<(f64, u32)> = Vec::new();
        for (vt, ordinal) in self.entries.get(start..hi).unwrap_or(&[]) {
            if !known(timeline, *ordinal, as_of) {
                continue;
            }
            match out.last_mut() {
                // Same valid time, appended later: the correction replaces it.
                Some(last) if last.0 == *vt => *last = (*vt, *ordinal),
                _ => out.push((*vt, *ordinal)),
            }
        }
        out.into_iter()
            .map(|(_, ordinal)| timeline.positions()[ordinal as usize])
            .collect()
    }
}

fn known(timeline: &Timeline, ordinal: u32, as_of: Option<f64>) -> bool {
    as_of.is_none_or(|a| timeline.time_at(ordinal as usize) <= a)
}

#[cfg(test)]
mod tests {
    use super::ValidOrder;
    use crate::index::Timeline;

    /// (transaction time, valid time) per fact, positions 0, 10, 20...
    fn build(facts: &[(f64, f64)]) -> (Timeline, ValidOrder) {
        let (mut t, mut v) = (Timeline::default(), ValidOrder::default());
        for (i, (tt, vt)) in facts.iter().enumerate() {
            t.push(i as u32 * 10, *tt);
            v.push(*vt);
        }
        (t, v)
    }

    #[test]
    fn the_greatest_valid_time_at_or_before_wins() {
        let (t, v) = build(&[(1.0, 100.0), (2.0, 200.0), (3.0, 150.0)]);
        assert_eq!(v.valid_at(&t, None, 99.0), None);
        assert_eq!(v.valid_at(&t, None, 100.0), Some(0));
        assert_eq!(v.valid_at(&t, None, 160.0), Some(20));
        assert_eq!(v.valid_at(&t, None, 250.0), Some(10));
        // As known at tt 2.0, the back-dated fact 150 did not exist yet.
        assert_eq!(v.valid_at(&t, Some(2.0), 160.0), Some(0));
        assert_eq!(v.valid_at(&t, Some(0.5), 160.0), None);
    }

    #[test]
    fn a_correction_with_the_same_valid_time_replaces_the_earlier_fact() {
        let (t, v) = build(&[(1.0, 100.0), (2.0, 100.0)]);
        assert_eq!(v.valid_at(&t, None, 100.0), Some(10));
        assert_eq!(v.valid_at(&t, Some(1.5), 100.0), Some(0));
        assert_eq!(v.timeline(&t, None, None, None), vec![10]);
        assert_eq!(v.timeline(&t, Some(1.0), None, None), vec![0]);
    }

    #[test]
    fn the_timeline_starts_with_the_fact_valid_at_its_start() {
        let (t, v) = build(&[(1.0, 100.0), (2.0, 200.0), (3.0, 300.0), (4.0, 150.0)]);
        assert_eq!(
            v.timeline(&t, None, Some(120.0), Some(250.0)),
            vec![0, 30, 10]
        );
        assert_eq!(v.timeline(&t, None, Some(200.0), Some(200.0)), vec![10]);
        assert_eq!(
            v.timeline(&t, None, Some(50.0), Some(99.0)),
            Vec::<u32>::new()
        );
        assert_eq!(v.timeline(&t, None, Some(350.0), None), vec![20]);
        assert_eq!(v.timeline(&t, Some(2.0), None, None), vec![0, 10]);
    }

    #[test]
    fn minus_zero_and_zero_are_the_same_valid_time() {
        let (t, v) = build(&[(1.0, 0.0), (2.0, -0.0)]);
        assert_eq!(v.valid_at(&t, None, 0.0), Some(10));
        assert_eq!(v.timeline(&t, None, None, None), vec![10]);
    }

    /// The rules of doc/bitemporal.md as a scan, for comparison.
    fn scan_valid_at(facts: &[(f64, f64)], as_of: Option<f64>, valid_at: f64) -> Option<u32> {
        let mut best: Option<(f64, usize)> = None;
        for (i, (tt, vt)) in facts.iter().enumerate() {
            if as_of.is_some_and(|a| *tt > a) || *vt > valid_at {
                continue;
            }
            if best.is_none_or(|(b, _)| *vt >= b) {
                best = Some((*vt, i));
            }
        }
        best.map(|(_, i)| i as u32 * 10)
    }

    #[test]
    fn the_index_agrees_with_a_scan_on_random_logs() {
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) % n
        };
        for _ in 0..200 {
            let facts: Vec<(f64, f64)> = (0..next(12) + 1)
                .map(|_| (next(8) as f64, next(10) as f64))
                .collect();
            let (t, v) = build(&facts);
            for _ in 0..20 {
                let as_of = [None, Some(next(9) as f64 - 0.5)][next(2) as usize];
                let valid_at = next(12) as f64 - 1.0;
                assert_eq!(
                    v.valid_at(&t, as_of, valid_at),
                    scan_valid_at(&facts, as_of, valid_at),
                    "{facts:?} as_of {as_of:?} valid_at {valid_at}"
                );
            }
        }
    }
}
