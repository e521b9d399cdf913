//! The paths an operator gives the pods it creates (`MountPath: AclDir`, a container's volume
//! mount): a default directory of that name is theirs, not the operator's own to write.

use std::collections::BTreeSet;

/// The names a Go file's code gives a volume mount as its path (`MountPath: resources.AclDir`
/// → `AclDir`).
pub fn mount_path_names(code: &str) -> impl Iterator<Item = String> + '_ {
    code.match_indices("MountPath:").filter_map(|(at, needle)| {
        let value = code[at + needle.len()..].trim_start();
        let name: String = value.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.').collect();
        let name = name.rsplit('.').next().unwrap_or_default();
        (!name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit())).then(|| name.to_string())
    })
}

/// True when a default directory the program was thought to write (`how`: `AclDir (a
/// default)`) is one of the mount paths `names` gives pods.
pub fn is_pods_path(how: &str, names: &BTreeSet<String>) -> bool {
    how.strip_suffix(" (a default)").is_some_and(|name| names.contains(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_directory_mounted_into_created_pods_is_theirs() {
        let code = "mounts := []corev1.VolumeMount{{\n\tName: AclVolumeName,\n\tMountPath: resources.AclDir,\n}, {MountPath:\"/data\"}}\n";
        let names: BTreeSet<String> = mount_path_names(code).collect();
        assert_eq!(names.iter().collect::<Vec<_>>(), ["AclDir"]);
        assert!(is_pods_path("AclDir (a default)", &names));
        assert!(!is_pods_path("DataDir (a default)", &names) && !is_pods_path("AclDir", &names));
    }
}
