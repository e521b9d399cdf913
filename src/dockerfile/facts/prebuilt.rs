//! The Go binary a runtime-only Dockerfile copies in, built before `docker build` (GoReleaser,
//! promu, a CI step): which file it is and where the image starts it.

use super::super::image::Family;
use super::super::model::Stage;
use super::{Facts, is_cargo_output, is_script_name, join_path};

impl Facts<'_> {
    /// The file that a runtime-only Dockerfile copies from the build context and starts, when it
    /// runs on a shell-less image (distroless, scratch), busybox or a distribution (alpine,
    /// debian, ubuntu) in a repository of Go source (or one GoReleaser builds): a Go binary built
    /// before `docker build` (GoReleaser, promu, a CI step). `None` otherwise.
    pub fn prebuilt_binary(&self) -> Option<String> {
        // Other stages may only prepare files (certificates from an alpine or golang stage): none
        // runs Go.
        let prepared_only = self.builds().next().is_none() && self.go_runs.is_empty();
        if !(self.df.stages.len() == 1 || prepared_only)
            || !(self.source.available || self.source.orchestration.released.is_some())
        {
            return None;
        }
        let stage = self.runtime_stage();
        // A distribution's image, not Go's: no stage of the file runs Go at all.
        let family = self.base_image(stage).map(|b| b.family());
        let distribution = family.is_some_and(|f| f.is_fat() && f != Family::Golang) && prepared_only;
        if !(family.is_some_and(|f| f.is_shell_less() || f == Family::Busybox) || distribution) {
            return None;
        }
        let mut program = match self.started_program(stage) {
            Some(program) => program,
            // No command of its own on a distribution: what runs the image names the program,
            // and the one file copied in that is named after a program of the module is it.
            None if distribution && self.entrypoint_and_cmd(stage) == (None, None) => {
                self.module_program_copied(stage)?
            }
            None => return None,
        };
        // On a distribution, an entrypoint script given the binary as its command
        // (`ENTRYPOINT ["docker-entrypoint.sh"]`, `CMD ["./listmonk"]`) starts it.
        if is_script_name(&program) && distribution {
            let (Some(_), Some(cmd)) = self.entrypoint_and_cmd(stage) else { return None };
            program = super::super::runtime::started_program(cmd)?;
        }
        // `/bin/$BIN_NAME`, with the value the image gives it.
        let program = self.expand(stage, stage.instructions.len(), &program).unwrap_or(program);
        let name = program.rsplit('/').next()?.to_string();
        if is_script_name(&name) {
            return None;
        }
        // `./listmonk` is where the image starts in.
        let cwd = self.workdir_at(stage, stage.instructions.len());
        let resolved = if program.contains('/') { join_path(&cwd, &program) } else { program.clone() };
        // `COPY pomerium* /bin/` puts the program at `/bin/pomerium` too.
        let matches_glob = |target: &str| {
            let (dir, file) = target.rsplit_once('/').unwrap_or(("", target));
            let glob = globset::Glob::new(file).map(|g| g.compile_matcher());
            file.contains(['*', '?', '['])
                && resolved.rsplit_once('/').is_some_and(|(d, _)| d == dir)
                && glob.is_ok_and(|g| g.is_match(&name))
        };
        let named = |target: &str| {
            target == resolved
                || (!program.contains('/') && target.ends_with(&format!("/{name}")))
                || matches_glob(target)
        };
        // `COPY dist/$TARGETOS/$TARGETARCH/$BIN_NAME /` with `ENTRYPOINT ["/http-echo"]`: a name
        // the build passes, which must be the program's for the image to start, in its directory.
        let passed_name = |target: &str| {
            let (dir, file) = target.rsplit_once('/').unwrap_or(("", target));
            let bare = super::super::variables::only_variable(file).is_some();
            bare && resolved.rsplit_once('/').is_some_and(|(d, _)| d == dir)
        };
        let copies = self.copied(stage);
        let passed = copies.iter().filter(|c| c.copy.from.is_none() && passed_name(&c.target)).count();
        let copied = match copies.iter().position(|c| named(&c.target)) {
            Some(at) => copies.into_iter().nth(at)?,
            // It lands where the command starts it when the build passes the program's name.
            None if passed == 1 => return Some(resolved),
            None => return None,
        };
        if is_cargo_output(copied.source) {
            return None;
        }
        let Some(from) = copied.copy.from.as_deref() else {
            return Some(if matches_glob(&copied.target) { resolved } else { copied.target });
        };
        // Through a stage that took it from the build context (an alpine stage that gathers
        // certificates and `COPY dist/app /bin/app`), or that takes the context's `dist`
        // and picks out a file named after a program of the module (`cp dist/app_linux_amd64/app .`).
        let gathering = self.df.stage_named(from)?;
        let from_context = self.copied(gathering).iter().any(|c| c.copy.from.is_none() && c.target == copied.source);
        let copied_name = copied.source.rsplit('/').next().unwrap_or_default().to_string();
        // A stage that only picks, on no Go toolchain and running no make, built nothing.
        let builds_nothing = self.base_image(gathering).is_some_and(|b| !b.is_go_toolchain())
            && !gathering.instructions.iter().flat_map(|i| i.body.run_commands()).any(|c| {
                c.argv().first().is_some_and(|w| matches!(w.value.as_str(), "make" | "go") || is_script_name(&w.value))
            });
        let picked = builds_nothing
            && self.copied(gathering).iter().any(|c| c.copy.from.is_none())
            && !is_script_name(&copied_name)
            && self.source.main_package_named(&[copied_name]).is_some();
        (from_context || picked).then_some(copied.target)
    }

    /// Where `stage` puts the one file it copies from the build context that is named after a
    /// `main` package of the module (`COPY bin/chaos-controller-manager /usr/local/bin/`).
    fn module_program_copied(&self, stage: &Stage) -> Option<String> {
        let mut found = self.copied(stage).into_iter().filter(|c| c.copy.from.is_none()).filter(|c| {
            let name = c.target.rsplit('/').next().unwrap_or_default().to_string();
            !is_script_name(&name) && self.source.main_package_named(&[name]).is_some()
        });
        found.next().filter(|_| found.next().is_none()).map(|c| c.target)
    }
}
