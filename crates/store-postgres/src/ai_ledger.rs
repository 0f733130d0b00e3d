//! The AI cost ledger and the opted-in transcripts on PostgreSQL; all of one request's calls
//! in one transaction.

use time::OffsetDateTime;

use store::StoreError;
use store::ai_ledger::{AiInteraction, AiLedger, AiTranscript, AiUsageRow};

use crate::PostgresStore;
use crate::error::database;
use crate::rows::{from_micros, to_micros};

fn number(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl AiLedger for PostgresStore {
    async fn record_ai_calls(&self, calls: &[AiInteraction]) -> Result<(), StoreError> {
        if calls.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool().begin().await.map_err(database)?;
        for c in calls {
            sqlx::query(
                "INSERT INTO ai_calls (org_id, user_id, task, model, provider, input_tokens, output_tokens, \
                 cost_microcents, latency_ms, status, fallback, cache_hit, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(&c.org_id)
            .bind(&c.user_id)
            .bind(&c.task)
            .bind(&c.model)
            .bind(&c.provider)
            .bind(number(c.input_tokens))
            .bind(number(c.output_tokens))
            .bind(number(c.cost_microcents))
            .bind(number(c.latency_ms))
            .bind(&c.status)
            .bind(c.fallback)
            .bind(c.cache_hit)
            .bind(to_micros(c.at))
            .execute(&mut *tx)
            .await
            .map_err(database)?;
        }
        tx.commit().await.map_err(database)
    }

    async fn record_ai_transcript(&self, t: &AiTranscript) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO ai_transcripts (org_id, user_id, task, model, prompt, answer, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&t.org_id)
        .bind(&t.user_id)
        .bind(&t.task)
        .bind(&t.model)
        .bind(&t.prompt)
        .bind(&t.answer)
        .bind(to_micros(t.at))
        .execute(self.pool())
        .await
        .map_err(database)?;
        Ok(())
    }

    async fn ai_transcripts(&self, org_id: &str, limit: u32) -> Result<Vec<AiTranscript>, StoreError> {
        let rows: Vec<(String, String, String, String, String, i64)> = sqlx::query_as(
            "SELECT user_id, task, model, prompt, answer, at FROM ai_transcripts WHERE org_id = $1 \
             ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(org_id)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
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
        let spent: i64 = sqlx::query_scalar(
            "SELECT COALESCE(SUM(cost_microcents), 0)::BIGINT FROM ai_calls WHERE org_id = $1 AND at >= $2",
        )
        .bind(org_id)
        .bind(to_micros(since))
        .fetch_one(self.pool())
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
            "SELECT to_char(to_timestamp(at / 1000000) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, task, model, \
                    user_id, COUNT(*), COUNT(*) FILTER (WHERE status <> 'ok'), COUNT(*) FILTER (WHERE cache_hit), \
                    SUM(input_tokens)::BIGINT, SUM(output_tokens)::BIGINT, SUM(cost_microcents)::BIGINT \
             FROM ai_calls WHERE org_id = $1 AND at >= $2 AND at < $3 \
             GROUP BY day, task, model, user_id ORDER BY day DESC, task, model, user_id",
        )
        .bind(org_id)
        .bind(to_micros(since))
        .bind(to_micros(until))
        .fetch_all(self.pool())
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
