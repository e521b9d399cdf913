//! What the Kubernetes API server libraries do for a program by default: given no serving
//! certificate, `MaybeDefaultWithSelfSignedCerts` writes a self-signed one under
//! `apiserver.local.config/certificates`, relative to the working directory (`--cert-dir` moves
//! it), and custom-metrics-apiserver's adapters (`pkg/cmd`) call it for them and serve on 443,
//! `SecureServingOptions`' default (`--secure-port` moves it). As root in `/` both work; as 65532
//! neither does (prometheus-adapter and metrics-server users met both).

use super::{GoFile, Listen, Write};

/// The call that writes self-signed certificates where the program names none.
const SELF_SIGNED: &str = "MaybeDefaultWithSelfSignedCerts(";
/// custom-metrics-apiserver's command packages, which call it and keep the 443 default.
const ADAPTER: &str = "sigs.k8s.io/custom-metrics-apiserver/pkg/cmd";
/// Where the certificates go, relative to the working directory.
const CERT_DIR: &str = "apiserver.local.config/certificates";

/// Adds to `file` the writes and listens the libraries make for it, unless its text chooses the
/// certificates (`CertDirectory`, `CertFile`) or the port (`BindPort`) itself.
pub fn library_defaults(text: &str, file: &mut GoFile) {
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).map(|i| i + 1);
    let adapter = line_of(&format!("\"{ADAPTER}"));
    let chooses = |field: &str| text.contains(&format!(".{field} =")) || text.contains(&format!("{field}:"));
    if let Some(line) = line_of(SELF_SIGNED).or(adapter).filter(|_| !chooses("CertDirectory") && !chooses("CertFile")) {
        let how = "-cert-dir".to_string();
        file.writes.push(Write { line, path: CERT_DIR.into(), dir: true, how });
    }
    if let Some(line) = adapter.filter(|_| !chooses("BindPort")) {
        file.listens.push(Listen { line, port: 443, via: Some("-secure-port".into()) });
    }
}

#[cfg(test)]
mod tests {
    use super::super::scan;

    #[test]
    fn an_adapter_writes_certificates_in_its_working_directory_and_serves_on_443() {
        let text = "package server\n\nimport (\n\t\"sigs.k8s.io/custom-metrics-apiserver/pkg/cmd/options\"\n)\n";
        let file = scan(text);
        let writes: Vec<(&str, &str)> = file.writes.iter().map(|w| (w.path.as_str(), w.how.as_str())).collect();
        assert_eq!(writes, [("apiserver.local.config/certificates", "-cert-dir")]);
        assert_eq!((file.listens[0].port, file.listens[0].via.as_deref()), (443, Some("-secure-port")));
    }

    #[test]
    fn a_program_that_chooses_its_certificates_and_port_writes_nothing_there() {
        let own = "package vis\nfunc f() {\n\to.SecureServing.ServerCert.CertDirectory = certDir\n\tif err := o.SecureServing.MaybeDefaultWithSelfSignedCerts(\"localhost\", nil, nil); err != nil {\n\t}\n}\n";
        assert!(scan(own).writes.is_empty());
        let default = "package options\nfunc f() {\n\tif err := o.SecureServing.MaybeDefaultWithSelfSignedCerts(\"localhost\", nil, nil); err != nil {\n\t}\n}\n";
        let file = scan(default);
        assert_eq!((file.writes[0].line, file.listens.len()), (3, 0));
    }
}
