import Foundation

extension GroupCommit {
    /// One caller's body, run on the committer; the caller sleeps on `done` until `finish`, which also
    /// drops the closures (the body must not outlive the caller's `withoutActuallyEscaping`).
    final class Request: @unchecked Sendable {
        /// Runs the body with the connection and keeps its outcome in the caller's frame; returns whether
        /// it succeeded.
        private var body: ((Connection) -> Bool)?
        /// Records `error` as the outcome without running the body (no transaction could be begun).
        private var refusal: ((Error) -> Void)?
        /// `true` for a transaction, `false` for `exclusive` work outside one.
        let isTransaction: Bool
        /// The commit's error, for a body that succeeded in a batch whose commit failed.
        var commitError: Error?
        private let done = DispatchSemaphore(value: 0)
        /// Called by `finish` instead of waking a sleeping caller, for callers that do not sleep.
        private var completion: ((Request) -> Void)?

        /// A request that runs `body` and keeps its result (or the error that kept it from running) in
        /// `outcome`. Without `completion` the caller sleeps in `wait()` until `finish`.
        init<T>(isTransaction: Bool, _ body: @escaping (Connection) throws -> T, into outcome: Outcome<T>,
                completion: ((Request) -> Void)? = nil) {
            self.isTransaction = isTransaction
            self.body = { connection in
                let result = Result { try body(connection) }
                outcome.result = result
                if case .success = result { return true } else { return false }
            }
            self.refusal = { error in outcome.result = .failure(error) }
            self.completion = completion
        }

        func run(_ connection: Connection) -> Bool { body!(connection) }
        func refuse(_ error: Error) { refusal!(error) }

        func finish() {
            body = nil
            refusal = nil
            if let completion {
                self.completion = nil
                completion(self)
            } else {
                done.signal()
            }
        }
        func wait() { done.wait() }
    }

    /// A body's outcome, written by the committer before `finish` (which orders it before any read).
    final class Outcome<T>: @unchecked Sendable {
        var result: Result<T, Error>?

        /// What the caller gets once `request` finished: the body's result, or the commit's error when
        /// the body succeeded in a batch whose commit failed.
        func settled(by request: Request) -> Result<T, Error> {
            if case .success = result!, let commitError = request.commitError { return .failure(commitError) }
            return result!
        }
    }
}
