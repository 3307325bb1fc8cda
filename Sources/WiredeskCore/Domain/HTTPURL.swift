import Foundation

/// A URL the server itself sends requests to (a webhook receiver, a polled feed): http or https,
/// with a host, and no white space.
enum HTTPURL {
    static func parse(_ text: String) -> URLComponents? {
        guard text.hasPrefix("http://") || text.hasPrefix("https://"), !text.contains(where: { $0.isWhitespace }),
            let parts = URLComponents(string: text), let host = parts.host, !host.isEmpty
        else { return nil }
        return parts
    }
}
