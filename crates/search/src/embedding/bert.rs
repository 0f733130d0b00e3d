//! The forward pass of all-MiniLM-L6-v2, a BERT encoder, on candle tensors. It computes what
//! candle-transformers' `BertModel` computes (a test holds them together) with fewer passes
//! over memory, which on two cores is most of what is not a matrix product:
//! - query, key and value come out of one product, the query already scaled by
//!   1/sqrt(head size) (folded into its weights), and one copy lays the three out by head;
//! - the softmax works in place over the attention scores, the largest tensor of a batch, and
//!   leaves padding out by length instead of adding a mask (`super::softmax`);
//! - each dense layer's bias, activation and residual connection are one in-place pass over
//!   its product (`super::dense`);
//! - layer normalization is candle's fused kernel.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::dense::{Dense, Then};
use super::softmax::softmax_in_place;

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
    /// to one width. `lengths` holds each row's real tokens; `None` when no row is padded.
    pub(crate) fn forward(&self, ids: &Tensor, lengths: Option<&[usize]>) -> Result<Tensor> {
        let (batch, width) = ids.dims2()?;
        let hidden = self.words.dim(1)?;
        let x = self.words.embedding(&ids.flatten_all()?)?.reshape((batch, width, hidden))?;
        let x = x.broadcast_add(&self.positions.narrow(0, 0, width)?)?.reshape((batch * width, hidden))?;
        let mut x = self.norm.forward(&x)?;
        let shape = Shape { batch, width, heads: self.heads };
        for layer in &self.layers {
            x = layer.forward(&x, shape, lengths)?;
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
        let qkv = Dense::new(
            &Tensor::cat(&[(query * scale)?, key, value], 0)?,
            Tensor::cat(&[(query_bias * scale)?, key_bias, value_bias], 0)?,
        )?;
        Ok(Self {
            qkv,
            attention_output: dense(&attention.pp("output.dense"), hidden, hidden)?,
            attention_norm: Norm::load(&attention.pp("output.LayerNorm"), hidden, eps)?,
            intermediate: dense(&vb.pp("intermediate.dense"), hidden, config.intermediate_size)?,
            output: dense(&vb.pp("output.dense"), config.intermediate_size, hidden)?,
            output_norm: Norm::load(&vb.pp("output.LayerNorm"), hidden, eps)?,
        })
    }

    /// `x` is `(batch * width, hidden)`.
    fn forward(&self, x: &Tensor, shape: Shape, lengths: Option<&[usize]>) -> Result<Tensor> {
        let Shape { batch, width, heads } = shape;
        let hidden = x.dim(1)?;
        // (3, batch, heads, width, head size): one copy puts each head's rows together.
        let qkv = self
            .qkv
            .forward(x, Then::Nothing)?
            .reshape((batch, width, 3, heads, hidden / heads))?
            .permute((2, 0, 3, 1, 4))?;
        let qkv = qkv.contiguous()?;
        let (query, key, value) = (qkv.get(0)?, qkv.get(1)?, qkv.get(2)?);
        let probabilities = query.matmul(&key.t()?)?;
        softmax_in_place(&probabilities, lengths)?;
        let context = probabilities.matmul(&value)?.transpose(1, 2)?.contiguous()?.reshape((batch * width, hidden))?;
        let x = self.attention_norm.forward(&self.attention_output.forward(&context, Then::Add(x))?)?;
        let intermediate = self.intermediate.forward(&x, Then::Gelu)?;
        self.output_norm.forward(&self.output.forward(&intermediate, Then::Add(&x))?)
    }
}

/// The dense layer of a checkpoint's `weight`, `(outputs, inputs)`, and `bias`.
fn dense(vb: &VarBuilder, inputs: usize, outputs: usize) -> Result<Dense> {
    Dense::new(&vb.get((outputs, inputs), "weight")?, vb.get(outputs, "bias")?)
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
