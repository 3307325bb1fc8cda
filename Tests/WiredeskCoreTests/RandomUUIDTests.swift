import Foundation
import Testing
import WiredeskCore

@Suite struct RandomUUIDTests {
    @Test func randomIDsAreVersion4WithTheRFCVariantAndDoNotRepeat() {
        let ids = (0..<10_000).map { _ in UUID.random() }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(100) {
            let text = id.uuidString.lowercased()
            let characters = Array(text)
            #expect(characters[14] == "4", "\(text)")
            #expect("89ab".contains(characters[19]), "\(text)")
            #expect(UUID(uuidString: text) == id)
        }
        // Every other bit varies: no byte is stuck.
        var seen = [Set<UInt8>](repeating: [], count: 16)
        for id in ids {
            withUnsafeBytes(of: id.uuid) { bytes in
                for (index, byte) in bytes.enumerated() { seen[index].insert(byte) }
            }
        }
        #expect(seen.allSatisfy { $0.count >= 16 })
    }
}
