//! Rules turned off, and where: everywhere by the configuration's `disable`, in one Dockerfile by
//! a `# harden ignore=HD106` comment, for one workload by its `harden.dev/ignore: "HK201,HK207"`
//! annotation. A rule turned off is neither reported nor fixed there, as ruff fixes no rule it
//! ignores: a team that keeps an image on root on purpose says so once, its gate (`--fail-on
//! error`) passes, and harden stops proposing the user switch.

use crate::config::Config;
use crate::rules;

/// What a Dockerfile comment says before the rule ids it turns off for the file.
pub const COMMENT: &str = "harden ignore=";
/// The workload annotation whose value lists the rule ids it turns off for the workload.
pub const ANNOTATION: &str = "harden.dev/ignore";

/// The rules turned off for one file or workload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RulesOff(Vec<&'static str>);

impl RulesOff {
    /// The rules the configuration turns off everywhere.
    pub fn configured(config: &Config) -> Self {
        RulesOff(rules::ALL.iter().filter(|r| config.is_disabled(r.id)).map(|r| r.id).collect())
    }

    /// The rules turned off for a Dockerfile: the configuration's and its own comments' (an
    /// unknown id in them is reported where the file is read).
    pub fn of_dockerfile(config: &Config, text: &str) -> Self {
        RulesOff::configured(config).and(&in_dockerfile(text).unwrap_or_default())
    }

    /// These rules and `ids` too.
    pub fn and(mut self, ids: &[&'static str]) -> Self {
        self.0.extend(ids.iter().filter(|id| !self.0.contains(id)).collect::<Vec<_>>());
        self
    }

    /// True when the rule `id` is turned off.
    pub fn has(&self, id: &str) -> bool {
        self.0.iter().any(|r| r.eq_ignore_ascii_case(id))
    }
}

/// The rule ids of a list (`HK201,HK207`, `HK201, HK207`), or what is wrong with the first word
/// that names no rule.
pub fn parse_ids(list: &str) -> Result<Vec<&'static str>, String> {
    list.split([',', ' ', '\t'])
        .filter(|w| !w.is_empty())
        .map(|w| rules::by_id(w).map(|r| r.id).ok_or_else(|| format!("unknown rule id {w:?} (see `harden rules`)")))
        .collect()
}

/// The rules a Dockerfile's `# harden ignore=HD106,HD101 reason` comments turn off for the file,
/// or the line (1-based) and message of an id that names no rule. The ids end at the first space:
/// what follows is the reason, for the reader.
pub fn in_dockerfile(text: &str) -> Result<Vec<&'static str>, (usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(ids) = line.trim_start().strip_prefix('#').map(str::trim_start).and_then(|c| c.strip_prefix(COMMENT))
        else {
            continue;
        };
        let ids = ids.split_whitespace().next().unwrap_or_default();
        let parsed = parse_ids(ids).map_err(|e| (i + 1, format!("{e} in `# {COMMENT}`")))?;
        if parsed.is_empty() {
            return Err((i + 1, format!("`# {COMMENT}` names no rule id (`# {COMMENT}HD106 reason`)")));
        }
        out.extend(parsed);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_turns_rules_off_for_the_file_and_keeps_its_reason_apart() {
        let text = "FROM alpine\n# harden ignore=HD106,hd101 binds port 53\nUSER root\n";
        assert_eq!(in_dockerfile(text).unwrap(), vec!["HD106", "HD101"]);
        let off = RulesOff::default().and(&in_dockerfile(text).unwrap());
        assert!(off.has("HD106") && off.has("hd101") && !off.has("HD104"));
    }

    #[test]
    fn an_unknown_id_is_an_error_at_its_line() {
        let (line, message) = in_dockerfile("FROM alpine\n\n#harden ignore=HD999\n").unwrap_err();
        assert_eq!(line, 3);
        assert!(message.contains("HD999"), "{message}");
        assert!(in_dockerfile("# harden ignore= later\n").is_err());
    }

    #[test]
    fn annotation_lists_take_commas_and_spaces() {
        assert_eq!(parse_ids("HK201, HK207").unwrap(), vec!["HK201", "HK207"]);
        assert!(parse_ids("HK201,nope").unwrap_err().contains("nope"));
    }

    #[test]
    fn the_configuration_turns_rules_off_everywhere() {
        let config = Config::from_yaml("disable: [HD113]\n", std::path::Path::new("x.yml")).unwrap();
        let off = RulesOff::configured(&config);
        assert!(off.has("HD113") && !off.has("HD106"));
    }
}
