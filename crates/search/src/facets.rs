//! Facet counts over every match, from a table of each document's facet values kept per
//! segment. tantivy's `FacetCollector` reads a match's values from a multi-valued column (an
//! optional index, start offsets, then the values): under `GET /search` at 200,000 documents
//! that was a third of the server's CPU (`perf` during bench/search_http.sh). A segment never
//! changes once written, so its table is built once, in one pass over the column, when the
//! index reader loads the segment (a tantivy [`Warmer`]: on the indexer's thread, not on a
//! search), and dropped when no searcher holds the segment any longer; a match then costs a
//! slice and an increment per value. A plain query's matches come as a bit set per segment
//! ([`FacetCounter::count_matches`]): then a value held by many documents is counted as the
//! popcount of its own bit set and the matches', a rare one from its list of documents, when
//! that is cheaper than visiting every match (a long query matches most of the index).
#![expect(
    clippy::disallowed_types,
    reason = "the std Mutex guards a map lookup on a blocking search, never held across an await"
)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::index::SegmentId;
use tantivy::schema::Facet;
use tantivy::{DocId, Score, Searcher, SearcherGeneration, SegmentOrdinal, SegmentReader, TantivyError, Warmer};

use crate::doc_bits::DocBits;
use crate::scoring::Matches;
use crate::{FacetCount, Facets, SearchError};

/// The facet field's name in the schema.
pub const FIELD: &str = "facets";
/// Facet values reported per facet, most frequent first.
const VALUES_REPORTED: usize = 20;

/// The tables of the segments that searchers hold.
#[derive(Debug, Default)]
pub struct FacetTables(Mutex<HashMap<SegmentId, Arc<SegmentTable>>>);

impl FacetTables {
    /// A counter over `searcher`'s segments, building the table of any segment the warmer
    /// has not (a failed warm-up).
    pub fn counter(&self, searcher: &Searcher) -> Result<FacetCounter, SearchError> {
        let segments = searcher.segment_readers();
        let known: Vec<Option<Arc<SegmentTable>>> = {
            let tables = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            segments.iter().map(|segment| tables.get(&segment.segment_id()).cloned()).collect()
        };
        let mut built = Vec::new();
        let mut ordered = Vec::with_capacity(segments.len());
        for (segment, table) in segments.iter().zip(known) {
            let table = match table {
                Some(table) => table,
                None => {
                    let table = Arc::new(SegmentTable::build(segment)?);
                    built.push((segment.segment_id(), Arc::clone(&table)));
                    table
                }
            };
            ordered.push(table);
        }
        if !built.is_empty() {
            self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend(built);
        }
        Ok(FacetCounter { tables: ordered })
    }
}

impl Warmer for FacetTables {
    fn warm(&self, searcher: &Searcher) -> tantivy::Result<()> {
        self.counter(searcher).map(drop).map_err(|error| TantivyError::InternalError(error.to_string()))
    }

    fn garbage_collect(&self, live: &[&SearcherGeneration]) {
        let mut tables = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        tables.retain(|id, _| live.iter().any(|generation| generation.segments().contains_key(id)));
    }
}

/// One segment's documents and their facet values.
#[derive(Debug)]
pub struct SegmentTable {
    /// Where each document's values start in `values`, and where the last one's end.
    starts: Vec<u32>,
    /// Value numbers (indexes into `names`), document after document.
    values: Vec<u32>,
    /// The facet (`kind`, `tag`, ...) and value of each value number.
    names: Vec<(String, String)>,
    /// The documents holding each value number.
    holders: Vec<Holders>,
    /// What counting every value from `holders` costs, in words or documents visited.
    cost_by_value: usize,
}

/// The documents holding one facet value: a bit set when they are more than the set has
/// words (counting is then a popcount per word), else their list.
#[derive(Debug)]
enum Holders {
    Many(DocBits),
    Few(Vec<DocId>),
}

impl SegmentTable {
    fn build(segment: &SegmentReader) -> Result<Self, SearchError> {
        let reader = segment.facet_reader(FIELD)?;
        let mut names = Vec::with_capacity(reader.num_facets());
        let mut facet = Facet::root();
        for ord in 0..reader.num_facets() as u64 {
            reader.facet_from_ord(ord, &mut facet)?;
            let path = facet.to_path();
            names.push(match path.as_slice() {
                [root, value] => ((*root).to_owned(), (*value).to_owned()),
                _ => (String::new(), facet.to_path_string()),
            });
        }
        let documents = segment.max_doc() as usize;
        let mut starts = Vec::with_capacity(documents + 1);
        let mut values = Vec::with_capacity(documents * 2);
        let mut holding = vec![0usize; names.len()];
        let mut held = Vec::new();
        for doc in 0..segment.max_doc() {
            starts.push(count_u32(values.len())?);
            // A document counts once for a value it holds twice.
            held.clear();
            held.extend(reader.facet_ords(doc).map(|ord| ord as u32));
            held.sort_unstable();
            held.dedup();
            for &value in &held {
                if let Some(n) = holding.get_mut(value as usize) {
                    *n += 1;
                }
            }
            values.extend_from_slice(&held);
        }
        starts.push(count_u32(values.len())?);
        let words = DocBits::words(segment.max_doc());
        let mut holders: Vec<Holders> = holding
            .iter()
            .map(|&n| {
                if n > words {
                    Holders::Many(DocBits::new(segment.max_doc()))
                } else {
                    Holders::Few(Vec::with_capacity(n))
                }
            })
            .collect();
        for (doc, range) in (0..).zip(starts.windows(2)) {
            for &value in &values[range[0] as usize..range[1] as usize] {
                match holders.get_mut(value as usize) {
                    Some(Holders::Many(bits)) => bits.insert(doc),
                    Some(Holders::Few(list)) => list.push(doc),
                    None => {}
                }
            }
        }
        let cost_by_value = holding.iter().map(|&n| n.min(words)).sum();
        Ok(Self { starts, values, names, holders, cost_by_value })
    }

    /// Adds the values of `doc` to `counts` (by value number).
    fn count_document(&self, doc: DocId, counts: &mut [u64]) {
        let doc = doc as usize;
        let (Some(&start), Some(&end)) = (self.starts.get(doc), self.starts.get(doc + 1)) else { return };
        for &value in &self.values[start as usize..end as usize] {
            counts[value as usize] += 1;
        }
    }

    /// Adds the values of the documents of `matched` to `counts`, visiting either every match
    /// or every value, whichever costs less.
    fn count_set(&self, matched: &DocBits, counts: &mut [u64]) {
        let documents = self.starts.len().saturating_sub(1).max(1);
        let cost_by_match = matched.len().saturating_mul(self.values.len()) / documents;
        if cost_by_match <= self.cost_by_value {
            matched.iter().for_each(|doc| self.count_document(doc, counts));
        } else {
            self.count_by_value(matched, counts);
        }
    }

    fn count_by_value(&self, matched: &DocBits, counts: &mut [u64]) {
        for (count, holders) in counts.iter_mut().zip(&self.holders) {
            *count += match holders {
                Holders::Many(bits) => bits.common(matched),
                Holders::Few(list) => list.iter().filter(|&&doc| matched.contains(doc)).count(),
            } as u64;
        }
    }

    /// The values counted at least once: (facet, value, count).
    fn named(&self, counts: &[u64]) -> Vec<(String, String, u64)> {
        counts
            .iter()
            .enumerate()
            .filter(|(_, count)| **count > 0)
            .map(|(value, count)| {
                let (root, name) = &self.names[value];
                (root.clone(), name.clone(), *count)
            })
            .collect()
    }
}

fn count_u32(n: usize) -> Result<u32, SearchError> {
    u32::try_from(n).map_err(|_| SearchError::Index("a segment holds more facet values than 2^32".to_owned()))
}

/// Counts the facet values of the documents a search matches.
#[derive(Debug)]
pub struct FacetCounter {
    /// By segment ordinal.
    tables: Vec<Arc<SegmentTable>>,
}

impl Collector for FacetCounter {
    type Fruit = Facets;
    type Child = SegmentCounter;

    fn for_segment(&self, segment: SegmentOrdinal, _reader: &SegmentReader) -> tantivy::Result<SegmentCounter> {
        let table = self
            .tables
            .get(segment as usize)
            .cloned()
            .ok_or_else(|| TantivyError::InternalError(format!("no facet table for segment {segment}")))?;
        Ok(SegmentCounter { counts: vec![0; table.names.len()], table })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<Vec<(String, String, u64)>>) -> tantivy::Result<Facets> {
        Ok(facets_of(segments))
    }
}

impl FacetCounter {
    /// The facet counts of a plain query's matches.
    pub fn count_matches(&self, matches: &Matches) -> Result<Facets, SearchError> {
        let mut segments = Vec::with_capacity(matches.segments().len());
        for (ord, segment) in matches.segments().iter().enumerate() {
            let table =
                self.tables.get(ord).ok_or_else(|| SearchError::Index(format!("no facet table for segment {ord}")))?;
            let mut counts = vec![0; table.names.len()];
            table.count_set(&segment.docs, &mut counts);
            segments.push(table.named(&counts));
        }
        Ok(facets_of(segments))
    }
}

/// The facets of counts by segment: (facet, value, count), the most frequent values first.
fn facets_of(segments: Vec<Vec<(String, String, u64)>>) -> Facets {
    let mut totals: HashMap<(String, String), u64> = HashMap::new();
    for (root, value, count) in segments.into_iter().flatten() {
        *totals.entry((root, value)).or_default() += count;
    }
    let mut facets = Facets::default();
    for ((root, value), count) in totals {
        let list = match root.as_str() {
            "engagement" => &mut facets.engagement,
            "category" => &mut facets.category,
            "tag" => &mut facets.tag,
            "kind" => &mut facets.kind,
            "status" => &mut facets.status,
            _ => continue,
        };
        list.push(FacetCount { value, count });
    }
    for list in [&mut facets.engagement, &mut facets.category, &mut facets.tag, &mut facets.kind, &mut facets.status] {
        list.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        list.truncate(VALUES_REPORTED);
    }
    facets
}

/// The counts of one segment.
pub struct SegmentCounter {
    table: Arc<SegmentTable>,
    /// By value number.
    counts: Vec<u64>,
}

impl SegmentCollector for SegmentCounter {
    type Fruit = Vec<(String, String, u64)>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.table.count_document(doc, &mut self.counts);
    }

    fn harvest(self) -> Self::Fruit {
        self.table.named(&self.counts)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tantivy::schema::{FacetOptions, Schema};
    use tantivy::{Index, IndexWriter, TantivyDocument};

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// Counting by match and counting by value agree with the values each matched
        /// document holds, for common values (bit sets) and rare ones (lists).
        #[test]
        fn both_ways_of_counting_agree(
            docs in prop::collection::vec((0usize..3, prop::collection::vec(0usize..200, 0..4), any::<bool>()), 1..400),
        ) {
            let mut schema = Schema::builder();
            let field = schema.add_facet_field(FIELD, FacetOptions::default());
            let index = Index::create_in_ram(schema.build());
            let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).expect("a writer");
            for (n, (kind, tags, _)) in docs.iter().enumerate() {
                let mut doc = TantivyDocument::default();
                doc.add_facet(field, Facet::from_path(["kind", &format!("k{kind}")]));
                for tag in tags {
                    doc.add_facet(field, Facet::from_path(["tag", &format!("t{tag}")]));
                }
                writer.add_document(doc).expect("added");
                if n % 150 == 149 {
                    writer.commit().expect("a segment");
                }
            }
            writer.commit().expect("committed");
            let searcher = index.reader().expect("a reader").searcher();
            let mut start = 0;
            for segment in searcher.segment_readers() {
                let table = SegmentTable::build(segment).expect("a table");
                let reader = segment.facet_reader(FIELD).expect("facets");
                let mut matched = DocBits::new(segment.max_doc());
                let mut expected = vec![0u64; table.names.len()];
                for doc in 0..segment.max_doc() {
                    // Each document's pick, whichever segment holds it: a random match set.
                    if docs[start + doc as usize].2 {
                        matched.insert(doc);
                        let mut held: Vec<u64> = reader.facet_ords(doc).collect();
                        held.sort_unstable();
                        held.dedup();
                        held.iter().for_each(|&ord| expected[ord as usize] += 1);
                    }
                }
                start += segment.max_doc() as usize;
                let mut by_match = vec![0; table.names.len()];
                matched.iter().for_each(|doc| table.count_document(doc, &mut by_match));
                let mut by_value = vec![0; table.names.len()];
                table.count_by_value(&matched, &mut by_value);
                let mut chosen = vec![0; table.names.len()];
                table.count_set(&matched, &mut chosen);
                prop_assert_eq!(&by_match, &expected);
                prop_assert_eq!(&by_value, &expected);
                prop_assert_eq!(&chosen, &expected);
            }
        }
    }
}
