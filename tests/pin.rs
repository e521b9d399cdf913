//! Digest pinning over a whole run, with a resolver that answers from a table: a finding is
//! marked fixed only when its image really got a digest.

use harden::pin::DigestResolver;
use harden::run;

/// Answers the digests of a table, and fails every other reference as a registry out of reach.
struct Table(&'static [(&'static str, &'static str)]);

impl DigestResolver for Table {
    fn digest(&self, reference: &str) -> Result<String, String> {
        let found = self.0.iter().find(|(r, _)| *r == reference).map(|(_, d)| d.to_string());
        found.ok_or_else(|| format!("{reference}: no registry answers"))
    }
}

fn report(dockerfile: &str, resolver: &Table) -> run::FileReport {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap();
    std::fs::write(dir.path().join("go.mod"), "module example.com/probe\n\ngo 1.24\n").unwrap();
    std::fs::write(dir.path().join("main.go"), "package main\n\nfunc main() {}\n").unwrap();
    let mut reports = run::analyse_with(&[dir.path().to_path_buf()], None, true);
    run::pin(&mut reports, resolver);
    reports.into_iter().find(|r| r.path.ends_with("Dockerfile")).unwrap()
}

fn pin_fixed(report: &run::FileReport) -> Vec<bool> {
    report.findings.iter().filter(|f| f.rule == "HD110").map(|f| f.fixed).collect()
}

/// A binary built outside, on a `:nonroot` tag chosen by a build argument: no USER is written
/// (the tag runs it as 65532 already), and an image from a variable is never pinned.
const NONROOT_BY_ARG: &str = "ARG ARCH=amd64\nFROM gcr.io/distroless/static-debian13:nonroot-${ARCH}\nCOPY .build/probe /bin/probe\nENTRYPOINT [\"/bin/probe\"]\n";

#[test]
fn an_image_from_a_variable_is_not_called_pinned() {
    let report = report(NONROOT_BY_ARG, &Table(&[]));
    assert_eq!(pin_fixed(&report), [false], "{:?}", report.findings);
    assert!(!report.security, "nothing on a :nonroot tag changes who runs it");
    assert!(!report.rewritten.as_deref().is_some_and(|t| t.contains("USER")), "{:?}", report.rewritten);
}

#[test]
fn a_pinned_image_is_fixed_and_an_unreachable_one_is_named() {
    let text = "FROM golang:1.24 AS build\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -trimpath -ldflags=\"-s -w\" -o /out/probe .\n\nFROM gcr.io/distroless/static-debian13:nonroot\nCOPY --from=build /out/probe /probe\nUSER 65532:65532\nENTRYPOINT [\"/probe\"]\n";
    let report = report(text, &Table(&[("gcr.io/distroless/static-debian13:nonroot", "sha256:5e1f")]));
    let rewritten = report.rewritten.as_deref().unwrap();
    assert!(rewritten.contains("FROM gcr.io/distroless/static-debian13:nonroot@sha256:5e1f\n"), "{rewritten}");
    assert!(rewritten.contains("FROM golang:1.24 AS build\n"), "{rewritten}");
    assert!(report.security, "a pinned runtime changes what the program runs on");
    let fixed: Vec<(&str, bool)> =
        report.findings.iter().filter(|f| f.rule == "HD110").map(|f| (f.message.as_str(), f.fixed)).collect();
    assert_eq!(
        fixed,
        [
            ("golang:1.24 is not pinned by digest", false),
            ("gcr.io/distroless/static-debian13:nonroot is not pinned by digest", true)
        ]
    );
    assert!(report.reason.as_deref().unwrap_or_default().contains("not pinned by digest: golang:1.24"));
    assert!(report.unpinned.len() == 1 && report.unpinned[0].starts_with("golang:1.24 ("), "{:?}", report.unpinned);
}

#[test]
fn a_rewrite_dropped_for_a_lost_pin_fixes_nothing() {
    let text = "FROM golang:1.24 AS build\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /out/probe .\n\nFROM alpine:3.20@sha256:28bd\nCOPY --from=build /out/probe /probe\nENTRYPOINT [\"/probe\"]\n";
    let report = report(text, &Table(&[]));
    assert!(report.rewritten.is_none(), "a pinned runtime is never replaced by an unpinned one");
    assert!(
        report.reason.as_deref().unwrap_or_default().contains("alpine:3.20@sha256:28bd, which is pinned by digest")
    );
    assert!(report.findings.iter().all(|f| !f.fixed), "{:?}", report.findings);
    assert!(!report.security);
}

#[test]
fn a_file_that_turns_hd110_off_is_not_pinned() {
    let text = "# harden ignore=HD110 our registry proxy rewrites digests\nFROM golang:1.24 AS build\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -trimpath -ldflags=\"-s -w\" -o /out/probe .\n\nFROM gcr.io/distroless/static-debian13:nonroot\nCOPY --from=build /out/probe /probe\nUSER 65532:65532\nENTRYPOINT [\"/probe\"]\n";
    let report = report(text, &Table(&[("gcr.io/distroless/static-debian13:nonroot", "sha256:5e1f")]));
    let rewritten = report.rewritten.as_deref().unwrap_or(text);
    assert!(!rewritten.contains("@sha256"), "{rewritten}");
    assert!(pin_fixed(&report).is_empty(), "{:?}", report.findings);
}
