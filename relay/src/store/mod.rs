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
use std::sync::Arc;

use alloy::primitives::B256;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::StreamExt;
use sha2::{Digest, Sha256};

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
    #[error(
        "the file declared as sha256 {declared} ({declared_size} bytes) arrived as {actual} \
         ({actual_size} bytes)"
    )]
    FileMismatch {
        declared: B256,
        declared_size: u64,
        actual: B256,
        actual_size: u64,
    },
    #[error("the upload was interrupted: {0}")]
    BodyInterrupted(String),
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

/// A committed result: its files, in order, by their sha256 (the files themselves are stored
/// under these hashes, see [`BlobStore`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultRecord {
    pub files: Vec<B256>,
}

impl ResultRecord {
    /// The hashes as stored in a database column: 32 bytes each, concatenated.
    pub fn encode(&self) -> Vec<u8> {
        self.files.iter().flat_map(|h| h.0).collect()
    }

    pub fn decode(bytes: &[u8]) -> ResultRecord {
        ResultRecord {
            files: bytes.chunks_exact(32).map(B256::from_slice).collect(),
        }
    }
}

/// A file body as it arrives: chunks, or the error that interrupted it.
pub type ByteStream = BoxStream<'static, Result<Bytes, std::io::Error>>;

/// A file written to a staging place, not yet visible under its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staged(pub String);

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

/// Where result files live: under (task, sha256 of the file), content-addressed, so that
/// concurrent or repeated uploads of a file can only ever write the same bytes. A file is first
/// written to a staging place (streamed, with a bounded buffer), then published under its hash
/// once the hash is checked; a crash leaves only staging leftovers, never a wrong published file.
#[async_trait::async_trait]
pub trait BlobStore: Send + Sync {
    /// Streams `body` to a new staging place.
    async fn stage(&self, body: ByteStream) -> Result<Staged, StoreError>;
    /// Makes a staged file the task's file with hash `sha256` (replacing identical bytes).
    async fn publish(
        &self,
        staged: Staged,
        commitment: B256,
        sha256: B256,
    ) -> Result<(), StoreError>;
    /// Removes a staged file that failed its checks.
    async fn discard(&self, staged: Staged) -> Result<(), StoreError>;
    /// The size of a published file, if it exists.
    async fn size(&self, commitment: B256, sha256: B256) -> Result<Option<u64>, StoreError>;
    /// A published file's size and bytes, streamed; `None` when it does not exist.
    async fn open(
        &self,
        commitment: B256,
        sha256: B256,
    ) -> Result<Option<(u64, ByteStream)>, StoreError>;
}

/// 32 bytes from a database column (zero for a column of another length, which only a
/// hand-edited database holds).
fn b256(bytes: &[u8]) -> B256 {
    B256::try_from(bytes).unwrap_or_default()
}

/// A file that a committed result names but storage does not have.
fn missing(commitment: &B256, sha256: &B256) -> StoreError {
    StoreError::Backend(format!(
        "file {sha256} of committed task {commitment} is missing"
    ))
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

    /// Streams one result file into storage and publishes it under `sha256` once its bytes are
    /// checked to hash to it and to have the declared `size` (at most `max_size`). Refused once
    /// the task's result is committed.
    pub async fn put_result_file(
        &self,
        commitment: &B256,
        sha256: &B256,
        size: u64,
        body: ByteStream,
    ) -> Result<(), StoreError> {
        if self.meta.result(*commitment).await?.is_some() {
            return Err(StoreError::AlreadyUploaded {
                what: "results",
                commitment: *commitment,
            });
        }
        #[derive(Default)]
        struct Progress {
            hasher: Sha256,
            written: u64,
            /// Why the body itself failed (cut off, too long), as opposed to the storage.
            body_error: Option<String>,
        }
        let progress = Arc::new(std::sync::Mutex::new(Progress::default()));
        let seen = progress.clone();
        let checked: ByteStream = Box::pin(body.map(move |chunk| {
            let mut p = seen.lock().unwrap_or_else(|p| p.into_inner());
            let chunk = chunk.inspect_err(|e| p.body_error = Some(e.to_string()))?;
            p.written += chunk.len() as u64;
            if p.written > size {
                let message = format!("the body is longer than the declared {size} bytes");
                p.body_error = Some(message.clone());
                return Err(std::io::Error::other(message));
            }
            p.hasher.update(&chunk);
            Ok(chunk)
        }));
        let staged = self.blobs.stage(checked).await;
        let progress = std::mem::take(&mut *progress.lock().unwrap_or_else(|p| p.into_inner()));
        let staged = match (staged, progress.body_error) {
            (Ok(staged), None) => staged,
            (_, Some(message)) => return Err(StoreError::BodyInterrupted(message)),
            (Err(e), None) => return Err(e),
        };
        let actual = B256::from_slice(&progress.hasher.finalize());
        if actual != *sha256 || progress.written != size {
            self.blobs.discard(staged).await?;
            return Err(StoreError::FileMismatch {
                declared: *sha256,
                declared_size: size,
                actual,
                actual_size: progress.written,
            });
        }
        self.blobs.publish(staged, *commitment, *sha256).await
    }

    /// The size of a task's stored file with hash `sha256`, if it was uploaded.
    pub async fn result_file_size(
        &self,
        commitment: &B256,
        sha256: &B256,
    ) -> Result<Option<u64>, StoreError> {
        self.blobs.size(*commitment, *sha256).await
    }

    /// A stored file's bytes, all in memory (for scoring a result before it is committed);
    /// `None` when no file with this hash was uploaded for the task.
    pub async fn read_result_file(
        &self,
        commitment: &B256,
        sha256: &B256,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let Some((size, mut stream)) = self.blobs.open(*commitment, *sha256).await? else {
            return Ok(None);
        };
        let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk.map_err(|e| StoreError::Backend(e.to_string()))?);
        }
        Ok(Some(out))
    }

    /// Commits a task's result: the files with these hashes (all stored), and the score they
    /// give. Of two concurrent commits the database lets one win; the other is refused.
    pub async fn commit_result(
        &self,
        commitment: &B256,
        files: &[B256],
        score: &[u8],
        now: u64,
    ) -> Result<(), StoreError> {
        let record = ResultRecord {
            files: files.to_vec(),
        };
        if !self
            .meta
            .insert_result(*commitment, record, score.to_vec(), now)
            .await?
        {
            return Err(StoreError::AlreadyUploaded {
                what: "results",
                commitment: *commitment,
            });
        }
        Ok(())
    }

    /// Stores and commits a whole result held in memory (what tests and small tools need).
    pub async fn put_result(
        &self,
        commitment: &B256,
        files: &[Vec<u8>],
        score: &[u8],
        now: u64,
    ) -> Result<(), StoreError> {
        let mut hashes = Vec::with_capacity(files.len());
        for file in files {
            let sha = B256::from_slice(&Sha256::digest(file));
            let body: ByteStream = Box::pin(futures::stream::once(futures::future::ready(Ok(
                Bytes::from(file.clone()),
            ))));
            self.put_result_file(commitment, &sha, file.len() as u64, body)
                .await?;
            hashes.push(sha);
        }
        self.commit_result(commitment, &hashes, score, now).await
    }

    pub async fn has_result(&self, commitment: &B256) -> Result<bool, StoreError> {
        Ok(self.meta.result(*commitment).await?.is_some())
    }

    /// A committed result's files by hash, in order, with their sizes.
    pub async fn result_manifest(
        &self,
        commitment: &B256,
    ) -> Result<Option<Vec<(B256, u64)>>, StoreError> {
        let Some(record) = self.meta.result(*commitment).await? else {
            return Ok(None);
        };
        let mut out = Vec::with_capacity(record.files.len());
        for sha in record.files {
            let size = self.blobs.size(*commitment, sha).await?.ok_or_else(|| {
                StoreError::Backend(format!(
                    "file {sha} of committed task {commitment} is missing"
                ))
            })?;
            out.push((sha, size));
        }
        Ok(Some(out))
    }

    /// A file of a committed result, its size and its bytes streamed; `None` when the result
    /// does not name it.
    pub async fn result_file(
        &self,
        commitment: &B256,
        sha256: &B256,
    ) -> Result<Option<(u64, ByteStream)>, StoreError> {
        match self.meta.result(*commitment).await? {
            Some(record) if record.files.contains(sha256) => {
                let file = self.blobs.open(*commitment, *sha256).await?;
                file.ok_or_else(|| missing(commitment, sha256)).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// A committed result's files, in order, all in memory.
    pub async fn result_files(
        &self,
        commitment: &B256,
    ) -> Result<Option<Vec<Vec<u8>>>, StoreError> {
        let Some(record) = self.meta.result(*commitment).await? else {
            return Ok(None);
        };
        let mut out = Vec::with_capacity(record.files.len());
        for sha in &record.files {
            let file = self.read_result_file(commitment, sha).await?;
            out.push(file.ok_or_else(|| missing(commitment, sha))?);
        }
        Ok(Some(out))
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

    fn c(n: u8) -> B256 {
        B256::repeat_byte(n)
    }

    #[tokio::test]
    async fn opening_creates_the_data_directory() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        let store = Store::open(&nested).unwrap();
        store
            .put_params(&c(1), &StoredParams::new("{}", c(2)), 1)
            .await
            .unwrap();
        assert!(nested.join("relay.sqlite3").exists());
    }

    #[tokio::test]
    async fn a_failed_upload_leaves_no_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let body: ByteStream = Box::pin(futures::stream::iter(vec![
            Ok(Bytes::from_static(b"abc")),
            Err(std::io::Error::other("connection reset")),
        ]));
        let sha = B256::from_slice(&Sha256::digest(b"abcdef"));
        assert!(store.put_result_file(&c(3), &sha, 6, body).await.is_err());
        assert_eq!(store.result_file_size(&c(3), &sha).await.unwrap(), None);
        let staging = dir.path().join("results/.staging");
        assert_eq!(std::fs::read_dir(staging).unwrap().count(), 0);
    }
}
