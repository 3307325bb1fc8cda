import Crypto
import Foundation

/// A webhook endpoint's signing key, as Standard Webhooks (standardwebhooks.com) writes it:
/// `whsec_` and the key in base64. Each delivery is signed with HMAC-SHA256 over
/// `webhook-id.webhook-timestamp.body`, sent as `webhook-signature: v1,<base64>`, so that a
/// receiver with the same secret can tell the request came from us, unaltered and recent.
public struct WebhookSecret: Sendable, Equatable {
    public let key: [UInt8]

    /// Key sizes Standard Webhooks allows.
    public static let keyBytes = 24...64

    /// `whsec_<base64>` as Standard Webhooks libraries take it, or any other text, whose UTF-8
    /// bytes are the key.
    public init(_ text: String) throws {
        if text.hasPrefix("whsec_") {
            guard let key = Data(base64Encoded: String(text.dropFirst(6))) else {
                throw WiredeskError.invalid(field: "secret", "whsec_ must be followed by the key in base64")
            }
            self.key = Array(key)
        } else {
            self.key = Array(text.utf8)
        }
        guard Self.keyBytes.contains(key.count) else {
            throw WiredeskError.invalid(
                field: "secret",
                "a webhook secret must be \(Self.keyBytes.lowerBound) to \(Self.keyBytes.upperBound) bytes (got \(key.count)); leave it out to have one generated"
            )
        }
    }

    private init(key: [UInt8]) {
        self.key = key
    }

    /// 32 random bytes.
    public static func generate() -> WebhookSecret {
        var generator = SystemRandomNumberGenerator()
        return WebhookSecret(key: (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// The secret as it is stored and shown to the operator once.
    public var text: String { "whsec_" + Data(key).base64EncodedString() }

    /// `webhook-signature` for one delivery.
    public func signature(id: String, timestamp: Int, body: some Sequence<UInt8>) -> String {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: key))
        hmac.update(data: Array("\(id).\(timestamp).".utf8))
        hmac.update(data: Array(body))
        return "v1," + Data(hmac.finalize()).base64EncodedString()
    }
}
