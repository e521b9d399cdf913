//! Where the files a stage's COPY instructions name land: one rule for a directory destination,
//! shared by everything that asks what a stage holds.

use super::super::model::{Body, Copy, Stage};
use super::super::variables::substitute;
use super::{Facts, SYSTEM_BIN_DIRS, join_path};

/// One file a COPY puts into a stage.
pub struct Copied<'a> {
    /// The index of the COPY among the stage's instructions.
    pub index: usize,
    /// The COPY itself.
    pub copy: &'a Copy,
    /// The absolute path the file lands at.
    pub target: String,
    /// The source as written.
    pub source: &'a str,
}

impl<'a> Facts<'a> {
    /// Every file the stage's COPY instructions put into it, in order.
    pub fn copied(&self, stage: &'a Stage) -> Vec<Copied<'a>> {
        let copies = stage.instructions.iter().enumerate().filter_map(|(i, inst)| match &inst.body {
            Body::Copy(copy) => Some((i, copy)),
            _ => None,
        });
        copies.flat_map(|(index, copy)| self.copied_by(stage, index, copy)).collect()
    }

    /// `word` with the variables it uses (`/bin/$BIN_NAME`) given their values at instruction
    /// `upto` of `stage` (ENV, ARG defaults, also a value naming another: `ENV BIN_NAME=$BIN_NAME`
    /// over `ARG BIN_NAME=consul-template`); `None` when one has none.
    pub fn expand(&self, stage: &Stage, upto: usize, word: &str) -> Option<String> {
        let mut word = word.to_string();
        for _ in 0..3 {
            let names = word.split('$').skip(1).map(|rest| {
                let rest = rest.trim_start_matches('{');
                rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next().unwrap_or_default().to_string()
            });
            // A value that names the variable itself is the ARG's default behind the ENV.
            let value = |name: &String| {
                let env = self.env_at(stage, upto, name)?;
                match super::super::variables::only_variable(&env) == Some(name.as_str()) {
                    true => self.arg_default(stage, name),
                    false => Some(env),
                }
            };
            let vars: Vec<(String, Option<String>)> = names.map(|name| (name.clone(), value(&name))).collect();
            let next = substitute(&word, &vars)?;
            if next == word || !next.contains('$') {
                return Some(next);
            }
            word = next;
        }
        Some(word)
    }

    /// True when `dest` is a directory every distribution has (`/usr/bin`) and `stage` is on one:
    /// a file copied there lands in it (`COPY ntfy /usr/bin`).
    pub(crate) fn is_system_dir(&self, stage: &Stage, dest: &str) -> bool {
        SYSTEM_BIN_DIRS.contains(&dest) && self.base_image(stage).is_some_and(|b| b.family().is_fat())
    }

    /// Where each file one COPY (the `index`th instruction of `stage`) names lands, its
    /// variables given their values where they have them (`COPY dist/$BIN_NAME /bin/`).
    fn copied_by(&self, stage: &'a Stage, index: usize, copy: &'a Copy) -> Vec<Copied<'a>> {
        let expanded = |word: &str| self.expand(stage, index, word).unwrap_or_else(|| word.to_string());
        let dest = join_path(&self.workdir_at(stage, index), &expanded(&copy.dest));
        let into_dir =
            copy.dest.ends_with('/') || copy.dest == "." || copy.sources.len() > 1 || self.is_system_dir(stage, &dest);
        (copy.sources.iter())
            .map(|source| {
                let file = expanded(source.rsplit('/').next().unwrap_or(source));
                // A file name the build passes (`$BIN_NAME`) is a name in the directory, not a path.
                let target = match into_dir {
                    true if file.starts_with('$') => format!("{}/{file}", dest.trim_end_matches('/')),
                    true => join_path(&dest, &file),
                    false => dest.clone(),
                };
                Copied { index, copy, target, source }
            })
            .collect()
    }
}
