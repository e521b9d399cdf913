//! Image references: the name, namespace and tag of `ghcr.io/acme/api:1.2`, and what a
//! reference says of who fills it in or whose image it is.

use super::helm;

/// An image reference without its tag or digest (`ghcr.io/acme/op:v1` → `ghcr.io/acme/op`; a
/// registry's port stays: `localhost:5000/op`).
pub fn without_tag(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    match image.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => name,
        _ => image,
    }
}

/// True for a reference no registry could hold, which a program or script fills in: words
/// (`FILLED BY THE OPERATOR`), braces (`{ARG_FROM}`), or capitals in its repository's path
/// (`BASEIMAGE`, `FILLED_BY_THE_VALIDATOR`: a repository's name is lowercase, its registry's host
/// aside).
pub fn holds_no_repository(reference: &str) -> bool {
    let host = |i: usize, part: &str| i == 0 && part.contains(['.', ':']);
    let path = without_tag(reference).split('/').enumerate();
    let capitals =
        path.filter(|(i, part)| !host(*i, part)).any(|(_, part)| part.contains(|c: char| c.is_ascii_uppercase()));
    capitals || reference.contains(char::is_whitespace) || reference.contains('{')
}

/// The name of an image without registry, tag or digest: `ghcr.io/acme/api:1.2` → `api`.
pub fn image_name(reference: &str) -> String {
    let path = reference.split('@').next().unwrap_or(reference);
    let last = path.rsplit('/').next().unwrap_or(path);
    // A chart's name completed by a value harden cannot render (`repo{{ $tag }}`, the tag with
    // its `:`) ends where that value begins.
    let last = last.split(helm::UNKNOWN).next().unwrap_or(last);
    last.split(':').next().unwrap_or(last).to_string()
}

/// The registry and organisation an image reference names, before its name:
/// `ghcr.io/acme/api:1.2` → `ghcr.io/acme`. `None` for Docker Hub's official images (`kong:3.9`,
/// `library/nginx`), which belong to no project that builds here.
pub fn image_namespace(reference: &str) -> Option<String> {
    let path = reference.split('@').next().unwrap_or(reference);
    let (namespace, _) = path.rsplit_once('/')?;
    let official = matches!(namespace, "library" | "docker.io" | "index.docker.io") || namespace.ends_with("/library");
    (!official).then(|| namespace.to_string())
}

/// True when a reference names an image of LinuxServer.io's namespace, on any registry
/// (`lscr.io/linuxserver/syncthing`, `linuxserver/sonarr`, `ghcr.io/linuxserver/baseimage-alpine`):
/// s6-overlay's init starts it as root and runs its services as the user `PUID` and `PGID` name.
pub fn linuxserver_image(reference: &str) -> bool {
    image_namespace(reference).is_some_and(|n| n == "linuxserver" || n.ends_with("/linuxserver"))
}

/// The release a reference's tag names, as numbers to compare (`…:v0.1.33` → `[0, 1, 33]`);
/// `None` for a tag that is no plain version (`latest`, `dev`, `v1.2.0-rc.1`) or no tag.
pub fn release_version(reference: &str) -> Option<Vec<u64>> {
    let path = reference.split('@').next().unwrap_or(reference);
    let tag = path.get(without_tag(path).len() + 1..)?;
    tag.strip_prefix('v').unwrap_or(tag).split('.').map(|n| n.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_that_is_a_plain_version_is_a_release() {
        assert_eq!(release_version("digitalocean/ccm:v0.1.33"), Some(vec![0, 1, 33]));
        assert_eq!(release_version("localhost:5000/op:1.2@sha256:abc"), Some(vec![1, 2]));
        assert!(release_version("ghcr.io/acme/op:v0.1.68") > release_version("ghcr.io/acme/op:v0.1.7"));
        for reference in ["acme/op", "acme/op:latest", "acme/op:v1.2.0-rc.1", "localhost:5000/op"] {
            assert_eq!(release_version(reference), None, "{reference}");
        }
    }
}
