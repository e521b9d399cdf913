-- For the dashboard: what harden's pull requests take out of the images, from the build proof
-- (OS packages summed over the proven images before and after, and how many of those images lose
-- their shell), and which repositories are private (shown only to signed-in members).

ALTER TABLE pulls ADD COLUMN packages_before BIGINT;
ALTER TABLE pulls ADD COLUMN packages_after BIGINT;
ALTER TABLE pulls ADD COLUMN shells_removed BIGINT;
-- Images moved off root and pods given the restricted profile by the pull request's changes.
ALTER TABLE pulls ADD COLUMN off_root BIGINT;
ALTER TABLE pulls ADD COLUMN restricted BIGINT;
-- Until a sweep (or a run) says otherwise, a repository counts as private.
ALTER TABLE repos ADD COLUMN private BOOLEAN NOT NULL DEFAULT true;
