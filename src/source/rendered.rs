//! Manifests a build script renders: a Makefile rule or a shell script that writes the output of
//! `kustomize build`, `kubectl kustomize` or `helm template` to a file of the repository. Such a
//! file is made again from its sources at the next render, so an edit to it is lost.

mod redirects;
mod wrappers;

pub use redirects::{REDIRECT, copies_of};

/// The renderers whose output is a manifest: a program (as a word, or a make variable holding
/// it, `$(KUSTOMIZE)`, `${JSONNET_CLI}`) and its subcommand (none for a program that renders by itself).
const RENDERERS: [(&str, &str, &str); 6] = [
    ("kustomize", "build", "kustomize build"),
    ("kubectl", "kustomize", "kubectl kustomize"),
    ("helm", "template", "helm template"),
    ("jsonnet", "", "jsonnet"),
    ("gojsontoyaml", "", "gojsontoyaml"),
    ("ytt", "", "ytt"),
];

/// `kustomize build` flags whose value is the next word, not the directory it builds.
const VALUE_FLAGS: &[&str] = &["--load-restrictor", "--reorder", "--helm-command", "--mount", "--env", "-e"];

/// One file a script renders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The 1-based line of the command.
    pub line: usize,
    /// The renderer (`kustomize build`).
    pub tool: &'static str,
    /// The output path as written (`-o`/`--output` or a `>` redirection), relative to where the
    /// script runs.
    pub path: String,
    /// True when `path` is a directory every file of which is rendered (`jsonnet -m dir`).
    pub dir: bool,
    /// True when `path` is what follows a variable whose value is not told
    /// (`${MANIFEST_ROOT}/operator/bundle.yaml`): it names any file whose path ends with it.
    pub anywhere: bool,
}

/// The files the commands of a Makefile or shell script render manifests into: only literal
/// paths (a path from a variable is not told); in a Makefile (`makefile`), also the YAML files
/// that are a rule's targets (`deploy/all.yaml: $(SOURCES)`), which make writes; then those any
/// other command's output is redirected into, and copies of them all.
pub fn rendered(script: &str, makefile: bool) -> Vec<Rendered> {
    let (mut out, mut dir_targets) = (Vec::new(), Vec::new());
    let spelled = if makefile { first_prerequisites_spelled(script) } else { script.to_string() };
    let script = spelled.as_str();
    for (i, line) in logical_lines(script) {
        let line = line.as_str();
        if makefile && let Some((path, dir)) = rule_target(line, script) {
            // A directory is told after what the recipes' own commands render, which say more.
            let found = Rendered { line: i + 1, tool: "make", path, dir, anywhere: false };
            if dir {
                dir_targets.push(found)
            } else {
                out.push(found)
            }
            continue;
        }
        // Where a `cd` earlier on the line moved to (`cd grafana/dashboards && jsonnet … -m .`).
        let mut cwd = std::path::PathBuf::new();
        for command in commands(line) {
            let words: Vec<&str> = command.split_whitespace().collect();
            if let ["cd", dir] = words.as_slice()
                && !dir.contains(['$', '`', '~'])
            {
                cwd = crate::orchestration::normalise(&cwd.join(dir.trim_matches(['"', '\''])));
                continue;
            }
            let from_cwd = |p: String| match p.starts_with('/') || cwd.as_os_str().is_empty() {
                true => p,
                false => crate::orchestration::normalise(&cwd.join(&p)).to_string_lossy().into_owned(),
            };
            let Some((start, tool)) = renderer(&words) else { continue };
            // A renderer run in a container sees the repository where it is mounted.
            let mount = mounted_repository(&words[..start]);
            let rest = &words[start..];
            // jsonnet's multi-file output: one file per field, in the directory given.
            let multi = rest.iter().enumerate().find_map(|(j, word)| match *word {
                "-m" | "--multi" => rest.get(j + 1).copied(),
                _ => word.strip_prefix("--multi="),
            });
            if let Some(dir) = multi.filter(|_| tool == "jsonnet").filter(|d| !d.contains(['$', '`', '*'])) {
                let path =
                    from_cwd(dir.trim_matches(['"', '\'']).trim_start_matches("./").trim_end_matches('/').to_string());
                let path = path.trim_start_matches("./").to_string();
                out.push(Rendered { line: i + 1, tool, path, dir: true, anywhere: false });
                continue;
            }
            let path = rest.iter().enumerate().find_map(|(j, word)| {
                // An append (`>> dist/install.yaml`, after an `echo "---" >` that starts it) makes it too.
                let redirect = word.strip_prefix(">>").or_else(|| word.strip_prefix('>'));
                if let Some(value) = word.strip_prefix("--output=").or_else(|| redirect.filter(|v| !v.is_empty())) {
                    return Some(value);
                }
                matches!(*word, "-o" | "--output" | ">" | ">>").then(|| rest.get(j + 1).copied()).flatten()
            });
            // make's `$(CURDIR)` is the Makefile's directory, wherever the recipe has moved to.
            let in_makefile_dir = |p: &str| -> String {
                let curdir = p.strip_prefix("$(CURDIR)/").or_else(|| p.strip_prefix("${CURDIR}/"));
                curdir.filter(|_| makefile).unwrap_or(p).to_string()
            };
            let path = path.map(|p| p.trim_matches(['"', '\''])).map(|p| {
                match p.contains("CURDIR}/") || p.contains("CURDIR)/") {
                    true => in_makefile_dir(p),
                    false => from_cwd(p.to_string()),
                }
            });
            if let Some(path) = path.as_deref().map(|p| in_repository(p, mount)).and_then(literal_yaml) {
                out.push(Rendered { line: i + 1, tool, path, dir: false, anywhere: false });
            }
        }
    }
    out.append(&mut dir_targets);
    out.extend(redirects::redirected(script, makefile));
    let copies = redirects::copies_of(script, &out);
    out.extend(copies);
    out
}

/// The renderer a command runs, with the index of the first word after it and its subcommand.
fn renderer(words: &[&str]) -> Option<(usize, &'static str)> {
    words.iter().enumerate().find_map(|(j, word)| {
        RENDERERS.iter().find_map(|(name, sub, tool)| match *sub {
            "" if runs(word, name) => Some((j + 1, *tool)),
            sub if runs(word, name) && words.get(j + 1) == Some(&sub) => Some((j + 2, *tool)),
            _ => None,
        })
    })
}

/// True when a command word runs `program`: the program itself, by path, or a make variable
/// naming its binary (`$(KUSTOMIZE)`, `${JSONNET_CLI}`, `$(OPERATOR_SDK)`).
fn runs(word: &str, program: &str) -> bool {
    // An image that holds it (`registry.k8s.io/kustomize/kustomize:v5.4.3`), run by docker.
    let word = match word.rsplit_once('/') {
        Some((registry, name)) => format!("{registry}/{}", name.split(':').next().unwrap_or(name)),
        None => word.to_string(),
    };
    let word = word.to_ascii_lowercase();
    let word = word.trim_end_matches([')', '}']).trim_end_matches("_cli").trim_end_matches("_bin");
    let word = word.replace('_', "-");
    // A tool installed under its version (`$(LOCALBIN)/operator-sdk-v1.38.0`) is that tool.
    let versioned = (word.rsplit('/').next().and_then(|last| last.strip_prefix(program)))
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|version| version.starts_with(|c: char| c == 'v' || c == '$' || c.is_ascii_digit()));
    word.ends_with(program) || versioned
}

/// A Makefile with `$<` in each recipe written as its rule's first prerequisite
/// (`manifests: $(KUSTOMIZE)` then `$< build config/default > out.yaml`), line for line.
fn first_prerequisites_spelled(makefile: &str) -> String {
    let mut first: Option<&str> = None;
    let mut out = String::with_capacity(makefile.len());
    for line in makefile.lines() {
        if !line.starts_with([' ', '\t', '#']) && !line.trim().is_empty() {
            first = line
                .split_once(':')
                .filter(|(_, rest)| !rest.starts_with('='))
                .and_then(|(_, rest)| rest.split(['|', ';']).next().and_then(|deps| deps.split_whitespace().next()));
        }
        match first.filter(|_| line.starts_with('\t')) {
            Some(prerequisite) => out.push_str(&line.replace("$<", prerequisite)),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// The commands of a logical line: a command ends at `&&`, `||` or `;`, and a pipeline
/// (`jsonnet … | gojsontoyaml > x`) is one.
fn commands(line: &str) -> impl Iterator<Item = &str> {
    line.split("&&").flat_map(|c| c.split("||")).flat_map(|c| c.split(';'))
}

/// The script's lines with those a trailing backslash continues joined to them, each with the
/// 0-based index of its first line (make's `$(shell pwd)` written `$(CURDIR)`, one word).
pub fn logical_lines(script: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut open = false;
    for (i, line) in script.lines().enumerate() {
        let (text, continues) = match line.trim_end().strip_suffix('\\') {
            Some(head) => (head, true),
            None => (line, false),
        };
        match out.last_mut().filter(|_| open) {
            Some((_, joined)) => joined.push_str(&format!(" {}", text.trim())),
            None => out.push((i, text.to_string())),
        }
        open = continues;
    }
    out.into_iter().map(|(i, line)| (i, line.replace("$(shell pwd)", "$(CURDIR)"))).collect()
}

/// A path a container sees under `mount`, where the repository is mounted, as the repository's
/// own (`/repo/config/default` → `config/default`); any other path as it is.
fn in_repository<'a>(path: &'a str, mount: Option<&str>) -> &'a str {
    mount.and_then(|m| path.strip_prefix(&format!("{}/", m.trim_end_matches('/')))).unwrap_or(path)
}

/// Where a `docker run` before a renderer mounts the repository it runs in (`-v $(shell
/// pwd):/gatekeeper` mounts it at `/gatekeeper`).
fn mounted_repository<'a>(words: &[&'a str]) -> Option<&'a str> {
    const HERE: &[&str] = &["$(pwd)", "${PWD}", "$(PWD)", "$PWD", "$(CURDIR)", "${CURDIR}", ".", "`pwd`"];
    let volumes = words.iter().enumerate().filter_map(|(j, w)| match *w {
        "-v" | "--volume" => words.get(j + 1).copied(),
        _ => w.strip_prefix("--volume=").or_else(|| w.strip_prefix("-v").filter(|v| !v.is_empty())),
    });
    volumes.map(|v| v.trim_matches(['"', '\''])).find_map(|v| {
        let (source, target) = v.split_once(':')?;
        let target = target.split(':').next()?;
        HERE.contains(&source).then_some(target).filter(|t| t.starts_with('/'))
    })
}

/// Manifests of the repository a script renders into files the repository keeps: edit one and
/// the rendered files are stale until the script runs again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderInput {
    /// The 1-based line of the command.
    pub line: usize,
    /// The renderer (`kustomize build`, `operator-sdk generate bundle`).
    pub tool: &'static str,
    /// The directory it reads, relative to where the script runs: a kustomization's (the
    /// manifests it builds from are inputs), or one whose variants' kustomizations are.
    pub input: String,
    /// What it writes, as written.
    pub output: String,
    /// The make rule the command is in (`make bundle` renders again), in a Makefile.
    pub rule: Option<String>,
}

/// The renderer of an OLM bundle, as [`RenderInput::tool`] names it.
pub const BUNDLE: &str = "operator-sdk generate bundle";

/// The renders of a Makefile or shell script whose inputs are manifests: `kustomize build DIR`
/// (or `kubectl kustomize DIR`) into a literal YAML file, and operator-sdk's `generate bundle`,
/// which reads the kustomization it is piped (`config/manifests` by its layout) and writes
/// `bundle/`.
pub fn render_inputs(script: &str, makefile: bool) -> Vec<RenderInput> {
    let mut out = Vec::new();
    let mut rule = None;
    let spelled = match makefile {
        true => first_prerequisites_spelled(&crate::orchestration::variables_spelled(script)),
        false => script.to_string(),
    };
    let script = spelled.as_str();
    for (i, line) in logical_lines(script) {
        let line = line.as_str();
        // A blank line inside a recipe does not end its rule, nor does `ifndef` … `endif`.
        let word = line.split_whitespace().next().unwrap_or_default();
        let conditional = ["ifdef", "ifndef", "ifeq", "ifneq", "else", "endif"].contains(&word);
        if makefile && !line.starts_with([' ', '\t', '#']) && !line.trim().is_empty() && !conditional {
            rule = line
                .split_once(':')
                .filter(|(t, rest)| !t.contains(['=', '$', '%']) && !rest.starts_with('='))
                .and_then(|(t, _)| t.split_whitespace().next().map(str::to_string));
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let build = words.windows(2).position(|w| {
            (runs(w[0], "kustomize") && w[1] == "build") || (runs(w[0], "kubectl") && w[1] == "kustomize")
        });
        // Flags with a value (`--load-restrictor LoadRestrictionsNone`) are no input.
        let input = build.and_then(|at| {
            let rest = &words[at + 2..];
            rest.iter()
                .enumerate()
                .find(|(j, w)| !w.starts_with('-') && (*j == 0 || !VALUE_FLAGS.contains(&rest[j - 1])))
                .map(|(_, w)| *w)
        });
        // Inside a container, the repository is where it is mounted.
        let mount = build.and_then(|at| mounted_repository(&words[..at]));
        let input = input.map(|w| in_repository(w, mount));
        let input = input.filter(|w| !w.contains(['$', '`', '|', '>'])).map(|w| {
            let relative = w.trim_start_matches("./").trim_end_matches('/');
            // A bundle is often rendered from inside its own directory (`cd bundle && … ../config`).
            relative.trim_start_matches("../").to_string()
        });
        let bundle = words.windows(3).any(|w| runs(w[0], "operator-sdk") && w[1] == "generate" && w[2] == "bundle");
        if bundle && !line.trim_start().starts_with('#') {
            // Its `--input-dir`, else operator-sdk's layout: the kustomization in config/manifests.
            let named = words.windows(2).find(|w| w[0] == "--input-dir").map(|w| w[1]);
            let named = named.or_else(|| words.iter().find_map(|w| w.strip_prefix("--input-dir=")));
            let named = named.filter(|w| !w.contains('$')).map(|w| w.trim_start_matches("./").trim_end_matches('/'));
            let input = input.or(named.map(str::to_string)).unwrap_or_else(|| "config/manifests".into());
            let (tool, output) = (BUNDLE, "bundle/".into());
            out.push(RenderInput { line: i + 1, tool, input, output, rule: rule.clone() });
            continue;
        }
        let output = rendered(line, false).into_iter().next().filter(|r| !r.dir);
        if let (Some(at), Some(input), Some(output)) = (build, input, output) {
            let tool = if words[at + 1] == "build" { "kustomize build" } else { "kubectl kustomize" };
            out.push(RenderInput { line: i + 1, tool, input, output: output.path, rule: rule.clone() });
        }
    }
    // A rule that runs the render's rule for every variant (`bundle-all: $(MAKE) bundle
    // VARIANT=…`) is the one that renders all it writes.
    for found in &mut out {
        if let Some(wrapper) = found.rule.as_deref().and_then(|r| wrappers::wrapping_rule(script, r)) {
            found.rule = Some(wrapper);
        }
    }
    out
}

/// What a Makefile rule on this line makes, with true for a directory: a YAML file
/// (`deploy/all.yaml: config/*.jsonnet`), or a directory its recipe fills (`example/webhook:
/// vendor $(shell find jsonnet -type f)`: a literal path with a `/` and no extension, with
/// prerequisites, and not `.PHONY` in `makefile`).
fn rule_target(line: &str, makefile: &str) -> Option<(String, bool)> {
    if line.starts_with([' ', '\t', '#']) {
        return None;
    }
    let (target, rest) = line.split_once(':')?;
    if rest.starts_with([':', '=']) || target.trim().contains(' ') {
        return None;
    }
    if let Some(yaml) = literal_yaml(target) {
        return Some((yaml, false));
    }
    let path = target.trim().trim_end_matches('/');
    let named = path.contains('/') && !path.contains(['$', '`', '%', '*', '(']);
    let file = path.rsplit('/').next().is_some_and(|last| last.contains('.'));
    let phony = makefile.lines().any(|l| l.starts_with(".PHONY") && l.split_whitespace().any(|w| w == path));
    (named && !file && !phony && !rest.trim().is_empty()).then(|| (path.trim_start_matches("./").to_string(), true))
}

/// A path written literally (no variable, pattern or substitution) to a YAML file (or a Helm
/// chart's template partial, `_components.tpl`, which a render fills with YAML), without a
/// leading `./`.
fn literal_yaml(path: &str) -> Option<String> {
    let path = path.trim_matches(['"', '\'']);
    let yaml = [".yaml", ".yml", ".tpl"].iter().any(|ext| path.ends_with(ext));
    (yaml && !path.contains(['$', '`', '%', '*'])).then(|| path.trim_start_matches("./").to_string())
}

/// True for the names of files whose commands render manifests: Makefiles and shell scripts.
pub fn is_script_name(name: &str) -> bool {
    matches!(name, "Makefile" | "GNUmakefile" | "makefile") || name.ends_with(".mk") || name.ends_with(".sh")
}

/// True when `text` runs `helm template`, however it names helm (`$(HELM)`, `"$BUILD_DIR/helm"`).
pub fn renders_chart(text: &str) -> bool {
    logical_lines(text).iter().any(|(_, line)| {
        commands(line).any(|command| {
            let words: Vec<&str> = command.split_whitespace().map(|w| w.trim_matches(['"', '\''])).collect();
            renderer(&words).is_some_and(|(_, tool)| tool == "helm template")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_files_renderers_write() {
        let makefile = "k8s-manifests:\n\tkustomize build ./deployments/kubernetes/ -o ./deployments/kubernetes/reloader.yaml\nbundle:\n\t$(KUSTOMIZE) build config/default > dist/install.yaml && echo done\nchart:\n\thelm template charts/app --output=rendered/app.yml\nvars:\n\tkustomize build config -o $(OUT)/x.yaml\ndirs:\n\tkubectl kustomize config/crd -o config/out\n";
        let found = rendered(makefile, true);
        let paths: Vec<(usize, &str, &str)> = found.iter().map(|r| (r.line, r.tool, r.path.as_str())).collect();
        assert_eq!(
            paths,
            [
                (2, "kustomize build", "deployments/kubernetes/reloader.yaml"),
                (4, "kustomize build", "dist/install.yaml"),
                (6, "helm template", "rendered/app.yml"),
            ]
        );
        // `$<` is the rule's first prerequisite.
        // A tool installed under its version, named through variables the Makefile spells.
        let versioned = "SDK = $(LOCALBIN)/operator-sdk-$(SDK_VERSION)\nSDK_VERSION ?= v1.38.0\nolm:\n\t$(KUSTOMIZE) build config/manifests | $(SDK) generate bundle -q\n";
        assert_eq!(render_inputs(versioned, true)[0].tool, BUNDLE);
        let automatic = "manifests-kustomize: $(KUSTOMIZE)\n\t$< build config/default > config/render/all.yaml\n";
        let found = rendered(automatic, true);
        assert_eq!((found[0].tool, found[0].path.as_str()), ("kustomize build", "config/render/all.yaml"));
        assert_eq!(render_inputs(automatic, true)[0].input, "config/default");
        let script = "#!/bin/sh\nkubectl kustomize config/default >install.yaml\n";
        assert_eq!(rendered(script, false)[0].path, "install.yaml");
        let generated = "example/all.yaml: $(JSONNET_SOURCES)\n\tscripts/build.sh\nexample/%.yaml: x\nVERSION := 1\nbuild:\n\tjsonnet -J vendor main.jsonnet | gojsontoyaml > example/bundle.yaml\n";
        let paths: Vec<(usize, &str, String)> =
            rendered(generated, true).into_iter().map(|r| (r.line, r.tool, r.path)).collect();
        assert_eq!(
            paths,
            [(1, "make", "example/all.yaml".to_string()), (6, "jsonnet", "example/bundle.yaml".to_string())]
        );
        assert!(rendered(generated, false).iter().all(|r| r.tool != "make"), "rule targets only in a Makefile");
        // A directory a rule's recipe fills (a script writes one file per jsonnet field).
        let dirs = ".PHONY: bin/tools\nexample/webhook: vendor $(shell find jsonnet -type f)\n\tscripts/build-webhook.sh\nbin/tools: go.mod\n\tgo build -o bin/tools ./tools\nclean/:\n\trm -rf out\n";
        let found: Vec<(usize, String, bool)> =
            rendered(dirs, true).into_iter().map(|r| (r.line, r.path, r.dir)).collect();
        assert_eq!(found, [(2, "example/webhook".to_string(), true)]);
        let multi = "examples:\n\t${JSONNET_CLI} -J vendor -m examples/standard --ext-str v=1 standard.jsonnet | xargs x\n\tjsonnet --multi=./out/ a.jsonnet\n\tjsonnet -m $(DIR) b.jsonnet\n\tcd example/compose && jb install && \\\n\tcd grafana/dashboards && jsonnet template.jsonnet -m .\n";
        let dirs: Vec<(String, bool)> = rendered(multi, true).into_iter().map(|r| (r.path, r.dir)).collect();
        let dashboards = ("example/compose/grafana/dashboards".to_string(), true);
        assert_eq!(
            dirs,
            [("examples/standard".to_string(), true), ("out".to_string(), true), dashboards],
            "after its cds"
        );
        assert!(is_script_name("Makefile") && is_script_name("hack/gen.sh") && !is_script_name("main.go"));
        let docker = "manifests:\n\tdocker run --rm -v $(shell pwd):/repo \\\n\t\tregistry.k8s.io/kustomize/kustomize:v${KUSTOMIZE_VERSION} build \\\n\t\t/repo/config/default -o /repo/staging/deploy/all.yaml\n";
        let found: Vec<(usize, &str, String)> =
            rendered(docker, true).into_iter().map(|r| (r.line, r.tool, r.path)).collect();
        assert_eq!(found, [(2, "kustomize build", "staging/deploy/all.yaml".to_string())], "a container's mount");
        // A recipe that works in a temporary copy writes back through make's `$(CURDIR)`.
        let copied = "bundle-yaml:\n\ttmp=\"$$(mktemp -d)\" ;\\\n\tcd \"$$tmp/config/default\" ;\\\n\t$(KUSTOMIZE) build . > \"$(CURDIR)/bundle.yaml\"\n";
        assert_eq!(rendered(copied, true)[0].path, "bundle.yaml");
        assert!(
            rendered("kustomize build . > \"$(CURDIR)/bundle.yaml\"\n", false).is_empty(),
            "a script has no CURDIR"
        );
        let promoted = format!(
            "{docker}promote:\n\t@rm -rf deploy\n\t@cp -r staging/deploy .\n\tcp staging/deploy/all.yaml release/\n"
        );
        let copies: Vec<(usize, &str, String)> =
            rendered(&promoted, true).into_iter().skip(1).map(|r| (r.line, r.tool, r.path)).collect();
        assert_eq!(
            copies,
            [(7, "cp", "deploy/all.yaml".to_string()), (8, "cp", "release/all.yaml".to_string())],
            "copies of a rendered file"
        );
        let inputs = render_inputs(docker, true);
        assert_eq!(inputs.len(), 1);
        assert_eq!((inputs[0].input.as_str(), inputs[0].rule.as_deref()), ("config/default", Some("manifests")));
    }

    #[test]
    fn helm_template_is_found_however_helm_is_named() {
        assert!(renders_chart("lint:\n\t$(HELM) template charts/app > /dev/null\n"));
        assert!(renders_chart("\"$BUILD_DIR/helm\" template aws-vpc-cni \\\n  --namespace kube-system\n"));
        assert!(!renders_chart("helm upgrade --install app charts/app\necho template\n"));
    }

    #[test]
    fn finds_the_manifests_renders_read() {
        let makefile = "VERSION ?= 1\ninstall-bundle: manifests ## Render the installer\n\t$(KUSTOMIZE) build ./config/default > dist/install.yaml\n.PHONY: bundle\nbundle: manifests\n\tcd bundle && $(KUSTOMIZE) build ../config/manifests | $(OPERATOR_SDK) generate bundle -q\nbundle-all:\n\t$(MAKE) bundle\n\t$(MAKE) bundle VARIANT=openshift\nlater:\n\tkustomize build $(DIR) -o out.yaml\n# the flags of operator-sdk generate bundle\n";
        let found: Vec<(usize, &str, String, String, Option<String>)> =
            render_inputs(makefile, true).into_iter().map(|r| (r.line, r.tool, r.input, r.output, r.rule)).collect();
        assert_eq!(
            found,
            [
                (
                    3,
                    "kustomize build",
                    "config/default".into(),
                    "dist/install.yaml".into(),
                    Some("install-bundle".into())
                ),
                (
                    6,
                    "operator-sdk generate bundle",
                    "config/manifests".into(),
                    "bundle/".into(),
                    Some("bundle-all".into())
                ),
            ]
        );
        let named = "bundle: operator-sdk\n\t${OPERATOR_SDK} generate bundle --version 1.2 --input-dir ./config --output-dir ./bundle\n";
        let inputs: Vec<String> = render_inputs(named, true).into_iter().map(|r| r.input).collect();
        assert_eq!(inputs, ["config"], "the directory its --input-dir names");
        let release = "bundle:\n\t$(KUSTOMIZE) build config/manifests | $(OPERATOR_SDK) generate bundle -q\nrelease:\n\t./hack/update-version.sh $(version)\n\t$(MAKE) bundle\n\tgit tag $(version)\n";
        let rules: Vec<Option<String>> = render_inputs(release, true).into_iter().map(|r| r.rule).collect();
        assert_eq!(rules, [Some("bundle".to_string())], "a rule that does more than run make is no wrapper");
        let variants = "generate-bundle:\n\t$(KUSTOMIZE) build config/manifests | $(OPERATOR_SDK) generate bundle -q\nbundle:\n\tBUNDLE_VARIANT=openshift $(MAKE) generate-bundle\n\tBUNDLE_VARIANT=community $(MAKE) generate-bundle\n";
        let rules: Vec<Option<String>> = render_inputs(variants, true).into_iter().map(|r| r.rule).collect();
        assert_eq!(rules, [Some("bundle".to_string())], "one that runs it for each variant");
        let branches = "capm: envsubst\nifndef KUSTOMIZE\n\t$(LOCAL_KUSTOMIZE) build config/default > capm.yaml\nelse\n\t$(KUSTOMIZE) build config/default > capm.yaml\nendif\n";
        let rules: Vec<Option<String>> = render_inputs(branches, true).into_iter().map(|r| r.rule).collect();
        assert_eq!(rules, [Some("capm".into()), Some("capm".into())], "a conditional ends no rule");
        let images = "bundle:\n\t$(KUSTOMIZE) build config/manifests | $(OPERATOR_SDK) generate bundle -q\ncontainer-build: test\n\tmake bundle\n\tmake docker-build bundle-build\n";
        let rules: Vec<Option<String>> = render_inputs(images, true).into_iter().map(|r| r.rule).collect();
        assert_eq!(rules, [Some("bundle".to_string())], "one that makes other rules too is no wrapper");
    }
}
