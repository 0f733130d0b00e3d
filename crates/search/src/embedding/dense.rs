//! The dense (fully connected) layers of the encoder, `x W^T + b`, and what follows each of them
//! (nothing, the GELU activation, or a residual connection) done in place in the product's
//! output, in one pass. Done as separate tensor operations, each of them allocated a tensor as
//! large as the product's output (25 MB for a batch's feed-forward layer, fresh pages the kernel
//! zeroes) and read and wrote all of it again; the activation computed `erf` one value at a time.

use candle_core::{CpuStorage, InplaceOp2, InplaceOp3, Layout, Result, Tensor};

use super::in_place::{for_rows, values, values_mut};

/// A dense layer `x W^T + b`.
pub(crate) struct Dense {
    /// `W^T`, `(inputs, outputs)`, laid out contiguously once at load. Handed the checkpoint's
    /// `W` as a transposed view, gemm copied all of it into packed panels on every product; for
    /// a query's few rows that copy took longer than the arithmetic (ADR 0007).
    weight_t: Tensor,
    /// `b`, `(outputs)`.
    bias: Tensor,
}

/// What is applied to a dense layer's output after the bias.
#[derive(Clone, Copy)]
pub(crate) enum Then<'a> {
    /// The output as is.
    Nothing,
    /// The exact GELU, `x * (1 + erf(x / sqrt 2)) / 2`, as BERT's feed-forward block uses it.
    Gelu,
    /// A residual connection: this tensor, of the output's shape, added.
    Add(&'a Tensor),
}

impl Dense {
    /// A layer of weights `W`, `(outputs, inputs)` as checkpoints store them, and bias `b`.
    pub(crate) fn new(weight: &Tensor, bias: Tensor) -> Result<Self> {
        let (outputs, _) = weight.dims2()?;
        if bias.dims() != [outputs] {
            candle_core::bail!("a bias of shape {:?} for {outputs} outputs", bias.dims());
        }
        Ok(Self { weight_t: weight.t()?.contiguous()?, bias })
    }

    /// `x` is `(rows, inputs)`; the result `(rows, outputs)`, contiguous.
    pub(crate) fn forward(&self, x: &Tensor, then: Then<'_>) -> Result<Tensor> {
        let y = x.matmul(&self.weight_t)?;
        match then {
            Then::Nothing => y.inplace_op2(&self.bias, &AddBias { gelu: false })?,
            Then::Gelu => y.inplace_op2(&self.bias, &AddBias { gelu: true })?,
            Then::Add(residual) => y.inplace_op3(&self.bias, residual, &AddBiasAndResidual)?,
        }
        Ok(y)
    }
}

/// `y[r][c] += b[c]`, then the GELU if asked for.
struct AddBias {
    gelu: bool,
}

impl InplaceOp2 for AddBias {
    fn name(&self) -> &'static str {
        "add-bias"
    }

    fn cpu_fwd(&self, dst: &mut CpuStorage, dst_l: &Layout, bias: &CpuStorage, bias_l: &Layout) -> Result<()> {
        let bias = values(bias, bias_l)?;
        let y = values_mut(dst, dst_l)?;
        let gelu = self.gelu;
        for_rows(y, bias.len(), |rows, _| {
            for row in rows.chunks_exact_mut(bias.len()) {
                for (value, b) in row.iter_mut().zip(bias) {
                    *value += b;
                }
                if gelu {
                    row.iter_mut().for_each(|value| *value = gelu_erf(*value));
                }
            }
        })
    }
}

/// `y[r][c] += b[c] + residual[r][c]`.
struct AddBiasAndResidual;

impl InplaceOp3 for AddBiasAndResidual {
    fn name(&self) -> &'static str {
        "add-bias-and-residual"
    }

    fn cpu_fwd(
        &self,
        dst: &mut CpuStorage,
        dst_l: &Layout,
        bias: &CpuStorage,
        bias_l: &Layout,
        residual: &CpuStorage,
        residual_l: &Layout,
    ) -> Result<()> {
        let bias = values(bias, bias_l)?;
        let residual = values(residual, residual_l)?;
        let y = values_mut(dst, dst_l)?;
        if residual.len() != y.len() {
            candle_core::bail!("a residual of {} values for an output of {}", residual.len(), y.len());
        }
        for_rows(y, bias.len(), |rows, first| {
            let start = first * bias.len();
            let residual = &residual[start..start + rows.len()];
            for (row, residual) in rows.chunks_exact_mut(bias.len()).zip(residual.chunks_exact(bias.len())) {
                for ((value, b), r) in row.iter_mut().zip(bias).zip(residual) {
                    *value += b + r;
                }
            }
        })
    }
}

/// The exact (erf-based) GELU.
fn gelu_erf(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// `erf` as a rational function of `x` (Eigen's and XLA's f32 approximation: within about 1e-7
/// on [-4, 4], where it is clamped; erf(4) is 1 to f32 precision). Branch-free,
/// so the compiler vectorizes a loop of it, which it cannot do with libm's `erff`.
fn erf(x: f32) -> f32 {
    const ALPHA: [f32; 7] = [
        -2.726_142_3e-10,
        2.770_681_4e-8,
        -2.101_024_1e-6,
        -5.692_506_4e-5,
        -7.349_906_3e-4,
        -2.954_6e-3,
        -1.609_603_3e-2,
    ];
    const BETA: [f32; 5] = [-1.456_607_2e-5, -2.133_740_6e-4, -1.682_827e-3, -7.373_329e-3, -1.426_474e-2];
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    // Not `mul_add`: without FMA in the target's baseline it is a call to libm's `fmaf`.
    let p = ALPHA[1..].iter().fold(ALPHA[0], |p, &a| p * x2 + a);
    let q = BETA[1..].iter().fold(BETA[0], |q, &b| q * x2 + b);
    x * p / q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_is_within_a_millionth_of_libm_everywhere() {
        let mut worst = 0f64;
        for step in -80_000..=80_000 {
            let x = step as f32 / 10_000.0;
            let exact = libm_erf(f64::from(x));
            worst = worst.max((f64::from(erf(x)) - exact).abs());
        }
        assert!(worst < 1e-6, "largest error {worst}");
        assert_eq!(erf(0.0), 0.0);
        assert_eq!(erf(f32::INFINITY), erf(4.0));
        assert!(erf(f32::NAN).is_nan());
    }

    /// erf in f64 by its Taylor series (|x| <= 3) or its continued fraction, as the test's
    /// reference: no f64 erf in std.
    fn libm_erf(x: f64) -> f64 {
        if x.abs() <= 3.0 {
            let mut term = x;
            let mut sum = x;
            for n in 1..200 {
                term *= -x * x / f64::from(n);
                sum += term / f64::from(2 * n + 1);
            }
            sum * 2.0 / std::f64::consts::PI.sqrt()
        } else {
            // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))).
            let a = x.abs();
            let mut fraction = a;
            for n in (1..60).rev() {
                fraction = a + f64::from(n) / 2.0 / fraction;
            }
            let erfc = (-a * a).exp() / std::f64::consts::PI.sqrt() / fraction;
            (1.0 - erfc).copysign(x)
        }
    }

    #[test]
    fn a_dense_layer_multiplies_by_the_transposed_weights_and_adds_the_bias() {
        let device = candle_core::Device::Cpu;
        // W is (outputs 2, inputs 3).
        let weight = Tensor::new(&[[1f32, 0.0, 2.0], [0.0, 1.0, -1.0]], &device).expect("weight");
        let dense = Dense::new(&weight, Tensor::new(&[10f32, 20.0], &device).expect("bias")).expect("dense");
        let x = Tensor::new(&[[1f32, 2.0, 3.0], [0.0, 0.0, 1.0]], &device).expect("x");
        let y = dense.forward(&x, Then::Nothing).and_then(|y| y.to_vec2::<f32>()).expect("forward");
        assert_eq!(y, [[17.0, 19.0], [12.0, 19.0]]);
        let residual = Tensor::new(&[[1f32, 2.0], [3.0, 4.0]], &device).expect("residual");
        let y = dense.forward(&x, Then::Add(&residual)).and_then(|y| y.to_vec2::<f32>()).expect("forward");
        assert_eq!(y, [[18.0, 21.0], [15.0, 23.0]]);
    }

    /// Large enough to be cut into parallel tasks: every value gets its own bias, residual and
    /// activation, the same as candle's separate operations give.
    #[test]
    fn a_large_output_is_the_same_as_with_separate_operations() {
        let device = candle_core::Device::Cpu;
        let (rows, inputs, outputs) = (300, 24, 384);
        let weight = Tensor::randn(0f32, 1.0, (outputs, inputs), &device).expect("weight");
        let bias = Tensor::randn(0f32, 1.0, outputs, &device).expect("bias");
        let x = Tensor::randn(0f32, 1.0, (rows, inputs), &device).expect("x");
        let residual = Tensor::randn(0f32, 1.0, (rows, outputs), &device).expect("residual");
        let dense = Dense::new(&weight, bias.clone()).expect("dense");
        let product = x.matmul(&weight.t().expect("t")).and_then(|p| p.broadcast_add(&bias)).expect("product");
        let largest_difference = |a: &Tensor, b: &Tensor| -> f32 {
            (a - b).and_then(|d| d.abs()).and_then(|d| d.max_all()).and_then(|d| d.to_scalar()).expect("difference")
        };
        let gelu = dense.forward(&x, Then::Gelu).expect("gelu");
        assert!(largest_difference(&gelu, &product.gelu_erf().expect("gelu")) < 1e-5);
        let added = dense.forward(&x, Then::Add(&residual)).expect("add");
        assert!(largest_difference(&added, &(&product + &residual).expect("add")) < 1e-5);
    }

    #[test]
    fn a_bias_of_the_wrong_length_is_refused() {
        let device = candle_core::Device::Cpu;
        let weight = Tensor::zeros((2, 3), candle_core::DType::F32, &device).expect("weight");
        let bias = Tensor::zeros(3, candle_core::DType::F32, &device).expect("bias");
        assert!(Dense::new(&weight, bias).is_err());
    }
}
