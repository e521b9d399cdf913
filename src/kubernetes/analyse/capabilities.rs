//! A container's capabilities: it drops ALL (in the case Pod Security admission reads), what it
//! adds is kept and reported, and NET_BIND_SERVICE is added back for a binary given it by setcap.

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
        let adds: Vec<&str> = caps
            .and_then(|c| c.get("add"))
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let bind = |a: &&str| matches!(*a, "NET_BIND_SERVICE" | "CAP_NET_BIND_SERVICE");
        let added: Vec<&str> = adds.iter().copied().filter(|a| !bind(a)).collect();
        if !added.is_empty() {
            let message = format!("{who} adds capabilities {}; harden keeps them", added.join(", "));
            self.finding(&rules::ADDED_CAPABILITIES, c.line, message, false);
        }
        // A binary given NET_BIND_SERVICE by setcap keeps it under no_new_privs only where the
        // container's capabilities hold it: beside drop ALL, it is added back.
        let image = c.value.get("image").and_then(Value::as_str).unwrap_or_default();
        let setcap =
            self.context.file_capabilities(image).filter(|(_, _, caps)| caps.iter().any(|c| c == "NET_BIND_SERVICE"));
        if let Some((dockerfile, line, _)) = setcap.filter(|_| !adds.iter().any(bind)) {
            let message = format!(
                "{who} runs {image}, whose binary gets NET_BIND_SERVICE from setcap ({}:{line}): with allowPrivilegeEscalation: false a file capability is kept only where the container's capabilities hold it, and drop ALL takes it away; fix sets capabilities.add: [NET_BIND_SERVICE], which the restricted profile allows",
                dockerfile.display()
            );
            self.finding(&rules::FILE_CAPABILITY, c.line, message, true);
            match caps.and_then(|c| c.get("add")) {
                Some(Value::Sequence(_)) => {
                    let p = self.in_container(c, &["securityContext", "capabilities", "add"]);
                    self.append(&rules::FILE_CAPABILITY, p, string("NET_BIND_SERVICE"));
                }
                _ if caps.is_some() => {
                    let p = self.in_container(c, &["securityContext", "capabilities", "add"]);
                    self.set(&rules::FILE_CAPABILITY, p, Value::Sequence(vec![string("NET_BIND_SERVICE")]));
                }
                // The map harden writes below carries it.
                _ => {}
            }
        }
        let add_to_new = setcap.is_some() && caps.is_none();
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
            self.set(&rules::CAPABILITIES, p, string("ALL"));
            return;
        }
        let named = drops.iter().filter_map(Value::as_str).count();
        let message = match named {
            // A list of names, however long (every default capability), is not what the
            // restricted profile reads: ALL, which takes them in, replaces it.
            2.. if named == drops.len() => format!(
                "{who} drops {named} capabilities by name, not ALL, which the restricted profile asks for; fix replaces the list with ALL, which takes them in"
            ),
            _ => format!("{who} does not drop ALL capabilities"),
        };
        self.finding(&rules::CAPABILITIES, c.line, message, true);
        match (caps, drop) {
            (None, _) => {
                let p = self.in_container(c, &["securityContext", "capabilities"]);
                let drop_all = ("drop", Value::Sequence(vec![string("ALL")]));
                let value = match add_to_new {
                    true => map([drop_all, ("add", Value::Sequence(vec![string("NET_BIND_SERVICE")]))]),
                    false => map([drop_all]),
                };
                self.set(&rules::CAPABILITIES, p, value);
            }
            (Some(_), Some(Value::Sequence(items))) if items.is_empty() || named < items.len() => {
                let p = self.in_container(c, &["securityContext", "capabilities", "drop"]);
                self.append(&rules::CAPABILITIES, p, string("ALL"));
            }
            // ALL takes in the capabilities dropped by name (`drop: [NET_RAW]` → `drop: [ALL]`).
            (Some(_), _) => {
                let p = self.in_container(c, &["securityContext", "capabilities", "drop"]);
                self.set(&rules::CAPABILITIES, p, Value::Sequence(vec![string("ALL")]));
            }
        }
    }
}
