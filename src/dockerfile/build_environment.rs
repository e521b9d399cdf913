//! Dockerfiles that make an environment to build or package the program in, not an image
//! that runs it as a service.

use super::{facts, gobuild, image, model};

/// Packages that build .rpm or .deb packages.
const PACKAGING_TOOLS: &[&str] =
    &["rpm-build", "rpmdevtools", "rpmbuild", "dpkg-dev", "devscripts", "debhelper", "dh-make", "nfpm", "alien"];

/// Why the image is an environment that builds or packages the program, not a service: a last
/// stage with no command that installs packaging tools, or a Go toolchain that builds nothing
/// itself and starts a shell, a script or make.
pub(super) fn build_environment(facts: &facts::Facts<'_>, command: Option<&model::CommandForm>) -> Option<String> {
    let stage = facts.runtime_stage();
    // A last stage with no command that installs packaging tools (`rpm-build`, `devscripts`):
    // it packs the program into a .rpm or .deb when make or a script runs it.
    let packager =
        (stage.instructions.iter().flat_map(facts::installed_packages)).find(|p| PACKAGING_TOOLS.contains(&p.as_str()));
    if let (None, Some(tool)) = (command, packager) {
        return Some(format!(
            "its last stage installs {tool} and has no command: it packages the program (make or a script runs it), it does not run it as a service"
        ));
    }
    let toolchain = facts.base_image(stage).is_some_and(image::ImageRef::is_go_toolchain)
        || stage
            .instructions
            .iter()
            .any(|i| matches!(&i.body, model::Body::Copy(c) if c.from.is_some() && c.sources.iter().any(|s| s.trim_end_matches('/') == "/usr/local/go")))
        || stage.instructions.iter().any(|i| i.body.run_commands().iter().any(unpacks_go_release));
    if !toolchain {
        return None;
    }
    // Tools installed from other modules (`go install golang.org/x/tools/...@v0.20.0`) into a
    // toolchain image with no command of its own: a toolbox to build or check the project with.
    let remote = |c: &gobuild::GoCommand| !c.packages.is_empty() && c.packages.iter().all(|p| p.contains('@'));
    let words = command.map(model::CommandForm::words).unwrap_or_default();
    let program = words.first().map(|w| w.rsplit('/').next().unwrap_or(w).to_string());
    let builder = match program.as_deref() {
        Some(p @ ("sh" | "bash" | "ash" | "make")) => Some(format!("it starts {p}")),
        Some("go") => Some("its command is the go tool itself, run on what it is given".to_string()),
        Some(p) if p.ends_with(".sh") => Some(format!("it starts the script {p}")),
        _ => None,
    };
    // A bare shell for a command (`CMD ["sh"]`) starts no program: the image is where the
    // program is built and checked, by hand or by make (`docker run IMAGE go test ./...`).
    if words.len() == 1 && matches!(program.as_deref(), Some("sh" | "bash" | "ash")) {
        return Some(format!(
            "a Go toolchain image whose command is a bare shell ({}): it starts no program, it is where the program is built and checked (`docker run … go test`), not a service",
            words[0]
        ));
    }
    if let Some((_, first)) = facts.builds().next() {
        // Tools installed from other modules, with no command or one that runs whatever it is
        // given through a shell or a script (`exec "$@"`): a toolbox.
        if (command.is_some() && builder.is_none()) || !facts.builds().all(|(_, c)| remote(c)) {
            return None;
        }
        let started = builder.unwrap_or_else(|| "has no command of its own".to_string());
        return Some(format!(
            "a Go toolchain image that installs tools from other modules (go install {}) and {started}: a toolbox whose tools are run by hand, by make or by Compose, not a program of the repository's",
            first.packages[0]
        ));
    }
    // Without a command of its own the base's runs: the golang image's is a shell (bash, or sh
    // on alpine), a build environment's; another toolchain image's the file does not say, nor an
    // ONBUILD golang image's (it runs the app it builds), nor one that exposes a port.
    let golang = facts.base_image(stage).is_some_and(|b| {
        b.family() == image::Family::Golang && !b.tag.as_deref().is_some_and(|t| t.contains("onbuild"))
    }) && !stage.instructions.iter().any(|i| matches!(i.body, model::Body::Expose(_)));
    // A cross-compiling toolchain (goreleaser-cross, golang-cross, xgo) starts its build tool.
    let cross = facts.base_image(stage).map(image::ImageRef::short_name).filter(|n| n.contains("cross") || *n == "xgo");
    let builder = match (builder, command) {
        (Some(builder), _) => builder,
        (None, None) if golang => "has no command of its own, so it starts the golang image's shell".into(),
        (None, None) if let Some(cross) = cross => {
            format!("has no command of its own, so it starts {cross}'s, a cross-compiling toolchain's build tool")
        }
        _ => return None,
    };
    // A build tool the stage runs (`goreleaser build`, `make release`) builds with Go all the same.
    let tool = stage.instructions.iter().flat_map(|i| i.body.run_commands()).find_map(|c| {
        let argv: Vec<&str> = c.argv().iter().take(2).map(|t| t.value.as_str()).collect();
        let program = argv.first()?.rsplit('/').next()?;
        (program == "goreleaser" || facts::commands::runs_builds(program)).then(|| argv.join(" "))
    });
    let builds = match tool {
        Some(tool) => format!("builds with `{tool}`"),
        None => "builds nothing itself".to_string(),
    };
    Some(format!(
        "a Go toolchain image that {builds} and {builder}: it builds or packages the program, it does not run it as a service"
    ))
}

/// True for a `tar` that unpacks a Go release into /usr/local (`tar -C /usr/local -xzf
/// go1.22.linux-amd64.tar.gz`): the image carries the Go toolchain as the golang image does.
fn unpacks_go_release(command: &crate::shell::SimpleCommand) -> bool {
    let argv: Vec<&str> = command.argv().iter().map(|t| t.value.as_str()).collect();
    let archive = |word: &&str| {
        let name = word.rsplit('/').next().unwrap_or(word);
        name.starts_with("go") && (name.ends_with(".tar.gz") || name.ends_with(".tgz"))
    };
    argv.first() == Some(&"tar") && argv.windows(2).any(|w| w == ["-C", "/usr/local"]) && argv.iter().any(archive)
}
