//! Ethereum's precompiles as ArbOS 50 runs them (go-ethereum's Osaka set): results and prices,
//! each sent as a transaction so that the receipt shows the price (the L1 price is 0 here).

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{hex, Address, Bytes, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use devnet::precompiles::{
    BLAKE2F, BN254_ADD, BN254_MUL, BN254_PAIRING, MODEXP, P256_VERIFY, RIPEMD160,
};
use devnet::testnet::Testnet;

fn word(v: U256) -> Vec<u8> {
    v.to_be_bytes::<32>().to_vec()
}

fn concat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// The bn254 base field's modulus, the G1 generator (1, 2) and its negation, and the G2
/// generator (EIP-197's encoding: imaginary part first).
const P: U256 = U256::from_be_slice(&hex!(
    "30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47"
));
const ORDER: U256 = U256::from_be_slice(&hex!(
    "30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001"
));
const G2: [u8; 128] = hex!(
    "198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2"
    "1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed"
    "090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b"
    "12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa"
);

fn g1() -> Vec<u8> {
    concat(&[&word(U256::from(1)), &word(U256::from(2))])
}

fn minus_g1() -> Vec<u8> {
    concat(&[&word(U256::from(1)), &word(P - U256::from(2))])
}

#[tokio::test(flavor = "multi_thread")]
async fn ethereum_precompiles_answer_and_cost_as_on_arbos_60() {
    let net = Testnet::spawn_configured(&[], None, 0).await.unwrap();
    let me = net.signers[0].clone();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(me.clone()))
        .connect(&net.url)
        .await
        .unwrap();
    let call = async |to: Address, input: Vec<u8>| -> Result<Vec<u8>, String> {
        provider
            .call(TransactionRequest::default().with_to(to).with_input(input))
            .await
            .map(|b| b.to_vec())
            .map_err(|e| e.to_string())
    };
    // A transaction's gas less its intrinsic gas: what the precompile charged.
    let price = async |to: Address, input: Vec<u8>| -> (bool, u64) {
        let intrinsic = devnet::gas::intrinsic_gas(&input, false);
        let r = provider
            .send_transaction(
                TransactionRequest::default()
                    .with_to(to)
                    .with_input(Bytes::from(input))
                    .with_gas_limit(300_000),
            )
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        (r.status(), r.gas_used - intrinsic)
    };

    // modexp, EIP-198's example: 3^(p-1) mod p = 1 for secp256k1's prime p. EIP-7883: a
    // complexity of 16 (32-byte operands) times 255 iterations (the exponent's bit length - 1).
    let p = hex!("fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f");
    let p_minus_1 = hex!("fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2e");
    let input = concat(&[
        &word(U256::from(1)),
        &word(U256::from(32)),
        &word(U256::from(32)),
        &[3],
        &p_minus_1,
        &p,
    ]);
    assert_eq!(
        call(MODEXP, input.clone()).await.unwrap(),
        word(U256::from(1))
    );
    assert_eq!(devnet::precompiles::modexp_gas(&input), 16 * 255);
    assert_eq!(price(MODEXP, input).await, (true, 4_080));
    // 2^5 mod 10 over one-byte operands: 500, the floor.
    let small = concat(&[
        &word(U256::from(1)),
        &word(U256::from(1)),
        &word(U256::from(1)),
        &[2, 5, 10],
    ]);
    assert_eq!(call(MODEXP, small.clone()).await.unwrap(), vec![2]);
    assert_eq!(price(MODEXP, small).await, (true, 500));
    // A zero modulus answers zeros of its length.
    let zero_mod = concat(&[
        &word(U256::from(64)),
        &word(U256::from(1)),
        &word(U256::from(64)),
        &[7; 64],
        &[3],
        &[0; 64],
    ]);
    assert_eq!(call(MODEXP, zero_mod.clone()).await.unwrap(), vec![0; 64]);
    // 2 x 8^2 = 128 for one iteration, raised to the floor of 500.
    assert_eq!(devnet::precompiles::modexp_gas(&zero_mod), 500);
    // EIP-7823: an operand over 1,024 bytes fails and takes all the gas.
    let huge = concat(&[
        &word(U256::from(1_025)),
        &word(U256::from(1)),
        &word(U256::from(1)),
    ]);
    assert!(call(MODEXP, huge.clone()).await.is_err());
    let intrinsic = devnet::gas::intrinsic_gas(&huge, false);
    assert_eq!(price(MODEXP, huge).await, (false, 300_000 - intrinsic));

    // bn254: G + G = 2G; r x G is the point at infinity; a point off the curve fails.
    let doubled = call(BN254_ADD, concat(&[&g1(), &g1()])).await.unwrap();
    let times_two = call(BN254_MUL, concat(&[&g1(), &word(U256::from(2))]))
        .await
        .unwrap();
    assert_eq!(doubled, times_two);
    assert_ne!(doubled, g1());
    assert_eq!(
        call(BN254_MUL, concat(&[&g1(), &word(ORDER)]))
            .await
            .unwrap(),
        vec![0; 64]
    );
    let off_curve = concat(&[&word(U256::from(1)), &word(U256::from(3))]);
    assert!(call(BN254_ADD, concat(&[&off_curve, &g1()])).await.is_err());
    assert_eq!(price(BN254_ADD, concat(&[&g1(), &g1()])).await, (true, 150));
    assert_eq!(
        price(BN254_MUL, concat(&[&g1(), &word(U256::from(2))])).await,
        (true, 6_000)
    );
    // e(G1, G2) x e(-G1, G2) = 1; e(G1, G2) alone is not; nothing at all pairs to 1.
    let balanced = concat(&[&g1(), &G2, &minus_g1(), &G2]);
    assert_eq!(
        call(BN254_PAIRING, balanced.clone()).await.unwrap(),
        word(U256::from(1))
    );
    assert_eq!(
        call(BN254_PAIRING, concat(&[&g1(), &G2])).await.unwrap(),
        word(U256::ZERO)
    );
    assert_eq!(
        call(BN254_PAIRING, vec![]).await.unwrap(),
        word(U256::from(1))
    );
    assert!(call(BN254_PAIRING, vec![0; 100]).await.is_err());
    assert_eq!(
        price(BN254_PAIRING, balanced).await,
        (true, 45_000 + 2 * 34_000)
    );

    // ripemd160 and blake2f against Python's hashlib: RIPEMD-160("abc") left-padded to a word;
    // BLAKE2b-512("abc") as one final block of 12 rounds of F (EIP-152), from BLAKE2b's
    // parameter-mixed IV (digest length 64, no key).
    let ripemd = call(RIPEMD160, b"abc".to_vec()).await.unwrap();
    assert_eq!(
        ripemd,
        concat(&[&[0; 12], &hex!("8eb208f7e05d987a9b044a8e98c6b087f15a0bfc")])
    );
    assert_eq!(price(RIPEMD160, b"abc".to_vec()).await, (true, 600 + 120));
    let iv: [u64; 8] = [
        0x6a09_e667_f3bc_c908 ^ 0x0101_0040,
        0xbb67_ae85_84ca_a73b,
        0x3c6e_f372_fe94_f82b,
        0xa54f_f53a_5f1d_36f1,
        0x510e_527f_ade6_82d1,
        0x9b05_688c_2b3e_6c1f,
        0x1f83_d9ab_fb41_bd6b,
        0x5be0_cd19_137e_2179,
    ];
    let mut f_input = 12u32.to_be_bytes().to_vec();
    f_input.extend(iv.iter().flat_map(|w| w.to_le_bytes()));
    let mut block = [0u8; 128];
    block[..3].copy_from_slice(b"abc");
    f_input.extend(block);
    f_input.extend(3u64.to_le_bytes());
    f_input.extend(0u64.to_le_bytes());
    f_input.push(1);
    assert_eq!(
        call(BLAKE2F, f_input.clone()).await.unwrap(),
        hex!(
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
            "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"
        )
        .to_vec()
    );
    assert_eq!(price(BLAKE2F, f_input.clone()).await, (true, 12));
    let mut bad_flag = f_input.clone();
    bad_flag[212] = 2;
    assert!(call(BLAKE2F, bad_flag).await.is_err());
    assert!(call(BLAKE2F, f_input[..212].to_vec()).await.is_err());

    // P256VERIFY (EIP-7951): a signature made with the p256 crate verifies, so does its high-s
    // twin; a changed hash, a zero r, a key off the curve or a wrong length answer nothing.
    use p256::ecdsa::signature::hazmat::PrehashSigner;
    use p256::ecdsa::{Signature, SigningKey};
    let key = SigningKey::from_slice(&[0x42; 32]).unwrap();
    let hash = [0x17u8; 32];
    let signature: Signature = key.sign_prehash(&hash).unwrap();
    let point = key.verifying_key().to_encoded_point(false);
    let (r, s) = (signature.r().to_bytes(), signature.s().to_bytes());
    let input = |hash: &[u8], r: &[u8], s: &[u8], xy: &[u8]| concat(&[hash, r, s, xy]);
    let xy = &point.as_bytes()[1..];
    let good = input(&hash, &r, &s, xy);
    assert_eq!(
        call(P256_VERIFY, good.clone()).await.unwrap(),
        word(U256::from(1))
    );
    let n = U256::from_be_slice(&hex!(
        "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"
    ));
    let high_s = word(n - U256::from_be_slice(&s));
    assert_eq!(
        call(P256_VERIFY, input(&hash, &r, &high_s, xy))
            .await
            .unwrap(),
        word(U256::from(1))
    );
    let other_hash = [0x18u8; 32];
    assert!(call(P256_VERIFY, input(&other_hash, &r, &s, xy))
        .await
        .unwrap()
        .is_empty());
    assert!(call(P256_VERIFY, input(&hash, &[0; 32], &s, xy))
        .await
        .unwrap()
        .is_empty());
    let mut off = xy.to_vec();
    off[63] ^= 1;
    assert!(call(P256_VERIFY, input(&hash, &r, &s, &off))
        .await
        .unwrap()
        .is_empty());
    assert!(call(P256_VERIFY, good[..159].to_vec())
        .await
        .unwrap()
        .is_empty());
    assert_eq!(price(P256_VERIFY, good).await, (true, 6_900));
}
