import HTTPTypes
import Hummingbird

/// A method the spec does not list for a path it does list gets 405 with `Allow`, not 404: the
/// resource exists, the method does not. The paths and methods come from the spec itself.
enum MethodNotAllowed {
    static let candidates: [HTTPRequest.Method] = [
        .get, .post, .put, .patch, .delete, .options, .trace, HTTPRequest.Method("QUERY")!,
    ]

    static func register<Context: RequestContext>(on router: Router<Context>, spec: [UInt8]) {
        for (path, allowed) in paths(in: String(decoding: spec, as: UTF8.self)) {
            let allow = allowed.map(\.rawValue).joined(separator: ", ")
            for method in candidates where !allowed.contains(method) {
                router.on(RouterPath(path), method: method) { _, _ -> Response in
                    var problem = Problem(
                        .methodNotAllowed, kind: "method-not-allowed", detail: "\(path) allows \(allow)")
                    problem.headers[.allow] = allow
                    throw problem
                }
            }
        }
    }

    /// The operations under `paths:`, read from the spec's own layout: a path key at two spaces,
    /// its methods at four.
    static func paths(in spec: String) -> [(String, [HTTPRequest.Method])] {
        var result: [(String, [HTTPRequest.Method])] = []
        var inPaths = false
        for line in spec.split(separator: "\n", omittingEmptySubsequences: false) {
            if !line.hasPrefix(" ") && !line.isEmpty {
                inPaths = line == "paths:"
                continue
            }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") {
                result.append((String(line.dropFirst(2).dropLast()), []))
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":"),
                let method = HTTPRequest.Method(String(line.dropFirst(4).dropLast()).uppercased()),
                candidates.contains(method), !result.isEmpty
            {
                result[result.count - 1].1.append(method)
            }
        }
        return result
    }
}
