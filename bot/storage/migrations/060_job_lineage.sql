-- Lineage (issue 19; docs/decisions/020-variations-and-lineage.md): a job made from another
-- one has its parent_id and its kind says how (reroll, vary_subtle, vary_strong, remix,
-- edit_result); a variation or an edit also names which image of the parent's result it
-- started from, 1 for the first. NULL for jobs that started from nothing.
ALTER TABLE jobs ADD COLUMN parent_image INTEGER;
