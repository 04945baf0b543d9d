-- A lease may name its holder's Unix uid: only that uid (or root) may fetch the lease's VFIO descriptors
-- from the holder socket. NULL: no uid named, only root may fetch them.
ALTER TABLE assignments ADD COLUMN holder_uid INTEGER CHECK (holder_uid IS NULL OR (holder_uid >= 0 AND holder_uid <= 4294967294));
