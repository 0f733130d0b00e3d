//! The forward pass of all-MiniLM-L6-v2, a BERT encoder, on candle tensors. It computes what
//! candle-transformers' `BertModel` computes (a test holds them together) with fewer passes
//! over memory, which on two cores is most of what is not a matrix product:
//! - query, key and value come out of one product, the query already scaled by
//!   1/sqrt(head size) (folded into its weights), and one copy lays the three out by head;
//! - the attention mask is added only when a batch has padding (never for a query);
//! - softmax and layer normalization are candle's fused kernels, one pass each (the generic
//!   softmax took five passes over the attention scores, the largest tensor of a batch).

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

/// The parts of the model's `config.json` the forward pass reads.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct Config {
    hidden_size: usize,
    num_attention_heads: usize,
    num_hidden_layers: usize,
    intermediate_size: usize,
    max_position_embeddings: usize,
    layer_norm_eps: f64,
    hidden_act: String,
    #[serde(default = "absolute")]
    position_embedding_type: String,
}

fn absolute() -> String {
    "absolute".to_owned()
}

/// The encoder's weights, loaded once.
pub(crate) struct Bert {
    words: Tensor,
    /// Position embeddings plus the embedding of token type 0, the only type a sentence has.
    positions: Tensor,
    norm: Norm,
    layers: Vec<Layer>,
    heads: usize,
}

impl Bert {
    /// Loads the weights of a sentence-transformers BERT checkpoint.
    pub(crate) fn load(vb: &VarBuilder, config: &Config) -> Result<Self> {
        if config.hidden_act != "gelu" || config.position_embedding_type != "absolute" {
            candle_core::bail!(
                "unsupported model: activation {}, position embeddings {}",
                config.hidden_act,
                config.position_embedding_type
            );
        }
        if config.num_attention_heads == 0 || !config.hidden_size.is_multiple_of(config.num_attention_heads) {
            candle_core::bail!(
                "{} heads do not divide the hidden size {}",
                config.num_attention_heads,
                config.hidden_size
            );
        }
        let hidden = config.hidden_size;
        let eps = config.layer_norm_eps as f32;
        let embeddings = vb.pp("embeddings");
        // The vocabulary size is the checkpoint's, whatever the config says.
        let words = embeddings.pp("word_embeddings").get_unchecked("weight")?;
        if words.dims() != [words.dim(0)?, hidden] {
            candle_core::bail!("word embeddings of shape {:?}, expected (vocabulary, {hidden})", words.dims());
        }
        let positions = embeddings.pp("position_embeddings").get((config.max_position_embeddings, hidden), "weight")?;
        let types = embeddings.pp("token_type_embeddings").get_unchecked("weight")?;
        let positions = positions.broadcast_add(&types.get(0)?)?;
        let norm = Norm::load(&embeddings.pp("LayerNorm"), hidden, eps)?;
        let scale = 1.0 / ((hidden / config.num_attention_heads) as f64).sqrt();
        let layers = (0..config.num_hidden_layers)
            .map(|n| Layer::load(&vb.pp(format!("encoder.layer.{n}")), config, scale))
            .collect::<Result<_>>()?;
        Ok(Self { words, positions, norm, layers, heads: config.num_attention_heads })
    }

    /// The last hidden states, `(batch, width, hidden)`, of token ids `(batch, width)` padded
    /// to one width. `mask` is `(batch, 1, 1, width)`: 0 for a real token, a large negative
    /// number for padding; `None` when no row is padded.
    pub(crate) fn forward(&self, ids: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
        let (batch, width) = ids.dims2()?;
        let hidden = self.words.dim(1)?;
        let x = self.words.embedding(&ids.flatten_all()?)?.reshape((batch, width, hidden))?;
        let x = x.broadcast_add(&self.positions.narrow(0, 0, width)?)?.reshape((batch * width, hidden))?;
        let mut x = self.norm.forward(&x)?;
        let shape = Shape { batch, width, heads: self.heads };
        for layer in &self.layers {
            x = layer.forward(&x, shape, mask)?;
        }
        x.reshape((batch, width, hidden))
    }
}

#[derive(Debug, Clone, Copy)]
struct Shape {
    batch: usize,
    width: usize,
    heads: usize,
}

/// One encoder layer: self-attention, then the feed-forward block, each followed by a residual
/// connection and layer normalization.
struct Layer {
    qkv: Dense,
    attention_output: Dense,
    attention_norm: Norm,
    intermediate: Dense,
    output: Dense,
    output_norm: Norm,
}

impl Layer {
    fn load(vb: &VarBuilder, config: &Config, scale: f64) -> Result<Self> {
        let (hidden, eps) = (config.hidden_size, config.layer_norm_eps as f32);
        let attention = vb.pp("attention");
        let part = |name: &str| -> Result<(Tensor, Tensor)> {
            let vb = attention.pp("self").pp(name);
            Ok((vb.get((hidden, hidden), "weight")?, vb.get(hidden, "bias")?))
        };
        let (query, query_bias) = part("query")?;
        let (key, key_bias) = part("key")?;
        let (value, value_bias) = part("value")?;
        let qkv = Dense {
            weight: Tensor::cat(&[(query * scale)?, key, value], 0)?,
            bias: Tensor::cat(&[(query_bias * scale)?, key_bias, value_bias], 0)?,
        };
        Ok(Self {
            qkv,
            attention_output: Dense::load(&attention.pp("output.dense"), hidden, hidden)?,
            attention_norm: Norm::load(&attention.pp("output.LayerNorm"), hidden, eps)?,
            intermediate: Dense::load(&vb.pp("intermediate.dense"), hidden, config.intermediate_size)?,
            output: Dense::load(&vb.pp("output.dense"), config.intermediate_size, hidden)?,
            output_norm: Norm::load(&vb.pp("output.LayerNorm"), hidden, eps)?,
        })
    }

    /// `x` is `(batch * width, hidden)`.
    fn forward(&self, x: &Tensor, shape: Shape, mask: Option<&Tensor>) -> Result<Tensor> {
        let Shape { batch, width, heads } = shape;
        let hidden = x.dim(1)?;
        // (3, batch, heads, width, head size): one copy puts each head's rows together.
        let qkv = self.qkv.forward(x)?.reshape((batch, width, 3, heads, hidden / heads))?.permute((2, 0, 3, 1, 4))?;
        let qkv = qkv.contiguous()?;
        let (query, key, value) = (qkv.get(0)?, qkv.get(1)?, qkv.get(2)?);
        let mut scores = query.matmul(&key.t()?)?;
        if let Some(mask) = mask {
            scores = scores.broadcast_add(mask)?;
        }
        let probabilities = candle_nn::ops::softmax_last_dim(&scores)?;
        let context = probabilities.matmul(&value)?.transpose(1, 2)?.contiguous()?.reshape((batch * width, hidden))?;
        let x = self.attention_norm.forward(&(self.attention_output.forward(&context)? + x)?)?;
        let intermediate = self.intermediate.forward(&x)?.gelu_erf()?;
        self.output_norm.forward(&(self.output.forward(&intermediate)? + x)?)
    }
}

/// A dense layer `x W^T + b`.
struct Dense {
    /// `W`, `(outputs, inputs)`.
    weight: Tensor,
    bias: Tensor,
}

impl Dense {
    fn load(vb: &VarBuilder, inputs: usize, outputs: usize) -> Result<Self> {
        Ok(Self { weight: vb.get((outputs, inputs), "weight")?, bias: vb.get(outputs, "bias")? })
    }

    /// `x` is `(rows, inputs)`; the result `(rows, outputs)`, contiguous.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.matmul(&self.weight.t()?)?.broadcast_add(&self.bias)
    }
}

/// Layer normalization over the last dimension.
struct Norm {
    weight: Tensor,
    bias: Tensor,
    eps: f32,
}

impl Norm {
    fn load(vb: &VarBuilder, size: usize, eps: f32) -> Result<Self> {
        Ok(Self { weight: vb.get(size, "weight")?, bias: vb.get(size, "bias")?, eps })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        candle_nn::ops::layer_norm(x, &self.weight, &self.bias, self.eps)
    }
}

/// The additive attention mask of rows of `lengths` real tokens padded to `width`, or `None`
/// when no row is padded.
pub(crate) fn attention_mask(lengths: &[usize], width: usize, device: &candle_core::Device) -> Result<Option<Tensor>> {
    if lengths.iter().all(|&length| length == width) {
        return Ok(None);
    }
    let values: Vec<f32> = lengths
        .iter()
        .flat_map(|&length| (0..width).map(move |position| if position < length { 0.0 } else { f32::MIN }))
        .collect();
    Tensor::from_vec(values, (lengths.len(), 1, 1, width), device).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mask_is_needed_only_for_padding() {
        let device = candle_core::Device::Cpu;
        assert!(attention_mask(&[3, 3], 3, &device).expect("mask").is_none());
        let mask = attention_mask(&[3, 1], 3, &device).expect("mask").expect("padded");
        assert_eq!(mask.dims(), &[2, 1, 1, 3]);
        let values = mask.flatten_all().and_then(|m| m.to_vec1::<f32>()).expect("values");
        assert_eq!(values, [0.0, 0.0, 0.0, 0.0, f32::MIN, f32::MIN]);
    }

    #[test]
    fn a_dense_layer_multiplies_by_the_transposed_weights_and_adds_the_bias() {
        let device = candle_core::Device::Cpu;
        // W is (outputs 2, inputs 3).
        let weight = Tensor::new(&[[1f32, 0.0, 2.0], [0.0, 1.0, -1.0]], &device).expect("weight");
        let dense = Dense { weight, bias: Tensor::new(&[10f32, 20.0], &device).expect("bias") };
        let x = Tensor::new(&[[1f32, 2.0, 3.0], [0.0, 0.0, 1.0]], &device).expect("x");
        let y = dense.forward(&x).and_then(|y| y.to_vec2::<f32>()).expect("forward");
        assert_eq!(y, [[17.0, 19.0], [12.0, 19.0]]);
    }

    #[test]
    fn the_last_dimension_softmax_reads_the_additive_mask() {
        let device = candle_core::Device::Cpu;
        let scores = Tensor::new(&[[[[1f32, 2.0, 3.0]]]], &device).expect("scores");
        let mask = attention_mask(&[2], 3, &device).expect("mask").expect("padded");
        let probabilities = candle_nn::ops::softmax_last_dim(&scores.broadcast_add(&mask).expect("add"))
            .and_then(|p| p.flatten_all())
            .and_then(|p| p.to_vec1::<f32>())
            .expect("softmax");
        assert_eq!(probabilities[2], 0.0);
        assert!((probabilities[0] + probabilities[1] - 1.0).abs() < 1e-6);
    }
}
