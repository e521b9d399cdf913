-- What harden's pull requests take out of the images, from the build proof: OS packages summed
-- over the proven images before and after, and how many of those images lose their shell.

ALTER TABLE pulls ADD COLUMN packages_before INTEGER;
ALTER TABLE pulls ADD COLUMN packages_after INTEGER;
ALTER TABLE pulls ADD COLUMN shells_removed INTEGER;
