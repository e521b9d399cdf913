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
