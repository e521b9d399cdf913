//! A container's capabilities: it drops ALL (in the case Pod Security admission reads), and
//! what it adds is kept and reported.

use yaml_serde::Value;

use crate::kubernetes::change::{map, string};
use crate::kubernetes::workload::Container;
use crate::rules;

use super::Planner;

impl<'w> Planner<'w, '_> {
    /// Plans a container's dropped capabilities: ALL, written so Pod Security admission reads it,
    /// keeping what it adds (reported unless NET_BIND_SERVICE).
    pub(super) fn capabilities(&mut self, c: &Container<'_>, who: &str) {
        let caps = c.value.get("securityContext").and_then(|s| s.get("capabilities"));
        let added: Vec<&str> = caps
            .and_then(|c| c.get("add"))
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|a| !matches!(*a, "NET_BIND_SERVICE" | "CAP_NET_BIND_SERVICE"))
            .collect();
        if !added.is_empty() {
            let message = format!("{who} adds capabilities {}; harden keeps them", added.join(", "));
            self.finding(&rules::ADDED_CAPABILITIES, c.line, message, false);
        }
        let drop = caps.and_then(|c| c.get("drop"));
        let drops = drop.and_then(Value::as_sequence).map(Vec::as_slice).unwrap_or_default();
        if drops.iter().any(|v| v.as_str() == Some("ALL")) {
            return;
        }
        // The runtime reads `all` in any case; Pod Security admission only accepts `ALL` (not
        // `all`, nor a wildcard `*`).
        let all_meant = |s: &str| s.eq_ignore_ascii_case("all") || s == "*";
        if let Some(index) = drops.iter().position(|v| v.as_str().is_some_and(all_meant)) {
            let written = drops[index].as_str().unwrap_or_default();
            let message = format!("{who} drops {written:?}, which Pod Security admission does not read as ALL");
            self.finding(&rules::CAPABILITIES, c.line, message, true);
            let p = self.in_container(c, &["securityContext", "capabilities", "drop", &index.to_string()]);
            self.set(p, string("ALL"));
            return;
        }
        self.finding(&rules::CAPABILITIES, c.line, format!("{who} does not drop ALL capabilities"), true);
        match (caps, drop) {
            (None, _) => {
                let p = self.in_container(c, &["securityContext", "capabilities"]);
                self.set(p, map([("drop", Value::Sequence(vec![string("ALL")]))]));
            }
            (Some(_), Some(Value::Sequence(_))) => {
                let p = self.in_container(c, &["securityContext", "capabilities", "drop"]);
                self.append(p, string("ALL"));
            }
            (Some(_), _) => {
                let p = self.in_container(c, &["securityContext", "capabilities", "drop"]);
                self.set(p, Value::Sequence(vec![string("ALL")]));
            }
        }
    }
}
