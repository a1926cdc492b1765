//! Result files in S3-compatible object storage: `<prefix>/<task>/<upload>/<index>`. An object
//! is visible only once its PUT completed, so a crashed upload leaves no partial file, only
//! objects that no record names.

use std::sync::Arc;

use alloy::primitives::B256;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use super::{BlobStore, ResultRecord, StoreError};

pub struct S3Blobs {
    store: Arc<dyn ObjectStore>,
    prefix: String,
}

impl S3Blobs {
    /// Files under `prefix` (no leading or trailing `/`; may be empty) of `store`.
    pub fn new(store: Arc<dyn ObjectStore>, prefix: &str) -> S3Blobs {
        S3Blobs {
            store,
            prefix: prefix.trim_matches('/').to_string(),
        }
    }

    fn key(&self, commitment: &B256, upload: &B256, index: usize) -> ObjectPath {
        let task = hex::encode(commitment);
        let name = if upload.is_zero() {
            format!("{task}/{index}")
        } else {
            format!("{task}/{}/{index}", hex::encode(upload))
        };
        if self.prefix.is_empty() {
            ObjectPath::from(name)
        } else {
            ObjectPath::from(format!("{}/{name}", self.prefix))
        }
    }
}

#[async_trait::async_trait]
impl BlobStore for S3Blobs {
    async fn put_files(
        &self,
        commitment: B256,
        upload: B256,
        files: &[Vec<u8>],
    ) -> Result<(), StoreError> {
        for (i, bytes) in files.iter().enumerate() {
            self.store
                .put(
                    &self.key(&commitment, &upload, i),
                    PutPayload::from(bytes.clone()),
                )
                .await?;
        }
        Ok(())
    }

    async fn get_files(
        &self,
        commitment: B256,
        record: ResultRecord,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut files = Vec::with_capacity(record.file_count);
        for i in 0..record.file_count {
            let object = self
                .store
                .get(&self.key(&commitment, &record.upload, i))
                .await?;
            files.push(object.bytes().await?.to_vec());
        }
        Ok(files)
    }

    async fn delete_files(
        &self,
        commitment: B256,
        upload: B256,
        count: usize,
    ) -> Result<(), StoreError> {
        for i in 0..count {
            self.store
                .delete(&self.key(&commitment, &upload, i))
                .await?;
        }
        Ok(())
    }
}
