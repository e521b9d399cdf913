//! Tilt's configuration (`Tiltfile`, Starlark): its `docker_build` and
//! `docker_build_with_restart` calls name the image each Dockerfile becomes, for the manifests
//! Tilt deploys, and an `entrypoint` they give runs in place of the image's own.

use std::path::Path;

use super::{Build, Command, Repository, image_name, normalise};

/// The functions that build an image from a Dockerfile (the second is Tilt's restart extension).
const BUILD_CALLS: &[&str] = &["docker_build", "docker_build_with_restart"];

impl Repository {
    /// Reads a Tiltfile at `path` (relative to the repository root): each image build, with
    /// the Dockerfile it builds (`dockerfile=`, relative to the Tiltfile, else `Dockerfile` in the
    /// build context) and the entrypoint it runs the image with.
    pub fn read_tiltfile(&mut self, path: &Path, text: &str) {
        let dir = path.parent().unwrap_or(Path::new(""));
        let own_manifests = !crate::source::tilt::loaded_manifests(text).is_empty();
        for call in calls(text) {
            let (positional, named) = arguments(&call.arguments);
            // An image named by an expression (`registry + "/" + name`) still builds its
            // Dockerfile; only its name is not known, unless a variable holds it as a string.
            let reference = positional.first().or(named.iter().find(|(k, _)| k == "ref").map(|(_, v)| v));
            let before = text.get(..call.at).unwrap_or(text);
            let Some(image) = reference.map(|a| string(a).or_else(|| assigned(before, a)).unwrap_or_default()) else {
                continue;
            };
            // The files live_update syncs into the running containers need a writable root, in
            // the manifests Tilt deploys with the image: the repository's own, unless it deploys
            // manifests of its own by name (`k8s_yaml('deploy/dev/app.yaml')`).
            // Where the build is, as the reasons name it: `Tiltfile:12 (docker_build app)`.
            let origin = |image: &str| {
                format!("{}:{} ({} {image})", path.display(), before.matches('\n').count() + 1, call.function)
            };
            if named.iter().any(|(k, _)| k == "live_update") && !image.is_empty() && !own_manifests {
                let how = format!("{} syncs files into its running containers (live_update)", origin(&image));
                self.synced_images.push((image_name(&image), how));
            }
            // A Dockerfile the Tiltfile writes itself (`dockerfile_contents=`) is no file to
            // harden; what counts is the user it gives the image Tilt runs the manifests with.
            if let Some(contents) = named.iter().find(|(k, _)| k == "dockerfile_contents").map(|(_, v)| v) {
                let dockerfile = string(contents).or_else(|| assigned_block(before, contents));
                if let Some(name) =
                    dockerfile.filter(|d| crate::dockerfile::runs_as_root(d)).and(Some(image)).filter(|i| !i.is_empty())
                {
                    let how = format!(
                        "{} also builds for its development cluster, from a Dockerfile it writes with no USER",
                        origin(&name)
                    );
                    self.development_root_images.push((image_name(&name), how));
                }
                continue;
            }
            let value =
                |key: &str, at: usize| named.iter().find(|(k, _)| k == key).map(|(_, v)| v).or(positional.get(at));
            let context = value("context", 1).and_then(|v| string(v)).unwrap_or_else(|| ".".into());
            // A name the Tiltfile assigns first (`dockerfile = 'tilt.dockerfile'`) is its value.
            let named_file = named.iter().find(|(k, _)| k == "dockerfile").map(|(_, v)| v);
            let dockerfile = match named_file.and_then(|v| string(v).or_else(|| assigned(before, v))) {
                Some(file) => dir.join(file),
                None => dir.join(&context).join("Dockerfile"),
            };
            let origin = format!("{} ({} {image}", path.display(), call.function).trim_end().to_string() + ")";
            let live_update = named.iter().any(|(k, _)| k == "live_update");
            // A Dockerfile named for Tilt (`Dockerfile.audit-scanner.tilt`) is there for it alone.
            let for_tilt =
                dockerfile.file_name().is_some_and(|n| n.to_string_lossy().to_ascii_lowercase().contains("tilt"));
            let development = match (live_update, for_tilt) {
                (true, _) => {
                    Some(format!("{origin} runs it with live_update, which syncs files into its running containers"))
                }
                (false, true) => Some(format!(
                    "{origin} builds it, a Dockerfile named for Tilt, which runs it in a development cluster"
                )),
                (false, false) => None,
            };
            let entrypoint = named.iter().find(|(k, _)| k == "entrypoint").and_then(|(_, v)| words(v));
            let commands = Command::from_parts(&origin, entrypoint, None).into_iter().collect();
            self.builds.push(Build {
                dockerfile: normalise(&dockerfile),
                images: (!image.is_empty()).then(|| image_name(&image)).into_iter().collect(),
                commands,
                development,
                ..Build::default()
            });
        }
    }
}

/// One call of a build function: its name, the text between its parentheses and where it
/// starts in the Tiltfile.
struct Call {
    function: &'static str,
    arguments: String,
    at: usize,
}

/// The build calls of a Tiltfile, outside comments and strings.
fn calls(text: &str) -> Vec<Call> {
    // Comments are blanked, not dropped, so a call's place in the code is its place in the text.
    let blanked = |line: &str| {
        let code = strip_comment(line);
        format!("{code}{}\n", " ".repeat(line.len() - code.len()))
    };
    let code: String = text.lines().map(blanked).collect();
    let mut out = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find('(') {
        let before = &rest[..at];
        let name_start = before.rfind(|c: char| !(c.is_alphanumeric() || c == '_')).map_or(0, |i| i + 1);
        let name = before[name_start..].trim();
        let after = &rest[at + 1..];
        match BUILD_CALLS.iter().find(|f| **f == name) {
            Some(&function) => {
                let end = closing(after).unwrap_or(after.len());
                let at = code.len() - rest.len() + name_start;
                out.push(Call { function, arguments: after[..end].to_string(), at });
                rest = &after[end..];
            }
            None => rest = after,
        }
    }
    out
}

/// The line without its `#` comment (a `#` inside a string stays).
fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, '#') => return &line[..i],
            _ => {}
        }
    }
    line
}

/// Each character of `text` with its byte index, and whether it stands at the top level:
/// outside strings and outside brackets opened within `text`.
fn top_level(text: &str) -> impl Iterator<Item = (usize, char, bool)> + '_ {
    let (mut depth, mut quote) = (0usize, None);
    text.char_indices().map(move |(i, c)| {
        let top = quote.is_none() && depth == 0;
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') => depth = depth.saturating_sub(1),
            _ => {}
        }
        (i, c, top)
    })
}

/// Where the parenthesis opened just before `text` closes.
fn closing(text: &str) -> Option<usize> {
    top_level(text).find(|&(_, c, top)| top && c == ')').map(|(i, _, _)| i)
}

/// A call's arguments split at its top-level commas: the positional ones and the named ones
/// (`dockerfile='Dockerfile.dev'`), as written.
fn arguments(text: &str) -> (Vec<String>, Vec<(String, String)>) {
    let commas: Vec<usize> = top_level(text).filter(|&(_, c, top)| top && c == ',').map(|(i, _, _)| i).collect();
    let starts = std::iter::once(0).chain(commas.iter().map(|i| i + 1));
    let ends = commas.iter().copied().chain(std::iter::once(text.len()));
    let (mut positional, mut named) = (Vec::new(), Vec::new());
    for part in starts.zip(ends).map(|(a, b)| text[a..b].trim()).filter(|p| !p.is_empty()) {
        let key = part.split_once('=').filter(|(k, v)| {
            !v.starts_with('=') && !k.trim().is_empty() && k.trim().chars().all(|c| c.is_alphanumeric() || c == '_')
        });
        match key {
            Some((k, v)) => named.push((k.trim().to_string(), v.trim().to_string())),
            None => positional.push(part.to_string()),
        }
    }
    (positional, named)
}

/// The string the Tiltfile's code before a call (`before`) assigns to the variable `name`
/// (`dockerfile = 'tilt.dockerfile'`): the last assignment at the top level (a Tiltfile that sets
/// it again before each build), else the first (`if debug:` assigns another in a branch).
fn assigned(before: &str, name: &str) -> Option<String> {
    let name = name.trim();
    let value = |line: &str| {
        let (left, right) = strip_comment(line).trim().split_once('=')?;
        (left.trim() == name && !right.starts_with('=')).then(|| string(right)).flatten()
    };
    let top_level = |line: &&str| !line.starts_with([' ', '\t']);
    before.lines().rev().filter(top_level).find_map(value).or_else(|| before.lines().find_map(value))
}

/// The triple-quoted string the Tiltfile's code before a call (`before`) last assigns to the
/// variable `name` (`tilt_dockerfile_header = """` … `"""`).
fn assigned_block(before: &str, name: &str) -> Option<String> {
    let mut found = None;
    let mut offset = 0;
    for line in before.split_inclusive('\n') {
        let right = line.split_once('=').filter(|(left, _)| left.trim() == name.trim()).map(|(_, r)| r.trim_start());
        if let Some(right) = right
            && let Some(quote) = [r#"""""#, "'''"].into_iter().find(|q| right.starts_with(q))
        {
            let body = &before[offset + line.len() - right.len() + quote.len()..];
            found = body.find(quote).map(|end| body[..end].to_string());
        }
        offset += line.len();
    }
    found
}

/// A string literal's value (`'argocd-ui'`, `"."`); `None` for any other expression.
fn string(value: &str) -> Option<String> {
    let value = value.trim();
    let quote = value.chars().next().filter(|c| matches!(c, '\'' | '"'))?;
    let inner = value.strip_prefix(quote)?.strip_suffix(quote)?;
    (!inner.contains(quote)).then(|| inner.to_string())
}

/// The words of an entrypoint: a list of string literals as they are, a string run by
/// `/bin/sh -c` (as Tilt runs one).
fn words(value: &str) -> Option<Vec<String>> {
    if let Some(text) = string(value) {
        return Some(vec!["/bin/sh".into(), "-c".into(), text]);
    }
    let inner = value.trim().strip_prefix('[')?.strip_suffix(']')?;
    let (items, _) = arguments(inner);
    items.iter().map(|item| string(item)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_images_dockerfiles_and_entrypoints_of_build_calls() {
        let text = "load('ext://restart_process', 'docker_build_with_restart')\n# docker_build('commented', '.')\ndocker_build_with_restart(\n    'ghcr.io/acme/api:latest',\n    context='.',\n    dockerfile='Dockerfile.dev',  # the dev image\n    entrypoint=['dlv', 'exec', '--listen=:2345'],\n    live_update=[sync('bin/api', '/usr/local/bin/api')],\n)\ndocker_build('acme-web', 'web', entrypoint='cd /app && npm start', only=['web'])\nk8s_yaml(kustomize('deploy/dev'))\n";
        let mut repo = Repository::default();
        repo.read_tiltfile(Path::new("dev/Tiltfile"), text);
        let built: Vec<(String, Vec<String>)> =
            repo.builds.iter().map(|b| (b.dockerfile.display().to_string(), b.images.clone())).collect();
        assert_eq!(
            built,
            [
                ("dev/Dockerfile.dev".to_string(), vec!["api".to_string()]),
                ("dev/web/Dockerfile".to_string(), vec!["acme-web".to_string()])
            ]
        );
        assert_eq!(repo.builds[0].commands[0].words, ["dlv", "exec", "--listen=:2345"]);
        assert_eq!(
            repo.builds[0].commands[0].origin,
            "dev/Tiltfile (docker_build_with_restart ghcr.io/acme/api:latest)"
        );
        assert_eq!(repo.builds[1].commands[0].words, ["/bin/sh", "-c", "cd /app && npm start"]);
        let mut unnamed = Repository::default();
        unnamed.read_tiltfile(Path::new("Tiltfile"), "docker_build(IMAGE, '.')\ncustom_build('x', 'make', ['.'])\n");
        let built: Vec<(&Path, &[String])> =
            unnamed.builds.iter().map(|b| (b.dockerfile.as_path(), b.images.as_slice())).collect();
        assert_eq!(
            built,
            [(Path::new("Dockerfile"), &[][..])],
            "an image from a variable still builds; a custom build none"
        );
    }

    #[test]
    fn a_reference_a_variable_holds_names_the_synced_image() {
        let text = "if os.getenv('REGISTRY', '') != '':\n    image = registry + '/acme-controller'\nelse:\n    image = 'gcr.io/acme/acme-controller'\ndocker_build(\n    ref = image,\n    context = '.tiltbuild',\n    dockerfile_contents = header,\n    live_update = [sync('.tiltbuild/manager', '/tilt/manager')],\n)\nk8s_yaml(blob(yaml))\n";
        let mut repo = Repository::default();
        repo.read_tiltfile(Path::new("Tiltfile"), text);
        let synced: Vec<&str> = repo.synced_images().iter().map(|(i, _)| i.as_str()).collect();
        assert_eq!(synced, ["acme-controller"]);
        let mut own = Repository::default();
        own.read_tiltfile(Path::new("Tiltfile"), &text.replace("k8s_yaml(blob(yaml))", "k8s_yaml('deploy/dev.yaml')"));
        assert!(own.synced_images().is_empty(), "the Tiltfile deploys a manifest of its own");
    }

    #[test]
    fn a_dockerfile_the_tiltfile_writes_as_root_names_its_image() {
        let text = r#"header = """
FROM gcr.io/distroless/base:debug
COPY manager .
"""
nonroot = '''
FROM gcr.io/distroless/static
USER 65532:65532
'''
def build():
    docker_build_with_restart(
        ref='ghcr.io/acme/manager',
        context='.tiltbuild',
        dockerfile_contents=header,
    )
    docker_build(ref='ghcr.io/acme/agent', context='.', dockerfile_contents=nonroot)
    docker_build('ghcr.io/acme/probe', '.', dockerfile_contents='FROM alpine')
"#;
        let mut repo = Repository::default();
        repo.read_tiltfile(Path::new("dev/Tiltfile"), text);
        let images: Vec<(&str, &str)> =
            repo.development_root_images().iter().map(|(i, o)| (i.as_str(), o.as_str())).collect();
        assert_eq!(
            images,
            [
                (
                    "manager",
                    "dev/Tiltfile:10 (docker_build_with_restart ghcr.io/acme/manager) also builds for its development cluster, from a Dockerfile it writes with no USER"
                ),
                (
                    "probe",
                    "dev/Tiltfile:16 (docker_build ghcr.io/acme/probe) also builds for its development cluster, from a Dockerfile it writes with no USER"
                )
            ],
            "the agent's Dockerfile sets a user"
        );
        assert!(repo.builds.is_empty(), "no Dockerfile of the repository is built");
    }

    #[test]
    fn a_dockerfile_from_a_variable_and_live_update_make_a_development_image() {
        let text = "dockerfile = 'tilt.dockerfile'
if debug:
    dockerfile = 'tilt.debug.dockerfile'
docker_build_with_restart('ghcr.io/acme/operator', '.', dockerfile = dockerfile, live_update = [sync('./bin/operator', '/operator')])
docker_build('ghcr.io/acme/web', 'web')
";
        let mut repo = Repository::default();
        repo.read_tiltfile(Path::new("Tiltfile"), text);
        assert_eq!(repo.builds[0].dockerfile, Path::new("tilt.dockerfile"), "the first assignment");
        let dev = repo.for_dockerfile(Path::new("tilt.dockerfile")).development.unwrap_or_default();
        assert!(dev.contains("live_update"), "{dev}");
        assert_eq!(repo.for_dockerfile(Path::new("web/Dockerfile")).development, None, "no live_update");
        // Set again before each build (kubewarden's), the variable names each build's own file.
        let again = "dockerfile = './hack/Dockerfile.controller.tilt'  # a # in a comment
docker_build_with_restart(registry + '/' + controller, '.', dockerfile=dockerfile, live_update=[sync('./bin/controller', '/controller')])
dockerfile = './hack/Dockerfile.scanner.tilt'
docker_build(registry + '/' + scanner, '.', dockerfile=dockerfile, live_update=[sync('./bin/scanner', '/scanner')])
";
        let mut repo = Repository::default();
        repo.read_tiltfile(Path::new("Tiltfile"), again);
        let files: Vec<&Path> = repo.builds.iter().map(|b| b.dockerfile.as_path()).collect();
        assert_eq!(files, [Path::new("hack/Dockerfile.controller.tilt"), Path::new("hack/Dockerfile.scanner.tilt")]);
        // One named for Tilt is a development image without live_update too.
        let named =
            "docker_build('acme/scanner', '.', dockerfile='hack/Dockerfile.scanner.tilt', only=['./bin/scanner'])\n";
        let mut repo = Repository::default();
        repo.read_tiltfile(Path::new("Tiltfile"), named);
        let dev = repo.for_dockerfile(Path::new("hack/Dockerfile.scanner.tilt")).development.unwrap_or_default();
        assert!(dev.contains("named for Tilt"), "{dev}");
    }
}
