//! Term-at-a-time scoring of a plain query (words, no syntax): each word's postings are read
//! block by block into a per-segment score array, and the matches into a bit set per segment.
//! Tantivy's disjunction visits the same matches one document at a time through a union of
//! boxed scorers and a boxed callback; a search page counts and facets every match, so that
//! per-match overhead was most of a short query's time at 200,000 documents (a third of the
//! server's CPU under bench/search_http.sh). From the bit sets, the count is a popcount, the
//! facet counts are taken a value at a time where that is cheaper ([`crate::facets`]), and the
//! top hits are picked comparing 64 matches at once with the worst kept. Scores are tantivy's:
//! the same BM25 weights, boosts and constant scores as [`PlainQuery::to_query`], summed.

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::index::InvertedIndexReader;
use tantivy::postings::{BlockSegmentPostings, Postings, TermInfo};
use tantivy::query::{Bm25StatisticsProvider, Bm25Weight, EnableScoring, Query};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocId, DocSet, Score, Searcher, SegmentOrdinal, Term};

use crate::SearchError;
use crate::common_words::{CommonWord, SegmentWords};
use crate::doc_bits::DocBits;

/// A word of the query, scored by BM25 times `boost`.
#[derive(Debug, Clone)]
pub(crate) struct ScoredTerm {
    pub term: Term,
    pub boost: Score,
}

/// Variants of a word (typos, completions): a document holding any of them gains `score`,
/// once however many it holds.
#[derive(Debug, Clone)]
pub(crate) struct LooseTerms {
    pub variants: Vec<Variant>,
    pub score: Score,
}

/// A variant found in the term dictionaries, with where each segment keeps its postings.
#[derive(Debug, Clone)]
pub(crate) struct Variant {
    #[cfg_attr(not(test), expect(dead_code, reason = "read by the tests' tantivy twin of a query"))]
    pub term: Term,
    pub postings: Vec<(SegmentOrdinal, TermInfo)>,
}

/// Words any of which may match, in one field; a document's score is the sum of what it
/// matched.
#[derive(Debug, Clone)]
pub(crate) struct PlainQuery {
    pub field: Field,
    pub scored: Vec<ScoredTerm>,
    pub loose: Vec<LooseTerms>,
}

impl PlainQuery {
    /// The same query in tantivy's terms, which this one must agree with.
    #[cfg(test)]
    pub fn to_query(&self) -> Box<dyn Query> {
        use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, Occur, TermQuery, TermSetQuery};
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for scored in &self.scored {
            let term = Box::new(TermQuery::new(scored.term.clone(), IndexRecordOption::WithFreqs));
            let clause: Box<dyn Query> =
                if scored.boost == 1.0 { term } else { Box::new(BoostQuery::new(term, scored.boost)) };
            clauses.push((Occur::Should, clause));
        }
        for loose in &self.loose {
            let any = Box::new(TermSetQuery::new(loose.variants.iter().map(|v| v.term.clone())));
            clauses.push((Occur::Should, Box::new(ConstScoreQuery::new(any, loose.score))));
        }
        Box::new(BooleanQuery::new(clauses))
    }

    /// Runs the query, restricted to the documents `filter` matches when there is one: every
    /// live match of each segment, with exact scores for every match that can be among the
    /// best `limit` after the first `offset` ([`Matches::top`]).
    ///
    /// The words `common` holds for a segment (by searcher ordinal) are deferred there: their
    /// documents join the matches from the kept bit sets, and their scores are added once the
    /// other words have set a floor, the lowest score of the best `limit + offset` so far
    /// (scores only grow). A document whose score plus the most the deferred words can add
    /// stays below the floor cannot rank and gets no more work; the others read the deferred
    /// words' postings for themselves only. When the bound reaches the floor (a query of only
    /// common words), every posting of the deferred words is scored, as any other word's.
    pub fn matches(
        &self,
        searcher: &Searcher,
        filter: Option<&dyn Query>,
        common: &[Option<Arc<SegmentWords>>],
        limit: usize,
        offset: usize,
    ) -> Result<Matches, SearchError> {
        // Each word's postings in each segment, looked up once: their document counts make
        // the words' BM25 weights too, as tantivy's `Bm25Weight::for_terms` computes them.
        let mut infos = Vec::with_capacity(searcher.segment_readers().len());
        let mut doc_freqs = vec![0u64; self.scored.len()];
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(self.field)?;
            let mut found = Vec::with_capacity(self.scored.len());
            for (scored, doc_freq) in self.scored.iter().zip(&mut doc_freqs) {
                let info = inverted.get_term_info(&scored.term).map_err(unreadable)?;
                *doc_freq += info.as_ref().map_or(0, |info| u64::from(info.doc_freq));
                found.push(info);
            }
            infos.push(found);
        }
        let total_docs = searcher.total_num_docs()?;
        let average_length = searcher.total_num_tokens(self.field)? as Score / total_docs as Score;
        let weights: Vec<Bm25Weight> = doc_freqs
            .iter()
            .map(|&doc_freq| Bm25Weight::for_one_term_without_explain(doc_freq, total_docs, average_length))
            .collect();
        let filter = filter.map(|query| query.weight(EnableScoring::disabled_from_searcher(searcher))).transpose()?;
        let kept = limit.saturating_add(offset).max(1);
        let mut segments = Vec::with_capacity(searcher.segment_readers().len());
        let mut deferred_by_segment = Vec::with_capacity(segments.capacity());
        for ((ord, segment), infos) in (0..).zip(searcher.segment_readers()).zip(infos) {
            let max_doc = segment.max_doc();
            let mut scores = vec![0.0 as Score; max_doc as usize];
            let mut matched = DocBits::new(max_doc);
            let inverted = segment.inverted_index(self.field)?;
            let norms = segment.get_fieldnorms_reader(self.field)?;
            let common = common.get(ord as usize).and_then(Option::as_deref);
            let mut found = Vec::with_capacity(self.scored.len());
            let mut deferred = Vec::new();
            for ((scored, weight), info) in self.scored.iter().zip(&weights).zip(infos) {
                if let Some(info) = info {
                    match common.and_then(|words| words.get(&scored.term)) {
                        Some(word) => deferred.push(Deferred { boost: scored.boost, weight, info, word }),
                        None => found.push((scored.boost, weight, info)),
                    }
                }
            }
            // Every scored word adds a positive score (a BM25 weight, whose inverse document
            // frequency is above zero, times a positive boost), so its matches are also the
            // documents scored above zero. When the words' postings are many next to the
            // segment's documents (the common words of a long query), a scan of the scores
            // finds them faster than a bit set per posting, a chain of read-modify-writes on
            // the same word; for few postings, the scan would touch the whole array.
            let postings_read: u64 = found.iter().map(|(_, _, info)| u64::from(info.doc_freq)).sum();
            let mark_each = postings_read.saturating_mul(SCAN_FROM_ONE_POSTING_PER) < u64::from(max_doc);
            for (boost, weight, info) in found {
                add_scores(
                    &inverted,
                    &info,
                    &mut scores,
                    |doc| norms.fieldnorm_id(doc),
                    weight,
                    boost,
                    |doc| {
                        if mark_each {
                            matched.insert(doc);
                        }
                    },
                )?;
            }
            if !mark_each {
                matched = DocBits::scored(&scores);
            }
            for loose in &self.loose {
                let mut any = DocBits::new(max_doc);
                let infos = loose.variants.iter().flat_map(|v| &v.postings).filter(|(segment, _)| *segment == ord);
                for (_, info) in infos {
                    let mut postings = inverted
                        .read_block_postings_from_terminfo(info, IndexRecordOption::Basic)
                        .map_err(unreadable)?;
                    for_each_block(&mut postings, |docs, _| docs.iter().for_each(|&doc| any.insert(doc)));
                }
                for doc in any.iter() {
                    scores[doc as usize] += loose.score;
                }
                matched.union(&any);
            }
            // So far every match is scored; the deferred words' documents are not yet.
            let mut ranked = (!deferred.is_empty()).then(|| matched.clone());
            for word in &deferred {
                matched.union(&word.word.docs);
            }
            if let Some(filter) = &filter {
                let mut allowed = DocBits::new(max_doc);
                filter.for_each_no_score(segment, &mut |docs| docs.iter().for_each(|&doc| allowed.insert(doc)))?;
                matched.intersect(&allowed);
            }
            if let Some(alive) = segment.alive_bitset() {
                matched.retain(|doc| alive.is_alive(doc));
            }
            if let Some(ranked) = &mut ranked {
                ranked.intersect(&matched);
            }
            segments.push(SegmentMatches { scores, docs: matched, ranked });
            deferred_by_segment.push(deferred);
        }
        let doc_freqs = self.scored.iter().map(|scored| scored.term.clone()).zip(doc_freqs).collect();
        let mut matches = Matches { segments, limit, offset, doc_freqs };
        if deferred_by_segment.iter().all(Vec::is_empty) {
            return Ok(matches);
        }
        // The floor: no document scoring below it can be among the best `kept`; none when
        // fewer than `kept` have a score yet.
        let best = matches.best(kept);
        let floor = match best.last() {
            Some(&(score, _)) if best.len() == kept => score,
            _ => 0.0,
        };
        for ((segment, deferred), reader) in
            matches.segments.iter_mut().zip(deferred_by_segment).zip(searcher.segment_readers())
        {
            let Some(ranked) = &mut segment.ranked else { continue };
            let inverted = reader.inverted_index(self.field)?;
            let norms = reader.get_fieldnorms_reader(self.field)?;
            let length = |doc| norms.fieldnorm_id(doc);
            // Above the exact bound, for the rounding of sums taken in another order.
            let bound: Score = deferred.iter().map(|d| d.word.max_score(d.weight) * d.boost).sum::<Score>()
                * (1.0 + BOUND_MARGIN)
                + BOUND_MARGIN;
            if bound >= floor {
                for d in &deferred {
                    add_scores(&inverted, &d.info, &mut segment.scores, length, d.weight, d.boost, |_| {})?;
                }
                segment.ranked = None;
                continue;
            }
            ranked.retain_reaching(&segment.scores, bound, floor);
            let candidates = ranked.len() as u64;
            for d in &deferred {
                // Seeking costs more than reading a posting in turn: with many candidates, read
                // the word's postings through (the others' scores stay at most exact).
                if candidates.saturating_mul(POSTINGS_READ_PER_SEEK) >= u64::from(d.info.doc_freq) {
                    add_scores(&inverted, &d.info, &mut segment.scores, length, d.weight, d.boost, |_| {})?;
                    continue;
                }
                let mut postings =
                    inverted.read_postings_from_terminfo(&d.info, IndexRecordOption::WithFreqs).map_err(unreadable)?;
                for doc in ranked.iter() {
                    // A seek goes forward only, and may already have passed `doc`.
                    if postings.doc() < doc {
                        postings.seek(doc);
                    }
                    if postings.doc() == doc {
                        segment.scores[doc as usize] += d.weight.score(length(doc), postings.term_freq()) * d.boost;
                    }
                }
            }
        }
        Ok(matches)
    }
}

/// A common word of a segment whose scores wait for the floor.
struct Deferred<'a> {
    boost: Score,
    weight: &'a Bm25Weight,
    info: TermInfo,
    word: &'a CommonWord,
}

/// Adds a word's score to each of its documents in `scores`, and calls `visit` with each.
fn add_scores(
    inverted: &InvertedIndexReader,
    info: &TermInfo,
    scores: &mut [Score],
    length: impl Fn(DocId) -> u8,
    weight: &Bm25Weight,
    boost: Score,
    mut visit: impl FnMut(DocId),
) -> Result<(), SearchError> {
    let mut postings =
        inverted.read_block_postings_from_terminfo(info, IndexRecordOption::WithFreqs).map_err(unreadable)?;
    for_each_block(&mut postings, |docs, freqs| {
        for (i, &doc) in docs.iter().enumerate() {
            // A term stored without frequencies counts once, as in tantivy.
            let freq = freqs.get(i).copied().unwrap_or(1);
            // Times one is exact, so an unboosted word scores as tantivy's plain term.
            scores[doc as usize] += weight.score(length(doc), freq) * boost;
            visit(doc);
        }
    });
    Ok(())
}

/// What a plain query matched, segment by segment (in the searcher's order).
#[derive(Debug)]
pub(crate) struct Matches {
    segments: Vec<SegmentMatches>,
    limit: usize,
    offset: usize,
    /// How many documents of the index hold each scored word.
    doc_freqs: HashMap<Term, u64>,
}

/// One segment's live matches and their scores.
#[derive(Debug)]
pub(crate) struct SegmentMatches {
    /// By document; exact for the documents in `ranked`, at most the exact score for the
    /// other matches.
    scores: Vec<Score>,
    pub docs: DocBits,
    /// The matches that can be among the best asked for, each with its exact score, when
    /// not all of them (`docs`) can.
    ranked: Option<DocBits>,
}

impl Matches {
    /// By segment ordinal.
    pub fn segments(&self) -> &[SegmentMatches] {
        &self.segments
    }

    /// How many documents of the index hold each of the query's scored words.
    pub fn into_doc_freqs(self) -> HashMap<Term, u64> {
        self.doc_freqs
    }

    /// How many documents matched.
    pub fn count(&self) -> usize {
        self.segments.iter().map(|segment| segment.docs.len()).sum()
    }

    /// The best `limit` matches after the first `offset` (as given to
    /// [`PlainQuery::matches`]), best first; equal scores in index order.
    pub fn top(&self) -> Vec<(Score, DocAddress)> {
        self.best(self.limit.saturating_add(self.offset)).into_iter().skip(self.offset).collect()
    }

    /// The best `kept` (at least one) of the `ranked` documents by their present scores, best
    /// first; equal scores in index order. Candidates go to a buffer of twice what is kept,
    /// cut back to the best when it fills: from then on a match scoring at most the worst kept
    /// one is skipped, 64 documents' scores compared at once (a later document loses a tie).
    fn best(&self, kept: usize) -> Vec<(Score, DocAddress)> {
        let kept = kept.max(1);
        let rank = |a: &(Score, DocAddress), b: &(Score, DocAddress)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        let mut buffer: Vec<(Score, DocAddress)> = Vec::with_capacity(kept.saturating_mul(2).min(1 << 16));
        let mut threshold = None;
        for (ord, segment) in (0..).zip(&self.segments) {
            let docs = segment.ranked.as_ref().unwrap_or(&segment.docs);
            docs.visit_above(&segment.scores, threshold, |doc, score| {
                buffer.push((score, DocAddress::new(ord, doc)));
                if buffer.len() >= kept.saturating_mul(2) {
                    buffer.select_nth_unstable_by(kept - 1, rank);
                    buffer.truncate(kept);
                    threshold = buffer.last().map(|(score, _)| *score);
                }
                threshold
            });
        }
        buffer.sort_unstable_by(rank);
        buffer.truncate(kept);
        buffer
    }
}

/// About how many postings read in turn cost as much as one seek to a candidate's.
const POSTINGS_READ_PER_SEEK: u64 = 8;

/// Relative (and absolute) slack added to a bound on what deferred words can add.
const BOUND_MARGIN: Score = 1e-4;

/// A segment's matches are read off its scores when its scored words hold at least one
/// posting per this many of its documents; with fewer, each posting sets its bit. (At one per
/// four, `GET /search` long p50 2.12 -> 1.97 ms at 200,000 documents, short unchanged.)
const SCAN_FROM_ONE_POSTING_PER: u64 = 4;

fn unreadable(error: std::io::Error) -> SearchError {
    SearchError::Index(format!("reading postings failed: {error}"))
}

/// Calls `visit` with each block of documents and their frequencies (ones when not read).
pub(crate) fn for_each_block(postings: &mut BlockSegmentPostings, mut visit: impl FnMut(&[DocId], &[u32])) {
    loop {
        let docs = postings.docs();
        if docs.is_empty() {
            return;
        }
        visit(docs, postings.freqs());
        postings.advance();
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use proptest::prelude::*;
    use tantivy::collector::{Count, DocSetCollector, TopDocs};
    use tantivy::schema::{STRING, Schema, TEXT};
    use tantivy::{Index, IndexWriter, TantivyDocument, Warmer};

    use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, TermQuery};

    use super::*;
    use crate::common_words::{CommonWords, Commonness};

    const WORDS: [&str; 12] =
        ["alpha", "beta", "gamma", "delta", "alp", "alphas", "bet", "betas", "gam", "omega", "zeta", "eta"];

    /// An index of `docs` (word numbers; the last is the tag) in several segments, with
    /// `deleted` removed; returns the index, its text field and its tag field.
    fn index_of(docs: &[(Vec<usize>, bool)], deleted: &[usize]) -> (Index, Field, Field) {
        let mut schema = Schema::builder();
        let text = schema.add_text_field("text", TEXT);
        let tag = schema.add_text_field("tag", STRING);
        let index = Index::create_in_ram(schema.build());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).expect("a writer");
        for (n, (words, tagged)) in docs.iter().enumerate() {
            let mut doc = TantivyDocument::default();
            let body: Vec<&str> = words.iter().map(|&w| WORDS[w % WORDS.len()]).collect();
            doc.add_text(text, body.join(" "));
            doc.add_text(tag, if *tagged { "yes" } else { "no" });
            doc.add_text(tag, format!("n{n}"));
            writer.add_document(doc).expect("added");
            if n % 7 == 6 {
                writer.commit().expect("a segment");
            }
        }
        for n in deleted {
            writer.delete_term(Term::from_field_text(tag, &format!("n{n}")));
        }
        writer.commit().expect("committed");
        (index, text, tag)
    }

    /// A variant's postings looked up in every segment, as the expansion walk finds them.
    fn variant(searcher: &Searcher, field: Field, word: &str) -> Variant {
        let term = Term::from_field_text(field, word);
        let postings = (0..)
            .zip(searcher.segment_readers())
            .filter_map(|(ord, segment)| {
                let info = segment.inverted_index(field).expect("readable").get_term_info(&term).expect("readable");
                info.map(|info| (ord, info))
            })
            .collect();
        Variant { term, postings }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Every live match, its score and the ranking are tantivy's own for the same query,
        /// with or without a filter, whichever words are common in which segments.
        #[test]
        fn agrees_with_tantivy(
            docs in prop::collection::vec((prop::collection::vec(0usize..12, 1..12), any::<bool>()), 1..60),
            deleted in prop::collection::vec(0usize..60, 0..6),
            scored in prop::collection::vec((0usize..12, prop::bool::ANY), 0..4),
            loose in prop::collection::vec(prop::collection::vec(0usize..12, 1..4), 0..3),
            filtered in any::<bool>(),
            limit in 1usize..8,
            min_segment_docs in 1u32..10,
            one_doc_per in 1u32..4,
        ) {
            let (index, text, tag) = index_of(&docs, &deleted);
            let searcher = index.reader().expect("a reader").searcher();
            let common_words = CommonWords::new(text, Commonness { min_segment_docs, one_doc_per });
            common_words.warm(&searcher).expect("warmed");
            let query = PlainQuery {
                field: text,
                scored: scored
                    .iter()
                    .map(|&(w, boosted)| ScoredTerm {
                        term: Term::from_field_text(text, WORDS[w]),
                        boost: if boosted { 0.5 } else { 1.0 },
                    })
                    .collect(),
                loose: loose
                    .iter()
                    .map(|words| LooseTerms {
                        variants: words.iter().map(|&w| variant(&searcher, text, WORDS[w])).collect(),
                        score: 0.5,
                    })
                    .collect(),
            };
            let filter: Option<Box<dyn Query>> = filtered.then(|| {
                let yes = TermQuery::new(Term::from_field_text(tag, "yes"), IndexRecordOption::Basic);
                Box::new(ConstScoreQuery::new(Box::new(yes), 0.0)) as Box<dyn Query>
            });
            let expected_query: Box<dyn Query> = match &filter {
                None => query.to_query(),
                Some(filter) => Box::new(BooleanQuery::new(vec![
                    (Occur::Must, query.to_query()),
                    (Occur::Must, filter.box_clone()),
                ])),
            };
            let offset = limit / 3;
            let collectors = (TopDocs::with_limit(limit).and_offset(offset), Count, DocSetCollector);
            let matches =
                query.matches(&searcher, filter.as_deref(), &common_words.of(&searcher), limit, offset).expect("our run");
            let ours_top = matches.top();
            let ours_count = matches.count();
            let ours_all: HashSet<DocAddress> = (0..)
                .zip(matches.segments())
                .flat_map(|(ord, segment)| segment.docs.iter().map(move |doc| DocAddress::new(ord, doc)))
                .collect();
            let (top, count, all): (Vec<(Score, DocAddress)>, usize, HashSet<DocAddress>) =
                searcher.search(&*expected_query, &collectors).expect("tantivy's run");
            prop_assert_eq!(ours_count, count);
            prop_assert_eq!(ours_all, all);
            prop_assert_eq!(ours_top.len(), top.len());
            for ((ours, ours_doc), (theirs, their_doc)) in ours_top.iter().zip(&top) {
                prop_assert!((ours - theirs).abs() <= 1e-5 * theirs.abs().max(1.0), "{ours} against {theirs}");
                // Only a difference in the last bits of a sum may reorder equal scores.
                prop_assert!(ours_doc == their_doc || (ours - theirs).abs() <= 1e-5, "{ours_top:?} against {top:?}");
            }
        }
    }
}
