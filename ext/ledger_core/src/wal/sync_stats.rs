//! How long the WAL's fdatasync calls took (format.md has no part in it: this is the
//! `igniter_ledger_storage_fsync_duration_seconds` histogram of the server's `/metrics`).
//! The pure path keeps the same buckets in `lib/igniter/store/storage/sync_timing.rb`.

use std::time::Duration;

/// Upper bounds of the buckets, in seconds: from a tenth of a millisecond (a page-cache
/// backed device) to 2.5 s (a saturated disk); slower ones land in `+Inf`.
pub const BOUNDS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];

/// Counts per bucket (not cumulative; the last one is `+Inf`), their sum and count.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SyncStats {
    pub counts: [u64; BOUNDS.len() + 1],
    pub sum_seconds: f64,
    pub count: u64,
}

impl SyncStats {
    /// Records one fdatasync that took `took`.
    pub fn observe(&mut self, took: Duration) {
        let seconds = took.as_secs_f64();
        let bucket = BOUNDS
            .iter()
            .position(|&bound| seconds <= bound)
            .unwrap_or(BOUNDS.len());
        self.counts[bucket] += 1;
        self.sum_seconds += seconds;
        self.count += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_the_first_bucket_whose_bound_holds_them() {
        let mut stats = SyncStats::default();
        stats.observe(Duration::from_micros(100));
        stats.observe(Duration::from_micros(101));
        stats.observe(Duration::from_secs(3));
        assert_eq!(stats.counts[0], 1);
        assert_eq!(stats.counts[1], 1);
        assert_eq!(stats.counts[BOUNDS.len()], 1);
        assert_eq!(stats.count, 3);
        assert!((stats.sum_seconds - 3.000201).abs() < 1e-9);
    }
}
