//! Result files on the local filesystem: `<dir>/<task>/<upload>/<index>`, written under a
//! temporary name, synced, and renamed into place. Calls run on tokio's blocking pool.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use alloy::primitives::B256;

use super::{BlobStore, ResultRecord, StoreError};

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
        fs::create_dir_all(dir).map_err(io(dir))?;
        Ok(FsBlobs {
            dir: dir.to_path_buf(),
        })
    }

    fn upload_dir(&self, commitment: &B256, upload: &B256) -> PathBuf {
        let task = self.dir.join(hex::encode(commitment));
        if upload.is_zero() {
            // Results stored before uploads had keys of their own.
            task
        } else {
            task.join(hex::encode(upload))
        }
    }

    fn put_blocking(
        &self,
        commitment: &B256,
        upload: &B256,
        files: &[Vec<u8>],
    ) -> Result<(), StoreError> {
        let dir = self.upload_dir(commitment, upload);
        let staging = self.dir.join(format!(
            ".{}-{}.partial",
            hex::encode(commitment),
            hex::encode(upload)
        ));
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
            // Files of this same upload whose record never committed (a crash in between).
            fs::remove_dir_all(&dir).map_err(io(&dir))?;
        }
        let parent = dir.parent().unwrap_or(&self.dir).to_path_buf();
        fs::create_dir_all(&parent).map_err(io(&parent))?;
        fs::rename(&staging, &dir).map_err(io(&dir))?;
        for synced in [&parent, &self.dir] {
            fs::File::open(synced)
                .and_then(|d| d.sync_all())
                .map_err(io(synced))?;
        }
        Ok(())
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(FsBlobs) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || f(this))
            .await
            .map_err(|e| StoreError::Backend(format!("file task failed: {e}")))?
    }
}

#[async_trait::async_trait]
impl BlobStore for FsBlobs {
    async fn put_files(
        &self,
        commitment: B256,
        upload: B256,
        files: &[Vec<u8>],
    ) -> Result<(), StoreError> {
        let files = files.to_vec();
        self.blocking(move |this| this.put_blocking(&commitment, &upload, &files))
            .await
    }

    async fn get_files(
        &self,
        commitment: B256,
        record: ResultRecord,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        self.blocking(move |this| {
            let dir = this.upload_dir(&commitment, &record.upload);
            (0..record.file_count)
                .map(|i| {
                    let path = dir.join(i.to_string());
                    fs::read(&path).map_err(io(&path))
                })
                .collect()
        })
        .await
    }

    async fn delete_files(
        &self,
        commitment: B256,
        upload: B256,
        _count: usize,
    ) -> Result<(), StoreError> {
        if upload.is_zero() {
            return Ok(());
        }
        self.blocking(move |this| {
            let dir = this.upload_dir(&commitment, &upload);
            fs::remove_dir_all(&dir).map_err(io(&dir))
        })
        .await
    }
}
