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

/// One architecture distroless publishes its images for.
struct DistrolessArch {
    /// The platforms it is built as (`linux/arm64`).
    platforms: &'static [&'static str],
    /// Docker Hub's namespace for the architecture's official images (`arm64v8`).
    namespace: &'static str,
    /// The suffix distroless gives its tags for it (`nonroot-arm64`).
    tag: &'static str,
}

/// The architectures distroless publishes.
const DISTROLESS_ARCHES: &[DistrolessArch] = &[
    DistrolessArch { platforms: &["linux/amd64"], namespace: "amd64", tag: "amd64" },
    DistrolessArch { platforms: &["linux/arm64", "linux/arm64/v8"], namespace: "arm64v8", tag: "arm64" },
    DistrolessArch { platforms: &["linux/arm", "linux/arm/v7"], namespace: "arm32v7", tag: "arm" },
    DistrolessArch { platforms: &["linux/ppc64le"], namespace: "ppc64le", tag: "ppc64le" },
    DistrolessArch { platforms: &["linux/s390x"], namespace: "s390x", tag: "s390x" },
    DistrolessArch { platforms: &["linux/riscv64"], namespace: "riscv64", tag: "riscv64" },
];

/// Docker Hub's architecture namespaces for which distroless publishes no image.
const ARCH_NAMESPACES_WITHOUT_DISTROLESS: &[&str] = &["arm32v5", "arm32v6", "i386", "mips64le", "windows-amd64"];

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

    /// True for a distroless image on a Debian release past end of life (`static-debian12`,
    /// `base-debian11`), which distroless no longer rebuilds with security fixes: one of the
    /// distroless project's (`gcr.io/distroless/…`, or a mirror's `…/distroless/…`), not another
    /// project's build named after it (`kubewharf/distroless-base-debian11`), which may publish
    /// no debian13 image.
    pub fn distroless_past_eol(&self) -> bool {
        self.family() == Family::Distroless
            && self.name.split('/').any(|part| part == "distroless")
            && ["-debian12", "-debian11", "-debian10", "-debian9"].iter().any(|s| self.short_name().ends_with(s))
    }

    /// The same distroless image on debian13 (`static-debian12` → `static-debian13`), unpinned.
    pub fn on_debian13(&self) -> ImageRef {
        let release = self.short_name().rsplit('-').next().unwrap_or_default();
        let name = format!("{}debian13", self.name.strip_suffix(release).unwrap_or(&self.name));
        ImageRef { name, digest: None, ..self.clone() }
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
                // The projects' own builds of it too (`busybox-linux-arm64`).
                s if s == "busybox" || s.starts_with("busybox-") => Family::Busybox,
                "scratch" => Family::Scratch,
                _ => Family::Other,
            }
        }
    }

    /// True for an image published only under moving tags, never a version: distroless
    /// (`nonroot`, `debug`), Chainguard's free images (`latest`, `latest-dev`) and the Prometheus
    /// projects' busybox builds (`quay.io/prometheus/busybox:glibc`, rebuilt every month).
    pub fn publishes_no_versions(&self) -> bool {
        self.family() == Family::Distroless
            || self.name.starts_with("cgr.dev/chainguard/")
            || (self.name.starts_with("quay.io/prometheus/") && self.family() == Family::Busybox)
    }

    /// True for an image that carries the Go toolchain: golang, toolchain images named `go` or
    /// `go-toolset` (Red Hat's), cross-compiling toolchains (`goreleaser-cross`, `xgo`,
    /// `golang-cross`), and golang builds of a project's own (`golang-boring`,
    /// `go-boringcrypto`, `fips-golang`).
    pub fn is_go_toolchain(&self) -> bool {
        let short = self.short_name();
        self.family() == Family::Golang
            || matches!(short, "go" | "go-toolset" | "goreleaser-cross" | "xgo")
            || short.starts_with("golang-")
            || short.starts_with("go-boring")
            || short.ends_with("-golang")
    }

    /// True for an image of another project's program (`curlimages/curl`, `nginx`), which may
    /// set a user of its own: neither a family harden knows nor an operating system's or a
    /// language's base (`centos`, `ubi9-minimal`, `amazonlinux`, `python`), which run as root.
    pub fn is_application_image(&self) -> bool {
        const LANGUAGES: &[&str] = &["python", "node", "ruby", "openjdk", "eclipse-temurin", "php"];
        self.family() == Family::Other && !self.is_system_base() && !LANGUAGES.contains(&self.short_name())
    }

    /// True for an operating system's base that harden does not move to distroless: Red Hat's
    /// Universal Base Images (`ubi9-minimal`), CentOS, Fedora, Amazon Linux and their kin, which
    /// a platform or a certification often asks for.
    pub fn is_system_base(&self) -> bool {
        const SYSTEMS: &[&str] = &[
            "centos",
            "fedora",
            "rockylinux",
            "almalinux",
            "amazonlinux",
            "oraclelinux",
            "opensuse",
            "leap",
            "archlinux",
            "photon",
            "clearlinux",
        ];
        let short = self.short_name();
        self.family() == Family::Other && (short.starts_with("ubi") || SYSTEMS.contains(&short))
    }

    /// True for Docker's official golang image (`golang`, `docker.io/library/golang`, a mirror's
    /// `library/golang`), which sets `GOTOOLCHAIN=local`: its go command never fetches the newer
    /// Go a go.mod asks for. Another project's golang image leaves the go command's default,
    /// which fetches it.
    pub fn is_official_golang(&self) -> bool {
        self.name == "golang" || self.name.ends_with("library/golang")
    }

    /// True when the image uses musl libc (Alpine, or a golang `-alpine` tag).
    pub fn is_musl(&self) -> bool {
        self.family() == Family::Alpine || self.tag.as_deref().is_some_and(|t| t.contains("alpine"))
    }

    /// True when harden knows the image's accounts: distroless (`nonroot` 65532, `nobody`
    /// 65534), Chainguard static, and scratch (none at all).
    pub fn accounts_are_known(&self) -> bool {
        matches!(self.family(), Family::Distroless | Family::Scratch | Family::ChainguardStatic)
    }

    /// The ids an account name means in the image's own account database, for the images whose
    /// accounts harden knows: distroless and Chainguard static have `nonroot` (65532) and
    /// `nobody` (65534), each with a group of the same name and id.
    pub fn own_account_ids(&self, user: &str) -> Option<&'static str> {
        if !matches!(self.family(), Family::Distroless | Family::ChainguardStatic) {
            return None;
        }
        let (name, group) = user.split_once(':').unwrap_or((user, user));
        match (name, group) {
            ("nonroot", "nonroot") => Some("65532:65532"),
            ("nobody", "nobody" | "nogroup") => Some("65534:65534"),
            _ => None,
        }
    }

    /// True for a Windows image (`mcr.microsoft.com/windows/nanoserver`, a name with `windows` in
    /// it such as `eks-distro-windows-base:1809`, a `servercore`, `nanoserver` or `ltsc` tag): its
    /// users are account names, and the Linux hardening does not apply.
    pub fn is_windows(&self) -> bool {
        let windows = |s: &str| ["nanoserver", "servercore", "windows"].iter().any(|w| s.contains(w));
        self.name.starts_with("mcr.microsoft.com/windows")
            || windows(self.short_name())
            || self.tag.as_deref().is_some_and(|t| windows(t) || t.starts_with("ltsc"))
    }

    /// True for a distroless image whose variant has libc (`base`, `cc`), false for `static`.
    pub fn has_libc(&self) -> bool {
        match self.family() {
            Family::Distroless => !self.short_name().starts_with("static"),
            Family::Scratch | Family::ChainguardStatic => false,
            _ => true,
        }
    }

    /// True when the image has no shell: a shell-less family (distroless, scratch) but for
    /// distroless's `:debug` tags, which keep busybox's.
    pub fn has_no_shell(&self) -> bool {
        self.family().is_shell_less() && !self.tag.as_deref().is_some_and(|t| t.contains("debug"))
    }

    /// True when the image's default user is non-root by its tag (`:nonroot`, Chainguard static).
    pub fn default_user_is_nonroot(&self) -> bool {
        self.tag.as_deref().is_some_and(|t| t.contains("nonroot")) || self.family() == Family::ChainguardStatic
    }

    /// The working directory the image starts programs in, when it is known: `/go` for golang,
    /// `/home/nonroot` for distroless `:nonroot` tags, `/` for the OS images, scratch and the
    /// other distroless tags. `None` for other images.
    pub fn default_workdir(&self) -> Option<&'static str> {
        match self.family() {
            Family::Golang => Some("/go"),
            Family::Distroless if self.default_user_is_nonroot() => Some("/home/nonroot"),
            Family::Distroless
            | Family::Alpine
            | Family::Debian
            | Family::Ubuntu
            | Family::Busybox
            | Family::Scratch => Some("/"),
            Family::ChainguardStatic | Family::Other => None,
        }
    }

    /// The architecture an image is pinned to by its Docker Hub namespace (`arm64v8/alpine`), as
    /// distroless names it in its tags (`arm64`), or `Err` with the namespace when distroless
    /// publishes no image for it. `Ok(None)` for an image of no particular architecture.
    pub fn pinned_arch(&self) -> Result<Option<&'static str>, String> {
        let namespace = self.name.rsplit('/').nth(1).unwrap_or_default();
        if let Some(arch) = DISTROLESS_ARCHES.iter().find(|arch| arch.namespace == namespace) {
            return Ok(Some(arch.tag));
        }
        if ARCH_NAMESPACES_WITHOUT_DISTROLESS.contains(&namespace) {
            return Err(namespace.to_string());
        }
        Ok(None)
    }

    /// True when distroless publishes its images for `platform` (`linux/arm64`; not
    /// `linux/386` or `linux/arm/v6`).
    pub fn distroless_publishes(platform: &str) -> bool {
        DISTROLESS_ARCHES.iter().any(|arch| arch.platforms.contains(&platform))
    }

    /// The same image for one architecture, by distroless's tag convention (`nonroot-arm64`).
    pub fn for_arch(&self, arch: &str) -> ImageRef {
        let tag = format!("{}-{arch}", self.tag.as_deref().unwrap_or("latest"));
        ImageRef { tag: Some(tag), digest: None, ..self.clone() }
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

/// True for a uid whose account in most images has a group of its own number, which the runtime
/// takes from the image's passwd: 65534 (nobody, in busybox, alpine and Debian alike) and 65532
/// (distroless's nonroot).
pub fn standard_account(uid: u64) -> bool {
    matches!(uid, 65532 | 65534)
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
    fn distroless_past_end_of_life_moves_to_debian13() {
        let old = ImageRef::parse("gcr.io/distroless/base-debian11:nonroot@sha256:abc");
        assert!(
            old.distroless_past_eol() && ImageRef::parse("gcr.io/distroless/static-debian12").distroless_past_eol()
        );
        assert_eq!(old.on_debian13().to_reference(), "gcr.io/distroless/base-debian13:nonroot");
        assert!(!ImageRef::parse("gcr.io/distroless/static-debian13").distroless_past_eol());
        assert!(!ImageRef::parse("debian:11").distroless_past_eol());
    }

    #[test]
    fn knows_architectures_and_working_directories() {
        assert_eq!(ImageRef::parse("arm64v8/alpine:3.20").pinned_arch(), Ok(Some("arm64")));
        assert_eq!(ImageRef::parse("docker.io/arm32v7/debian").pinned_arch(), Ok(Some("arm")));
        assert_eq!(ImageRef::parse("i386/alpine").pinned_arch(), Err("i386".to_string()));
        assert_eq!(ImageRef::parse("alpine:3.20").pinned_arch(), Ok(None));
        assert_eq!(ImageRef::parse("ghcr.io/acme/alpine").pinned_arch(), Ok(None));
        let nonroot = ImageRef::parse("gcr.io/distroless/static-debian13:nonroot");
        assert_eq!(nonroot.for_arch("arm64").to_reference(), "gcr.io/distroless/static-debian13:nonroot-arm64");
        assert_eq!(nonroot.default_workdir(), Some("/home/nonroot"));
        assert_eq!(ImageRef::parse("gcr.io/distroless/static-debian13").default_workdir(), Some("/"));
        assert_eq!(ImageRef::parse("golang:1.22").default_workdir(), Some("/go"));
        assert_eq!(ImageRef::parse("ghcr.io/acme/base").default_workdir(), None);
    }

    #[test]
    fn knows_distroless_variants() {
        for toolchain in [
            "golang:1.22",
            "registry.example.com/golang-boring:1.22",
            "goboring/go-boringcrypto:1.20",
            "x/fips-golang:1",
        ] {
            assert!(ImageRef::parse(toolchain).is_go_toolchain(), "{toolchain}");
        }
        assert!(!ImageRef::parse("example/gopher-tools:1").is_go_toolchain());
        assert!(ImageRef::parse("mcr.microsoft.com/windows/nanoserver:ltsc2022").is_windows());
        assert!(ImageRef::parse("golang:1.22-windowsservercore-ltsc2022").is_windows());
        assert!(ImageRef::parse("mcr.microsoft.com/oss/go/microsoft/golang:1.22-nanoserver").is_windows());
        assert!(!ImageRef::parse("golang:1.22-bookworm").is_windows());
        let s = ImageRef::parse("gcr.io/distroless/static-debian12:nonroot");
        assert_eq!(s.family(), Family::Distroless);
        assert!(!s.has_libc());
        assert!(s.default_user_is_nonroot());
        assert!(ImageRef::parse("gcr.io/distroless/base-debian13").has_libc());
        assert!(
            s.distroless_past_eol() && ImageRef::parse("mirror.example/distroless/base-debian11").distroless_past_eol()
        );
        assert!(
            !ImageRef::parse("kubewharf/distroless-base-debian11:latest").distroless_past_eol(),
            "another project's"
        );
    }
}
