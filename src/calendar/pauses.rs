//! Stopped-clock intervals, merged.

/// Pauses `[from, to)` in Unix seconds, sorted and merged; an open pause ends
/// at `i64::MAX`. Overlapping or touching pauses merge (DESIGN.md rule 6).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pauses {
    merged: Vec<(i64, i64)>,
}

impl Pauses {
    pub fn none() -> Self {
        Self::default()
    }

    /// Builds from `(from, to)` pairs; `to = None` is open. Empty or reversed
    /// pairs stop nothing.
    pub fn new(
        pairs: impl IntoIterator<Item = (jiff::Timestamp, Option<jiff::Timestamp>)>,
    ) -> Self {
        let mut raw: Vec<(i64, i64)> = pairs
            .into_iter()
            .map(|(from, to)| (from.as_second(), to.map_or(i64::MAX, |t| t.as_second())))
            .filter(|(from, to)| from < to)
            .collect();
        raw.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::with_capacity(raw.len());
        for (from, to) in raw {
            match merged.last_mut() {
                Some(last) if from <= last.1 => last.1 = last.1.max(to),
                _ => merged.push((from, to)),
            }
        }
        Self { merged }
    }

    pub fn is_empty(&self) -> bool {
        self.merged.is_empty()
    }

    /// The merged pauses clipped to `[a, b)`, in order.
    pub(crate) fn overlapping(&self, a: i64, b: i64) -> impl Iterator<Item = (i64, i64)> + '_ {
        let first = self.merged.partition_point(|&(_, to)| to <= a);
        self.merged[first..]
            .iter()
            .take_while(move |&&(from, _)| from < b)
            .map(move |&(from, to)| (from.max(a), to.min(b)))
    }

    /// The merged pause containing `t`, if any, as `(from, to)` in seconds.
    pub(crate) fn containing(&self, t: i64) -> Option<(i64, i64)> {
        let idx = self.merged.partition_point(|&(_, to)| to <= t);
        self.merged.get(idx).copied().filter(|&(from, _)| from <= t)
    }
}
