//! Verifiable secret sampling on the application's side: the secret task GUID, per-task nonces,
//! the commitments the contract sees (of the task and of its parameters), and the sampling rule on
//! the VRF output.

use alloy::primitives::{keccak256, B256, U256};
use sha2::Digest;

use crate::vrf::{VrfError, VrfSecretKey, PROOF_LEN};

/// `keccak256(taskGUID || nonce)`: the task's identity on chain. Nodes cannot tell which tasks share
/// a GUID, so they cannot tell a validation group from unrelated tasks.
pub fn task_id_commitment(task_guid: &B256, nonce: &B256) -> B256 {
    let mut preimage = [0u8; 64];
    preimage[..32].copy_from_slice(task_guid.as_slice());
    preimage[32..].copy_from_slice(nonce.as_slice());
    keccak256(preimage)
}

/// Whether a VRF output selects the task for group validation: `uint256(beta) % rate == 0`
/// (`rate` is the task's `samplingRate`, 10 by default).
pub fn is_sampled(beta: &[u8; 32], rate: u32) -> bool {
    U256::from_be_bytes(*beta) % U256::from(rate.max(1)) == U256::ZERO
}

/// `paramsHash`: sha256 of the exact parameter bytes the relay stores and serves.
pub fn params_hash(params: &[u8]) -> B256 {
    B256::new(sha2::Sha256::digest(params).into())
}

/// `paramsSalt = keccak256("params" || taskGUID || nonce)`: a task's own salt, so that the same
/// parameters commit differently in every task of a group.
pub fn params_salt(task_guid: &B256, nonce: &B256) -> B256 {
    keccak256([b"params".as_slice(), task_guid.as_slice(), nonce.as_slice()].concat())
}

/// `paramsCommitment = keccak256(paramsHash || paramsSalt)`, what `createTask` records and the
/// relay and the node check the parameters against.
pub fn params_commitment(params_hash: &B256, params_salt: &B256) -> B256 {
    keccak256([params_hash.as_slice(), params_salt.as_slice()].concat())
}

/// One task of an application's job: the GUID it shares with its group and its own nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskSecret {
    pub task_guid: B256,
    pub nonce: B256,
}

impl TaskSecret {
    /// A fresh GUID and nonce from the operating system's random source.
    pub fn random() -> Self {
        Self {
            task_guid: B256::random(),
            nonce: B256::random(),
        }
    }

    /// Another task of the same group: same GUID, fresh nonce.
    pub fn sibling(&self) -> Self {
        Self {
            task_guid: self.task_guid,
            nonce: B256::random(),
        }
    }

    pub fn commitment(&self) -> B256 {
        task_id_commitment(&self.task_guid, &self.nonce)
    }

    pub fn params_salt(&self) -> B256 {
        params_salt(&self.task_guid, &self.nonce)
    }

    /// The commitment of this task to `params` (the exact bytes given to the relay).
    pub fn params_commitment(&self, params: &[u8]) -> B256 {
        params_commitment(&params_hash(params), &self.params_salt())
    }
}

/// The creator's sampling decision for one task: the proof the contract checks and the outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamplingProof {
    pub proof: [u8; PROOF_LEN],
    pub beta: [u8; 32],
    pub sampled: bool,
}

/// Runs the VRF on a task's sampling seed (alpha = the seed's 32 bytes) and applies the task's
/// sampling rate.
pub fn sample(key: &VrfSecretKey, sampling_seed: &B256, rate: u32) -> SamplingProof {
    let (proof, beta) = key.prove(sampling_seed.as_slice());
    SamplingProof {
        proof,
        beta,
        sampled: is_sampled(&beta, rate),
    }
}

/// Checks another creator's sampling decision, as the contract does.
pub fn check_sample(
    public_key: &[u8],
    sampling_seed: &B256,
    proof: &[u8],
    rate: u32,
) -> Result<bool, VrfError> {
    crate::vrf::verify(public_key, sampling_seed.as_slice(), proof)
        .map(|beta| is_sampled(&beta, rate))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::b256;

    #[test]
    fn commitment_is_keccak_of_guid_then_nonce() {
        let guid = b256!("0x1111111111111111111111111111111111111111111111111111111111111111");
        let nonce = b256!("0x2222222222222222222222222222222222222222222222222222222222222222");
        let expected = keccak256([guid.as_slice(), nonce.as_slice()].concat());
        assert_eq!(task_id_commitment(&guid, &nonce), expected);
        assert_ne!(task_id_commitment(&nonce, &guid), expected);
    }

    #[test]
    fn sampling_rule_is_the_rate_modulo_of_the_big_endian_integer() {
        let mut beta = [0u8; 32];
        assert!(is_sampled(&beta, 10));
        beta[31] = 10;
        assert!(is_sampled(&beta, 10));
        beta[31] = 11;
        assert!(!is_sampled(&beta, 10));
        assert!(is_sampled(&beta, 11));
        // 256 % 10 = 6: a high byte matters.
        let mut high = [0u8; 32];
        high[30] = 1;
        high[31] = 4;
        assert!(is_sampled(&high, 10));
        assert!(!is_sampled(&high, 100));
    }

    #[test]
    fn about_one_task_in_ten_is_sampled() {
        let key = VrfSecretKey::from_bytes(&[3u8; 32]).unwrap();
        let sampled = (0u64..400)
            .filter(|i| sample(&key, &keccak256(i.to_be_bytes()), 10).sampled)
            .count();
        assert!((20..=60).contains(&sampled), "{sampled} of 400 sampled");
    }

    #[test]
    fn params_commitment_follows_the_protocol() {
        let secret = TaskSecret::random();
        let params = br#"{"version":"1.0"}"#;
        let hash = B256::new(sha2::Sha256::digest(params).into());
        let salt = keccak256(
            [
                b"params".as_slice(),
                secret.task_guid.as_slice(),
                secret.nonce.as_slice(),
            ]
            .concat(),
        );
        assert_eq!(
            secret.params_commitment(params),
            keccak256([hash.as_slice(), salt.as_slice()].concat())
        );
        // Siblings commit to the same parameters differently.
        assert_ne!(
            secret.params_commitment(params),
            secret.sibling().params_commitment(params)
        );
    }

    #[test]
    fn siblings_share_the_guid_only() {
        let a = TaskSecret::random();
        let b = a.sibling();
        assert_eq!(a.task_guid, b.task_guid);
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.commitment(), b.commitment());
    }
}
