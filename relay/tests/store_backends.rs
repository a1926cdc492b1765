//! The store's rules on the backend under test (SQLite + files, or with
//! `RELAY_TEST_BACKEND=servers` PostgreSQL + S3): one upload per task, uploads and the outbox
//! surviving a restart, concurrent uploads with one winner, request hashes used once, leases.

use alloy::primitives::B256;
use bytes::Bytes;
use futures::StreamExt;
use relay::store::{ByteStream, PendingReport, ReportKind, StoreError, StoredParams};
use sha2::{Digest, Sha256};

mod backend;

fn c(n: u8) -> B256 {
    B256::repeat_byte(n)
}

fn p(body: &str) -> StoredParams {
    StoredParams::new(body, B256::repeat_byte(0x5A))
}

#[tokio::test(flavor = "multi_thread")]
async fn parameters_are_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = backend::open_store(dir.path()).await;
    assert_eq!(store.params(&c(1)).await.unwrap(), None);
    store.put_params(&c(1), &p("{\"a\":1}"), 10).await.unwrap();
    assert_eq!(store.params(&c(1)).await.unwrap(), Some(p("{\"a\":1}")));
    assert!(matches!(
        store.put_params(&c(1), &p("{}"), 11).await,
        Err(StoreError::AlreadyUploaded { .. })
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn results_and_outbox_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = backend::fresh_config(dir.path()).await;
    {
        let store = config.open().await.unwrap();
        store.put_params(&c(1), &p("{}"), 10).await.unwrap();
        store
            .put_result(&c(2), &[vec![1, 2, 3], vec![]], &[9; 8], 11)
            .await
            .unwrap();
        store
            .report_sent(ReportKind::Parameters, &c(1), &c(7))
            .await
            .unwrap();
    }
    let store = config.open().await.unwrap();
    assert_eq!(
        store.result_files(&c(2)).await.unwrap(),
        Some(vec![vec![1, 2, 3], vec![]])
    );
    assert_eq!(
        store.pending_reports().await.unwrap(),
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
        .await
        .unwrap();
    assert_eq!(store.pending_reports().await.unwrap().len(), 1);
    assert!(matches!(
        store.put_result(&c(2), &[vec![0]], &[0; 8], 12).await,
        Err(StoreError::AlreadyUploaded { .. })
    ));
    assert_eq!(
        store.result_files(&c(2)).await.unwrap().unwrap()[0],
        vec![1, 2, 3]
    );
}

/// Two replicas store two different uploads of one task at once: one wins, the other is told so,
/// and the task's files are the winner's, complete.
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_uploads_of_one_task_have_one_winner() {
    let dir = tempfile::tempdir().unwrap();
    let config = backend::fresh_config(dir.path()).await;
    let (a, b) = (config.open().await.unwrap(), config.open().await.unwrap());
    for round in 0..8u8 {
        let task = c(100 + round);
        let files_a = vec![vec![b'a'; 3000], vec![b'a'; 10]];
        let files_b = vec![vec![b'b'; 2000]];
        let (ra, rb) = tokio::join!(
            a.put_result(&task, &files_a, &[1; 8], 1),
            b.put_result(&task, &files_b, &[2; 8], 1),
        );
        let stored = a.result_files(&task).await.unwrap().unwrap();
        match (ra, rb) {
            (Ok(()), Err(StoreError::AlreadyUploaded { .. })) => assert_eq!(stored, files_a),
            (Err(StoreError::AlreadyUploaded { .. }), Ok(())) => assert_eq!(stored, files_b),
            other => panic!("round {round}: expected one winner, got {other:?}"),
        }
        assert_eq!(b.result_files(&task).await.unwrap().unwrap(), stored);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_hash_is_accepted_once_until_it_expires() {
    let dir = tempfile::tempdir().unwrap();
    let config = backend::fresh_config(dir.path()).await;
    let (store, other) = (config.open().await.unwrap(), config.open().await.unwrap());
    assert!(!store.request_used(&c(1), 40).await.unwrap());
    assert!(store.claim_request(&c(1), 100, 40).await.unwrap());
    assert!(store.request_used(&c(1), 41).await.unwrap());
    // Another replica on the same store sees it used.
    assert!(other.request_used(&c(1), 41).await.unwrap());
    assert!(!other.claim_request(&c(1), 100, 41).await.unwrap());
    assert!(!store.request_used(&c(1), 101).await.unwrap());
    // After expiry the entry is purged; the request itself would then fail the time window.
    assert!(store.claim_request(&c(1), 200, 101).await.unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_claimed_by_many_replicas_at_once_is_claimed_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = backend::fresh_config(dir.path()).await;
    let mut replicas = Vec::new();
    for _ in 0..4 {
        replicas.push(config.open().await.unwrap());
    }
    for n in 0..16u8 {
        let hash = c(n);
        let claims =
            futures::future::join_all(replicas.iter().map(|r| r.claim_request(&hash, 1_000, 10)))
                .await;
        let won = claims.into_iter().filter(|r| *r.as_ref().unwrap()).count();
        assert_eq!(won, 1, "request {n}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lease_has_one_holder_until_it_expires() {
    let dir = tempfile::tempdir().unwrap();
    let store = backend::open_store(dir.path()).await;
    assert!(store.try_lease("r", "a", 1_000, 2_000).await.unwrap());
    assert!(!store.try_lease("r", "b", 1_500, 2_500).await.unwrap());
    // The holder renews.
    assert!(store.try_lease("r", "a", 1_900, 2_900).await.unwrap());
    assert!(!store.try_lease("r", "b", 2_500, 3_500).await.unwrap());
    // Expired: another takes it, and the old holder has lost it.
    assert!(store.try_lease("r", "b", 3_000, 4_000).await.unwrap());
    assert!(!store.try_lease("r", "a", 3_100, 4_100).await.unwrap());
    // Leases are by name.
    assert!(store.try_lease("other", "a", 3_100, 4_100).await.unwrap());
}

fn chunks(data: &[u8], size: usize) -> ByteStream {
    let parts: Vec<Result<Bytes, std::io::Error>> = data
        .chunks(size)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    Box::pin(futures::stream::iter(parts))
}

fn sha(data: &[u8]) -> B256 {
    B256::from_slice(&Sha256::digest(data))
}

/// A file larger than several multipart parts, streamed in small chunks, comes back whole and
/// streamed; files whose bytes or size differ from what was declared are refused and not kept.
#[tokio::test(flavor = "multi_thread")]
async fn files_are_streamed_in_and_out_and_checked_against_their_hash() {
    let dir = tempfile::tempdir().unwrap();
    let store = backend::open_store(dir.path()).await;
    let big: Vec<u8> = (0..12 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    store
        .put_result_file(&c(9), &sha(&big), big.len() as u64, chunks(&big, 64 * 1024))
        .await
        .unwrap();
    assert_eq!(
        store.result_file_size(&c(9), &sha(&big)).await.unwrap(),
        Some(big.len() as u64)
    );
    let wrong = b"not the declared bytes".to_vec();
    let err = store
        .put_result_file(&c(9), &sha(b"x"), wrong.len() as u64, chunks(&wrong, 5))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::FileMismatch { .. }), "{err}");
    assert_eq!(
        store.result_file_size(&c(9), &sha(b"x")).await.unwrap(),
        None
    );
    let err = store
        .put_result_file(&c(9), &sha(&wrong), 3, chunks(&wrong, 5))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::BodyInterrupted(_)), "{err}");
    let err = store
        .put_result_file(&c(9), &sha(&wrong), 100, chunks(&wrong, 5))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::FileMismatch { .. }), "{err}");
    assert_eq!(
        store.result_file_size(&c(9), &sha(&wrong)).await.unwrap(),
        None
    );

    // Not served before the result is committed, then streamed in pieces.
    assert!(store
        .result_file(&c(9), &sha(&big))
        .await
        .unwrap()
        .is_none());
    store
        .commit_result(&c(9), &[sha(&big)], &[0; 8], 1)
        .await
        .unwrap();
    let (size, mut stream) = store.result_file(&c(9), &sha(&big)).await.unwrap().unwrap();
    assert_eq!(size, big.len() as u64);
    let (mut back, mut pieces) = (Vec::new(), 0);
    while let Some(piece) = stream.next().await {
        back.extend_from_slice(&piece.unwrap());
        pieces += 1;
    }
    assert!(pieces > 1, "served in one piece");
    assert!(back == big, "the file came back changed");
    assert_eq!(
        store.result_manifest(&c(9)).await.unwrap(),
        Some(vec![(sha(&big), big.len() as u64)])
    );
}
