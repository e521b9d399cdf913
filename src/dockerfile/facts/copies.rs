//! Where the files a stage's COPY instructions name land: one rule for a directory destination,
//! shared by everything that asks what a stage holds.

use super::super::model::{Body, Copy, Stage};
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

    /// Where each file one COPY (the `index`th instruction of `stage`) names lands.
    fn copied_by(&self, stage: &'a Stage, index: usize, copy: &'a Copy) -> Vec<Copied<'a>> {
        let dest = join_path(&self.workdir_at(stage, index), &copy.dest);
        // A directory every distribution has takes the file in (`COPY ntfy /usr/bin`).
        let system_dir =
            SYSTEM_BIN_DIRS.contains(&dest.as_str()) && self.base_image(stage).is_some_and(|b| b.family().is_fat());
        let into_dir = copy.dest.ends_with('/') || copy.dest == "." || copy.sources.len() > 1 || system_dir;
        (copy.sources.iter())
            .map(|source| {
                let file = source.rsplit('/').next().unwrap_or(source);
                let target = if into_dir { join_path(&dest, file) } else { dest.clone() };
                Copied { index, copy, target, source }
            })
            .collect()
    }
}
