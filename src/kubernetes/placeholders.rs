//! Placeholders a script fills in before a manifest is applied (`image: {IMAGE}`,
//! `- ${REGISTRY}/app`, `image: @IMAGE@`, for sed or envsubst): a file that holds one is not the manifest that runs.

/// Keys whose values others expand when the file is applied as it is: a ConfigMap's or Secret's
/// data (the program that reads it), a CSI volume's attributes (the driver: cert-manager's
/// csi-driver fills in `${POD_NAME}`), a custom resource's `config:` (the program an operator
/// gives it to: Grafana's `ha_listen_address: "${POD_IP}:9094"`, the OpenTelemetry Collector's
/// `${env:VAR}`).
const EXPANDED_BY_READERS: &[&str] = &["data:", "stringData:", "volumeAttributes:", "config:"];

/// The first placeholder a script fills in before the file is applied, written as a value
/// outside the keys whose readers expand their own (see [`EXPANDED_BY_READERS`]).
pub(super) fn placeholder(text: &str) -> Option<String> {
    let mut inside: Option<usize> = None;
    text.lines().find_map(|line| {
        let indent = line.len() - line.trim_start().len();
        match inside {
            Some(at) if indent > at || line.trim().is_empty() => return None,
            _ => inside = None,
        }
        let line = line.trim_start().trim_start_matches("- ");
        // A comment is no value (`# role-arn: "<ROLE_ARN>"` shows how to fill one in).
        if line.starts_with('#') {
            return None;
        }
        if EXPANDED_BY_READERS.iter().any(|key| line.trim_end() == *key) {
            inside = Some(indent);
            return None;
        }
        let (key, value) = line.split_once(": ").unwrap_or(("", line));
        // An image is never expanded by Kubernetes: a placeholder anywhere in it is a script's
        // (`registry.k8s.io/cpa/autoscaler:{LATEST_RELEASE}`).
        if key == "image" {
            let braced = value
                .match_indices(['{', '<'])
                .find_map(|(at, _)| upper_name(&value[at..]).map(|name| written(value, at, name)));
            // envsubst's unbraced `$IMAGE_URL` too.
            let bare = || value.match_indices('$').find_map(|(at, _)| bare_name(&value[at + 1..]));
            // No image reference holds `<`: any text between angle brackets is for a reader to
            // fill in (`<DPDK testpmd image>`).
            let angled = || {
                let at = value.find('<')?;
                let end = value[at..].find('>').filter(|end| *end > 1)?;
                Some(value[at..=at + end].to_string())
            };
            // Between at signs, autoconf's and many sed scripts' (`@OPERATOR_IMAGE_URL@`).
            let at_signs = || {
                let name = value.trim_matches(['"', '\'']).strip_prefix('@')?.strip_suffix('@')?;
                upper_name(&format!("{{{name}}}")).map(|_| format!("@{name}@"))
            };
            return braced.or_else(bare).or_else(angled).or_else(at_signs);
        }
        let value = value.trim_start_matches(['"', '\'']);
        // `<NAME>` only in an image: elsewhere it is text (`"<b>"`, a document's example).
        let at = value.len() - value.trim_start_matches('$').len();
        upper_name(&value[at..]).filter(|name| name.starts_with('{')).map(|name| written(value, at, name))
    })
}

/// The placeholder `name` found at `at` in `value` as the file writes it: `${IMG}` after a `$`
/// (envsubst's), `%{IMG}%` between percent signs (k3s's), else `{IMG}`.
fn written(value: &str, at: usize, name: String) -> String {
    let (before, after) = (&value[..at], &value[at + name.len()..]);
    if before.ends_with('$') {
        format!("${name}")
    } else if before.ends_with('%') && after.starts_with('%') {
        format!("%{name}%")
    } else {
        name
    }
}

/// `{NAME}` (or, in an image, `<NAME>`, also `<YOUR-IMAGE>`) at the start of `text`, when NAME
/// is an upper-case identifier, written back.
fn upper_name(text: &str) -> Option<String> {
    let (open, close) = if text.starts_with('<') { ('<', '>') } else { ('{', '}') };
    let (name, _) = text.strip_prefix(open)?.split_once(close)?;
    let upper = name.len() > 1
        && name.starts_with(|c: char| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || (open == '<' && c == '-'));
    upper.then(|| format!("{open}{name}{close}"))
}

/// `$NAME` written without braces: the upper-case identifier at the start of `text` (after the
/// `$`), written back.
fn bare_name(text: &str) -> Option<String> {
    let end = text.find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')).unwrap_or(text.len());
    let name = &text[..end];
    (name.len() > 1 && name.starts_with(|c: char| c.is_ascii_uppercase())).then(|| format!("${name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_a_script_fills_in_is_a_placeholder() {
        assert_eq!(placeholder("spec:\n  image: {IMAGE}\n").as_deref(), Some("{IMAGE}"));
        assert_eq!(placeholder("args:\n- ${REGISTRY}/app\n").as_deref(), Some("${REGISTRY}"));
        assert_eq!(placeholder("  image: ${IMG}\n").as_deref(), Some("${IMG}"));
        assert_eq!(placeholder("  image: $IMAGE_URL\n").as_deref(), Some("$IMAGE_URL"));
        assert_eq!(placeholder("  image: <YOUR-CONTAINER>\n").as_deref(), Some("<YOUR-CONTAINER>"));
        assert_eq!(placeholder("  image: <DPDK testpmd image>\n").as_deref(), Some("<DPDK testpmd image>"));
        assert_eq!(placeholder("  image: ghcr.io/acme/app:1.0@sha256:ab\n"), None);
        let tag = "containers:\n- name: autoscaler\n  image: registry.k8s.io/cpa/autoscaler:{LATEST_RELEASE}\n";
        assert_eq!(placeholder(tag).as_deref(), Some("{LATEST_RELEASE}"));
        let k3s = "  image: \"%{SYSTEM_DEFAULT_REGISTRY}%rancher/mirrored-coredns:1.12\"\n";
        assert_eq!(placeholder(k3s).as_deref(), Some("%{SYSTEM_DEFAULT_REGISTRY}%"));
        assert_eq!(placeholder("  image: ghcr.io/acme/app:v1\n  args: [--name={name}]\n"), None);
        assert_eq!(placeholder("  image: <EXPORTER_IMAGE>\n").as_deref(), Some("<EXPORTER_IMAGE>"));
        assert_eq!(placeholder("  image: @OPERATOR_IMAGE_URL@\n").as_deref(), Some("@OPERATOR_IMAGE_URL@"));
        assert_eq!(placeholder("  image: ghcr.io/acme/app@sha256:ab\n"), None);
        assert_eq!(placeholder("  args: [\"<b>\"]\n  image: ghcr.io/acme/app:v1\n"), None);
        assert_eq!(placeholder("  annotations:\n    role-arn: \"<ROLE_ARN>\"\n"), None, "only an image's");
        assert_eq!(placeholder("  # image: {IMAGE}\n  image: ghcr.io/acme/app:v1\n"), None, "a comment");
    }

    #[test]
    fn values_their_readers_expand_are_not() {
        let csi = "volumes:\n  - name: tls\n    csi:\n      driver: csi.cert-manager.io\n      volumeAttributes:\n        csi.cert-manager.io/dns-names: ${POD_NAME}.${POD_NAMESPACE}.svc\n        csi.cert-manager.io/issuer-name: ca\n";
        assert_eq!(placeholder(csi), None);
        let config = "kind: ConfigMap\ndata:\n  AZURE_TENANT_ID: ${AZURE_TENANT_ID}\n---\nkind: Deployment\nspec:\n  image: {IMAGE}\n";
        assert_eq!(placeholder(config).as_deref(), Some("{IMAGE}"), "only the data is the reader's");
        let grafana = "kind: Grafana\nspec:\n  config:\n    unified_alerting:\n      ha_listen_address: \"${POD_IP}:9094\"\n  replicas: 2\n";
        assert_eq!(placeholder(grafana), None, "a custom resource's config is its program's");
    }
}
