//! The L1 poster gas Arbitrum adds to every transaction, as Nitro computes it: brotli level 1
//! (window 22) of the signed transaction, 16 units a byte, the L1 price per unit, charged as gas
//! at the base fee and reported as `gasUsedForL1`; the compressed size agrees with the reference
//! brotli encoder (Debian's `brotli`, the C library Nitro links), and eth_estimateGas covers it.

use std::io::Write;
use std::process::{Command, Stdio};

use alloy::consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy::eips::eip2718::Encodable2718;
use alloy::network::TxSignerSync;
use alloy::primitives::{Address, Bytes, TxKind, U256};
use devnet::chain::{Chain, BASE_FEE};
use devnet::l1_pricing::{compressed_len, poster_gas, poster_units};

/// The size of `data` compressed by the reference encoder at Nitro's level and window.
fn reference_len(data: &[u8]) -> u64 {
    let mut child = Command::new("brotli")
        .args(["-q", "1", "-w", "22", "-c"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the brotli command is missing: apt-get install brotli (scripts/test.sh does)");
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    out.stdout.len() as u64
}

fn signed_transfer(
    chain: &Chain,
    key: &alloy::signers::local::PrivateKeySigner,
    data: Vec<u8>,
) -> Vec<u8> {
    let mut tx = TxEip1559 {
        chain_id: devnet::testnet::CHAIN_ID,
        nonce: chain.nonce(&key.address()),
        gas_limit: 100_000,
        max_fee_per_gas: BASE_FEE as u128,
        max_priority_fee_per_gas: 0,
        to: TxKind::Call(Address::repeat_byte(0x42)),
        value: U256::from(7),
        access_list: Default::default(),
        input: data.into(),
    };
    let signature = key.sign_transaction_sync(&mut tx).unwrap();
    TxEnvelope::from(tx.into_signed(signature)).encoded_2718()
}

#[test]
fn compressed_sizes_agree_with_the_reference_encoder() {
    let key = devnet::accounts::dev_signers().unwrap().remove(0);
    let chain = Chain::new(devnet::testnet::CHAIN_ID, &[]).unwrap();
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let noise: Vec<u8> = (0..2_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    for data in [
        Vec::new(),
        vec![0u8; 4_000],
        noise.clone(),
        b"createTask(uint8,bytes32,bytes32,string[])".repeat(20),
    ] {
        let tx = signed_transfer(&chain, &key, data.clone());
        assert_eq!(
            compressed_len(&tx),
            reference_len(&tx),
            "{} bytes",
            tx.len()
        );
        assert_eq!(
            compressed_len(&data),
            reference_len(&data),
            "{} bytes",
            data.len()
        );
    }
}

#[test]
fn every_transaction_pays_its_poster_gas_at_the_configured_price() {
    let key = devnet::accounts::dev_signers().unwrap().remove(0);
    let funds = U256::from(10u64).pow(U256::from(21));
    let mut chain = Chain::new(devnet::testnet::CHAIN_ID, &[(key.address(), funds)]).unwrap();
    for price in [devnet::l1_pricing::DEFAULT_PRICE_PER_UNIT, 0, 3_000_000_000] {
        chain.set_l1_price_per_unit(price);
        let raw = signed_transfer(&chain, &key, vec![1, 2, 3]);
        let l1 = poster_gas(poster_units(&raw), price, BASE_FEE);
        let before = chain.balance(&key.address());
        let hash = chain.send_raw_transaction(&raw).unwrap();
        let tx = chain.transaction(&hash).unwrap();
        assert!(tx.success);
        assert_eq!(tx.gas_used_for_l1, l1);
        // 21000 + 3 non-zero calldata bytes + the poster gas, paid at the base fee.
        assert_eq!(tx.gas_used, 21_000 + 3 * 16 + l1);
        assert_eq!(
            chain.balance(&key.address()),
            before - U256::from(7) - U256::from(tx.gas_used) * U256::from(BASE_FEE)
        );
        if price == 0 {
            assert_eq!(l1, 0);
        } else {
            assert!(l1 > 0);
        }
    }

    // A limit that covers the intrinsic gas but not the poster gas is refused.
    chain.set_l1_price_per_unit(devnet::l1_pricing::DEFAULT_PRICE_PER_UNIT);
    let mut tx = TxEip1559 {
        chain_id: devnet::testnet::CHAIN_ID,
        nonce: chain.nonce(&key.address()),
        gas_limit: 21_000,
        max_fee_per_gas: BASE_FEE as u128,
        max_priority_fee_per_gas: 0,
        to: TxKind::Call(Address::repeat_byte(0x42)),
        value: U256::from(1),
        access_list: Default::default(),
        input: Bytes::new(),
    };
    let signature = key.sign_transaction_sync(&mut tx).unwrap();
    let raw = TxEnvelope::from(tx.into_signed(signature)).encoded_2718();
    let want = 21_000
        + poster_gas(
            poster_units(&raw),
            devnet::l1_pricing::DEFAULT_PRICE_PER_UNIT,
            BASE_FEE,
        );
    let e = chain.send_raw_transaction(&raw).unwrap_err().to_string();
    assert_eq!(e, format!("intrinsic gas too low: have 21000, want {want}"));

    // eth_estimateGas covers the poster gas (of Nitro's padded stand-in transaction).
    let estimate = chain
        .estimate_gas(&devnet::CallRequest {
            from: Some(key.address()),
            to: Some(Address::repeat_byte(0x42)),
            data: Bytes::new(),
            value: U256::from(1),
            gas: None,
            overrides: Default::default(),
        })
        .unwrap()
        .gas_used;
    assert!(estimate > want, "{estimate} <= {want}");
    assert!(estimate < want + 2_000, "{estimate}");
}
