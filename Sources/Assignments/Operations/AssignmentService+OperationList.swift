extension AssignmentService {
    /// Every operation of the assignment `id` (its bind, release, and the resets and restores that served
    /// it), oldest first, if the caller may see the assignment; `notFound` otherwise.
    public func operations(ofAssignment id: String, caller: Caller) async throws -> [GroupOperation] {
        guard Identifier.isWellFormed(id, prefix: "asg") else { throw AssignmentError.notFound(id) }
        let found = try await store { database in
            try database.read { connection -> (Assignment, [GroupOperation])? in
                guard let assignment = try AssignmentRecords.get(id, in: connection) else { return nil }
                return (assignment, try OperationRecords.of(assignment: id, in: connection))
            }
        }
        guard let (assignment, operations) = found, caller.sees(assignment) else { throw AssignmentError.notFound(id) }
        return operations.map { operation in
            var operation = running.shown(operation)
            operation.pausedReason = paused.reason(operation.id)
            return operation
        }
    }
}
