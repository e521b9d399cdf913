//! Property tests: on Dockerfiles assembled from real-world instruction patterns, and on
//! arbitrary text, harden never panics, a rewrite always parses again, and `fix` is
//! idempotent (fixing the output changes nothing).

use harden::config::Config;
use harden::dockerfile::{Outcome, harden};
use harden::source::{GoMod, SourceFacts};
use proptest::prelude::*;

/// Instruction lines seen in Go Dockerfiles, builders and runtimes alike.
const BUILDER_LINES: &[&str] = &[
    "WORKDIR /src",
    "WORKDIR /go/src/app",
    "COPY . .",
    "COPY go.mod go.sum ./",
    "ADD . /src",
    "RUN go mod download",
    "RUN --mount=type=cache,target=/go/pkg/mod go mod download",
    "RUN go build -o /out/app .",
    "RUN CGO_ENABLED=0 go build -ldflags \"-X main.v=1\" -o app ./cmd/app",
    "RUN go build -trimpath -ldflags=-s -o /bin/svc",
    "RUN cd cmd && go build -o /app && \\\n    go vet ./...",
    "RUN export CGO_ENABLED=1 && go build -o /app .",
    "RUN go install ./cmd/...",
    "RUN apk add --no-cache git gcc musl-dev",
    "RUN apt-get update && apt-get install -y gcc",
    "RUN make build",
    "ENV CGO_ENABLED=0 GOOS=linux",
    "ENV PORT=8080",
    "ARG VERSION=dev",
    "ARG TARGETARCH",
    "USER app",
    "RUN <<EOF\ngo build -o /x .\nEOF",
    "# a comment",
    "",
];
const RUNTIME_LINES: &[&str] = &[
    "RUN apk add --no-cache ca-certificates tzdata",
    "RUN adduser -D -u 10001 app",
    "RUN mkdir /data",
    "COPY --from=build /out/app /app",
    "COPY --from=0 /bin/svc /usr/local/bin/svc",
    "COPY --chown=app:app --from=build /out/app /app",
    "COPY config.yaml /etc/app/",
    "COPY entrypoint.sh /",
    "WORKDIR /app",
    "ENV GIN_MODE=release",
    "EXPOSE 8080",
    "EXPOSE 80",
    "USER app",
    "USER root",
    "USER 65532:65532",
    "VOLUME /data",
    "LABEL org.opencontainers.image.source=x",
    "HEALTHCHECK CMD wget -qO- http://localhost:8080/ || exit 1",
    "ENTRYPOINT [\"/app\"]",
    "ENTRYPOINT /app --flag",
    "ENTRYPOINT [\"/entrypoint.sh\"]",
    "CMD [\"serve\"]",
    "CMD /app --port $PORT",
    "CMD [\"./app\"]",
    "# runtime",
    "",
];
const BASES: &[&str] = &[
    "golang:1.22",
    "golang:1.22-alpine",
    "golang",
    "golang:latest",
    "golang:${GO_VERSION}",
    "alpine:3.20",
    "debian:bookworm-slim",
    "scratch",
    "gcr.io/distroless/static-debian12",
    "gcr.io/distroless/base-debian13:nonroot",
    "ubuntu",
];

fn dockerfile() -> impl Strategy<Value = String> {
    let builder = (
        prop::sample::select(BASES),
        prop::bool::ANY,
        prop::collection::vec(prop::sample::select(BUILDER_LINES), 0..8),
    );
    let runtime = prop::option::of((
        prop::sample::select(BASES),
        prop::collection::vec(prop::sample::select(RUNTIME_LINES), 0..8),
    ));
    (builder, runtime, prop::bool::ANY, prop::bool::ANY).prop_map(|((base, alias, lines), runtime, crlf, lower)| {
        let mut text = String::from("ARG GO_VERSION=1.22\n");
        text.push_str(&format!("FROM {base}{}\n", if alias { " AS build" } else { "" }));
        for line in lines {
            text.push_str(line);
            text.push('\n');
        }
        if let Some((base, lines)) = runtime {
            text.push_str(&format!("\nFROM {base}\n"));
            for line in lines {
                text.push_str(line);
                text.push('\n');
            }
        }
        if lower {
            text = text.replace("FROM ", "from ").replace("RUN ", "run ");
        }
        if crlf { text.replace('\n', "\r\n") } else { text }
    })
}

fn source() -> impl Strategy<Value = SourceFacts> {
    prop::option::of(prop::bool::ANY).prop_map(|facts| match facts {
        None => SourceFacts::default(),
        Some(cgo) => SourceFacts {
            available: true,
            go_mod: Some(GoMod {
                module: "example.com/app".into(),
                go_version: Some("1.22".into()),
                toolchain: None,
                local_replaces: Vec::new(),
                indirect: Vec::new(),
                requires: if cgo { vec!["github.com/mattn/go-sqlite3".into()] } else { Vec::new() },
            }),
            has_go_sum: true,
            assets: vec!["templates".into()],
            ..SourceFacts::default()
        },
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn fix_never_panics_reparses_and_is_idempotent(text in dockerfile(), source in source()) {
        let config = Config::default();
        if let Ok(Outcome::Hardened { rewritten: Some(new), .. }) = harden(&text, &source, &config) {
            prop_assert!(harden::dockerfile::model::Dockerfile::parse(&new).is_ok(), "output does not parse:\n{new}");
            match harden(&new, &source, &config) {
                Ok(Outcome::Hardened { rewritten: None, .. }) => {}
                Ok(Outcome::Hardened { rewritten: Some(again), .. }) => {
                    prop_assert!(false, "not idempotent.\ninput:\n{text}\nfirst:\n{new}\nsecond:\n{again}");
                }
                other => prop_assert!(false, "second pass failed: {other:?}\n{new}"),
            }
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let _ = harden(&text, &SourceFacts::default(), &Config::default());
    }

    #[test]
    fn arbitrary_instructions_never_panic(lines in prop::collection::vec("(FROM|RUN|COPY|ENV|USER|CMD|ENTRYPOINT|ARG|ADD) [ -~]{0,40}", 1..10)) {
        let _ = harden(&lines.join("\n"), &SourceFacts::default(), &Config::default());
    }
}

/// Inputs the fuzzer once broke harden with (`fuzz/regressions/`): each must stay fixed.
#[test]
fn fuzz_regressions_stay_fixed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let (source, config) = (SourceFacts::default(), Config::default());
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        if let Ok(Outcome::Hardened { rewritten: Some(new), .. }) = harden(&text, &source, &config) {
            let again = harden(&new, &source, &config);
            assert!(
                matches!(again, Ok(Outcome::Hardened { rewritten: None, .. })),
                "{}: a rewrite is not a fixed point: {again:?}",
                path.display()
            );
        }
        seen += 1;
    }
    assert!(seen >= 4);
}

/// Pieces of real manifests: pod-spec keys and container keys in several styles.
const POD_KEYS: &[&str] = &[
    "securityContext: {}",
    "securityContext:\n  runAsUser: 1000",
    "securityContext:\n  runAsNonRoot: false\n  seccompProfile:\n    type: Unconfined",
    "securityContext:",
    "hostNetwork: true",
    "volumes: []",
    "volumes:\n- name: tmp\n  emptyDir: {}",
    "volumes:\n  - name: data\n    emptyDir: {}",
    "restartPolicy: Never",
    "# a comment",
];
const CONTAINER_KEYS: &[&str] = &[
    "image: nginx",
    "image: \"ghcr.io/acme/app:1.0\"",
    "securityContext: {}",
    "securityContext:\n  allowPrivilegeEscalation: true",
    "securityContext:\n  capabilities:\n    drop: [\"NET_RAW\"]\n    add: [NET_BIND_SERVICE]",
    "securityContext:\n  privileged: true",
    "securityContext:\n  runAsUser: 0",
    "volumeMounts: []",
    "volumeMounts:\n- name: tmp\n  mountPath: /tmp",
    "ports:\n- containerPort: 80",
    "args: [\"--x\"]  # trailing comment",
];

fn indent(text: &str, pad: &str) -> String {
    text.lines().map(|l| format!("{pad}{l}\n")).collect()
}

fn manifest() -> impl Strategy<Value = String> {
    let container = prop::collection::vec(prop::sample::select(CONTAINER_KEYS), 0..4);
    (
        prop::sample::select(&["Deployment", "CronJob", "Pod", "Job", "DaemonSet"][..]),
        prop::collection::vec(prop::sample::select(POD_KEYS), 0..3),
        prop::collection::vec(container, 1..3),
        prop::bool::ANY,
        prop::bool::ANY,
        prop::bool::ANY,
    )
        .prop_map(|(kind, pod_keys, containers, flush, crlf, final_newline)| {
            let mut pod = String::new();
            for key in pod_keys {
                pod.push_str(key);
                pod.push('\n');
            }
            pod.push_str("containers:\n");
            let dash = if flush { "" } else { "  " };
            for (i, keys) in containers.iter().enumerate() {
                pod.push_str(&format!("{dash}- name: c{i}\n"));
                for key in keys {
                    pod.push_str(&indent(key, &format!("{dash}  ")));
                }
            }
            let body = match kind {
                "Pod" => format!("spec:\n{}", indent(&pod, "  ")),
                "CronJob" => format!(
                    "spec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n{}",
                    indent(&pod, "          ")
                ),
                _ => format!("spec:\n  template:\n    spec:\n{}", indent(&pod, "      ")),
            };
            let mut text =
                format!("# generated\napiVersion: v1\nkind: {kind}\nmetadata:\n  name: x\n{body}---\nkind: Service\n");
            if !final_newline {
                text.pop();
            }
            if crlf { text.replace('\n', "\r\n") } else { text }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn manifests_fix_never_panics_and_is_idempotent(text in manifest()) {
        let config = Config::default();
        match harden::kubernetes::harden(&text, &config) {
            Ok(Outcome::Hardened { rewritten: Some(new), .. }) => match harden::kubernetes::harden(&new, &config) {
                Ok(Outcome::Hardened { rewritten: None, .. }) => {}
                other => prop_assert!(false, "not idempotent.\ninput:\n{text}\nfirst:\n{new}\nsecond: {other:?}"),
            },
            Ok(Outcome::Hardened { rewritten: None, reason: Some(r), .. }) if r.contains("not proposed") => {
                prop_assert!(false, "a generated manifest was not rewritten: {r}\n{text}");
            }
            _ => {}
        }
    }

    #[test]
    fn arbitrary_yaml_never_panics(text in "[ -~\n]{0,300}") {
        let _ = harden::kubernetes::harden(&format!("kind: Pod\nspec:\n{text}"), &Config::default());
    }
}
