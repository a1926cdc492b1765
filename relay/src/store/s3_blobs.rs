//! Result files in S3-compatible object storage: `<prefix>/<task>/<sha256>`. A file is streamed
//! to `<prefix>/.staging/<random>` (in one PUT when under 5 MiB, else as a multipart upload of
//! 5 MiB parts, two in flight, so a replica's memory per upload stays about 15 MiB whatever the
//! file's size), then copied under its hash by the server once the hash is checked.

use std::sync::Arc;

use alloy::primitives::B256;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};

use super::{BlobStore, ByteStream, Staged, StoreError};

const PART_BYTES: usize = 5 * 1024 * 1024;
const PARTS_IN_FLIGHT: usize = 2;

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

    fn key(&self, name: String) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(name)
        } else {
            ObjectPath::from(format!("{}/{name}", self.prefix))
        }
    }

    fn file_key(&self, commitment: &B256, sha256: &B256) -> ObjectPath {
        self.key(format!(
            "{}/{}",
            hex::encode(commitment),
            hex::encode(sha256)
        ))
    }

    fn staging_key(&self, staged: &Staged) -> Result<ObjectPath, StoreError> {
        if staged.0.is_empty() || !staged.0.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::Backend(format!(
                "bad staging name {:?}",
                staged.0
            )));
        }
        Ok(self.key(format!(".staging/{}", staged.0)))
    }
}

#[async_trait::async_trait]
impl BlobStore for S3Blobs {
    async fn stage(&self, mut body: ByteStream) -> Result<Staged, StoreError> {
        let staged = Staged(hex::encode(B256::random()));
        let key = self.staging_key(&staged)?;
        let interrupted =
            |e: std::io::Error| StoreError::Backend(format!("upload interrupted: {e}"));
        // A file smaller than one part goes up in one PUT; a larger one as a multipart upload.
        let mut first = Vec::new();
        while first.len() < PART_BYTES {
            match body.next().await {
                Some(chunk) => first.extend_from_slice(&chunk.map_err(interrupted)?),
                None => {
                    self.store.put(&key, PutPayload::from(first)).await?;
                    return Ok(staged);
                }
            }
        }
        let upload = self.store.put_multipart(&key).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        writer.write(&first);
        drop(first);
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(chunk) => {
                    writer.wait_for_capacity(PARTS_IN_FLIGHT).await?;
                    writer.write(&chunk);
                }
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(interrupted(e));
                }
            }
        }
        writer.finish().await?;
        Ok(staged)
    }

    async fn publish(
        &self,
        staged: Staged,
        commitment: B256,
        sha256: B256,
    ) -> Result<(), StoreError> {
        let from = self.staging_key(&staged)?;
        self.store
            .copy(&from, &self.file_key(&commitment, &sha256))
            .await?;
        self.store.delete(&from).await?;
        Ok(())
    }

    async fn discard(&self, staged: Staged) -> Result<(), StoreError> {
        self.store.delete(&self.staging_key(&staged)?).await?;
        Ok(())
    }

    async fn size(&self, commitment: B256, sha256: B256) -> Result<Option<u64>, StoreError> {
        match self.store.head(&self.file_key(&commitment, &sha256)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn open(
        &self,
        commitment: B256,
        sha256: B256,
    ) -> Result<Option<(u64, ByteStream)>, StoreError> {
        let object = match self.store.get(&self.file_key(&commitment, &sha256)).await {
            Ok(object) => object,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let size = object.meta.size;
        let stream: ByteStream = Box::pin(object.into_stream().map_err(std::io::Error::other));
        Ok(Some((size, stream)))
    }
}
