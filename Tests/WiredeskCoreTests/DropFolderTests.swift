import Foundation
import Testing

@testable import WiredeskCore

@Suite struct DropFolderTests {
    /// A fresh folder, removed afterwards.
    static func withFolder(_ body: (String) throws -> Void) throws {
        let path = NSTemporaryDirectory() + "wiredesk-drop-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }

    static func write(_ name: String, in path: String, _ text: String = "copy", age: TimeInterval = 60) throws {
        let file = path + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-age)], ofItemAtPath: file)
    }

    @Test func onlySettledFilesWithTheirFinalNamesAreTakenOldestFirst() throws {
        try Self.withFolder { path in
            let folder = DropFolder(path: path, settle: .seconds(2))
            try Self.write("b.xml", in: path, age: 30)
            try Self.write("a.xml", in: path, age: 60)
            try Self.write("arriving.xml", in: path, age: 0)
            for name in [".hidden", "c.xml.tmp", "d.part", "e.xml~", "F.CRDOWNLOAD"] { try Self.write(name, in: path) }
            try FileManager.default.createDirectory(atPath: path + "/sub", withIntermediateDirectories: false)
            try FileManager.default.createSymbolicLink(atPath: path + "/link.xml", withDestinationPath: "/etc/passwd")
            let (files, more) = try folder.ready(limit: 10)
            #expect(files.map(\.name) == ["a.xml", "b.xml"])
            #expect(more == 0)
            let (first, rest) = try folder.ready(limit: 1)
            #expect(first.map(\.name) == ["a.xml"] && rest == 1)
        }
    }

    @Test func takenFilesMoveAsideAndKeepEarlierOnesOfTheSameName() throws {
        try Self.withFolder { path in
            let folder = DropFolder(path: path, settle: .zero)
            try Self.write("a.xml", in: path, "first")
            try folder.done(try #require(try folder.ready(limit: 1).files.first))
            try Self.write("a.xml", in: path, "second")
            try folder.done(try #require(try folder.ready(limit: 1).files.first))
            #expect(try String(contentsOfFile: path + "/done/a.xml", encoding: .utf8) == "first")
            #expect(try String(contentsOfFile: path + "/done/a.xml.1", encoding: .utf8) == "second")

            try Self.write("bad.xml", in: path, "<nope")
            try folder.failed(try #require(try folder.ready(limit: 1).files.first), reason: "line 1: not XML")
            #expect(try String(contentsOfFile: path + "/failed/bad.xml", encoding: .utf8) == "<nope")
            #expect(try String(contentsOfFile: path + "/failed/bad.xml.reason.txt", encoding: .utf8) == "line 1: not XML\n")
            #expect(try folder.ready(limit: 10).files.isEmpty)
        }
    }

    @Test func aFileLargerThanTheFolderTakesIsRefusedUnread() throws {
        try Self.withFolder { path in
            let folder = DropFolder(path: path, settle: .zero, maxBytes: 10)
            try Self.write("big.txt", in: path, String(repeating: "x", count: 11))
            let file = try #require(try folder.ready(limit: 1).files.first)
            #expect(throws: WiredeskError.self) { try folder.read(file) }
            try Self.write("small.txt", in: path, "0123456789")
            let small = try #require(try folder.ready(limit: 2).files.first { $0.name == "small.txt" })
            #expect(try folder.read(small) == Data("0123456789".utf8))
        }
    }

    @Test func aFileThatCannotBeOpenedIsTheFilesFault() throws {
        try Self.withFolder { path in
            let folder = DropFolder(path: path, settle: .zero)
            try Self.write("locked.txt", in: path)
            let file = try #require(try folder.ready(limit: 1).files.first)
            try FileManager.default.removeItem(atPath: path + "/locked.txt")
            let error = try #require(throws: WiredeskError.self) { try folder.read(file) }
            #expect(error.kind == .validation && error.message.hasPrefix("the file cannot be read"))
        }
    }

    @Test func aMissingFolderIsTheFeedsFailureNotACrash() {
        let folder = DropFolder(path: "/nonexistent/wiredesk-drop", settle: .zero)
        #expect(throws: WiredeskError.self) { try folder.ready(limit: 1) }
    }
}
