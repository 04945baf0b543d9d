/// ``retryingEINTR(_:)`` for the package's other targets (the simulator's opens, writes and locks), so
/// interrupted calls are retried by the same one function everywhere.
@inline(__always)
package func retryingInterruptedCall<Result: BinaryInteger>(_ body: () -> Result) -> Result {
    retryingEINTR(body)
}
