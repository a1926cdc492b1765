//! The relay's durable state behind two traits, so that a deployment can move metadata to a
//! database server and files to object storage: [`MetadataStore`] (parameters, result records,
//! the outbox of on-chain reports, used request hashes) and [`BlobStore`] (result files). The local
//! default is SQLite ([`SqliteMetadata`]) and the filesystem ([`FsBlobs`]).
//!
//! A result's files are stored completely before its record is committed, so a crash never leaves
//! a record pointing at missing or partial files; an upload whose record is committed is never
//! lost, and its on-chain report stays in the outbox until it is confirmed.

use std::path::Path;

use alloy::primitives::B256;

pub use crate::blob_store::{BlobStore, FsBlobs};
pub use crate::metadata_store::{MetadataStore, SqliteMetadata};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
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

/// An upload whose on-chain report is not confirmed yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingReport {
    pub kind: ReportKind,
    pub commitment: B256,
    /// The hash of a transaction already sent for it, if any: the reporter checks its receipt
    /// before sending another, so a restart never reports twice.
    pub sent_tx: Option<B256>,
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
    pub fn claim_request(
        &self,
        hash: &B256,
        expires_at: u64,
        now: u64,
    ) -> Result<bool, StoreError> {
        self.meta.claim_request(hash, expires_at, now)
    }

    /// Whether a request hash was already used (and has not expired).
    pub fn request_used(&self, hash: &B256, now: u64) -> Result<bool, StoreError> {
        self.meta.request_used(hash, now)
    }

    /// Stores a task's parameters; refuses a second upload.
    pub fn put_params(
        &self,
        commitment: &B256,
        params: &StoredParams,
        now: u64,
    ) -> Result<(), StoreError> {
        if !self.meta.insert_params(commitment, params, now)? {
            return Err(StoreError::AlreadyUploaded {
                what: "parameters",
                commitment: *commitment,
            });
        }
        Ok(())
    }

    pub fn params(&self, commitment: &B256) -> Result<Option<StoredParams>, StoreError> {
        self.meta.params(commitment)
    }

    /// Stores a task's result files with the score they hash to; refuses a second upload. The
    /// files are complete and durable before the record that makes them visible is committed.
    pub fn put_result(
        &self,
        commitment: &B256,
        files: &[Vec<u8>],
        score: &[u8],
        now: u64,
    ) -> Result<(), StoreError> {
        let already = StoreError::AlreadyUploaded {
            what: "results",
            commitment: *commitment,
        };
        if self.meta.result_file_count(commitment)?.is_some() {
            return Err(already);
        }
        self.blobs.put_files(commitment, files)?;
        if !self
            .meta
            .insert_result(commitment, files.len(), score, now)?
        {
            return Err(already);
        }
        Ok(())
    }

    pub fn has_result(&self, commitment: &B256) -> Result<bool, StoreError> {
        Ok(self.meta.result_file_count(commitment)?.is_some())
    }

    /// A task's result files, in upload order, once the upload is committed.
    pub fn result_files(&self, commitment: &B256) -> Result<Option<Vec<Vec<u8>>>, StoreError> {
        match self.meta.result_file_count(commitment)? {
            Some(count) => self.blobs.get_files(commitment, count).map(Some),
            None => Ok(None),
        }
    }

    /// Uploads whose reports are not confirmed on chain, oldest first.
    pub fn pending_reports(&self) -> Result<Vec<PendingReport>, StoreError> {
        self.meta.pending_reports()
    }

    /// Records the transaction sent for a report, before waiting for it.
    pub fn report_sent(
        &self,
        kind: ReportKind,
        commitment: &B256,
        tx: &B256,
    ) -> Result<(), StoreError> {
        self.meta.report_sent(kind, commitment, tx)
    }

    /// Marks a report as confirmed on chain.
    pub fn report_confirmed(&self, kind: ReportKind, commitment: &B256) -> Result<(), StoreError> {
        self.meta.report_confirmed(kind, commitment)
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

    #[test]
    fn opening_creates_the_data_directory() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        let store = Store::open(&nested).unwrap();
        store.put_params(&c(1), &p("{}"), 1).unwrap();
        assert!(nested.join("relay.sqlite3").exists());
    }

    #[test]
    fn parameters_are_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.params(&c(1)).unwrap(), None);
        store.put_params(&c(1), &p("{\"a\":1}"), 10).unwrap();
        assert_eq!(store.params(&c(1)).unwrap(), Some(p("{\"a\":1}")));
        assert!(matches!(
            store.put_params(&c(1), &p("{}"), 11),
            Err(StoreError::AlreadyUploaded { .. })
        ));
    }

    #[test]
    fn results_and_outbox_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            store.put_params(&c(1), &p("{}"), 10).unwrap();
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
        assert!(!store.request_used(&c(1), 40).unwrap());
        assert!(store.claim_request(&c(1), 100, 40).unwrap());
        assert!(store.request_used(&c(1), 41).unwrap());
        assert!(!store.claim_request(&c(1), 100, 41).unwrap());
        assert!(!store.request_used(&c(1), 101).unwrap());
        // After expiry the entry is purged; the request itself would then fail the time window.
        assert!(store.claim_request(&c(1), 200, 101).unwrap());
    }
}
