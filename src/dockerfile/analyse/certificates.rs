//! A runtime on scratch has no CA certificates: a program that calls an HTTPS address cannot
//! verify the server (`x509: certificate signed by unknown authority`) unless the image brings
//! them (HD162).

use crate::finding::Finding;
use crate::rules;

use super::super::facts::Facts;
use super::super::image::Family;
use super::super::model::Body;
use super::super::plan::{Plan, RuntimePlan};

/// HD162 where the runtime stays on scratch, copies in no CA certificates (nor a whole root file
/// system), points Go at none (`SSL_CERT_FILE`, `SSL_CERT_DIR`), and the program's source names an
/// HTTPS address (its program known: not every program of the module); not where it carries roots
/// of its own (`golang.org/x/crypto/x509roots/fallback`).
pub(super) fn findings(facts: &Facts<'_>, plan: &Plan, out: &mut Vec<Finding>) {
    let stage = facts.runtime_stage();
    let kept_base = match &plan.runtime {
        RuntimePlan::Keep => true,
        RuntimePlan::Convert { image } => image.is_none(),
        RuntimePlan::Split { .. } => false,
    };
    let on_scratch = facts.base_or_written(stage).is_some_and(|b| b.family() == Family::Scratch);
    let Some(call) = facts.source.https.first().filter(|_| kept_base && on_scratch) else { return };
    let brought = stage.instructions.iter().any(|inst| match &inst.body {
        Body::Copy(c) => c.sources.iter().any(|s| s == "/" || names_certificates(s)) || names_certificates(&c.dest),
        Body::Env(vars) => vars.iter().any(|(k, _)| k == "SSL_CERT_FILE" || k == "SSL_CERT_DIR"),
        _ => false,
    });
    let own_roots = facts.source.packages.values().any(|p| p.imports.iter().any(|i| i.ends_with("x509roots/fallback")));
    // Where the image's program is not known, the module's calls may be another program's; an
    // image that runs nothing (its files are copied out, or into other images) calls none.
    if brought || own_roots || facts.source.whole_module || facts.is_export() || facts.carries_data_only() {
        return;
    }
    out.push(Finding::new(
        &rules::SCRATCH_WITHOUT_CERTIFICATES,
        stage.from.line,
        format!(
            "the runtime is scratch, which has no CA certificates, and {}:{} names {}, an HTTPS address the program calls: it cannot verify that server (x509: certificate signed by unknown authority); copy them from the build stage (`COPY --from=<build> /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/`) or run on distroless static, which has them",
            call.file, call.found.line, call.found.url
        ),
    ));
}

/// True for a path of CA certificates (`/etc/ssl/certs/ca-certificates.crt`, `/etc/ssl/`).
pub(super) fn names_certificates(path: &str) -> bool {
    path.contains("/etc/ssl") || path.contains("ca-certificates")
}
