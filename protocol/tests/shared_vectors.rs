//! The protocol code against vectors made by independent implementations
//! (`../shared/test-vectors/`): byte for byte.

use std::path::PathBuf;

use alloy::primitives::{keccak256, Address};
use alloy::signers::local::PrivateKeySigner;
use protocol::phash::{parse_phash, phash_png};
use protocol::relay_signature::{recover_signer, sign, signed_bytes};
use protocol::vrf::{public_key_of, verify, VrfError, VrfSecretKey};
use serde_json::Value;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/test-vectors")
}

fn load(name: &str) -> Value {
    let path = vectors_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn hex_field(v: &Value, name: &str) -> Vec<u8> {
    let s = v[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {v}"));
    hex::decode(s.trim_start_matches("0x")).unwrap()
}

fn vrf_public_key(v: &Value) -> Vec<u8> {
    [hex_field(v, "public_key_x"), hex_field(v, "public_key_y")].concat()
}

#[test]
fn vrf_verifies_every_independent_proof_and_returns_its_beta() {
    let doc = load("ecvrf-secp256k1-sha256-tai.json");
    let vectors = doc["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 5);
    for v in vectors {
        let beta = verify(
            &vrf_public_key(v),
            &hex_field(v, "alpha"),
            &hex_field(v, "pi"),
        )
        .unwrap_or_else(|e| panic!("{e}: {v}"));
        assert_eq!(beta.to_vec(), hex_field(v, "beta"));
    }
}

#[test]
fn vrf_proves_byte_identical_to_the_independent_implementation() {
    let doc = load("ecvrf-secp256k1-sha256-tai.json");
    for v in doc["vectors"].as_array().unwrap() {
        let key = VrfSecretKey::from_bytes(&hex_field(v, "secret_key")).unwrap();
        assert_eq!(key.public_key().to_vec(), vrf_public_key(v));
        assert_eq!(
            public_key_of(&hex_field(v, "secret_key")).unwrap().to_vec(),
            vrf_public_key(v)
        );
        let (proof, beta) = key.prove(&hex_field(v, "alpha"));
        assert_eq!(
            hex::encode(proof),
            v["pi"].as_str().unwrap().trim_start_matches("0x")
        );
        assert_eq!(beta.to_vec(), hex_field(v, "beta"));
    }
}

#[test]
fn vrf_refuses_every_tampered_proof() {
    let doc = load("ecvrf-secp256k1-sha256-tai.json");
    let v = &doc["vectors"][0];
    let (pk, alpha, proof) = (vrf_public_key(v), hex_field(v, "alpha"), hex_field(v, "pi"));
    for i in 0..proof.len() {
        let mut bad = proof.clone();
        bad[i] ^= 0x01;
        assert!(
            verify(&pk, &alpha, &bad).is_err(),
            "tampered byte {i} accepted"
        );
    }
    let mut bad_alpha = alpha.clone();
    bad_alpha[31] ^= 1;
    assert_eq!(verify(&pk, &bad_alpha, &proof), Err(VrfError::InvalidProof));
    let other = vrf_public_key(&doc["vectors"][1]);
    assert_eq!(verify(&other, &alpha, &proof), Err(VrfError::InvalidProof));
    let mut off_curve = pk.clone();
    off_curve[63] ^= 1;
    assert_eq!(
        verify(&off_curve, &alpha, &proof),
        Err(VrfError::PublicKeyNotOnCurve)
    );
    assert_eq!(
        verify(&pk, &alpha, &proof[..80]),
        Err(VrfError::ProofLength(80))
    );
}

#[test]
fn relay_signatures_reproduce_the_vectors() {
    let doc = load("relay-signature.json");
    let vectors = doc["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 5);
    for v in vectors {
        let fields = v["fields"].as_object().unwrap();
        let timestamp = v["timestamp"].as_u64().unwrap();
        let bytes = signed_bytes(fields, timestamp);
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            v["signed_bytes"].as_str().unwrap()
        );
        assert_eq!(keccak256(&bytes).to_vec(), hex_field(v, "keccak256"));

        let signer = PrivateKeySigner::from_slice(&hex_field(v, "private_key")).unwrap();
        let expected_address: Address = v["address"].as_str().unwrap().parse().unwrap();
        assert_eq!(signer.address(), expected_address);
        let signature = sign(&signer, fields, timestamp).unwrap();
        assert_eq!(signature, v["signature"].as_str().unwrap());
        assert_eq!(
            recover_signer(fields, timestamp, v["signature"].as_str().unwrap()).unwrap(),
            expected_address
        );
    }
}

#[test]
fn phash_matches_python_imagehash_on_every_image() {
    let doc = load("phash/phash.json");
    let images = doc["images"].as_array().unwrap();
    assert!(images.len() >= 8);
    let mut mismatches = Vec::new();
    for image in images {
        let file = image["file"].as_str().unwrap();
        let bytes = std::fs::read(vectors_dir().join("phash").join(file)).unwrap();
        let ours = phash_png(&bytes).unwrap();
        let theirs = parse_phash(image["phash"].as_str().unwrap()).unwrap();
        if ours != theirs {
            mismatches.push(format!("{file}: ours {ours}, imagehash {theirs}"));
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

/// More images, of every PNG colour type (RGB, RGBA, L, LA, palette), hashed by Python imagehash
/// 4.3.2 on Pillow 13.0 (see `tests/data/phash/phash.json`).
#[test]
fn phash_matches_python_imagehash_on_every_colour_type() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/phash");
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("phash.json")).unwrap()).unwrap();
    let images = doc["images"].as_array().unwrap();
    assert_eq!(images.len(), 24);
    let mut mismatches = Vec::new();
    for image in images {
        let file = image["file"].as_str().unwrap();
        let ours = phash_png(&std::fs::read(dir.join(file)).unwrap()).unwrap();
        let theirs = parse_phash(image["phash"].as_str().unwrap()).unwrap();
        if ours != theirs {
            mismatches.push(format!(
                "{file} ({}): ours {ours}, imagehash {theirs}",
                image["mode"]
            ));
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}
