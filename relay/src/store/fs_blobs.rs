//! Result files on the local filesystem: `<dir>/<task>/<sha256>`. A file is streamed into
//! `<dir>/.staging/`, synced, and renamed into place once its hash is checked.

use std::path::{Path, PathBuf};

use alloy::primitives::B256;
use futures::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio_util::io::ReaderStream;

use super::{BlobStore, ByteStream, Staged, StoreError};

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[derive(Clone)]
pub struct FsBlobs {
    dir: PathBuf,
}

impl FsBlobs {
    pub fn open(dir: &Path) -> Result<FsBlobs, StoreError> {
        let staging = dir.join(".staging");
        std::fs::create_dir_all(&staging).map_err(io(&staging))?;
        Ok(FsBlobs {
            dir: dir.to_path_buf(),
        })
    }

    fn path(&self, commitment: &B256, sha256: &B256) -> PathBuf {
        self.dir
            .join(hex::encode(commitment))
            .join(hex::encode(sha256))
    }

    fn staging(&self, name: &str) -> Result<PathBuf, StoreError> {
        // Names are ours (random hex); refuse anything else rather than touch other paths.
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::Backend(format!("bad staging name {name:?}")));
        }
        Ok(self.dir.join(".staging").join(name))
    }
}

async fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    tokio::fs::File::open(dir)
        .await
        .map_err(io(dir))?
        .sync_all()
        .await
        .map_err(io(dir))
}

#[async_trait::async_trait]
impl BlobStore for FsBlobs {
    async fn stage(&self, mut body: ByteStream) -> Result<Staged, StoreError> {
        let name = hex::encode(B256::random());
        let path = self.staging(&name)?;
        let mut file = tokio::fs::File::create(&path).await.map_err(io(&path))?;
        let written = async {
            while let Some(chunk) = body.next().await {
                file.write_all(&chunk?).await?;
            }
            file.sync_all().await
        }
        .await;
        if let Err(e) = written {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(StoreError::Io { path, source: e });
        }
        Ok(Staged(name))
    }

    async fn publish(
        &self,
        staged: Staged,
        commitment: B256,
        sha256: B256,
    ) -> Result<(), StoreError> {
        let from = self.staging(&staged.0)?;
        let to = self.path(&commitment, &sha256);
        let task_dir = to.parent().unwrap_or(&self.dir).to_path_buf();
        tokio::fs::create_dir_all(&task_dir)
            .await
            .map_err(io(&task_dir))?;
        tokio::fs::rename(&from, &to).await.map_err(io(&to))?;
        sync_dir(&task_dir).await?;
        sync_dir(&self.dir).await
    }

    async fn discard(&self, staged: Staged) -> Result<(), StoreError> {
        let path = self.staging(&staged.0)?;
        tokio::fs::remove_file(&path).await.map_err(io(&path))
    }

    async fn size(&self, commitment: B256, sha256: B256) -> Result<Option<u64>, StoreError> {
        let path = self.path(&commitment, &sha256);
        match tokio::fs::metadata(&path).await {
            Ok(meta) => Ok(Some(meta.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::Io { path, source: e }),
        }
    }

    async fn open(
        &self,
        commitment: B256,
        sha256: B256,
    ) -> Result<Option<(u64, ByteStream)>, StoreError> {
        let path = self.path(&commitment, &sha256);
        let file = match tokio::fs::File::open(&path).await {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::Io { path, source: e }),
        };
        let size = file.metadata().await.map_err(io(&path))?.len();
        let stream: ByteStream = Box::pin(ReaderStream::with_capacity(file, 64 * 1024));
        Ok(Some((size, stream)))
    }
}
