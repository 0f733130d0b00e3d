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
