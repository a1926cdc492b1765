//! The storage backends the relay's test suites run on: the local default (SQLite and files in a
//! temporary directory), or, with `RELAY_TEST_BACKEND=servers`, PostgreSQL and S3-compatible
//! storage from `scripts/relay-servers.sh` (a fresh database and bucket prefix per store).

use std::path::Path;

use alloy::primitives::B256;
use relay::store::{Store, StoreConfig};

pub fn servers() -> bool {
    match std::env::var("RELAY_TEST_BACKEND").as_deref() {
        Ok("servers") => true,
        Ok("local") | Err(_) => false,
        Ok(other) => panic!("RELAY_TEST_BACKEND={other:?}: expected `local` or `servers`"),
    }
}

fn required(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "RELAY_TEST_BACKEND=servers needs {name}: run `scripts/relay-servers.sh start DIR` \
             and source DIR/env"
        )
    })
}

/// A configuration that every replica of one test shares: on servers, a new database and a new
/// prefix in the test bucket; locally, `dir`.
pub async fn fresh_config(dir: &Path) -> StoreConfig {
    if !servers() {
        return StoreConfig {
            data_dir: dir.to_path_buf(),
            ..StoreConfig::default()
        };
    }
    let admin_url = required("RELAY_TEST_DATABASE_URL");
    let bucket = required("RELAY_TEST_BLOB_STORE");
    let name = format!("relay_{}", hex::encode(&B256::random()[..8]));
    let (client, connection) = tokio_postgres::connect(&admin_url, tokio_postgres::NoTls)
        .await
        .expect("connecting to the test PostgreSQL server");
    tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("creating a test database");
    let (base, _) = admin_url
        .rsplit_once('/')
        .expect("RELAY_TEST_DATABASE_URL ends with /database");
    StoreConfig {
        data_dir: dir.to_path_buf(),
        database_url: Some(format!("{base}/{name}")),
        blob_store: Some(format!("{}/{name}", bucket.trim_end_matches('/'))),
    }
}

/// A store for one test.
// Each test crate includes this module; not every one opens a lone store.
#[allow(dead_code)]
pub async fn open_store(dir: &Path) -> Store {
    fresh_config(dir)
        .await
        .open()
        .await
        .expect("opening the test store")
}
