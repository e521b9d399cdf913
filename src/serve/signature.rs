//! GitHub's webhook signature: `X-Hub-Signature-256: sha256=HEX`, the HMAC-SHA256 of the raw
//! body under the webhook secret. Pure; the comparison takes the same time whatever the bytes.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Whether `header` is the signature of `body` under one of `secrets` (several during a
/// rotation). A missing, malformed or wrong header is `false`.
pub fn verify(secrets: &[String], body: &[u8], header: Option<&str>) -> bool {
    let Some(signature) = header.and_then(|h| h.strip_prefix("sha256=")).and_then(|h| hex::decode(h).ok()) else {
        return false;
    };
    secrets.iter().filter(|s| !s.is_empty()).any(|secret| {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
        mac.update(body);
        mac.verify_slice(&signature).is_ok()
    })
}

/// The header GitHub sends for `body` under `secret` (what the tests sign their deliveries with).
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GitHub's published test vector ("Validating webhook deliveries").
    const SECRET: &str = "It's a Secret to Everybody";
    const PAYLOAD: &[u8] = b"Hello, World!";
    const SIGNATURE: &str = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    #[test]
    fn githubs_test_vector() {
        assert_eq!(sign(SECRET, PAYLOAD), SIGNATURE);
        assert!(verify(&[SECRET.into()], PAYLOAD, Some(SIGNATURE)));
    }

    #[test]
    fn anything_else_is_refused() {
        let secrets = [SECRET.to_string()];
        assert!(!verify(&secrets, b"Hello, World?", Some(SIGNATURE)), "another body");
        assert!(!verify(&["another secret".into()], PAYLOAD, Some(SIGNATURE)), "another secret");
        assert!(!verify(&secrets, PAYLOAD, None), "no header");
        assert!(!verify(&secrets, PAYLOAD, Some(&SIGNATURE.replace("sha256=", "sha1="))), "another scheme");
        assert!(!verify(&secrets, PAYLOAD, Some("sha256=zz")), "not hex");
        assert!(!verify(&secrets, PAYLOAD, Some(&SIGNATURE[..SIGNATURE.len() - 2])), "cut short");
        assert!(!verify(&[String::new()], PAYLOAD, Some(&sign("", PAYLOAD))), "an empty secret never counts");
    }

    #[test]
    fn any_of_the_secrets_during_a_rotation() {
        let secrets = ["new secret".to_string(), SECRET.to_string()];
        assert!(verify(&secrets, PAYLOAD, Some(SIGNATURE)));
        assert!(verify(&secrets, PAYLOAD, Some(&sign("new secret", PAYLOAD))));
    }
}
