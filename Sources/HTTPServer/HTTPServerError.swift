/// Why an `HTTPServer` could not start.
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    /// A message naming the address and the cause, e.g. `cannot listen on 127.0.0.1:8460: address in use`.
    public var description: String
    /// The errno behind it, when there is one.
    public var errno: Int32?

    /// Makes an error.
    public init(_ description: String, errno: Int32? = nil) {
        self.description = description
        self.errno = errno
    }
}
