//! Relay metadata in SQLite (WAL journal, FULL sync, so a committed upload survives a crash or
//! power loss). Calls run on tokio's blocking pool, never on the server's threads.

use std::path::Path;
use std::sync::{Arc, Mutex};

use alloy::primitives::B256;
use rusqlite::{params, Connection, OptionalExtension};

use super::{
    b256, MetadataStore, PendingReport, ReportKind, ResultRecord, StoreError, StoredParams,
};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS params (
    commitment BLOB PRIMARY KEY,
    body TEXT NOT NULL,
    salt BLOB NOT NULL,
    uploaded_at INTEGER NOT NULL,
    report_tx BLOB,
    reported INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS results (
    commitment BLOB PRIMARY KEY,
    file_count INTEGER NOT NULL,
    score BLOB NOT NULL,
    uploaded_at INTEGER NOT NULL,
    report_tx BLOB,
    reported INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS used_requests (
    hash BLOB PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
";

pub struct SqliteMetadata {
    conn: Arc<Mutex<Connection>>,
}

fn has_column(conn: &Connection, table: &str, column: &str) -> bool {
    conn.prepare(&format!("SELECT {column} FROM {table} LIMIT 0"))
        .is_ok()
}

impl SqliteMetadata {
    pub fn open(path: &Path) -> Result<SqliteMetadata, StoreError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        // Replicas on one database file wait for each other's writes instead of failing.
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        // A database from before parameter commitments: its rows belong to tasks of the first
        // contract version, whose salts are unknown (empty).
        if !has_column(&conn, "params", "salt") {
            conn.execute_batch("ALTER TABLE params ADD COLUMN salt BLOB NOT NULL DEFAULT x''")?;
        }
        // A database from before results were content-addressed: its rows name no files (a
        // relay's data belongs to one contract deployment; those tasks are on the first one).
        if !has_column(&conn, "results", "files") {
            conn.execute_batch("ALTER TABLE results ADD COLUMN files BLOB NOT NULL DEFAULT x''")?;
        }
        Ok(SqliteMetadata {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock cannot leave SQLite inconsistent; keep serving.
            let conn = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&conn)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("database task failed: {e}")))?
        .map_err(StoreError::from)
    }
}

#[async_trait::async_trait]
impl MetadataStore for SqliteMetadata {
    async fn request_used(&self, hash: B256, now: u64) -> Result<bool, StoreError> {
        self.with(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT 1 FROM used_requests WHERE hash = ?1 AND expires_at >= ?2",
                    params![hash.as_slice(), now as i64],
                    |_| Ok(()),
                )
                .optional()?
                .is_some())
        })
        .await
    }

    async fn claim_request(
        &self,
        hash: B256,
        expires_at: u64,
        now: u64,
    ) -> Result<bool, StoreError> {
        self.with(move |conn| {
            conn.execute(
                "DELETE FROM used_requests WHERE expires_at < ?1",
                params![now as i64],
            )?;
            let inserted = conn.execute(
                "INSERT OR IGNORE INTO used_requests (hash, expires_at) VALUES (?1, ?2)",
                params![hash.as_slice(), expires_at as i64],
            )?;
            Ok(inserted == 1)
        })
        .await
    }

    async fn insert_params(
        &self,
        commitment: B256,
        p: StoredParams,
        now: u64,
    ) -> Result<bool, StoreError> {
        self.with(move |conn| {
            let inserted = conn.execute(
                "INSERT OR IGNORE INTO params (commitment, body, salt, uploaded_at) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![commitment.as_slice(), p.body, p.salt.as_slice(), now as i64],
            )?;
            Ok(inserted == 1)
        })
        .await
    }

    async fn params(&self, commitment: B256) -> Result<Option<StoredParams>, StoreError> {
        self.with(move |conn| {
            conn.query_row(
                "SELECT body, salt FROM params WHERE commitment = ?1",
                params![commitment.as_slice()],
                |row| {
                    let salt: Vec<u8> = row.get(1)?;
                    Ok(StoredParams {
                        body: row.get(0)?,
                        salt: b256(&salt),
                    })
                },
            )
            .optional()
        })
        .await
    }

    async fn insert_result(
        &self,
        commitment: B256,
        record: ResultRecord,
        score: Vec<u8>,
        now: u64,
    ) -> Result<bool, StoreError> {
        self.with(move |conn| {
            let inserted = conn.execute(
                "INSERT OR IGNORE INTO results \
                 (commitment, files, file_count, score, uploaded_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    commitment.as_slice(),
                    record.encode(),
                    record.files.len() as i64,
                    score,
                    now as i64
                ],
            )?;
            Ok(inserted == 1)
        })
        .await
    }

    async fn result(&self, commitment: B256) -> Result<Option<ResultRecord>, StoreError> {
        self.with(move |conn| {
            conn.query_row(
                "SELECT files FROM results WHERE commitment = ?1",
                params![commitment.as_slice()],
                |row| Ok(ResultRecord::decode(&row.get::<_, Vec<u8>>(0)?)),
            )
            .optional()
        })
        .await
    }

    async fn pending_reports(&self) -> Result<Vec<PendingReport>, StoreError> {
        self.with(|conn| {
            let mut out = Vec::new();
            for kind in [ReportKind::Parameters, ReportKind::Result] {
                let mut stmt = conn.prepare(&format!(
                    "SELECT commitment, report_tx FROM {} WHERE reported = 0 \
                     ORDER BY uploaded_at, commitment",
                    kind.table()
                ))?;
                let rows = stmt.query_map([], |row| {
                    let c: Vec<u8> = row.get(0)?;
                    let tx: Option<Vec<u8>> = row.get(1)?;
                    Ok((c, tx))
                })?;
                for row in rows {
                    let (c, tx) = row?;
                    out.push(PendingReport {
                        kind,
                        commitment: b256(&c),
                        sent_tx: tx.map(|t| b256(&t)),
                    });
                }
            }
            Ok(out)
        })
        .await
    }

    async fn report_sent(
        &self,
        kind: ReportKind,
        commitment: B256,
        tx: B256,
    ) -> Result<(), StoreError> {
        self.with(move |conn| {
            conn.execute(
                &format!(
                    "UPDATE {} SET report_tx = ?1 WHERE commitment = ?2",
                    kind.table()
                ),
                params![tx.as_slice(), commitment.as_slice()],
            )
            .map(drop)
        })
        .await
    }

    async fn report_confirmed(&self, kind: ReportKind, commitment: B256) -> Result<(), StoreError> {
        self.with(move |conn| {
            conn.execute(
                &format!(
                    "UPDATE {} SET reported = 1 WHERE commitment = ?1",
                    kind.table()
                ),
                params![commitment.as_slice()],
            )
            .map(drop)
        })
        .await
    }

    async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        now_ms: u64,
        expires_at_ms: u64,
    ) -> Result<bool, StoreError> {
        let (name, holder) = (name.to_string(), holder.to_string());
        self.with(move |conn| {
            let changed = conn.execute(
                "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
                 expires_at = excluded.expires_at \
                 WHERE leases.holder = excluded.holder OR leases.expires_at < ?4",
                params![name, holder, expires_at_ms as i64, now_ms as i64],
            )?;
            Ok(changed == 1)
        })
        .await
    }
}
