import Foundation

/// An opaque keyset cursor: the last key of the previous page and the filters it was taken under.
///
/// A token is only valid with the same filters it was issued for; anything else, or a token that does
/// not decode, is refused with `invalid_page_token` rather than silently restarting the listing.
struct PageToken {
    let kind: String
    let lastKey: String
    let filterKey: String

    var encoded: String {
        let text = "\(kind)|\(lastKey)|\(filterKey)"
        return Data(text.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    init(kind: String, lastKey: String, filterKey: String) {
        self.kind = kind
        self.lastKey = lastKey
        self.filterKey = filterKey
    }

    /// Decodes `text`, checking it was issued for `kind` and `filterKey`.
    init(decoding text: String, kind: String, filterKey: String) throws(APIError) {
        guard text.count <= 512 else { throw .invalidPageToken("the page token is too long") }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let decoded = String(data: data, encoding: .utf8) else {
            throw .invalidPageToken("the page token is not one this server issued")
        }
        let parts = decoded.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == kind else {
            throw .invalidPageToken("the page token is not one this server issued for this list")
        }
        guard parts[2] == filterKey else {
            throw .invalidPageToken("the page token was issued for other filters; repeat the filters of the first page")
        }
        self.init(kind: kind, lastKey: String(parts[1]), filterKey: filterKey)
    }
}
