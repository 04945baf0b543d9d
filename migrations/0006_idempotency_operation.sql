-- An Idempotency-Key's stored answer names the operation it started in a column of its own (it was
-- packed into assignment_id as "assignment|operation"). Keys are now written only with the assignment
-- they created, in one transaction, so no row is ever "in progress": status is always set.
ALTER TABLE idempotency_keys ADD COLUMN operation_id TEXT;
UPDATE idempotency_keys
   SET operation_id = substr(assignment_id, instr(assignment_id, '|') + 1),
       assignment_id = substr(assignment_id, 1, instr(assignment_id, '|') - 1)
 WHERE instr(assignment_id, '|') > 0;
DELETE FROM idempotency_keys WHERE status IS NULL;
