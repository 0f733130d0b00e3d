//! Facet counts over every match, from a table of each document's facet values kept per
//! segment. tantivy's `FacetCollector` reads a match's values from a multi-valued column (an
//! optional index, start offsets, then the values): under `GET /search` at 200,000 documents
//! that was a third of the server's CPU (`perf` during bench/search_http.sh). A segment never
//! changes once written, so its table is built once, in one pass over the column, when the
//! index reader loads the segment (a tantivy [`Warmer`]: on the indexer's thread, not on a
//! search), and dropped when no searcher holds the segment any longer; a match then costs a
//! slice and an increment per value.
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
        for doc in 0..segment.max_doc() {
            starts.push(count_u32(values.len())?);
            values.extend(reader.facet_ords(doc).map(|ord| ord as u32));
        }
        starts.push(count_u32(values.len())?);
        Ok(Self { starts, values, names })
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
        for list in
            [&mut facets.engagement, &mut facets.category, &mut facets.tag, &mut facets.kind, &mut facets.status]
        {
            list.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
            list.truncate(VALUES_REPORTED);
        }
        Ok(facets)
    }
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
        let table = &*self.table;
        let doc = doc as usize;
        let (Some(&start), Some(&end)) = (table.starts.get(doc), table.starts.get(doc + 1)) else { return };
        for &value in &table.values[start as usize..end as usize] {
            self.counts[value as usize] += 1;
        }
    }

    fn harvest(self) -> Self::Fruit {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, count)| **count > 0)
            .map(|(value, count)| {
                let (root, name) = &self.table.names[value];
                (root.clone(), name.clone(), *count)
            })
            .collect()
    }
}
