//! HTTPS addresses a program calls: a server whose certificate it verifies against the system's
//! CA certificates.

/// An HTTPS address the code names (`"https://update.example.com/v1/channels"`): the program
/// verifies that server's certificate against the system's CA certificates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Https {
    /// 1-based line in the file.
    pub line: usize,
    /// The address as written.
    pub url: String,
}

/// The HTTPS address a line of code calls, or names as an address to call (`http_file`: the file
/// imports net/http): the literal (`"https://update.example.com/channels"`, a host given) in an
/// HTTP or dial call, or given to a name for one in such a file (`ChannelServerURL = "https://…"`,
/// `endpoint: "https://…"`); not a link in help text or a comment (a `#` fragment), a scheme
/// checked (`strings.HasPrefix(s, "https://")`), nor a cluster's own service, whose certificate
/// the cluster's CA signs (`https://kubernetes.default.svc`).
pub(super) fn https_call(code: &str, http_file: bool) -> Option<String> {
    let at = code.find("\"https://")?;
    let url = code[at + 1..].split('"').next()?;
    let host = url["https://".len()..].split(['/', ':']).next().unwrap_or_default();
    let in_cluster = host.ends_with(".svc") || host.contains(".svc.") || host.ends_with(".local");
    if !(host.contains('.') || host.contains('%')) || in_cluster || url.contains('#') {
        return None;
    }
    const CALLS: &[&str] = &[
        "http.Get(",
        "http.Post(",
        "http.Head(",
        "http.PostForm(",
        "NewRequest(",
        "NewRequestWithContext(",
        "url.Parse(",
        "Dial(",
    ];
    let before = code[..at].trim_end();
    let named =
        before.strip_suffix(":=").or(before.strip_suffix('=')).or(before.strip_suffix(':')).is_some_and(|name| {
            // The declared name, typed or not (`const ServerURL string =`).
            let name = name.to_ascii_lowercase();
            let words = name.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty());
            words.rev().take(2).any(|w| ["url", "endpoint", "server", "api", "addr"].iter().any(|k| w.contains(k)))
        });
    ((named && http_file) || CALLS.iter().any(|c| before.contains(c))).then(|| url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_addresses_called_not_linked() {
        let called = [
            "const ChannelServerURL string = \"https://update.example.com/v1/channels\"",
            "resp, err := http.Get(\"https://api.example.com/v2/releases\")",
            "endpoint: \"https://%s.blob.example.net\",",
        ];
        for code in called {
            assert!(https_call(code, true).is_some(), "{code}");
        }
        // A name for an address counts in a file that makes HTTP calls.
        assert!(https_call(called[0], false).is_none());
        let not_called = [
            "Long: `Create a node; see https://docs.example.com`,",
            "if strings.HasPrefix(name, \"https://\") {",
            "cmd.Flags().String(\"mirror\", \"\", \"a mirror, see \\\"https://docs.example.com\\\"\")",
            "u := \"https://localhost\"",
            "HintBaseURL = \"https://docs.example.com/checks/#\"",
            "resp, err := http.Get(\"https://kubernetes.default.svc/version\")",
        ];
        for code in not_called {
            assert!(https_call(code, true).is_none(), "{code}");
        }
    }
}
