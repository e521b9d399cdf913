//! Image references: parsing `registry/name:tag@digest` and knowing what family an image is.

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Everything before the tag and digest (`gcr.io/distroless/static-debian13`).
    pub name: String,
    /// The tag, if any.
    pub tag: Option<String>,
    /// The digest (`sha256:…`), if any.
    pub digest: Option<String>,
}

/// What kind of image a reference names, judged by its last path component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// The Go toolchain image.
    Golang,
    /// Alpine Linux.
    Alpine,
    /// Debian.
    Debian,
    /// Ubuntu.
    Ubuntu,
    /// BusyBox.
    Busybox,
    /// Google distroless.
    Distroless,
    /// Chainguard's static image.
    ChainguardStatic,
    /// The empty image.
    Scratch,
    /// Anything else.
    Other,
}

impl ImageRef {
    /// Parses a reference as written in `FROM`.
    pub fn parse(reference: &str) -> Self {
        let (rest, digest) = match reference.split_once('@') {
            Some((r, d)) => (r, Some(d.to_string())),
            None => (reference, None),
        };
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (rest[..last_slash + i].to_string(), Some(rest[last_slash + i + 1..].to_string())),
            None => (rest.to_string(), None),
        };
        ImageRef { name, tag, digest }
    }

    /// The last path component of the name (`golang`, `static-debian13`). Repository names
    /// are lowercase by the distribution spec, so no case folding is needed.
    pub fn short_name(&self) -> &str {
        self.name.rsplit('/').next().unwrap_or_default()
    }

    /// The family of the image.
    pub fn family(&self) -> Family {
        let short = self.short_name();
        if self.name.contains("distroless") {
            Family::Distroless
        } else if self.name.contains("chainguard") && short == "static" {
            Family::ChainguardStatic
        } else {
            match short {
                "golang" => Family::Golang,
                "alpine" => Family::Alpine,
                "debian" => Family::Debian,
                "ubuntu" => Family::Ubuntu,
                "busybox" => Family::Busybox,
                "scratch" => Family::Scratch,
                _ => Family::Other,
            }
        }
    }

    /// True when the image uses musl libc (Alpine, or a golang `-alpine` tag).
    pub fn is_musl(&self) -> bool {
        self.family() == Family::Alpine || self.tag.as_deref().is_some_and(|t| t.contains("alpine"))
    }

    /// True for a distroless image whose variant has libc (`base`, `cc`), false for `static`.
    pub fn has_libc(&self) -> bool {
        match self.family() {
            Family::Distroless => !self.short_name().starts_with("static"),
            Family::Scratch | Family::ChainguardStatic => false,
            _ => true,
        }
    }

    /// True when the image's default user is non-root by its tag (`:nonroot`, Chainguard static).
    pub fn default_user_is_nonroot(&self) -> bool {
        self.tag.as_deref().is_some_and(|t| t.contains("nonroot")) || self.family() == Family::ChainguardStatic
    }

    /// Formats the reference back.
    pub fn to_reference(&self) -> String {
        let mut out = self.name.clone();
        if let Some(tag) = &self.tag {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(digest);
        }
        out
    }
}

impl Family {
    /// True for images that carry a package manager or toolchain the program does not need at run time.
    pub fn is_fat(self) -> bool {
        matches!(self, Family::Golang | Family::Alpine | Family::Debian | Family::Ubuntu | Family::Busybox)
    }

    /// True for runtimes without a shell.
    pub fn is_shell_less(self) -> bool {
        matches!(self, Family::Distroless | Family::ChainguardStatic | Family::Scratch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_registries_with_ports_tags_and_digests() {
        let r = ImageRef::parse("registry:5000/team/golang:1.22-alpine@sha256:abc");
        assert_eq!(r.name, "registry:5000/team/golang");
        assert_eq!(r.tag.as_deref(), Some("1.22-alpine"));
        assert_eq!(r.digest.as_deref(), Some("sha256:abc"));
        assert_eq!(r.family(), Family::Golang);
        assert!(r.is_musl());
        assert_eq!(ImageRef::parse("registry:5000/alpine").tag, None);
    }

    #[test]
    fn knows_distroless_variants() {
        let s = ImageRef::parse("gcr.io/distroless/static-debian12:nonroot");
        assert_eq!(s.family(), Family::Distroless);
        assert!(!s.has_libc());
        assert!(s.default_user_is_nonroot());
        assert!(ImageRef::parse("gcr.io/distroless/base-debian13").has_libc());
    }
}
