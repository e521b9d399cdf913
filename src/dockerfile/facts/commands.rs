//! What the image's commands say: the program a stage starts (behind an init), what builds the
//! program when no `go build` does, and the file capabilities `setcap` gives.

use super::Facts;
use crate::dockerfile::model::Stage;

/// Init programs that start the command after them and reap its children.
const INITS: &[&str] = &["tini", "tini-static", "dumb-init", "catatonit"];

impl<'a> Facts<'a> {
    /// The program `stage` starts: the first word of its ENTRYPOINT (else CMD), or, behind an
    /// init that reaps zombies (`tini -- /bin/app`, `dumb-init /bin/app`), the command it starts.
    pub fn started_program(&self, stage: &'a Stage) -> Option<String> {
        let (entrypoint, cmd) = self.entrypoint_and_cmd(stage);
        let words = entrypoint.or(cmd)?.words();
        let first = words.first()?;
        if !INITS.contains(&first.rsplit('/').next().unwrap_or(first)) {
            return Some(first.clone());
        }
        let rest = &words[1..];
        match rest.iter().position(|w| w == "--") {
            Some(at) => rest.get(at + 1).cloned(),
            None => rest.iter().find(|w| !w.starts_with('-')).cloned(),
        }
    }

    /// The first `make` or script a `RUN` runs (`make falcosidekick`, `./build.sh linux`), as
    /// written, up to its first three words: what builds the program when no `go build` does.
    pub fn build_command(&self) -> Option<String> {
        self.df.stages.iter().flat_map(|s| &s.instructions).flat_map(|i| i.body.run_commands()).find_map(|command| {
            let argv: Vec<&str> = command.argv().iter().map(|t| t.value.as_str()).collect();
            let program = argv.first()?.rsplit('/').next()?;
            let builds = matches!(program, "make" | "gmake" | "mage" | "task" | "just") || program.ends_with(".sh");
            builds.then(|| argv.iter().take(3).copied().collect::<Vec<_>>().join(" "))
        })
    }

    /// The capabilities `setcap` gives a file in any stage (`setcap cap_net_bind_service=+ep
    /// /coredns` → `NET_BIND_SERVICE`), with the first such step's line: a binary that carries
    /// them gains them at exec, whatever its user, where the container's capabilities hold them.
    pub fn file_capabilities(&self) -> Option<(usize, Vec<String>)> {
        let mut found: Option<(usize, Vec<String>)> = None;
        for inst in self.df.stages.iter().flat_map(|s| &s.instructions) {
            for command in inst.body.run_commands() {
                let argv = command.argv();
                // `setcap -v` only verifies.
                if argv.first().is_none_or(|p| p.value.rsplit('/').next() != Some("setcap"))
                    || argv.iter().any(|w| w.value == "-v")
                {
                    continue;
                }
                let granted = argv[1..].iter().filter(|w| w.value.to_ascii_lowercase().starts_with("cap_"));
                let names = granted.flat_map(|w| {
                    let list = w.value.split(['=', '+', '-']).next().unwrap_or_default().to_ascii_uppercase();
                    list.split(',').map(|c| c.trim_start_matches("CAP_").to_string()).collect::<Vec<_>>()
                });
                let (_, caps) = found.get_or_insert((inst.line, Vec::new()));
                for name in names {
                    if !caps.contains(&name) {
                        caps.push(name);
                    }
                }
            }
        }
        found.filter(|(_, caps)| !caps.is_empty())
    }
}
