//! The rule catalogue: one place for every rule's id, severity, summary and fix.
//!
//! The CLI (`harden rules`), the text/JSON/SARIF reports and later the PR body
//! all read rules from here. Ids are stable: a rule may be retired, never renumbered.

use serde::Serialize;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; no risk on its own.
    Info,
    /// Makes the image larger or weaker than it needs to be.
    Warning,
    /// A security problem or a build that can break.
    Error,
}

impl Severity {
    /// The lowercase name used in every output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One rule of the catalogue.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Rule {
    /// Stable id, e.g. `HD106`.
    pub id: &'static str,
    /// Short kebab-case name.
    pub name: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// One line saying what is wrong.
    pub summary: &'static str,
    /// What `harden fix` does about it, or why it cannot.
    pub fix: &'static str,
    /// Whether `harden fix` can resolve it (in at least the common case).
    pub fixable: bool,
    /// Matching rules of other tools (hadolint, checkov).
    pub see_also: &'static str,
}

macro_rules! rules {
    ($($konst:ident = $id:literal $name:literal $sev:ident $fixable:literal $see:literal $summary:literal $fix:literal;)*) => {
        $(
            #[doc = $summary]
            pub const $konst: Rule = Rule {
                id: $id, name: $name, severity: Severity::$sev, summary: $summary,
                fix: $fix, fixable: $fixable, see_also: $see,
            };
        )*
        /// Every rule, in id order.
        pub const ALL: &[Rule] = &[$($konst),*];
    };
}

rules! {
    FAT_RUNTIME = "HD101" "runtime-fat-base" Warning true ""
        "The runtime stage is a full OS or toolchain image (golang, debian, ubuntu, alpine, busybox); another system's base (UBI, CentOS, Amazon Linux), which harden keeps, is told at info."
        "Switches the runtime stage to distroless static (or base for cgo binaries).";
    SINGLE_STAGE = "HD102" "single-stage-build" Warning true ""
        "The image that runs the program is the image that built it: the toolchain and sources ship."
        "Splits the file into a builder stage and a distroless runtime stage that copies only what the program needs.";
    CGO_NOT_DISABLED = "HD103" "cgo-not-disabled" Warning true ""
        "The Go build does not set CGO_ENABLED=0, so a builder with gcc links against libc."
        "Sets CGO_ENABLED=0 on the build command when nothing in the build needs cgo.";
    NO_TRIMPATH = "HD104" "no-trimpath" Info true ""
        "The Go build lacks -trimpath: local paths end up in the binary and builds are not reproducible."
        "Adds -trimpath to the build command.";
    NOT_STRIPPED = "HD105" "symbols-not-stripped" Info true ""
        "The Go build does not strip symbols (-ldflags=\"-s -w\"): the binary is larger than it needs to be. Not said where its -ldflags take a build argument a build file passes with -s -w (--build-arg ldflags=\"$(LDFLAGS) -s -w\")."
        "Merges -s -w into the existing -ldflags, keeping flags such as -X main.version=….";
    RUNS_AS_ROOT = "HD106" "runs-as-root" Error true "hadolint DL3002, checkov CKV_DOCKER_3, CKV_DOCKER_8"
        "The image runs as root: no USER instruction, or the last USER is root."
        "Sets USER 65532:65532 (distroless nonroot) in the runtime stage.";
    NON_NUMERIC_USER = "HD107" "non-numeric-user" Warning true "hadolint DL3066"
        "USER is a name: the kubelet cannot verify it under runAsNonRoot and refuses to start the pod."
        "Replaces the name with its numeric uid (65532:65532 on distroless, or the uid the file creates).";
    SECRET_IN_ENV = "HD108" "secret-in-env-or-arg" Error false "hadolint DL3064"
        "A secret-looking ENV or ARG is baked into the image history."
        "Not fixed: pass it with RUN --mount=type=secret at build time, or at run time from a secret store.";
    SECRET_FILE_COPIED = "HD109" "secret-file-copied" Error false ""
        "A credential file (.env, .netrc, a private key…) is copied into the image."
        "Not fixed: remove it from the build and mount it as a secret; it is never carried into a new runtime stage.";
    NOT_PINNED = "HD110" "base-not-pinned" Info false "checkov CKV_K8S_43 (for pods); fixed by fix --pin"
        "A base image is not pinned by digest: the same Dockerfile can build a different image tomorrow."
        "Pinned by `harden fix --pin`, which asks the image's registry for the digest it serves (tag@sha256:…).";
    LATEST_TAG = "HD111" "base-latest-or-untagged" Warning true "hadolint DL3006, DL3007, checkov CKV_DOCKER_7"
        "A base image has no tag or uses latest (for golang, a tag that names only a variant, `golang:alpine`, too)."
        "For the Go builder where an updater (Renovate, Dependabot) keeps the images current, names the newest Go harden knows (1.27), or go.mod's where that is newer, when go.mod says the least Go that builds the module (Go 1.21 on) and the stage builds no other module: the floating tag gives the newest Go, so go.mod's older one would move the build back; otherwise not fixed.";
    MODULE_CACHE = "HD112" "modules-not-cached" Info true ""
        "go.mod and go.sum are not copied before the source, so every source change downloads all modules again."
        "Copies go.mod and go.sum first and runs go mod download in its own layer.";
    NO_CACHE_MOUNT = "HD113" "no-build-cache-mount" Info true ""
        "Go commands run without BuildKit cache mounts for the module and build caches (not an install of delve for a debug stage, which builds nothing of the module)."
        "Adds --mount=type=cache for /go/pkg/mod and /root/.cache/go-build to the Go commands of the builder.";
    ADD_FOR_COPY = "HD114" "add-instead-of-copy" Warning true "hadolint DL3020, checkov CKV_DOCKER_4"
        "ADD is used where COPY serves (local files, not a URL or an archive)."
        "Replaces ADD with COPY.";
    SHELL_FORM = "HD115" "shell-form-command" Warning true "hadolint DL3025"
        "ENTRYPOINT or CMD is in shell form: it needs /bin/sh, and signals do not reach the program (a CMD of one simple command on a runtime that keeps its shell is told at info: busybox ash, dash and bash exec it, so the program gets signals; on a base with no /bin/sh, distroless or scratch, the image cannot start, an error whose fix a pull request carries alone)."
        "Turns it into exec form when the command has no shell syntax; otherwise keeps a runtime with a shell. A shell-form HEALTHCHECK is turned only where the runtime has no shell (a health check gets no signals).";
    HEALTHCHECK_TOOL = "HD116" "healthcheck-needs-tools" Warning true "checkov CKV_DOCKER_2"
        "HEALTHCHECK calls a shell, curl or wget, which a distroless runtime does not have."
        "Drops the HEALTHCHECK when the runtime becomes distroless: use Kubernetes liveness and readiness probes.";
    PRIVILEGED_PORT = "HD117" "privileged-port" Warning false "checkov CKV_DOCKER_1 (port 22)"
        "The program binds a port below 1024 (EXPOSE, a HEALTHCHECK URL, a flag, or its source): a non-root process may not bind it (CRI-O, older runtimes)."
        "Not fixed: the user is left as it is; move the program to a port at or above 1024 (harden names the flag or variable that sets it) and map it with the Service's targetPort.";
    DISTROLESS_EOL = "HD118" "distroless-end-of-life" Warning true ""
        "The runtime is a distroless image on a Debian release past end of life (`*-debian12` since September 2026, `*-debian11` and older before it)."
        "Moves it to the same image on debian13, where the file names it (a base a build argument from the builds names is moved where they give it); only the distroless project's images, and not one whose tag a build argument's default pins by digest.";
    CGO_STATIC_RUNTIME = "HD119" "cgo-on-static-runtime" Error true ""
        "A binary built with cgo runs on a runtime without libc (static or scratch): it fails with 'no such file or directory'."
        "Uses distroless base (glibc) for a cgo build.";
    SHELL_SCRIPT_ENTRYPOINT = "HD130" "entrypoint-script" Warning false ""
        "The program starts through a shell script, which a shell-less runtime cannot run."
        "Not fixed: the runtime stage is kept; run the binary directly to go distroless.";
    UNKNOWN_BUILD_OUTPUT = "HD131" "unknown-build-output" Info false ""
        "The binary is built by make or a script, so its path is unknown. On a shell-less runtime that runs it as root for want of a USER, only its user moves off root; its build's flags stay unchecked."
        "Not fixed: write `go build -o PATH` in the Dockerfile, or copy the binary explicitly.";
    ONBUILD = "HD132" "onbuild" Warning false ""
        "The file uses ONBUILD or an -onbuild base: what runs at build time is decided elsewhere."
        "Not fixed: the file is left alone.";
    UNRESOLVED_BASE = "HD133" "unresolved-base" Info false ""
        "A FROM uses a variable without a default, so the base image is unknown."
        "Not fixed: the stage is left alone; give the ARG a default.";
    RUNTIME_NEEDS_SHELL = "HD135" "runtime-needs-shell" Warning false ""
        "The runtime stage runs commands (RUN) or ships tools that a distroless image cannot provide."
        "Not fixed: the runtime image is kept; the build flags and user are still hardened where safe.";
    CGO_MUSL = "HD136" "cgo-on-musl-builder" Warning false ""
        "cgo is built on an Alpine (musl) builder: the binary cannot run on a glibc distroless runtime."
        "Not fixed: build on a Debian golang image, or link statically with -extldflags -static.";
    EXEC_FORM_BUILD = "HD137" "exec-form-go-build" Info false ""
        "A go command (go build, go mod download) runs in an exec-form RUN, which harden does not edit."
        "Not fixed: write the RUN in shell form.";
    RUNTIME_SETUP_AFTER_BUILD = "HD138" "runtime-setup-in-builder" Warning false ""
        "The single stage prepares files after the build (RUN mkdir, chown…) that a new runtime stage would lose."
        "Not fixed: the single stage is kept; move that setup into a runtime stage.";
    FOREIGN_FROM = "HD134" "copy-from-outside" Info false ""
        "COPY --from names no stage of the file: an image or a named build context (--build-context). A copy of a whole non-root image's files (`COPY --from=…:nonroot . .`) does not carry its user, which is said."
        "Not changed: harden keeps the line as it is; check that the source still exists for the new runtime.";
    SECOND_RUNTIME = "HD139" "second-runtime-stage" Warning false ""
        "A stage other than the last looks like a runtime image (built with --target): harden changes the runtime and user of the final stage only."
        "Not fixed: apply the same changes to that stage by hand, or make it the final stage of its own Dockerfile.";
    OPEN_AT_END = "HD140" "unterminated-instruction" Warning false ""
        "The file ends inside a continued instruction (a trailing backslash), so nothing can be added after it."
        "Not fixed: the runtime stage is kept; end the last instruction.";
    DEBUGGER_BUILD = "HD141" "debugger-build" Info false "skaffold debug"
        "The Go build keeps what a debugger needs (-gcflags from a build argument or with -N -l, or delve in the stage or in a stage built on it or copying its binary), or is one of several builds of one package whose link flags differ on purpose."
        "Not changed: harden adds neither -s -w nor -trimpath to it (nor CGO_ENABLED=0 to a variant), so the build stays debuggable and the variants stay apart.";
    PINNED_IMAGE_KEPT = "HD142" "pinned-image-kept" Info false ""
        "An image the rewrite would replace is pinned by digest: harden never replaces a pinned image with an unpinned one."
        "Not changed by `harden fix`; `harden fix --pin` replaces it with the hardened image, pinned by the digest its registry serves.";
    RUNTIME_WRITES = "HD143" "runtime-writes-shared-dir" Warning false ""
        "The program writes at run time into a directory that holds the image's own files, or a system directory: the non-root user could not write there."
        "Not fixed: the user is left as it is; a directory of its own (a VOLUME, or a path the source writes) is created for 65532 instead when it holds nothing else.";
    NO_COMMAND = "HD144" "no-command" Warning false ""
        "The final stage has no CMD or ENTRYPOINT: what runs it supplies the command, which may need a shell."
        "Not fixed: the runtime is kept unless a Compose file, skaffold configuration or Kubernetes manifest in the repository shows a command that needs no shell.";
    ROOT_RESOURCE = "HD145" "root-resource" Warning false ""
        "The program uses something only root may use: the Docker or containerd socket, a CSI driver's socket, the kernel log, the host's network (netlink calls that change it, iptables, nftables, ipset, IPVS, eBPF), mounting file systems, the CNI plugin interface, a signal to another process; or it stops unless it runs as root."
        "Not fixed: the user is left as it is; give the socket's group to the image's user, or run it with the access it needs.";
    DATA_ONLY = "HD146" "data-only-image" Info false ""
        "The final stage is built on scratch, has no command and copies no program: it carries files only, so no program runs as any user in it."
        "Nothing to fix: the image is left alone.";
    TOOL_IMAGE = "HD147" "tool-image" Info false ""
        "The single stage runs a tool installed from another module (go install …@version): over files copied from the repository, which of them it reads cannot be known; over files given when it runs (a bind-mounted generator or linter), it may run the go command the toolchain image carries."
        "Not fixed: the single stage is kept; build the repository's files in a builder stage and copy what the tool serves into a distroless runtime by hand, or keep the toolchain where the tool needs it.";
    LIBRARY_BUILD = "HD148" "go-library-image" Info false ""
        "The Go build makes a library (-buildmode=c-shared, c-archive or plugin) that another program of the runtime image loads: that program, and the user it needs, are the image's."
        "Not fixed: the runtime and its user are kept; the build itself is still tuned.";
    BASE_ENTRYPOINT = "HD149" "base-image-entrypoint" Warning false ""
        "The runtime stays on an image harden does not know and the file sets CMD without ENTRYPOINT: the image's own ENTRYPOINT starts the program, and an init script there may need root to change to its own user (su-exec, gosu)."
        "Not fixed: the user is left as it is; set USER (or ENTRYPOINT) yourself once you know the base image's entrypoint runs as any user.";
    USER_WITHOUT_GROUP = "HD150" "user-without-group" Info false ""
        "USER is a numeric uid without a group and without an account in the image: the program runs with group 0, root's, and can use whatever root's group may."
        "Not fixed: write USER uid:gid, unless the image relies on root's group (directories given to group 0 for OpenShift's arbitrary users).";
    BASE_PROGRAM = "HD152" "base-image-program" Warning false ""
        "The program starts other programs and its runtime stays on an image harden does not know: what it starts may be that image's own program (a log collector reading the host's files), whose needs harden cannot see."
        "Not fixed: the user is left as it is; set USER yourself once you know the programs it starts run as any user.";
    DATA_STORE = "HD151" "runtime-data-store" Warning false ""
        "The image moves its program to 65532 from root or another user, and declares a VOLUME or keeps an embedded database (SQLite, bolt, badger…) at a path set when it runs: data an earlier image wrote to a volume keeps its owner, which the new user cannot write."
        "Not fixed: the user still moves to 65532; give the data volumes to 65532:65532 (chown, or fsGroup: 65532 in Kubernetes) when rolling the image out.";
    BASE_END_OF_LIFE = "HD153" "runtime-end-of-life" Warning false ""
        "The runtime harden keeps runs on a distribution release past end of life (alpine 3.21 and older, Debian 11 and older, Ubuntu 20.04 and older, as of December 2026): its packages get no more security fixes. Also a stage on such a release that the runtime copies CA certificates or time zones from: that data gets no more updates. Where a build argument's default gives the release, the advice is to raise that default."
        "Not fixed: another release brings other package versions, which only a rebuild and the project's tests can vouch for; raise the tag (alpine:3.23, debian:13-slim, ubuntu:24.04).";
    COMMENT_NEEDS_ROOT = "HD154" "comment-needs-root" Warning false ""
        "A comment in the runtime stage, just above its FROM or in the file's head says the program needs root (`# Need root user for UDS`), or holds its non-root USER commented out (`# USER 65532:65532`)."
        "Not fixed: the user is left as it is and the comment is quoted; once it no longer holds, remove it and harden proposes the change.";
    COMMENT_KEEPS_BASE = "HD155" "comment-keeps-base" Warning false ""
        "A comment in the runtime stage (or just above its FROM) says why the stage keeps its base image rather than distroless or scratch (`# Alpine rather than distroless because the probes need test`), or why it chose its own base (`# we use alpine for easier debugging`)."
        "Not fixed: the base image is kept, and with it the user, and the comment is quoted; once it no longer holds, remove it and harden proposes the change.";
    PASSWORDLESS_SUDO = "HD156" "passwordless-sudo" Warning false ""
        "A stage that runs the program writes a sudoers rule with NOPASSWD (`app ALL=(ALL) NOPASSWD: ALL`): its non-root user can run anything as root without a password."
        "Not fixed: which commands the program or its users run with sudo is not known; drop the rule and sudo from the image that runs the program (a container with allowPrivilegeEscalation: false already stops sudo from raising privileges).";
    RUNTIME_BUILD_PLATFORM = "HD157" "runtime-build-platform" Warning true ""
        "The runtime stage is built FROM --platform=$BUILDPLATFORM while the Go build it ships is cross-compiled for $TARGETARCH: a multi-platform build gives every image the build machine's base layers (an arm64 image carrying amd64 packages, which scanners and SBOMs read)."
        "Fix drops --platform from that FROM where the stage runs nothing (no RUN, which would then need emulation); the binary is already built for the target.";
    WORLD_WRITABLE = "HD158" "world-writable" Warning false ""
        "A stage that runs the program makes paths writable by every user (`chmod -R 777 /usr/bin`, `chmod o+w`), without the sticky bit: any process in the container, whoever runs it, can replace or add files there."
        "Not fixed: which user writes there is the image's choice; give the paths to that user (COPY --chown=uid:gid, or chown with a mode such as 755).";
    GO_PAST_SUPPORT = "HD159" "go-past-support" Warning false ""
        "A stage builds the shipped program with a Go release past support (Go 1.25 and older, as of December 2026: a release gets security fixes until the second one after it is out), read from the golang tag, an ARG default or GOTOOLCHAIN: the binary carries that release's standard library (crypto/tls, net/http), which gets no more security fixes."
        "Not fixed: a newer Go can ask for code or go.mod changes, so the move is the project's; raise the golang tag (or the build argument's default) to a supported release.";
    GO_OLDER_THAN_MODULE = "HD160" "go-older-than-module" Error false ""
        "A stage builds the module with a Go older than its go.mod's `go` line (Go 1.21 on, where that line is a requirement), and nothing lets the go command fetch a newer toolchain (golang images set GOTOOLCHAIN=local): the build stops with \"go.mod requires go >= …\"."
        "Not fixed: raise the golang tag (or the build argument's default) to at least go.mod's Go; the build proof of any other change skips where the original does not build.";
    REMOTE_ADD_UNCHECKED = "HD161" "remote-add-unchecked" Warning false ""
        "ADD downloads a file over HTTP(S) without --checksum: whatever the server sends that day goes into the image unverified (a moved release, a compromised mirror)."
        "Not fixed: the digest has to come from the file's publisher; add --checksum=sha256:<digest> (Dockerfile syntax 1.6 or later), or download in a RUN that checks the sum.";
    SCRATCH_WITHOUT_CERTIFICATES = "HD162" "scratch-without-ca-certificates" Warning false ""
        "The runtime stays on scratch, which has no CA certificates, the image copies none in, and the program's source calls an HTTPS address (in an HTTP call, or named in a file that makes them): its TLS connections fail to verify the server (x509: certificate signed by unknown authority)."
        "Not fixed: copy the bundle from the build stage (`COPY --from=<build> /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/`), or run on distroless static, which has it; a program that carries its own roots (golang.org/x/crypto/x509roots/fallback) needs neither.";
    RUN_AS_NON_ROOT = "HK201" "run-as-non-root-missing" Error true "PSS restricted, checkov CKV_K8S_23"
        "runAsNonRoot is not true for the pod or a container: the kubelet will start a container that runs as root."
        "Sets runAsNonRoot: true in the pod securityContext (and true where a container sets false).";
    RUN_AS_USER = "HK202" "run-as-user-low" Warning true "checkov CKV_K8S_40, kube-score, kubesec"
        "runAsUser is unset, root or below 10000: it may collide with a host user."
        "Sets runAsUser: 65532 (distroless nonroot) when unset; an explicit user is never overridden, only reported.";
    RUN_AS_GROUP = "HK203" "run-as-group-missing" Warning true "kube-score, kubesec"
        "runAsGroup is unset: the process runs with the image's group, often root (0)."
        "Sets runAsGroup: 65532 in the pod securityContext.";
    SECCOMP = "HK204" "seccomp-not-runtime-default" Warning true "PSS restricted, checkov CKV_K8S_31"
        "The seccomp profile is not RuntimeDefault or Localhost: every system call is allowed."
        "Sets seccompProfile: {type: RuntimeDefault} in the pod securityContext (and where a container sets Unconfined).";
    PRIVILEGE_ESCALATION = "HK205" "privilege-escalation-allowed" Error true "PSS restricted, checkov CKV_K8S_20"
        "allowPrivilegeEscalation is not false: a setuid binary can gain privileges."
        "Sets allowPrivilegeEscalation: false on every container and init container (changing an explicit true, and saying so).";
    CAPABILITIES = "HK206" "capabilities-not-dropped" Warning true "PSS restricted, checkov CKV_K8S_28, CKV_K8S_37"
        "The container does not drop ALL capabilities."
        "Adds capabilities: {drop: [ALL]}, keeping an existing add: [NET_BIND_SERVICE]; a lower-case `all`, which the runtime reads but Pod Security admission does not, becomes ALL.";
    WRITABLE_ROOT = "HK207" "root-filesystem-writable" Warning true "checkov CKV_K8S_22"
        "readOnlyRootFilesystem is not true: an attacker can write to the image's files."
        "Sets readOnlyRootFilesystem: true and, when nothing is mounted at /tmp, an emptyDir volume there; not for another project's image in a repository that builds its own, whose writes are that image's, nor for an image that keeps files under /tmp, which the emptyDir would hide, or one built here that is not a Go build, nor for one a development tool syncs files into (Tilt's live_update, DevSpace's dev sync).";
    PRIVILEGED = "HK208" "privileged-container" Error false "PSS baseline, checkov CKV_K8S_16"
        "The container is privileged: it has every capability and the host's devices."
        "Not fixed: the workload is left alone; it needs the host, so review it by hand.";
    HOST_NAMESPACE = "HK209" "host-namespace" Error false "PSS baseline, checkov CKV_K8S_17, 18, 19"
        "The pod shares the host's network, PID or IPC namespace: a node agent's (a DaemonSet's), which binds the node's ports and changes its network, or sees and signals its processes, as root or with capabilities harden cannot tell from here; a pod of another kind on the node's network shares its ports and interfaces, and what it does there is not known."
        "Not fixed: the workload is left alone; it needs the host, so review it by hand.";
    HOST_PATH = "HK210" "host-path-volume" Error false "PSS baseline"
        "The pod mounts a hostPath volume: it can read or write the node's files, which are root's, often for root alone to read."
        "Not fixed: the workload is left alone; it needs the host, so review it by hand.";
    HOST_PORT = "HK211" "host-port" Warning false "PSS baseline, checkov CKV_K8S_26"
        "A container binds a hostPort on the node."
        "Not fixed: use a Service instead; the workload is left alone.";
    IMAGE_TAG = "HK212" "image-latest-or-untagged" Warning false "checkov CKV_K8S_14"
        "The container image has no tag or uses latest: what runs changes without a change to the manifest."
        "Not fixed: pin a version tag.";
    IMAGE_DIGEST = "HK213" "image-not-pinned" Info false "checkov CKV_K8S_43"
        "The container image is not pinned by digest."
        "Not fixed: pin image:tag@sha256:… (Renovate or harden verify can keep it current).";
    ADDED_CAPABILITIES = "HK214" "capabilities-added" Warning false "PSS restricted, checkov CKV_K8S_25, CKV_K8S_39"
        "The container adds capabilities other than NET_BIND_SERVICE."
        "Not fixed: harden keeps them (the program may need them) but the pod fails the restricted profile.";
    EXPLICIT_ROOT = "HK215" "explicit-root-user" Error false "PSS restricted, checkov CKV_K8S_23"
        "The pod or a container sets runAsUser: 0 explicitly."
        "Not fixed: the manifest asks for root on purpose; run the program as a non-root user and remove it.";
    IMAGE_STARTS_AS_ROOT = "HK216" "image-starts-as-root" Warning false "PSS restricted"
        "The container runs an official image (postgres, nginx, redis…) whose entrypoint starts as root to prepare its files or ports, then drops to its own user."
        "Not fixed: the container is left alone (a non-root user, dropped capabilities or a read-only root would stop it) and the pod-level values go on the other containers; run an image built to start unprivileged.";
    ROOT_COMMAND = "HK217" "root-command" Warning false ""
        "A container runs a command that needs root: chown or chgrp to prepare files for another user, setcap, a package install, sysctl, mount or iptables."
        "Not fixed: the workload is left alone (a non-root user or dropped capabilities would stop the command, or leave files owned by a user the program no longer runs as); prepare files with fsGroup or in the image.";
    WINDOWS_POD = "HK218" "windows-pod" Info false "PSS restricted (Windows exceptions)"
        "A Windows pod (spec.os.name or the kubernetes.io/os node selector, or its older beta.kubernetes.io/os, is windows): the Linux securityContext fields do not apply, and with os.name the API server rejects them."
        "Not fixed: the workload is left alone; harden hardens Linux pods.";
    PRIVILEGED_PORT_CONTAINER = "HK219" "privileged-port-container" Warning false "PSS restricted"
        "A container listens on a port below 1024 (containerPort or probe) and sets no user: as a non-root user it could not bind it on every runtime."
        "Not fixed: the container is left alone and the pod-level values go on the other containers; move it to a port of 1024 or more (the Service's targetPort maps it).";
    FS_GROUP = "HK220" "fs-group-missing" Warning true "kube-score"
        "The pod mounts a persistent volume and sets no fsGroup: the non-root user harden sets may not write it."
        "Sets fsGroup: 65532 with the user, so the volume is the user's group's; not where a container of the pod is left alone (fsGroup is the pod's, and would regroup its volumes too).";
    SHELL_COMMAND_WRITES = "HK221" "shell-command-writes" Warning false "PSS restricted"
        "A container's shell command (sh -c) writes where nothing writable is mounted (a redirect, mkdir, cp, curl -o), and nothing says who runs it: its image's user, root for most images."
        "Not fixed: the container is left alone (harden's user could not write there, nor could anyone under a read-only root) and the pod-level values go on the other containers; write under a mounted volume (an emptyDir).";
    IMAGE_KEEPS_ROOT = "HK222" "image-keeps-root" Warning false "PSS restricted"
        "The container runs an image the repository builds whose Dockerfile harden leaves running as root, for a reason its Dockerfile finding gives (a port below 1024, a root-owned directory the program may write, an entrypoint that drops privileges), or runs as root and writes into the image's own directories where nothing writable is mounted, and the manifest chooses no user. Also one whose image a development tool builds as root (a Tiltfile's docker_build with a dockerfile_contents that sets no USER, or with live_update; a DevSpace image its dev section syncs into, built from a root stage): the tool runs the manifest with that image, where runAsNonRoot would stop the pods."
        "Not fixed: the container is left alone and the pod-level values go on the other containers; fix what keeps the image on root, then harden both.";
    UNMOUNTED_DATA_STORE = "HK224" "unmounted-data-store" Warning false "PSS restricted"
        "The container runs a data store the repository does not build (minio, prometheus, mysql…) with nothing writable mounted for its data and no user chosen: it writes into its image's own directories as the image's user."
        "Not fixed: the container is left alone (harden's user and read-only root would stop its writes) and the pod-level values go on the other containers; mount a volume at its data directory.";
    EXAMPLE_OTHER_IMAGE = "HK225" "example-other-image" Info false ""
        "In a repository that builds images, a container runs another project's image: in an example (a manifest under examples/, samples/, docs/, tutorials/ or demo/, or a walkthrough such as quick_start.yaml), any image the repository does not build; elsewhere, one published outside the repository's own namespaces (or naming nothing of its Go module's, also under a name the repository builds, or an official system image with no tag) whose user nothing in the manifest chooses; or an older release of an image built here (docs pinned at v0.1.33 where the manifests run v0.1.68), which an older Dockerfile built. The user it needs and where it writes are that image's."
        "Not fixed: the container is left alone (harden's user and read-only root guess at another project's image) and the pod-level values go on the other containers; a workload of such containers only is reported at info.";
    FILE_CAPABILITY = "HK227" "file-capability" Warning true ""
        "A container runs an image built here whose binary gets capabilities from setcap (cap_net_bind_service to bind port 53 as non-root): under allowPrivilegeEscalation: false a file capability is kept at exec only where the container's own capabilities hold it, and drop ALL takes them away."
        "Adds NET_BIND_SERVICE beside drop ALL (the one capability the restricted profile lets a container add); a container whose binary needs another is left alone.";
    KUSTOMIZE_REPLACES = "HK226" "replaced-by-kustomize" Warning false ""
        "A kustomize patch (JSON 6902 add or replace) sets the workload's securityContext, volumes or volume mounts whole where kustomize builds it: what harden would add there is dropped."
        "Not fixed: the workload is left alone; harden the patch, which decides those fields.";
    RENDER_INPUT = "HK223" "render-input" Warning false ""
        "The manifest harden changes is read by a render the repository keeps the output of (kustomize build into a committed file, operator-sdk's bundle), or its workload is also in a generated file the repository keeps (a script's bundle of the manifests): that output is stale until the render runs again."
        "Not fixed: harden does not run the repository's tools; run the make rule or script the finding names and commit what it writes.";
    BLOCK_DEVICE = "HK229" "raw-block-device" Warning false ""
        "A container opens a raw block device (`volumeDevices`) and neither it nor its pod chooses a user: the kubelet gives a block device no fsGroup, so only root or the device's group may open it."
        "Not fixed: the container is left alone; to run it as another user, give that user the device's group in supplementalGroups.";
    INLINE_CSI_VOLUME = "HK231" "inline-csi-volume" Warning false ""
        "A container mounts an inline CSI volume (`volumes[].csi`) and neither it nor its pod chooses a user: the driver writes the files with owners and modes of its own (cert-manager's csi-driver: root's, 0440, unless the volume asks for a group), and the kubelet gives such a volume fsGroup only where the driver asks."
        "Not fixed: the container is left alone; have the driver give the files a group (a volume attribute such as csi.cert-manager.io/fs-group), then run as a user in it.";
    ROOT_HOME_MOUNT = "HK233" "root-home-mount" Warning false ""
        "A container mounts a volume in root's home (`/root`, `/root/.kube`) and neither it nor its pod chooses a user: its program finds there what it reads as $HOME (a configuration file, a kubeconfig), and another user has another home."
        "Not fixed: the container is left alone; mount the volume in the home of the user the image runs as, or set HOME to where it is, then harden hardens the rest.";
    SHARED_VOLUME = "HK234" "shared-volume-owner" Warning false ""
        "A container writes to a share whose files keep the owners its server gives them (an NFS, CephFS or GlusterFS volume inline, or a claim bound to such a PersistentVolume, or to a StorageClass of an NFS provisioner, in the repository) and neither it nor its pod chooses a user, nor does an image built here: the kubelet gives such a volume no fsGroup, so no user harden chooses is known to write it. Also a container that shares a socket directory with one left alone that chooses no user: a socket either makes there is its maker's user's, which the other, as another user, may not connect to."
        "Not fixed: the container is left alone; run it as the user that owns the share's files (or have the server map writes to one), or both containers as one user, then harden hardens the rest.";
    UNKNOWN_SECURITY_FIELD = "HK230" "unknown-security-context-field" Warning false ""
        "A pod's or container's securityContext has a field Kubernetes does not know there: a misspelt one (`allowPrivilegedEscalation`), or a container's field in the pod's securityContext (`readOnlyRootFilesystem`). The API server drops it, or refuses the object under strict field validation, so the setting it means is not made."
        "Not fixed: the field is left for its author to spell or move; where the setting it means is missing, harden's own fix adds it where Kubernetes reads it.";
    CHART_VERSION = "HK232" "chart-version" Info true ""
        "A chart whose values.yaml harden changes, in a repository whose chart-testing lint (`ct lint`) fails a changed chart with the same version in its Chart.yaml, or whose chart-releaser would not publish it (a release of that version exists already)."
        "Fixed: the chart's patch version is raised beside the change (0.20.3 → 0.20.4); a pre-release version is left for the maintainers to choose, and for chart-releaser a version that is the chart's appVersion (the next release publishes the change).";
    CHART_TEMPLATE = "HK228" "chart-template-security-context" Info false ""
        "A Helm chart's workload whose hardening has no place in the chart's values.yaml: its template writes the pod's or a container's securityContext itself (or sets none), a /tmp volume would have to be mounted, or a values entry it takes its securityContext from is shared with a workload harden would change otherwise; or containers a `range` over values makes, which harden does not render. A finding values.yaml has no entry for names the template's line that sets it."
        "Not fixed: harden edits a chart's values.yaml, never its templates; take the securityContext from values (`{{- toYaml .Values.podSecurityContext | nindent 8 }}`) and harden it there.";
}

/// Rules about the image that runs, whichever stage that is (a split moves it to a new stage).
pub const RUNTIME_SCOPED: &[Rule] = &[
    FAT_RUNTIME,
    SINGLE_STAGE,
    RUNS_AS_ROOT,
    NON_NUMERIC_USER,
    SHELL_FORM,
    HEALTHCHECK_TOOL,
    PRIVILEGED_PORT,
    CGO_STATIC_RUNTIME,
    SHELL_SCRIPT_ENTRYPOINT,
    RUNTIME_NEEDS_SHELL,
    RUNTIME_SETUP_AFTER_BUILD,
];

/// Looks a rule up by id, case-insensitively.
pub fn by_id(id: &str) -> Option<&'static Rule> {
    ALL.iter().find(|r| r.id.eq_ignore_ascii_case(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names_are_unique() {
        let mut ids: Vec<_> = ALL.iter().map(|r| r.id).collect();
        let mut names: Vec<_> = ALL.iter().map(|r| r.name).collect();
        ids.sort_unstable();
        ids.dedup();
        names.sort_unstable();
        names.dedup();
        assert_eq!(ids.len(), ALL.len());
        assert_eq!(names.len(), ALL.len());
    }
}
