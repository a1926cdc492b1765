//! Which backends a relay uses, from its configuration: SQLite and files in the data directory
//! by default, PostgreSQL for `--database-url postgres://…`, S3-compatible object storage for
//! `--blob-store s3://bucket/prefix` (endpoint, region and credentials from the usual `AWS_*`
//! environment variables: `AWS_ENDPOINT`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_ALLOW_HTTP`).

use std::path::PathBuf;
use std::sync::Arc;

use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::ObjectStore;

use super::{BlobStore, FsBlobs, MetadataStore, PostgresMetadata, S3Blobs, SqliteMetadata};
use super::{Store, StoreError};

#[derive(Debug, Clone, Default)]
pub struct StoreConfig {
    /// The SQLite database and the result files when no server is configured.
    pub data_dir: PathBuf,
    /// `postgres://user:password@host:port/database`; SQLite in `data_dir` when absent.
    pub database_url: Option<String>,
    /// `s3://bucket[/prefix]` or a directory; `data_dir/results` when absent.
    pub blob_store: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreConfigError {
    #[error("database URL {0:?}: expected postgres://user:password@host:port/database")]
    DatabaseUrl(String),
    #[error("blob store {0:?}: expected s3://bucket[/prefix] or a directory")]
    BlobStoreUrl(String),
    #[error("opening the metadata store ({what}): {source}")]
    Metadata { what: String, source: StoreError },
    #[error("opening the blob store ({what}): {source}")]
    Blobs { what: String, source: StoreError },
}

impl StoreConfig {
    /// Where metadata lives, for people (the database URL without its password).
    pub fn describe_metadata(&self) -> String {
        match &self.database_url {
            Some(url) => match url.parse::<tokio_postgres::Config>() {
                Ok(c) => {
                    let hosts: Vec<String> = c
                        .get_hosts()
                        .iter()
                        .zip(c.get_ports().iter().chain(std::iter::repeat(&5432)))
                        .map(|(host, port)| match host {
                            tokio_postgres::config::Host::Tcp(name) => format!("{name}:{port}"),
                            #[cfg(unix)]
                            tokio_postgres::config::Host::Unix(path) => {
                                format!("{}:{port}", path.display())
                            }
                        })
                        .collect();
                    format!(
                        "postgres://{}@{}/{} (password not shown)",
                        c.get_user().unwrap_or(""),
                        hosts.join(","),
                        c.get_dbname().unwrap_or("")
                    )
                }
                Err(_) => "postgres (unparsable URL)".into(),
            },
            None => format!("sqlite {}", self.data_dir.join("relay.sqlite3").display()),
        }
    }

    pub fn describe_blobs(&self) -> String {
        match &self.blob_store {
            Some(b) => b.clone(),
            None => self.data_dir.join("results").display().to_string(),
        }
    }

    pub async fn open(&self) -> Result<Store, StoreConfigError> {
        let meta: Box<dyn MetadataStore> = match &self.database_url {
            Some(url) => {
                if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                    return Err(StoreConfigError::DatabaseUrl(url.clone()));
                }
                Box::new(PostgresMetadata::connect(url).await.map_err(|source| {
                    StoreConfigError::Metadata {
                        what: self.describe_metadata(),
                        source,
                    }
                })?)
            }
            None => Box::new(
                self.open_sqlite()
                    .map_err(|source| StoreConfigError::Metadata {
                        what: self.describe_metadata(),
                        source,
                    })?,
            ),
        };
        let blobs_error = |source| StoreConfigError::Blobs {
            what: self.describe_blobs(),
            source,
        };
        let blobs: Box<dyn BlobStore> = match &self.blob_store {
            Some(url) if url.starts_with("s3://") => {
                Box::new(open_s3(url).await.map_err(blobs_error)?)
            }
            Some(url) if url.contains("://") => {
                return Err(StoreConfigError::BlobStoreUrl(url.clone()))
            }
            Some(dir) => Box::new(FsBlobs::open(&PathBuf::from(dir)).map_err(blobs_error)?),
            None => Box::new(FsBlobs::open(&self.data_dir.join("results")).map_err(blobs_error)?),
        };
        Ok(Store::new(meta, blobs))
    }

    fn open_sqlite(&self) -> Result<SqliteMetadata, StoreError> {
        std::fs::create_dir_all(&self.data_dir).map_err(|source| StoreError::Io {
            path: self.data_dir.clone(),
            source,
        })?;
        SqliteMetadata::open(&self.data_dir.join("relay.sqlite3"))
    }
}

/// `s3://bucket[/prefix]`, checked by listing the prefix once, so a wrong bucket, endpoint or
/// credential is refused at start rather than at the first upload.
async fn open_s3(url: &str) -> Result<S3Blobs, StoreError> {
    let rest = &url["s3://".len()..];
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(StoreError::Backend(format!(
            "{url:?} names no bucket (expected s3://bucket[/prefix])"
        )));
    }
    let store: Arc<dyn ObjectStore> = Arc::new(
        AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()?,
    );
    let prefix = prefix.trim_matches('/');
    let probe = (!prefix.is_empty()).then(|| ObjectPath::from(prefix));
    store.list_with_delimiter(probe.as_ref()).await?;
    Ok(S3Blobs::new(store, prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_is_described_without_its_password() {
        let config = StoreConfig {
            database_url: Some("postgres://relay:hunter2@db.example:6543/relay".into()),
            ..StoreConfig::default()
        };
        let text = config.describe_metadata();
        assert_eq!(
            text,
            "postgres://relay@db.example:6543/relay (password not shown)"
        );
        assert!(!text.contains("hunter2"));
    }

    #[tokio::test]
    async fn unknown_backends_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let database = StoreConfig {
            data_dir: dir.path().to_path_buf(),
            database_url: Some("mysql://x@y/z".into()),
            ..StoreConfig::default()
        };
        assert!(matches!(
            database.open().await,
            Err(StoreConfigError::DatabaseUrl(_))
        ));
        let blobs = StoreConfig {
            data_dir: dir.path().to_path_buf(),
            blob_store: Some("gs://bucket/prefix".into()),
            ..StoreConfig::default()
        };
        assert!(matches!(
            blobs.open().await,
            Err(StoreConfigError::BlobStoreUrl(_))
        ));
        let no_bucket = StoreConfig {
            data_dir: dir.path().to_path_buf(),
            blob_store: Some("s3:///prefix".into()),
            ..StoreConfig::default()
        };
        let err = no_bucket.open().await.err().unwrap().to_string();
        assert!(err.contains("names no bucket"), "{err}");
    }
}
