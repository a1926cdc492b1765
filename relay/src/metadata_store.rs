//! Relay metadata: the trait, and its SQLite implementation (WAL journal, FULL sync, so a
//! committed upload survives a crash or power loss).

use std::path::Path;
use std::sync::Mutex;

use alloy::primitives::B256;
use rusqlite::{params, Connection, OptionalExtension};

use crate::store::{PendingReport, ReportKind, StoreError, StoredParams};

/// Where the relay keeps everything but the result files. Inserts report whether the row was new,
/// so a second upload is detected atomically.
pub trait MetadataStore: Send + Sync {
    /// Records a request hash as used until `expires_at`; false when it was already used.
    fn claim_request(&self, hash: &B256, expires_at: u64, now: u64) -> Result<bool, StoreError>;
    /// Whether a request hash is recorded as used and not expired.
    fn request_used(&self, hash: &B256, now: u64) -> Result<bool, StoreError>;
    fn insert_params(
        &self,
        commitment: &B256,
        params: &StoredParams,
        now: u64,
    ) -> Result<bool, StoreError>;
    fn params(&self, commitment: &B256) -> Result<Option<StoredParams>, StoreError>;
    fn insert_result(
        &self,
        commitment: &B256,
        file_count: usize,
        score: &[u8],
        now: u64,
    ) -> Result<bool, StoreError>;
    fn result_file_count(&self, commitment: &B256) -> Result<Option<usize>, StoreError>;
    fn pending_reports(&self) -> Result<Vec<PendingReport>, StoreError>;
    fn report_sent(&self, kind: ReportKind, commitment: &B256, tx: &B256)
        -> Result<(), StoreError>;
    fn report_confirmed(&self, kind: ReportKind, commitment: &B256) -> Result<(), StoreError>;
}

fn table(kind: ReportKind) -> &'static str {
    match kind {
        ReportKind::Parameters => "params",
        ReportKind::Result => "results",
    }
}

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
";

pub struct SqliteMetadata {
    conn: Mutex<Connection>,
}

impl SqliteMetadata {
    pub fn open(path: &Path) -> Result<SqliteMetadata, StoreError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)?;
        // A database from before parameter commitments: its rows belong to tasks of the first
        // contract version, whose salts are unknown (empty).
        if conn.prepare("SELECT salt FROM params LIMIT 0").is_err() {
            conn.execute_batch("ALTER TABLE params ADD COLUMN salt BLOB NOT NULL DEFAULT x''")?;
        }
        Ok(SqliteMetadata {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent; keep serving.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl MetadataStore for SqliteMetadata {
    fn request_used(&self, hash: &B256, now: u64) -> Result<bool, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT 1 FROM used_requests WHERE hash = ?1 AND expires_at >= ?2",
                params![hash.as_slice(), now as i64],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    fn claim_request(&self, hash: &B256, expires_at: u64, now: u64) -> Result<bool, StoreError> {
        let conn = self.conn();
        conn.execute(
            "DELETE FROM used_requests WHERE expires_at < ?1",
            params![now as i64],
        )?;
        let inserted = conn.execute(
            "INSERT OR IGNORE INTO used_requests (hash, expires_at) VALUES (?1, ?2)",
            params![hash.as_slice(), expires_at as i64],
        )?;
        Ok(inserted == 1)
    }

    fn insert_params(
        &self,
        commitment: &B256,
        p: &StoredParams,
        now: u64,
    ) -> Result<bool, StoreError> {
        let inserted = self.conn().execute(
            "INSERT OR IGNORE INTO params (commitment, body, salt, uploaded_at) \
             VALUES (?1, ?2, ?3, ?4)",
            params![commitment.as_slice(), p.body, p.salt.as_slice(), now as i64],
        )?;
        Ok(inserted == 1)
    }

    fn params(&self, commitment: &B256) -> Result<Option<StoredParams>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT body, salt FROM params WHERE commitment = ?1",
                params![commitment.as_slice()],
                |row| {
                    let salt: Vec<u8> = row.get(1)?;
                    Ok(StoredParams {
                        body: row.get(0)?,
                        salt: B256::try_from(salt.as_slice()).unwrap_or_default(),
                    })
                },
            )
            .optional()?)
    }

    fn insert_result(
        &self,
        commitment: &B256,
        file_count: usize,
        score: &[u8],
        now: u64,
    ) -> Result<bool, StoreError> {
        let inserted = self.conn().execute(
            "INSERT OR IGNORE INTO results (commitment, file_count, score, uploaded_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![commitment.as_slice(), file_count as i64, score, now as i64],
        )?;
        Ok(inserted == 1)
    }

    fn result_file_count(&self, commitment: &B256) -> Result<Option<usize>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT file_count FROM results WHERE commitment = ?1",
                params![commitment.as_slice()],
                |row| row.get::<_, i64>(0),
            )
            .optional()?
            .map(|n| n as usize))
    }

    /// Uploads whose reports are not confirmed on chain, oldest first.
    fn pending_reports(&self) -> Result<Vec<PendingReport>, StoreError> {
        let conn = self.conn();
        let mut out = Vec::new();
        for kind in [ReportKind::Parameters, ReportKind::Result] {
            let mut stmt = conn.prepare(&format!(
                "SELECT commitment, report_tx FROM {} WHERE reported = 0 ORDER BY uploaded_at",
                table(kind)
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
                    commitment: B256::from_slice(&c),
                    sent_tx: tx.map(|t| B256::from_slice(&t)),
                });
            }
        }
        Ok(out)
    }

    /// Records the transaction sent for a report, before waiting for it.
    fn report_sent(
        &self,
        kind: ReportKind,
        commitment: &B256,
        tx: &B256,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            &format!(
                "UPDATE {} SET report_tx = ?1 WHERE commitment = ?2",
                table(kind)
            ),
            params![tx.as_slice(), commitment.as_slice()],
        )?;
        Ok(())
    }

    /// Marks a report as confirmed on chain.
    fn report_confirmed(&self, kind: ReportKind, commitment: &B256) -> Result<(), StoreError> {
        self.conn().execute(
            &format!(
                "UPDATE {} SET reported = 1 WHERE commitment = ?1",
                table(kind)
            ),
            params![commitment.as_slice()],
        )?;
        Ok(())
    }
}
