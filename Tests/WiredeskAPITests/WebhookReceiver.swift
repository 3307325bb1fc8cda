import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization
import WiredeskTestSupport

/// A webhook receiver on a free port, as a partner would run one: it checks each delivery's
/// signature with the secret it was given (HMAC-SHA256, Standard Webhooks), keeps what came, and
/// answers with the status `answer` picks for the n-th request (1-based), failing on purpose.
final class WebhookReceiver: Sendable {
    struct Delivery: Sendable {
        var id: String
        var timestamp: Int
        var signatureValid: Bool
        var body: Data
        var status: Int
        var at: ContinuousClock.Instant

        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:]
        }
        var type: String? { json["type"] as? String }
        var data: [String: Any] { json["data"] as? [String: Any] ?? [:] }
    }

    let secret: String
    private let answer: @Sendable (Int) -> Int
    private let received = Mutex<[Delivery]>([])

    init(secret: String, answer: @escaping @Sendable (Int) -> Int = { _ in 204 }) {
        self.secret = secret
        self.answer = answer
    }

    var deliveries: [Delivery] { received.withLock { $0 } }

    /// Runs the receiver while `body` runs; `body` gets its URL.
    func run<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let bytes = try await request.body.collect(upTo: 1 << 20)
            let body = Data(buffer: bytes)
            let id = request.headers[HTTPField.Name("webhook-id")!] ?? ""
            let timestamp = Int(request.headers[HTTPField.Name("webhook-timestamp")!] ?? "") ?? 0
            let signatures = (request.headers[HTTPField.Name("webhook-signature")!] ?? "").split(separator: " ")
            let valid = signatures.contains { Substring(self.sign(id: id, timestamp: timestamp, body: body)) == $0 }
                && abs(Int(Date().timeIntervalSince1970) - timestamp) < 300
            let status = self.received.withLock { received in
                let status = self.answer(received.count + 1)
                received.append(
                    Delivery(id: id, timestamp: timestamp, signatureValid: valid, body: body, status: status, at: .now))
                return status
            }
            return Response(status: .init(code: status), body: .init(byteBuffer: ByteBuffer(string: "answer \(status)")))
        }
        return try await LocalServer.run(router, label: "receiver") { port in
            try await body("http://127.0.0.1:\(port)/hook")
        }
    }

    /// The signature as the receiver computes it from the secret, independently of the sender.
    private func sign(id: String, timestamp: Int, body: Data) -> String {
        let key = Data(base64Encoded: String(secret.dropFirst("whsec_".count))) ?? Data()
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("\(id).\(timestamp).".utf8) + body, using: SymmetricKey(data: key))
        return "v1," + Data(mac).base64EncodedString()
    }
}
