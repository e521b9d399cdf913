//! Tilt: the manifests a `Tiltfile` deploys to a development cluster with `k8s_yaml`. Tilt
//! rebuilds and syncs files into those containers as the developer edits (`live_update`), which
//! a read-only root or another user would stop; they are not what runs in production.

/// The literal paths a Tiltfile passes to `k8s_yaml` (one path or a list) at its top level,
/// with their lines: a call inside an `if` or a function deploys only when a setting asks for it
/// (an optional MinIO the docs also tell users to apply), so it does not make the file Tilt's,
/// unless it lies in a directory the top-level calls deploy from (`tilt-resources/`), or
/// render with kustomize, which is Tilt's own.
pub fn loaded_manifests(tiltfile: &str) -> Vec<(usize, String)> {
    let (top, nested): (Vec<_>, Vec<_>) = k8s_yaml_paths(tiltfile).into_iter().partition(|(_, _, indented)| !indented);
    let dir = |path: &str| path.rsplit_once('/').map_or(String::new(), |(d, _)| d.to_string());
    let mut tilts: Vec<String> = top.iter().map(|(_, p, _)| dir(p)).collect();
    tilts.extend(loaded_kustomizations(tiltfile).into_iter().map(|(_, d)| d));
    let nested = nested.into_iter().filter(|(_, p, _)| tilts.contains(&dir(p)));
    let mut out: Vec<(usize, String)> = top.into_iter().chain(nested).map(|(line, p, _)| (line, p)).collect();
    out.sort();
    out
}

/// Every literal path a `k8s_yaml` call is given, with its line and whether the call is
/// indented (inside a block).
fn k8s_yaml_paths(tiltfile: &str) -> Vec<(usize, String, bool)> {
    let mut out = Vec::new();
    for (i, line) in tiltfile.lines().enumerate() {
        let code = line.split('#').next().unwrap_or_default();
        let indented = code.starts_with([' ', '\t']);
        let Some(args) = code.trim_start().strip_prefix("k8s_yaml(") else { continue };
        let args = args.rsplit_once(')').map_or(args, |(inside, _)| inside);
        // Only the strings of the first argument: a path, or a list of paths.
        let first = match args.trim_start().strip_prefix('[') {
            Some(list) => list.split(']').next().unwrap_or_default(),
            None => args.split(',').next().unwrap_or_default(),
        };
        for part in first.split(',') {
            let part = part.trim();
            let quoted = part.strip_prefix(['\'', '"']).and_then(|p| p.strip_suffix(['\'', '"']));
            if let Some(path) = quoted.filter(|p| p.ends_with(".yaml") || p.ends_with(".yml")) {
                out.push((i + 1, path.trim_start_matches("./").to_string(), indented));
            }
        }
    }
    out
}

/// The literal directories a Tiltfile renders with `kustomize` and deploys (`k8s_yaml(kustomize(
/// 'deploy/dev'))`) at its top level, with their lines: the manifests that kustomization lists
/// from its own directory are Tilt's (those it takes from other directories are bases, shared).
pub fn loaded_kustomizations(tiltfile: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in tiltfile.lines().enumerate() {
        let code = line.split('#').next().unwrap_or_default();
        let Some(args) = code.strip_prefix("k8s_yaml(kustomize(") else { continue };
        let first = args.split([',', ')']).next().unwrap_or_default().trim();
        let quoted = first.strip_prefix(['\'', '"']).and_then(|p| p.strip_suffix(['\'', '"']));
        if let Some(dir) = quoted.filter(|d| !d.is_empty()) {
            out.push((i + 1, dir.trim_start_matches("./").trim_end_matches('/').to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_paths_k8s_yaml_is_given() {
        let tiltfile = "docker_build('example/app', '.', live_update=[sync('.', '/app')])\nk8s_yaml('deploy/dev/app.yaml')\nk8s_yaml([\"./deploy/dev/db.yaml\", 'deploy/dev/redis.yml'], allow_duplicates=True)\nk8s_yaml(kustomize('config/dev'))  # rendered, not a file\n# k8s_yaml('old.yaml')\nif cfg.get('minio'):\n    k8s_yaml('examples/minio.yaml')\nif cfg.get('agent'):\n    k8s_yaml('deploy/dev/agent.yaml')\n";
        assert_eq!(
            loaded_manifests(tiltfile),
            [
                (2, "deploy/dev/app.yaml".to_string()),
                (3, "deploy/dev/db.yaml".to_string()),
                (3, "deploy/dev/redis.yml".to_string()),
                (9, "deploy/dev/agent.yaml".to_string()),
            ]
        );
        assert_eq!(loaded_kustomizations(tiltfile), [(4, "config/dev".to_string())]);
        assert!(loaded_kustomizations("k8s_yaml(kustomize(DIR))\n  k8s_yaml(kustomize('x'))\n").is_empty());
    }
}
