//! The attention's softmax, in place over the attention scores (the largest tensor of a batch),
//! padding left out by length rather than by an additive mask. candle's softmax wrote a new
//! tensor of the same size (fresh pages to fault in), the mask was one more, and its `exp` ran
//! one value at a time; here `exp` is branch-free so that the compiler vectorizes it.

use candle_core::{CpuStorage, InplaceOp1, Layout, Result, Tensor};

use super::in_place::{for_rows, values_mut};

/// Replaces each row of `scores`, `(batch, heads, width, width)`, by its softmax over the first
/// `lengths[b]` keys of its batch row `b`; the keys beyond, padding, get probability 0.
/// `lengths` is `None` when no batch row is padded.
pub(crate) fn softmax_in_place(scores: &Tensor, lengths: Option<&[usize]>) -> Result<()> {
    let (batch, _, _, width) = scores.dims4()?;
    if let Some(lengths) = lengths
        && (lengths.len() != batch || lengths.iter().any(|&length| length > width))
    {
        candle_core::bail!("{} lengths for {batch} rows of width {width}", lengths.len());
    }
    scores.inplace_op1(&Softmax { lengths })
}

struct Softmax<'a> {
    lengths: Option<&'a [usize]>,
}

impl InplaceOp1 for Softmax<'_> {
    fn name(&self) -> &'static str {
        "softmax-in-place"
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> Result<()> {
        let dims = layout.dims();
        let width = dims[dims.len() - 1];
        let rows_per_batch_row = dims[1..dims.len() - 1].iter().product::<usize>();
        let length = |row: usize| self.lengths.map_or(width, |lengths| lengths[row / rows_per_batch_row]);
        for_rows(values_mut(storage, layout)?, width, |rows, first| {
            for (i, row) in rows.chunks_exact_mut(width).enumerate() {
                softmax_row(row, length(first + i));
            }
        })
    }
}

/// The softmax of `row[..length]`, and 0 for the rest. Separate passes, the reductions over
/// eight lanes: a loop that accumulates one float at a time is not vectorized (the compiler may
/// not reorder the additions), and `exp` is most of the work.
fn softmax_row(row: &mut [f32], length: usize) {
    let (real, padding) = row.split_at_mut(length);
    padding.fill(0.0);
    let max = reduce(real, f32::NEG_INFINITY, f32::max);
    real.iter_mut().for_each(|value| *value = exp(*value - max));
    let scale = 1.0 / reduce(real, 0.0, |a, b| a + b);
    real.iter_mut().for_each(|value| *value *= scale);
}

/// `values` folded with `f` over eight lanes, then the lanes together.
fn reduce(values: &[f32], identity: f32, f: impl Fn(f32, f32) -> f32) -> f32 {
    let mut lanes = [identity; 8];
    let chunks = values.chunks_exact(8);
    let rest = chunks.remainder().iter().fold(identity, |a, &b| f(a, b));
    for chunk in chunks {
        for (lane, &value) in lanes.iter_mut().zip(chunk) {
            *lane = f(*lane, value);
        }
    }
    lanes.into_iter().fold(rest, f)
}

/// `e^x` for `x <= 0` (what a softmax feeds it) as Cephes' `expf` computes it: `x = n ln 2 + r`,
/// a degree-6 polynomial for `e^r`, `2^n` put into the exponent bits. Within 2 units in the last
/// place; below -87 it gives 2^-126 rather than a denormal, which no probability notices.
fn exp(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    // ln 2 in two parts, so that n * LN2_HIGH is exact.
    const LN2_HIGH: f32 = 0.693_359_4;
    const LN2_LOW: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5 * 2^23 rounds to the nearest integer without a call.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 0.0);
    let n = (x * LOG2_E + ROUND) - ROUND;
    let r = x - n * LN2_HIGH - n * LN2_LOW;
    let p = [1.398_199_9e-3, 8.333_452e-3, 4.166_579_6e-2, 1.666_666_5e-1, 0.5]
        .iter()
        .fold(1.987_569_1e-4, |p, &c| p * r + c);
    let e_r = p * r * r + r + 1.0;
    // n is an integer in [-126, 0]: 2^n has exponent bits n + 127.
    let two_to_n = f32::from_bits(((n as i32 + 127) as u32) << 23);
    e_r * two_to_n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_within_two_units_in_the_last_place_of_std() {
        for step in 0..=870_000 {
            let x = -(step as f32) / 10_000.0;
            let (ours, exact) = (exp(x), (f64::from(x)).exp());
            let ulp = f64::from(f32::EPSILON) * exact;
            assert!((f64::from(ours) - exact).abs() <= 2.0 * ulp, "exp({x}) = {ours}, not {exact}");
        }
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(f32::NEG_INFINITY) < 1e-37);
    }

    #[test]
    fn padding_gets_no_probability_and_the_rest_is_candles_softmax() {
        let device = candle_core::Device::Cpu;
        // Two batch rows, three heads, width 40: large enough for parallel tasks.
        let scores = Tensor::randn(0f32, 3.0, (2, 3, 40, 40), &device).expect("scores");
        let expected_full = candle_nn::ops::softmax_last_dim(&scores).expect("softmax");
        let ours = scores.copy().expect("copy");
        softmax_in_place(&ours, Some(&[40, 25])).expect("softmax");
        let first = ours.get(0).and_then(|t| t.flatten_all()).and_then(|t| t.to_vec1::<f32>()).expect("first");
        let expected =
            expected_full.get(0).and_then(|t| t.flatten_all()).and_then(|t| t.to_vec1::<f32>()).expect("expected");
        assert!(first.iter().zip(&expected).all(|(a, b)| (a - b).abs() < 1e-6));
        let second = ours.get(1).and_then(|t| t.narrow(2, 0, 25)).expect("real keys");
        let expected = scores.get(1).and_then(|t| t.narrow(2, 0, 25)).and_then(|t| t.contiguous()).expect("real keys");
        let expected = candle_nn::ops::softmax_last_dim(&expected)
            .and_then(|t| t.flatten_all())
            .and_then(|t| t.to_vec1::<f32>())
            .expect("softmax");
        let second = second.flatten_all().and_then(|t| t.to_vec1::<f32>()).expect("second");
        assert!(second.iter().zip(&expected).all(|(a, b)| (a - b).abs() < 1e-6));
        let padding = ours
            .get(1)
            .and_then(|t| t.narrow(2, 25, 15))
            .and_then(|t| t.flatten_all())
            .and_then(|t| t.to_vec1::<f32>())
            .expect("padding");
        assert!(padding.iter().all(|&p| p == 0.0));
    }

    #[test]
    fn lengths_that_do_not_fit_the_scores_are_refused() {
        let device = candle_core::Device::Cpu;
        let scores = Tensor::zeros((2, 1, 3, 3), candle_core::DType::F32, &device).expect("scores");
        assert!(softmax_in_place(&scores, Some(&[3])).is_err());
        assert!(softmax_in_place(&scores, Some(&[3, 4])).is_err());
    }
}
