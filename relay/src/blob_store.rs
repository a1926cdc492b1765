//! Result files: the trait, and its filesystem implementation.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use alloy::primitives::B256;

use crate::store::StoreError;

/// Where result files live. `put_files` must make the files durable and complete (replacing any
/// leftovers of an earlier, uncommitted attempt) before it returns.
pub trait BlobStore: Send + Sync {
    fn put_files(&self, commitment: &B256, files: &[Vec<u8>]) -> Result<(), StoreError>;
    fn get_files(&self, commitment: &B256, count: usize) -> Result<Vec<Vec<u8>>, StoreError>;
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One folder per task (`<dir>/<commitment hex>/<index>`), written under a temporary name, synced,
/// and renamed into place.
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

    fn task_dir(&self, commitment: &B256) -> PathBuf {
        self.dir.join(hex::encode(commitment))
    }
}

impl BlobStore for FsBlobs {
    fn put_files(&self, commitment: &B256, files: &[Vec<u8>]) -> Result<(), StoreError> {
        let dir = self.task_dir(commitment);
        let staging = self
            .dir
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
            // Files of an upload whose record never committed (a crash in between): replace them.
            fs::remove_dir_all(&dir).map_err(io(&dir))?;
        }
        fs::rename(&staging, &dir).map_err(io(&dir))?;
        fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io(&self.dir))?;
        Ok(())
    }

    fn get_files(&self, commitment: &B256, count: usize) -> Result<Vec<Vec<u8>>, StoreError> {
        let dir = self.task_dir(commitment);
        (0..count)
            .map(|i| {
                let path = dir.join(i.to_string());
                fs::read(&path).map_err(io(&path))
            })
            .collect()
    }
}
