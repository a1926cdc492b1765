//! The worker's hub download (hf-hub) against a local server that speaks the Hugging Face hub's
//! protocol: the repository listing, then each file's metadata (a one-byte range with etag,
//! commit and size) and its ranged download. The model lands in the cache in the hub layout and
//! answers exactly as the same model installed locally.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use node_worker::engines::text_engine::TextEngine;
use node_worker::engines::tiny_model::TinyLlama;
use node_worker::models::model_cache::{find_text_model, local_model_ids};
use node_worker::models::model_download::{download, DownloadError};
use protocol::text_params::{DType, TextParams};
use sha2::{Digest, Sha256};

const REPO: &str = "tiny/hub-llama";
const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

#[derive(Clone, Default)]
struct Hub {
    /// Files of `REPO` by path.
    files: Arc<HashMap<String, Vec<u8>>>,
    /// Paths whose content was requested beyond the metadata probe.
    downloads: Arc<Mutex<Vec<String>>>,
}

async fn listing(
    State(hub): State<Hub>,
    UrlPath((org, name)): UrlPath<(String, String)>,
) -> Response {
    if format!("{org}/{name}") != REPO {
        return StatusCode::NOT_FOUND.into_response();
    }
    let siblings: Vec<_> = hub
        .files
        .keys()
        .map(|f| serde_json::json!({ "rfilename": f }))
        .collect();
    Json(serde_json::json!({ "sha": COMMIT, "siblings": siblings })).into_response()
}

async fn resolve(
    State(hub): State<Hub>,
    UrlPath((org, name, file)): UrlPath<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let Some(bytes) = hub
        .files
        .get(&file)
        .filter(|_| format!("{org}/{name}") == REPO)
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // `bytes=START-` or `bytes=START-END`, as hf-hub asks; `bytes=0-0` is its metadata probe.
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("bytes="));
    let Some((start, end)) = range.and_then(|r| r.split_once('-')) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    if range != Some("0-0") {
        hub.downloads.lock().unwrap().push(file.clone());
    }
    let last = bytes.len() - 1;
    let start: usize = start.parse().unwrap_or(0).min(last);
    let end: usize = end.parse().unwrap_or(last).min(last);
    let etag = format!("\"{}\"", hex::encode(Sha256::digest(bytes)));
    (
        StatusCode::PARTIAL_CONTENT,
        [
            ("etag", etag),
            ("x-repo-commit", COMMIT.to_string()),
            (
                "content-range",
                format!("bytes {start}-{end}/{}", bytes.len()),
            ),
        ],
        bytes[start..=end].to_vec(),
    )
        .into_response()
}

/// Serves `files` as `REPO` on a free port; the endpoint and the hub.
fn serve(files: HashMap<String, Vec<u8>>) -> (String, Hub) {
    let hub = Hub {
        files: Arc::new(files),
        ..Default::default()
    };
    let app = Router::new()
        .route("/api/models/{org}/{name}/revision/main", get(listing))
        .route("/{org}/{name}/resolve/main/{*file}", get(resolve))
        .with_state(hub.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    (endpoint, hub)
}

fn answer(cache: &Path) -> String {
    let files = find_text_model(cache, REPO).unwrap();
    let mut engine = TextEngine::load(&files, &candle_core::Device::Cpu, DType::Auto).unwrap();
    let params = serde_json::json!({
        "version": "1.0", "model": REPO,
        "messages": [{"role": "user", "content": "Hello"}],
        "generation_config": {"max_new_tokens": 12, "do_sample": false},
        "seed": 3})
    .to_string();
    let result = engine
        .generate(&TextParams::from_json(&params).unwrap(), |_, _| {})
        .unwrap();
    String::from_utf8(result.canonical_bytes()).unwrap()
}

#[test]
fn a_model_is_downloaded_from_the_hub_into_the_cache_and_runs() {
    let staging = tempfile::tempdir().unwrap();
    let mut files: HashMap<String, Vec<u8>> = TinyLlama::default()
        .write(staging.path())
        .unwrap()
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(p).unwrap())
        })
        .collect();
    // What the worker does not need stays on the hub.
    files.insert("README.md".into(), b"# tiny".to_vec());
    let (endpoint, hub) = serve(files);

    let cache = tempfile::tempdir().unwrap();
    download(cache.path(), &format!("base:{REPO}"), &endpoint).unwrap();
    assert_eq!(local_model_ids(cache.path()), vec![format!("base:{REPO}")]);
    let mut fetched = hub.downloads.lock().unwrap().clone();
    fetched.sort();
    assert_eq!(
        fetched,
        vec!["config.json", "model.safetensors", "tokenizer.json"]
    );

    // The same model installed locally answers with the same bytes.
    let local = tempfile::tempdir().unwrap();
    TinyLlama::default().install(local.path(), REPO).unwrap();
    assert_eq!(answer(cache.path()), answer(local.path()));

    // Downloading again finds every file in the cache.
    download(cache.path(), &format!("base:{REPO}"), &endpoint).unwrap();
    assert_eq!(hub.downloads.lock().unwrap().len(), 3);

    // A repository the hub does not have is the hub's error, naming the model.
    let err = download(cache.path(), "base:tiny/absent", &endpoint).unwrap_err();
    assert!(matches!(err, DownloadError::Hub { .. }), "{err}");
    assert!(err.to_string().contains("tiny/absent"), "{err}");
}
