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

        init(isTransaction: Bool, run: @escaping (Connection) -> Bool, refuse: @escaping (Error) -> Void,
             completion: ((Request) -> Void)? = nil) {
            self.isTransaction = isTransaction
            self.body = run
            self.refusal = refuse
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

    /// A body's outcome, written by the committer before `finish` reads it (on the committer too).
    final class Outcome<T>: @unchecked Sendable {
        var result: Result<T, Error>?
    }
}
