import Foundation
import WiredeskCore

/// Validates ninjs exports against IPTC's official JSON Schemas with the `jsonschema` validator
/// (Python; `scripts/test` makes sure it is installed), through Tests/Fixtures/ninjs/validate.py.
public enum NinjsValidator {
    /// Writes each document to a file and validates them all; returns the validator's report and
    /// whether every document passed.
    public static func validate(_ documents: [JSONValue], as version: Ninjs.ExportVersion) async throws -> (ok: Bool, report: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ninjs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var paths: [String] = []
        for (i, document) in documents.enumerated() {
            let file = directory.appendingPathComponent("\(i).json")
            try JSONCoding.encode(document).write(to: file)
            paths.append(file.path)
        }
        let ninjs = TestDatabase.fixturesDirectory.appendingPathComponent("ninjs")
        let schema = ninjs.appendingPathComponent(
            version == .v3 ? "schemas/ninjs-schema_3.1.json" : "schemas/ninjs-schema_2.2.json")
        let result = try await ChildProcess.run(
            URL(fileURLWithPath: "/usr/bin/env"), ["python3", ninjs.appendingPathComponent("validate.py").path, schema.path] + paths)
        return (result.status == 0, result.out + result.err)
    }
}
