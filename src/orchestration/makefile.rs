//! A Makefile's image builds: `docker build -t $(REGISTRY)/api:$(TAG) --target api -f
//! build/Dockerfile .` names the image a Dockerfile (or one of its stages) becomes, which links
//! the Dockerfile to the manifests that run that image, and the platforms it is built for.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::image_tags::literal_names;
use super::{Build, BuildArg, Repository, normalise};

/// An image a Makefile or script sets in a kustomization (`cd config/manager && kustomize edit
/// set image controller=${IMG}`, kubebuilder's `deploy` rule): its manifests' placeholder runs
/// the image the repository builds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetImage {
    /// The kustomization's directory, relative to the repository; where the recipe works in a
    /// copy (`in_copy`), its path inside the copy, which ends the repository's.
    pub kustomization: PathBuf,
    /// True when the recipe sets the image in a temporary copy of the kustomizations.
    pub in_copy: bool,
    /// The name its manifests use (`controller`).
    pub name: String,
    /// The image that runs instead, without the tag the build gives it (a variable's reference as
    /// written: `${CONTROLLER_IMG}`).
    pub image: String,
    /// The Makefile or script that sets it.
    pub by: PathBuf,
}

/// `docker build` flags whose value is the next word when written without `=`.
const VALUE_FLAGS: &[&str] = &[
    "--build-arg",
    "--label",
    "--cache-from",
    "--cache-to",
    "--output",
    "-o",
    "--secret",
    "--ssh",
    "--progress",
    "--iidfile",
    "--metadata-file",
    "--network",
    "--builder",
    "--build-context",
    "--attest",
    "--annotation",
];

impl Repository {
    /// Reads a Makefile or a shell script at `path` (relative to the root; its recipes or
    /// commands run in its directory):
    /// each `docker build` or `docker buildx build` with a literal Dockerfile and context, the
    /// image names its tags give (the file's own variables expanded, `IMG ?= controller:latest`
    /// making `-t ${IMG}` name `controller`; leading variables it does not set, such as
    /// `$(IMAGE_PREFIX)`, dropped) and the stage it targets.
    pub fn read_build_commands(&mut self, path: &Path, text: &str) {
        let makefile = path.file_name().is_some_and(|n| n.to_string_lossy().to_ascii_lowercase().contains("makefile"));
        self.read_commands(path, text, path.parent().unwrap_or(Path::new("")), !makefile);
    }

    /// Reads the commands of `text` (written in `by`) that start in `dir`; in a script (`script`),
    /// unlike a Makefile's recipe lines, each in a shell of its own, a `cd` on a line of its own
    /// moves the lines after it (a workflow step's `cd web` before its `docker build .`).
    pub(super) fn read_commands(&mut self, by: &Path, text: &str, dir: &Path, script: bool) {
        let joined = text.replace("\\\r\n", " ").replace("\\\n", " ");
        let variables = variables(&joined);
        // `None` once the script goes where harden cannot follow (`cd "$TMP"`).
        let mut here = Some(dir.to_path_buf());
        // `$(shell pwd)` is one word here, make's `$(CURDIR)`.
        for line in joined.lines().map(|l| expand(l, &variables, script, 0).replace("$(shell pwd)", "$(CURDIR)")) {
            self.set_images.extend(set_images(&line, by));
            if script && line.trim_start().starts_with("cd ") && command_at(&line, "build").is_none() {
                here = here
                    .zip(cd_before(&line))
                    .filter(|(_, cd)| !cd.contains('$'))
                    .map(|(h, cd)| normalise(&h.join(cd)));
                continue;
            }
            // `docker tag` gives a built image another name, which manifests may run.
            if let Some(at) = command_at(&line, "tag") {
                if let [from, to, ..] = command_words(&line[at..])[1..] {
                    self.retag(from, to);
                }
                continue;
            }
            let Some(at) = command_at(&line, "build") else { continue };
            let words: Vec<&str> = command_words(&line[at..]).into_iter().skip(1).collect();
            // A build after `cd dir &&` runs there; one after `cd "$${TMP}"` is not followed.
            let Some(dir) = here.as_deref() else { continue };
            let dir = match cd_before(&line[..at]) {
                Some(cd) if cd.contains('$') => continue,
                Some(cd) => normalise(&dir.join(cd)),
                None => dir.to_path_buf(),
            };
            if let Some(build) = docker_build(&words, &dir, by) {
                self.builds.push(build);
            }
        }
    }
}

/// Words of the names of variables that hold the container tool (`$(OCI_BIN)`, set to podman
/// or docker by a `$(shell …)` that is not expanded; `$(CONTAINER_ENGINE)`, `$(IMAGE_BUILDER)`).
const TOOL_VARIABLES: &[&str] = &["DOCKER", "PODMAN", "CONTAINER", "OCI", "ENGINE", "IMAGE_BUILDER"];

/// Where a line's command `verb` (`build`, `tag`) starts: after `docker`, `podman`, `buildx`, or
/// a variable that names the container tool (`$(DOCKER)`, set to `DOCKER_CLI_EXPERIMENTAL=enabled
/// docker`, which is not expanded).
fn command_at(line: &str, verb: &str) -> Option<usize> {
    let tool = |word: &str| {
        let name = word.trim_start_matches(['$', '(', '{']).trim_end_matches([')', '}']).to_ascii_uppercase();
        matches!(word, "docker" | "podman" | "buildx")
            || (word.starts_with('$') && TOOL_VARIABLES.iter().any(|t| name.contains(t)))
    };
    let mut at = 0;
    let mut previous = "";
    for word in line.split_inclusive(char::is_whitespace) {
        if word.trim_end() == verb && word.len() > verb.len() && tool(previous.trim_end()) {
            return Some(at);
        }
        at += word.len();
        if !word.trim().is_empty() {
            previous = word;
        }
    }
    None
}

/// The images a line sets in a kustomization (`cd config/manager && $(KUSTOMIZE) edit set image
/// controller=ghcr.io/acme/operator:v1`, kubebuilder's `deploy` rule): the kustomization's
/// directory (the `cd` before it, from the directory of `path`, where the recipe runs), the name
/// its manifests use and the image's name (its tag is the build's, not the one deployed), as
/// written (`${IMG}`, which the recipe's variables give).
fn set_images(line: &str, path: &Path) -> Vec<SetImage> {
    let Some((before, after)) = line.split_once("edit set image ") else { return Vec::new() };
    let dir = path.parent().unwrap_or(Path::new(""));
    let cd = cd_before(before);
    // `cd "$${CONFIG_TMP_DIR}/manager"` after `cp -r config/* "$${CONFIG_TMP_DIR}"`: a copy of one
    // of the repository's kustomizations, named by the path after the variable.
    let (kustomization, in_copy) = match cd.filter(|d| d.starts_with('$')) {
        Some(copied) => (PathBuf::from(copied.split_once('/').map_or("", |(_, rest)| rest)), true),
        None => (normalise(&dir.join(cd.unwrap_or("."))), false),
    };
    let words = after.split([';', '&', '|']).next().unwrap_or(after).split_whitespace();
    words
        .map(closing_dropped)
        .filter_map(|word| word.trim_matches(['"', '\'']).split_once('='))
        .filter(|(name, image)| !name.is_empty() && !image.is_empty() && !name.contains('$'))
        .map(|(name, image)| SetImage {
            kustomization: kustomization.clone(),
            in_copy,
            name: name.to_string(),
            image: super::without_tag(image).to_string(),
            by: path.to_path_buf(),
        })
        .collect()
}

/// The directory the last `cd` of a recipe line before a command goes to (`cd minio-sdk/go/ &&
/// docker build …`), as written.
fn cd_before(before: &str) -> Option<&str> {
    before
        .rsplit("cd ")
        .next()
        .filter(|_| before.contains("cd "))
        .and_then(|rest| rest.split_whitespace().next())
        .map(|dir| dir.trim_matches(['"', '\'']))
}

/// A word without the `)` that closes a subshell around it (`"webhook=$(IMG)")`).
fn closing_dropped(word: &str) -> &str {
    let mut word = word;
    while word.ends_with(')') && word.matches(')').count() > word.matches('(').count() {
        word = &word[..word.len() - 1];
    }
    word
}

/// The words of the command `text` starts with, up to a `;`, `|` or `&&` that ends it: split at
/// spaces outside quotes and `$(…)` (`ldflags="$(LDFLAGS) -s -w"` is one word, and a `;` inside
/// a `$(shell …)` a variable held ends nothing).
fn command_words(text: &str) -> Vec<&str> {
    let (mut words, mut start, mut depth, mut quote) = (Vec::new(), None, 0usize, None);
    let mut end = text.len();
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth = depth.saturating_sub(1),
            (None, ';' | '|') if depth == 0 => end = i,
            (None, '&') if depth == 0 && text[i..].starts_with("&&") => end = i,
            _ => {}
        }
        if end < text.len() {
            break;
        }
        let space = c.is_whitespace() && quote.is_none() && depth == 0;
        match (space, start) {
            (true, Some(at)) => {
                words.push(&text[at..i]);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    words.extend(start.map(|at| &text[at..end]));
    words
}

/// The build one `docker build` command's words (after `build`) describe; `None` when its
/// Dockerfile or context is not literal, or it names no image and gives no build argument.
pub(super) fn docker_build(words: &[&str], dir: &Path, by: &Path) -> Option<Build> {
    let (mut images, mut file, mut target, mut context, mut args) = (Vec::new(), None, None, None, Vec::new());
    let (mut stripping_args, mut platforms) = (Vec::new(), Vec::new());
    let mut words = words.iter();
    while let Some(word) = words.next() {
        let (flag, inline) = match word.split_once('=') {
            Some((f, v)) if f.starts_with('-') => (f, Some(v)),
            _ => (*word, None),
        };
        let mut value = || inline.or_else(|| words.next().copied());
        match flag {
            "-t" | "--tag" => images.extend(value().map(literal_names).unwrap_or_default()),
            "-f" | "--file" => file = value(),
            "--target" => target = value(),
            "--build-arg" => {
                let arg = value();
                args.extend(arg.and_then(|arg| literal_arg(arg, by)));
                stripping_args.extend(arg.and_then(|arg| stripping_arg(arg, by)));
            }
            // The platforms the image is built for (`linux/amd64,linux/arm/v6`), where literal.
            "--platform" => platforms.extend(
                (value().unwrap_or_default().trim_matches(['"', '\'']).split(','))
                    .filter(|p| !p.is_empty() && !p.contains('$'))
                    .map(|p| (p.to_string(), by.display().to_string())),
            ),
            f if VALUE_FLAGS.contains(&f) => {
                value();
            }
            f if f.starts_with('-') => {}
            positional => context = Some(if is_working_directory(positional) { "." } else { positional }),
        }
    }
    // `-f` is taken from where make runs; without it, the Dockerfile is the context's.
    let context = context?;
    let relative = file.map_or_else(|| Path::new(context).join("Dockerfile"), |f| Path::new(f).to_path_buf());
    // A build whose tags are not literal (`$(IMAGE)-$(ARCH)` of a `$(shell …)`) still gives its
    // Dockerfile its arguments.
    let unnamed = images.is_empty() && args.is_empty() && stripping_args.is_empty();
    if unnamed || context.contains('$') || file.is_some_and(|f| f.contains('$')) || relative.is_absolute() {
        return None;
    }
    Some(Build {
        dockerfile: normalise(&dir.join(relative)),
        context: Some((normalise(&dir.join(context)), by.display().to_string())),
        images,
        target: target.filter(|t| !t.contains('$')).map(str::to_string),
        args,
        stripping_args,
        platforms,
        ..Build::default()
    })
}

/// The build argument a `--build-arg` word gives when its value is literal once the file's
/// variables are expanded (`"BASE_IMAGE=golang:1.26"`); `None` for one taken from the
/// environment (`--build-arg TOKEN`) or from a variable the file does not set.
fn literal_arg(word: &str, by: &Path) -> Option<BuildArg> {
    let unquote = |w: &str| w.strip_prefix('"').and_then(|w| w.strip_suffix('"')).unwrap_or(w).to_string();
    let word = unquote(word);
    let (name, value) = word.split_once('=')?;
    // `NAME="value"` as well as `"NAME=value"`; an empty value is given too (`GO_LDFLAGS ?=`
    // passed as `GO_LDFLAGS="$(GO_LDFLAGS)"`).
    let value = unquote(value);
    let literal = |s: &str| !s.contains(['$', '"', '\'', '`']);
    (!name.is_empty() && literal(name) && literal(&value)).then(|| BuildArg {
        name: name.to_string(),
        value,
        origin: by.display().to_string(),
    })
}

/// The build argument a `--build-arg` word gives when its value, literal or not, passes `-s`
/// and `-w` (`ldflags="$(LDFLAGS) -s -w"`): a linker's flags that strip, as written.
fn stripping_arg(word: &str, by: &Path) -> Option<BuildArg> {
    let (name, value) = word.trim_matches('"').split_once('=')?;
    let value = value.trim_matches('"');
    let flags: Vec<&str> = value.split_whitespace().collect();
    (flags.contains(&"-s") && flags.contains(&"-w")).then(|| BuildArg {
        name: name.to_string(),
        value: value.to_string(),
        origin: by.display().to_string(),
    })
}

/// True for a context that names the directory the command runs in (`$(CURDIR)`, `"$PWD"`).
fn is_working_directory(word: &str) -> bool {
    let word = word.trim_matches(['"', '\'']).trim_start_matches('$');
    ["(CURDIR)", "{CURDIR}", "(PWD)", "(pwd)", "PWD", "{PWD}"].contains(&word)
}

/// A Makefile's text with the variables it sets to one word written out on each line
/// (`> ${HELM_BASE}/_components.tpl` with `HELM_BASE := charts/setup/templates`), line for line.
pub fn variables_spelled(text: &str) -> String {
    let variables = variables(text);
    text.lines().map(|line| expand(line, &variables, false, 0) + "\n").collect()
}

/// The variables the Makefile or script sets (`NAME ?= value`, `:=`, `::=`, `=`,
/// `export NAME = value`, also indented inside a conditional, `ifndef NAME`; the last one wins),
/// by name.
fn variables(text: &str) -> HashMap<&str, &str> {
    let mut variables = HashMap::new();
    for line in text.lines().filter(|l| !l.starts_with('\t')) {
        let line = line.trim_start();
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else { continue };
        let name = name.trim_end().trim_end_matches([':', '?']).trim_end();
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            variables.insert(name, value.split(" #").next().unwrap_or(value).trim());
        }
    }
    variables
}

/// `line` with the Makefile's variables (`$(NAME)`, `${NAME}`; in a script (`bare`), `$NAME`
/// too) replaced by their values, which are expanded in turn; a variable the file does not set,
/// a function such as `$(shell …)`, or a value of several words (which would split the command's
/// words differently) is left as it is.
fn expand(line: &str, variables: &HashMap<&str, &str>, bare: bool, depth: usize) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let close = match after.chars().next() {
            Some('(') => ')',
            Some('{') => '}',
            _ => {
                let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
                match variables.get(&after[..end]).filter(|v| bare && end > 0 && !v.contains(char::is_whitespace)) {
                    Some(value) if depth < 8 => {
                        out.push_str(&expand(value, variables, bare, depth + 1));
                        rest = &after[end..];
                    }
                    _ => {
                        out.push('$');
                        rest = after;
                    }
                }
                continue;
            }
        };
        let value = after
            .find(close)
            .and_then(|end| Some((end, variables.get(&after[1..end])?)))
            .filter(|(_, value)| !value.contains(char::is_whitespace));
        match value {
            Some((end, value)) if depth < 8 => {
                out.push_str(&expand(value, variables, bare, depth + 1));
                rest = &after[end + 1..];
            }
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_build_after_cd_runs_in_that_directory() {
        let mut repo = Repository::default();
        let makefile = "go:\n\t@cd minio-sdk/go/ && \\\n\t\tdocker build -q -t acme/sts-example:go .\ntmp:\n\tcd \"$${TMP}\" && docker build -t acme/tmp .\n";
        repo.read_build_commands(Path::new("examples/clients/Makefile"), makefile);
        let builds: Vec<(String, Vec<String>)> =
            repo.builds.iter().map(|b| (b.dockerfile.display().to_string(), b.images.clone())).collect();
        assert_eq!(builds, [("examples/clients/minio-sdk/go/Dockerfile".to_string(), vec!["sts-example".to_string()])]);
    }

    #[test]
    fn docker_builds_name_their_dockerfile_image_and_stage() {
        let mut repo = Repository::default();
        let makefile = "IMAGE_PREFIX ?= quay.io/acme/\n\nimage:\n\tDOCKER_BUILDKIT=1 docker build --platform=$(ARCH) \\\n\t\t--target rollouts-cli -t $(IMAGE_PREFIX)rollouts-cli:$(IMAGE_TAG) .\n\tdocker buildx build --build-arg GO=1.24 -f build/api.Dockerfile --tag \"$(REGISTRY)/api:dev\" --push . && echo done\n\tdocker build -t $(NAME):latest .\n\tdocker build -f $(DOCKERFILE) -t web .\n\tdocker build -f Dockerfile -t worker ./worker\n";
        repo.read_build_commands(Path::new("Makefile"), makefile);
        let builds: Vec<(String, Vec<String>, Option<String>)> = repo
            .builds
            .iter()
            .map(|b| (b.dockerfile.display().to_string(), b.images.clone(), b.target.clone()))
            .collect();
        assert_eq!(
            builds,
            [
                ("Dockerfile".to_string(), vec!["rollouts-cli".to_string()], Some("rollouts-cli".to_string())),
                ("build/api.Dockerfile".to_string(), vec!["api".to_string()], None),
                // `-f` is the working directory's, not the context's.
                ("Dockerfile".to_string(), vec!["worker".to_string()], None),
            ]
        );
        assert_eq!(repo.image_names(Path::new("Dockerfile")), ["rollouts-cli", "worker"]);
    }

    #[test]
    fn a_build_argument_that_passes_s_and_w_strips() {
        // cluster-api-provider-openstack's: the release build strips, the debug build does not.
        let makefile = "LDFLAGS = $(shell source ./hack/version.sh; version::ldflags)\ndocker-build:\n\tdocker build -f Dockerfile --build-arg GO_VERSION=$(GO_VERSION) \\\n\t--build-arg ldflags=\"$(LDFLAGS) -s -w\" . -t $(CONTROLLER_IMG_TAG)\ndocker-build-debug:\n\tdocker build -f Dockerfile --build-arg ldflags=\"$(LDFLAGS)\" . -t $(CONTROLLER_IMG_TAG)\n";
        let mut repo = Repository::default();
        repo.read_build_commands(Path::new("Makefile"), makefile);
        let stripping = repo.for_dockerfile(Path::new("Dockerfile")).stripping_args;
        let given: Vec<(&str, &str)> = stripping.iter().map(|a| (a.name.as_str(), a.value.as_str())).collect();
        assert_eq!(given, [("ldflags", "$(LDFLAGS) -s -w")]);
    }

    #[test]
    fn literal_build_arguments_are_given_to_the_build() {
        let mut repo = Repository::default();
        // contour's layout: the base image is a `?=` default passed as a build argument, and the
        // context is the directory make runs in.
        let makefile = "BASE ?= golang:1.26.4\nCGO ?= 0\nLDFLAGS ?=\ncontainer:\n\tdocker build \\\n\t\t--build-arg \"BUILD_BASE_IMAGE=$(BASE)\" \\\n\t\t--build-arg BUILD_CGO_ENABLED=${CGO} --build-arg GOPROXY --build-arg SHA=$(GIT_SHA) --build-arg LDFLAGS=\"$(LDFLAGS)\" \\\n\t\t$(shell pwd) --tag $(REGISTRY)/contour:dev\n";
        repo.read_build_commands(Path::new("Makefile"), makefile);
        let args = repo.for_dockerfile(Path::new("Dockerfile")).agreed_build_args();
        let want = [("BUILD_BASE_IMAGE", "golang:1.26.4"), ("BUILD_CGO_ENABLED", "0"), ("LDFLAGS", "")]
            .map(|(n, v)| (n.to_string(), v.to_string()));
        assert_eq!(args, want, "an argument from the environment or an unset variable is not known");
        assert_eq!(repo.image_names(Path::new("Dockerfile")), ["contour"]);
        // prometheus-adapter's: a tag of a `$(shell …)` value names no image, and the Go version
        // is still passed.
        let mut repo = Repository::default();
        let makefile = "ARCH?=$(shell go env GOARCH)\nGO_VERSION?=1.22.5\ncontainer:\n\tdocker build -t $(REGISTRY)/adapter-$(ARCH):$(TAG) --build-arg GO_VERSION=$(GO_VERSION) .\n";
        repo.read_build_commands(Path::new("Makefile"), makefile);
        let args = repo.for_dockerfile(Path::new("Dockerfile")).agreed_build_args();
        assert_eq!(args, [("GO_VERSION".to_string(), "1.22.5".to_string())]);
        assert_eq!(repo.image_names(Path::new("Dockerfile")), ["adapter"], "the architectures' image, joined");
    }

    #[test]
    fn a_deploy_rule_sets_the_image_its_kustomization_runs() {
        let mut repo = Repository::default();
        let makefile = "IMG ?= acme/kruise-manager:test\ndeploy:\n\tcd config/manager && $(KUSTOMIZE) edit set image controller=${IMG}\n\t(cd config/webhook && kustomize edit set image \"webhook=$(WEBHOOK_IMG)\")\n";
        repo.read_build_commands(Path::new("Makefile"), makefile);
        let set: Vec<(&str, &str, &str)> = (repo.set_images.iter())
            .map(|s| (s.kustomization.to_str().unwrap(), s.name.as_str(), s.image.as_str()))
            .collect();
        let want =
            [("config/manager", "controller", "acme/kruise-manager"), ("config/webhook", "webhook", "$(WEBHOOK_IMG)")];
        assert_eq!(set, want, "an unset variable is kept as written: the image is set, to what is not known");
        assert!(repo.set_images.iter().all(|s| !s.in_copy));
    }

    #[test]
    fn a_recipe_sets_the_image_in_a_copy_of_the_kustomizations() {
        let mut repo = Repository::default();
        let makefile = "bundle:\n\tTMP=$$(mktemp -d) ;\\\n\tcp -r config/* $$TMP ;\\\n\tcd \"$${TMP}/manager\" ;\\\n\t$(KUSTOMIZE) edit set image controller=\"$${IMG}\" ;\\\n";
        repo.read_build_commands(Path::new("Makefile"), makefile);
        let set = &repo.set_images[0];
        assert_eq!(
            (set.kustomization.to_str().unwrap(), set.in_copy, set.name.as_str()),
            ("manager", true, "controller")
        );
    }

    #[test]
    fn the_makefiles_own_variables_name_the_image() {
        let mut repo = Repository::default();
        // kubebuilder's layout: the tool and the tag are variables the file sets.
        let makefile = "IMG ?= controller:latest\nCONTAINER_TOOL ?= docker\nTAG = $(shell git describe --tags)\nexport PREFIX := ghcr.io/${OWNER}/op # where\nAGENT_IMG = $(PREFIX)/agent:$(shell git describe)\n\ndocker-build:\n\t$(CONTAINER_TOOL) build -t ${IMG} .\n\tdocker build -t api:$(TAG) api\n\t$(CONTAINER_TOOL) build -t $(AGENT_IMG) cmd/agent\n\tdocker build -t $(UNSET) web\n";
        repo.read_build_commands(Path::new("Makefile"), makefile);
        assert_eq!(repo.image_names(Path::new("Dockerfile")), ["controller"]);
        assert_eq!(repo.image_names(Path::new("cmd/agent/Dockerfile")), ["agent"]);
        // A value of several words is not spliced in: the context stays `api`.
        assert_eq!(repo.image_names(Path::new("api/Dockerfile")), ["api"]);
        assert!(repo.image_names(Path::new("web/Dockerfile")).iter().all(|name| !name.contains('$')));
        // A default set inside a conditional, indented.
        let conditional = "ifndef CONTROLLER_REPO\n  CONTROLLER_REPO=docker.io/acme/relay-controller\nendif\nimage:\n\tdocker build -t ${CONTROLLER_REPO}:v1 -f build/Dockerfile.controller .\n";
        repo.read_build_commands(Path::new("Makefile"), conditional);
        assert_eq!(repo.image_names(Path::new("build/Dockerfile.controller")), ["relay-controller"]);
    }

    #[test]
    fn a_tool_variable_of_several_words_still_starts_a_build() {
        let mut repo = Repository::default();
        let makefile = "DOCKER=DOCKER_CLI_EXPERIMENTAL=enabled docker\nCLEANUP_IMAGE=${REGISTRY}/node-cleanup\n\nimage-%:\n\t$(DOCKER) buildx build --file=./cmd/node-cleanup/Dockerfile --platform=linux/$* \\\n\t\t-t $(CLEANUP_IMAGE):$(VERSION)_linux_$* --output=type=docker .\n\techo build done\n";
        repo.read_build_commands(Path::new("Makefile"), makefile);
        assert_eq!(repo.image_names(Path::new("cmd/node-cleanup/Dockerfile")), ["node-cleanup"]);
        assert!(repo.image_names(Path::new("Dockerfile")).is_empty(), "`echo build done` builds nothing");
        let chosen = "REGISTRY ?= ghcr.io/acme\nOCI_BIN ?= $(shell if podman ps >/dev/null 2>&1; then echo podman; else echo docker; fi)\n\ndocker-build:\n\t$(OCI_BIN) build -t ${REGISTRY}/bridge-plugin:latest -f ./cmd/Dockerfile .\n";
        repo.read_build_commands(Path::new("Makefile"), chosen);
        assert_eq!(repo.image_names(Path::new("cmd/Dockerfile")), ["bridge-plugin"], "a tool a shell chooses");
    }
}
