//! The ports below 1024 a line of Go listens on: a listen call's literal address, a server's
//! `Addr:`, a flag's default, a variable's fallback or an environment variable's default.

use super::needles::LISTEN_CALLS;
use super::{after, all_strings, first_string, flag_default};

/// A listen on a port below 1024.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    /// 1-based line in the file.
    pub line: usize,
    /// The port.
    pub port: u16,
    /// What sets it, when it is a default: `-addr` (a flag) or `PORT` (an environment variable).
    pub via: Option<String>,
    /// True for a struct field's literal (`Addr: ":443"`): a server's address, or a
    /// configuration's default that its file or environment may set.
    pub field: bool,
}

/// The low ports a line listens on, pushed onto `out`; the variable's name where the port is a
/// variable's fallback (`listen = ":80"`), which a flag may set.
pub(super) fn listens(code: &str, line: usize, main: bool, out: &mut Vec<Listen>) -> Option<String> {
    let literal_port = |s: &str| port_of(s).filter(|p| *p < 1024);
    for call in LISTEN_CALLS {
        if let Some(port) = after(code, call).and_then(first_string).and_then(|s| literal_port(&s)) {
            out.push(Listen { line, port, via: None, field: false });
            return None;
        }
    }
    if let Some(port) = after(code, "Addr:").and_then(first_string).and_then(|s| literal_port(&s)) {
        out.push(Listen { line, port, via: None, field: true });
        return None;
    }
    if let Some((name, default)) = flag_default(code) {
        let lower = name.to_ascii_lowercase();
        // A library's flag is the program's too once the program registers it (`RegisterFlags(f
        // *flag.FlagSet)`, as cortex and dskit servers do): counted where its name says a
        // server listens on it (`-server.http-listen-port`), not a client's `-backend.port`.
        let says_listen = if main {
            ["addr", "port", "listen", "bind"].iter().any(|w| lower.contains(w))
        } else {
            ["listen", "bind"].iter().any(|w| lower.contains(w))
                || (lower.contains("server") && ["addr", "port"].iter().any(|w| lower.contains(w)))
        };
        if says_listen
            && !counts_not_port(&lower)
            && !names_another_server(&lower)
            && let Some(port) = port_of(&default).filter(|p| *p < 1024)
        {
            out.push(Listen { line, port, via: Some(format!("-{name}")), field: false });
            return None;
        }
    }
    if !main {
        return None;
    }
    // A fallback assigned to a variable named for it: `port = "80"`, `addr := ":443"`.
    if let Some((written, value)) = code.split_once('=') {
        let written = written.trim_end_matches(':').trim();
        let written = written.strip_prefix("var ").or_else(|| written.strip_prefix("const ")).unwrap_or(written).trim();
        let name = written.to_ascii_lowercase();
        let named = ["port", "addr", "listen"].iter().any(|w| name.ends_with(w) || name == *w);
        if named
            && !name.contains(' ')
            && let Some(port) = first_string(value).and_then(|s| port_of(&s).or(service_port(&s))).filter(|p| *p < 1024)
        {
            out.push(Listen { line, port, via: None, field: false });
            return Some(written.to_string());
        }
    }
    // A helper that reads an environment variable with a default: getEnv("PORT", "80"), or a
    // number's: env_int("HTTPS_PORT", 443).
    let strings = all_strings(code);
    let number = |name: &String| {
        let rest = code.split_once(&format!("\"{name}\""))?.1.trim_start().strip_prefix(',')?.trim_start();
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        rest[digits.len()..].trim_start().starts_with([')', ',']).then_some(digits)
    };
    let default = match strings.as_slice() {
        [name, default, ..] => Some((name, default.clone())),
        [name] => number(name).map(|n| (name, n)),
        [] => None,
    };
    if let Some((name, default)) = default
        && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && ["PORT", "ADDR", "LISTEN"].iter().any(|w| name.contains(w))
        && !counts_not_port(&name.to_ascii_lowercase())
        && let Some(port) = port_of(&default).filter(|p| *p < 1024)
    {
        out.push(Listen { line, port, via: Some(name.clone()), field: false });
    }
    None
}

/// True for a setting named for a number about ports that is not one (dgraph's `-port_offset`
/// 100, added to each port; a `PORT_RETRIES` count).
fn counts_not_port(name: &str) -> bool {
    ["offset", "timeout", "retries", "retry", "count", "interval"].iter().any(|w| name.contains(w))
}

/// True for a flag named for the port of a server the program connects to (lite-apiserver's
/// `-kube-apiserver-port` 443, an `-upstream-addr`), not one it listens on.
fn names_another_server(name: &str) -> bool {
    !["listen", "bind"].iter().any(|w| name.contains(w))
        && ["apiserver", "upstream", "remote", "backend", "target", "peer", "etcd"].iter().any(|w| name.contains(w))
}

/// The port of `":80"`, `"0.0.0.0:443"`, `"localhost:80"` or `"80"`.
fn port_of(address: &str) -> Option<u16> {
    address.rsplit(':').next()?.parse().ok().filter(|p| *p > 0)
}

/// The port of a named service address (`":http"`, `":https"`).
fn service_port(address: &str) -> Option<u16> {
    match address.rsplit(':').next()? {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_read_from_addresses() {
        assert_eq!(port_of(":80"), Some(80));
        assert_eq!(port_of("0.0.0.0:443"), Some(443));
        assert_eq!(port_of("localhost:80"), Some(80));
        assert_eq!(port_of("80"), Some(80));
        assert_eq!(port_of("/var/run/app.sock"), None);
    }

    #[test]
    fn an_offset_added_to_ports_is_no_port() {
        let read = |code: &str| {
            let mut out = Vec::new();
            listens(code, 1, true, &mut out);
            out.iter().map(|l| l.port).collect::<Vec<u16>>()
        };
        assert_eq!(
            read(r#"cmd.Flags().IntVarP(&opts.PortOffset, "port_offset", "o", 100, "added to every port")"#),
            Vec::<u16>::new()
        );
        assert_eq!(read(r#"flag.Int("port", 80, "the port to listen on")"#), [80]);
        // The port of the server it connects to is none it listens on.
        let upstream = r#"fs.IntVar(&o.KubeApiserverPort, "kube-apiserver-port", 443, "the apiserver's port")"#;
        assert_eq!(read(upstream), Vec::<u16>::new());
        assert_eq!(read(r#"flag.String("upstream-listen-addr", ":443", "")"#), [443]);
        // An environment helper's default, a string or a number.
        assert_eq!(read(r#"port := env_int("HTTPS_PORT", 443)"#), [443]);
        assert_eq!(read(r#"p := getEnv("WHOAMI_PORT_NUMBER", "80")"#), [80]);
        assert_eq!(read(r#"n := envInt("PORT_RETRIES", 3)"#), Vec::<u16>::new());
        assert_eq!(read(r#"port := envInt("HTTPS_PORT", 8443)"#), Vec::<u16>::new());
    }
}
