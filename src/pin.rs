//! Digest pinning, the registry side: which digest a registry serves for an image tag now.
//! The Dockerfile side (rewriting `FROM image:tag` to `image:tag@sha256:…`) is pure and lives
//! in `dockerfile::pin`.

use std::time::Duration;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

/// Resolves image references to manifest digests.
pub trait DigestResolver {
    /// The digest (`sha256:…`) the registry serves for `reference` (`registry/name:tag`).
    fn digest(&self, reference: &str) -> Result<String, String>;
}

/// A registry reached with `oci-client` (anonymous pulls; plain HTTP for loopback registries).
pub struct Registry {
    client: Client,
    runtime: tokio::runtime::Runtime,
}

impl Registry {
    /// A client for `references`: those on a loopback registry (a local mirror or test
    /// registry) are reached over plain HTTP, everything else over HTTPS.
    pub fn for_references(references: &[String]) -> Result<Self, String> {
        let loopback: Vec<String> = references
            .iter()
            .filter_map(|r| r.parse::<Reference>().ok())
            .map(|r| r.resolve_registry().to_string())
            .filter(|host| is_loopback(host))
            .collect();
        let config = ClientConfig {
            protocol: ClientProtocol::HttpsExcept(loopback),
            connect_timeout: Some(Duration::from_secs(5)),
            read_timeout: Some(Duration::from_secs(20)),
            ..ClientConfig::default()
        };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
        Ok(Registry { client: Client::new(config), runtime })
    }
}

impl DigestResolver for Registry {
    fn digest(&self, reference: &str) -> Result<String, String> {
        let parsed: Reference = reference.parse().map_err(|e| format!("not an image reference: {e}"))?;
        let lookup = self.client.fetch_manifest_digest(&parsed, &RegistryAuth::Anonymous);
        self.runtime
            .block_on(async { tokio::time::timeout(Duration::from_secs(30), lookup).await })
            .map_err(|_| "the registry did not answer within 30 s".to_string())?
            .map_err(|e| e.to_string())
    }
}

impl Registry {
    /// The compressed size of an image in its registry: the sum of its manifest's layer sizes.
    pub fn compressed_size(&self, reference: &str) -> Result<u64, String> {
        let parsed: Reference = reference.parse().map_err(|e| format!("not an image reference: {e}"))?;
        let pull = self.client.pull_manifest(&parsed, &RegistryAuth::Anonymous);
        let (manifest, _) = self
            .runtime
            .block_on(async { tokio::time::timeout(Duration::from_secs(30), pull).await })
            .map_err(|_| "the registry did not answer within 30 s".to_string())?
            .map_err(|e| e.to_string())?;
        match manifest {
            oci_client::manifest::OciManifest::Image(image) => {
                Ok(image.layers.iter().map(|l| u64::try_from(l.size).unwrap_or(0)).sum())
            }
            oci_client::manifest::OciManifest::ImageIndex(_) => Err("a multi-platform index, not one image".into()),
        }
    }
}

/// True for `localhost`, `127.x.x.x` and `[::1]` hosts, with or without a port.
pub fn is_loopback(host: &str) -> bool {
    let name = host.rsplit_once(':').filter(|(h, _)| !h.ends_with(']') || h.starts_with('[')).map_or(host, |(h, _)| h);
    name == "localhost" || name.starts_with("127.") || name == "[::1]"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_loopback_registries() {
        assert!(is_loopback("127.0.0.1:5077") && is_loopback("localhost:5000") && is_loopback("[::1]:5000"));
        assert!(!is_loopback("registry.example.com") && !is_loopback("10.0.0.1:5000"));
    }
}
