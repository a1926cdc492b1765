//! The relay's durable state behind two async traits, so that a deployment can keep metadata in a
//! database server and files in object storage: [`MetadataStore`] (parameters, result records,
//! the outbox of on-chain reports, used request hashes, the reporter's lease) and [`BlobStore`]
//! (result files). The local default is SQLite ([`SqliteMetadata`]) and the filesystem
//! ([`FsBlobs`]); the scale-out deployment is PostgreSQL ([`PostgresMetadata`]) and S3-compatible
//! object storage ([`S3Blobs`]), chosen by [`StoreConfig`].
//!
//! A result's files are stored completely, under a key of their own upload, before the record
//! that names that upload is committed: a crash or a concurrent upload never leaves a record
//! pointing at missing, partial or other files. An upload whose record is committed is never
//! lost, and its on-chain report stays in the outbox until it is confirmed.

mod config;
mod fs_blobs;
mod postgres_metadata;
mod s3_blobs;
mod sqlite_metadata;

use std::path::Path;

use alloy::primitives::B256;

pub use config::{StoreConfig, StoreConfigError};
pub use fs_blobs::FsBlobs;
pub use postgres_metadata::PostgresMetadata;
pub use s3_blobs::S3Blobs;
pub use sqlite_metadata::SqliteMetadata;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database: {0}")]
    Postgres(String),
    #[error("object storage: {0}")]
    ObjectStore(#[from] object_store::Error),
    #[error("file {path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{what} of task {commitment} were already uploaded")]
    AlreadyUploaded {
        what: &'static str,
        commitment: B256,
    },
    #[error("storage backend: {0}")]
    Backend(String),
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

/// A task's parameters as uploaded: the document and the salt that opens the task's
/// paramsCommitment with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredParams {
    pub body: String,
    pub salt: B256,
}

impl StoredParams {
    pub fn new(body: &str, salt: B256) -> StoredParams {
        StoredParams {
            body: body.to_string(),
            salt,
        }
    }
}

/// A committed result: which upload's files it is, and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResultRecord {
    /// The signed upload request's hash; the files are stored under it. Zero for results stored
    /// before uploads had keys of their own (their files sit directly under the task).
    pub upload: B256,
    pub file_count: usize,
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

/// Where the relay keeps everything but the result files. Inserts report whether the row was
/// new, so a second upload is detected atomically, by the database, across replicas.
#[async_trait::async_trait]
pub trait MetadataStore: Send + Sync {
    /// Records a request hash as used until `expires_at`; false when it was already used.
    async fn claim_request(
        &self,
        hash: B256,
        expires_at: u64,
        now: u64,
    ) -> Result<bool, StoreError>;
    /// Whether a request hash is recorded as used and not expired.
    async fn request_used(&self, hash: B256, now: u64) -> Result<bool, StoreError>;
    async fn insert_params(
        &self,
        commitment: B256,
        params: StoredParams,
        now: u64,
    ) -> Result<bool, StoreError>;
    async fn params(&self, commitment: B256) -> Result<Option<StoredParams>, StoreError>;
    async fn insert_result(
        &self,
        commitment: B256,
        record: ResultRecord,
        score: Vec<u8>,
        now: u64,
    ) -> Result<bool, StoreError>;
    async fn result(&self, commitment: B256) -> Result<Option<ResultRecord>, StoreError>;
    /// Uploads whose reports are not confirmed on chain, oldest first.
    async fn pending_reports(&self) -> Result<Vec<PendingReport>, StoreError>;
    async fn report_sent(
        &self,
        kind: ReportKind,
        commitment: B256,
        tx: B256,
    ) -> Result<(), StoreError>;
    async fn report_confirmed(&self, kind: ReportKind, commitment: B256) -> Result<(), StoreError>;
    /// Takes or renews the lease `name` for `holder` until `expires_at_ms`: true when `holder`
    /// holds it now (it was free, expired at `now_ms`, or already `holder`'s).
    async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        now_ms: u64,
        expires_at_ms: u64,
    ) -> Result<bool, StoreError>;
}

/// Where result files live, under (task, upload, index). `put_files` returns once the files are
/// durable and complete.
#[async_trait::async_trait]
pub trait BlobStore: Send + Sync {
    async fn put_files(
        &self,
        commitment: B256,
        upload: B256,
        files: &[Vec<u8>],
    ) -> Result<(), StoreError>;
    async fn get_files(
        &self,
        commitment: B256,
        record: ResultRecord,
    ) -> Result<Vec<Vec<u8>>, StoreError>;
    /// Removes the files of an upload that lost to another (best effort).
    async fn delete_files(
        &self,
        commitment: B256,
        upload: B256,
        count: usize,
    ) -> Result<(), StoreError>;
}

/// Metadata and files together, with the ordering rules between them.
pub struct Store {
    meta: Box<dyn MetadataStore>,
    blobs: Box<dyn BlobStore>,
}

impl Store {
    /// The local default in `dir`: `dir/relay.sqlite3` and `dir/results/`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        Ok(Store::new(
            Box::new(SqliteMetadata::open(&dir.join("relay.sqlite3"))?),
            Box::new(FsBlobs::open(&dir.join("results"))?),
        ))
    }

    /// Any pair of backends.
    pub fn new(meta: Box<dyn MetadataStore>, blobs: Box<dyn BlobStore>) -> Store {
        Store { meta, blobs }
    }

    /// Records a request hash as used until `expires_at`; false when it was already used.
    pub async fn claim_request(
        &self,
        hash: &B256,
        expires_at: u64,
        now: u64,
    ) -> Result<bool, StoreError> {
        self.meta.claim_request(*hash, expires_at, now).await
    }

    /// Whether a request hash was already used (and has not expired).
    pub async fn request_used(&self, hash: &B256, now: u64) -> Result<bool, StoreError> {
        self.meta.request_used(*hash, now).await
    }

    /// Stores a task's parameters; refuses a second upload.
    pub async fn put_params(
        &self,
        commitment: &B256,
        params: &StoredParams,
        now: u64,
    ) -> Result<(), StoreError> {
        if !self
            .meta
            .insert_params(*commitment, params.clone(), now)
            .await?
        {
            return Err(StoreError::AlreadyUploaded {
                what: "parameters",
                commitment: *commitment,
            });
        }
        Ok(())
    }

    pub async fn params(&self, commitment: &B256) -> Result<Option<StoredParams>, StoreError> {
        self.meta.params(*commitment).await
    }

    /// Stores a task's result files, uploaded by the request `upload`, with the score they hash
    /// to; refuses a second upload. The files are complete and durable under their own upload's
    /// key before the record that makes them visible is committed; of two concurrent uploads the
    /// database lets one record win, and the loser's files are removed.
    pub async fn put_result(
        &self,
        commitment: &B256,
        upload: &B256,
        files: &[Vec<u8>],
        score: &[u8],
        now: u64,
    ) -> Result<(), StoreError> {
        let already = StoreError::AlreadyUploaded {
            what: "results",
            commitment: *commitment,
        };
        if self.meta.result(*commitment).await?.is_some() {
            return Err(already);
        }
        self.blobs.put_files(*commitment, *upload, files).await?;
        let record = ResultRecord {
            upload: *upload,
            file_count: files.len(),
        };
        if !self
            .meta
            .insert_result(*commitment, record, score.to_vec(), now)
            .await?
        {
            if let Err(e) = self
                .blobs
                .delete_files(*commitment, *upload, files.len())
                .await
            {
                tracing::warn!(task = %commitment, error = %e, "could not remove a losing upload's files");
            }
            return Err(already);
        }
        Ok(())
    }

    pub async fn has_result(&self, commitment: &B256) -> Result<bool, StoreError> {
        Ok(self.meta.result(*commitment).await?.is_some())
    }

    /// A task's result files, in upload order, once the upload is committed.
    pub async fn result_files(
        &self,
        commitment: &B256,
    ) -> Result<Option<Vec<Vec<u8>>>, StoreError> {
        match self.meta.result(*commitment).await? {
            Some(record) => self.blobs.get_files(*commitment, record).await.map(Some),
            None => Ok(None),
        }
    }

    /// Uploads whose reports are not confirmed on chain, oldest first.
    pub async fn pending_reports(&self) -> Result<Vec<PendingReport>, StoreError> {
        self.meta.pending_reports().await
    }

    /// Records the transaction sent for a report, before waiting for it.
    pub async fn report_sent(
        &self,
        kind: ReportKind,
        commitment: &B256,
        tx: &B256,
    ) -> Result<(), StoreError> {
        self.meta.report_sent(kind, *commitment, *tx).await
    }

    /// Marks a report as confirmed on chain.
    pub async fn report_confirmed(
        &self,
        kind: ReportKind,
        commitment: &B256,
    ) -> Result<(), StoreError> {
        self.meta.report_confirmed(kind, *commitment).await
    }

    /// Takes or renews a lease shared by all replicas on this store (see [`MetadataStore::try_lease`]).
    pub async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        now_ms: u64,
        expires_at_ms: u64,
    ) -> Result<bool, StoreError> {
        self.meta
            .try_lease(name, holder, now_ms, expires_at_ms)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn c(n: u8) -> B256 {
        B256::repeat_byte(n)
    }

    fn p(body: &str) -> StoredParams {
        StoredParams::new(body, B256::repeat_byte(0x5A))
    }

    #[tokio::test]
    async fn opening_creates_the_data_directory() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        let store = Store::open(&nested).unwrap();
        store.put_params(&c(1), &p("{}"), 1).await.unwrap();
        assert!(nested.join("relay.sqlite3").exists());
    }

    #[tokio::test]
    async fn leftover_files_of_an_uncommitted_upload_are_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        // What a crash between the rename and the row's commit leaves behind.
        let stale = dir
            .path()
            .join("results")
            .join(hex::encode(c(3)))
            .join(hex::encode(c(30)));
        fs::create_dir_all(&stale).unwrap();
        fs::write(stale.join("0"), b"stale").unwrap();
        assert_eq!(store.result_files(&c(3)).await.unwrap(), None);
        store
            .put_result(&c(3), &c(30), &[b"fresh".to_vec()], &[1; 8], 5)
            .await
            .unwrap();
        assert_eq!(
            store.result_files(&c(3)).await.unwrap(),
            Some(vec![b"fresh".to_vec()])
        );
    }

    #[tokio::test]
    async fn results_stored_before_upload_keys_are_still_served() {
        let dir = tempfile::tempdir().unwrap();
        let legacy = dir.path().join("results").join(hex::encode(c(5)));
        fs::create_dir_all(&legacy).unwrap();
        fs::write(legacy.join("0"), b"old").unwrap();
        {
            // The first schema: results without an upload key.
            let conn = rusqlite::Connection::open(dir.path().join("relay.sqlite3")).unwrap();
            conn.execute_batch(
                "CREATE TABLE results (commitment BLOB PRIMARY KEY, file_count INTEGER NOT NULL, \
                 score BLOB NOT NULL, uploaded_at INTEGER NOT NULL, report_tx BLOB, \
                 reported INTEGER NOT NULL DEFAULT 0)",
            )
            .unwrap();
            conn.execute(
                "INSERT INTO results (commitment, file_count, score, uploaded_at) \
                 VALUES (?1, 1, x'00', 1)",
                [c(5).as_slice()],
            )
            .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            store.result_files(&c(5)).await.unwrap(),
            Some(vec![b"old".to_vec()])
        );
    }
}
