//! The Go packages a Makefile rule builds: `make build` whose recipe (or that of a rule it
//! depends on) runs `go build -o bin/kvd ./server` builds the program in `server/`. harden does
//! not run make; it only reads which `main` packages the image's program comes from, so the code
//! that counts is that program's, not the whole module's.

/// The package directories (relative to the Makefile, `./` and `/...` trimmed) that the `go
/// build` and `go install` commands `make target` runs build (see [`recipes_run`]).
pub fn built_packages(makefile: &str, target: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for package in recipes_run(makefile, target).1.iter().flat_map(|line| go_build_packages(line)) {
        if !out.contains(&package) {
            out.push(package);
        }
    }
    out
}

/// The rules `make target` runs, as far as the Makefile says (itself, the rules it depends on,
/// and those its recipe runs through make, `$(MAKE) manifests`, four levels down), and their
/// recipe lines.
pub fn recipes_run(makefile: &str, target: &str) -> (Vec<String>, Vec<String>) {
    let rules = rules(makefile);
    let (mut out, mut seen) = (Vec::new(), Vec::new());
    let mut next: Vec<(String, usize)> = vec![(target.to_string(), 0)];
    while let Some((name, depth)) = next.pop() {
        if seen.contains(&name) {
            continue;
        }
        seen.push(name.clone());
        let Some((prerequisites, recipe)) = rules.iter().find(|(t, _, _)| *t == name).map(|(_, p, r)| (p, r)) else {
            continue;
        };
        if depth < 4 {
            next.extend(prerequisites.iter().map(|p| (p.clone(), depth + 1)));
            let made = recipe.iter().flat_map(|line| made_targets(line));
            next.extend(made.map(|t| (t, depth + 1)).collect::<Vec<_>>());
        }
        out.extend(recipe.iter().cloned());
    }
    seen.retain(|name| rules.iter().any(|(t, _, _)| t == name));
    (seen, out)
}

/// The targets a command line runs through this Makefile's make (`$(MAKE) generate manifests`;
/// not another directory's, `make -C ui`, nor a variable's setting `VARIANT=x`).
pub fn made_targets(line: &str) -> Vec<String> {
    let words: Vec<&str> = line.trim_start_matches(['@', '-']).split_whitespace().collect();
    let Some(at) = words.iter().position(|w| matches!(*w, "make" | "$(MAKE)" | "${MAKE}")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut rest = words[at + 1..].iter();
    while let Some(word) = rest.next() {
        match *word {
            "&&" | "||" | ";" | "|" => break,
            // Options whose value is the next word.
            "-j" | "--jobs" | "-l" | "-o" | "-W" | "-I" => {
                rest.next();
            }
            w if w.starts_with("-C") || w.starts_with("--directory") || w.starts_with("-f") => return Vec::new(),
            w if w.starts_with('-') || w.contains(['=', '$']) => {}
            w => out.push(w.trim_end_matches(';').to_string()),
        }
    }
    out
}

/// Each rule's targets (one entry per target), prerequisites and recipe lines.
fn rules(makefile: &str) -> Vec<(String, Vec<String>, Vec<String>)> {
    let mut out: Vec<(Vec<String>, Vec<String>, Vec<String>)> = Vec::new();
    for (_, line) in super::rendered::logical_lines(makefile) {
        if let Some(command) = line.strip_prefix('\t') {
            if let Some((_, _, recipe)) = out.last_mut() {
                recipe.push(command.trim().to_string());
            }
            continue;
        }
        let code = line.split('#').next().unwrap_or_default();
        // `target: prerequisites`, not a variable (`A := b`, `A ?= b`) nor a conditional.
        let Some((targets, rest)) = code.split_once(':') else { continue };
        if rest.starts_with('=') || targets.contains('=') || targets.trim_start().starts_with(['.', '$']) {
            continue;
        }
        let prerequisites = rest.split(';').next().unwrap_or_default();
        out.push((
            targets.split_whitespace().map(str::to_string).collect(),
            prerequisites.split_whitespace().filter(|p| !p.starts_with('$')).map(str::to_string).collect(),
            Vec::new(),
        ));
    }
    out.into_iter()
        .flat_map(|(targets, prerequisites, recipe)| {
            targets.into_iter().map(move |t| (t, prerequisites.clone(), recipe.clone()))
        })
        .collect()
}

/// The literal local packages (`./cmd/agent`, `.`) a recipe line's `go build`s or `go install`s
/// build (each of a shell `if`'s branches: `then go build … ./cmd/x; else go build … ./cmd/x; fi`).
fn go_build_packages(line: &str) -> Vec<String> {
    // make's `@` (silent) and `-` (errors ignored) prefix the recipe line, not its words.
    let words: Vec<&str> = line.trim_start_matches(['@', '-']).split_whitespace().collect();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(found) = words[at..].windows(2).position(|w| is_go(w[0]) && matches!(w[1], "build" | "install")) {
        let mut rest = words[at + found + 2..].iter();
        at += found + 2;
        while let Some(word) = rest.next() {
            at += 1;
            // A word that ends the command (`./cmd/x;`) is still one of its packages.
            let (word, last) = match word.strip_suffix(';') {
                Some(w) => (w, true),
                None => (*word, false),
            };
            match word {
                "&&" | "||" | "" | "|" => break,
                // Flags whose value is the next word.
                "-o" | "-ldflags" | "-gcflags" | "-tags" | "-mod" | "-p" | "-asmflags" | "-buildmode" | "-pkgdir" => {
                    rest.next();
                    at += 1;
                }
                w if w == "." || w.starts_with("./") => {
                    let package = w.trim_end_matches("/...").trim_start_matches("./").trim_start_matches('.');
                    let package = package.trim_end_matches('/').to_string();
                    if !out.contains(&package) {
                        out.push(package);
                    }
                }
                _ => {}
            }
            if last {
                break;
            }
        }
    }
    out
}

/// True for the go command as a recipe writes it (`go`, `$(GO)`, `${GO}`, `/usr/local/go/bin/go`).
fn is_go(word: &str) -> bool {
    matches!(word, "go" | "$(GO)" | "${GO}" | "$(GOCMD)" | "${GOCMD}") || word.ends_with("/go")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_packages_a_rule_builds() {
        let makefile = "GO ?= go\nLDFLAGS := -X main.v=1\n\n.PHONY: build\nbuild: bin/kvd ## build the server\n\nbin/kvd: $(SOURCES)\n\t@CGO_ENABLED=0 $(GO) build -trimpath -ldflags \"$(LDFLAGS)\" -o ./bin/kvd ./server\n\nbuild-agent:\n\tgo build -o dist/agent \\\n\t\t./cmd/agent/...\n\ntools:\n\tgo install ./tools/gen && echo done\n\tgo build .\n";
        assert_eq!(built_packages(makefile, "build"), ["server"]);
        assert_eq!(built_packages(makefile, "build-agent"), ["cmd/agent"]);
        assert_eq!(built_packages(makefile, "tools"), ["tools/gen", ""]);
        assert!(built_packages(makefile, "missing").is_empty());
        // Each branch of a shell `if` the recipe runs, its package ending the command.
        let branches = "vc-agent: init\n\tif [ ${PLUGINS} = yes ]; then\\\n\t\tCGO_ENABLED=1 go build -o ${BIN}/agent ./cmd/agent;\\\n\telse\\\n\t\tCGO_ENABLED=0 go build -o ${BIN}/agent ./cmd/agent;\\\n\tfi;\n";
        assert_eq!(built_packages(branches, "vc-agent"), ["cmd/agent"]);
    }

    #[test]
    fn reads_the_recipes_a_rule_runs() {
        let makefile = "create: charts merge
	@echo done
charts: kustomize
	kustomize build a > out.tpl
merge:
	$(MAKE) tidy VARIANT=x
tidy:
	sed -i s/a/b/ out.tpl
kustomize:
	go install kustomize
other:
	kustomize build b > other.yaml
";
        let (rules, run) = recipes_run(makefile, "create");
        assert_eq!(rules, ["create", "merge", "tidy", "charts", "kustomize"]);
        assert!(run.contains(&"kustomize build a > out.tpl".to_string()));
        assert!(run.contains(&"sed -i s/a/b/ out.tpl".to_string()));
        assert!(!run.iter().any(|l| l.contains("other.yaml")));
        assert_eq!(recipes_run(makefile, "missing"), (vec![], vec![]));
        assert_eq!(made_targets("make -j 4 generate manifests && git diff"), ["generate", "manifests"]);
        assert!(made_targets("make -C ui assets").is_empty());
    }
}
