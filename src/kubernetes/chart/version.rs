//! A chart's version in its `Chart.yaml`, raised by a patch release for a change to its values
//! (chart-testing's lint fails a changed chart whose version stays).

/// A chart's version raised.
pub struct Raised {
    /// The version `Chart.yaml` gave.
    pub from: String,
    /// The next patch version.
    pub to: String,
    /// `Chart.yaml` with it.
    pub text: String,
    /// The 1-based line of `version:`.
    pub line: usize,
}

/// The chart's version in `Chart.yaml`'s text raised to the next patch version, its quotes and
/// comments kept; or why it cannot be (no top-level `version:`, or one of fewer than three
/// numbers or with a pre-release or build part, whose next one is the maintainers' choice).
pub fn raise_patch(chart_yaml: &str) -> Result<Raised, String> {
    let mut at = 0;
    for (number, line) in chart_yaml.split_inclusive('\n').enumerate() {
        if let Some(rest) = line.strip_prefix("version:") {
            let value = rest.split(" #").next().unwrap_or_default().trim();
            let quote = value.chars().next().filter(|c| matches!(c, '"' | '\''));
            let version = quote.map_or(value, |q| value.trim_matches(q));
            let parts: Vec<&str> = version.strip_prefix('v').unwrap_or(version).split('.').collect();
            let numbers: Option<Vec<u64>> = parts.iter().map(|p| p.parse().ok()).collect();
            let Some([major, minor, patch]) = numbers.as_deref() else {
                return Err(format!(
                    "its version {version} is not three numbers alone (major.minor.patch: it has fewer, or a pre-release or build part), so which comes next is the maintainers' choice"
                ));
            };
            let prefix = if version.starts_with('v') { "v" } else { "" };
            let next = format!("{prefix}{major}.{minor}.{}", patch + 1);
            let start = at + line.find(version).unwrap_or_default();
            let text = format!("{}{next}{}", &chart_yaml[..start], &chart_yaml[start + version.len()..]);
            return Ok(Raised { from: version.to_string(), to: next, text, line: number + 1 });
        }
        at += line.len();
    }
    Err("its Chart.yaml has no version line harden can read".into())
}

/// The version of a chart that is its `appVersion` too (`version: 26.6.0`, `appVersion:
/// "26.6.0"`): each release of the program sets both, so the next patch version is that
/// release's number, not one to take for a change of values.
pub fn app_version(chart_yaml: &str) -> Option<&str> {
    let value = |key: &str| {
        let line = chart_yaml.lines().find_map(|l| l.strip_prefix(key))?;
        Some(line.split(" #").next()?.trim().trim_matches(['"', '\'']).trim_start_matches('v'))
    };
    value("version:").filter(|v| !v.is_empty() && value("appVersion:") == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_that_is_the_app_version_is_told() {
        assert_eq!(app_version("version: 26.6.0\nappVersion: \"v26.6.0\" # the operator's\n"), Some("26.6.0"));
        assert_eq!(app_version("version: 0.4.7\nappVersion: 2.1.0\n"), None);
        assert_eq!(app_version("name: relay\n"), None);
    }

    #[test]
    fn the_patch_version_goes_up_and_the_rest_stays() {
        let chart =
            "apiVersion: v2\nname: relay\n# bumped by hand\nversion: \"0.20.9\" # keep in step\nappVersion: 1.4.0\n";
        let raised = raise_patch(chart).unwrap();
        assert_eq!((raised.from.as_str(), raised.to.as_str(), raised.line), ("0.20.9", "0.20.10", 4));
        assert_eq!(raised.text, chart.replace("\"0.20.9\"", "\"0.20.10\""));
        assert_eq!(raise_patch("name: x\nversion: v1.2.3\n").unwrap().to, "v1.2.4");
        assert!(raise_patch("name: x\nversion: 1.0.0-rc.1\n").is_err(), "a pre-release");
        assert!(raise_patch("name: x\n").is_err(), "no version");
    }
}
