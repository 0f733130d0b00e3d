//! Sentence embeddings on the CPU: all-MiniLM-L6-v2 (a 6-layer BERT) through candle, fp32,
//! mean-pooled over the tokens and L2-normalized, as sentence-transformers computes them.
//! Embedding is the slow part of search on a small machine (thousands of tokens a second), so
//! no work is wasted: each text is tokenized once, batches are cut from texts sorted by length
//! and padded only to their longest member (the shipped tokenizer would pad everything to 128
//! tokens), and a batch is bounded by its padded token count.

mod bert;
mod dense;
mod in_place;
mod softmax;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use tokenizers::{Tokenizer, TruncationParams};

use bert::{Bert, Config};

use crate::model::{ModelError, ModelFiles};

/// Length of an embedding.
pub const DIMENSIONS: usize = 384;
/// Tokens read of one text, as sentence-transformers configures this model; the rest of a
/// longer text is not seen (passages are cut shorter than this).
pub const MAX_TOKENS: usize = 256;
/// Padded tokens per forward pass: larger batches multiply bigger matrices (faster per token)
/// but the attention scores grow with the square of the length.
const BATCH_TOKENS: usize = 4_096;

/// The environment variable candle reads for the thread count of its matrix products.
const THREADS_VARIABLE: &str = "RAYON_NUM_THREADS";

/// Fixes the embedder's thread count for the whole process, unless the environment already
/// does. Otherwise candle works the count out again for every matrix product by reading
/// `/proc/cpuinfo` (80 us on a small VM; a forward pass has 48 products), which was a fifth
/// of a query's embedding. The count is candle's own choice, the physical cores, but no more
/// than the process may run on (CPU affinity, cgroup quota).
///
/// # Safety
/// It sets an environment variable: call it before the process starts any other thread.
#[expect(unsafe_code, reason = "setting an environment variable is unsafe in Rust 2024")]
pub unsafe fn fix_thread_count() {
    if std::env::var_os(THREADS_VARIABLE).is_some() {
        return;
    }
    let usable = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let threads = num_cpus::get_physical().clamp(1, usable);
    // SAFETY: the caller guarantees that no other thread runs yet.
    unsafe { std::env::set_var(THREADS_VARIABLE, threads.to_string()) };
}

/// The loaded model and its tokenizer. Thread-safe; a forward pass uses every core.
pub struct Embedder {
    model: Bert,
    tokenizer: Tokenizer,
    device: Device,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder").finish_non_exhaustive()
    }
}

impl Embedder {
    /// Loads the model from checked files.
    pub fn load(files: &ModelFiles) -> Result<Self, ModelError> {
        let read = |path: std::path::PathBuf| std::fs::read(&path).map_err(|e| ModelError::io(&path, e));
        let config: Config = serde_json::from_slice(&read(files.config())?)
            .map_err(|e| ModelError::Load(format!("config.json: {e}")))?;
        let mut tokenizer =
            Tokenizer::from_file(files.tokenizer()).map_err(|e| ModelError::Load(format!("tokenizer.json: {e}")))?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..TruncationParams::default() }))
            .map_err(|e| ModelError::Load(format!("tokenizer: {e}")))?;
        let device = Device::Cpu;
        let weights = VarBuilder::from_buffered_safetensors(read(files.weights())?, DType::F32, &device)
            .map_err(|e| ModelError::Load(format!("model.safetensors: {e}")))?;
        let model = Bert::load(&weights, &config).map_err(|e| ModelError::Load(format!("model: {e}")))?;
        Ok(Self { model, tokenizer, device })
    }

    /// The embedding of each text, in order; each of [`DIMENSIONS`] values and unit length.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, ModelError> {
        let tokenized: Vec<Vec<u32>> = texts
            .iter()
            .map(|text| {
                self.tokenizer
                    .encode(*text, true)
                    .map(|encoding| encoding.get_ids().to_vec())
                    .map_err(|e| ModelError::Load(format!("tokenizing: {e}")))
            })
            .collect::<Result<_, _>>()?;
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(tokenized[i].len()));
        let mut out = vec![Vec::new(); texts.len()];
        let mut start = 0;
        while start < order.len() {
            // Sorted longest first: the first text sets the padded length of its batch.
            let longest = tokenized[order[start]].len().max(1);
            let size = (BATCH_TOKENS / longest).clamp(1, order.len() - start);
            let batch = &order[start..start + size];
            let rows: Vec<&[u32]> = batch.iter().map(|&i| tokenized[i].as_slice()).collect();
            for (&i, vector) in batch.iter().zip(self.forward(&rows).map_err(|e| ModelError::Load(e.to_string()))?) {
                out[i] = vector;
            }
            start += size;
        }
        Ok(out)
    }

    /// The number of tokens the model reads of `text` (at most [`MAX_TOKENS`]).
    pub fn tokens(&self, text: &str) -> usize {
        self.tokenizer.encode(text, true).map_or(0, |encoding| encoding.len())
    }

    /// One forward pass over token rows, padded to the longest.
    fn forward(&self, rows: &[&[u32]]) -> candle_core::Result<Vec<Vec<f32>>> {
        let lengths: Vec<usize> = rows.iter().map(|row| row.len()).collect();
        let width = lengths.iter().copied().max().unwrap_or(0);
        let mut ids = Vec::with_capacity(rows.len() * width);
        let mut real = Vec::with_capacity(rows.len() * width);
        for row in rows {
            ids.extend_from_slice(row);
            ids.resize(ids.len() + width - row.len(), 0);
            real.extend(std::iter::repeat_n(1f32, row.len()));
            real.extend(std::iter::repeat_n(0f32, width - row.len()));
        }
        let ids = Tensor::from_vec(ids, (rows.len(), width), &self.device)?;
        let padded = lengths.iter().any(|&length| length < width);
        let hidden = self.model.forward(&ids, padded.then_some(lengths.as_slice()))?;
        // Mean over the real tokens, then unit length.
        let real = Tensor::from_vec(real, (rows.len(), width, 1), &self.device)?;
        let summed = hidden.broadcast_mul(&real)?.sum(1)?;
        let counts = real.sum(1)?;
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?;
        mean.broadcast_div(&norms)?.to_vec2()
    }
}
