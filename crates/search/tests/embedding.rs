//! The embedder against the real model (fetched by the setup step; `.ci/run` fetches it first).

use std::sync::OnceLock;

use search::embedding::{DIMENSIONS, Embedder};
use search::model::ModelFiles;

fn embedder() -> &'static Embedder {
    static EMBEDDER: OnceLock<Embedder> = OnceLock::new();
    EMBEDDER.get_or_init(|| {
        let files = ModelFiles::ensure(&ModelFiles::default_dir()).expect("the embedding model (run the setup step)");
        Embedder::load(&files).expect("the model loads")
    })
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn embeddings_are_unit_vectors_that_place_like_meaning_together() {
    let texts = [
        "The client's data migration to the cloud is behind schedule.",
        "Moving the customer's databases to AWS is running late.",
        "Our team won the office football tournament.",
    ];
    let vectors = embedder().embed(&texts).expect("embeds");
    assert_eq!(vectors.len(), 3);
    for vector in &vectors {
        assert_eq!(vector.len(), DIMENSIONS);
        let norm: f32 = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
    }
    let related = cosine(&vectors[0], &vectors[1]);
    let unrelated = cosine(&vectors[0], &vectors[2]);
    assert!(related > 0.5 && unrelated < 0.2 && related > unrelated + 0.3, "{related} vs {unrelated}");
}

#[test]
fn padding_in_a_batch_does_not_change_a_vector() {
    let short = "risk register";
    let long = "A long passage about the engagement's risk register, its owners, the mitigation plans \
                and the review cadence agreed with the steering committee in the kick-off meeting.";
    let alone = embedder().embed(&[short]).expect("embeds");
    let batched = embedder().embed(&[long, short, "", long]).expect("embeds");
    assert!(cosine(&alone[0], &batched[1]) > 0.9999);
    assert_eq!(batched[0], batched[3]);
    assert_eq!(batched[2].len(), DIMENSIONS);
    assert!(embedder().tokens(&long.repeat(20)) <= search::embedding::MAX_TOKENS);
}

/// candle-transformers' BERT, tokenized and pooled as sentence-transformers does, one text at
/// a time (no padding): the reference the product's own forward pass must reproduce.
fn reference(texts: &[&str]) -> Vec<Vec<f32>> {
    use candle_core::{DType, Device, Tensor};
    use candle_transformers::models::bert::{BertModel, Config};

    let files = ModelFiles::ensure(&ModelFiles::default_dir()).expect("the embedding model");
    let config: Config = serde_json::from_slice(&std::fs::read(files.config()).expect("config")).expect("config");
    let mut tokenizer = tokenizers::Tokenizer::from_file(files.tokenizer()).expect("tokenizer");
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(Some(tokenizers::TruncationParams {
            max_length: search::embedding::MAX_TOKENS,
            ..Default::default()
        }))
        .expect("truncation");
    let weights = candle_nn::VarBuilder::from_buffered_safetensors(
        std::fs::read(files.weights()).expect("weights"),
        DType::F32,
        &Device::Cpu,
    )
    .expect("weights");
    let model = BertModel::load(weights, &config).expect("model");
    texts
        .iter()
        .map(|text| {
            let ids = tokenizer.encode(*text, true).expect("tokens").get_ids().to_vec();
            let ids = Tensor::new(ids.as_slice(), &Device::Cpu).and_then(|ids| ids.unsqueeze(0)).expect("ids");
            let hidden = model.forward(&ids, &ids.zeros_like().expect("types"), None).expect("forward");
            let mean = hidden.mean(1).and_then(|mean| mean.squeeze(0)).expect("mean");
            let norm = mean.sqr().and_then(|squares| squares.sum_all()).and_then(|sum| sum.sqrt()).expect("norm");
            mean.broadcast_div(&norm).and_then(|unit| unit.to_vec1::<f32>()).expect("vector")
        })
        .collect()
}

#[test]
fn the_forward_pass_matches_the_reference_bert_alone_and_in_padded_batches() {
    let texts = [
        "kickoff",
        "Who owns the budget of the data migration?",
        "Mitochondrial dysfunction is associated with a higher risk of cardiovascular events in \
         patients with type 2 diabetes, independent of glycaemic control; the effect persisted \
         after adjusting for age, sex, body-mass index and smoking.",
        "",
        "Émigrés café: naïve façade — 東京 🚀",
    ];
    let expected = reference(&texts);
    let alone: Vec<Vec<f32>> = texts.iter().map(|text| embedder().embed(&[text]).expect("embeds").remove(0)).collect();
    let batched = embedder().embed(&texts).expect("embeds");
    for (i, want) in expected.iter().enumerate() {
        for got in [&alone[i], &batched[i]] {
            let largest = want.iter().zip(got.iter()).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            assert!(largest < 1e-5, "text {i}: differs from the reference by {largest}");
        }
    }
}
