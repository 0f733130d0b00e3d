//! The AI cost ledger and the opted-in transcripts on SQLite. Writes go through the writer's
//! thread, all of one request's calls in one transaction.

use rusqlite::types::Value;
use time::OffsetDateTime;

use store::StoreError;
use store::ai_ledger::{AiInteraction, AiLedger, AiTranscript, AiUsageRow};

use crate::SqliteStore;
use crate::error::database;
use crate::rows::{from_micros, to_micros};

impl AiLedger for SqliteStore {
    async fn record_ai_calls(&self, calls: &[AiInteraction]) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO ai_calls (org_id, user_id, task, model, provider, input_tokens, \
                           output_tokens, cost_microcents, latency_ms, status, fallback, cache_hit, at) \
                           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        if calls.is_empty() {
            return Ok(());
        }
        let text = |s: &str| Value::Text(s.to_owned());
        let number = |n: u64| Value::Integer(i64::try_from(n).unwrap_or(i64::MAX));
        let statements = calls
            .iter()
            .map(|c| {
                let params = vec![
                    text(&c.org_id),
                    text(&c.user_id),
                    text(&c.task),
                    text(&c.model),
                    text(&c.provider),
                    number(c.input_tokens),
                    number(c.output_tokens),
                    number(c.cost_microcents),
                    number(c.latency_ms),
                    text(&c.status),
                    Value::Integer(i64::from(c.fallback)),
                    Value::Integer(i64::from(c.cache_hit)),
                    Value::Integer(to_micros(c.at)),
                ];
                (SQL, params)
            })
            .collect();
        self.write_statements(statements).await.map(|_| ())
    }

    async fn record_ai_transcript(&self, t: &AiTranscript) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO ai_transcripts (org_id, user_id, task, model, prompt, answer, at) \
                           VALUES (?, ?, ?, ?, ?, ?, ?)";
        let text = |s: &str| Value::Text(s.to_owned());
        let params = vec![
            text(&t.org_id),
            text(&t.user_id),
            text(&t.task),
            text(&t.model),
            text(&t.prompt),
            text(&t.answer),
            Value::Integer(to_micros(t.at)),
        ];
        self.write_statement(SQL, params).await.map(|_| ())
    }

    async fn ai_transcripts(&self, org_id: &str, limit: u32) -> Result<Vec<AiTranscript>, StoreError> {
        let rows: Vec<(String, String, String, String, String, i64)> = sqlx::query_as(
            "SELECT user_id, task, model, prompt, answer, at FROM ai_transcripts WHERE org_id = ? \
             ORDER BY at DESC, id DESC LIMIT ?",
        )
        .bind(org_id)
        .bind(limit)
        .fetch_all(self.reads())
        .await
        .map_err(database)?;
        rows.into_iter()
            .map(|(user_id, task, model, prompt, answer, at)| {
                Ok(AiTranscript {
                    org_id: org_id.to_owned(),
                    user_id,
                    task,
                    model,
                    prompt,
                    answer,
                    at: from_micros(at)?,
                })
            })
            .collect()
    }

    async fn ai_spent_since(&self, org_id: &str, since: OffsetDateTime) -> Result<u64, StoreError> {
        let (spent,): (i64,) =
            sqlx::query_as("SELECT COALESCE(SUM(cost_microcents), 0) FROM ai_calls WHERE org_id = ? AND at >= ?")
                .bind(org_id)
                .bind(to_micros(since))
                .fetch_one(self.reads())
                .await
                .map_err(database)?;
        Ok(spent.max(0) as u64)
    }

    async fn ai_usage(
        &self,
        org_id: &str,
        since: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<Vec<AiUsageRow>, StoreError> {
        type Row = (String, String, String, String, i64, i64, i64, i64, i64, i64);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT date(at / 1000000, 'unixepoch') AS day, task, model, user_id, COUNT(*), \
                    SUM(status <> 'ok'), SUM(cache_hit), SUM(input_tokens), SUM(output_tokens), \
                    SUM(cost_microcents) \
             FROM ai_calls WHERE org_id = ? AND at >= ? AND at < ? \
             GROUP BY day, task, model, user_id ORDER BY day DESC, task, model, user_id",
        )
        .bind(org_id)
        .bind(to_micros(since))
        .bind(to_micros(until))
        .fetch_all(self.reads())
        .await
        .map_err(database)?;
        let count = |n: i64| n.max(0) as u64;
        Ok(rows
            .into_iter()
            .map(|(day, task, model, user_id, calls, failures, hits, input, output, cost)| AiUsageRow {
                day,
                task,
                model,
                user_id,
                calls: count(calls),
                failures: count(failures),
                cache_hits: count(hits),
                input_tokens: count(input),
                output_tokens: count(output),
                cost_microcents: count(cost),
            })
            .collect())
    }
}
