//! The exact scan's arithmetic: a query's dot product with many stored rows, in the widest
//! vectors the processor has. The build targets baseline x86-64 (SSE2, no FMA), so without a
//! run-time choice the scan would use four lanes and separate multiplies and adds; on a
//! processor with AVX2 and FMA (x86-64-v3) `pulp` runs the same loop in eight lanes with fused
//! multiply-adds, selected once per scan.

use pulp::{Simd, WithSimd};

use crate::embedding::DIMENSIONS;

/// Consecutive rows holding the passages of one item (`slot`): `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: u32,
    pub end: u32,
    pub slot: u32,
}

impl Span {
    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }
}

/// An item's best passage: (slot, similarity, row).
pub(crate) type Best = (usize, f32, u32);

/// For each span, its best row against `query` if that scores at least `floor`. `data` holds
/// the rows, [`DIMENSIONS`] values each; `query` is one row. Visiting the spans in the order of
/// their rows lets the processor stream the rows from memory.
pub(crate) fn best_of_spans(query: &[f32], data: &[f32], spans: &[Span], floor: f32) -> Vec<Best> {
    let scan = Scan { query, data, spans, floor };
    #[cfg(target_arch = "x86_64")]
    if let Some(simd) = pulp::x86::V3::try_new() {
        return Simd::vectorize(simd, scan);
    }
    scan.run(|row| dot(query, row))
}

struct Scan<'a> {
    query: &'a [f32],
    data: &'a [f32],
    spans: &'a [Span],
    floor: f32,
}

impl Scan<'_> {
    #[inline(always)]
    fn run(&self, score: impl Fn(&[f32]) -> f32) -> Vec<Best> {
        let mut found = Vec::new();
        for span in self.spans {
            let mut best: Option<(f32, u32)> = None;
            for row in span.start..span.end {
                let start = row as usize * DIMENSIONS;
                let similarity = score(&self.data[start..start + DIMENSIONS]);
                if similarity >= self.floor && best.is_none_or(|(top, _)| similarity > top) {
                    best = Some((similarity, row));
                }
            }
            if let Some((similarity, row)) = best {
                found.push((span.slot as usize, similarity, row));
            }
        }
        found
    }
}

impl WithSimd for Scan<'_> {
    type Output = Vec<Best>;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> Self::Output {
        let (query, query_tail) = S::as_simd_f32s(self.query);
        self.run(|row| {
            let (row, row_tail) = S::as_simd_f32s(row);
            simd_dot(simd, query, row) + dot(query_tail, row_tail)
        })
    }
}

/// The dot product of two equally long runs of vectors, in four accumulators so that
/// consecutive multiply-adds do not wait for each other.
#[inline(always)]
fn simd_dot<S: Simd>(simd: S, a: &[S::f32s], b: &[S::f32s]) -> f32 {
    let zero = simd.splat_f32s(0.0);
    let mut lanes = [zero; 4];
    let (a_fours, a_rest) = a.as_chunks::<4>();
    let (b_fours, b_rest) = b.as_chunks::<4>();
    for (x, y) in a_fours.iter().zip(b_fours) {
        for k in 0..4 {
            lanes[k] = simd.mul_add_e_f32s(x[k], y[k], lanes[k]);
        }
    }
    for (x, y) in a_rest.iter().zip(b_rest) {
        lanes[0] = simd.mul_add_e_f32s(*x, *y, lanes[0]);
    }
    let sum = simd.add_f32s(simd.add_f32s(lanes[0], lanes[1]), simd.add_f32s(lanes[2], lanes[3]));
    simd.reduce_sum_f32s(sum)
}

/// The dot product in eight lanes the compiler vectorizes for any target: the scan's fallback,
/// and the similarity of the few rows the graph finds.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (a_chunks, a_tail) = a.as_chunks::<8>();
    let (b_chunks, b_tail) = b.as_chunks::<8>();
    let tail: f32 = a_tail.iter().zip(b_tail).map(|(x, y)| x * y).sum();
    for (x, y) in a_chunks.iter().zip(b_chunks) {
        for lane in 0..8 {
            lanes[lane] += x[lane] * y[lane];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(count: usize) -> Vec<f32> {
        (0..count * DIMENSIONS).map(|i| ((i as f32) * 0.37).sin() / 10.0).collect()
    }

    fn plain(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum::<f64>() as f32
    }

    #[test]
    fn each_span_gets_its_best_row_above_the_floor_as_a_plain_sum_scores_it() {
        let data = rows(7);
        let query: Vec<f32> = data[3 * DIMENSIONS..4 * DIMENSIONS].to_vec();
        let spans = [
            Span { start: 0, end: 2, slot: 10 },
            Span { start: 2, end: 5, slot: 11 },
            Span { start: 6, end: 7, slot: 12 },
        ];
        let score = |row: usize| plain(&query, &data[row * DIMENSIONS..(row + 1) * DIMENSIONS]);
        let floor = score(6) + 1e-3; // row 6 (the only row of slot 12) falls below
        let found = best_of_spans(&query, &data, &spans, floor);
        let best_of = |rows: std::ops::Range<usize>| rows.max_by(|&a, &b| score(a).total_cmp(&score(b)));
        let expected: Vec<(usize, u32)> = [(10, best_of(0..2)), (11, best_of(2..5))]
            .into_iter()
            .filter_map(|(slot, row)| row.filter(|&row| score(row) >= floor).map(|row| (slot, row as u32)))
            .collect();
        assert_eq!(found.iter().map(|&(slot, _, row)| (slot, row)).collect::<Vec<_>>(), expected);
        for &(_, similarity, row) in &found {
            assert!((similarity - score(row as usize)).abs() < 1e-5, "{similarity} against {}", score(row as usize));
        }
        assert!(found.iter().any(|&(slot, _, row)| slot == 11 && row == 3), "the query's own row is the best");
    }

    #[test]
    fn the_portable_dot_product_matches_the_plain_sum_also_for_a_ragged_length() {
        let a: Vec<f32> = (0..DIMENSIONS).map(|i| (i as f32).sin()).collect();
        let b: Vec<f32> = (0..DIMENSIONS).map(|i| (i as f32 * 0.3).cos()).collect();
        assert!((dot(&a, &b) - plain(&a, &b)).abs() < 1e-3);
        assert!((dot(&a[..13], &b[..13]) - plain(&a[..13], &b[..13])).abs() < 1e-5);
    }
}
