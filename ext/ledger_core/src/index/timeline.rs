//! One ordered list of log positions with their transaction times: the facts
//! of one (store, key), or of one whole store, in append order.

use std::ops::Range;

/// Positions (into the log) in append order, with their transaction times.
/// While the times never decrease, `as_of` and `since` are binary searches;
/// after a clock step back (an append earlier than the last), they scan.
/// Times are finite; `-0.0` and `0.0` are equal, as Ruby compares Floats.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    positions: Vec<u32>,
    times: Vec<f64>,
    /// Whether the times never decrease (checked on append).
    stepped_back: bool,
}

impl Timeline {
    pub fn push(&mut self, pos: u32, tt: f64) {
        if self.times.last().is_some_and(|last| tt < *last) {
            self.stepped_back = true;
        }
        self.positions.push(pos);
        self.times.push(tt);
    }

    /// Every position, in append order.
    pub fn positions(&self) -> &[u32] {
        &self.positions
    }

    /// The transaction time of the entry at `i` (append order).
    pub fn time_at(&self, i: usize) -> f64 {
        self.times[i]
    }

    pub fn len(&self) -> usize {
        self.positions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// The index range (into [`Timeline::positions`]) of the entries with
    /// `since <= tt <= as_of`, found by binary search; `None` after a clock
    /// step back, when the entries in bounds need not be contiguous.
    pub fn window(&self, since: Option<f64>, as_of: Option<f64>) -> Option<Range<usize>> {
        if self.stepped_back {
            return None;
        }
        let lo = since.map_or(0, |s| self.times.partition_point(|t| *t < s));
        let hi = as_of.map_or(self.times.len(), |a| {
            self.times.partition_point(|t| *t <= a)
        });
        Some(lo..hi.max(lo))
    }

    /// The positions of the entries with `since <= tt <= as_of`, in append order.
    pub fn select(&self, since: Option<f64>, as_of: Option<f64>) -> Vec<u32> {
        match self.window(since, as_of) {
            Some(range) => self.positions[range].to_vec(),
            None => self
                .positions
                .iter()
                .zip(&self.times)
                .filter(|(_, t)| within(**t, since, as_of))
                .map(|(p, _)| *p)
                .collect(),
        }
    }

    /// The last appended entry with `tt <= as_of` (without a bound: the last one).
    pub fn latest(&self, as_of: Option<f64>) -> Option<u32> {
        let Some(as_of) = as_of else {
            return self.positions.last().copied();
        };
        match self.window(None, Some(as_of)) {
            Some(range) => range.end.checked_sub(1).map(|i| self.positions[i]),
            None => self
                .positions
                .iter()
                .zip(&self.times)
                .rev()
                .find(|(_, t)| **t <= as_of)
                .map(|(p, _)| *p),
        }
    }
}

fn within(t: f64, since: Option<f64>, as_of: Option<f64>) -> bool {
    since.is_none_or(|s| t >= s) && as_of.is_none_or(|a| t <= a)
}

#[cfg(test)]
mod tests {
    use super::Timeline;

    fn timeline(times: &[f64]) -> Timeline {
        let mut t = Timeline::default();
        for (i, tt) in times.iter().enumerate() {
            t.push(i as u32 * 10, *tt);
        }
        t
    }

    #[test]
    fn an_ordered_timeline_answers_bounds_by_binary_search() {
        let t = timeline(&[1.0, 2.0, 2.0, 3.0]);
        assert_eq!(t.window(Some(2.0), Some(2.0)), Some(1..3));
        assert_eq!(t.select(Some(2.0), None), vec![10, 20, 30]);
        assert_eq!(t.select(None, Some(0.5)), Vec::<u32>::new());
        assert_eq!(t.select(Some(3.5), Some(1.0)), Vec::<u32>::new());
        assert_eq!(t.latest(Some(2.5)), Some(20));
        assert_eq!(t.latest(Some(0.0)), None);
        assert_eq!(t.latest(None), Some(30));
    }

    #[test]
    fn a_clock_step_back_falls_back_to_a_scan_in_append_order() {
        let t = timeline(&[5.0, 1.0, 3.0, 2.0]);
        assert_eq!(t.window(None, None), None);
        assert_eq!(t.select(Some(2.0), Some(4.0)), vec![20, 30]);
        // The last *appended* fact at or before the bound, not the latest time.
        assert_eq!(t.latest(Some(3.5)), Some(30));
        assert_eq!(t.latest(Some(4.0)), Some(30));
        assert_eq!(t.latest(Some(9.0)), Some(30));
        assert_eq!(t.latest(Some(0.5)), None);
    }

    #[test]
    fn minus_zero_and_zero_are_the_same_time() {
        let t = timeline(&[0.0, -0.0, 0.0]);
        assert_eq!(t.window(None, None), Some(0..3));
        assert_eq!(t.select(Some(0.0), Some(-0.0)), vec![0, 10, 20]);
        assert_eq!(t.latest(Some(-0.0)), Some(20));
    }

    #[test]
    fn an_empty_timeline_has_nothing() {
        let t = Timeline::default();
        assert!(t.is_empty());
        assert_eq!(t.latest(None), None);
        assert_eq!(t.latest(Some(1.0)), None);
        assert_eq!(t.select(None, None), Vec::<u32>::new());
    }
}
