//! What the Kubernetes API server libraries do for a program by default: given no serving
//! certificate, `MaybeDefaultWithSelfSignedCerts` writes a self-signed one under
//! `apiserver.local.config/certificates`, relative to the working directory (`--cert-dir` moves
//! it), and custom-metrics-apiserver's adapters (`pkg/cmd`) call it for them and serve on 443,
//! `SecureServingOptions`' default (`--secure-port` moves it). As root in `/` both work; as 65532
//! neither does (prometheus-adapter and metrics-server users met both). The server of weaveworks'
//! and Grafana's common libraries (`server.New`) listens on port 80 unless
//! `-server.http-listen-port` says another (cortex's test-exporter).

use super::{GoFile, Listen, Write};

/// The call that writes self-signed certificates where the program names none.
const SELF_SIGNED: &str = "MaybeDefaultWithSelfSignedCerts(";
/// custom-metrics-apiserver's command packages, which call it and keep the 443 default.
const ADAPTER: &str = "sigs.k8s.io/custom-metrics-apiserver/pkg/cmd";
/// Where the certificates go, relative to the working directory.
const CERT_DIR: &str = "apiserver.local.config/certificates";
/// The common libraries' server packages, whose `server.New` serves HTTP on port 80 by default.
const PORT_80_SERVERS: &[&str] = &["github.com/weaveworks/common/server", "github.com/grafana/dskit/server"];

/// The flag that moves the common libraries' server off port 80.
pub const SERVER_PORT_FLAG: &str = "-server.http-listen-port";

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
        file.listens.push(Listen { line, port: 443, via: Some("-secure-port".into()), field: false });
    }
    // A flag registered with the program's own default (`f.IntVar(&c.Server.HTTPListenPort,
    // "server.http-listen-port", 3200, …)`, Tempo's) chooses the port too, for every file.
    file.sets_server_port = chooses("HTTPListenPort") || text.contains("HTTPListenPort, \"");
    let common_server = PORT_80_SERVERS.iter().any(|p| text.contains(&format!("\"{p}\"")));
    if let Some(line) = line_of("server.New(").filter(|_| common_server && !file.sets_server_port) {
        file.listens.push(Listen { line, port: 80, via: Some(SERVER_PORT_FLAG.into()), field: false });
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
    fn the_common_libraries_server_listens_on_80_unless_given_a_port() {
        let text = "package main\n\nimport (\n\t\"github.com/weaveworks/common/server\"\n)\n\nfunc main() {\n\ts, _ := server.New(cfg)\n}\n";
        let file = scan(text);
        assert_eq!((file.listens[0].line, file.listens[0].port), (8, 80));
        assert!(scan(&text.replace("\ts, _", "\tcfg.HTTPListenPort = 8080\n\ts, _")).listens.is_empty());
        let flag = "package app\n\nfunc (c *Config) Register(f *flag.FlagSet) {\n\tf.IntVar(&c.Server.HTTPListenPort, \"server.http-listen-port\", 3200, \"HTTP port.\")\n}\n";
        assert!(scan(flag).sets_server_port, "a flag's default of the program's own");
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
