//! The relay's durable state: SQLite for metadata (parameters, result records, the outbox of
//! on-chain reports, used request hashes) and the filesystem for result files. A result's files are
//! written and synced under a temporary name and renamed before its row is committed, so a crash
//! never leaves a row pointing at missing or partial files; an upload whose row is committed is
//! never lost, and its on-chain report stays in the outbox until it is confirmed.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use alloy::primitives::B256;
use rusqlite::{params, Connection, OptionalExtension};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{what} of task {commitment} were already uploaded")]
    AlreadyUploaded {
        what: &'static str,
        commitment: B256,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Which of the relay's two on-chain calls a report is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    /// reportTaskParametersUploaded
    Parameters,
    /// reportTaskResultUploaded
    Result,
}

impl ReportKind {
    fn table(self) -> &'static str {
        match self {
            ReportKind::Parameters => "params",
            ReportKind::Result => "results",
        }
    }
}

/// An upload whose on-chain report is not confirmed yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingReport {
    pub kind: ReportKind,
    pub commitment: B256,
    /// The hash of a transaction already sent for it, if any: the reporter checks its receipt
    /// before sending another, so a restart never reports twice.
    pub sent_tx: Option<B256>,
}

pub struct Store {
    conn: Mutex<Connection>,
    blob_dir: PathBuf,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS params (
    commitment BLOB PRIMARY KEY,
    body TEXT NOT NULL,
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

impl Store {
    /// Opens (or creates) the store in `dir`: `dir/relay.sqlite3` and `dir/results/`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let blob_dir = dir.join("results");
        fs::create_dir_all(&blob_dir).map_err(io(&blob_dir))?;
        let conn = Connection::open(dir.join("relay.sqlite3"))?;
        // WAL: readers do not block the writer; FULL sync: a committed upload survives power loss.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)?;
        Ok(Store {
            conn: Mutex::new(conn),
            blob_dir,
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent; keep serving.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a request hash as used until `expires_at`; false when it was already used (a replay).
    pub fn claim_request(
        &self,
        hash: &B256,
        expires_at: u64,
        now: u64,
    ) -> Result<bool, StoreError> {
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

    /// Stores a task's parameters; refuses a second upload.
    pub fn put_params(&self, commitment: &B256, body: &str, now: u64) -> Result<(), StoreError> {
        let inserted = self.conn().execute(
            "INSERT OR IGNORE INTO params (commitment, body, uploaded_at) VALUES (?1, ?2, ?3)",
            params![commitment.as_slice(), body, now as i64],
        )?;
        if inserted == 0 {
            return Err(StoreError::AlreadyUploaded {
                what: "parameters",
                commitment: *commitment,
            });
        }
        Ok(())
    }

    pub fn params(&self, commitment: &B256) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT body FROM params WHERE commitment = ?1",
                params![commitment.as_slice()],
                |row| row.get(0),
            )
            .optional()?)
    }

    fn result_dir(&self, commitment: &B256) -> PathBuf {
        self.blob_dir.join(hex::encode(commitment))
    }

    /// Stores a task's result files with the score they hash to; refuses a second upload.
    pub fn put_result(
        &self,
        commitment: &B256,
        files: &[Vec<u8>],
        score: &[u8],
        now: u64,
    ) -> Result<(), StoreError> {
        if self.result_file_count(commitment)?.is_some() {
            return Err(StoreError::AlreadyUploaded {
                what: "results",
                commitment: *commitment,
            });
        }
        let dir = self.result_dir(commitment);
        let staging = self
            .blob_dir
            .join(format!(".{}.partial", hex::encode(commitment)));
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(io(&staging))?;
        }
        fs::create_dir_all(&staging).map_err(io(&staging))?;
        for (i, bytes) in files.iter().enumerate() {
            let path = staging.join(i.to_string());
            let mut file = fs::File::create(&path).map_err(io(&path))?;
            file.write_all(bytes).map_err(io(&path))?;
            file.sync_all().map_err(io(&path))?;
        }
        if dir.exists() {
            // Files of an upload whose row never committed (a crash in between): replace them.
            fs::remove_dir_all(&dir).map_err(io(&dir))?;
        }
        fs::rename(&staging, &dir).map_err(io(&dir))?;
        fs::File::open(&self.blob_dir)
            .and_then(|d| d.sync_all())
            .map_err(io(&self.blob_dir))?;
        let inserted = self.conn().execute(
            "INSERT OR IGNORE INTO results (commitment, file_count, score, uploaded_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![commitment.as_slice(), files.len() as i64, score, now as i64],
        )?;
        if inserted == 0 {
            return Err(StoreError::AlreadyUploaded {
                what: "results",
                commitment: *commitment,
            });
        }
        Ok(())
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

    pub fn has_result(&self, commitment: &B256) -> Result<bool, StoreError> {
        Ok(self.result_file_count(commitment)?.is_some())
    }

    /// A task's result files, in upload order, once the upload is committed.
    pub fn result_files(&self, commitment: &B256) -> Result<Option<Vec<Vec<u8>>>, StoreError> {
        let Some(count) = self.result_file_count(commitment)? else {
            return Ok(None);
        };
        let dir = self.result_dir(commitment);
        (0..count)
            .map(|i| {
                let path = dir.join(i.to_string());
                fs::read(&path).map_err(io(&path))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// Uploads whose reports are not confirmed on chain, oldest first.
    pub fn pending_reports(&self) -> Result<Vec<PendingReport>, StoreError> {
        let conn = self.conn();
        let mut out = Vec::new();
        for kind in [ReportKind::Parameters, ReportKind::Result] {
            let mut stmt = conn.prepare(&format!(
                "SELECT commitment, report_tx FROM {} WHERE reported = 0 ORDER BY uploaded_at",
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
                    commitment: B256::from_slice(&c),
                    sent_tx: tx.map(|t| B256::from_slice(&t)),
                });
            }
        }
        Ok(out)
    }

    /// Records the transaction sent for a report, before waiting for it.
    pub fn report_sent(
        &self,
        kind: ReportKind,
        commitment: &B256,
        tx: &B256,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            &format!(
                "UPDATE {} SET report_tx = ?1 WHERE commitment = ?2",
                kind.table()
            ),
            params![tx.as_slice(), commitment.as_slice()],
        )?;
        Ok(())
    }

    /// Marks a report as confirmed on chain.
    pub fn report_confirmed(&self, kind: ReportKind, commitment: &B256) -> Result<(), StoreError> {
        self.conn().execute(
            &format!(
                "UPDATE {} SET reported = 1 WHERE commitment = ?1",
                kind.table()
            ),
            params![commitment.as_slice()],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(n: u8) -> B256 {
        B256::repeat_byte(n)
    }

    #[test]
    fn parameters_are_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.params(&c(1)).unwrap(), None);
        store.put_params(&c(1), "{\"a\":1}", 10).unwrap();
        assert_eq!(store.params(&c(1)).unwrap().as_deref(), Some("{\"a\":1}"));
        assert!(matches!(
            store.put_params(&c(1), "{}", 11),
            Err(StoreError::AlreadyUploaded { .. })
        ));
    }

    #[test]
    fn results_and_outbox_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            store.put_params(&c(1), "{}", 10).unwrap();
            store
                .put_result(&c(2), &[vec![1, 2, 3], vec![]], &[9; 8], 11)
                .unwrap();
            store
                .report_sent(ReportKind::Parameters, &c(1), &c(7))
                .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            store.result_files(&c(2)).unwrap(),
            Some(vec![vec![1, 2, 3], vec![]])
        );
        assert_eq!(
            store.pending_reports().unwrap(),
            vec![
                PendingReport {
                    kind: ReportKind::Parameters,
                    commitment: c(1),
                    sent_tx: Some(c(7))
                },
                PendingReport {
                    kind: ReportKind::Result,
                    commitment: c(2),
                    sent_tx: None
                },
            ]
        );
        store
            .report_confirmed(ReportKind::Parameters, &c(1))
            .unwrap();
        assert_eq!(store.pending_reports().unwrap().len(), 1);
        assert!(matches!(
            store.put_result(&c(2), &[vec![0]], &[0; 8], 12),
            Err(StoreError::AlreadyUploaded { .. })
        ));
        assert_eq!(
            store.result_files(&c(2)).unwrap().unwrap()[0],
            vec![1, 2, 3]
        );
    }

    #[test]
    fn leftover_files_of_an_uncommitted_upload_are_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        // What a crash between the rename and the row's commit leaves behind.
        let stale = dir.path().join("results").join(hex::encode(c(3)));
        fs::create_dir_all(&stale).unwrap();
        fs::write(stale.join("0"), b"stale").unwrap();
        assert_eq!(store.result_files(&c(3)).unwrap(), None);
        store
            .put_result(&c(3), &[b"fresh".to_vec()], &[1; 8], 5)
            .unwrap();
        assert_eq!(
            store.result_files(&c(3)).unwrap(),
            Some(vec![b"fresh".to_vec()])
        );
    }

    #[test]
    fn a_request_hash_is_accepted_once_until_it_expires() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert!(store.claim_request(&c(1), 100, 40).unwrap());
        assert!(!store.claim_request(&c(1), 100, 41).unwrap());
        // After expiry the entry is purged; the request itself would then fail the time window.
        assert!(store.claim_request(&c(1), 200, 101).unwrap());
    }
}
