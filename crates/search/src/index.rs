//! The full-text index: one tantivy document per live knowledge item, with BM25 over title
//! and body (English stemming), phrase queries, typo tolerance and prefix matching for
//! search-as-you-type, highlighted snippets and facet counts. The log position it reflects is
//! stored in the index's own commit, so index and checkpoint can never disagree: a deleted
//! index directory starts again from position 0.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};

use rustc_hash::FxHashMap;
use tantivy::collector::{Count, DocSetCollector, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::merge_policy::LogMergePolicy;
use tantivy::query::{AllQuery, BooleanQuery, ConstScoreQuery, Occur, Query, QueryParser, TermQuery, TermSetQuery};
use tantivy::schema::{
    FAST, Facet, FacetOptions, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{TextAnalyzer, TextAnalyzerBuilder, Tokenizer};
use tantivy::{
    DocAddress, Index, IndexBuilder, IndexReader, IndexSettings, IndexWriter, ReloadPolicy, Score, Searcher,
    TantivyDocument, Term, Warmer,
};

use crate::common_words::{CommonWords, Commonness};
use crate::expansion;
use crate::facets::{self, FacetCounter, FacetTables};
use crate::highlight::Highlighter;
use crate::hybrid::Candidate;
use crate::passages::Passage;
use crate::scoring::{LooseTerms, PlainQuery, ScoredTerm, Variant};
use crate::stemming::RememberingStemmer;
use crate::writer::WriterThread;
use crate::{Facets, IndexedItem, SearchError, SearchHit, SearchPage, SearchQuery, Signals};

/// Memory the indexing threads may buffer together before they flush segments.
const WRITER_MEMORY: usize = 50_000_000;
/// Indexing threads, at most one per core: a large batch (a reindex, an import) is split
/// between them; 2 indexed SciFact 1.4x faster than 1 on two cores (bench/fulltext.sh).
const WRITER_THREADS: usize = 2;
/// Bytes of stored documents compressed together, for an index created from now on (an
/// existing one keeps its own). A page reads its ten hits from ten blocks, each decompressed
/// whole: tantivy's default of 16 KiB decompressed about fifteen documents to read one.
const DOCSTORE_BLOCK: usize = 4_096;
/// Longest snippet, in characters.
const SNIPPET_CHARS: usize = 240;
/// Query words shorter than this get no typo tolerance ("cat" would match "car", "hat", ...).
const FUZZY_MIN_CHARS: usize = 5;
/// A query word in at least this many documents is taken as spelled as meant and gets no typo
/// variants. Walking the term dictionaries for them cost 1.2 ms per word at 200,000 documents
/// (12 segments), most of a short query's time, and spent it on words the index knows; a
/// typo ("infrastrcture") is a word it does not know, or hardly.
const KNOWN_WORD_DOCS: u64 = 5;
/// Weight of a typo-tolerant or prefix match next to an exact one (a constant score, where
/// exact matches carry their BM25 score); partial stems score this share of their BM25.
const LOOSE_MATCH_BOOST: f32 = 0.5;
/// Queries of more words than this get no loose matching: each loose word costs a walk of the
/// term dictionary, and long queries are pasted text, not typing.
const LOOSE_MAX_WORDS: usize = 8;
/// Deeper parenthesis nesting than this is read as plain words (the parser recurses).
const MAX_NESTING: usize = 16;
/// The analyzer of every text field: words split at anything not a letter or digit,
/// lowercased, accents folded ("café" finds "cafe"), English (Porter 2) stems.
const ANALYZER: &str = "consailt_english";
/// Words of this many bytes or more are not indexed (nor marked in snippets).
pub(crate) const LONGEST_WORD: usize = 40;

#[derive(Debug, Clone, Copy)]
struct Fields {
    id: Field,
    org: Field,
    engagement: Field,
    kind: Field,
    status: Field,
    tags: Field,
    categories: Field,
    title: Field,
    body: Field,
    /// Title and body together, the field queries are scored on. BM25 over one field counts a
    /// word's occurrences in title and body together; scored per field, a word in both counted
    /// twice and short titles outweighed bodies. On SciFact's training queries nDCG@10 was
    /// 0.605 with title and body fields (title boosted 2x), 0.660 unboosted, 0.684 with this
    /// one. Title and body stay indexed for highlighting and for `title:` queries.
    all: Field,
    facets: Field,
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let indexed =
        TextFieldIndexing::default().set_tokenizer(ANALYZER).set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let text = TextOptions::default().set_indexing_options(indexed.clone()).set_stored();
    let fields = Fields {
        // FAST: ids of matches are read from the column, not from stored documents.
        id: builder.add_text_field("id", STRING | STORED | FAST),
        org: builder.add_text_field("org", STRING),
        engagement: builder.add_text_field("engagement", STRING | STORED),
        kind: builder.add_text_field("kind", STRING | STORED),
        status: builder.add_text_field("status", STRING | STORED | FAST),
        tags: builder.add_text_field("tags", STRING | STORED),
        categories: builder.add_text_field("categories", STRING | STORED),
        title: builder.add_text_field("title", text.clone()),
        // Stored only: words of the body are indexed once, in `all`, and its snippets are
        // marked with the terms of `all` (indexing it twice cost a third of indexing time).
        body: builder.add_text_field("body", STORED),
        all: builder.add_text_field("all", TextOptions::default().set_indexing_options(indexed)),
        facets: builder.add_facet_field(facets::FIELD, FacetOptions::default()),
    };
    (builder.build(), fields)
}

/// The full-text index of one instance.
pub struct FullTextIndex {
    index: Index,
    reader: IndexReader,
    /// Tantivy allows one writer per index; updates are batched by the indexer.
    writer: WriterThread,
    fields: Fields,
    /// Facet counting's tables, kept up to date by the reader as its warmer.
    facet_tables: Arc<FacetTables>,
    /// The scored field's common words per segment, another of the reader's warmers.
    common_words: Arc<CommonWords>,
    path: PathBuf,
}

impl std::fmt::Debug for FullTextIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FullTextIndex").field("path", &self.path).finish_non_exhaustive()
    }
}

impl FullTextIndex {
    /// Opens the index in `dir`, creating it when the directory is missing or empty. An index
    /// held by another process is refused ([`SearchError::Locked`]). One that cannot be opened
    /// otherwise (corrupt files, another schema) is moved aside to
    /// `<dir>.corrupt-<unix time>` with a log line, and a new empty one is created: it is a
    /// projection, so the indexer rebuilds it from the log.
    pub fn open(dir: &Path) -> Result<Self, SearchError> {
        std::fs::create_dir_all(dir).map_err(|e| SearchError::io(dir, e))?;
        match Self::open_existing(dir) {
            Ok(index) => Ok(index),
            // In use is not corrupt: leave it alone.
            Err(error @ SearchError::Locked(_)) => Err(error),
            Err(error) => {
                let aside = aside_path(dir);
                tracing::warn!(%error, index = %dir.display(), moved_to = %aside.display(),
                    "the search index cannot be opened; moving it aside and rebuilding it from the event log");
                std::fs::rename(dir, &aside).map_err(|e| SearchError::io(dir, e))?;
                std::fs::create_dir_all(dir).map_err(|e| SearchError::io(dir, e))?;
                Self::open_existing(dir)
            }
        }
    }

    fn open_existing(dir: &Path) -> Result<Self, SearchError> {
        let (schema, fields) = schema();
        let directory = MmapDirectory::open(dir).map_err(|e| SearchError::Index(e.to_string()))?;
        let settings = IndexSettings { docstore_blocksize: DOCSTORE_BLOCK, ..IndexSettings::default() };
        let index = IndexBuilder::new().schema(schema).settings(settings).open_or_create(directory)?;
        index.tokenizers().register(ANALYZER, analyzer());
        // Validate what was opened: the checkpoint must parse and every segment must load.
        read_checkpoint(&index)?;
        let facet_tables = Arc::new(FacetTables::default());
        let common_words = Arc::new(CommonWords::new(fields.all, Commonness::default()));
        let warmers: Vec<Weak<dyn Warmer>> =
            vec![Arc::downgrade(&facet_tables) as Weak<dyn Warmer>, Arc::downgrade(&common_words) as Weak<dyn Warmer>];
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).warmers(warmers).try_into()?;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(WRITER_THREADS));
        let for_writer = index.clone();
        let writer = WriterThread::start(move || {
            let writer: IndexWriter = for_writer.writer_with_num_threads(threads, WRITER_MEMORY)?;
            writer.set_merge_policy(Box::new(merge_policy()));
            Ok(writer)
        })?;
        Ok(Self { index, reader, writer, fields, facet_tables, common_words, path: dir.to_owned() })
    }

    /// The last log position whose changes are in the index (0 for a new index).
    pub fn checkpoint(&self) -> Result<u64, SearchError> {
        read_checkpoint(&self.index)
    }

    /// Applies a batch of changes and commits them, with those staged before, at the log
    /// position they reach; searches see them when this returns.
    pub fn apply(&self, upserts: &[IndexedItem], deletes: &[String], position: u64) -> Result<(), SearchError> {
        self.write(upserts, deletes, Some(position))
    }

    /// Adds a batch of changes without committing them: the next [`FullTextIndex::apply`]
    /// commits them, and a crash before it loses them (the checkpoint has not moved).
    pub fn stage(&self, upserts: &[IndexedItem], deletes: &[String]) -> Result<(), SearchError> {
        self.write(upserts, deletes, None)
    }

    fn write(&self, upserts: &[IndexedItem], deletes: &[String], commit_at: Option<u64>) -> Result<(), SearchError> {
        let id = self.fields.id;
        let stale: Vec<Term> = deletes
            .iter()
            .chain(upserts.iter().map(|item| &item.id))
            .map(|item_id| Term::from_field_text(id, item_id))
            .collect();
        let documents: Vec<TantivyDocument> = upserts.iter().map(|item| self.document(item)).collect();
        let reader = self.reader.clone();
        // Tokenizing, committing and warming (the facet tables of new segments) all run on the
        // writer's background-priority thread.
        self.writer.run(move |writer| {
            // A delete reaches every document added before it, committed or staged.
            for term in stale {
                writer.delete_term(term);
            }
            for document in documents {
                writer.add_document(document)?;
            }
            if let Some(position) = commit_at {
                let mut commit = writer.prepare_commit()?;
                commit.set_payload(&position.to_string());
                commit.commit()?;
                reader.reload()?;
            }
            Ok(())
        })
    }

    /// Removes every document, checkpoint included (a rebuild starts from an empty index).
    pub fn clear(&self) -> Result<(), SearchError> {
        let reader = self.reader.clone();
        self.writer.run(move |writer| {
            writer.delete_all_documents()?;
            let mut commit = writer.prepare_commit()?;
            commit.set_payload("0");
            commit.commit()?;
            reader.reload()?;
            Ok(())
        })
    }

    /// Documents in the index.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Segments searched: each adds a fixed cost to every query (dictionary walks, scorers).
    pub fn segments(&self) -> usize {
        self.reader.searcher().segment_readers().len()
    }

    /// Whether the index holds no document.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn document(&self, item: &IndexedItem) -> TantivyDocument {
        let f = &self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &item.id);
        doc.add_text(f.org, &item.org);
        doc.add_text(f.engagement, item.engagement.as_deref().unwrap_or(""));
        doc.add_text(f.kind, &item.kind);
        doc.add_text(f.status, &item.status);
        doc.add_text(f.title, &item.title);
        doc.add_text(f.body, &item.body);
        doc.add_text(f.all, &item.title);
        doc.add_text(f.all, &item.body);
        doc.add_facet(f.facets, Facet::from_path(["kind", item.kind.as_str()]));
        doc.add_facet(f.facets, Facet::from_path(["status", item.status.as_str()]));
        if let Some(engagement) = &item.engagement {
            doc.add_facet(f.facets, Facet::from_path(["engagement", engagement.as_str()]));
        }
        for tag in &item.tags {
            doc.add_text(f.tags, tag);
            doc.add_facet(f.facets, Facet::from_path(["tag", tag.as_str()]));
        }
        for category in &item.categories {
            doc.add_text(f.categories, category);
            doc.add_facet(f.facets, Facet::from_path(["category", category.as_str()]));
        }
        doc
    }

    /// Ranked hits of one organization's items for `query`, with highlights and facet counts.
    pub fn search(&self, query: &SearchQuery) -> Result<SearchPage, SearchError> {
        let searcher = self.reader.searcher();
        let words = split_compounds(&flatten(&query.text));
        let counter = self.facet_tables.counter(&searcher)?;
        let Some(Ranked { top: ranked, total, facets, doc_freqs }) =
            self.run(&searcher, query, &words, query.limit, query.offset, Some(counter))?
        else {
            return Ok(SearchPage::default());
        };
        let fulltext = Signals { fulltext: true, semantic: false };
        let ranked = ranked.into_iter().map(|(score, address)| (address, score, fulltext, None)).collect();
        let hits = self.hydrate(&searcher, &words, ranked, &doc_freqs)?;
        Ok(SearchPage { hits, total: total as u64, facets })
    }

    /// The ids of the best `limit` items for `query` and their scores, without snippets or
    /// facets: the full-text side of a fusion.
    pub fn ranked_ids(&self, query: &SearchQuery, limit: usize) -> Result<Vec<(String, f32)>, SearchError> {
        let searcher = self.reader.searcher();
        let words = split_compounds(&flatten(&query.text));
        let Some(Ranked { top: ranked, .. }) = self.run(&searcher, query, &words, limit, 0, None)? else {
            return Ok(Vec::new());
        };
        let ids = ids_of(&searcher, ranked.iter().map(|(_, address)| *address))?;
        Ok(ids.into_iter().zip(ranked).map(|(id, (score, _))| (id, score)).collect())
    }

    /// The ids of every item `query`'s filters let through, when it filters by what only this
    /// index knows (category, tag, kind, status): the set a semantic ranking is restricted
    /// to. `None` when it does not.
    pub fn matching_ids(&self, query: &SearchQuery) -> Result<Option<HashSet<String>>, SearchError> {
        let filters = &query.filters;
        if filters.category.is_none() && filters.tag.is_none() && filters.kind.is_none() && filters.status.is_none() {
            return Ok(None);
        }
        let searcher = self.reader.searcher();
        let Some(filter) = self.filter(&searcher, query).apply(Box::new(AllQuery)) else {
            return Ok(Some(HashSet::new()));
        };
        let matched = searcher.search(&*filter, &DocSetCollector)?;
        Ok(Some(ids_of(&searcher, matched)?.into_iter().collect()))
    }

    /// A page of `candidates`, ranked by the caller (a semantic or fused ranking), keeping only
    /// those `query`'s restrictions and filters let through; facet counts are over all that
    /// pass. Snippets mark the query's words, or show the candidate's passage when none
    /// matched.
    pub fn page_of(&self, query: &SearchQuery, candidates: &[Candidate]) -> Result<SearchPage, SearchError> {
        let searcher = self.reader.searcher();
        let ids = candidates.iter().map(|c| Term::from_field_text(self.fields.id, &c.id));
        let Some(restricted) = self.filter(&searcher, query).apply(Box::new(TermSetQuery::new(ids))) else {
            return Ok(SearchPage::default());
        };
        let counter = self.facet_tables.counter(&searcher)?;
        let (matched, facets) = searcher.search(&*restricted, &(DocSetCollector, counter))?;
        let addresses: Vec<DocAddress> = matched.into_iter().collect();
        let ids = ids_of(&searcher, addresses.iter().copied())?;
        let address_of: HashMap<String, DocAddress> = ids.into_iter().zip(addresses).collect();
        let passing: Vec<&Candidate> = candidates.iter().filter(|c| address_of.contains_key(&c.id)).collect();
        let page = passing
            .iter()
            .skip(query.offset)
            .take(query.limit.max(1))
            .map(|c| (address_of[&c.id], c.score, c.signals, c.passage))
            .collect();
        let words = split_compounds(&flatten(&query.text));
        let hits = self.hydrate(&searcher, &words, page, &HashMap::new())?;
        Ok(SearchPage { hits, total: passing.len() as u64, facets })
    }

    /// Runs the text query `words` (as [`split_compounds`] leaves them) within `query`'s
    /// restrictions: the best `limit` matches after `offset`, how many matched, and their
    /// facet counts when `counter` is given; `None` when the restrictions let nothing through.
    fn run(
        &self,
        searcher: &Searcher,
        query: &SearchQuery,
        words: &str,
        limit: usize,
        offset: usize,
        counter: Option<FacetCounter>,
    ) -> Result<Option<Ranked>, SearchError> {
        let restriction = self.filter(searcher, query);
        if matches!(restriction, Restriction::Nothing) {
            return Ok(None);
        }
        let limit = limit.max(1);
        match self.text_query(searcher, words)? {
            TextQuery::Plain(plain) => {
                let filter = match &restriction {
                    Restriction::Matching(filter) => Some(&**filter),
                    Restriction::Nothing | Restriction::Everything => None,
                };
                let common = self.common_words.of(searcher);
                let matches = plain.matches(searcher, filter, &common, limit, offset)?;
                let facets = counter.map(|counter| counter.count_matches(&matches)).transpose()?.unwrap_or_default();
                let (top, total) = (matches.top(), matches.count());
                Ok(Some(Ranked { top, total, facets, doc_freqs: matches.into_doc_freqs() }))
            }
            TextQuery::Parsed(parsed) => {
                let Some(full) = restriction.apply(parsed) else { return Ok(None) };
                let top = TopDocs::with_limit(limit).and_offset(offset);
                let (top, total, facets) = match counter {
                    Some(counter) => searcher.search(&*full, &(top, Count, counter))?,
                    None => {
                        let (top, total) = searcher.search(&*full, &(top, Count))?;
                        (top, total, Facets::default())
                    }
                };
                Ok(Some(Ranked { top, total, facets, doc_freqs: HashMap::new() }))
            }
        }
    }

    /// Hits for ranked documents: stored fields, the title and a snippet highlighted with
    /// `words`, or the passage when the body has no match. `doc_freqs` holds document counts
    /// in `all` the query already looked up.
    fn hydrate(
        &self,
        searcher: &Searcher,
        words: &str,
        ranked: Vec<(DocAddress, f32, Signals, Option<Passage>)>,
        doc_freqs: &HashMap<Term, u64>,
    ) -> Result<Vec<SearchHit>, SearchError> {
        let highlight = self.highlight_query(words);
        let highlighter = snippets(self.highlight_weights(searcher, &*highlight, doc_freqs)?);
        let mut hits = Vec::with_capacity(ranked.len());
        for (address, score, signals, passage) in ranked {
            let doc: TantivyDocument = searcher.doc(address)?;
            let title_text = stored(&doc, self.fields.title);
            let title = highlighter.snippet(title_text.trim());
            let text = stored(&doc, self.fields.body);
            let body = highlighter.snippet(&text);
            let snippet = match passage {
                Some(passage) if body.is_empty() => passage_snippet(&text, passage),
                _ => body.to_html(html_escape),
            };
            let engagement = stored(&doc, self.fields.engagement);
            let title_highlighted =
                if title.is_empty() { html_escape(&title_text) } else { title.to_html(html_escape) };
            hits.push(SearchHit {
                id: stored(&doc, self.fields.id),
                title: title_text,
                title_highlighted,
                snippet,
                score,
                signals,
                engagement: (!engagement.is_empty()).then_some(engagement),
                kind: stored(&doc, self.fields.kind),
                status: stored(&doc, self.fields.status),
            });
        }
        Ok(hits)
    }

    /// What each word of `highlight` weighs in choosing a snippet, as tantivy's
    /// `SnippetGenerator::create` weighs them (rarer words count more), for title and body
    /// alike: by how many documents hold it in `all`, where the title's words are too (a word
    /// no document holds is left out). Counts in `doc_freqs` are not looked up again; the
    /// others are looked up once, not per field (the lookups in every segment's dictionary
    /// were a twentieth of a long query's time).
    fn highlight_weights(
        &self,
        searcher: &Searcher,
        highlight: &dyn Query,
        doc_freqs: &HashMap<Term, u64>,
    ) -> Result<FxHashMap<String, Score>, SearchError> {
        let mut words = BTreeSet::new();
        let fields = [self.fields.title, self.fields.all];
        highlight.query_terms(&mut |term, _| {
            if fields.contains(&term.field())
                && let Some(text) = term.value().as_str()
            {
                words.insert(text.to_owned());
            }
        });
        let mut weights = FxHashMap::default();
        for word in words {
            let term = Term::from_field_text(self.fields.all, &word);
            let documents = match doc_freqs.get(&term) {
                Some(&documents) => documents,
                None => searcher.doc_freq(&term)?,
            };
            if documents > 0 {
                weights.insert(word, 1.0 / (1.0 + documents as Score));
            }
        }
        Ok(weights)
    }

    /// The query's words (as [`split_compounds`] leaves them) in the title and in `all`, whose
    /// terms mark the body's snippet.
    fn highlight_query(&self, text: &str) -> Box<dyn Query> {
        let parser = QueryParser::for_index(&self.index, vec![self.fields.title, self.fields.all]);
        parser.parse_query_lenient(text).0
    }

    /// The scored part: BM25 over title and body together. Text with query syntax goes through
    /// the parser (phrases, `+`/`-`, fields; leniently: malformed syntax is read as words).
    /// Plain text is its analyzed words, any of which may match, whatever punctuation joined
    /// them (SciFact's training queries: 0.6917 to 0.6964 nDCG@10, Cranfield 0.3684 to
    /// 0.3696); each also matches its indexed variants one typo away (longer words) and, for
    /// a last word still being typed, the words it begins ([`expansion`]). Syntax asks for
    /// precision, so a phrase is not loosened into its words. `text` comes through
    /// [`flatten`] and [`split_compounds`].
    fn text_query(&self, searcher: &Searcher, text: &str) -> Result<TextQuery, SearchError> {
        let all = self.fields.all;
        if !is_plain(text) {
            let parser = QueryParser::for_index(&self.index, vec![all]);
            return Ok(TextQuery::Parsed(parser.parse_query_lenient(text).0));
        }
        let mut analyzer = self.index.tokenizer_for_field(all)?;
        let mut words = Vec::new();
        let mut stream = analyzer.token_stream(text);
        while stream.advance() {
            words.push(stream.token().text.clone());
        }
        let mut plain = PlainQuery {
            field: all,
            scored: words
                .iter()
                .map(|word| ScoredTerm { term: Term::from_field_text(all, word), boost: 1.0 })
                .collect(),
            loose: Vec::new(),
        };
        if words.len() > LOOSE_MAX_WORDS {
            return Ok(TextQuery::Plain(plain));
        }
        let typing = text.ends_with(char::is_alphanumeric);
        let last = words.len().saturating_sub(1);
        let mut loose = |variants: Vec<Variant>| {
            if !variants.is_empty() {
                plain.loose.push(LooseTerms { variants, score: LOOSE_MATCH_BOOST });
            }
        };
        for (i, word) in words.iter().enumerate() {
            if word.chars().count() >= FUZZY_MIN_CHARS && !is_known(searcher, &Term::from_field_text(all, word))? {
                loose(expansion::typos(searcher, all, word)?);
            }
            if typing && i == last {
                loose(expansion::completions(searcher, all, word)?);
            }
        }
        if typing && let Some(word) = words.last() {
            // The index holds stems, which can be shorter than the word being typed
            // ("migrati" is on its way to "migration", indexed as "migrat").
            for stem in stems_of_partial(word) {
                plain.scored.push(ScoredTerm { term: Term::from_field_text(all, stem), boost: LOOSE_MATCH_BOOST });
            }
        }
        Ok(TextQuery::Plain(plain))
    }

    /// The unscored restrictions: the organization, what the caller may see, and the filters.
    /// The organization's is left out when it holds every document of the index (a practice
    /// of one organization, the common case): there it restricts nothing and cost a third of
    /// a long query's time at 200,000 documents.
    fn filter(&self, searcher: &Searcher, query: &SearchQuery) -> Restriction {
        let f = &self.fields;
        let term = |field: Field, value: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic))
        };
        let mut must = Vec::new();
        if !holds_every_document(searcher, &Term::from_field_text(f.org, &query.org)) {
            must.push(term(f.org, &query.org));
        }
        if let Some(visible) = &query.engagements_visible {
            if visible.is_empty() {
                return Restriction::Nothing;
            }
            let any: Vec<(Occur, Box<dyn Query>)> =
                visible.iter().map(|e| (Occur::Should, term(f.engagement, e))).collect();
            must.push(Box::new(BooleanQuery::new(any)));
        }
        let filters = &query.filters;
        for (field, value) in [
            (f.engagement, &filters.engagement),
            (f.categories, &filters.category),
            (f.tags, &filters.tag),
            (f.kind, &filters.kind),
            (f.status, &filters.status),
        ] {
            if let Some(value) = value {
                must.push(term(field, value));
            }
        }
        if must.is_empty() {
            return Restriction::Everything;
        }
        let all = BooleanQuery::new(must.into_iter().map(|q| (Occur::Must, q)).collect());
        Restriction::Matching(Box::new(ConstScoreQuery::new(Box::new(all), 0.0)))
    }
}

/// The scored part of a search: plain words, scored term at a time, or what the query parser
/// made of text with syntax.
enum TextQuery {
    Plain(PlainQuery),
    Parsed(Box<dyn Query>),
}

/// A page of a text query's matches.
struct Ranked {
    /// Score and address of each hit, best first.
    top: Vec<(f32, DocAddress)>,
    /// How many documents matched.
    total: usize,
    facets: Facets,
    /// How many documents of the index hold each word of the scored field the query looked
    /// up (none for a query with syntax), which its snippets need again.
    doc_freqs: HashMap<Term, u64>,
}

/// What a query's restrictions let through.
enum Restriction {
    /// Nothing (a guest of no engagement).
    Nothing,
    /// Every document of the index.
    Everything,
    /// The documents this unscored query matches.
    Matching(Box<dyn Query>),
}

impl Restriction {
    /// `query` within the restriction; `None` when nothing can match.
    fn apply(self, query: Box<dyn Query>) -> Option<Box<dyn Query>> {
        match self {
            Self::Nothing => None,
            Self::Everything => Some(query),
            Self::Matching(filter) => {
                Some(Box::new(BooleanQuery::new(vec![(Occur::Must, query), (Occur::Must, filter)])))
            }
        }
    }
}

/// Whether every document of the index, deleted ones included, holds `term`: then matching
/// it restricts nothing.
fn holds_every_document(searcher: &Searcher, term: &Term) -> bool {
    let documents: u64 = searcher.segment_readers().iter().map(|segment| u64::from(segment.max_doc())).sum();
    searcher.doc_freq(term).is_ok_and(|count| count == documents)
}

/// Whether the index holds `term` in at least [`KNOWN_WORD_DOCS`] documents.
fn is_known(searcher: &Searcher, term: &Term) -> Result<bool, SearchError> {
    Ok(searcher.doc_freq(term)? >= KNOWN_WORD_DOCS)
}

/// Whether `text` is plain words, without query syntax: quotes, fields, required or excluded
/// words, boosts, ranges, `*`, or the operators AND, OR and NOT. Parentheses alone group
/// nothing that words do not (any word may match), so they are plain. Plain text is read
/// as its words, whatever punctuation joins them: the parser read "IL-6/STAT3" as a phrase.
fn is_plain(text: &str) -> bool {
    !text.contains(['"', ':', '^', '~', '*', '[', ']', '{', '}'])
        && !text.split_whitespace().any(|word| is_required_or_excluded(word) || matches!(word, "AND" | "OR" | "NOT"))
}

/// Whether `word` asks for a word to be present (`+word`) or absent (`-word`): a sign before
/// a letter or a quote ("+1 nucleosomes" is a number).
fn is_required_or_excluded(word: &str) -> bool {
    let mut chars = word.chars();
    matches!(chars.next(), Some('+' | '-')) && signs_a_word(chars.next())
}

/// Whether a `+` or `-` followed by `next` is an operator on a word or a phrase, rather
/// than punctuation or a number's sign.
fn signs_a_word(next: Option<char>) -> bool {
    next.is_some_and(|c| c.is_alphabetic() || c == '"')
}

/// Stems a partly typed word may be heading for: the word shortened by one to three
/// characters, keeping at least four.
fn stems_of_partial(word: &str) -> impl Iterator<Item = &str> {
    let ends: Vec<usize> = word.char_indices().map(|(i, _)| i).skip(4).collect();
    ends.into_iter().rev().take(3).map(move |end| &word[..end])
}

/// Splits hyphenated words outside quotes ("0-dimensional", "IL-6") into separate words.
/// The parser reads a word that analyzes into several as a phrase, demanding them adjacent;
/// as separate words nDCG@10 on SciFact's training queries rose from 0.684 to 0.691. (Plain
/// text no longer meets the parser at all, see [`is_plain`].) A dash that excludes
/// (before a letter or a quote: `-word`, `-"a phrase"`) and quoted phrases keep their meaning;
/// any other dash is punctuation ("G - quadruplex", "E2f-1, -2, -3"), where the parser read
/// "- quadruplex" as excluding the word.
fn split_compounds(text: &str) -> String {
    let mut quoted = false;
    let mut previous = ' ';
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            quoted = !quoted;
        }
        let dash = c == '-' && !quoted && (previous.is_alphanumeric() || !signs_a_word(chars.peek().copied()));
        out.push(if dash { ' ' } else { c });
        previous = c;
    }
    out
}

/// `text`, its parentheses read as spaces when nested deeper than [`MAX_NESTING`].
fn flatten(text: &str) -> String {
    if nesting(text) > MAX_NESTING { text.replace(['(', ')'], " ") } else { text.to_owned() }
}

/// The deepest parenthesis nesting in `text`.
fn nesting(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for c in text.chars() {
        match c {
            '(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// The analyzer of [`ANALYZER`].
pub(crate) fn analyzer() -> TextAnalyzer {
    words().filter(RememberingStemmer).build()
}

/// [`analyzer`] without its last step: the words lowercased and folded, not stemmed.
pub(crate) fn unstemmed_analyzer() -> TextAnalyzer {
    words().build()
}

/// Words split at anything not a letter or digit, those of [`LONGEST_WORD`] bytes or more dropped,
/// lowercased, accents folded.
fn words() -> TextAnalyzerBuilder<impl Tokenizer> {
    use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer};
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(LONGEST_WORD))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
}

/// Segments are merged by size class from 1,000 documents up: tantivy's default treats every
/// segment under 10,000 documents as one class, so under a steady stream of small commits the
/// same documents were merged again and again (a sixth of a core during a create benchmark).
fn merge_policy() -> LogMergePolicy {
    let mut policy = LogMergePolicy::default();
    policy.set_min_layer_size(1_000);
    policy
}

/// Snippets marking the words `weights` holds (by stem).
fn snippets(weights: FxHashMap<String, Score>) -> Highlighter {
    Highlighter::new(weights, unstemmed_analyzer(), SNIPPET_CHARS)
}

fn ids_of(searcher: &Searcher, addresses: impl IntoIterator<Item = DocAddress>) -> Result<Vec<String>, SearchError> {
    let mut columns = HashMap::new();
    let mut ids = Vec::new();
    for address in addresses {
        let column = match columns.entry(address.segment_ord) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                let column = searcher.segment_reader(address.segment_ord).fast_fields().str("id")?;
                entry.insert(column.ok_or_else(|| SearchError::Index("the id column is missing".to_owned()))?)
            }
        };
        let mut id = String::new();
        if let Some(ord) = column.term_ords(address.doc_id).next() {
            column.ord_to_str(ord, &mut id).map_err(|e| SearchError::Index(format!("reading an id failed: {e}")))?;
        }
        ids.push(id);
    }
    Ok(ids)
}

fn stored(doc: &TantivyDocument, field: Field) -> String {
    doc.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_owned()
}

/// The passage of `body` as a snippet: at most [`SNIPPET_CHARS`], cut at a word, escaped.
fn passage_snippet(body: &str, passage: Passage) -> String {
    let text = body.get(passage.start..passage.end).unwrap_or_default();
    if text.chars().count() <= SNIPPET_CHARS {
        return html_escape(text);
    }
    let cut = text.char_indices().nth(SNIPPET_CHARS).map_or(text.len(), |(i, _)| i);
    let shortened = text[..cut].rsplit_once(char::is_whitespace).map_or(&text[..cut], |(head, _)| head);
    format!("{}…", html_escape(shortened))
}

fn read_checkpoint(index: &Index) -> Result<u64, SearchError> {
    let metas = index.load_metas()?;
    match metas.payload.as_deref() {
        None => Ok(0),
        Some(raw) => {
            raw.parse().map_err(|_| SearchError::Index(format!("the index checkpoint {raw:?} is not a position")))
        }
    }
}

fn aside_path(dir: &Path) -> PathBuf {
    let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut name = dir.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".corrupt-{stamp}"));
    dir.with_file_name(name)
}

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}
