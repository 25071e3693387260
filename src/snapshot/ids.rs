//! Record ids in constant memory: a 128-bit key per id, and an order-independent digest of a
//! set of ids, so a restore can prove "exactly these ids" without holding them all.

use sha2::{Digest, Sha256};

/// The first 128 bits of the id's SHA-256: distinct ids collide with probability ~n²/2¹²⁹.
pub fn id_key(id: &str) -> u128 {
    let hash = Sha256::digest(id.as_bytes());
    u128::from_le_bytes(hash[..16].try_into().expect("SHA-256 has 32 bytes"))
}

/// How many ids and the wrapping sum of their keys: equal digests mean equal sets of distinct
/// ids (up to a 2⁻¹²⁸ chance), in any order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IdDigest {
    pub count: u64,
    sum: u128,
}

impl IdDigest {
    pub fn add(&mut self, id: &str) {
        self.count += 1;
        self.sum = self.sum.wrapping_add(id_key(id));
    }
}

impl<'a> FromIterator<&'a str> for IdDigest {
    fn from_iter<I: IntoIterator<Item = &'a str>>(ids: I) -> IdDigest {
        let mut digest = IdDigest::default();
        for id in ids {
            digest.add(id);
        }
        digest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_ignores_order_and_sees_any_difference() {
        let a: IdDigest = ["x", "y", "z"].into_iter().collect();
        let b: IdDigest = ["z", "x", "y"].into_iter().collect();
        assert_eq!(a, b);
        let swapped: IdDigest = ["x", "y", "w"].into_iter().collect();
        assert_ne!(a, swapped, "same count, one id different");
        let fewer: IdDigest = ["x", "y"].into_iter().collect();
        assert_ne!(a, fewer);
        assert_ne!(id_key("é"), id_key("e\u{301}"), "ids are compared as bytes, not normalized");
    }
}
