//! Relay metadata in PostgreSQL, for several relay replicas on one database: uniqueness (a used
//! request, a second upload) is decided by primary keys, and the reporter's lease by one
//! conditional upsert, so no decision depends on a replica's memory.

use alloy::primitives::B256;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

use super::{
    b256, MetadataStore, PendingReport, ReportKind, ResultRecord, StoreError, StoredParams,
};

/// The schema's versions, applied in order, each once, in one transaction under an advisory lock
/// so that replicas starting together do not race.
const MIGRATIONS: &[&str] = &["
CREATE TABLE params (
    commitment BYTEA PRIMARY KEY,
    body TEXT NOT NULL,
    salt BYTEA NOT NULL,
    uploaded_at BIGINT NOT NULL,
    report_tx BYTEA,
    reported BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE results (
    commitment BYTEA PRIMARY KEY,
    files BYTEA NOT NULL,
    file_count INTEGER NOT NULL,
    score BYTEA NOT NULL,
    uploaded_at BIGINT NOT NULL,
    report_tx BYTEA,
    reported BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX params_unreported ON params (uploaded_at) WHERE NOT reported;
CREATE INDEX results_unreported ON results (uploaded_at) WHERE NOT reported;
CREATE TABLE used_requests (
    hash BYTEA PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX used_requests_expiry ON used_requests (expires_at);
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
"];

/// An arbitrary constant: the advisory lock the migrations take.
const MIGRATION_LOCK: i64 = 0x7265_6c61_7900;

pub struct PostgresMetadata {
    pool: Pool,
}

fn pg(e: impl std::fmt::Display) -> StoreError {
    StoreError::Postgres(e.to_string())
}

impl PostgresMetadata {
    /// Connects to `url` (`postgres://user:password@host:port/database`) and brings the schema up
    /// to date.
    pub async fn connect(url: &str) -> Result<PostgresMetadata, StoreError> {
        let config: tokio_postgres::Config = url.parse().map_err(pg)?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager).max_size(16).build().map_err(pg)?;
        let store = PostgresMetadata { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(pg)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(pg)?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS relay_schema (version INTEGER PRIMARY KEY)")
            .await
            .map_err(pg)?;
        let applied: i32 = tx
            .query_one("SELECT COALESCE(MAX(version), 0) FROM relay_schema", &[])
            .await
            .map_err(pg)?
            .get(0);
        for (i, sql) in MIGRATIONS.iter().enumerate() {
            let version = i as i32 + 1;
            if version > applied {
                tx.batch_execute(sql).await.map_err(pg)?;
                tx.execute(
                    "INSERT INTO relay_schema (version) VALUES ($1)",
                    &[&version],
                )
                .await
                .map_err(pg)?;
            }
        }
        if applied > MIGRATIONS.len() as i32 {
            return Err(StoreError::Backend(format!(
                "the database's relay schema is version {applied}, newer than this relay's {}",
                MIGRATIONS.len()
            )));
        }
        tx.commit().await.map_err(pg)
    }
}

#[async_trait::async_trait]
impl MetadataStore for PostgresMetadata {
    async fn request_used(&self, hash: B256, now: u64) -> Result<bool, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT 1 FROM used_requests WHERE hash = $1 AND expires_at >= $2",
                &[&hash.as_slice(), &(now as i64)],
            )
            .await
            .map_err(pg)?;
        Ok(!rows.is_empty())
    }

    async fn claim_request(
        &self,
        hash: B256,
        expires_at: u64,
        now: u64,
    ) -> Result<bool, StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "DELETE FROM used_requests WHERE expires_at < $1",
                &[&(now as i64)],
            )
            .await
            .map_err(pg)?;
        let inserted = client
            .execute(
                "INSERT INTO used_requests (hash, expires_at) VALUES ($1, $2) \
                 ON CONFLICT (hash) DO NOTHING",
                &[&hash.as_slice(), &(expires_at as i64)],
            )
            .await
            .map_err(pg)?;
        Ok(inserted == 1)
    }

    async fn insert_params(
        &self,
        commitment: B256,
        p: StoredParams,
        now: u64,
    ) -> Result<bool, StoreError> {
        let inserted = self
            .client()
            .await?
            .execute(
                "INSERT INTO params (commitment, body, salt, uploaded_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (commitment) DO NOTHING",
                &[
                    &commitment.as_slice(),
                    &p.body,
                    &p.salt.as_slice(),
                    &(now as i64),
                ],
            )
            .await
            .map_err(pg)?;
        Ok(inserted == 1)
    }

    async fn params(&self, commitment: B256) -> Result<Option<StoredParams>, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt(
                "SELECT body, salt FROM params WHERE commitment = $1",
                &[&commitment.as_slice()],
            )
            .await
            .map_err(pg)?;
        Ok(row.map(|row| StoredParams {
            body: row.get(0),
            salt: b256(row.get::<_, &[u8]>(1)),
        }))
    }

    async fn insert_result(
        &self,
        commitment: B256,
        record: ResultRecord,
        score: Vec<u8>,
        now: u64,
    ) -> Result<bool, StoreError> {
        let inserted = self
            .client()
            .await?
            .execute(
                "INSERT INTO results (commitment, files, file_count, score, uploaded_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (commitment) DO NOTHING",
                &[
                    &commitment.as_slice(),
                    &record.encode(),
                    &(record.files.len() as i32),
                    &score,
                    &(now as i64),
                ],
            )
            .await
            .map_err(pg)?;
        Ok(inserted == 1)
    }

    async fn result(&self, commitment: B256) -> Result<Option<ResultRecord>, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt(
                "SELECT files FROM results WHERE commitment = $1",
                &[&commitment.as_slice()],
            )
            .await
            .map_err(pg)?;
        Ok(row.map(|row| ResultRecord::decode(row.get::<_, &[u8]>(0))))
    }

    async fn pending_reports(&self) -> Result<Vec<PendingReport>, StoreError> {
        let client = self.client().await?;
        let mut out = Vec::new();
        for kind in [ReportKind::Parameters, ReportKind::Result] {
            let rows = client
                .query(
                    &format!(
                        "SELECT commitment, report_tx FROM {} WHERE NOT reported \
                         ORDER BY uploaded_at, commitment",
                        kind.table()
                    ),
                    &[],
                )
                .await
                .map_err(pg)?;
            out.extend(rows.iter().map(|row| PendingReport {
                kind,
                commitment: b256(row.get::<_, &[u8]>(0)),
                sent_tx: row.get::<_, Option<&[u8]>>(1).map(b256),
            }));
        }
        Ok(out)
    }

    async fn report_sent(
        &self,
        kind: ReportKind,
        commitment: B256,
        tx: B256,
    ) -> Result<(), StoreError> {
        self.client()
            .await?
            .execute(
                &format!(
                    "UPDATE {} SET report_tx = $1 WHERE commitment = $2",
                    kind.table()
                ),
                &[&tx.as_slice(), &commitment.as_slice()],
            )
            .await
            .map_err(pg)
            .map(drop)
    }

    async fn report_confirmed(&self, kind: ReportKind, commitment: B256) -> Result<(), StoreError> {
        self.client()
            .await?
            .execute(
                &format!(
                    "UPDATE {} SET reported = TRUE WHERE commitment = $1",
                    kind.table()
                ),
                &[&commitment.as_slice()],
            )
            .await
            .map_err(pg)
            .map(drop)
    }

    async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        now_ms: u64,
        expires_at_ms: u64,
    ) -> Result<bool, StoreError> {
        let changed = self
            .client()
            .await?
            .execute(
                "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, \
                 expires_at = EXCLUDED.expires_at \
                 WHERE leases.holder = EXCLUDED.holder OR leases.expires_at < $4",
                &[&name, &holder, &(expires_at_ms as i64), &(now_ms as i64)],
            )
            .await
            .map_err(pg)?;
        Ok(changed == 1)
    }
}
