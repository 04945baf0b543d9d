/// Runs `wait` against a generous deadline: `true` when the wait ended first (a deadlock detector, not a
/// timing claim).
func endsBeforeDeadline(_ wait: @escaping @Sendable () async -> Void) async -> Bool {
    await withTaskGroup(of: Bool.self) { group in
        group.addTask { await wait(); return true }
        group.addTask { try? await Task.sleep(for: .seconds(60)); return false }
        let first = await group.next() ?? false
        group.cancelAll()
        return first
    }
}
